"""Run a batch: plan it, hand its parts to Dask (or run them here), resume, sum up.

The output folder::

    _batch.json                    the input's fingerprint, the settings, the plan's digest
    _parts/part-00042.json         part 42 is done: its counts, errors and files' sha256
    messages/part=00042/part-00042.parquet
    couples/part=00042/part-00042.parquet
    partners/part=00042/part-00042.parquet
    errors.parquet                 every couple that could not be read or analyzed
    summary.parquet                the corpus in figures

Why a part column and not one folder per couple: a study has thousands of couples, and a file
per couple and table would be tens of thousands of small files (slow to list, slow to read,
hard on shared file systems). A part is a few thousand messages of whole couples; inside its
file each couple is one row group, so ``pyarrow.parquet.read_table(out / "messages",
filters=[("part", "=", p), ("couple_id", "=", c)])`` opens one file and reads one row group,
and :func:`read_couple` finds ``p`` in the couples table.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heard.batch._part import Settings, file_sha, part_files, run_part
from heard.batch._plan import Part, Plan, make_plan
from heard.batch._tables import TABLES, schema, write_atomic, write_json_atomic
from heard.errors import HeardError, InputError, OptionError
from heard.model import Summary, Table, Text

__all__ = ["BatchResult", "read_couple", "run_batch"]

#: Messages per part unless told otherwise (a few seconds to a minute of one core's work).
PART_MESSAGES = 5000
_MADE = ("_batch.json", "_parts", *TABLES, "errors.parquet", "summary.parquet")
Progress = Callable[[int, int], None]


def need_libraries() -> None:
    """E600 when Dask or pyarrow is missing (``pip install 'heard[batch]'``)."""
    import importlib.util

    for name in ("pyarrow", "dask", "distributed"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise InputError.from_code("E600", missing=name)


@dataclass
class BatchResult:
    """What a batch did: counts over the whole corpus, and what this run itself ran."""

    out: Path
    parts: int
    ran: int
    couples: int = 0
    analyzed: int = 0
    failed: int = 0
    messages: int = 0
    safety_concerns: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> Summary:
        """The batch in plain words: counts, where the tables are, and the first errors.

        ``as_text()`` is what ``heard batch`` prints; ``as_html()`` the same for a notebook.
        """
        done = self.parts - self.ran
        blocks: list[Text | Table] = [
            Text(f"{self.couples:,} couples ({self.messages:,} messages coded): "
                 f"{self.analyzed:,} analyzed, {self.failed:,} in the errors table."),
            Text(f"{self.parts} parts" + (f" ({done} done before, {self.ran} now)" if done else "")
                 + f", written to {self.out}.")]
        if self.safety_concerns:
            blocks.append(Text(f"In {self.safety_concerns:,} couples a message speaks of threats, "
                               "control or self-harm (couples.safety_concern).", tone="strong"))
        if self.errors:
            blocks.append(Table(("Couple", "Why it could not be analyzed"),
                                [(e["couple_id"], f"{e['code']}: {e['message']}")
                                 for e in self.errors[:10]]))
        if self.failed > 10:
            blocks.append(Text(f"… and {self.failed - 10:,} more in "
                               f"{self.out / 'errors.parquet'}"))
        return Summary("", blocks)


def run_batch(
    source: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    part_messages: int = PART_MESSAGES,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Code and analyze every couple of ``source`` into Parquet tables under ``out``.

    Parameters
    ----------
    source : path
        A folder of exports, a canonical JSON Lines file or a Parquet data set.
    out : path
        A new or empty folder (or one to ``resume``, or to ``overwrite``).
    workers : int, optional
        Processes of a local Dask cluster (default: one per core, one thread each); 0 runs
        every part in this process. Ignored with ``scheduler``.
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a running Dask scheduler; its workers must see ``source`` and
        ``out`` at the same paths.
    resume : bool
        Finish a run that stopped: parts whose files check out are kept, the rest run.
    part_messages : int
        About how many messages go into one part (whole couples).
    settings : Settings
        Engine, dynamics, permutations, seed, read options: the same for every part.
    progress : callable, optional
        ``progress(parts_done, parts)`` after each part.
    """
    need_libraries()
    settings = settings or Settings()
    if workers is not None and workers < 0:
        raise OptionError.from_code("E607", option="--workers", detail="0 or more",
                                    value=workers)
    out = Path(out)
    plan = make_plan(source, part_messages=part_messages, format=settings.format)
    head = {"source": str(Path(source).resolve()), "fingerprint": plan.fingerprint,
            "settings": settings.to_dict(), "part_messages": part_messages,
            "parts": len(plan.parts), "plan_sha256": plan.digest()}
    if resume:
        _check_resume(out, head)
    else:
        _prepare(out, overwrite)
        write_json_atomic(out / "_batch.json", head)
    todo = [p for p in plan.parts if not part_done(out, p.number)]
    total = len(plan.parts)
    if progress is not None:
        progress(total - len(todo), total)
    failures: list[tuple[int, str]] = []
    if todo:
        if scheduler is None and workers == 0:
            _run_here(todo, settings, out, total, progress, failures)
        else:
            from heard.batch._dask import run_on_dask

            run_on_dask(todo, settings, out, total, progress, failures,
                        workers=workers, scheduler=scheduler)
    if failures:
        part, detail = failures[0]
        raise HeardError.from_code("E606", part=part, detail=detail)
    result = _finish(out, plan)
    result.ran = len(todo)
    return result


def _run_here(todo: list[Part], settings: Settings, out: Path, total: int,
              progress: Progress | None, failures: list[tuple[int, str]]) -> None:
    done = total - len(todo)
    for part in todo:
        try:
            run_part(part, settings, str(out))
        except Exception as exc:  # a bug or a full disk in one part: the others still run
            failures.append((part.number, f"{type(exc).__name__}: {exc}"))
        done += 1
        if progress is not None:
            progress(done, total)


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not overwrite or not (out / "_batch.json").exists():
            raise InputError.from_code("E602", path=out)
        for name in _MADE:  # only what a batch writes: never a folder heard did not make
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        if any(out.iterdir()):
            raise InputError.from_code("E602", path=out)
    out.mkdir(parents=True, exist_ok=True)


def _check_resume(out: Path, head: dict[str, Any]) -> None:
    try:
        kept = json.loads((out / "_batch.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError.from_code("E603", path=out, detail="it holds no batch "
                                   "(_batch.json is missing or unreadable)") from None
    for key, what in (("source", "another input"), ("fingerprint", "an input that has changed "
                      "since"), ("settings", "other settings"), ("part_messages",
                      "another --part-messages"), ("plan_sha256", "another split of the input")):
        if json.loads(json.dumps(kept.get(key))) != json.loads(json.dumps(head[key])):
            raise InputError.from_code("E603", path=out, detail=f"it was made from {what}")
    for name in ("errors.parquet", "summary.parquet"):  # written again at the end
        (out / name).unlink(missing_ok=True)
    for stale in out.rglob(".*.tmp"):  # what a killed run was writing when it died
        stale.unlink(missing_ok=True)


def part_done(out: Path, number: int) -> bool:
    """Whether part ``number`` is complete: its record exists and every file it lists has the
    size and sha256 recorded (a file cut short or replaced since makes the part run again)."""
    files = part_files(out, number)
    try:
        record = json.loads(files["record"].read_text(encoding="utf-8"))
        for t in TABLES:
            want = record["files"][t]
            if files[t].stat().st_size != want["bytes"] or file_sha(files[t]) != want["sha256"]:
                return False
    except (OSError, ValueError, KeyError):
        return False
    return True


def _records(out: Path, plan: Plan) -> list[dict[str, Any]]:
    return [json.loads(part_files(out, p.number)["record"].read_text(encoding="utf-8"))
            for p in plan.parts]


def _finish(out: Path, plan: Plan) -> BatchResult:
    """The errors and summary tables, from the parts' records (in part order: deterministic)."""
    import pyarrow as pa

    records = _records(out, plan)
    errors = [e for r in records for e in r["errors"]]
    write_atomic(out / "errors.parquet", pa.Table.from_pylist(errors, schema=schema("errors")))
    result = BatchResult(out=out, parts=len(plan.parts), ran=0, couples=plan.couples,
                         analyzed=sum(r["analyzed"] for r in records), failed=len(errors),
                         messages=sum(r["messages"] for r in records),
                         safety_concerns=sum(r["safety_concerns"] for r in records),
                         errors=errors)
    human = sum(r["human_messages"] for r in records)
    rows: list[dict[str, Any]] = [
        {"measure": "couples", "code": None, "value": plan.couples, "of": None},
        {"measure": "couples_analyzed", "code": None, "value": result.analyzed,
         "of": plan.couples},
        {"measure": "couples_failed", "code": None, "value": result.failed, "of": plan.couples},
        {"measure": "couples_with_safety_concern", "code": None,
         "value": result.safety_concerns, "of": result.analyzed},
        {"measure": "messages", "code": None, "value": result.messages, "of": None},
        {"measure": "messages_by_a_person", "code": None, "value": human, "of": None},
    ]
    from heard.coding import codebook

    for name in codebook().names:
        n = sum(r["codes"].get(name, 0) for r in records)
        c = sum(r["couples_with_code"].get(name, 0) for r in records)
        rows.append({"measure": "messages_with_code", "code": name, "value": n, "of": human})
        rows.append({"measure": "couples_with_code", "code": name, "value": c,
                     "of": result.analyzed})
    for row in rows:
        row["share"] = round(row["value"] / row["of"], 6) if row["of"] else None
    write_atomic(out / "summary.parquet", pa.Table.from_pylist(rows, schema=schema("summary")))
    return result


def read_couple(out: str | Path, couple_id: str, table: str = "messages") -> Any:
    """One couple's rows of ``table`` as a ``pyarrow.Table``, reading its part's file only.

    Examples
    --------
    >>> read_couple("study-out", "couple-000042").num_rows        # doctest: +SKIP
    97
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    out = Path(out)
    couples = ds.dataset(out / "couples", format="parquet", partitioning="hive")
    hit = couples.to_table(columns=["part"], filter=pc.field("couple_id") == couple_id)
    if hit.num_rows == 0:
        return ds.dataset(out / table, format="parquet", partitioning="hive").schema.empty_table()
    part = hit.column("part")[0].as_py()
    path = part_files(out, part)[table]
    return ds.dataset(path, format="parquet").to_table(
        filter=pc.field("couple_id") == couple_id)
