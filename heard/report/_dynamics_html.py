"""Dynamics sections of the HTML report: how each step of the loop followed the last, the
months (one figure per partner, only for what the data support), and what if one thing
changed.

The main text is plain sentences; every statistic (transition probabilities, Yule's Q,
AIC, p-values, model names) sits in one collapsed part, "How these numbers were computed"
(``#dynamics-how``). Figures are inline SVG with a ``viewBox`` and no fixed width, so they
scale to a phone; their labels meet 4.5:1 contrast on white, and the report's CSS gives them a
dark background in dark mode (``svg.dyn-fig``). Every piece of text goes through
``markupsafe.escape``. The functions only read results computed in :mod:`heard.dynamics`;
they never recompute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from heard.dynamics import HARD_END_ROUNDS, DynamicsResult, LongArcResult

__all__ = ["ArcFindings", "long_arc_findings", "render_dynamics_sections",
           "render_long_arc_figure", "render_what_if"]

_FONT = 'font-family="system-ui, sans-serif"'
# Light-mode colours, each at least 4.5:1 on white where it carries text; the report's CSS
# swaps them in dark mode through the classes next to them.
_INK, _MUTED, _ACCENT, _CRISIS = "#1d1d1f", "#4a4a50", "#1f4e79", "#b3261e"
# Bars and dots are graphics: at least 3:1 on white (WCAG 1.4.11); the baseline is decoration.
_RULE, _DOT, _BAR_SOFT = "#c9c6bd", "#6b6b73", "#6e8cab"
#: Width of every figure's coordinate system: about a phone's width, so that text drawn at
#: 13 units stays about 13 px on a 390 px screen.
FIG_W = 360

# What each family's messages do, as a verb phrase after a name ("Maya held space").
_DID = {"reach": "reached out", "attack": "attacked", "defend": "defended",
        "overfunction": "carried the conversation alone", "harden": "hardened",
        "hold": "held space"}
# Short titles for the figure's rows.
_TITLE = {"reach": "Reaching out", "attack": "Attacking", "defend": "Defending",
          "overfunction": "Carrying it alone", "harden": "Hardening", "hold": "Holding space"}
#: Below this AIC gain a crisis effect is "weak" (LongArcResult.delta_aic); below this p a
#: trend is "clear". Weak findings are named in words, never drawn.
CLEAR_AIC, CLEAR_P = 6.0, 0.01


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


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


def _caveat(s: str) -> str:
    return f'<p class="caveat"><small>{escape(s)}</small></p>'


def _fmt(x: float | None, nd: int = 2) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{nd}f}"


def _wrap(s: str, width: int) -> list[str]:
    """Greedy word wrap for SVG text, which does not wrap by itself."""
    lines: list[str] = []
    for word in s.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


# -- (a) how each step followed the last ------------------------------------------------------
_LOOP_STEPS = (
    # (test name, whose turn is the given one: "A" the one who reaches, "B" the other, words)
    ("vulnerable_share->defence", "A", "{A} reached out, and {B} defended or attacked next"),
    ("defence->overfunction", "B", "{B} defended, and {A} carried the conversation alone next"),
    ("overfunction->unreciprocated->overfunction", "A",
     "{A} carried it alone, was not held, and carried it alone again"),
    ("hardening->counter_blame", "A", "{A} hardened, and {B} blamed back next"),
)


def _find_test(seq: Any, name: str, given_sender: str) -> Any:
    for t in getattr(seq, "tests", ()):
        if t.name == name and t.given_sender == given_sender:
            return t
    return None


def _step_words(t: Any) -> str:
    if t is None or not t.enough_data or t.yules_q is None:
        return "too few moments to tell"
    a, b, c, d = t.counts
    here = a / (a + b) if a + b else 0.0
    else_ = c / (c + d) if c + d else 0.0
    if (t.p_value if t.p_value is not None else 1.0) < 0.05 and t.yules_q > 0:
        how = "more often than after other turns"
    elif (t.p_value if t.p_value is not None else 1.0) < 0.05 and t.yules_q < 0:
        how = "less often than after other turns"
    else:
        how = "not clearly more often than after other turns"
    return f"{a} of {a + b} times ({here:.0%}); {how} ({else_:.0%})"


def _loop_table(seq: Any) -> list[str]:
    names = tuple(getattr(seq, "names", ()))
    if len(names) != 2:
        return ["<p>Not enough turns to see how each step followed the last.</p>"]
    out = ['<div class="tablewrap"><table class="side dyn-steps">',
           "<caption>How often each step of the loop followed the one before</caption>",
           '<thead><tr><th scope="col">Step</th>'
           + "".join(f'<th scope="col">When {escape(n)} reached out</th>' for n in names)
           + "</tr></thead><tbody>"]
    for test_name, giver, words in _LOOP_STEPS:
        label = words.format(A="one partner", B="the other")
        cells = []
        for reacher in names:
            other = next(n for n in names if n != reacher)
            t = _find_test(seq, test_name, reacher if giver == "A" else other)
            cells.append(f'<td data-label="When {escape(reacher)} reached out">'
                         f"{escape(_step_words(t))}</td>")
        out.append(f'<tr><th scope="row">{escape(label[:1].upper() + label[1:])}</th>'
                   + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return out


def _loop_how(seq: Any) -> list[str]:
    rows = []
    for t in getattr(seq, "tests", ()):
        a, b = t.counts[0], t.counts[1]
        p = a / (a + b) if a + b else float("nan")
        lo, hi = t.ci if t.ci else (None, None)
        rows.append(f"<tr><td>{escape(t.name)}</td><td>{escape(t.given_sender)}</td>"
                    f'<td class="num">{a}/{a + b}</td><td class="num">{_fmt(p)}</td>'
                    f'<td class="num">{_fmt(t.yules_q)} [{_fmt(lo)}, {_fmt(hi)}]</td>'
                    f'<td class="num">{_fmt(t.p_value, 3)}</td>'
                    f'<td class="num">{_fmt(t.p_adjusted, 3)}</td></tr>')
    if not rows:
        return []
    return ["<h4>Each step of the loop</h4>",
            "<p>Lag-sequential tests on turns: for each step, the 2×2 table of what came after "
            "a turn of that kind and after other turns. p(next | given) is the share shown in "
            "the table above; Yule's Q runs from −1 to +1 (0: no more often than otherwise), "
            "with its 95% interval; the p-value comes from a permutation baseline (the "
            "adjusted one corrects for the number of tests). \"More often\" in the text means "
            "Q above 0 with p below 0.05.</p>",
            '<div class="tablewrap"><table><thead><tr><th>test</th><th>given sender</th>'
            "<th>count</th><th>p(next | given)</th><th>Q [95% CI]</th><th>p</th>"
            "<th>p adjusted</th></tr></thead><tbody>", *rows, "</tbody></table></div>"]


# -- (b) the months ---------------------------------------------------------------------------
def _ratio_words(rr: float) -> str:
    if rr >= 1.5:
        return f"about {rr:.0f} times as often" if rr >= 3 else f"about {rr:.1f} times as often"
    if rr >= 1:
        return f"about {(rr - 1) * 100:.0f}% more often"
    return f"about {(1 - rr) * 100:.0f}% less often"


def _weeks(x: float) -> str:
    n = max(1, round(x))
    return _plural(n, "week")


def _crisis_sentence(who: str, fam: str, r: LongArcResult) -> str:
    did = _DID.get(fam, f"sent {fam} messages")
    k = len(r.crisis_bins)
    after = "After each crisis" if k > 1 else "After the crisis"
    if r.model == "step" and r.step_rate_ratio:
        s = f"{after}, {who} {did} {_ratio_words(r.step_rate_ratio)}, and it stayed that way."
    else:
        pulse = math.exp(math.log(r.peak_rate_ratio or 1.0) - math.log(r.step_rate_ratio or 1.0))
        s = (f"{after}, {who} {did} {_ratio_words(pulse)} for a while; the change faded by "
             f"half in about {_weeks(r.half_life_weeks or 1.0)}")
        if r.model == "pulse":
            s += ", and nothing of it lasted."
        elif r.fraction_retained is not None:
            s += f", and about {r.fraction_retained * 100:.0f}% of it lasted."
        else:
            s += ", and what remained went the other way."
        h = r.habituation
        if h and h.get("each_crisis_buys_less"):
            s += " Each crisis brought less of it than the one before."
    return s


def _trend_sentence(who: str, fam: str, t: Any) -> str:
    did = _DID.get(fam, f"sent {fam} messages")
    rr = t.rate_ratio_per_month or 1.0
    more = "more" if rr >= 1 else "less"
    pct = abs(rr - 1) * 100
    amount = f"{pct:.1f}" if pct < 1 else f"{pct:.0f}"
    return (f"Over the months, {who} {did} steadily {more} often: about {amount}% "
            f"{'more' if rr >= 1 else 'fewer'} such messages each month.")


@dataclass
class ArcFindings:
    """What the months show for one partner, in plain words.

    ``clear`` are sentences the data support (drawn in the figure: ``rows`` are their
    families); ``weak`` are changes that could be chance (named, not drawn); ``enough`` is
    False when no series could be modelled.
    """

    who: str
    clear: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    enough: bool = True
    #: Whether the crisis model could be fitted at all (it needs 2 crises and 8 weeks after).
    crisis_checked: bool = True


def long_arc_findings(result: DynamicsResult) -> dict[str, ArcFindings]:
    """Per partner, the plain-words findings of the long arc (crisis effects and trends)."""
    out: dict[str, ArcFindings] = {}
    for who, fams in result.long_arc.items():
        f = ArcFindings(who)
        trends = result.trends.get(who, {})
        modelled = [r for r in fams.values() if r.model != "insufficient_data"]
        trended = [t for t in trends.values() if t.status != "insufficient_data"]
        f.enough = bool(modelled or trended)
        f.crisis_checked = bool(modelled)
        for fam, r in fams.items():
            if r.model in ("insufficient_data", "none") or r.delta_aic is None:
                continue
            s = _crisis_sentence(who, fam, r)
            if r.delta_aic >= CLEAR_AIC:
                f.clear.append(s)
                f.rows.append(fam)
            else:
                f.weak.append(s)
        for fam, t in trends.items():
            if t.status == "insufficient_data" or t.direction not in ("rising", "falling"):
                continue
            s = _trend_sentence(who, fam, t)
            if t.p_value is not None and t.p_value < CLEAR_P:
                f.clear.append(s)
                if fam not in f.rows:
                    f.rows.append(fam)
            else:
                f.weak.append(s)
        of, hd = trends.get("overfunction"), trends.get("harden")
        if (of and hd and of.direction == "falling" and hd.direction == "rising"
                and "overfunction" in f.rows and "harden" in f.rows):
            f.clear.append(f"Together: {who} carried the conversation alone less and hardened "
                           "more, the turn from step 3 of the loop to step 4.")
        out[who] = f
    return out


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
        body.append(_text(0, y0 + 13, _TITLE.get(fam, fam), weight="bold"))

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
    label = f"{who} over the months: " + ", ".join(_TITLE.get(f, f) for f, _ in rows)
    return _svg(height, body, label)


def _arc_how(result: DynamicsResult) -> list[str]:
    rows = []
    for who, fams in result.long_arc.items():
        for fam, r in fams.items():
            t = result.trends.get(who, {}).get(fam)
            hl = "–" if r.half_life_weeks is None else f"{r.half_life_weeks:.1f}"
            trend = ("–" if t is None or t.rate_ratio_per_month is None
                     else f"{t.rate_ratio_per_month:.3f} (p {_fmt(t.p_value, 3)})")
            rows.append(f"<tr><td>{escape(who)}</td><td>{escape(fam)}</td>"
                        f"<td>{escape(r.model)}</td><td class=\"num\">{_fmt(r.delta_aic, 1)}</td>"
                        f'<td class="num">{hl}</td><td class="num">{_fmt(r.fraction_retained)}'
                        f'</td><td class="num">{escape(trend)}</td></tr>')
    if not rows:
        return []
    return ["<h4>The months</h4>",
            "<p>Counts of each family of codes per week, with the sender's messages that week "
            "as exposure, in a negative binomial model (log link). Four hypotheses about the "
            "crises (no change; a lasting step per crisis; a passing pulse that decays; both) "
            "are compared by AIC, each with and without a slow trend; a crisis effect counts "
            f"only when it beats no change by more than 2. Below {CLEAR_AIC:g} it is weak "
            "evidence and only named in words, not drawn: in simulated couples with no crisis "
            "effect about one series in twelve still shows one. The half-life is in weeks; "
            "\"kept\" is the share of the change that lasted. The trend column is a separate "
            "test (rate ratio per month, likelihood-ratio p); below p "
            f"{CLEAR_P:g} it is drawn as clear. Needs at least 2 crises and 8 weeks after "
            "the first.</p>",
            '<div class="tablewrap"><table><thead><tr><th>sender</th><th>family</th>'
            "<th>model</th><th>AIC below no change</th><th>half-life</th><th>kept</th>"
            "<th>trend per month</th></tr></thead><tbody>", *rows, "</tbody></table></div>"]


def _months(result: DynamicsResult) -> list[str]:
    s = result.series
    out = ['<h2 id="dyn-months-h">Over the months</h2>']
    findings = long_arc_findings(result)
    if not any(f.enough for f in findings.values()):
        out.append("<p>There are not enough weeks of messages to follow the months: that "
                   "needs at least 2 crises (talk of leaving) and 8 weeks after the first.</p>")
        return out
    k = len(s.crises)
    if k:
        whose = sorted({e.sender for e in s.crises})
        days = ", ".join(_day(e.day) for e in s.crises)
        out.append(f"<p>heard found {_plural(k, 'crisis', 'crises')} (talk of leaving), "
                   f"raised by {escape(' and '.join(whose))}: {escape(days)}; and "
                   f"{_plural(len(s.promises), 'promise')} to change.</p>")
    else:
        out.append("<p>heard found no crisis (talk of leaving) in these messages, so only "
                   "slow changes over the months are looked for.</p>")
    if k and not any(f.crisis_checked for f in findings.values()):
        out.append(f"<p>With {_plural(k, 'crisis', 'crises')}, heard cannot tell whether "
                   f"anything changed around {'it' if k == 1 else 'them'}: that needs at "
                   "least 2 crises and 8 weeks after the first.</p>")
    starts = list(s.bin_starts)
    for who, f in findings.items():
        out.append(f"<h3>{escape(who)}</h3>")
        if not f.enough:
            out.append(f"<p>Too few of {escape(who)}'s messages to follow over the months.</p>")
            continue
        if f.clear:
            out.append("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in f.clear) + "</ul>")
            rows = [(fam, result.long_arc[who][fam]) for fam in f.rows
                    if fam in result.long_arc[who] and result.long_arc[who][fam].weeks]
            fig = render_long_arc_figure(who, rows, bin_starts=starts,
                                         crisis_bins=s.crisis_bins()) if rows else ""
            if fig:
                out.append(f'<figure class="dyn">{fig}<figcaption class="small">Dots: the '
                           f"share of {escape(who)}'s messages each week; line: the pattern "
                           "heard fitted; red lines: crises.</figcaption></figure>")
        elif f.crisis_checked:
            out.append(f"<p>Nothing in {escape(who)}'s messages changed clearly, neither "
                       "around the crises nor over the months.</p>")
        else:
            out.append(f"<p>Nothing in {escape(who)}'s messages changed clearly over the "
                       "months.</p>")
        if f.weak:
            more = _plural(len(f.weak), "smaller change")
            out.append(f'<p class="small">heard also saw {more} that could be chance (details '
                       'under <a href="#dynamics-how">How these numbers were computed</a>).</p>')
    out.append(_caveat("Patterns in messages over time, not forecasts and not verdicts about "
                       "anyone; a change after a crisis does not say the crisis caused it."))
    return out


def _weak_list(result: DynamicsResult) -> list[str]:
    items = [x for f in long_arc_findings(result).values() for x in f.weak]
    if not items:
        return []
    return ["<p>Smaller changes that could be chance:</p>",
            "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in items) + "</ul>"]


# -- (c) what if ------------------------------------------------------------------------------
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


def _what_if(result: DynamicsResult, safety: bool) -> list[str]:
    out = ['<h2 id="dyn-whatif-h">What if one thing changed?</h2>']
    if safety:
        out.append("<p>heard does not show what-if changes when messages raise a safety "
                   "concern. Nothing in this report is advice to soften, give way or stay.</p>")
        return out
    runs = list(result.simulation or ())
    if not runs:
        out.append("<p>There are not enough turns between the two partners for the "
                   "turn-by-turn model, so heard cannot try changes here.</p>")
        return out
    base = runs[0][1]
    n = base.n_runs
    now = round(base.share_hard_end * 100)
    pair = " and ".join(base.names)
    out.append(f"<p>heard ran {n} simulated conversations that start like a typical hard one "
               f"between {escape(pair)}, each {base.n_turns} turns long, from the pattern it "
               f"fitted to their turns. As it is now, {now} of 100 end on a hard note (over "
               f"their last {HARD_END_ROUNDS} turns both were more hurtful than warm).</p>")
    if len(runs) == 1:
        if now < 10:
            out.append("<p>Few of them end on a hard note, so there is nothing here for a "
                       "small change to move.</p>")
        else:
            out.append("<p>No small repair by either partner changes that visibly in this "
                       "model.</p>")
    else:
        out.append("<p>The smallest repair by each partner that visibly changes how they end "
                   "(a soft word, a joke, an “I'm sorry, can we start again” after a hard "
                   "turn):</p>")
        out.append(f'<figure class="dyn">{render_what_if(runs)}</figure>')
    out.append("<p class=\"small\">To try other changes, run <code>heard simulate</code> on "
               "the same file; it explains each change and suggests what to try.</p>")
    out.append(_caveat("Simulated from the pattern fitted to these messages under an assumed "
                       "change: what this model would do, not a prediction about the people."))
    return out


def _what_if_how(result: DynamicsResult) -> list[str]:
    runs = list(result.simulation or ())
    if not runs:
        return []
    rows = []
    for label, sim in runs:
        for who, q in sim.mean_score_quantiles.items():
            rows.append(f"<tr><td>{escape(label)}</td><td>{escape(who)}</td>"
                        f'<td class="num">{_fmt(q[2])} [{_fmt(q[0])}, {_fmt(q[-1])}]</td>'
                        f'<td class="num">{_fmt(sim.share_hard_end)}</td>'
                        f'<td class="num">{_fmt(sim.share_negative)}</td></tr>')
    return ["<h4>What if</h4>",
            "<p>A Gottman–Murray model fitted to turn scores (each turn scored from its codes, "
            "−8 to +8): each partner's next score is their own starting point, plus a share "
            "of their last score, plus a response to the other's last score, plus noise. "
            "Conversations are simulated from the median scores of a reach and its answer. "
            "A repair of strength c adds up to 2c to a partner's next score after the other's "
            "score drops below 0; the smallest c (in steps of 0.1) that ends at least 10 of "
            "100 fewer conversations on a hard note is shown, every candidate run with the "
            "same seed. The last column is the share whose noise-free continuation settles "
            "below neutral.</p>",
            '<div class="tablewrap"><table><thead><tr><th>scenario</th><th>partner</th>'
            "<th>mean score, median [5%, 95%]</th><th>ends hard</th><th>settles below 0</th>"
            "</tr></thead><tbody>", *rows, "</tbody></table></div>"]


# -- the sections ------------------------------------------------------------------------------
def render_dynamics_sections(result: DynamicsResult, *, safety: bool = False) -> str:
    """The report's dynamics sections as one HTML string (the loop's steps, the months, what
    if), with every statistic in one collapsed part, ``#dynamics-how``.

    ``safety``: messages raised a safety concern; no what-if changes are shown.
    """
    out: list[str] = ['<section class="dynamics" id="dynamics" aria-labelledby="dyn-steps-h">',
                      '<h2 id="dyn-steps-h">How each step of the loop followed the last</h2>']
    seq = result.sequential
    if seq is None or not getattr(seq, "tests", ()):
        out.append("<p>Not enough turns to see how each step followed the last.</p>")
    else:
        out.append("<p>For each step, how often the next turn was the loop's next step, and "
                   "how often the same turn followed anything else.</p>")
        out.extend(_loop_table(seq))
        out.append(_caveat("Counts of coded turns describe these conversations, not the people."
                           " The step from carrying it alone to hardening happens over days, "
                           "so it is followed over the months below, not turn by turn."))
    out.extend(_months(result))
    out.extend(_what_if(result, safety))
    how = [*(_loop_how(seq) if seq is not None else []), *_arc_how(result),
           *_weak_list(result), *([] if safety else _what_if_how(result))]
    if result.notes:
        how.append("<h4>Notes from the models</h4><ul>"
                   + "".join(f"<li>{escape(n)}</li>" for n in result.notes) + "</ul>")
    if how:
        out.append('<details class="dyn-how" id="dynamics-how"><summary>How these numbers were '
                   "computed</summary>")
        out.extend(how)
        out.append("</details>")
    out.append("</section>")
    return Markup("\n".join(out))
