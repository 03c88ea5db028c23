"""The terminal summary: a few rich tables after ``heard analyze``, safety information first.

It reads the same context as the HTML report, so the two always show the same figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from heard.report._view import build_context

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["print_summary"]


def _rate(r: dict[str, Any]) -> str:
    if r["none"]:
        return "none to count"
    if r["enough"]:
        return f"{r['pct']}% ({r['count']} of {r['n']})"
    return f"not enough data ({r['count']} of {r['n']})"


def _safety_panel(safety: dict[str, Any]) -> Panel:
    parts: list[Any] = []
    for para in safety["explanation"]:
        parts.append(Text(para))
        parts.append(Text(""))
    parts.append(Text("What heard found:", style="bold"))
    for f in safety["findings"]:
        card = f["card"] or {"sender": f["sender"], "when": ""}
        line = Text(f"  {card['sender']}, {card['when']} ({f['category']}): ")
        line.append(f"“{f['text']}”", style="italic")
        parts.append(line)
        for q in f.get("quotes", ()):
            parts.append(Text(f"    flagged “{q['text']}”: {q['why']}"))
    for note in safety["notes"]:
        parts.append(Text(note))
    parts.append(Text(""))
    parts.append(Text("People who can help:", style="bold"))
    for r in safety["resources"]:
        line = Text(f"  {r['name']}: ")
        line.append(r["contact"], style="bold")
        if r["detail"]:
            line.append(f" ({r['detail']})")
        parts.append(line)
    parts.append(Text(""))
    parts.append(Text(safety["device_note"]))
    return Panel(Group(*parts), title="Safety first", border_style="red", expand=True)


def _overview_text(ctx: dict[str, Any]) -> Text:
    ov = ctx["overview"]
    people = ", ".join(f"{s['sender']} {s['n']}" for s in ov["by_sender"])
    when = (f"{ov['first']} to {ov['last']} ({ov['days']} days)" if ov["days"]
            else "no dates in the messages")
    text = Text()
    text.append("What was analyzed: ", style="bold")
    text.append(f"{when}; {ov['conversations']} conversations, {ov['episodes']} stretches of "
                f"conversation; {ov['messages']} items; sent: {people}.")
    for imp in ov["imports"]:
        for note in imp["notes"]:
            text.append(f"\n  note ({imp['path']}): {note}", style="yellow")
    return text


def _strengths_table(ctx: dict[str, Any]) -> Table:
    people = ctx["strengths"]["people"]
    table = Table(title="Strengths first: what went well", title_justify="left", expand=False)
    table.add_column("")
    for p in people:
        table.add_column(p["sender"], justify="right")
    table.add_row("The other's reaches they held", *(str(p["held"]["n"]) for p in people))
    table.add_row("Bids they turned toward", *(str(p["bids_toward"]["n"]) for p in people))
    table.add_row("Their repairs the other took in",
                  *(str(p["repairs_landed"]["n"]) for p in people))
    table.add_row("Messages that held space", *(str(p["hold_total"]["n"]) for p in people))
    return table


def _partners_table(ctx: dict[str, Any]) -> Table:
    cols = ctx["partners"]["columns"]
    table = Table(title="Both partners, counted the same way", title_justify="left")
    table.add_column("")
    for c in cols:
        table.add_column(c["sender"], justify="right")

    def row(label: str, fn: Any) -> None:
        table.add_row(label, *(fn(c) for c in cols))

    row("Messages sent", lambda c: str(c["messages"]))
    row("Reached out", lambda c: str(c["reaches"]["n"]))
    for i, o in enumerate(cols[0]["outcomes"] if cols else []):
        row(f"  reaches {o['words']}", lambda c, i=i: _rate(c["outcomes"][i]["rate"]))
    row("Bids turned toward", lambda c: _rate(c["turn_toward"]))
    row("Defended", lambda c: str(c["defend"]["total"]["n"]))
    row("Attacked", lambda c: str(c["attack"]["total"]["n"]))
    row("Carried the conversation", lambda c: str(c["overfunction"]["total"]["n"]))
    row("Hardened", lambda c: str(c["harden"]["total"]["n"]))
    row("Held space", lambda c: str(c["hold"]["total"]["n"]))
    row("Repairs the other took in", lambda c: _rate(c["repairs_rate"]))
    row("Messages into silence", lambda c: str(c["followups"]["n"]))
    row("Typical reply time", lambda c: c["latency"]["median"] if c["latency"]["enough"]
        else "not enough data")
    return table


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _loop_text(ctx: dict[str, Any]) -> Text:
    lp = ctx["loops"]
    text = Text()
    text.append("The loop: ", style="bold")
    text.append(f"in {_count(lp['episodes'], 'stretch', 'stretches')} of conversation it ran "
                f"in full {_count(lp['full_ref']['n'], 'time')} and in part "
                f"{_count(lp['partial_ref']['n'], 'time')}.")
    for p in ctx["summary"]["people"]:
        met = ", ".join(f"{m['words']} {_count(m['ref']['n'], 'time')}" for m in p["met"])
        text.append(f"\n  When {p['sender']} reached out ({_count(p['reaches']['n'], 'time')})"
                    + (f": {met}." if met else "."))
    return text


def print_summary(
    analysis: Analysis,
    console: Console | None = None,
    *,
    report_path: str | Path | None = None,
) -> None:
    """Print a short summary of ``analysis``; in safety mode the safety panel comes first.

    Parameters
    ----------
    analysis : Analysis
    console : rich.console.Console, optional
        Where to print (a fixed-width recording console in tests); standard output by default.
    report_path : str or Path, optional
        Where the HTML report was written, to say so at the end.
    """
    console = console or Console()
    ctx = build_context(analysis)
    safety = ctx["safety"]
    if safety["triggered"]:
        console.print(_safety_panel(safety))
    console.print(_overview_text(ctx))
    if safety["triggered"]:
        console.print(Text(
            "Message patterns follow. They are not an explanation of the safety concern above.",
            style="bold"))
    console.print(_strengths_table(ctx))
    console.print(_loop_text(ctx))
    console.print(_partners_table(ctx))
    console.print(Text("Text is a proxy for tone. This describes patterns in messages, not "
                       "people; it is not a diagnosis or a prediction.", style="dim"))
    if report_path is not None:
        console.print(Text.assemble(("Report: ", "bold"), str(report_path)))
