"""The terminal summary: a few tables after ``heard analyze``, safety information first.

It reads the same context as the HTML report, so the two always show the same figures, and
puts them in a :class:`heard.model.Summary` (:func:`terminal_summary`) like every result's
``summary()``; :func:`render_summary` draws any Summary with rich, so the terminal shows
one kind of object whether it comes from the report or from a result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text as RichText

from heard.model import Section, Summary, Table, Text
from heard.patterns import summary_words
from heard.report._view import build_context

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["print_summary", "render_summary", "terminal_summary"]

#: How each tone of a paragraph looks in the terminal.
_STYLES = {"": "", "strong": "bold", "note": "dim", "warn": "yellow"}


def _rate(r: dict[str, Any]) -> str:
    if r["none"]:
        return "none to count"
    if r["enough"]:
        return f"{r['pct']}% ({r['count']} of {r['n']})"
    return f"not enough data ({r['count']} of {r['n']})"


def _safety_section(safety: dict[str, Any]) -> Section:
    blocks: list[Text | Table] = []
    for para in safety["explanation"]:
        blocks += [Text(para), Text("")]
    blocks.append(Text("", lead="What heard found:"))
    for f in safety["findings"]:
        card = f["card"] or {"sender": f["sender"], "when": ""}
        blocks.append(Text(f"  {card['sender']}, {card['when']} ({f['category']}): "
                           f"“{f['text']}”"))
        blocks += [Text(f"    flagged “{q['text']}”: {q['why']}") for q in f.get("quotes", ())]
    blocks += [Text(note) for note in safety["notes"]]
    blocks += [Text(""), Text("", lead="People who can help:")]
    blocks += [Text(f"  {r['name']}: {r['contact']}" + (f" ({r['detail']})" if r["detail"]
                                                           else "")) for r in safety["resources"]]
    blocks += [Text(""), Text(safety["device_note"])]
    return Section("Safety first", blocks, alert=True)


def _overview(ctx: dict[str, Any]) -> list[Text]:
    w = summary_words()
    ov = ctx["overview"]
    when = (f"{ov['first']} to {ov['last']} ({ov['days']} days)" if ov["days"]
            else w["no_dates"])
    out = [Text(w["analyzed"].format(
        when=when, conversations=ov["conversations"], episodes=ov["episodes"],
        messages=ov["messages"], people=", ".join(f"{s['sender']} {s['n']}"
                                                  for s in ov["by_sender"])),
        lead=w["analyzed_lead"])]
    out += [Text(f"  note ({imp['path']}): {note}", tone="warn")
            for imp in ov["imports"] for note in imp["notes"]]
    return out


def _strengths_table(ctx: dict[str, Any]) -> Table:
    people = ctx["strengths"]["people"]
    rows = [(label, *(str(p[key]["n"]) for p in people))
            for label, key in (("The other's reaches they held", "held"),
                               ("Bids they turned toward", "bids_toward"),
                               ("Their repairs the other took in", "repairs_landed"),
                               ("Messages that held space", "hold_total"))]
    return Table(("", *(p["sender"] for p in people)), rows,
                 title="Strengths first: what went well")


def _partners_table(ctx: dict[str, Any]) -> Table:
    # the same row labels as the pattern layer's own summary (patterns/data/summary_words.json)
    w = summary_words()
    names = w["rows"]
    cols = ctx["partners"]["columns"]
    rows: list[tuple[str, ...]] = []

    def row(label: str, fn: Any) -> None:
        rows.append((label, *(fn(c) for c in cols)))

    row(names["messages"], lambda c: str(c["messages"]))
    row(names["reaches"], lambda c: str(c["reaches"]["n"]))
    for i, o in enumerate(cols[0]["outcomes"] if cols else []):
        row(f"  reaches {o['words']}", lambda c, i=i: _rate(c["outcomes"][i]["rate"]))
    row(names["turn_toward"], lambda c: _rate(c["turn_toward"]))
    row(names["defenses"], lambda c: str(c["defend"]["total"]["n"]))
    row(names["attacks"], lambda c: str(c["attack"]["total"]["n"]))
    row(names["overfunctioning"], lambda c: str(c["overfunction"]["total"]["n"]))
    row(names["hardening"], lambda c: str(c["harden"]["total"]["n"]))
    row(names["holds"], lambda c: str(c["hold"]["total"]["n"]))
    row(names["repairs_landed"], lambda c: _rate(c["repairs_rate"]))
    row(names["chase_followups"], lambda c: str(c["followups"]["n"]))
    row(names["latency"], lambda c: c["latency"]["median"] if c["latency"]["enough"]
        else "not enough data")
    return Table(("", *(c["sender"] for c in cols)), rows, title=w["partners_title"])


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _loop(ctx: dict[str, Any]) -> list[Text]:
    lp = ctx["loops"]
    out = [Text(f"in {_count(lp['episodes'], 'stretch', 'stretches')} of conversation it ran "
                f"in full {_count(lp['full_ref']['n'], 'time')} and in part "
                f"{_count(lp['partial_ref']['n'], 'time')}.", lead="The loop: ")]
    for p in ctx["summary"]["people"]:
        met = ", ".join(f"{m['words']} {_count(m['ref']['n'], 'time')}" for m in p["met"])
        out.append(Text(f"  When {p['sender']} reached out "
                        f"({_count(p['reaches']['n'], 'time')})" + (f": {met}." if met else ".")))
    return out


def terminal_summary(analysis: Analysis) -> Summary:
    """What ``heard analyze`` prints, as a :class:`~heard.model.Summary`, from the report's
    context (safety first when it was raised)."""
    ctx = build_context(analysis)
    safety = ctx["safety"]
    blocks: list[Text | Table | Section] = []
    if safety["triggered"]:
        blocks.append(_safety_section(safety))
    blocks += _overview(ctx)
    if safety["triggered"]:
        blocks.append(Text("Message patterns follow. They are not an explanation of the safety "
                           "concern above.", tone="strong"))
    blocks.append(_strengths_table(ctx))
    blocks += _loop(ctx)
    blocks.append(_partners_table(ctx))
    blocks.append(Text(summary_words()["caveat"], tone="note"))
    return Summary("", blocks)


def _rich(block: Text | Table | Section | Summary) -> RenderableType:
    if isinstance(block, Text):
        out = RichText()
        if block.lead:
            out.append(block.lead, style="bold")
        out.append(block.text, style=_STYLES.get(block.tone, ""))
        return out
    if isinstance(block, Table):
        table = RichTable(title=block.title or None, title_justify="left", expand=False)
        for i, col in enumerate(block.columns):
            table.add_column(col, justify="left" if i == 0 else "right")
        for row in block.rows:
            table.add_row(*row)
        return table
    if isinstance(block, Summary):
        block = Section(block.title, block.blocks)
    inner = Group(*(_rich(b) for b in block.blocks))
    if block.alert:
        return Panel(inner, title=block.title, border_style="red", expand=True)
    return Group(RichText(block.title, style="bold underline"), inner)


def render_summary(summary: Summary, console: Console | None = None) -> None:
    """Draw any result's :class:`~heard.model.Summary` in the terminal: tables as rich
    tables, the safety section in a red panel."""
    console = console or Console()
    if summary.title:
        console.print(RichText(summary.title, style="bold"))
    for block in summary.blocks:
        console.print(_rich(block))


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
    render_summary(terminal_summary(analysis), console)
    if report_path is not None:
        console.print(RichText.assemble(("Report: ", "bold"), str(report_path)))
