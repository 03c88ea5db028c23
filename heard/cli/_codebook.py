"""``heard codebook``: the codes and what they mean."""

from __future__ import annotations

import argparse
import json
from typing import Any

from heard.cli._output import output
from heard.cli._shell import EXIT_OK
from heard.cli._terminal import console as terminal_console
from heard.cli._terminal import say
from heard.errors import OptionError


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from heard.coding import codebook, explain

    cb = codebook()
    if args.code:
        try:
            say(explain(args.code))
        except KeyError:
            raise OptionError.from_code(
                "E030", option="heard codebook",
                detail=f"no code or family '{args.code}'; run `heard codebook` for the list",
            ) from None
        return EXIT_OK
    if args.json:
        from dataclasses import asdict

        with output(None) as out:
            json.dump({"version": cb.version, "families": [asdict(f) for f in cb.families],
                       "codes": [asdict(c) for c in cb.codes]}, out, ensure_ascii=False,
                      indent=1)
            out.write("\n")
        return EXIT_OK
    console = terminal_console()
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


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("codebook", help="show the 24 codes and what they mean")
    p.add_argument("code", nargs="?", help="explain one code or family")
    p.add_argument("--json", action="store_true", help="the codebook as JSON")
    return p
