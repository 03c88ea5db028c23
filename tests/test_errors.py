from __future__ import annotations

import re
import string

import pytest

from heard import errors
from heard.errors import E, HeardError, InputError, NotFittedError


def _codes() -> dict[str, str]:
    return {k: v for k, v in vars(E).items() if re.fullmatch(r"E\d{3}", k)}


def test_errors_codes_are_unique_and_numbered() -> None:
    codes = _codes()
    assert len(codes) >= 20
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("code", sorted(_codes()))
def test_errors_templates_are_one_line_and_fillable(code: str) -> None:
    template = _codes()[code]
    assert "\n" not in template
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    filled = HeardError.from_code(code, **dict.fromkeys(fields, 7)) if fields else None
    assert filled is None or str(filled).startswith(f"{code}: ")


def test_errors_tree() -> None:
    assert issubclass(errors.ExportFormatError, InputError)
    assert issubclass(NotFittedError, AttributeError)
    assert issubclass(errors.ConvergenceWarning, UserWarning)


def _assigned_codes() -> list[str]:
    """Every ``E123 = ...`` line of class E in errors.py, as written (duplicates kept)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(errors))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "E"]
    return [t.id for n in cls.body if isinstance(n, ast.Assign | ast.AnnAssign)
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            if isinstance(t, ast.Name) and re.fullmatch(r"E\d{3}", t.id)]


def test_errors_no_number_is_written_twice() -> None:
    """A second ``E012 =`` line would silently replace the first in the class's dict."""
    written = _assigned_codes()
    assert written, "no error numbers found in errors.py"
    assert sorted(c for c in set(written) if written.count(c) > 1) == []


def test_errors_every_number_is_raised_somewhere() -> None:
    """A numbered message that nothing raises is dead text that promises a check not made."""
    from pathlib import Path

    package = Path(errors.__file__).parent
    source = "\n".join(p.read_text("utf-8") for p in package.rglob("*.py")
                       if p.name != "errors.py")
    source += "\n".join(p.read_text("utf-8") for p in package.rglob("*.json"))
    unused = [c for c in _assigned_codes() if not re.search(rf"\b{c}\b", source)]
    assert unused == []
