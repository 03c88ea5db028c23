"""Words the app shows that the layers below word for the command line.

The importers' warnings and errors name CLI options ("Pass --tz ..."); next to the import
form they must name the form's fields instead. The rewrites are data
(``data/form_hints.json``), applied only here, so ``heard import`` keeps its own wording.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from heard._files import safe_stem

__all__ = ["for_the_form", "safe_filename"]


@cache
def _rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    data = json.loads((resources.files("heard.app") / "data" / "form_hints.json").read_text(
        encoding="utf-8"))
    return tuple((re.compile(pattern), repl) for pattern, repl in data["rules"])


def for_the_form(text: str) -> str:
    """An importer's warning or error, with its CLI options replaced by the form's fields.

    Examples
    --------
    >>> for_the_form("Pass --date-order DMY or --date-order MDY.")
    'Choose “Day and month order” under Options and import again.'
    """
    for pattern, repl in _rules():
        text = pattern.sub(repl, text)
    return text


def safe_filename(title: str, *, prefix: str, suffix: str) -> str:
    """An ASCII file name for a download (:func:`heard._files.safe_stem`), never a path.

    >>> safe_filename("Maya and Dan / ☂", prefix="heard-report", suffix=".html")
    'heard-report-Maya-and-Dan.html'
    """
    slug = safe_stem(title, limit=60)
    return f"{prefix}-{slug}{suffix}" if slug else f"{prefix}{suffix}"
