"""The dynamics figures: inline SVG with a ``viewBox`` and no fixed width, so they scale to a phone.

Their labels meet 4.5:1 contrast on white, and the report's CSS gives them a dark background in
dark mode (``svg.dyn-fig``) and swaps the colours through the classes next to them. Every piece
of text goes through ``markupsafe.escape``; no figure holds a script or a ``style`` attribute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from markupsafe import escape

from heard.dynamics import LongArcResult

__all__ = ["FIG_W", "TITLE", "render_long_arc_figure", "render_what_if"]

_FONT = 'font-family="system-ui, sans-serif"'
# Light-mode colours, each at least 4.5:1 on white where it carries text; the report's CSS
# swaps them in dark mode through the classes next to them.
_INK, _MUTED, _ACCENT, _CRISIS = "#1d1d1f", "#4a4a50", "#1f4e79", "#b3261e"
# Bars and dots are graphics: at least 3:1 on white (WCAG 1.4.11); the baseline is decoration.
_RULE, _DOT, _BAR_SOFT = "#c9c6bd", "#6b6b73", "#6e8cab"
#: Width of every figure's coordinate system: about a phone's width, so that text drawn at
#: 13 units stays about 13 px on a 390 px screen.
FIG_W = 360

# Short titles for the figure's rows.
TITLE = {"reach": "Reaching out", "attack": "Attacking", "defend": "Defending",
         "overfunction": "Carrying it alone", "harden": "Hardening", "hold": "Holding space"}


def _svg(height: float, body: list[str], label: str) -> str:
    # No width/height attributes: the CSS (svg.dyn-fig) makes it 100% wide, up to a cap.
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="dyn-fig" '
            f'viewBox="0 0 {FIG_W} {height:.0f}" role="img" aria-label="{escape(label)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, s: object, *, size: int = 13, anchor: str = "start",
          cls: str = "dt", weight: str = "normal") -> str:
    color = {"dt": _INK, "dm": _MUTED, "dc": _CRISIS, "da": _ACCENT}[cls]
    return (f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" font-size="{size}" '
            f'text-anchor="{anchor}" fill="{color}" font-weight="{weight}" {_FONT}>'
            f"{escape(str(s))}</text>")


def _wrap(s: str, width: int) -> list[str]:
    """Greedy word wrap for SVG text, which does not wrap by itself."""
    lines: list[str] = []
    for word in s.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def render_long_arc_figure(who: str, rows: Sequence[tuple[str, LongArcResult]], *,
                           bin_starts: Sequence[date] = (),
                           crisis_bins: Sequence[int] = ()) -> str:
    """One figure for one partner: a small panel per family that changed (weekly share of
    their messages as dots, the model's curve as a line, crises as red lines)."""
    left, right, row_h, title_h, gap = 34, 8, 62, 18, 14
    pw = FIG_W - left - right
    height = len(rows) * (title_h + row_h + gap) + 18
    body: list[str] = []
    n = max((r.observed.size for _, r in rows), default=0)
    if n == 0:
        return ""

    def px(i: float) -> float:
        return left + (i + 0.5) / n * pw

    y0 = 0.0
    for fam, r in rows:
        y, expo = np.asarray(r.observed, float), np.asarray(r.exposure, float)
        with np.errstate(all="ignore"):
            rate = np.where(expo > 0, y / np.where(expo > 0, expo, 1), np.nan)
            flat = r.model == "none" and r.trend_per_year is None
            fit = (None if r.fitted is None or flat
                   else np.asarray(r.fitted) / np.where(expo > 0, expo, 1))
        if fit is None:  # a trend the crisis model did not keep: a 5-week running mean
            kernel = np.ones(5) / 5
            ok = np.nan_to_num(rate)
            fit = np.convolve(ok, kernel, mode="same") / np.convolve(
                np.isfinite(rate).astype(float), kernel, mode="same")
        top = float(np.nanmax(np.r_[rate, fit, 0.01]))
        top = top * 1.1 if math.isfinite(top) and top > 0 else 1.0
        t0 = y0 + title_h
        body.append(_text(0, y0 + 13, TITLE.get(fam, fam), weight="bold"))

        def py(v: float, t0: float = t0, top: float = top) -> float:
            return t0 + row_h - v / top * row_h

        body.append(f'<line class="dg" x1="{left}" y1="{t0 + row_h}" x2="{left + pw}" '
                    f'y2="{t0 + row_h}" stroke="{_RULE}"/>')
        body.append(_text(left - 4, t0 + 10, f"{top:.0%}", size=11, anchor="end", cls="dm"))
        body.append(_text(left - 4, t0 + row_h, "0%", size=11, anchor="end", cls="dm"))
        for c in crisis_bins:
            if 0 <= c < n:
                body.append(f'<line class="dcl" x1="{px(c):.1f}" y1="{t0}" x2="{px(c):.1f}" '
                            f'y2="{t0 + row_h}" stroke="{_CRISIS}" stroke-width="1.5">'
                            "<title>crisis</title></line>")
        for i, v in enumerate(rate):
            if math.isfinite(v):
                body.append(f'<circle class="dd" cx="{px(i):.1f}" cy="{py(v):.1f}" r="1.8" '
                            f'fill="{_DOT}"/>')
        pts = [f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(fit) if math.isfinite(v)]
        if pts:
            body.append(f'<polyline class="dal" points="{" ".join(pts)}" fill="none" '
                        f'stroke="{_ACCENT}" stroke-width="2"/>')
        y0 = t0 + row_h + gap
    if len(bin_starts) == n:
        for i, anchor in ((0, "start"), (n - 1, "end")):
            d = bin_starts[i]
            body.append(_text(left if i == 0 else left + pw, y0 + 4, f"{d:%b %Y}", size=11,
                              anchor=anchor, cls="dm"))
    label = f"{who} over the months: " + ", ".join(TITLE.get(f, f) for f, _ in rows)
    return _svg(height, body, label)


def render_what_if(runs: Sequence[tuple[str, Any]]) -> str:
    """Bars: out of 100 simulated conversations, how many end on a hard note, per scenario."""
    if not runs:
        return ""
    bar_h, label_line = 18, 16
    # the first run is "as it is now"; the others are changes, said as a condition
    wrapped = [_wrap(label[:1].upper() + label[1:] if k == 0 else f"If {label}", 44)
               for k, (label, _) in enumerate(runs)]
    height = sum(len(w) * label_line + bar_h + 14 for w in wrapped) + 4
    body: list[str] = []
    y = 0.0
    pw = FIG_W - 80
    for k, ((_, sim), lines) in enumerate(zip(runs, wrapped, strict=True)):
        for line in lines:
            y += label_line
            body.append(_text(0, y - 3, line, size=14, weight="bold" if k == 0 else "normal"))
        share = sim.share_hard_end if math.isfinite(sim.share_hard_end) else 0.0
        w = max(pw * share, 1.0)
        fill, cls = (_BAR_SOFT, "dbs") if k == 0 else (_ACCENT, "dbar")
        body.append(f'<rect class="{cls}" x="0" y="{y + 2:.1f}" width="{w:.1f}" '
                    f'height="{bar_h}" fill="{fill}"/>')
        body.append(_text(w + 6, y + 2 + bar_h - 5, f"{round(share * 100)} of 100", size=14))
        y += bar_h + 14
    return _svg(height, body, "Simulated conversations that end on a hard note, as it is now "
                              "and after each change")
