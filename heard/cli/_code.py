"""``heard code``: code every message, JSONL in and out."""

from __future__ import annotations

import argparse
import json
from typing import Any

from heard.cli._options import (
    add_engine_options,
    add_import_options,
    chosen_engine,
    load_input,
    one_or_many,
    read_options,
    report_engine,
)
from heard.cli._output import output
from heard.cli._progress import progress_bar
from heard.cli._shell import EXIT_OK
from heard.cli._terminal import tell
from heard.errors import OptionError


def run(args: argparse.Namespace) -> int:
    from heard.api import code
    from heard.model import message_to_record, record_to_json

    if args.preview:
        return _preview(args)
    coder = chosen_engine(args)
    if args.presorted or (corpus := one_or_many(args)) is None:
        return _code_many(args, coder)
    with progress_bar() as progress:
        corpus = code(corpus, coder=coder, progress=progress)
    with output(args.output, inputs=[args.path]) as out:
        for message in corpus.iter_messages():
            out.write(record_to_json(message_to_record(message)) + "\n")
    report_engine(coder)
    return EXIT_OK


def _code_many(args: argparse.Namespace, coder: Any) -> int:
    """``heard code`` on many conversations: stream them, one batch in memory."""
    from heard.api import code_many
    from heard.ingest import Input
    from heard.model import message_to_record, record_to_json

    source = getattr(args, "input", None) or Input.open(args.path)
    with output(args.output, inputs=[args.path]) as out, progress_bar() as progress:
        for n, message in enumerate(code_many(
                source, coder=coder, format=args.input_format, options=read_options(args),
                presorted=True if args.presorted else None), 1):
            out.write(record_to_json(message_to_record(message)) + "\n")
            if progress is not None and n % 1000 == 0:
                progress("code", n, None)
    report_engine(coder)
    return EXIT_OK


def _preview(args: argparse.Namespace) -> int:
    """Print the request --engine llm would send for the first message; send nothing."""
    if args.engine != "llm":
        raise OptionError.from_code("E465", detail="shows what --engine llm would send; add "
                                    "--engine llm --endpoint URL --llm-model NAME")
    coder = chosen_engine(args)
    corpus = load_input(args)
    for conv in corpus.conversations:
        first = next((m for m in conv.messages if m.kind == "text" and m.is_human), None)
        if first is None:
            continue
        body = coder.preview(first, (), names=conv.senders)
        with output(None) as out:
            json.dump(body, out, ensure_ascii=False, indent=1)
            out.write("\n")
        n = sum(1 for m in corpus.iter_messages() if m.kind == "text" and m.is_human)
        tell(f"heard: preview only, nothing was sent. Coding would POST one request like "
             f"this to {coder.url_} for each of the {n} text messages (shown: the first), "
             f"with up to {coder.context_messages} earlier message(s) as context.")
        return EXIT_OK
    raise OptionError.from_code("E465", detail=f"found no text message in '{args.path}' to "
                                "preview")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("code", help="code every message (JSONL out, one object per message)")
    p.add_argument("path", nargs="?", default="-", help="input (default: stdin)")
    p.add_argument("--format", dest="output_format", choices=["jsonl"], default="jsonl",
                   help="output format")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    add_engine_options(p)
    p.add_argument("--preview", action="store_true",
                   help="with --engine llm: print the request for the first message and exit "
                        "without sending anything")
    p.add_argument("--presorted", action="store_true",
                   help="stream the input conversation by conversation (each one's messages "
                        "come together), one batch in memory; an input of many couples streams "
                        "anyway, sorted on disk when its conversations are interleaved")
    add_import_options(p, format_flag="--input-format")
    return p
