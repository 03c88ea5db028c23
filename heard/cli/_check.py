"""``heard check``: how a message may land, before it is sent."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from heard._files import megabytes
from heard.cli._output import output
from heard.cli._progress import progress_bar
from heard.cli._shell import EXIT_OK
from heard.cli._terminal import console as terminal_console
from heard.errors import InputError


def _print_check(result: Any) -> None:
    from rich.text import Text

    console = terminal_console()
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


#: The context file's bounds: its size is read no further than this, and the messages in it
#: are coded one by one, so a file holding a whole chat (or one endless line) is refused.
MAX_CONTEXT_BYTES = 1 << 20
MAX_CONTEXT_MESSAGES = 200
MAX_CONTEXT_CHARS = 20_000  # per message, the check's own limit for the draft


def read_stdin() -> str:
    """The draft from standard input: UTF-8, at most ``MAX_CONTEXT_BYTES`` (E039)."""
    data = sys.stdin.buffer.read(MAX_CONTEXT_BYTES + 1)
    if len(data) > MAX_CONTEXT_BYTES:
        raise InputError.from_code("E039", problem="holds more than 1 MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError.from_code("E039", problem="is not UTF-8 text") from None


def read_context(path: str) -> list[str]:
    """The context file's messages, one a line (E508 unreadable, E037 over a bound)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CONTEXT_BYTES + 1)
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise InputError.from_code("E508", path=path, detail=exc.strerror or exc) from exc
    if len(data) > MAX_CONTEXT_BYTES:
        limit = f"{megabytes(MAX_CONTEXT_BYTES)} MB"
        what = f"{megabytes(size)} MB" if size > MAX_CONTEXT_BYTES else f"more than {limit}"
        raise InputError.from_code("E037", path=path, what=what, limit=limit)
    try:
        lines = [line for line in data.decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as exc:
        raise InputError.from_code("E508", path=path, detail=exc.reason) from exc
    if len(lines) > MAX_CONTEXT_MESSAGES:
        raise InputError.from_code("E037", path=path, what=f"{len(lines):,} messages",
                                   limit=f"{MAX_CONTEXT_MESSAGES} messages")
    longest = max(map(len, lines), default=0)
    if longest > MAX_CONTEXT_CHARS:
        raise InputError.from_code("E037", path=path,
                                   what=f"a message of {longest:,} characters",
                                   limit=f"{MAX_CONTEXT_CHARS:,} characters a message")
    return lines


def run(args: argparse.Namespace) -> int:
    from heard.app import check_text

    context = read_context(args.context_file) if args.context_file else []
    text = read_stdin() if args.text == "-" else args.text
    with progress_bar() as progress:
        if progress is not None:
            progress("check", 0, None)
        result = check_text(text, context, mode="received" if args.received else "send")
    if args.json:
        with output(None) as out:
            json.dump(result.to_dict(), out, ensure_ascii=False, indent=1)
            out.write("\n")
    else:
        _print_check(result)
    return EXIT_OK


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="check how a message may land, before you send it")
    p.add_argument("text", help="the draft (or - for stdin)")
    p.add_argument("--context-file", metavar="FILE",
                   help="earlier messages it replies to, one a line, oldest first")
    p.add_argument("--received", action="store_true",
                   help="TEXT is a message you received: what could a reply that holds space "
                        "contain?")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    return p
