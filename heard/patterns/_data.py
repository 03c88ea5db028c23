"""The pattern layer's data files (settings, lexicons) and a per-message view of the codes."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from heard.errors import DataFileError, OptionError
from heard.model import Message, codebook
from heard.patterns._results import PatternSettings

__all__ = [
    "Lexicon",
    "MessageView",
    "distance_lexicon",
    "load_json",
    "reference",
    "resolve_settings",
    "safety_data",
    "view",
]


@cache
def load_json(name: str) -> dict[str, Any]:
    """A data file of ``heard/patterns/data`` (loaded once)."""
    path = resources.files("heard.patterns") / "data" / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError.from_code("E051", file=name, detail=exc) from exc
    if not isinstance(data, dict):
        raise DataFileError.from_code("E051", file=name, detail="expected a JSON object")
    return data


def _number(option: str, value: Any, *, allow_inf: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    if ok and not allow_inf and math.isinf(value):
        ok = False
    if not ok or (isinstance(value, float) and math.isnan(value)):
        detail = "a positive number of hours" if "hours" in option else "a positive number"
        raise OptionError.from_code("E350", option=option, detail=detail, value=value)
    return float(value)


def resolve_settings(
    *,
    gap_hours: float | None = None,
    reply_window_hours: float | None = None,
    min_n: int | None = None,
    burst_minutes: float | None = None,
) -> PatternSettings:
    """Fill unset options from ``settings.json`` and check them (E350 on a bad value)."""
    defaults = load_json("settings.json").get("defaults", {})
    try:
        given = {
            "gap_hours": defaults["gap_hours"] if gap_hours is None else gap_hours,
            "reply_window_hours": (defaults["reply_window_hours"] if reply_window_hours is None
                                   else reply_window_hours),
            "min_n": defaults["min_n"] if min_n is None else min_n,
            "burst_minutes": defaults["burst_minutes"] if burst_minutes is None else burst_minutes,
        }
    except KeyError as exc:
        raise DataFileError.from_code("E051", file="settings.json",
                                      detail=f"missing default {exc}") from exc
    n = given["min_n"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise OptionError.from_code("E350", option="min_n", detail="a whole number, at least 1",
                                    value=n)
    burst = given["burst_minutes"]
    if not isinstance(burst, int | float) or isinstance(burst, bool) or not burst >= 0:
        raise OptionError.from_code("E350", option="burst_minutes",
                                    detail="a number of minutes, 0 or more", value=burst)
    return PatternSettings(
        gap_hours=_number("gap_hours", given["gap_hours"], allow_inf=True),
        reply_window_hours=_number("reply_window_hours", given["reply_window_hours"],
                                   allow_inf=True),
        min_n=n,
        burst_minutes=float(burst),
    )


def reference() -> dict[str, Any]:
    return dict(load_json("settings.json").get("reference", {}))


@dataclass(frozen=True)
class Lexicon:
    """Whole-word, case-insensitive terms, compiled into one pattern (longest terms first)."""

    terms: tuple[str, ...]
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, terms: list[str] | tuple[str, ...]) -> Lexicon:
        ordered = sorted({t.lower() for t in terms if t.strip()}, key=lambda t: (-len(t), t))
        body = "|".join(re.escape(t) for t in ordered) or "(?!)"
        return cls(tuple(ordered), re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE))

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, term)`` for every match, term in lower case."""
        return [(m.start(), m.end(), m.group(0).lower()) for m in self.pattern.finditer(text)]


@cache
def distance_lexicon() -> Lexicon:
    data = load_json("distance.json")
    terms = data.get("terms")
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise DataFileError.from_code("E051", file="distance.json",
                                      detail="'terms' must be a list of strings")
    return Lexicon.of(terms)


@cache
def safety_data() -> tuple[str, tuple[tuple[str, Lexicon], ...], str, tuple[dict, ...]]:
    """(explanation, ((category, lexicon), ...) in priority order, fallback, resources)."""
    data = load_json("safety.json")
    try:
        explanation = data["explanation"]
        if isinstance(explanation, list):
            explanation = "\n\n".join(str(p) for p in explanation)
        categories = tuple((str(c["name"]), Lexicon.of(list(c["terms"])))
                           for c in data["categories"])
        fallback = str(data["fallback_category"])
        res = tuple({"name": str(r["name"]), "contact": str(r["contact"]),
                     "detail": str(r.get("detail", ""))} for r in data["resources"])
    except (KeyError, TypeError) as exc:
        raise DataFileError.from_code("E051", file="safety.json", detail=exc) from exc
    return str(explanation), categories, fallback, res


@cache
def _families() -> dict[str, str]:
    cb = codebook()
    return {c.name: c.family for c in cb.codes}


@dataclass(slots=True)
class MessageView:
    """A human message with its code names split by family (computed once per message).

    Read-only by convention: ``codes`` and ``by_family`` are shared between messages that carry
    the same codes.
    """

    message: Message
    index: int
    sender: str
    timestamp: datetime | None
    codes: frozenset[str]
    by_family: dict[str, tuple[str, ...]]

    @property
    def id(self) -> str:
        return self.message.message_id

    def family(self, name: str) -> tuple[str, ...]:
        return self.by_family.get(name, ())

    def has_family(self, name: str) -> bool:
        return name in self.by_family


@cache
def _split(names: frozenset[str]) -> dict[str, tuple[str, ...]]:
    # Few distinct code combinations occur, so each is split once and shared.
    fam = _families()
    by_family: dict[str, list[str]] = {}
    for name in names:
        f = fam.get(name)
        if f is not None:
            by_family.setdefault(f, []).append(name)
    return {f: tuple(sorted(v)) for f, v in sorted(by_family.items())}


_NONE: frozenset[str] = frozenset()


def view(message: Message, index: int) -> MessageView:
    """Codes unknown to the codebook are kept in ``codes`` but belong to no family."""
    codes = message.annotations.get("codes")
    names = frozenset(c.name for c in codes) if codes else _NONE
    return MessageView(message, index, message.sender, message.timestamp, names, _split(names))
