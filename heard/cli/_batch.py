"""``heard batch``: a study's corpus on Dask (or every core here), to Parquet tables."""

from __future__ import annotations

import argparse
from typing import Any

from heard.cli._options import add_import_options, read_options
from heard.cli._progress import progress_bar
from heard.cli._shell import EXIT_OK, EXIT_USER
from heard.cli._terminal import tell
from heard.cli._values import MAX_PERMUTATIONS, whole


def add_parser(sub: Any) -> argparse.ArgumentParser:
    from heard.coding import engines

    p = sub.add_parser(
        "batch", help="code and analyze a study's many couples on Dask, to Parquet",
        description="Code and analyze every couple of a study's corpus (a folder of exports, "
                    "a canonical JSON Lines file, or a Parquet data set; one conversation_id "
                    "or couple_id per couple) on a Dask cluster, into Parquet tables: messages, "
                    "couples, partners, errors and summary. Needs pip install 'heard[batch]'.")
    p.add_argument("path", metavar="INPUT", help="folder of exports, .jsonl file or Parquet")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="a new or empty folder for the tables")
    g = p.add_argument_group("where it runs")
    g.add_argument("--workers", type=whole(0), metavar="N",
                   help="worker processes of a local cluster, one thread each (default: one "
                        "per core); 0 runs every part in this process")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="a running Dask scheduler; its workers must see INPUT and DIR at the "
                        "same paths")
    g.add_argument("--part-messages", type=whole(1), default=None, metavar="N",
                   help="about how many messages of whole couples go into one part "
                        "(default 5000)")
    g.add_argument("--resume", action="store_true",
                   help="finish a run into DIR that stopped: only the missing parts run")
    g.add_argument("--overwrite", action="store_true",
                   help="replace the tables of an earlier batch in DIR")
    a = p.add_argument_group("analysis")
    a.add_argument("--engine", choices=[k for k, e in engines().items() if not e.required],
                   help="coding engine (default: heard's default)")
    a.add_argument("--given-codes", action="store_true",
                   help="use the codes the input carries instead of coding")
    a.add_argument("--no-dynamics", action="store_true",
                   help="skip the sequential, Gottman–Murray and long-arc models (much faster)")
    a.add_argument("--permutations", type=whole(1, MAX_PERMUTATIONS), default=1000,
                   metavar="N",
                   help="permutations of the sequential tests' baseline (default 1000)")
    a.add_argument("--seed", type=whole(0), default=0, help="seed of every random step (default 0)")
    add_import_options(p, one_chat=False)
    return p


def run(args: argparse.Namespace) -> int:
    from heard.batch import PART_MESSAGES, Settings, run_batch

    settings = Settings(
        engine=args.engine, given_codes=args.given_codes, dynamics=not args.no_dynamics,
        n_permutations=args.permutations, seed=args.seed, format=args.input_format,
        options=read_options(args))
    with progress_bar() as bar:
        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar("Coding and analyzing parts", done, total)

        result = run_batch(args.path, args.output, workers=args.workers,
                           scheduler=args.scheduler, resume=args.resume,
                           overwrite=args.overwrite,
                           part_messages=PART_MESSAGES if args.part_messages is None
                           else args.part_messages,
                           settings=settings, progress=progress)
    tell("heard: " + result.summary().as_text().replace("\n", "\nheard: "))
    return EXIT_OK if result.analyzed else EXIT_USER
