"""Plain transcripts: ``Name: text`` lines, optionally after a timestamp.

Accepted line shapes::

    Sam: are you coming?
    [2024-03-02 21:14] Sam: are you coming?
    2024-03-02 21:14 - Sam: are you coming?
    21:14 Sam: are you coming?

A line without a speaker continues the message before it. Because "PS: call me" also looks like
a speaker line, speakers are learned first: a name counts as a speaker when it begins at least
two lines, or is one of the two most frequent names. Other "Name:" lines are read as
continuations and listed in the import report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from heard.errors import InputError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._text import check_text, iter_lines, normalize_spaces, strip_marks
from heard.ingest._time import parse_timestamp, place_wall_clock
from heard.model import Message, Source

__all__ = ["TranscriptReader"]

_TIME = r"\d{1,2}[:.]\d{2}(?::\d{2})?(?:\s?[AaPp]\.?\s?[Mm]\.?)?"
_DATE = r"\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
_STAMP = rf"(?:(?:{_DATE})(?:[ T,]+{_TIME})?(?:Z|[+-]\d{{2}}:?\d{{2}})?|{_TIME})"
_LINE = re.compile(
    rf"^\s*(?:\[(?P<ts1>{_STAMP})\]|(?P<ts2>{_STAMP}))?\s*(?:[-–—|]\s*)?"
    r"(?P<name>[^\W\d_][^:\n]{0,39}?)\s*:\s?(?P<text>.*)$"
)
_NAME_OK = re.compile(r"^[^\W\d_][\w .'’\-]*$")


def _parse_line(text: str) -> re.Match[str] | None:
    m = _LINE.match(normalize_spaces(strip_marks(text)))
    if m and _NAME_OK.match(m.group("name").strip()) and len(m.group("name").split()) <= 4:
        return m
    return None


@register
class TranscriptReader(Reader):
    name = "transcript"
    key = "heard.reader.transcript.v1"
    description = "plain text, one 'Name: text' line per message, optional leading timestamps"

    def sniff(self, source: Input) -> float:
        if source.is_dir or source.is_zip:
            return 0.0
        text = source.head.decode("utf-8", "replace")
        lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
        if not lines:
            return 0.0
        hits = sum(1 for ln in lines if _parse_line(ln))
        share = hits / len(lines)
        return 0.55 * share if share >= 0.5 else 0.0

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        check_text(source)
        speakers = self._speakers(source, options)
        if not speakers:
            first = next((n for n, t in iter_lines(source, options.encoding) if t.strip()), 1)
            raise InputError.from_code("E012", path=source.name, line=first)
        cid = options.conversation_id or source.stem
        current: dict | None = None
        last_date: datetime | None = None
        for lineno, text in iter_lines(source, options.encoding):
            m = _parse_line(text)
            name = m.group("name").strip() if m else None
            if m and name in speakers:
                if current:
                    yield self._emit(current, source, cid)
                ts_raw = m.group("ts1") or m.group("ts2")
                stamp, basis, tz = None, "none", None
                if ts_raw:
                    stamp, basis, tz, last_date = self._stamp(ts_raw, options, last_date)
                    if stamp is None:
                        report.flag(lineno, "unreadable timestamp; message kept without time",
                                    ts_raw)
                    elif tz == "UTC (assumed)":
                        report.warn("timestamps without a time zone were read as UTC; "
                                    "pass --tz to place them in your zone")
                current = {"line": lineno, "sender": name, "parts": [m.group("text")],
                           "timestamp": stamp, "basis": basis, "tz": tz}
            elif current is None:
                if text.strip():
                    report.skip(lineno, "text before the first speaker line", text)
            else:
                if m:
                    report.flag(lineno, f"'{name}:' is not a known speaker; read as a "
                                "continuation of the message before", text)
                current["parts"].append(text)
        if current:
            yield self._emit(current, source, cid)

    @staticmethod
    def _emit(current: dict, source: Input, cid: str) -> Message:
        parts = current["parts"]
        while len(parts) > 1 and not parts[-1].strip():
            parts.pop()
        return Message(
            conversation_id=cid,
            message_id=f"{cid}-{current['line']}",
            sender=current["sender"],
            timestamp=current["timestamp"],
            text="\n".join(parts),
            source=Source(format="transcript", path=source.name, line=current["line"],
                          time_basis=current["basis"], tz=current["tz"]),
        )

    @staticmethod
    def _speakers(source: Input, options: ReadOptions) -> set[str]:
        counts: Counter[str] = Counter()
        for _, text in iter_lines(source, options.encoding):
            m = _parse_line(text)
            if m:
                counts[m.group("name").strip()] += 1
        # The two most frequent names always speak (a one-to-one chat); any other name must
        # begin at least two lines to count, so a stray "PS:" stays inside its message.
        ranked = [name for name, _ in counts.most_common()]
        return set(ranked[:2]) | {name for name in ranked[2:] if counts[name] >= 2}

    @staticmethod
    def _stamp(
        raw: str, options: ReadOptions, last_date: datetime | None
    ) -> tuple[datetime | None, str, str | None, datetime | None]:
        raw = raw.strip()
        if re.fullmatch(_TIME, raw):
            # A bare clock time: it belongs to the last date seen, if any.
            if last_date is None:
                return None, "none", None, None
            t = _clock(raw)
            if t is None:
                return None, "none", None, last_date
            naive = last_date.replace(hour=t[0], minute=t[1], second=t[2], tzinfo=None)
            stamp, basis, tz = place_wall_clock(naive, options.tz)
            return stamp, basis, tz, last_date
        parsed = parse_timestamp(raw.replace(",", ""), tz=options.tz,
                                 time_format=options.time_format)
        if parsed is None:
            return None, "none", None, last_date
        stamp, basis, tz = parsed
        return stamp, basis, tz, stamp


def _clock(raw: str) -> tuple[int, int, int] | None:
    m = re.match(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?\s?([AaPp])?", raw)
    if not m:
        return None
    hour, minute, sec = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    ampm = (m.group(4) or "").lower()
    if ampm == "p" and hour < 12:
        hour += 12
    elif ampm == "a" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or sec > 59:
        return None
    return hour, minute, sec
