"""Reports: the self-contained HTML report and the terminal summary, both read an Analysis."""

from heard.report._html import render_html, write_html
from heard.report._terminal import print_summary

__all__ = ["print_summary", "render_html", "write_html"]
