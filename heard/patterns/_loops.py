"""Loop instances: reach → defend/attack → overfunction → harden → counter_blame.

An instance starts at a reach whose reply defended or attacked (step 2: the reply's messages
that do). From then on (the rest of the reply turn included), inside the episode:

- the pursuer's messages with an ``overfunction`` code make step 3 (as many as there are, until
  the pursuer hardens); the partner may keep defending in between (``further_defense_ids``);
- the pursuer's ``hardening`` messages make step 4;
- the partner's ``counter_blame`` after the hardening makes step 5 and closes the instance. Whether
  it speaks of the pursuer's distance is read with the lexicon in ``data/distance.json``.

The loop breaks, and the instance closes, when the partner answers with ``hold`` and no defense
("held"), when the partner answers a repair attempt of the pursuer with hold or a repair ("repair
landed", the same rule as :class:`RepairOutcome`), when the partner makes a repair attempt
without defending ("repaired"), or when the episode ends ("ended").

Each reach starts at most one instance: while a sender's instance is open, their further reaches
belong to it. Both partners can have an instance open at once (each as pursuer); a message may
then count in both, as what it does in each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from heard.model import codebook
from heard.patterns._data import MessageView, distance_lexicon
from heard.patterns._episodes import Frame
from heard.patterns._outcomes import LOOP_STEPS, LoopInstance, ReachOutcome, RepairOutcome

__all__ = ["find_loops"]


#: Which families or codes make each step, from the codebook ("defend|attack": either).
_MEMBERS: dict[str, tuple[str, ...]] = {s.name: s.members for s in codebook().loop}


def _takes(v: MessageView, step: str) -> bool:
    """Whether message ``v`` carries a family or code that makes ``step`` of the loop."""
    return any(v.has_family(m) or m in v.codes for m in _MEMBERS[step])

_STARTS = frozenset({"defended", "attacked"})


@dataclass(slots=True)
class _Open:
    pursuer: str
    partner: str
    reach: MessageView
    resume_at: int  # first index after the reply's first defense or attack (step 2)
    reply_end: int  # first index after the partner's reply turn
    steps: dict[str, list[str]] = field(default_factory=dict)
    further: list[str] = field(default_factory=list)
    last_ts: datetime | None = None

    @property
    def hardened(self) -> bool:
        return bool(self.steps.get("harden"))

    def add(self, step: str, v: MessageView) -> None:
        self.steps.setdefault(step, []).append(v.id)
        self.touch(v)

    def touch(self, v: MessageView) -> None:
        if v.timestamp is not None and (self.last_ts is None or v.timestamp > self.last_ts):
            self.last_ts = v.timestamp


def _close(
    frame: Frame, op: _Open, how: str, closed_by: MessageView | None,
    terms: tuple[str, ...] = (),
) -> LoopInstance:
    steps = {s: tuple(op.steps.get(s, ())) for s in LOOP_STEPS}
    present = [bool(steps[s]) for s in LOOP_STEPS]
    full = all(present)
    broke_at = broke_how = None
    if not full:
        k = present.index(False)
        broke_at = LOOP_STEPS[k]
        broke_how = "skipped" if any(present[k + 1:]) else how
    if closed_by is not None:
        op.touch(closed_by)
    blamed = bool(steps["counter_blame"])
    return LoopInstance(
        conversation_id=frame.conversation_id,
        episode_id=frame.id,
        pursuer=op.pursuer,
        partner=op.partner,
        reach_id=op.reach.id,
        steps=steps,
        further_defense_ids=tuple(op.further),
        full=full,
        broke_at=broke_at,
        broke_how=broke_how,
        closed_by=closed_by.id if closed_by is not None and how != "counter_blame" else None,
        distance_blame=(bool(terms) if blamed else None),
        distance_terms=terms,
        start=op.reach.timestamp,
        end=op.last_ts,
    )


def _distance_terms(v: MessageView) -> tuple[str, ...]:
    """Distance words in the counter-blame message, each once, in order of appearance."""
    return tuple(dict.fromkeys(term for _, _, term in distance_lexicon().find(v.message.text)))


def find_loops(
    frame: Frame,
    reaches: list[ReachOutcome],
    repairs: list[RepairOutcome],
) -> list[LoopInstance]:
    """The loop instances of one episode, in the order their reaches were sent.

    ``reaches`` and ``repairs`` are this episode's outcomes (from :mod:`._reach`).
    """
    by_reach = {r.message_id: r for r in reaches}
    # A partner message that is the first reply to a landed repair: repair id by reply id.
    landed_by_reply = {r.response_ids[0]: r for r in repairs
                       if r.outcome == "landed" and r.response_ids}
    index_of = {v.id: v.index for v in frame.views}
    open_: dict[str, _Open] = {}
    done: list[tuple[int, LoopInstance]] = []

    for v in frame.views:
        i = v.index
        for pursuer in list(open_):
            op = open_[pursuer]
            if i < op.resume_at:
                continue
            if v.sender == pursuer:
                if not op.hardened and _takes(v, "overfunction"):
                    op.add("overfunction", v)
                if _takes(v, "harden"):
                    op.add("harden", v)
                continue
            if v.sender != op.partner:
                continue
            defends = _takes(v, "defend")
            repair = landed_by_reply.get(v.id)
            if op.hardened and _takes(v, "counter_blame"):
                op.add("counter_blame", v)
                done.append((op.reach.index, _close(frame, op, "counter_blame", v,
                                                    _distance_terms(v))))
                del open_[pursuer]
            elif (repair is not None and repair.sender == pursuer
                  and index_of.get(repair.message_id, -1) >= op.resume_at):
                done.append((op.reach.index, _close(frame, op, "repair landed", v)))
                del open_[pursuer]
            elif defends:
                if i >= op.reply_end:
                    op.further.append(v.id)
                op.touch(v)
            elif v.has_family("hold"):
                done.append((op.reach.index, _close(frame, op, "held", v)))
                del open_[pursuer]
            elif "repair_attempt" in v.codes:
                done.append((op.reach.index, _close(frame, op, "repaired", v)))
                del open_[pursuer]

        outcome = by_reach.get(v.id)
        if outcome is None or outcome.outcome not in _STARTS or v.sender in open_:
            continue
        partner = outcome.partner or ""
        response = [frame.views[index_of[rid]] for rid in outcome.response_ids]
        defending = [rv for rv in response if _takes(rv, "defend")]
        # The rest of the reply turn still counts: "that's not what happened... but I can see
        # why that hurt" takes the feeling in after all, and closes the loop as held.
        op = _Open(v.sender, partner, v, resume_at=defending[0].index + 1,
                   reply_end=response[-1].index + 1)
        op.add("reach", v)
        for rv in defending:
            op.add("defend", rv)
        open_[v.sender] = op

    for op in open_.values():
        done.append((op.reach.index, _close(frame, op, "ended", None)))
    done.sort(key=lambda t: t[0])
    return [lp for _, lp in done]
