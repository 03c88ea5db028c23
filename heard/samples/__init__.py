"""Sample data shipped with heard: the demo conversation that ``heard demo`` analyzes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["demo_path"]


def demo_path() -> Path:
    """Path of the embedded demo conversation (heard's canonical JSON Lines).

    Examples
    --------
    >>> demo_path().name
    'demo.jsonl'
    """
    return Path(str(resources.files("heard.samples") / "demo.jsonl"))
