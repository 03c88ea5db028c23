"""The therapist's summary: at most four A4 pages to read with a therapist or coach.

It reads the same context as the HTML report (:func:`~heard.report._view.build_context`), so the
two never disagree and the PDF computes no figure of its own; the full report keeps the links
from every number to its messages. Its "In short" is the report's own first screen, rendered
from ``templates/answer.html.j2`` and laid out again, so its sentences are the HTML's; the
safety section follows the report's, leads, and marks all that follows as no explanation of
it. Examples are dropped, step by step, until the summary fits four pages. What may be printed
(and, with ``redact``, what is left out) is decided in :mod:`heard.report._pdf_words`.

The PDF is laid out by ReportLab's Platypus (paragraphs and tables that flow over pages). We
chose it over fpdf2 because it adds less to an install (ReportLab and Pillow, about 31 MB;
fpdf2 also needs fontTools, about 55 MB in all) and it is a pure-Python wheel; over WeasyPrint
because that needs Pango and other system libraries. Text is set in DejaVu Sans, shipped in
``fonts/`` with its licence, so accents, Greek, Cyrillic and many symbols print as written; a
character the font lacks (most emoji, Chinese, Japanese) prints as a visible "□" rather than
vanishing or failing. The output is deterministic for a fixed ``generated_at``: ReportLab's
invariant mode fixes the file id, and the creation date is the analysis's own.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard._files import write_output
from heard.report._pdf_doc import SummaryDoc
from heard.report._pdf_style import FONT, MUTED, register_fonts
from heard.report._pdf_words import Words
from heard.report._view import build_context

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["render_summary_pdf", "write_summary_pdf"]

#: The summary must fit this many pages; detail is dropped, step by step, until it does.
MAX_PAGES = 4


# -- rendering -----------------------------------------------------------------------------------

def _pdf_date(ts: datetime) -> str:
    off = ts.utcoffset()
    if off is None:
        return ts.strftime("D:%Y%m%d%H%M%S")
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return ts.strftime("D:%Y%m%d%H%M%S") + f"{sign}{hours:02d}'{rest:02d}'"


def _render(analysis: Analysis, ctx: dict[str, Any], redact: bool, level: int) -> tuple[bytes,
                                                                                         int]:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    register_fonts()
    words = Words(list(ctx["header"]["senders"]), redact)
    buf = io.BytesIO()
    stamp = _pdf_date(analysis.generated_at)
    footer = (f"heard {ctx['header']['version']} · a summary to read with a therapist or "
              "coach · private: made on this computer")
    if redact:
        footer += " · names and numbers left out"

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.setDateFormatter(lambda *_: stamp)
        canvas.saveState()
        canvas.setFont(FONT, 7.2)
        canvas.setFillColor(colors.HexColor(MUTED))
        canvas.drawString(doc.leftMargin, 9 * mm, footer)
        canvas.drawRightString(A4[0] - doc.rightMargin, 9 * mm, f"page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=14 * mm,
        bottomMargin=16 * mm, title="heard: a summary to read with a therapist or coach",
        author="heard", creator=f"heard {ctx['header']['version']}", subject="",
        invariant=1, lang="en",
    )
    story = SummaryDoc(ctx, words, analysis, level).build(doc.width)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue(), doc.page


def render_summary_pdf(analysis: Analysis, *, redact: bool = False) -> bytes:
    """The therapist's summary as PDF bytes: at most four A4 pages.

    Parameters
    ----------
    analysis : Analysis
        What :func:`heard.analyze` returned.
    redact : bool
        Replace the partners' names with "Partner A" / "Partner B" everywhere, and leave phone
        numbers, e-mail addresses, links, street addresses and long numbers out of quotes.

    Returns
    -------
    bytes
        A PDF, the same bytes for the same analysis (its date is ``analysis.generated_at``).

    Examples
    --------
    >>> pdf = render_summary_pdf(heard.analyze(corpus), redact=True)   # doctest: +SKIP
    """
    ctx = build_context(analysis)
    pdf = b""
    # Examples are dropped, step by step, until the summary fits; the figures always stay.
    for level in range(4):
        pdf, pages = _render(analysis, ctx, redact, level)
        if pages <= MAX_PAGES:
            break
    return pdf


def write_summary_pdf(analysis: Analysis, path: str | Path, *, redact: bool = False) -> Path:
    """Write the therapist's summary to ``path`` and return the path.

    Raises
    ------
    InputError
        From :func:`heard._files.write_output`: E021 when the file can't be written (a missing
        folder, no permission), E032 for a folder, E033 for a full disk.
    """
    return write_output(path, render_summary_pdf(analysis, redact=redact))
