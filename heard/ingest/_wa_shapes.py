"""WhatsApp header lines: their shapes in every locale, and the data file that spells them.

A message starts with a header (``1/4/23, 7:02 PM - Sam: text`` on Android, ``[04.01.23,
19:02:11] Sam: text`` on iOS). One compiled pattern matches every header variant (12/24 h,
2/4-digit years, dots, brackets, narrow no-break spaces, RTL marks, locale words such as ``à`` or
``klo``); the words themselves, and the tables of system notices, media placeholders and edit
markers in the languages the app writes, live in ``data/whatsapp_patterns.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from re import _constants as _C  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any

from heard.errors import DataFileError
from heard.ingest._text import normalize_spaces

__all__ = ["Header", "line_header", "parse_header"]

_MARKS = "\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_MARK_CHARS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_MARK_RX = re.compile(f"[{_MARKS}]")
_sre_parse = _sre_parser.parse
_SPACES = " \u00a0\u202f\u2009"
_SPACE = f"[{_SPACES}]"


@cache
def _data() -> dict[str, Any]:
    path = resources.files("heard.ingest") / "data" / "whatsapp_patterns.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError.from_code("E051", file="whatsapp_patterns.json", detail=exc) from exc


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _ampm_regex(words: Sequence[str]) -> str:
    # "p. m." is written with a plain, no-break or narrow space depending on the phone.
    return "|".join(re.escape(w).replace(r"\ ", _SPACE + "?")
                    for w in sorted(words, key=len, reverse=True))


class _Table:
    """One table of notice patterns (``{"re": ...}`` entries), asked only "does one match?".

    One alternation of them all would run every ``.+``-led pattern over the whole line for
    every message; here the patterns that begin with literal text share one alternation (they
    fail on the first character), and each of the others runs only when the literal text it
    cannot match without is in the line.
    """

    __slots__ = ("firsts", "guarded", "head", "pattern")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.pattern = "|".join(f"(?:{p})" for p in patterns)
        heads: list[str] = []
        self.guarded: list[tuple[str, re.Pattern[str]]] = []
        for p in patterns:
            need = _needed_literal(p)
            if need is None:
                heads.append(p)
            else:
                self.guarded.append((need, re.compile(p)))
        head = "|".join(f"(?:{p})" for p in heads)
        self.head = re.compile(head) if heads else None
        # the characters a match of the shared alternation can begin with (None: any)
        self.firsts = _first_chars(_sre_parse(head)) if heads else None

    def match(self, text: str) -> bool:
        head = self.head
        if (head is not None and (self.firsts is None or text[:1] in self.firsts)
                and head.match(text) is not None):
            return True
        for need, rx in self.guarded:  # noqa: SIM110  (a loop: no generator per message)
            if need in text and rx.match(text) is not None:
                return True
        return False


def _needed_literal(pattern: str) -> str | None:
    """Literal text every match of ``pattern`` contains, for a pattern that does not begin with
    literal text (those fail fast anyway); None when the pattern is cheap or has none."""
    parsed = _sre_parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    ops = list(parsed)
    if not ops or ops[0][0] == _C.LITERAL:
        return None
    best, run = "", ""
    for op, arg in ops:  # only top-level literals are in every match
        if op == _C.LITERAL:
            run += chr(arg)
            best = max(best, run, key=len)
        else:
            run = ""
    return best if len(best) >= 3 else None


def _first_chars(parsed: Any) -> frozenset[str] | None:
    """Every character a match of a parsed pattern can begin with; None when that is not
    known (a case-insensitive part, a class by category, a part that can be empty)."""
    if getattr(parsed, "state", None) is not None and parsed.state.flags & re.IGNORECASE:
        return None
    for op, arg in parsed:
        if op == _C.AT:  # \b and the like take no character: the next item starts the match
            continue
        if op == _C.LITERAL:
            return frozenset(chr(arg))
        if op == _C.IN:
            chars: set[str] = set()
            for kind, value in arg:
                if kind == _C.LITERAL:
                    chars.add(chr(value))
                elif kind == _C.RANGE and value[1] - value[0] < 512:
                    chars.update(chr(c) for c in range(value[0], value[1] + 1))
                else:
                    return None
            return frozenset(chars)
        if op == _C.SUBPATTERN:
            _group, add_flags, _del_flags, sub = arg
            return None if add_flags & re.IGNORECASE else _first_chars(sub)
        if op == _C.BRANCH:
            union: set[str] = set()
            for branch in arg[1]:
                firsts = _first_chars(branch)
                if firsts is None:
                    return None
                union |= firsts
            return frozenset(union)
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT) and arg[0] >= 1:
            return _first_chars(arg[2])
        return None
    return None


@dataclass(frozen=True)
class _Patterns:
    header: re.Pattern[str]
    author: re.Pattern[str]
    system_strict: _Table
    system_loose: re.Pattern[str]
    calls: _Table
    calls_or_strict: _Table
    deleted: frozenset[str]
    media: frozenset[str]
    attached: re.Pattern[str]
    file_attached: re.Pattern[str]
    edited: re.Pattern[str]
    edited_ends: frozenset[str]
    endings: tuple[str, ...]
    poll: tuple[str, ...]
    location: tuple[str, ...]
    location_or_poll: tuple[str, ...]
    pm: frozenset[str]
    file_names: tuple[str, ...]


def _header_pattern(signature: tuple[Any, ...] | None = None) -> str:
    """The header pattern: every shape, or (``signature``) only the lines the every-shape
    pattern reads with that shape, with the same groups.

    The one-shape pattern is the every-shape one with the other choices left out; where the
    every-shape pattern would prefer a choice the shape does not have (a word, seconds, AM/PM, a
    dash before the name), that choice needs characters the shape's own path cannot take there,
    except for the plain-space ending, which a lookahead keeps from taking a dash ending.
    """
    d = _data()
    if signature is None:
        br = r"(?P<br>\[)?"
        sep = "[./-]"
        word = rf"(?:(?P<word>{_alternation(d['header_words'])}){_SPACE}+)?"
        tsep = "[:.]"
        sec = r"(?:[:.](?P<s>\d{2}))?"
        ampm = rf"(?:{_SPACE}?(?P<ampm>{_ampm_regex([*d['am'], *d['pm']])}))?"
        term = rf"(?(br)\]{_SPACE}?|(?P<term>{_SPACE}[-–]{_SPACE}|:{_SPACE}|{_SPACE}))"
    else:
        term_kind, sep_, seconds, style, tsep_, word_ = signature[:6]
        if term_kind == "]":
            raise ValueError("bracketed headers have no one-shape pattern")
        br = ""
        sep = re.escape(sep_)
        word = rf"(?P<word>{re.escape(word_)}){_SPACE}+" if word_ else ""
        tsep = re.escape(tsep_)
        sec = r"[:.](?P<s>\d{2})" if seconds else ""
        tokens = [w for w in (*d["am"], *d["pm"]) if _ampm_style(w) == style]
        ampm = rf"{_SPACE}?(?P<ampm>{_ampm_regex(tokens)})" if style else ""
        term = {"-": rf"(?P<term>{_SPACE}[-–]{_SPACE})",
                ":": rf"(?P<term>:{_SPACE})",
                " ": rf"(?!{_SPACE}[-–]{_SPACE})(?P<term>{_SPACE})"}[term_kind]
    date = (rf"(?P<d1>\d{{1,4}})(?P<sep>{sep})(?P<sp1> ?)(?P<d2>\d{{1,2}})(?P=sep)(?P=sp1)"
            r"(?P<d3>\d{1,4})")
    reading = rf"(?P<h>\d{{1,2}})(?P<tsep>{tsep})(?P<mi>\d{{2}}){sec}{ampm}"
    if signature is not None:
        # the one-shape pattern also names the whole date and the whole clock reading (a
        # group changes nothing in what matches), which the parse looks up as one text each
        date, reading = f"(?P<date>{date})", f"(?P<clock>{reading})"
    return (
        rf"[{_MARKS}]*{br}[{_MARKS}]*{date}(?P<dot>\.?)(?P<comma>,?)"
        rf"{_SPACE}+{word}{reading}[{_MARKS}]*{term}"
    )


def is_pm(token: str) -> bool:
    """Whether an AM/PM token (any language, any spacing) is PM."""
    return normalize_spaces(token).replace(" ", "") in _patterns().pm


def _ampm_style(token: str) -> str:
    # AM and PM must share a signature, so only the token's style is kept: "A" for AM/PM,
    # "a" for am/pm, "." for dotted forms such as "p. m.", "" for a 24-hour clock.
    return "." if "." in token else ("A" if token.isupper() else "a")


@cache
def line_header(signature: tuple[Any, ...]) -> re.Pattern[str] | None:
    """For a file whose headers all have ``signature``: a pattern for a newline and one such
    header, then ``rest``, the remainder of its line (to run over a block of lines at once).
    None for bracketed (iOS) shapes."""
    if signature[0] == "]":
        return None
    return re.compile(r"\n" + _header_pattern(signature) + r"(?P<rest>[^\n]*)")


@cache
def _patterns() -> _Patterns:
    d = _data()
    header = re.compile("^" + _header_pattern())
    # "Name:." happens when the body is punctuation only; a letter, digit or "/" after the colon
    # is a clock or a link, not a name.
    author = re.compile(rf"(?P<author>[^:\n]{{1,100}}?):(?:{_SPACE}|$|(?=[^\w/]))")

    def entries(key: str, *, strict: bool | None = None) -> list[str]:
        return [e["re"] for e in d[key] if strict is None or bool(e.get("strict")) == strict]

    def compiled(key: str, *, strict: bool | None = None) -> re.Pattern[str]:
        # One alternation per table: a single match call per message instead of dozens.
        return re.compile("|".join(f"(?:{p})" for p in entries(key, strict=strict)))

    edited = re.compile(rf"[\s{_MARKS}]*(?:{_alternation(d['edited_markers'])})[{_MARKS}]*$")
    attached = re.compile(rf"<(?:{_alternation(d['attached_tags'])}){_SPACE}?:{_SPACE}?[^<>]+>")
    file_attached = re.compile(rf"^\S.* \((?:{_alternation(d['file_attached'])})\)$")
    return _Patterns(
        header=header,
        author=author,
        system_strict=_Table(entries("system", strict=True)),
        system_loose=compiled("system", strict=False),
        calls=_Table(entries("calls")),
        calls_or_strict=_Table([*entries("calls"), *entries("system", strict=True)]),
        deleted=frozenset(d["deleted"]),
        media=frozenset(d["media_omitted"]),
        attached=attached,
        file_attached=file_attached,
        edited=edited,
        # A body the edit marker can end ends with a marker's last character or a format mark:
        # a cheap test that spares most bodies the search.
        edited_ends=frozenset({w[-1] for w in d["edited_markers"]} | set(_MARK_CHARS)),
        endings=tuple(e["ends"] for e in d.get("system_endings", ())),
        poll=tuple(d["poll"]),
        location=tuple(d["location"]),
        location_or_poll=(*d["location"], *d["poll"]),
        pm=frozenset(normalize_spaces(w).replace(" ", "") for w in d["pm"]),
        file_names=tuple(d["file_name_prefixes"]),
    )


# --------------------------------------------------------------------------------------------
# headers


@dataclass(frozen=True, slots=True)
class Header:
    """The parts of one header line, as written (dates are not yet ordered)."""

    d1: str
    d2: str
    d3: str
    hour: int
    minute: int
    second: int
    pm: bool | None
    signature: tuple[Any, ...]
    rest: str
    ios: bool

    @property
    def date_key(self) -> tuple[str, str, str]:
        return self.d1, self.d2, self.d3


def parse_header(line: str) -> Header | None:
    """The header of ``line`` when it starts a WhatsApp message, else None.

    Only the header span is normalized (format marks dropped, special spaces read as spaces);
    ``rest`` is the verbatim remainder of the line.
    """
    if not line:
        return None
    first = line[0]
    if not (first.isdigit() or first == "[" or first in "\u200e\u200f\ufeff\u202a\u202b\u202c"
            "\u202d\u202e\u2066\u2067\u2068\u2069"):
        return None
    m = _patterns().header.match(line)
    if m is None:
        return None
    br, d1, sep, _, d2, d3, _, _, word, h, tsep, mi, sec, ampm, term = m.groups()
    signature, pm = _shape(br, sep, sec is not None, ampm, tsep, word, term)
    return Header(d1, d2, d3, int(h), int(mi), int(sec or 0), pm, signature,
                  line[m.end():], bool(br))


@cache
def _shape(br: str | None, sep: str, seconds: bool, ampm: str | None, tsep: str,
           word: str | None, term: str | None) -> tuple[tuple[Any, ...], bool | None]:
    """``(signature, pm)`` from a header's punctuation groups (few distinct: cached)."""
    pm = None
    style = ""
    if ampm:
        pm = is_pm(ampm)
        style = _ampm_style(ampm)
    if br:
        term_kind = "]"
    elif term and ("-" in term or "–" in term):
        term_kind = "-"
    else:
        term_kind = ":" if term and ":" in term else " "
    return (term_kind, sep, seconds, style, tsep, word or ""), pm


def _family(signature: tuple[Any, ...]) -> tuple[Any, ...]:
    """A header shape without its AM/PM spelling (12-hour clocks all alike); for iOS's
    bracketed headers only the brackets and seconds, since one iOS export can mix date styles
    (``2020-03-01``, ``2020.04.01``, ``01/07/2025``) and 12/24-hour clocks."""
    if signature[0] == "]":
        return ("]", signature[2])
    return (*signature[:3], bool(signature[3]), *signature[4:])

