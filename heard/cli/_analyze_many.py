"""``heard analyze`` on an input of many couples: JSON lines, a report each, a table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from heard.cli._options import (
    chosen_engine,
    print_import_report,
    read_options,
    report_engine,
)
from heard.cli._output import output
from heard.cli._progress import progress_bar
from heard.cli._shell import EXIT_OK, EXIT_USER
from heard.cli._terminal import tell
from heard.errors import OptionError


def analyze_many_couples(args: argparse.Namespace) -> int:
    """``heard analyze`` on many couples: JSON lines, a folder of reports, a corpus table."""
    from heard.api import analyze_many

    if not (args.json or args.per_couple or args.table):
        raise OptionError.from_code(
            "E030", option="heard analyze",
            detail=f"'{args.path}' holds many couples; say where their analyses go: --json "
                   "FILE.jsonl (one line per couple), --per-couple DIR (one report each), "
                   "--table FILE.csv (the partners' measures)")
    for flag, value in (("-o", args.output), ("--summary-pdf", args.summary_pdf)):
        if value:
            raise OptionError.from_code(
                "E030", option=flag, detail="writes one couple's report; for many couples "
                "use --per-couple DIR")
    folder = _per_couple_folder(args.per_couple, overwrite=args.overwrite)
    coder = chosen_engine(args)
    with progress_bar() as progress:
        run = analyze_many(
            args.input, format=args.input_format, options=read_options(args),
            presorted=True if args.presorted else None, given_codes=args.given_codes,
            coder=coder, gap_hours=args.gap_hours, reply_window_hours=args.reply_window_hours,
            min_n=args.min_n, burst_minutes=args.burst_minutes,
            dynamics=not args.no_dynamics, n_permutations=args.permutations, seed=args.seed,
            progress=progress)
        written = _write_many(run, args, folder)
    if run.import_report is not None:
        report = run.import_report.to_dict()
        if report.get("warnings") or report.get("skipped"):
            print_import_report(report)
    report_engine(coder)
    tell("heard: " + run.summary().as_text().replace("\n", "\nheard: "))
    for what, where in written:
        tell(f"heard: wrote {what}: {where}")
    return EXIT_OK if run.analyzed else EXIT_USER


def _per_couple_folder(target: str | None, *, overwrite: bool) -> Path | None:
    """The --per-couple folder, made if new; one that holds files needs --overwrite."""
    if not target:
        return None
    folder = Path(target)
    if folder.exists() and not folder.is_dir():
        raise OptionError.from_code("E021", path=folder, detail="it is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise OptionError.from_code("E028", path=folder)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OptionError.from_code("E021", path=folder, detail=exc.strerror or exc) from exc
    return folder


def _write_many(run: Any, args: argparse.Namespace, folder: Path | None
                ) -> list[tuple[str, str]]:
    """Stream each couple's result to the outputs asked for, as it comes."""
    import csv
    from contextlib import ExitStack

    from heard._many import report_filename, table_fields

    inputs = [args.path]
    with ExitStack() as stack:
        jsonl = stack.enter_context(output(args.json, inputs=inputs)) if args.json else None
        table = stack.enter_context(output(args.table, inputs=inputs)) if args.table else None
        as_csv = bool(args.table) and not str(args.table).endswith((".jsonl", ".ndjson",
                                                                     ".json"))
        rows = None
        if table is not None and as_csv:
            rows = csv.DictWriter(table, fieldnames=table_fields(), lineterminator="\n")
            rows.writeheader()
        used: set[str] = set()
        reports = replaced = 0
        for result in run:
            if jsonl is not None:
                jsonl.write(json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True)
                            + "\n")
            if table is not None:
                for row in result.rows():
                    if rows is not None:
                        rows.writerow(row)
                    else:
                        table.write(json.dumps(row, ensure_ascii=False) + "\n")
            if folder is not None and result.analysis is not None:
                from heard.report import render_html

                path = folder / report_filename(result.couple_id, used)
                replaced += path.exists()
                with output(str(path)) as out:
                    out.write(render_html(result.analysis, transcript=args.transcript))
                reports += 1
    written = []
    if args.json and args.json != "-":
        written.append(("one analysis per couple (JSON lines)", str(Path(args.json).resolve())))
    if args.table and args.table != "-":
        written.append(("the partners' measures, per couple", str(Path(args.table).resolve())))
    if folder is not None:
        written.append((f"{reports} reports" + (f" ({replaced} replaced)" if replaced else ""),
                         str(folder.resolve())))
    return written

