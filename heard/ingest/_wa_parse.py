"""The WhatsApp reader's two passes over the text: the header scan and the streaming parse.

1. :func:`scan_block` counts the headers' shapes and keeps the sequence of distinct dates, from
   which the reader settles the file's header shape and day/month order;
2. :func:`raw_messages` finds each message's header and collects the body lines that follow
   it, a block of lines at a time, and counts the whole file's shapes and dates on its way
   when the reader settled them on the first lines only. A file with one Android header shape
   (most exports) is read with that shape's own pattern over the whole block; others line by
   line. :func:`parse` makes a :class:`~heard.model.Message` of each; ``heard import`` writes
   JSON Lines from them directly (:mod:`heard.ingest._wa_lines`).

Memory stays bounded whatever the file size: nothing but one block of lines and its messages, a
few counters and the list of distinct dates is held.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heard.errors import ExportFormatError, HeardError
from heard.ingest._base import ImportReport, Input, ReadOptions
from heard.ingest._dayorder import ordered_date
from heard.ingest._members import MemberInput
from heard.ingest._text import iter_blocks
from heard.ingest._wa_messages import _Emitter
from heard.ingest._wa_shapes import _family, _patterns, _shape, is_pm, line_header
from heard.model import Message

__all__ = [
    "Clock",
    "Raw",
    "Scan",
    "Tally",
    "accepted_signatures",
    "clock",
    "fold",
    "parse",
    "raw_messages",
    "read_guard",
    "scan_block",
]


@dataclass(slots=True)
class Scan:
    headers: int = 0
    signatures: Counter = field(default_factory=Counter)
    dates: list[tuple[str, str, str]] = field(default_factory=list)
    ios: int = 0
    first_line: tuple[int, str] | None = None
    commas: Counter = field(default_factory=Counter)


def read_guard(source: Input, blocks: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
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

@dataclass(slots=True)
class Tally:
    """Header figures counted while parsing, to check what was settled on the first lines."""

    shapes: dict[tuple[Any, ...], int] = field(default_factory=dict)
    dates: list[tuple[str, str, str]] = field(default_factory=list)


def fold(scan: Scan, shapes: dict[tuple[Any, ...], int]) -> None:
    for key, n in shapes.items():
        scan.headers += n
        scan.signatures[_shape(*key[:7])[0]] += n
        scan.commas[key[7]] += n
        if key[0]:
            scan.ios += n


def scan_block(scan: Scan, shapes: dict[tuple[Any, ...], int], state: list[str],
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

def accepted_signatures(scan: Scan) -> set[tuple[Any, ...]]:
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

#: A clock reading: hour, minute, second, seconds since midnight, and "MM:SS".
Clock = tuple[int, int, int, int, str]
#: A message as the parse finds it: its line, date (year, month, day), clock, whether iOS wrote
#: it, the rest of its first line and its later lines, and the report entries due before it is
#: built (lines inside it that look like headers), in the order a line-by-line reading makes
#: them.
Raw = tuple[int, tuple[int, int, int], Clock, bool, str, "list[str] | None",
            "list[tuple[Any, ...]] | None"]


def clock(hour: int, minute: int, second: int) -> Clock:
    return hour, minute, second, hour * 3600 + minute * 60 + second, f"{minute:02d}:{second:02d}"


def raw_messages(chat: Input, options: ReadOptions, report: ImportReport, order: str,
                 accepted: set[tuple[Any, ...]],
                 tally: Tally | None = None) -> Iterator[list[Raw]]:
    """The messages of ``chat`` as :data:`Raw` tuples, one list per block of lines.

    A file whose headers all have one Android shape is read a block at a time with that
    shape's pattern (:func:`~heard.ingest._wa_shapes.line_header`), which finds the same
    headers as the every-shape pattern line by line, at a fraction of the cost; the lines
    between two headers are then checked one by one (a header-shaped line of another shape is
    reported). Other files are read line by line.
    """
    parser = _Parser(options, report, order, accepted)
    fast = len(accepted) == 1 and line_header(next(iter(accepted))) is not None
    step = parser.fast_block if fast else parser.general_block
    for start, block in read_guard(chat, iter_blocks(chat, options.encoding)):
        step(start, block)
        if parser.batch:
            yield parser.batch
            parser.batch = []
    parser.close()
    if parser.batch:
        yield parser.batch
    if tally is not None:
        parser.fill(tally)


class _Parser:
    """The state of one parse: the message being collected, and the header counts."""

    def __init__(self, options: ReadOptions, report: ImportReport, order: str,
                 accepted: set[tuple[Any, ...]]) -> None:
        self.report = report
        self.order = order
        self.accepted = accepted
        self.limit = options.max_chars
        self.batch: list[Raw] = []
        # header punctuation groups -> [accepted, pm, count]
        self.shapes: dict[tuple[Any, ...], list[Any]] = {}
        self.dates: list[tuple[str, str, str]] = []
        self.days: dict[tuple[str, str, str], tuple[int, int, int] | None] = {}
        self.last_key = ("", "", "")
        self.ymd: tuple[int, int, int] | None = None
        # the message being collected: line, (date, clock, iOS), first line, later lines, the
        # report entries its later lines made, and its length so far
        self.line = 0
        self.head: tuple[Any, Any, bool] = ((0, 0, 0), clock(0, 0, 0), False)
        self.rest = ""
        self.more: list[str] | None = None
        self.acts: list[tuple[Any, ...]] | None = None
        self.size = 0
        # one-shape reading: headers counted, the first one's groups as their key, and the
        # clock readings met (text -> clock, None when impossible)
        self.fast_count = 0
        self.fast_key: tuple[Any, ...] | None = None
        self.clocks: dict[str, Clock | None] = {}

    def close(self) -> None:
        if self.line:
            self.batch.append((self.line, *self.head, self.rest, self.more, self.acts))
            self.line = 0

    def fill(self, tally: Tally) -> None:
        shapes = tally.shapes
        for key, shape in self.shapes.items():
            k = (key[0], key[1], key[2] is not None, *key[3:])
            shapes[k] = shapes.get(k, 0) + shape[2]
        if self.fast_key is not None:
            shapes[self.fast_key] = shapes.get(self.fast_key, 0) + self.fast_count
        tally.dates.extend(self.dates)

    def _date(self, d1: str, d2: str, d3: str) -> tuple[int, int, int] | None:
        last = self.last_key
        if d1 != last[0] or d2 != last[1] or d3 != last[2]:
            last = self.last_key = (d1, d2, d3)
            self.dates.append(last)
            days = self.days
            ymd = days.get(last, ...)  # type: ignore[arg-type]
            if ymd is ...:
                ymd = ordered_date(last, self.order)
                if len(days) > 100_000:
                    days.clear()
                days[last] = ymd
            self.ymd = ymd  # type: ignore[assignment]
        return self.ymd

    def _odd(self, lineno: int, why: str, text: str) -> bool:
        """A header-shaped line that starts no message: reported; True when it is body text."""
        if not self.line:
            self.report.skip(lineno, why, text)
            return False
        act = (self.report.flag, lineno, why + "; read as part of the message before", text)
        if self.acts is None:
            self.acts = [act]
        else:
            self.acts.append(act)
        return True

    def _body(self, text: str) -> None:
        # Past the limit the message will be skipped (and reported) anyway: stop holding text.
        if self.size <= self.limit:
            if self.more is None:
                self.more = [text]
            else:
                self.more.append(text)
            self.size += len(text) + 1

    def _line(self, lineno: int, text: str, m: re.Match[str] | None) -> None:
        """One line read line by line, ``m`` its every-shape header match."""
        if m is not None:
            br, d1, sep, _, d2, d3, _, _, word, h, tsep, mi, sec, ampm, term = m.groups()
            key = (br, sep, sec, ampm, tsep, word, term)
            shape = self.shapes.get(key)
            if shape is None:
                sig, pm_ = _shape(br, sep, sec is not None, ampm, tsep, word, term)
                shape = self.shapes[key] = [sig in self.accepted, pm_, 0]
            shape[2] += 1
            ymd = self._date(d1, d2, d3)
            hour = int(h)
            pm = shape[1]
            if pm is not None:
                # "13:19 PM" and "00:08 a. m.": a 24-hour time beside the token
                hour = (hour % 12) + (12 if pm else 0) if 0 < hour <= 12 else hour
            minute = int(mi)
            second = int(sec) if sec else 0
            if not shape[0]:
                why = "shaped like a message header, but not like this file's headers"
            elif ymd is None:
                why = f"shaped like a message header, but its date is impossible as {self.order}"
            elif hour > 23 or minute > 59 or second > 59:
                why = "shaped like a message header, but its time is impossible"
            else:
                if self.line:
                    self.batch.append((self.line, *self.head, self.rest, self.more, self.acts))
                self.line = lineno
                self.head = (ymd, clock(hour, minute, second), bool(br))
                self.rest = text[m.end():]
                self.more = self.acts = None
                self.size = len(self.rest)
                return
            if self._odd(lineno, why, text):
                self._body(text)
            return
        if not self.line:
            if text.strip():
                self.report.skip(lineno, "text before the first WhatsApp message line", text)
            return
        self._body(text)

    def general_block(self, start: int, block: str) -> None:
        match = _patterns().header.match
        line = self._line
        lineno = start - 1
        lines = block.split("\n")
        lines.pop()
        for text in lines:
            lineno += 1
            line(lineno, text, match(text))

    def fast_block(self, start: int, block: str) -> None:
        """A block read with the file's one header shape (see :func:`raw_messages`)."""
        rx = line_header(next(iter(self.accepted)))
        assert rx is not None
        index = rx.groupindex
        at = index["date"], index["clock"], index["rest"]
        parts = index["d1"], index["d2"], index["d3"]
        clocks = self.clocks
        general = _patterns().header.match
        line = self._line
        append = self.batch.append
        text = "\n" + block
        cur = 0
        lineno = start - 1
        count = 0
        # The message being collected and the last date stay in locals; ``self`` holds them
        # only around the (rare) lines between two headers and at the end of the block.
        last_date = None
        ymd = self.ymd
        p_line, p_head, p_rest, p_more, p_acts, p_size = (
            self.line, self.head, self.rest, self.more, self.acts, self.size)
        for m in rx.finditer(text):
            s = m.start()
            if s > cur:  # lines between two headers
                self.line, self.head, self.rest, self.more, self.acts, self.size = (
                    p_line, p_head, p_rest, p_more, p_acts, p_size)
                self.ymd = ymd
                for other in text[cur + 1:s].split("\n"):
                    lineno += 1
                    line(lineno, other, general(other))
                p_line, p_head, p_rest, p_more, p_acts, p_size = (
                    self.line, self.head, self.rest, self.more, self.acts, self.size)
                ymd = self.ymd
                last_date = None  # those lines may have moved the last date
            lineno += 1
            cur = m.end()
            count += 1
            date, reading, rest = m.group(*at)
            if date != last_date:
                if self.fast_key is None:
                    g = m.groupdict()
                    self.fast_key = (None, g["sep"], g.get("s") is not None, g.get("ampm"),
                                     g["tsep"], g.get("word"), g["term"])
                last_date = date
                self.ymd = ymd
                ymd = self._date(*m.group(*parts))
            time = clocks.get(reading, ...)
            if time is ...:
                time = self._clock(m)
                if len(clocks) > 100_000:
                    clocks.clear()
                clocks[reading] = time
            if ymd is not None and time is not None:
                if p_line:
                    append((p_line, *p_head, p_rest, p_more, p_acts))
                p_line = lineno
                p_head = (ymd, time, False)
                p_rest = rest
                p_more = p_acts = None
                p_size = len(rest)
                continue
            self.line, self.head, self.rest, self.more, self.acts, self.size = (
                p_line, p_head, p_rest, p_more, p_acts, p_size)
            whole = text[s + 1:cur]
            why = (f"shaped like a message header, but its date is impossible as {self.order}"
                   if ymd is None else "shaped like a message header, but its time is impossible")
            if self._odd(lineno, why, whole):
                self._body(whole)
            p_line, p_head, p_rest, p_more, p_acts, p_size = (
                self.line, self.head, self.rest, self.more, self.acts, self.size)
        self.line, self.head, self.rest, self.more, self.acts, self.size = (
            p_line, p_head, p_rest, p_more, p_acts, p_size)
        self.ymd = ymd
        self.fast_count += count
        if cur < len(text) - 1:
            for other in text[cur + 1:-1].split("\n"):
                lineno += 1
                line(lineno, other, general(other))

    @staticmethod
    def _clock(m: re.Match[str]) -> Clock | None:
        """The clock reading of a one-shape header match; None when it is impossible."""
        g = m.groupdict()
        hour = int(g["h"])
        if g.get("ampm") is not None:
            pm = is_pm(g["ampm"])
            # "13:19 PM" and "00:08 a. m.": a 24-hour time beside the token
            hour = (hour % 12) + (12 if pm else 0) if 0 < hour <= 12 else hour
        minute = int(g["mi"])
        second = int(g["s"]) if g.get("s") else 0
        if hour > 23 or minute > 59 or second > 59:
            return None
        return clock(hour, minute, second)


def parse(chat: Input, options: ReadOptions, report: ImportReport, order: str,
          accepted: set[tuple[Any, ...]], original: Input,
          tally: Tally | None = None) -> Iterator[Message]:
    """The messages of ``chat``, read with the settled date ``order`` and header shapes."""
    emitter = _Emitter(options.conversation_id or original.stem, chat.name, options.tz, report)
    emit = emitter.emit
    tzinfo = emitter.tzinfo
    for batch in raw_messages(chat, options, report, order, accepted, tally):
        for line, (y, mo, d), (h, mi, s, _, _), ios, rest, more, acts in batch:
            if acts:
                for act in acts:
                    act[0](*act[1:])
            yield emit(line, datetime(y, mo, d, h, mi, s, tzinfo=tzinfo), ios, rest, more)
