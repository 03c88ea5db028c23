"""A worker reads its part's couples, and nothing else of the input.

Every kind of input goes through heard's canonical JSON Lines reader, so a couple reads the same
here as ``heard import`` and ``heard analyze`` read it: a JSON Lines slice is handed to the reader
with the number of lines before it (errors and message ids keep the file's line numbers);
Parquet rows become canonical lines (row numbers stand for line numbers); one export of a
folder becomes the records ``heard import DIR`` writes for it (the couple's id on every message,
conversation ids prefixed with it).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from heard.batch._plan import Unit
from heard.ingest import FolderEntry, Input, ReadOptions, read_export
from heard.model import Message, message_to_record, record_to_json

__all__ = ["read_unit"]


def read_unit(unit: Unit, options: ReadOptions, format: str | None = None) -> list[Message]:
    """The couple's messages, in input order. Raises the reader's numbered error when its slice
    of the input is broken (the caller puts it in the errors table).

    A couple in several ranges is read as one stream (the reader checks a couple as a whole:
    two senders, no third), with the lines between its ranges left blank, so that every line
    keeps its number in the file.
    """
    opts = dataclasses.replace(options, conversation_id=Path(unit.path).stem)
    if unit.kind == "jsonl":
        chunks: list[bytes] = []
        first = at = unit.ranges[0][2]
        with open(unit.path, "rb") as f:
            for start, end, before in unit.ranges:
                chunks.append(b"\n" * (before - at))
                f.seek(start)
                data = f.read(end - start)
                chunks.append(data)
                at = before + data.count(b"\n")
        return _read_lines(b"".join(chunks), unit.path, first, opts)
    if unit.kind == "parquet":
        files = list(dict.fromkeys(r[0] for r in unit.ranges))
        lines: list[str] = []
        first = at = unit.ranges[0][1] if len(files) == 1 else 0
        for file, lo, hi in unit.ranges:
            if len(files) == 1:  # row numbers stand for line numbers
                lines += [""] * (lo - at)
                at = hi
            lines += [record_to_json(r) for r in _parquet_rows(file, lo, hi)]
        name = files[0] if len(files) == 1 else \
            f"{unit.path} (couple {unit.couple_id}, its rows in file order)"
        return _read_lines(("\n".join(lines) + "\n").encode("utf-8"), name, first,
                           dataclasses.replace(opts, conversation_id=Path(files[0]).stem))
    return _read_export(unit, options, format)


def _read_lines(data: bytes, name: str, before: int, options: ReadOptions) -> list[Message]:
    source = Input(None, name=name, spool=io.BytesIO(data), line_offset=before)
    return list(read_export(source, format="jsonl", options=options))


def _parquet_rows(file: str, first: int, end: int) -> Iterator[dict[str, Any]]:
    """Rows ``first`` to ``end`` of a Parquet file, in batches: never the whole file."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(file)
    row = 0
    groups = []
    for g in range(pf.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if row + n > first and row < end:
            groups.append(g)
        elif not groups:
            row += n
    for batch in pf.iter_batches(batch_size=4096, row_groups=groups):
        lo, hi = max(first - row, 0), min(end - row, batch.num_rows)
        if lo < hi:
            for record in batch.slice(lo, hi - lo).to_pylist():
                yield {k: _plain(v) for k, v in record.items() if v is not None}
        row += batch.num_rows
        if row >= end:
            return


def _plain(value: Any) -> Any:
    """A Parquet value as canonical JSON has it (times as ISO 8601 text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read_export(unit: Unit, options: ReadOptions, format: str | None) -> list[Message]:
    """One export of a folder, as ``heard import DIR`` takes it (see :func:`folder_entries`)."""
    opts = dataclasses.replace(options, conversation_id=unit.couple_id)
    imp = read_export(unit.path, format=format, options=opts)
    entry = FolderEntry(Path(unit.path), unit.couple_id, imp=imp)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n"
                   for r in entry.records(message_to_record))
    return _read_lines(data.encode("utf-8"), unit.path, 0, opts)
