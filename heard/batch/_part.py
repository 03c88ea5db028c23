"""One part of a batch: read its couples, code them, analyze each, write its files.

This is the task a Dask worker runs, and what ``--workers 0`` runs in the calling process; both
write the same bytes. A part is idempotent: its files are written to temporary names and renamed
into place, and its record in ``_parts/`` is written last, so a task that runs twice (its first
worker died after writing) replaces its own files and never adds rows.

Each couple gets the analysis :func:`heard.analyze_many` gives it in a single process: the
part's messages are coded in batches by one engine (loaded once per worker process and kept),
then ``analyze_many`` analyzes them couple by couple with the codes they carry. A couple whose
slice of the input is broken, or that can't be analyzed (one sender, a third person), becomes a
row of the errors table with its numbered error; the part goes on.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heard.api import analyze_many, code_batches, coder_settings
from heard.batch._plan import Part
from heard.batch._read import read_unit
from heard.batch._tables import (
    TABLES,
    couple_row,
    message_rows,
    partner_table_rows,
    schema,
    write_atomic,
    write_json_atomic,
)
from heard.errors import HeardError
from heard.ingest import ReadOptions
from heard.model import Corpus, Message, Step

__all__ = ["Settings", "part_files", "run_part"]

_ENGINES: dict[str, Step] = {}


@dataclass(frozen=True)
class Settings:
    """What every part runs with (the same for every part, and checked on --resume)."""

    engine: str | None = None
    given_codes: bool = False
    dynamics: bool = True
    n_permutations: int = 1000
    seed: int = 0
    format: str | None = None
    options: ReadOptions = field(default_factory=ReadOptions)

    def to_dict(self) -> dict[str, Any]:
        o = self.options
        return {"engine": self.engine, "given_codes": self.given_codes,
                "dynamics": self.dynamics, "n_permutations": self.n_permutations,
                "seed": self.seed, "format": self.format,
                "options": {"encoding": o.encoding, "tz": o.tz, "date_order": o.date_order,
                            "time_format": o.time_format, "max_chars": o.max_chars}}


def part_files(out: Path, number: int) -> dict[str, Path]:
    """The files of part ``number``: each table's, hive-partitioned by part, and its record."""
    name = f"part-{number:05d}"
    # zero-padded, so that a listing (and pyarrow's reading order) is part order
    files = {t: out / t / f"part={number:05d}" / f"{name}.parquet" for t in TABLES}
    files["record"] = out / "_parts" / f"{name}.json"
    return files


def _engine(key: str | None) -> Step:
    """The engine of this worker process, loaded on its first part and kept for the rest."""
    from heard.coding import default_engine, make_engine

    name = key or default_engine().key
    if name not in _ENGINES:
        engine = make_engine(name)
        engine.fit(Corpus())
        _ENGINES[name] = engine
    return _ENGINES[name]


def _code(couples: list[tuple[str, list[Message]]], engine: Step) -> None:
    """Code the couples' messages in place, small couples together (as ``heard.code_many``)."""
    for _ in code_batches(couples, engine):
        pass


def _error(couple_id: str, part: int, exc: BaseException) -> dict[str, Any]:
    code = exc.code if isinstance(exc, HeardError) else type(exc).__name__
    text = str(exc)
    if isinstance(exc, HeardError) and text.startswith(f"{code}: "):
        text = text[len(code) + 2:]
    return {"couple_id": couple_id, "part": part, "code": code, "message": text}


def run_part(part: Part, settings: Settings, out: str) -> dict[str, Any]:
    """Read, code, analyze and write one part; returns its record (also written to
    ``_parts/``): counts, errors, code counts, and each file's size and sha256."""
    from threadpoolctl import threadpool_limits

    # one thread of numerical work per task, whatever runs it: a worker of one thread, or the
    # calling process with --workers 0 (the same sums in the same order: the same bytes)
    with threadpool_limits(1):
        return _run_part(part, settings, Path(out))


def _run_part(part: Part, settings: Settings, out: Path) -> dict[str, Any]:
    import pyarrow as pa

    errors: list[dict[str, Any]] = []
    read: list[tuple[str, list[Message]]] = []
    for unit in part.units:
        try:
            read.append((unit.couple_id, read_unit(unit, settings.options, settings.format)))
        except HeardError as exc:
            errors.append(_error(unit.couple_id, part.number, exc))
    engine = None if settings.given_codes else _engine(settings.engine)
    coder = coder_settings(type(engine).__name__) if engine is not None else \
        coder_settings("given")
    if engine is not None:
        try:
            _code(read, engine)
        except HeardError:  # find the couple it came from, and code the others
            coded = []
            for cid, msgs in read:
                try:
                    _code([(cid, msgs)], engine)
                    coded.append((cid, msgs))
                except HeardError as exc:
                    errors.append(_error(cid, part.number, exc))
            read = coded
    tables: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    sizes: list[int] = []
    codes: Counter[str] = Counter()
    couples_with: Counter[str] = Counter()
    messages = human = concerns = analyzed = 0
    # each couple's analysis becomes rows at once and is dropped: one analysis in memory
    for r in (r for cid, msgs in read for r in _analyze(cid, msgs, settings, part.number,
                                                          errors)):
        if r.analysis is None:
            errors.append(_error(r.couple_id, part.number, _parse(r.error)))
            continue
        a = r.analysis
        a.settings.update(coder)
        analyzed += 1
        rows = message_rows(a, r.couple_id)
        tables["messages"] += rows
        sizes.append(len(rows))
        tables["couples"].append(couple_row(a, r.couple_id, r.conversation_ids, r.senders,
                                            r.messages))
        tables["partners"] += partner_table_rows(a, r.couple_id)
        messages += r.messages
        concerns += bool(a.safety.triggered)
        seen: set[str] = set()
        for m in a.corpus.iter_messages(lambda m: m.is_human):
            human += 1
            codes.update(m.code_names)
            seen |= m.code_names
        couples_with.update(seen)
    files = part_files(out, part.number)
    record: dict[str, Any] = {
        "part": part.number, "couples": len(part.units), "analyzed": analyzed,
        "failed": len(errors),
        "messages": messages, "human_messages": human, "safety_concerns": concerns,
        "codes": dict(sorted(codes.items())), "couples_with_code": dict(sorted(
            couples_with.items())), "errors": errors, "files": {}}
    for t in TABLES:
        table = pa.Table.from_pylist(tables[t], schema=schema(t))
        write_atomic(files[t], table, row_groups=sizes if t == "messages" else None)
        record["files"][t] = {"bytes": files[t].stat().st_size, "sha256": file_sha(files[t])}
    write_json_atomic(files["record"], record)
    return record


def _analyze(cid: str, msgs: list[Message], settings: Settings, part: int,
             errors: list[dict[str, Any]]) -> list[Any]:
    """The couple's result as :func:`heard.analyze_many` gives it, with the codes it carries."""
    try:
        return list(analyze_many(msgs, presorted=True, given_codes=True,
                                 dynamics=settings.dynamics,
                                 n_permutations=settings.n_permutations, seed=settings.seed))
    except HeardError as exc:
        errors.append(_error(cid, part, exc))
        return []


class _Reported(HeardError):
    pass


def _parse(text: str | None) -> HeardError:
    """A result's error line ("E013: ...") back as an error with its number."""
    code, _, message = (text or "").partition(": ")
    return _Reported(message, code=code) if code.startswith("E") else _Reported(text or "")


def file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
