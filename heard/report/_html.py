"""The HTML report: one self-contained file that works offline, on a phone and on paper.

Jinja2 renders ``templates/report.html.j2`` with autoescaping on; the stylesheet
(``templates/report.css``) and the one script (``templates/report.js``, which opens a folded
part when a link points into it) are read from the package and put inline, one ``<style>`` and
one ``<script>`` element. The page loads nothing, so it can be opened from a USB stick or an
email attachment with no network.

Its Content-Security-Policy (a ``<meta http-equiv>``, the only way a file can carry one) names
the SHA-256 of that style and that script: nothing else may run or style the page, not even
inline. Escaping keeps a message's text from becoming markup; if it ever failed, a
``<script>`` or ``onerror=`` smuggled in through a message would still be refused by the
browser. No element carries a ``style`` attribute (that would need ``'unsafe-hashes'``), the
page has no form, base, object or image source, and ``default-src 'none'`` refuses the rest.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from heard._files import write_output
from heard.report._view import build_context

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["csp_hash", "render_html", "write_html"]


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
def _inline(name: str) -> Markup:
    """A file of ``templates/`` to put inside a ``<style>`` or ``<script>`` element as it is."""
    text = (resources.files("heard.report") / "templates" / name).read_text("utf-8")
    # heard's own file; refuse anything that could close the element it goes in.
    if "</" in text or "<!--" in text:
        raise ValueError(f"{name} must not contain '</' or '<!--'")
    return Markup(text)


def csp_hash(text: str) -> str:
    """The CSP source that allows exactly this inline element's content: ``'sha256-…'``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def _csp() -> Markup:
    """The report's policy: its one style and its one script, by hash, and nothing else."""
    return Markup("; ".join((
        "default-src 'none'",
        f"script-src {csp_hash(_inline('report.js'))}",
        f"style-src {csp_hash(_inline('report.css'))}",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
    )))


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
        A complete HTML page: style and script inline (allowed by their hashes), no external
        resource.

    Examples
    --------
    >>> html = render_html(heard.analyze(corpus))   # doctest: +SKIP
    """
    context = build_context(analysis, transcript=transcript)
    return _env().get_template("report.html.j2").render(
        css=_inline("report.css"), js=_inline("report.js"), csp=_csp(), **context)


def write_html(analysis: Analysis, path: str | Path, *, transcript: bool = False) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path.

    Raises
    ------
    InputError
        From :func:`heard._files.write_output` (a temporary file beside it, renamed over it on
        success): E021 when the file can't be written (a missing folder, no permission), E032
        for a folder, E033 for a full disk.
    """
    return write_output(path, render_html(analysis, transcript=transcript).encode("utf-8"))
