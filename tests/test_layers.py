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
    "coding": {"coding", "model", "errors", "_version", "_net"},
    # patterns and dynamics read only the codes messages carry, and the codebook (model layer)
    "patterns": {"patterns", "model", "errors", "_version"},
    "dynamics": {"dynamics", "patterns", "model", "errors", "_version"},
    "report": {"report", "dynamics", "patterns", "model", "errors", "_version", "_analysis",
               "_files"},
    # the shells: a thin app and a CLI over the API and the layers' public names
    "app": {"app", "api", "report", "dynamics", "patterns", "coding", "ingest", "model",
            "errors", "_version", "_files", "_net"},
    "cli": {"cli", "api", "_analysis", "_files", "_lean", "_many", "ingest", "coding",
            "patterns", "dynamics", "report", "app", "batch", "model", "errors", "_version",
            "samples"},
    # heard batch: a shell over the API for a study's corpus on Dask
    "batch": {"batch", "api", "report", "dynamics", "patterns", "coding", "ingest", "model",
              "errors", "_version"},
}
#: Modules at the package root: what each may import.
ROOT = {
    "_analysis.py": {"model", "patterns", "dynamics", "errors"},
    "api.py": {"api", "_analysis", "_many", "ingest", "coding", "patterns", "dynamics", "model",
               "errors", "_version"},
    "_many.py": {"api", "_analysis", "_couples", "ingest", "coding", "patterns", "dynamics",
                 "report", "model", "errors", "_version", "_files"},
    # a many-couples stream, one couple at a time (under _many.py)
    "_couples.py": {"model", "errors"},
    # safe output files: the bottom layer, beside errors
    "_files.py": {"errors"},
    # whether a host is this computer (the app's bind address, the LLM coder's endpoint)
    "_net.py": set(),
}


def _modules(path: Path) -> list[str]:
    """Every heard module ``path`` imports, in full ("heard.coding._rules")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("heard.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("heard."):
            found.append(node.module)
    return found


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
                                    "heard.patterns", "heard.dynamics", "heard.report",
                                    "heard.batch"])
def test_layers_all_is_complete(module: str) -> None:
    """Every name in ``__all__`` exists (ruff's RUF022, run by test_style, keeps it sorted)."""
    import importlib

    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"


@pytest.mark.parametrize("module", sorted(ROOT))
def test_layers_root_modules_import_only_what_they_may(module: str) -> None:
    bad = sorted(_imports(PACKAGE / module) - ROOT[module])
    assert not bad, f"{module} imports heard.{bad}"


def test_layers_no_package_reaches_into_another_packages_private_modules() -> None:
    """``heard.x._y`` is x's own business: other packages use what ``heard.x`` exports."""
    bad = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        own = rel.parts[0] if len(rel.parts) > 1 else None
        for name in _modules(path):
            parts = name.split(".")
            if len(parts) > 2 and parts[2].startswith("_") and parts[1] != own:
                bad.append(f"{rel} imports {name}")
    assert not bad, sorted(bad)
