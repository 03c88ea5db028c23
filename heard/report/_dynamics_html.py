"""Dynamics sections of the HTML report: how each step of the loop followed the last, the
months (one figure per partner, only for what the data support), and what if one thing
changed.

The main text is plain sentences; every statistic (transition probabilities, Yule's Q,
AIC, p-values, model names) sits in one collapsed part, "How these numbers were computed"
(``#dynamics-how``). The figures are drawn in :mod:`heard.report._dynamics_svg`, the long
arc's sentences written in :mod:`heard.report._dynamics_words`. Every piece of text goes
through ``markupsafe.escape``. The functions only read results computed in
:mod:`heard.dynamics`; they never recompute.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from heard.dynamics import HARD_END_ROUNDS, DynamicsResult
from heard.report._dynamics_svg import render_long_arc_figure, render_what_if
from heard.report._dynamics_words import CLEAR_AIC, CLEAR_P, long_arc_findings, plural

__all__ = ["render_dynamics_sections"]


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _caveat(s: str) -> str:
    return f'<p class="caveat"><small>{escape(s)}</small></p>'


def _fmt(x: float | None, nd: int = 2) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{nd}f}"


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
        out.append(f"<p>heard found {plural(k, 'crisis', 'crises')} (talk of leaving), "
                   f"raised by {escape(' and '.join(whose))}: {escape(days)}; and "
                   f"{plural(len(s.promises), 'promise')} to change.</p>")
    else:
        out.append("<p>heard found no crisis (talk of leaving) in these messages, so only "
                   "slow changes over the months are looked for.</p>")
    if k and not any(f.crisis_checked for f in findings.values()):
        out.append(f"<p>With {plural(k, 'crisis', 'crises')}, heard cannot tell whether "
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
            more = plural(len(f.weak), "smaller change")
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
