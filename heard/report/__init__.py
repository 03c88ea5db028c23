"""Reports: the self-contained HTML report, the therapist's summary PDF and the terminal summary,
all read an Analysis.

:func:`build_context` is what every report shows, as plain data (the app renders its pages from
it too); :class:`MessageIndex` and :func:`highlight` show one message with its evidence marked.
"""

from heard.report._evidence import MessageIndex, highlight
from heard.report._html import render_html, write_html
from heard.report._pdf import render_summary_pdf, write_summary_pdf
from heard.report._table import PARTNER_FIELDS, partner_rows
from heard.report._terminal import print_summary
from heard.report._view import build_context, fmt_day, forget_contexts, glossary

__all__ = [
    "PARTNER_FIELDS",
    "MessageIndex",
    "build_context",
    "fmt_day",
    "forget_contexts",
    "glossary",
    "highlight",
    "partner_rows",
    "print_summary",
    "render_html",
    "render_summary_pdf",
    "write_html",
    "write_summary_pdf",
]
