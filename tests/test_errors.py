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
