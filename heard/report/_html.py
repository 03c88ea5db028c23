"""The HTML report: one self-contained file that works offline, on a phone and on paper.

Jinja2 renders ``templates/report.html.j2`` with autoescaping on; the stylesheet is read from
``templates/report.css`` and put inline. The page loads nothing (its Content-Security-Policy
forbids it), so it can be opened from a USB stick or an email attachment with no network.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from heard.errors import InputError
from heard.report._view import build_context

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["render_html", "write_html"]


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("heard.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _css() -> Markup:
    css = (resources.files("heard.report") / "templates" / "report.css").read_text("utf-8")
    # The stylesheet is heard's own file; refuse anything that could close the <style> element.
    if "</" in css:
        raise ValueError("report.css must not contain '</'")
    return Markup(css)


def render_html(analysis: Analysis, *, transcript: bool = False) -> str:
    """The report as one HTML document (a string), deterministic for a fixed ``generated_at``.

    Parameters
    ----------
    analysis : Analysis
        What :func:`heard.analyze` returned.
    transcript : bool
        Include every message (and print them); by default the report carries only the
        messages its figures and quotes refer to, folded away and left off paper.

    Returns
    -------
    str
        A complete HTML page: styles inline, no external resource, no script file.

    Examples
    --------
    >>> html = render_html(heard.analyze(corpus))   # doctest: +SKIP
    """
    context = build_context(analysis, transcript=transcript)
    return _env().get_template("report.html.j2").render(css=_css(), **context)


def write_html(analysis: Analysis, path: str | Path, *, transcript: bool = False) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path.

    Raises
    ------
    InputError
        E021 when the file can't be written (a missing folder, no permission).
    """
    return write_file(path, render_html(analysis, transcript=transcript).encode("utf-8"))


def write_file(path: str | Path, data: bytes) -> Path:
    """Write a report's bytes to ``path``; a path that can't be written is E021."""
    target = Path(path)
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise InputError.from_code("E021", path=str(target), detail=exc.strerror or exc) from exc
    return target
