"""Dynamics sections of the HTML report: the loop, the long arc, the what-if comparison.

Every figure is self-contained inline SVG (no scripts, no external files), every piece of text
goes through ``markupsafe.escape``, and every figure carries a caveat line. The functions only
read results computed in :mod:`heard.dynamics`; they never recompute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from heard.dynamics import DynamicsResult, LongArcResult

__all__ = ["render_dynamics_sections", "render_long_arc_chart", "render_loop_diagram",
           "render_what_if"]

_FONT = 'font-family="system-ui, sans-serif"'
_GREY, _INK, _ACCENT, _CRISIS, _PROMISE = "#9aa0a6", "#202124", "#1a73e8", "#c5221f", "#188038"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, s: object, *, size: int = 12, anchor: str = "start",
          color: str = _INK, weight: str = "normal", halo: bool = False) -> str:
    # A white halo keeps a label readable where it crosses a line.
    extra = ' stroke="#fff" stroke-width="4" paint-order="stroke"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}" font-weight="{weight}"{extra} {_FONT}>{escape(str(s))}</text>')


def _caveat(s: str) -> str:
    return f'<p class="caveat"><small>{escape(s)}</small></p>'


def _fmt(x: float | None, nd: int = 2) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{nd}f}"


# -- (a) the loop ------------------------------------------------------------------------------
_LOOP_STEPS = (
    # (test name, whose turn is the given one: "A" the one who reaches, "B" the other, label)
    ("vulnerable_share->defence", "A", "reach met with defence"),
    ("defence->overfunction", "B", "defence met with over-functioning"),
    ("overfunction->unreciprocated->overfunction", "A", "over-functioning again when not held"),
    (None, "A", "over-functioning turns to hardening"),
    ("hardening->counter_blame", "A", "hardening met with counter-blame"),
)


def _find_test(seq: Any, name: str, given_sender: str) -> Any:
    for t in getattr(seq, "tests", ()):
        if t.name == name and t.given_sender == given_sender:
            return t
    return None


def render_loop_diagram(seq: Any, reacher: str) -> str:
    """The loop as a cycle of five steps with the measured strength of each transition.

    ``reacher`` is the partner in the reaching role (A); arrows are labelled with the
    transitional probability p(next | given) and Yule's Q with its 95% interval, drawn thicker
    for a larger positive Q and grey when there is not enough data.
    """
    names = tuple(getattr(seq, "names", ()))
    other = next((n for n in names if n != reacher), "the other")
    nodes = [(f"{reacher}: reach", 150, 50), (f"{other}: defend / attack", 470, 50),
             (f"{reacher}: over-function", 530, 180), (f"{reacher}: harden", 330, 290),
             (f"{other}: counter-blame", 110, 180)]
    # Fixed-size arrowheads: with the default markerUnits they would grow with stroke width.
    body = ['<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
            'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{_INK}"/></marker></defs>']
    for label, x, y in nodes:
        body.append(f'<rect x="{x - 85}" y="{y - 18}" width="170" height="36" rx="10" '
                    f'fill="#f1f3f4" stroke="{_GREY}"/>')
        body.append(_text(x, y + 4, label, anchor="middle", weight="bold"))
    edges = [(0, 1), (1, 2), (2, 2), (2, 3), (3, 4)]
    for (test_name, giver, caption), (i, j) in zip(_LOOP_STEPS, edges, strict=True):
        who = reacher if giver == "A" else other
        t = _find_test(seq, test_name, who) if test_name else None
        (_, x1, y1), (_, x2, y2) = nodes[i], nodes[j]
        if i == j:  # the self-loop: over-functioning repeats
            path = (f"M{x1 + 40},{y1 + 18} C{x1 + 90},{y1 + 75} {x1 + 10},{y1 + 75} "
                    f"{x1 + 20},{y1 + 19}")
            lx, ly = x1 + 20, y1 + 75
        else:
            dx, dy = x2 - x1, y2 - y1
            d = math.hypot(dx, dy) or 1.0
            # Start and end on the boxes' edges (half size 85 x 18, plus a small gap).
            edge = min(91 / abs(dx) if dx else math.inf, 24 / abs(dy) if dy else math.inf)
            sx, sy = x1 + dx * edge, y1 + dy * edge
            ex, ey = x2 - dx * edge, y2 - dy * edge
            path = f"M{sx:.1f},{sy:.1f} L{ex:.1f},{ey:.1f}"
            # The label sits beside the line, not on it.
            lx, ly = (sx + ex) / 2 - dy / d * 16, (sy + ey) / 2 + dx / d * 16 + 4
        if t is not None and t.enough_data and t.yules_q is not None:
            a, b = t.counts[0], t.counts[1]
            p = a / (a + b) if a + b else float("nan")
            lo, hi = t.ci if t.ci else (float("nan"), float("nan"))
            width = 1.5 + 5 * max(t.yules_q, 0.0)
            color = _ACCENT if t.yules_q > 0 and (t.p_value or 1) < 0.05 else _INK
            label = f"p={_fmt(p)} · Q={_fmt(t.yules_q)} [{_fmt(lo)}, {_fmt(hi)}]"
            dash = ""
        else:
            width, color, dash = 1.5, _GREY, ' stroke-dasharray="5,4"'
            label = "not measured" if test_name is None else "not enough data"
        body.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{width:.1f}"'
                    f'{dash} marker-end="url(#arr)"><title>{escape(caption)}</title></path>')
        body.append(_text(lx, ly, label, size=11, anchor="middle", color=color, halo=True))
    (_, x4, y4), (_, x0, y0) = nodes[4], nodes[0]
    body.append(f'<path d="M{x4},{y4 - 18} L{x0 - 20},{y0 + 18}" fill="none" stroke="{_GREY}" '
                'stroke-dasharray="2,4" marker-end="url(#arr)"/>')
    return _svg(640, 330, body, f"The loop with {reacher} reaching")


# -- (b) the long arc --------------------------------------------------------------------------
def render_long_arc_chart(res: LongArcResult, *, bin_starts: Sequence[Any] = (),
                          crisis_bins: Sequence[int] = (), promise_bins: Sequence[int] = (),
                          width: int = 640, height: int = 190) -> str:
    """Weekly rate (share of the sender's messages) with the fitted curve, crises and promises."""
    y, expo = np.asarray(res.observed, float), np.asarray(res.exposure, float)
    n = y.size
    left, right, top, bottom = 46, 10, 24, 26
    pw, ph = width - left - right, height - top - bottom
    body = [_text(left, 14, f"{res.sender} · {res.family} · {res.model}", size=12,
                  weight="bold")]
    if n == 0:
        body.append(_text(width / 2, height / 2, "no dated messages", anchor="middle"))
        return _svg(width, height, body, f"{res.sender} {res.family}: no data")
    with np.errstate(all="ignore"):
        rate = np.where(expo > 0, y / np.where(expo > 0, expo, 1), np.nan)
        fit = None if res.fitted is None else np.asarray(res.fitted) / np.where(expo > 0, expo, 1)
    ymax = float(np.nanmax(np.r_[rate, fit if fit is not None else [], 0.01]))
    ymax = ymax * 1.1 if math.isfinite(ymax) and ymax > 0 else 1.0

    def px(i: float) -> float:
        return left + (i + 0.5) / n * pw

    def py(v: float) -> float:
        return top + ph - v / ymax * ph

    body.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" '
                f'stroke="{_GREY}"/>')
    body.append(_text(left - 4, top + 8, f"{ymax:.0%}", size=10, anchor="end", color=_GREY))
    body.append(_text(left - 4, top + ph, "0%", size=10, anchor="end", color=_GREY))
    for c in crisis_bins:
        if 0 <= c < n:
            body.append(f'<line x1="{px(c):.1f}" y1="{top}" x2="{px(c):.1f}" y2="{top + ph}" '
                        f'stroke="{_CRISIS}" stroke-width="1.5"><title>crisis</title></line>')
    for c in promise_bins:
        if 0 <= c < n:
            body.append(f'<line x1="{px(c) + 2:.1f}" y1="{top}" x2="{px(c) + 2:.1f}" '
                        f'y2="{top + ph}" stroke="{_PROMISE}" stroke-dasharray="3,3">'
                        "<title>promise</title></line>")
    for i, v in enumerate(rate):
        if math.isfinite(v):
            body.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="2" fill="{_GREY}"/>')
    if fit is not None and res.model != "insufficient_data":
        pts = [f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(fit) if math.isfinite(v)]
        if pts:
            body.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{_ACCENT}" '
                        'stroke-width="2"/>')
    if len(bin_starts) == n:
        for i in (0, n // 2, n - 1):
            body.append(_text(px(i), height - 8, bin_starts[i], size=10, anchor="middle",
                              color=_GREY))
    return _svg(width, height, body, f"{res.sender} {res.family}: {res.verdict}")


# -- (c) what-if -------------------------------------------------------------------------------
def render_what_if(runs: Sequence[tuple[str, Any]], *, width: int = 640) -> str:
    """Distribution bars of each partner's mean score per simulated conversation, per scenario.

    Whiskers span the 5–95% quantiles, the box 25–75%, the tick is the median.
    """
    rows = [(label, who, q) for label, sim in runs
            for who, q in sim.mean_score_quantiles.items()]
    if not rows:
        return ""
    lo = min(q[0] for _, _, q in rows)
    hi = max(q[-1] for _, _, q in rows)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = (hi - lo) or 1.0
    left, right, row_h = 250, 20, 26
    height = 30 + row_h * len(rows) + 40 + 20 * len(runs)
    pw = width - left - right

    def px(v: float) -> float:
        return left + (v - lo) / span * pw

    body = [f'<line x1="{px(0):.1f}" y1="20" x2="{px(0):.1f}" y2="{20 + row_h * len(rows)}" '
            f'stroke="{_GREY}" stroke-dasharray="2,3"/>',
            _text(px(0), 14, "0 (neutral)", size=10, anchor="middle", color=_GREY)]
    for k, (label, who, q) in enumerate(rows):
        yc = 20 + row_h * k + row_h / 2
        body.append(_text(left - 8, yc + 4, f"{label}: {who}", size=11, anchor="end"))
        body.append(f'<line x1="{px(q[0]):.1f}" y1="{yc}" x2="{px(q[-1]):.1f}" y2="{yc}" '
                    f'stroke="{_INK}"/>')
        box_w = max(px(q[3]) - px(q[1]), 1.0)
        body.append(f'<rect x="{px(q[1]):.1f}" y="{yc - 7}" width="{box_w:.1f}" '
                    f'height="14" fill="#d2e3fc" stroke="{_ACCENT}"/>')
        body.append(f'<line x1="{px(q[2]):.1f}" y1="{yc - 8}" x2="{px(q[2]):.1f}" y2="{yc + 8}" '
                    f'stroke="{_ACCENT}" stroke-width="2"/>')
    y0 = 20 + row_h * len(rows) + 16
    body.append(_text(left, y0, f"{lo:.1f}", size=10, anchor="middle", color=_GREY))
    body.append(_text(left + pw, y0, f"{hi:.1f}", size=10, anchor="middle", color=_GREY))
    for k, (label, sim) in enumerate(runs):
        body.append(_text(10, y0 + 22 + 20 * k,
                          f"{label}: {sim.share_negative:.0%} of {sim.n_runs} simulated "
                          "conversations settle in the negative state", size=11))
    return _svg(width, height, body, "What-if comparison of simulated conversations")


# -- the sections ------------------------------------------------------------------------------
def render_dynamics_sections(result: DynamicsResult) -> str:
    """The report's dynamics sections as one HTML string (loop, long arc, what-if)."""
    out: list[str] = ['<section class="dynamics">', "<h2>The loop</h2>"]
    seq = result.sequential
    if seq is None or not getattr(seq, "tests", ()):
        out.append("<p>Not enough turns to measure the loop.</p>")
    else:
        for who in seq.names:
            out.append(f"<h3>{escape(who)} reaching</h3>")
            out.append(render_loop_diagram(seq, who))
    out.append(_caveat("Arrows: p = how often the next turn was that step; Q = Yule's Q (−1 to "
                       "+1, 0 = no more often than otherwise) with its 95% interval. Counts of "
                       "coded messages describe these conversations, not the people."))
    s = result.series
    out.append("<h2>The long arc</h2>")
    crises = ", ".join(f"{e.day.isoformat()} ({e.sender})" for e in s.crises) or "none"
    out.append(f"<p>Crises (talk of leaving): {escape(crises)}. Promises: "
               f"{escape(str(len(s.promises)))}.</p>")
    starts = [d.isoformat() for d in s.bin_starts]
    for who, fams in result.long_arc.items():
        out.append(f"<h3>{escape(who)}</h3>")
        for res in fams.values():
            if res.weeks == 0:
                continue
            out.append(render_long_arc_chart(res, bin_starts=starts,
                                             crisis_bins=s.crisis_bins(),
                                             promise_bins=s.promise_bins()))
            out.append(f"<p>{escape(res.verdict)}</p>")
        verdict = result.shifts.get(who)
        if verdict:
            out.append(f"<p><strong>{escape(verdict)}</strong></p>")
    out.append(_caveat("Dots: share of the sender's messages each week; line: fitted model; red:"
                       " crises; green dashes: promises. Needs at least 2 crises and 8 weeks "
                       "after the first; fitted curves are descriptions, not forecasts. With "
                       "many series, about one in twelve shows a crisis effect by chance "
                       "(measured on synthetic couples with none): give \"weak evidence\" "
                       "verdicts little weight."))
    out.append("<h2>What if</h2>")
    runs = [(label, sim) for label, sim in (result.simulation or ())]
    if runs:
        out.append(render_what_if(runs))
    else:
        out.append("<p>Not enough turns for the turn-level model, so no what-if runs.</p>")
    out.append(_caveat("Simulated from the fitted turn-level model under an assumed change: "
                       "what this model of these conversations would do, not a prediction "
                       "about the people."))
    out.append("</section>")
    return Markup("\n".join(out))
