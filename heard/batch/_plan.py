"""Where each couple is in the input, and which couples go together into one part.

The client reads only what it needs to split the work: for a JSON Lines file, each line's couple
(``couple_id``, else ``conversation_id``) and its byte offsets; for a Parquet data set, the two
key columns; for a folder of exports, the file names and sizes. A :class:`Unit` says where one
couple's messages are (byte ranges with their first line number, or row ranges, or an export),
so that a worker reads its part's slice and nothing else. A couple whose lines are spread over
the file (interleaved with others) has several ranges, read in file order: nothing is sorted.

Parts are whole couples in the order they first appear, filled up to about ``part_messages``
messages. The plan is a pure function of the input and ``part_messages``: a resumed run makes the
same plan and checks it against the digest kept in the output folder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from heard.errors import ExportFormatError, InputError, OptionError

__all__ = ["Part", "Plan", "Unit", "make_plan"]

#: Bytes of an export counted as one message when weighing a folder's exports into parts.
EXPORT_BYTES_PER_MESSAGE = 100


@dataclass(frozen=True)
class Unit:
    """One couple's place in the input.

    ``kind`` is "jsonl" (``ranges`` of ``(start_byte, end_byte, lines_before)``), "parquet"
    (``ranges`` of ``(file, first_row, end_row)``) or "export" (one export of a folder, read
    whole); ``messages`` counts lines or rows (for an export, its size over
    :data:`EXPORT_BYTES_PER_MESSAGE`).
    """

    couple_id: str
    kind: str
    path: str
    ranges: tuple[tuple[Any, ...], ...] = ()
    messages: int = 0


@dataclass(frozen=True)
class Part:
    """A part of the batch: whole couples, read, coded and written by one task."""

    number: int
    units: tuple[Unit, ...]

    @property
    def messages(self) -> int:
        return sum(u.messages for u in self.units)


@dataclass
class Plan:
    """The input's couples split into parts, with a digest that a resumed run checks."""

    source: str
    kind: str
    parts: list[Part] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)

    @property
    def couples(self) -> int:
        return sum(len(p.units) for p in self.parts)

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.parts)

    def digest(self) -> str:
        """sha256 of every part's couples and ranges: equal plans read the same slices."""
        h = hashlib.sha256()
        for p in self.parts:
            h.update(json.dumps([p.number, [asdict(u) for u in p.units]]).encode())
        return h.hexdigest()


def input_kind(path: Path) -> str:
    """"folder", "parquet" or "jsonl"; E601 for anything else."""
    from heard.ingest import is_folder_of_exports

    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if not _hidden(p, path))
        if files:
            return "parquet"
        if is_folder_of_exports(path):
            return "folder"
        raise InputError.from_code("E601", path=path, detail="a folder that holds one export")
    if path.suffix.lower() == ".parquet":
        return "parquet"
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError.from_code("E601", path=path, detail="JSON Lines in UTF-16; save it as "
                                   "UTF-8")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    raise InputError.from_code("E601", path=path, detail="one export, not a study's corpus; "
                               "`heard analyze` takes one couple")


def _hidden(p: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in p.relative_to(root).parts)


def make_plan(source: str | Path, *, part_messages: int, format: str | None = None) -> Plan:
    """Find every couple of ``source`` and split them into parts of about ``part_messages``."""
    if part_messages < 1:
        raise OptionError.from_code("E607", option="--part-messages", detail="1 or more",
                                    value=part_messages)
    path = Path(source)
    if not path.exists():
        raise InputError.from_code("E001", path=path)
    kind = input_kind(path)
    if kind == "jsonl":
        units = _jsonl_units(path)
    elif kind == "parquet":
        units = _parquet_units(path)
    else:
        units = _folder_units(path, format)
    plan = Plan(source=str(path), kind=kind, fingerprint=_fingerprint(path, kind))
    plan.parts = list(_parts(units, part_messages))
    return plan


def _parts(units: Iterator[Unit], size: int) -> Iterator[Part]:
    bucket: list[Unit] = []
    n = number = 0
    for u in units:
        bucket.append(u)
        n += u.messages
        if n >= size:
            yield Part(number, tuple(bucket))
            bucket, n, number = [], 0, number + 1
    if bucket:
        yield Part(number, tuple(bucket))


def _fingerprint(path: Path, kind: str) -> dict[str, Any]:
    """Sizes and modification times of what is read: a changed input is not resumed."""
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
    return {"kind": kind, "files": [[str(p.relative_to(path) if path.is_dir() else p.name),
                                     p.stat().st_size, p.stat().st_mtime_ns] for p in files]}


# --------------------------------------------------------------------------- JSON Lines


def _line_key(line: bytes, stem: str) -> str | None:
    """The couple of one canonical line, as :func:`heard.api.analyze_many` keys it; None when
    the line is not a JSON object (the reader then reports it, with its number)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    cid = obj.get("couple_id")
    if cid not in (None, ""):
        return str(cid)
    conv = obj.get("conversation_id")
    return str(conv) if conv not in (None, "") else stem


def _jsonl_units(path: Path) -> Iterator[Unit]:
    """One unit per couple, in order of first appearance; one pass, offsets only in memory."""
    stem = path.stem
    ranges: dict[str, list[list[int]]] = {}
    counts: dict[str, int] = {}
    current: str | None = None
    offset = 0
    with path.open("rb") as f:
        for lineno, line in enumerate(f):
            end = offset + len(line)
            if line.strip():
                key = _line_key(line, stem)
                if key is None:  # a broken line belongs to the couple it sits in
                    key = current if current is not None else f"line {lineno + 1}"
                if key == current:
                    ranges[key][-1][1] = end
                else:
                    ranges.setdefault(key, []).append([offset, end, lineno])
                    current = key
                counts[key] = counts.get(key, 0) + 1
            elif current is not None:  # a blank line stays inside its run
                ranges[current][-1][1] = end
            offset = end
    for key, rs in ranges.items():
        yield Unit(key, "jsonl", str(path), tuple(tuple(r) for r in rs), counts[key])


# --------------------------------------------------------------------------- Parquet


def parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.parquet") if not _hidden(p, path))


def _parquet_units(path: Path) -> Iterator[Unit]:
    import pyarrow.parquet as pq

    ranges: dict[str, list[list[Any]]] = {}
    counts: dict[str, int] = {}
    current: tuple[str, str] | None = None
    for file in parquet_files(path):
        pf = pq.ParquetFile(file)
        names = set(pf.schema_arrow.names)
        for column in ("sender", "text"):
            if column not in names:
                raise ExportFormatError.from_code("E605", path=file, column=column)
        cols = [c for c in ("couple_id", "conversation_id") if c in names]
        if not cols:
            raise ExportFormatError.from_code("E605", path=file, column="conversation_id")
        row = 0
        for batch in pf.iter_batches(batch_size=65_536, columns=cols):
            data = {c: batch.column(c).to_pylist() for c in cols}
            for i in range(batch.num_rows):
                cid = data["couple_id"][i] if "couple_id" in data else None
                if cid in (None, ""):
                    cid = data["conversation_id"][i] if "conversation_id" in data else None
                key = str(cid) if cid not in (None, "") else file.stem
                if current == (str(file), key):
                    ranges[key][-1][2] = row + 1
                else:
                    ranges.setdefault(key, []).append([str(file), row, row + 1])
                    current = (str(file), key)
                counts[key] = counts.get(key, 0) + 1
                row += 1
    for key, rs in ranges.items():
        yield Unit(key, "parquet", str(path), tuple(tuple(r) for r in rs), counts[key])


# --------------------------------------------------------------------------- folder


def _folder_units(path: Path, format: str | None) -> Iterator[Unit]:
    """One unit per export, named as ``heard import DIR`` names its couple."""
    from heard.ingest import folder_entries

    for entry in folder_entries(path, format=format):
        p = entry.path
        size = p.stat().st_size if p.is_file() else sum(
            q.stat().st_size for q in p.rglob("*") if q.is_file())
        # an export that no reader takes is read again by its worker, which reports it
        yield Unit(entry.couple_id, "export", str(p), (),
                   max(1, size // EXPORT_BYTES_PER_MESSAGE))

