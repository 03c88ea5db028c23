"""Sample data shipped with heard: the invented couple that ``heard demo`` analyzes.

Two versions of the same nine weeks: ``demo.jsonl`` (the default, no safety content) and
``demo-safety.jsonl`` (one late-night message speaks of self-harm, so the report opens on the
safety gate: ``heard demo --safety``). See ``README.md`` beside them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from heard.errors import OptionError

__all__ = ["SAMPLE_NOTE", "demo_path"]

_FILES = {"demo": "demo.jsonl", "safety": "demo-safety.jsonl"}

#: Said wherever a sample is analyzed (report header, terminal), so nobody takes it for theirs.
SAMPLE_NOTE = ("This is sample data: an invented couple, Maya and Dan, written for heard's demo. "
               "No real person's messages are in it.")


def demo_path(name: str = "demo") -> Path:
    """Path of an embedded demo conversation (heard's canonical JSON Lines).

    Parameters
    ----------
    name : {"demo", "safety"}
        ``"demo"``: the everyday sample with the loop, repairs and a crisis, and no safety
        content; ``"safety"``: the same weeks with one message that speaks of self-harm.

    Examples
    --------
    >>> demo_path().name, demo_path("safety").name
    ('demo.jsonl', 'demo-safety.jsonl')
    """
    if name not in _FILES:
        raise OptionError.from_code("E030", option="demo_path",
                                    detail=f"'{name}' should be one of {sorted(_FILES)}")
    return Path(str(resources.files("heard.samples") / _FILES[name]))
