"""``heard analyze``: find the loop in one couple's messages and write a report."""

from __future__ import annotations

import argparse
from typing import Any

from heard.cli._analyze_many import analyze_many_couples
from heard.cli._options import (
    add_engine_options,
    add_import_options,
    chosen_engine,
    one_or_many,
    print_import_report,
    report_engine,
)
from heard.cli._progress import with_progress
from heard.cli._reports import write_analysis
from heard.cli._values import MAX_PERMUTATIONS, number, whole


def run(args: argparse.Namespace) -> int:
    from heard.api import analyze

    corpus = one_or_many(args)
    if corpus is None:
        return analyze_many_couples(args)
    for report in corpus.meta.get("imports", []):
        if report.get("warnings") or report.get("skipped"):
            print_import_report(report)
    coder = chosen_engine(args)
    analysis = with_progress(analyze)(
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
    report_engine(coder)
    return write_analysis(analysis, args.output, args.json, inputs=[args.path],
                          summary_pdf=args.summary_pdf, redact=args.redact,
                          transcript=args.transcript)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("analyze", help="find the loop and write a report")
    p.add_argument("path", help="an export or heard JSONL, or - for stdin")
    p.add_argument("-o", "--output", metavar="REPORT.html",
                   help="HTML report path (default: heard-report.html)")
    p.add_argument("--json", metavar="ANALYSIS.json",
                   help="also write the analysis as JSON (many couples: JSON lines, one "
                        "object per couple)")
    p.add_argument("--given-codes", action="store_true",
                   help="use the codes in the input's 'codes' field instead of the coder")
    add_engine_options(p)
    p.add_argument("--gap-hours", type=number(above=0, infinite=True),
                   help="hours of silence that start a new episode")
    p.add_argument("--reply-window-hours", type=number(above=0, infinite=True),
                   help="hours after which an unanswered reach counts as ignored")
    p.add_argument("--burst-minutes", type=number(at_least=0),
                   help="messages closer than this are one turn (default from settings)")
    p.add_argument("--min-n", type=whole(1),
                   help="below this many cases a rate reads 'not enough data'")
    p.add_argument("--no-dynamics", action="store_true", help="skip the dynamics models")
    p.add_argument("--permutations", type=whole(0, MAX_PERMUTATIONS), default=1000,
                   help="permutations for the sequential tests' baseline")
    p.add_argument("--seed", type=whole(0), default=0,
                   help="random seed (results are reproducible)")
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
    add_import_options(p, format_flag="--input-format")
    return p
