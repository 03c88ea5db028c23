"""The long arc in plain words: per partner, what changed over the months and around crises.

A change is "clear" (said, and drawn in the figure) when the crisis model beats no change by at
least :data:`CLEAR_AIC` or a trend's p is below :data:`CLEAR_P`; weaker changes could be chance
and are only named. The HTML report and the summary PDF both say these sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from heard.dynamics import DynamicsResult, LongArcResult

__all__ = ["CLEAR_AIC", "CLEAR_P", "ArcFindings", "long_arc_findings", "plural"]

# What each family's messages do, as a verb phrase after a name ("Maya held space").
_DID = {"reach": "reached out", "attack": "attacked", "defend": "defended",
        "overfunction": "carried the conversation alone", "harden": "hardened",
        "hold": "held space"}
#: Below this AIC gain a crisis effect is "weak" (LongArcResult.delta_aic); below this p a
#: trend is "clear". Weak findings are named in words, never drawn.
CLEAR_AIC, CLEAR_P = 6.0, 0.01


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _ratio_words(rr: float) -> str:
    if rr >= 1.5:
        return f"about {rr:.0f} times as often" if rr >= 3 else f"about {rr:.1f} times as often"
    if rr >= 1:
        return f"about {(rr - 1) * 100:.0f}% more often"
    return f"about {(1 - rr) * 100:.0f}% less often"


def _weeks(x: float) -> str:
    n = max(1, round(x))
    return plural(n, "week")


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
