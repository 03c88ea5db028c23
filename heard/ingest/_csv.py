"""Generic CSV: one row per message; timestamp, sender and text columns (mapping configurable)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from heard.errors import InputError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._limits import MAX_CSV_FIELD_CHARS
from heard.ingest._text import check_text, iter_lines
from heard.ingest._time import parse_timestamp
from heard.model import KINDS, Message, Source

__all__ = ["CsvReader", "checked_rows", "guess_columns"]

#: Column names tried, in order, for each field when ``--map`` does not name one.
COLUMN_GUESSES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "datetime", "date_time", "time", "date", "sent_at", "sent",
                  "created_at", "created"),
    "sender": ("sender", "author", "from", "sender_name", "name", "speaker", "user"),
    "text": ("text", "message", "body", "content", "msg", "message_text"),
    "conversation_id": ("conversation_id", "conversation", "chat_id", "thread_id", "thread"),
    "message_id": ("message_id", "id", "msg_id"),
    "kind": ("kind",),
    "reply_to": ("reply_to", "in_reply_to"),
}
FIELDS = tuple(COLUMN_GUESSES)


def guess_columns(header: list[str], explicit: dict[str, str]) -> dict[str, int]:
    """Map canonical fields to column indexes: ``explicit`` first, then the usual names."""
    lowered = {h.strip().lower(): i for i, h in enumerate(header)}
    exact = {h.strip(): i for i, h in enumerate(header)}
    mapping: dict[str, int] = {}
    for field_name, column in explicit.items():
        idx = exact.get(column, lowered.get(column.lower()))
        if idx is not None:
            mapping[field_name] = idx
    for field_name, names in COLUMN_GUESSES.items():
        if field_name in mapping or field_name in explicit:
            continue
        for name in names:
            if name in lowered and lowered[name] not in mapping.values():
                mapping[field_name] = lowered[name]
                break
    return mapping


@register
class CsvReader(Reader):
    name = "csv"
    key = "heard.reader.csv.v1"
    description = "CSV with timestamp, sender and text columns (--map FIELD=COLUMN to rename)"

    def sniff(self, source: Input) -> float:
        if source.is_dir or source.is_zip:
            return 0.0
        first = source.head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
        has_cols = any(n in first for n in COLUMN_GUESSES["sender"]) and any(
            n in first for n in COLUMN_GUESSES["text"])
        if source.suffix in (".csv", ".tsv"):
            return 0.8 if has_cols else 0.6
        if has_cols and any(d in first for d in ",;\t"):
            return 0.5
        return 0.0

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        check_text(source)
        for key in options.column_map:
            if key not in FIELDS:
                raise InputError.from_code(
                    "E030", option="--map",
                    detail=f"unknown field '{key}'; fields are {', '.join(FIELDS)}",
                )
        lines = iter_lines(source, options.encoding)
        dialect = self._dialect(source)
        numbered = _LineCounter(lines)
        rows = checked_rows(csv.reader(numbered, dialect), numbered, source.name)
        try:
            header = next(rows)
        except StopIteration:
            raise InputError.from_code("E002", path=source.name) from None
        mapping = guess_columns(header, options.column_map)
        for need in ("sender", "text"):
            if need not in mapping:
                raise InputError.from_code(
                    "E010", path=source.name, what=need, columns=", ".join(header) or "none")
        default_cid = options.conversation_id or source.stem
        ncols = len(header)
        row_start = numbered.line + 1
        for row in rows:
            line = row_start
            row_start = numbered.line + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < ncols:
                report.skip(line, f"row has {len(row)} columns, the header has {ncols}",
                            ",".join(row))
                continue

            def cell(field_name: str, row: list[str] = row) -> str:
                idx = mapping.get(field_name)
                return row[idx] if idx is not None and idx < len(row) else ""

            timestamp = None
            basis, tz = "none", None
            raw_ts = cell("timestamp")
            if raw_ts.strip():
                parsed = parse_timestamp(raw_ts, tz=options.tz, time_format=options.time_format)
                if parsed is None:
                    raise InputError.from_code("E011", path=source.name, line=line,
                                               value=raw_ts[:40])
                timestamp, basis, tz = parsed
                if tz == "UTC (assumed)":
                    report.warn("timestamps without a time zone were read as UTC; "
                                "pass --tz to place them in your zone")
            kind = cell("kind").strip() or "text"
            if kind not in KINDS:
                report.flag(line, f"unknown kind '{kind}', read as text", kind)
                kind = "text"
            cid = cell("conversation_id").strip() or default_cid
            mid = cell("message_id").strip() or f"{cid}-{line}"
            yield Message(
                conversation_id=cid,
                message_id=mid,
                sender=cell("sender").strip(),
                timestamp=timestamp,
                text=cell("text").replace("\r\n", "\n").replace("\r", "\n"),
                kind=kind,
                reply_to=cell("reply_to").strip() or None,
                source=Source(format="csv", path=source.name, line=line, time_basis=basis, tz=tz),
            )

    @staticmethod
    def _dialect(source: Input) -> type[csv.Dialect] | csv.Dialect:
        sample = source.head[:16384].decode("utf-8", "replace")
        if source.suffix == ".tsv":
            return csv.excel_tab
        try:
            return csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n", delimiters=",;\t|")
        except csv.Error:
            return csv.excel


def checked_rows(rows: Iterator[list[str]], counter: Any, label: str) -> Iterator[list[str]]:
    """The rows of ``rows`` (a ``csv.reader`` fed by ``counter``, which counts the lines it
    gave); a row the csv module refuses is E045, naming the line the row starts on."""
    csv.field_size_limit(MAX_CSV_FIELD_CHARS)  # the default; set in case a library raised it
    while True:
        start = counter.line + 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            detail = str(exc)
            if "field limit" in detail:
                detail = (f"a field runs past {MAX_CSV_FIELD_CHARS:,} characters, so a quote "
                          "is probably never closed")
            raise InputError.from_code("E045", path=label, line=start, detail=detail) from exc
        yield row


class _LineCounter:
    """Feeds numbered lines to ``csv.reader`` and remembers the last line number given."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.line = 0

    def __iter__(self) -> _LineCounter:
        return self

    def __next__(self) -> str:
        self.line, text = next(self._lines)
        return text + "\n"
