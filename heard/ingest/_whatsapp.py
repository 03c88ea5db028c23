"""WhatsApp "Export chat": the ``.txt`` (Android and iOS, any locale) or the ``.zip`` around it.

A message starts with a header (``1/4/23, 7:02 PM - Sam: text`` on Android, ``[04.01.23,
19:02:11] Sam: text`` on iOS); every line up to the next header continues its body. The reader
works in two steps over the text, which it reads in blocks of whole lines:

1. a scan of the headers only, which learns the file's header shape and keeps the sequence of
   distinct dates, from which the day/month order is inferred (:func:`infer_date_order`);
2. the parse proper, which yields one :class:`~heard.model.Message` per header.

A file with more than :data:`SETTLE_HEADERS` header lines (most real exports) is scanned only
that far when those lines settle both questions (one header shape, and a day or month over 12
that proves the order): the rest is only decoded (so that a bad byte is still
refused before any message is returned), and the parse counts the whole file's headers and
dates on its way, reports them, and warns if the whole file would have been read otherwise.

Memory stays bounded whatever the file size: nothing but one block of lines, one message, a few
counters and the list of distinct dates is held.

Choices worth knowing (they are also in the import report):

* System notices are ``kind="event"`` with an empty sender, even when iOS writes a participant's
  name before them; that name is kept in ``extra["attributed_to"]``. Calls are events too, with
  the caller as sender (who called is information; a call is not something typed).
* Media placeholders and attachment lines are ``kind="attachment"``; their text is kept verbatim,
  including an Android caption on the following lines.
* Deletion markers are ``kind="deleted"``.
* The edit marker (``<This message was edited>`` and its translations) is removed from the end of
  the text and recorded as ``edited=True``: it is WhatsApp's annotation, not what the person
  wrote. Everything else in a body is kept verbatim; only line endings are normalized.
* Times are the exporting phone's wall clock: they are placed in ``--tz`` and recorded as
  ``time_basis="wall_clock"``.
* When nothing in the file decides the day/month order, the likelier one is used (a 24-hour
  clock or dots: day first; "AM/PM" with slashes: month first) and a warning names
  ``--date-order`` for the other: a person gets their chat, with a way to correct it.
* One export may mix header styles (iOS writes ``2020-03-01``, ``2020.04.01`` and
  ``01/07/2025`` in one file; AM/PM is spelt ``p.m.``, ``p. m.`` or ``PM``): those shapes are
  one family, and a four-digit first field is always the year.
* A line without ``Name:`` is WhatsApp's own (a notice), on iOS as on Android; so is an iOS
  notice filed under the name it is about (``Ana: Ana left``).
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from heard.errors import DataFileError, ExportFormatError, HeardError, OptionError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._dayorder import DateOrder, infer_date_order, ordered_date
from heard.ingest._members import MemberInput, chat_file
from heard.ingest._text import check_text, iter_blocks, normalize_spaces, strip_marks
from heard.ingest._time import place_wall_clock
from heard.model import Message, trusted_message, trusted_source

__all__ = ["DateOrder", "WhatsAppReader", "infer_date_order", "parse_header"]

#: WhatsApp stops an export without media at this many messages (fewer with media).
EXPORT_CAP = 40_000
EXPORT_CAP_MEDIA = 10_000

_MARKS = "\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_MARK_CHARS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_MARK_RX = re.compile(f"[{_MARKS}]")
_SPACE = "[ \u00a0\u202f\u2009]"


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


@dataclass(frozen=True)
class _Patterns:
    header: re.Pattern[str]
    author: re.Pattern[str]
    system_strict: re.Pattern[str]
    system_loose: re.Pattern[str]
    calls: re.Pattern[str]
    calls_or_strict: re.Pattern[str]
    deleted: frozenset[str]
    media: frozenset[str]
    attached: re.Pattern[str]
    file_attached: re.Pattern[str]
    edited: re.Pattern[str]
    edited_ends: tuple[str, ...]
    endings: tuple[str, ...]
    poll: tuple[str, ...]
    location: tuple[str, ...]
    pm: frozenset[str]
    file_names: tuple[str, ...]


@cache
def _patterns() -> _Patterns:
    d = _data()
    words = _alternation(d["header_words"])
    ampm = _ampm_regex([*d["am"], *d["pm"]])
    header = re.compile(
        rf"^[{_MARKS}]*(?P<br>\[)?[{_MARKS}]*"
        r"(?P<d1>\d{1,4})(?P<sep>[./-])(?P<sp1> ?)(?P<d2>\d{1,2})(?P=sep)(?P=sp1)(?P<d3>\d{1,4})"
        r"(?P<dot>\.?)(?P<comma>,?)"
        rf"{_SPACE}+(?:(?P<word>{words}){_SPACE}+)?"
        r"(?P<h>\d{1,2})(?P<tsep>[:.])(?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
        rf"(?:{_SPACE}?(?P<ampm>{ampm}))?[{_MARKS}]*"
        rf"(?(br)\]{_SPACE}?|(?P<term>{_SPACE}[-–]{_SPACE}|:{_SPACE}|{_SPACE}))"
    )
    # "Name:." happens when the body is punctuation only; a letter, digit or "/" after the colon
    # is a clock or a link, not a name.
    author = re.compile(rf"(?P<author>[^:\n]{{1,100}}?):(?:{_SPACE}|$|(?=[^\w/]))")

    def compiled(key: str, *, strict: bool | None = None) -> re.Pattern[str]:
        # One alternation per table: a single match call per message instead of dozens.
        return re.compile("|".join(f"(?:{e['re']})" for e in d[key]
                                   if strict is None or bool(e.get("strict")) == strict))

    edited = re.compile(rf"[\s{_MARKS}]*(?:{_alternation(d['edited_markers'])})[{_MARKS}]*$")
    attached = re.compile(rf"<(?:{_alternation(d['attached_tags'])}){_SPACE}?:{_SPACE}?[^<>]+>")
    file_attached = re.compile(rf"^\S.* \((?:{_alternation(d['file_attached'])})\)$")
    return _Patterns(
        header=header,
        author=author,
        system_strict=compiled("system", strict=True),
        system_loose=compiled("system", strict=False),
        calls=compiled("calls"),
        calls_or_strict=re.compile(
            f"(?:{compiled('calls').pattern})|(?:{compiled('system', strict=True).pattern})"),
        deleted=frozenset(d["deleted"]),
        media=frozenset(d["media_omitted"]),
        attached=attached,
        file_attached=file_attached,
        edited=edited,
        # A body the edit marker can end ends with a marker's last character or a format mark:
        # a cheap test that spares most bodies the search.
        edited_ends=tuple(sorted({w[-1] for w in d["edited_markers"]} | set(_MARK_CHARS))),
        endings=tuple(e["ends"] for e in d.get("system_endings", ())),
        poll=tuple(d["poll"]),
        location=tuple(d["location"]),
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
        pm = normalize_spaces(ampm).replace(" ", "") in _patterns().pm
        # AM and PM must share a signature, so only the token's style is kept: "A" for AM/PM,
        # "a" for am/pm, "." for dotted forms such as "p. m.", "" for a 24-hour clock.
        style = "." if "." in ampm else ("A" if ampm.isupper() else "a")
    if br:
        term_kind = "]"
    elif term and ("-" in term or "–" in term):
        term_kind = "-"
    else:
        term_kind = ":" if term and ":" in term else " "
    return (term_kind, sep, seconds, style, tsep, word or ""), pm


# --------------------------------------------------------------------------------------------
# sources: a plain file, a zip member, a file inside a folder


_CHAT_TXT = re.compile(r"(?:^|/)(?:_chat\.txt|WhatsApp[^/]*\.txt|[^/]*WhatsApp[^/]*\.txt)$",
                       re.IGNORECASE)


def _pick_member(names: Sequence[str]) -> str | None:
    texts = [n for n in names if n.lower().endswith(".txt") and not n.endswith("/")
             and "__MACOSX" not in n]
    for name in texts:
        if name.rsplit("/", 1)[-1] == "_chat.txt":
            return name
    named = [n for n in texts if _CHAT_TXT.search(n)]
    if named:
        return named[0]
    return texts[0] if len(texts) == 1 else None


def _chat_source(source: Input) -> tuple[Input, dict[str, Any]]:
    """The text file that holds the chat, plus facts about its container."""
    return chat_file(source, _pick_member, missing=lambda listing: ExportFormatError.from_code(
        "E102", path=source.name, members=listing))


def chat_partner_from_name(name: str) -> str | None:
    """The other person's name from ``WhatsApp Chat with NAME.txt`` and its translations."""
    stem = Path(name.replace("\\", "/")).name
    for suffix in (".txt", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    for prefix in _patterns().file_names:
        if stem.lower().startswith(prefix.lower()):
            partner = stem[len(prefix):].strip()
            # Several exports of one chat get " (1)", " (2)" appended by the file system.
            partner = re.sub(r"\s*\(\d+\)$", "", partner)
            return partner or None
    return None


# --------------------------------------------------------------------------------------------
# body classification


def _lead_marked(text: str) -> bool:
    return bool(text) and text[0] in "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff"


def classify(body: str, *, authorless: bool) -> tuple[str, str | None]:
    """``(kind, subtype)`` of a message body.

    ``authorless`` is True when WhatsApp itself marks the line as not typed: an Android line
    without an author, or an iOS body that begins with a format mark.
    """
    p = _patterns()
    cut = body.find("\n")
    first = body if cut < 0 else body[:cut]
    marked = not body.isascii() and _MARK_RX.search(body) is not None
    clean = (strip_marks(first) if marked else first).strip()
    whole = (strip_marks(body) if marked else body).strip()
    if whole in p.deleted:
        return "deleted", None
    # One match of both tables together rules out most bodies before trying each.
    if p.calls_or_strict.match(clean):
        if len(clean) <= 80 and p.calls.match(clean) and (authorless or len(clean) <= 40):
            return "event", "call"
        if p.system_strict.match(clean):
            return "event", "system"
    if (authorless and p.system_loose.match(clean)) or clean.endswith(p.endings):
        return "event", "system"
    if whole in p.media:
        return "attachment", "media_omitted"
    # Both tables need a "<" or a closing ")": test for that before running them.
    if (("<" in first and p.attached.search(first))
            or (clean.endswith(")") and p.file_attached.match(clean))):
        return "attachment", "file"
    if clean.startswith(p.location):
        return "attachment", "location"
    if clean.startswith(p.poll):
        return "text", "poll"
    if not whole and "\n" not in body.strip("\n"):
        return "attachment", "view_once"
    if authorless:
        return "event", "system"
    return "text", None


# --------------------------------------------------------------------------------------------
# the reader


_DATE_ORDERS = ("DMY", "MDY", "YMD")


@dataclass(slots=True)
class _Scan:
    headers: int = 0
    signatures: Counter = field(default_factory=Counter)
    dates: list[tuple[str, str, str]] = field(default_factory=list)
    ios: int = 0
    first_line: tuple[int, str] | None = None
    commas: Counter = field(default_factory=Counter)


def _read_guard(source: Input, blocks: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Turn a damaged zip member into a one-line error naming the place."""
    nxt = 1
    try:
        for lineno, text in blocks:
            yield lineno, text
            nxt = lineno + text.count("\n")
    except HeardError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        if isinstance(source, MemberInput):
            raise ExportFormatError.from_code(
                "E103", path=source.archive.name, member=source.member, line=nxt,
                detail=exc) from exc
        raise ExportFormatError.from_code("E026", path=source.name, detail=exc) from exc


_COMMA = re.compile(r"\d,")
#: Files with more header lines than this are read once when these settle the date order and
#: the header shape (see ``WhatsAppReader._scan``): enough lines to meet a day over 12 and the
#: header shapes of an export; the rest is checked as it is parsed, with a warning where the
#: whole file would have been read otherwise. Most real exports (up to 40,000 messages) are
#: then read in one pass instead of two.
SETTLE_HEADERS = 5_000


@dataclass(slots=True)
class _Tally:
    """Header figures counted while parsing, to check what was settled on the first lines."""

    shapes: dict[tuple[Any, ...], int] = field(default_factory=dict)
    dates: list[tuple[str, str, str]] = field(default_factory=list)


@register
class WhatsAppReader(Reader):
    name = "whatsapp"
    key = "heard.reader.whatsapp.v1"
    description = "WhatsApp 'Export chat' (.txt or .zip; Android and iOS, any locale)"

    # -- detection --------------------------------------------------------------------------

    def sniff(self, source: Input) -> float:
        named = chat_partner_from_name(source.name) is not None
        try:
            if source.is_dir:
                assert source.path is not None
                names = [p.name for p in source.path.iterdir() if p.suffix.lower() == ".txt"]
                picked = _pick_member(names)
                if picked is None:
                    return 0.0
                inner = Input(source.path / picked, name=picked)
                return self._sniff_text(inner.head, named=True)
            if source.is_zip:
                with source.zip() as zf:
                    names = zf.namelist()
                    picked = _pick_member(names)
                    if picked is None:
                        return 0.0
                    with zf.open(picked) as f:
                        head = f.read(16 * 1024)
                return self._sniff_text(head, named=True)
        except (HeardError, OSError, zipfile.BadZipFile, zlib.error, EOFError):
            return 0.0
        return self._sniff_text(source.head, named=named)

    @staticmethod
    def _sniff_text(head: bytes, *, named: bool) -> float:
        text = head.decode("utf-8", "replace").lstrip("\ufeff")
        lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
        if not lines:
            return 0.0
        headers = [h for h in (parse_header(ln) for ln in lines) if h is not None]
        if not headers:
            return 0.0
        top, count = Counter(h.signature for h in headers).most_common(1)[0]
        term, sep, seconds, ampm_style, _tsep, word = top
        if term == "]" and not seconds:
            # iOS always writes seconds; "[date time] Name:" without them is more likely a
            # transcript, but when no other reader claims it, it is read as WhatsApp.
            return 0.35
        generic = (sep == "-" and not word and not ampm_style and headers[0].d1.isdigit()
                   and len(headers[0].d1) == 4 and term != "]")
        first_is_header = parse_header(lines[0]) is not None
        if named:
            return 0.97
        if generic:
            # ``2024-03-02 21:14 - Sam: hi`` is as much a plain transcript as a WhatsApp chat.
            return 0.5
        if first_is_header and count >= 1:
            return 0.95
        return 0.9 if count >= 3 else 0.4

    # -- reading ----------------------------------------------------------------------------

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        chat, info = _chat_source(source)
        check_text(chat)
        report.details.update(info)
        inner = chat.member if isinstance(chat, MemberInput) else chat.name
        partner = chat_partner_from_name(inner) or chat_partner_from_name(source.name)
        if partner:
            report.details["chat_with"] = partner
        if options.date_order and options.date_order.upper() not in _DATE_ORDERS:
            raise OptionError.from_code("E104", value=options.date_order)

        scan, settled = self._scan(chat, options)
        if scan.headers == 0:
            line, excerpt = scan.first_line or (1, "")
            raise ExportFormatError.from_code("E101", path=chat.name, line=line,
                                              excerpt=excerpt[:60])
        accepted = self._accepted_signatures(scan)
        top = scan.signatures.most_common(1)[0][0]
        comma_share = scan.commas[True] / max(1, scan.headers)
        order = self._date_order(chat, scan, (*top, comma_share >= 0.5), options, report)
        variant = "ios" if scan.ios * 2 >= scan.headers else "android"
        report.details["whatsapp_variant"] = variant
        report.details["header_lines"] = scan.headers
        if settled:
            self._warn_cap(scan.headers, info, report)
        if options.tz is None:
            report.warn("WhatsApp records the phone's local clock time without a zone; times "
                        "were placed in UTC. Pass --tz (for example Europe/Berlin) to place them "
                        "in your zone.")
        tally = None if settled else _Tally()
        if tally is not None:
            report.details["settled_on_header_lines"] = scan.headers
        yield from self._parse(chat, options, report, order, accepted, source, tally)
        if tally is not None:
            headers = self._check_settled(scan, tally, order, accepted, options, report)
            self._warn_cap(headers, info, report)

    def _scan(self, chat: Input, options: ReadOptions) -> tuple[_Scan, bool]:
        """Header statistics, and whether they cover the whole file.

        Large files are decided on their first :data:`SETTLE_HEADERS` header lines when those
        settle the questions (a day or month over 12 decides the order; one header shape),
        so that they are read once; the rest is still decoded here, so that a bad byte or a
        damaged archive is refused before any message is returned. Otherwise the whole file
        is scanned first.
        """
        scan = _Scan()
        blocks = _read_guard(chat, iter_blocks(chat, options.encoding))
        shapes: dict[tuple[Any, ...], int] = {}
        state = ["", "", ""]
        checked = False
        for start, block in blocks:
            self._scan_block(scan, shapes, state, start, block)
            if not checked and sum(shapes.values()) >= SETTLE_HEADERS:
                checked = True
                self._fold(scan, shapes)
                if self._settled(scan, options):
                    for _ in blocks:
                        pass
                    return scan, False
                scan = _Scan(first_line=scan.first_line, dates=scan.dates)
        self._fold(scan, shapes)
        return scan, True

    @staticmethod
    def _settled(scan: _Scan, options: ReadOptions) -> bool:
        if len(scan.signatures) != 1:
            return False
        if options.date_order:
            return True
        inferred = infer_date_order(scan.dates)
        return inferred.decisive and inferred.confidence == 1.0

    @staticmethod
    def _fold(scan: _Scan, shapes: dict[tuple[Any, ...], int]) -> None:
        for key, n in shapes.items():
            scan.headers += n
            scan.signatures[_shape(*key[:7])[0]] += n
            scan.commas[key[7]] += n
            if key[0]:
                scan.ios += n

    @staticmethod
    def _scan_block(scan: _Scan, shapes: dict[tuple[Any, ...], int], state: list[str],
                    start: int, block: str) -> None:
        match = _patterns().header.match
        comma = _COMMA.search
        dates = scan.dates
        lines = block.split("\n")
        lines.pop()
        if scan.first_line is None:
            for i, text in enumerate(lines):
                if text.strip():
                    scan.first_line = (start + i, text)
                    break
        # Counted by punctuation groups (a few hundred distinct at most), folded into
        # signatures by ``_fold``: the per-header work stays a match and a dict update.
        for text in lines:
            m = match(text)
            if m is None:
                continue
            br, d1, sep, _, d2, d3, _, _, word, _, tsep, _, sec, ampm, term = m.groups()
            key = (br, sep, sec is not None, ampm, tsep, word, term,
                   comma(text, 0, 40) is not None)
            shapes[key] = shapes.get(key, 0) + 1
            if d1 != state[0] or d2 != state[1] or d3 != state[2]:
                state[:] = d1, d2, d3
                dates.append((d1, d2, d3))

    def _check_settled(self, scan: _Scan, tally: _Tally, order: str,
                       accepted: set[tuple[Any, ...]], options: ReadOptions,
                       report: ImportReport) -> int:
        """After a read decided on the first header lines: the whole file's figures, and a
        warning where the whole file would have been read otherwise. Returns the header
        count."""
        full = _Scan(dates=tally.dates)
        self._fold(full, {(k[0], k[1], k[2] is not None, *k[3:], True): n
                          for k, n in tally.shapes.items()})
        report.details["header_lines"] = full.headers
        report.details["whatsapp_variant"] = "ios" if full.ios * 2 >= full.headers else "android"
        settled = f"settled on the first {scan.headers:,} message lines"
        inferred = infer_date_order(full.dates)
        if options.date_order:
            if (inferred.decisive and inferred.order != order and inferred.confidence >= 0.9
                    and not any("contradicts" in w for w in report.warnings)):
                report.warn(f"--date-order {order} contradicts the dates in the file, which read "
                            f"as {inferred.order}; dates impossible as {order} are kept as text "
                            "of the message before them and listed as suspicious")
        else:
            report.details["date_order_votes"] = inferred.votes
            same = inferred.order == order
            report.details["date_order_confidence"] = (
                inferred.confidence if same else round(1.0 - inferred.confidence, 3))
            if not same or inferred.confidence < 0.9:
                other = "MDY" if order == "DMY" else "DMY"
                report.warn(f"the day/month order was {settled} as {order}, but the whole "
                            f"file reads as {inferred.order} (confidence "
                            f"{inferred.confidence:.2f}); dates impossible as {order} are kept "
                            "as text of the message before them and listed as suspicious; if "
                            f"{other} is right, import again with --date-order {other}")
        if self._accepted_signatures(full) != accepted:
            report.warn(f"the shape of this file's message lines was {settled}, but later "
                        "lines of another shape start many messages; they were kept as text "
                        "of the message before them and listed as suspicious")
        return full.headers

    @staticmethod
    def _accepted_signatures(scan: _Scan) -> set[tuple[Any, ...]]:
        """Header shapes that really start messages; a lone odd one is pasted text."""
        # One export can mix AM/PM spellings ("p.m.", "p. m.", "PM"): shapes that differ only
        # in that spelling count as one.
        family: Counter[tuple[Any, ...]] = Counter()
        for sig, n in scan.signatures.items():
            family[_family(sig)] += n
        top = family.most_common(1)[0][1]
        return {sig for sig in scan.signatures
                if family[_family(sig)] == top
                or family[_family(sig)] >= max(2, 0.1 * scan.headers)}

    @staticmethod
    def _date_order(chat: Input, scan: _Scan, signature: tuple[Any, ...],
                    options: ReadOptions, report: ImportReport) -> str:
        inferred = infer_date_order(scan.dates, signature=signature)
        if options.date_order:
            order = options.date_order.upper()
            report.details["date_order"] = order
            report.details["date_order_source"] = "--date-order"
            if inferred.decisive and inferred.order != order and inferred.confidence >= 0.9:
                report.warn(f"--date-order {order} contradicts the dates in the file, which read "
                            f"as {inferred.order}; dates impossible as {order} are kept as text "
                            "of the message before them and listed as suspicious")
            return order
        report.details["date_order"] = inferred.order
        report.details["date_order_confidence"] = inferred.confidence
        report.details["date_order_votes"] = inferred.votes
        report.details["date_order_source"] = "inferred"
        if inferred.confidence < 0.9:
            # Undecided files still import: the likelier order is used, and the person is told
            # how to choose the other one.
            other = "MDY" if inferred.order == "DMY" else "DMY"
            example = "/".join(scan.dates[0]) if scan.dates else "?"
            report.warn(f"the day/month order is uncertain: dates such as {example} were read as "
                        f"{inferred.order} (confidence {inferred.confidence:.2f}); if that is "
                        f"wrong, import again with --date-order {other}")
        return inferred.order

    @staticmethod
    def _warn_cap(headers: int, info: dict[str, Any], report: ImportReport) -> None:
        media = info.get("media_files", 0) > 0
        for cap in (EXPORT_CAP, EXPORT_CAP_MEDIA) if media else (EXPORT_CAP,):
            if cap - cap // 100 <= headers <= cap:
                report.warn(
                    f"this export holds {headers:,} messages, at WhatsApp's export limit of "
                    f"{cap:,}{' with media' if cap == EXPORT_CAP_MEDIA else ''}: older messages "
                    "are probably missing, and the analysis covers only the date range shown")
                report.details["export_cap"] = cap
                return

    def _parse(self, chat: Input, options: ReadOptions, report: ImportReport, order: str,
               accepted: set[tuple[Any, ...]], original: Input,
               tally: _Tally | None = None) -> Iterator[Message]:
        # The hot loop: one regex match per line, and for a header a few dict lookups (its
        # shape and its date repeat from line to line) and one datetime. Body lines are only
        # collected; all the per-message work happens once, in ``emit``.
        emitter = _Emitter(options.conversation_id or original.stem, chat.name, options.tz, report)
        emit = emitter.emit
        limit = options.max_chars
        match = _patterns().header.match
        tzinfo = emitter.tzinfo
        # header punctuation groups -> [accepted, pm, count]
        shapes: dict[tuple[Any, ...], list[Any]] = {}
        dates: list[tuple[str, str, str]] = []
        days: dict[tuple[str, str, str], tuple[int, int, int] | None] = {}
        last_key = ("", "", "")
        ymd: tuple[int, int, int] | None = None
        # the message being collected: its line, time, iOS shape, first line, later lines
        line = 0
        stamp = datetime.min
        ios = False
        rest = ""
        more: list[str] | None = None
        size = 0
        for start, block in _read_guard(chat, iter_blocks(chat, options.encoding)):
            lineno = start - 1
            lines = block.split("\n")
            lines.pop()
            for text in lines:
                lineno += 1
                m = match(text)
                if m is not None:
                    br, d1, sep, _, d2, d3, _, _, word, h, tsep, mi, sec, ampm, term = m.groups()
                    key = (br, sep, sec, ampm, tsep, word, term)
                    shape = shapes.get(key)
                    if shape is None:
                        sig, pm_ = _shape(br, sep, sec is not None, ampm, tsep, word, term)
                        shape = shapes[key] = [sig in accepted, pm_, 0]
                    shape[2] += 1
                    if d1 != last_key[0] or d2 != last_key[1] or d3 != last_key[2]:
                        last_key = (d1, d2, d3)
                        dates.append(last_key)
                        ymd = days.get(last_key, ...)  # type: ignore[arg-type]
                        if ymd is ...:
                            ymd = ordered_date(last_key, order)
                            if len(days) > 100_000:
                                days.clear()
                            days[last_key] = ymd
                    hour = int(h)
                    pm = shape[1]
                    if pm is not None:
                        # "13:19 PM" and "00:08 a. m.": a 24-hour time beside the token
                        hour = (hour % 12) + (12 if pm else 0) if 0 < hour <= 12 else hour
                    minute = int(mi)
                    second = int(sec) if sec else 0
                    why = None
                    if not shape[0]:
                        why = "shaped like a message header, but not like this file's headers"
                    elif ymd is None:
                        why = f"shaped like a message header, but its date is impossible as {order}"
                    elif hour > 23 or minute > 59 or second > 59:
                        why = "shaped like a message header, but its time is impossible"
                    if why is None:
                        if line:
                            yield emit(line, stamp, ios, rest, more)
                        assert ymd is not None
                        line = lineno
                        stamp = datetime(ymd[0], ymd[1], ymd[2], hour, minute, second,
                                         tzinfo=tzinfo)
                        ios = bool(br)
                        rest = text[m.end():]
                        more = None
                        size = len(rest)
                        continue
                    if not line:
                        report.skip(lineno, why, text)
                        continue
                    report.flag(lineno, why + "; read as part of the message before", text)
                elif not line:
                    if text.strip():
                        report.skip(lineno, "text before the first WhatsApp message line", text)
                    continue
                # Past the limit the message will be skipped (and reported) anyway: stop
                # holding text.
                if size <= limit:
                    if more is None:
                        more = [text]
                    else:
                        more.append(text)
                    size += len(text) + 1
        if line:
            yield emit(line, stamp, ios, rest, more)
        if tally is not None:
            tally.shapes.update((key, shape[2]) for key, shape in shapes.items())
            tally.dates.extend(dates)


def _family(signature: tuple[Any, ...]) -> tuple[Any, ...]:
    """A header shape without its AM/PM spelling (12-hour clocks all alike); for iOS's
    bracketed headers only the brackets and seconds, since one iOS export can mix date styles
    (``2020-03-01``, ``2020.04.01``, ``01/07/2025``) and 12/24-hour clocks."""
    if signature[0] == "]":
        return ("]", signature[2])
    return (*signature[:3], bool(signature[3]), *signature[4:])


def _clean_author(raw: str) -> str:
    if raw.isascii():
        return raw.strip()
    name = normalize_spaces(strip_marks(raw)).strip()
    if name.startswith("~"):
        name = name[1:].strip()
    return name


class _Emitter:
    """Turns a collected header and body into a :class:`~heard.model.Message`."""

    def __init__(self, cid: str, path: str, tz: str | None, report: ImportReport) -> None:
        self.cid = cid
        self.path = path
        self.report = report
        placed, self.basis, self.tz = place_wall_clock(datetime(2000, 1, 1), tz)
        self.tzinfo = placed.tzinfo
        # Android author candidate -> (is a person, cleaned name). A chat has a handful.
        self.authors: dict[str, tuple[bool, str]] = {}
        self.names: dict[str, str] = {}
        self.pat = _patterns()

    def emit(self, line: int, stamp: datetime, ios: bool, rest: str,
             more: list[str] | None) -> Message:
        if more:
            while more and not more[-1].strip():
                more.pop()
            if more:
                rest = rest + "\n" + "\n".join(more)
        pat = self.pat
        sender = ""
        body = rest
        m = pat.author.match(rest)
        if ios:
            if m:
                raw = m.group(1)
                sender = self.names.get(raw) or self._name(raw)
                body = rest[m.end():]
            # no "Name:" at all: WhatsApp wrote the line (group notices on iOS); and iOS puts a
            # notice about someone under their own name ("Ana: Ana left")
            authorless = (m is None or _lead_marked(body)
                          or (body.startswith(sender) and bool(sender)
                              and pat.system_loose.match(body) is not None))
        else:
            authorless = True
            if m:
                candidate = m.group(1)
                person = self.authors.get(candidate)
                if person is None:
                    person = self._author(candidate)
                if person[0]:
                    sender, body = person[1], rest[m.end():]
                    authorless = False
        kind, subtype = classify(body, authorless=authorless)
        edited = False
        if (kind == "text" or kind == "attachment") and body.endswith(pat.edited_ends):
            em = pat.edited.search(body)
            if em:
                body, edited = body[: em.start()], True
        extra: dict[str, Any] = {}
        if subtype:
            extra["subtype"] = subtype
            if kind == "event" and subtype != "call":
                if sender:
                    extra["attributed_to"] = sender
                sender = ""
                if ios and subtype == "system" and not _matches_table(body):
                    self.report.flag(line, "iOS line WhatsApp marks as not typed (leading "
                                     "U+200E), with unknown wording; kept as a system event",
                                     body)
        if sender and len(sender) > 60 and kind != "event":
            self.report.flag(line, "unusually long sender name; is this a system notice?", rest)
        return trusted_message(self.cid, f"{self.cid}-{line}", sender, stamp, body, kind, edited,
                            trusted_source("whatsapp", self.path, line, self.basis, self.tz), extra)

    def _name(self, raw: str) -> str:
        name = _clean_author(raw)
        if len(self.names) < 10_000:
            self.names[raw] = name
        return name

    def _author(self, candidate: str) -> tuple[bool, str]:
        person = (not _patterns().system_loose.match(strip_marks(candidate)),
                  _clean_author(candidate))
        if len(self.authors) < 10_000:
            self.authors[candidate] = person
        return person




def _matches_table(body: str) -> bool:
    clean = strip_marks(body.split("\n", 1)[0]).strip()
    p = _patterns()
    return bool(p.system_strict.match(clean) or p.system_loose.match(clean))
