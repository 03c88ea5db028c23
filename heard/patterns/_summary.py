"""Per-partner summaries: the same counts and rates for every sender, from the found patterns.

Counts come straight from the messages and the pattern objects; a rate or a latency is given a
value only from ``min_n`` cases up, and always with its n.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from heard.patterns._data import MessageView
from heard.patterns._outcomes import (
    LOOP_STEPS,
    REACH_OUTCOMES,
    TURN_KINDS,
    Chase,
    LoopInstance,
    ReachOutcome,
    RepairOutcome,
)
from heard.patterns._tallies import Latency, PartnerSummary, Rate

__all__ = ["Tally", "latency_summary", "tally"]


@dataclass(slots=True)
class _Acc:
    messages: int = 0
    reaches: int = 0
    reaches_by_code: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    bids: int = 0
    turned: Counter[str] = field(default_factory=Counter)
    families: dict[str, Counter[str]] = field(default_factory=dict)
    hardening: int = 0
    repairs: int = 0
    repairs_landed: int = 0
    repairs_ignored: Counter[str] = field(default_factory=Counter)
    repairs_unclear: int = 0
    chases: int = 0
    chase_followups: int = 0
    longest_chase: int = 0
    as_pursuer: Counter[str] = field(default_factory=Counter)
    as_partner: Counter[str] = field(default_factory=Counter)
    steps: Counter[str] = field(default_factory=Counter)
    distance_blames: int = 0
    latencies: list[float] = field(default_factory=list)

    def family(self, name: str) -> Counter[str]:
        c = self.families.get(name)
        if c is None:
            c = self.families[name] = Counter()
        return c

    def merge(self, other: _Acc) -> None:
        """Add another accumulator's counts (a conversation's, into the corpus's)."""
        self.messages += other.messages
        self.reaches += other.reaches
        self.reaches_by_code.update(other.reaches_by_code)
        self.outcomes.update(other.outcomes)
        self.bids += other.bids
        self.turned.update(other.turned)
        for name, counts in other.families.items():
            self.family(name).update(counts)
        self.hardening += other.hardening
        self.repairs += other.repairs
        self.repairs_landed += other.repairs_landed
        self.repairs_ignored.update(other.repairs_ignored)
        self.repairs_unclear += other.repairs_unclear
        self.chases += other.chases
        self.chase_followups += other.chase_followups
        self.longest_chase = max(self.longest_chase, other.longest_chase)
        self.as_pursuer.update(other.as_pursuer)
        self.as_partner.update(other.as_partner)
        self.steps.update(other.steps)
        self.distance_blames += other.distance_blames
        self.latencies.extend(other.latencies)


_COUNTED = frozenset({"defend", "attack", "hold", "overfunction"})


def latency_summary(values: Sequence[float], min_n: int) -> Latency:
    """Median and quartiles (inclusive method) of the latencies, from ``min_n`` values up."""
    n = len(values)
    if n == 0 or n < min_n:
        return Latency(n=n, min_n=min_n)
    if n == 1:
        return Latency(n, min_n, values[0], values[0], values[0])
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Latency(n, min_n, med, q1, q3)


class Tally:
    """Counts per sender, filled from one conversation's patterns; tallies add up.

    ``summaries(min_n)`` turns them into one :class:`PartnerSummary` per sender (every sender
    given at construction listed, zeros where none).
    """

    __slots__ = ("acc",)

    def __init__(self, senders: Iterable[str]) -> None:
        self.acc: dict[str, _Acc] = {s: _Acc() for s in senders}

    def add(self, other: Tally) -> None:
        for s, a in other.acc.items():
            mine = self.acc.get(s)
            if mine is None:
                mine = self.acc[s] = _Acc()
            mine.merge(a)

    def summaries(self, min_n: int) -> dict[str, PartnerSummary]:
        return {s: _summary(s, a, min_n) for s, a in self.acc.items()}


def tally(
    senders: Iterable[str],
    views: Iterable[MessageView],
    reaches: Iterable[ReachOutcome],
    repairs: Iterable[RepairOutcome],
    chases: Iterable[Chase],
    loops: Iterable[LoopInstance],
    latencies: Iterable[tuple[str, float]],
) -> Tally:
    """Count what each sender did and what met it."""
    t = Tally(senders)
    acc = t.acc

    def get(sender: str) -> _Acc:
        a = acc.get(sender)
        if a is None:
            a = acc[sender] = _Acc()
        return a

    for v in views:
        a = get(v.sender)
        a.messages += 1
        for fam, codes in v.by_family.items():
            if fam in _COUNTED:
                a.family(fam).update(codes)
        if "hardening" in v.codes:
            a.hardening += 1
    for r in reaches:
        a = get(r.sender)
        a.reaches += 1
        a.reaches_by_code.update(r.codes)
        a.outcomes[r.outcome] += 1
        if "bid" in r.codes:
            a.bids += 1
            a.turned[r.turn] += 1
    for rp in repairs:
        a = get(rp.sender)
        a.repairs += 1
        if rp.outcome == "landed":
            a.repairs_landed += 1
        elif rp.outcome == "ignored":
            a.repairs_ignored[rp.how] += 1
        else:
            a.repairs_unclear += 1
    for ch in chases:
        a = get(ch.sender)
        a.chases += 1
        a.chase_followups += len(ch.followup_ids)
        a.longest_chase = max(a.longest_chase, ch.length)
    for lp in loops:
        kind = "full" if lp.full else "partial"
        get(lp.pursuer).as_pursuer[kind] += 1
        get(lp.pursuer).steps.update(lp.steps_present)
        p = get(lp.partner)
        p.as_partner[kind] += 1
        if lp.distance_blame:
            p.distance_blames += 1
    for sender, seconds in latencies:
        get(sender).latencies.append(seconds)
    return t


def _summary(sender: str, a: _Acc, min_n: int) -> PartnerSummary:
    return PartnerSummary(
        sender=sender,
        messages=a.messages,
        reaches=a.reaches,
        reaches_by_code=dict(sorted(a.reaches_by_code.items())),
        reach_outcomes={k: Rate(a.outcomes[k], a.reaches, min_n) for k in REACH_OUTCOMES},
        bids=a.bids,
        bids_turned={k: a.turned[k] for k in TURN_KINDS},
        turn_toward=Rate(a.turned["toward"], a.bids, min_n),
        defenses=dict(sorted(a.family("defend").items())),
        attacks=dict(sorted(a.family("attack").items())),
        holds=dict(sorted(a.family("hold").items())),
        overfunctioning=dict(sorted(a.family("overfunction").items())),
        hardening=a.hardening,
        repairs=a.repairs,
        repairs_landed=Rate(a.repairs_landed, a.repairs, min_n),
        repairs_ignored=dict(sorted(a.repairs_ignored.items())),
        repairs_unclear=a.repairs_unclear,
        chases=a.chases,
        chase_followups=a.chase_followups,
        longest_chase=a.longest_chase,
        loops_as_pursuer={"full": a.as_pursuer["full"], "partial": a.as_pursuer["partial"]},
        loops_as_partner={"full": a.as_partner["full"], "partial": a.as_partner["partial"]},
        loop_steps_as_pursuer={s: a.steps[s] for s in LOOP_STEPS},
        distance_blames=a.distance_blames,
        latency=latency_summary(a.latencies, min_n),
    )
