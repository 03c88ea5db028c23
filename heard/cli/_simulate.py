"""``heard simulate``: what if one thing changed in the couple's model?"""

from __future__ import annotations

import argparse
import json
from typing import Any

from heard.cli._options import (
    add_import_options,
    load_input,
)
from heard.cli._output import output
from heard.cli._shell import EXIT_OK
from heard.cli._terminal import say, tell
from heard.cli._values import MAX_RUNS, MAX_TURNS, whole
from heard.errors import OptionError


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


def run(args: argparse.Namespace) -> int:
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
        corpus = load_input(args)
    result = what_if(corpus, changes, given_codes=args.given_codes, n_runs=args.runs,
                     n_turns=args.turns, seed=args.seed, me=args.me)
    if args.json:
        with output(args.json, inputs=[args.path or "demo"]) as out:
            json.dump(result.to_dict(), out, ensure_ascii=False, indent=1, sort_keys=True)
            out.write("\n")
    # the result's own summary, as plain text (names are never read as markup)
    (tell if args.json == "-" else say)(result.summary().as_text())
    return EXIT_OK


def add_parser(sub: Any) -> argparse.ArgumentParser:
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
    p.add_argument("--runs", type=whole(1, MAX_RUNS), default=500, help="simulated conversations")
    p.add_argument("--turns", type=whole(1, MAX_TURNS), default=40,
                   help="turns per simulated conversation")
    p.add_argument("--seed", type=whole(0), default=0,
                   help="random seed: the same seed gives the same numbers and suggestions")
    p.add_argument("--given-codes", action="store_true",
                   help="use the codes in the input's 'codes' field instead of the coder")
    p.add_argument("--json", metavar="OUT.json", help="write the simulations as JSON")
    add_import_options(p, format_flag="--input-format")
    return p
