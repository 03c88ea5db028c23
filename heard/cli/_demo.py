"""``heard demo``: the built-in sample couple, analyzed and reported."""

from __future__ import annotations

import argparse
from typing import Any

from rich.markup import escape

from heard.cli._progress import with_progress
from heard.cli._reports import write_analysis
from heard.cli._terminal import console as terminal_console
from heard.cli._values import MAX_PERMUTATIONS, whole

_LONG_ARC_NOTE = ("This is sample data: a couple simulated by heard over a year and a half, with "
                  "four crises planted, to show the months-long view. No real person's messages "
                  "are in it.")
_SAFETY_DEMO_NOTE = (" One message in it speaks of self-harm, to show how heard's safety "
                     "information looks.")


def run(args: argparse.Namespace) -> int:
    from heard.api import analyze, load

    if args.long_arc:
        from heard.dynamics import CoupleParams, generate_couple
        from heard.model import Corpus

        params = CoupleParams.long_arc_demo()
        corpus = Corpus.from_messages(generate_couple(params))
        corpus.meta["imports"] = [{"path": "synthetic couple (heard.dynamics.CoupleParams, "
                                           f"seed {params.seed})", "format": "synthetic"}]
        corpus.meta["sample"] = _LONG_ARC_NOTE
        analysis = with_progress(analyze)(corpus, given_codes=True,
                                           n_permutations=args.permutations)
    else:
        from heard.samples import SAMPLE_NOTE, demo_path

        corpus = load(demo_path("safety" if args.safety else "demo"), format="jsonl")
        corpus.meta["sample"] = SAMPLE_NOTE + (_SAFETY_DEMO_NOTE if args.safety else "")
        analysis = with_progress(analyze)(corpus, n_permutations=args.permutations)
    terminal_console(stderr=args.json == "-").print(
        f"[bold]{escape(corpus.meta['sample'])}[/bold]\n")
    return write_analysis(analysis, args.output, args.json, summary_pdf=args.summary_pdf,
                          redact=args.redact)


def add_parser(sub: Any) -> argparse.ArgumentParser:
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
    p.add_argument("--permutations", type=whole(0, MAX_PERMUTATIONS), default=1000,
                   help=argparse.SUPPRESS)
    p.add_argument("--summary-pdf", metavar="SUMMARY.pdf",
                   help="also write the summary PDF to read with a therapist or coach")
    p.add_argument("--redact", action="store_true",
                   help="in the summary PDF, replace names and leave numbers out of quotes")
    return p
