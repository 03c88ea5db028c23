"""What a result says about itself: a :class:`Summary` of paragraphs and small tables.

statsmodels' ``Summary`` is the model: one object per result with ``as_text()`` (what the
terminal shows) and ``as_html()`` (small, self-contained tables for a notebook or a page), so
that no caller formats a result by hand. ``str(summary)`` is the text, so code that printed the
string ``summary()`` used to return keeps working; ``_repr_html_`` shows it in Jupyter.

The HTML escapes every piece of text (a sender may be called ``<script>``), and carries no
script, no style attribute and no event handler: a page embedding it decides how it looks.

Examples
--------
>>> s = Summary("Both partners", [Table(("", "Ana", "Jo"), [("Messages sent", "3", "2")])])
>>> print(s.as_text())
Both partners
=============
               Ana  Jo
Messages sent    3   2
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Section", "Summary", "Table", "Text"]

#: How a paragraph is meant to read: "" plain, "strong" a heading-like line, "note" a quiet
#: aside, "warn" something to check (an import note).
TONES = ("", "strong", "note", "warn")


@dataclass(frozen=True, slots=True)
class Text:
    """A paragraph, with an optional lead-in (``"The loop: "``) shown in bold."""

    text: str
    lead: str = ""
    tone: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A small table: ``columns`` are the header (the first is the row labels' column, often
    ``""``); each row is a label and its cells, as the words to show."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[object]],
                 title: str = "") -> None:
        object.__setattr__(self, "columns", tuple(str(c) for c in columns))
        object.__setattr__(self, "rows", tuple(tuple(_cell(c) for c in r) for r in rows))
        object.__setattr__(self, "title", title)


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of blocks; ``alert`` marks the one that must be seen first (safety)."""

    title: str
    blocks: tuple[Text | Table, ...]
    alert: bool = False

    def __init__(self, title: str, blocks: Iterable[Text | Table], alert: bool = False) -> None:
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "blocks", tuple(blocks))
        object.__setattr__(self, "alert", alert)


Block = Text | Table | Section


#: A column wider than this holds sentences, not figures.
_FIGURE_WIDTH = 30


def _cell(value: object) -> str:
    return "" if value is None else str(value)


class Summary:
    """A result's summary: a title and blocks (:class:`Text`, :class:`Table`, :class:`Section`).

    Not a dataclass on purpose: printing one (``print``, rich's ``Console.print``) shows its
    text, not its fields.
    """

    __slots__ = ("blocks", "title")

    def __init__(self, title: str = "", blocks: Iterable[Block | Summary] = ()) -> None:
        self.title = title
        out: list[Block] = []
        for b in blocks:
            # a part's summary nests as a section of the whole (Analysis -> patterns, ...)
            out.append(Section(b.title, b.blocks) if isinstance(b, Summary) else b)
        self.blocks: tuple[Block, ...] = tuple(out)

    # -- text -------------------------------------------------------------------------------
    def as_text(self) -> str:
        """Plain text, as the terminal shows it (tables aligned in columns)."""
        lines: list[str] = []
        if self.title:
            lines += [self.title, "=" * len(self.title)]
        for block in self.blocks:
            _text_block(block, lines)
        return "\n".join(lines).rstrip("\n")

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return f"<Summary {self.title!r}: {len(self.blocks)} blocks>"

    # -- html -------------------------------------------------------------------------------
    def as_html(self) -> str:
        """A self-contained HTML fragment: headings, paragraphs and tables, every text escaped,
        no scripts and no inline styles or handlers."""
        parts = ['<div class="heard-summary">']
        if self.title:
            parts.append(f"<h3>{escape(self.title)}</h3>")
        for block in self.blocks:
            _html_block(block, parts)
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.as_html()


def _text_block(block: Block, lines: list[str]) -> None:
    if isinstance(block, Text):
        lines.append(block.lead + block.text)
    elif isinstance(block, Table):
        lines.extend(_table_lines(block))
    else:
        # the alert (safety) section is underlined like a title, so it reads first
        lines += ["", block.title, ("=" if block.alert else "-") * len(block.title)]
        for inner in block.blocks:
            _text_block(inner, lines)
        lines.append("")


def _table_lines(table: Table) -> list[str]:
    rows = [table.columns, *table.rows]
    n = max(len(r) for r in rows)
    rows = [tuple(r) + ("",) * (n - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(n)]
    # figures line up on the right; a column of sentences reads better from the left
    right = [i > 0 and widths[i] <= _FIGURE_WIDTH for i in range(n)]
    out = [table.title] if table.title else []
    for r in rows:
        cells = [r[i].rjust(widths[i]) if right[i] else r[i].ljust(widths[i]) for i in range(n)]
        out.append("  ".join(cells).rstrip())
    return out


def _html_block(block: Block, parts: list[str]) -> None:
    if isinstance(block, Text):
        cls = f' class="{block.tone}"' if block.tone else ""
        lead = f"<strong>{escape(block.lead)}</strong>" if block.lead else ""
        parts.append(f"<p{cls}>{lead}{escape(block.text)}</p>")
    elif isinstance(block, Table):
        parts.append("<table>")
        if block.title:
            parts.append(f"<caption>{escape(block.title)}</caption>")
        parts.append("<thead><tr>" + "".join(f'<th scope="col">{escape(c)}</th>'
                                            for c in block.columns) + "</tr></thead>")
        parts.append("<tbody>")
        for row in block.rows:
            head, *cells = row or ("",)
            parts.append(f'<tr><th scope="row">{escape(head)}</th>'
                         + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
        parts.append("</tbody></table>")
    else:
        cls = ' class="alert" role="alert"' if block.alert else ""
        parts.append(f"<section{cls}><h4>{escape(block.title)}</h4>")
        for inner in block.blocks:
            _html_block(inner, parts)
        parts.append("</section>")
