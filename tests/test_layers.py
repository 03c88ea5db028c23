"""Data flows one way: a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import heard

PACKAGE = Path(heard.__file__).parent
# Each layer may import itself and the layers listed after it.
ALLOWED = {
    "model": {"model", "errors", "_version"},
    "ingest": {"ingest", "model", "errors", "_version"},
    "coding": {"coding", "model", "errors", "_version"},
    "patterns": {"patterns", "coding", "model", "errors", "_version"},
    "dynamics": {"dynamics", "patterns", "coding", "model", "errors", "_version"},
    "report": {"report", "dynamics", "patterns", "coding", "model", "errors", "_version",
               "_analysis"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "heard" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_never_import_upward(layer: str) -> None:
    folder = PACKAGE / layer
    assert folder.is_dir()
    bad = {
        f"{path.relative_to(PACKAGE)} imports heard.{name}"
        for path in folder.rglob("*.py")
        for name in _imports(path) - ALLOWED[layer]
    }
    assert not bad, sorted(bad)


@pytest.mark.parametrize("module", ["heard", "heard.model", "heard.ingest", "heard.coding",
                                    "heard.patterns", "heard.dynamics", "heard.report"])
def test_layers_all_is_complete(module: str) -> None:
    """Every name in ``__all__`` exists (ruff's RUF022, run by test_style, keeps it sorted)."""
    import importlib

    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"
