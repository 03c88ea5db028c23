"""What met each reach and each repair attempt, and how fast each partner replied.

The reply to a message is the other sender's next run (their consecutive messages, taken as one
turn) in the same episode. It does not count, and the message was *ignored*, when

- the episode ended first (``episode_end``),
- it came later than the reply window after the message (``late``), or
- the sender tried again first: a later burst of the same run carries another message of the
  same kind, another reach after a reach, another repair after a repair (``reached_again``).

The partner's next message is still noted as ``later_reply_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from heard.patterns._data import MessageView
from heard.patterns._episodes import Frame
from heard.patterns._outcomes import ReachOutcome, RepairOutcome

__all__ = ["Answer", "find_answers", "latencies", "reach_outcomes", "repair_outcomes"]

#: Defend codes that turn *away* from a bid rather than against it (Gottman's three responses).
_AWAY_DEFENSES = frozenset({"withdrawal"})


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one message, or why there was none."""

    view: MessageView
    response: tuple[MessageView, ...] = ()
    ignored_why: str | None = None
    later: MessageView | None = None
    latency_seconds: float | None = None

    @property
    def answered(self) -> bool:
        return self.ignored_why is None

    def codes(self, family: str | None = None) -> tuple[str, ...]:
        out: set[str] = set()
        for v in self.response:
            out.update(v.codes if family is None else v.family(family))
        return tuple(sorted(out))

    @property
    def partner(self) -> str | None:
        if self.response:
            return self.response[0].sender
        return self.later.sender if self.later is not None else None


def _seconds(a: MessageView, b: MessageView) -> float | None:
    if a.timestamp is None or b.timestamp is None:
        return None
    return (b.timestamp - a.timestamp).total_seconds()


def find_answers(
    frame: Frame, is_kind: Callable[[MessageView], bool], window_s: float
) -> list[Answer]:
    """The answer to every message of a kind in one episode, in message order."""
    out: list[Answer] = []
    for r, (start, end) in enumerate(frame.runs):
        # Scan the run backwards so each message knows whether a later burst tries again.
        latest_kind_burst = -1
        found: list[tuple[MessageView, bool]] = []
        for i in range(end - 1, start - 1, -1):
            v = frame.views[i]
            if is_kind(v):
                found.append((v, latest_kind_burst > frame.burst_of[i]))
                latest_kind_burst = max(latest_kind_burst, frame.burst_of[i])
        if not found:
            continue
        later = frame.later_reply(frame.views[start].sender, r)
        reply = frame.run_views(r + 1) if r + 1 < len(frame.runs) else []
        for v, tried_again in reversed(found):
            latency = _seconds(v, later) if later is not None else None
            if tried_again:
                out.append(Answer(v, (), "reached_again", later))
            elif not reply:
                out.append(Answer(v, (), "episode_end", later))
            elif latency is not None and latency > window_s:
                out.append(Answer(v, (), "late", later, latency))
            else:
                out.append(Answer(v, tuple(reply), None, later, latency))
    return out


def _turn(answer: Answer, defense: tuple[str, ...], attack: tuple[str, ...]) -> str:
    if not answer.answered:
        return "away"
    if attack or any(c not in _AWAY_DEFENSES for c in defense):
        return "against"
    if defense:
        return "away"
    return "toward"


def reach_outcomes(frame: Frame, window_s: float) -> list[ReachOutcome]:
    """Every reach of the episode and what met it."""
    out: list[ReachOutcome] = []
    for a in find_answers(frame, lambda v: v.has_family("reach"), window_s):
        defense, attack, hold = a.codes("defend"), a.codes("attack"), a.codes("hold")
        if not a.answered:
            outcome = "ignored"
        elif attack:
            outcome = "attacked"
        elif defense:
            outcome = "defended"
        elif hold:
            outcome = "heard"
        else:
            outcome = "neutral"
        v = a.view
        out.append(ReachOutcome(
            message_id=v.id,
            conversation_id=frame.conversation_id,
            episode_id=frame.id,
            sender=v.sender,
            partner=a.partner,
            timestamp=v.timestamp,
            codes=v.family("reach"),
            outcome=outcome,
            turn=_turn(a, defense, attack),
            response_ids=tuple(r.id for r in a.response),
            response_codes=a.codes(),
            defense_codes=defense,
            attack_codes=attack,
            hold_codes=hold,
            ignored_why=a.ignored_why,
            later_reply_id=a.later.id if a.later is not None and not a.answered else None,
            latency_seconds=a.latency_seconds,
        ))
    return out


def repair_outcomes(frame: Frame, window_s: float) -> list[RepairOutcome]:
    """Every repair attempt of the episode: landed (met with hold or repair), ignored, unclear."""
    out: list[RepairOutcome] = []
    for a in find_answers(frame, lambda v: "repair_attempt" in v.codes, window_s):
        defense, attack = a.codes("defend"), a.codes("attack")
        if not a.answered:
            outcome, how = "ignored", "unanswered"
        elif attack:
            outcome, how = "ignored", "attacked"
        elif defense:
            outcome, how = "ignored", "defended"
        elif a.codes("hold"):
            outcome, how = "landed", "held"
        elif "repair_attempt" in a.codes():
            outcome, how = "landed", "repaired"
        else:
            # An answer that neither holds, repairs nor refuses is not evidence of success: the
            # coder may have missed what it did ("then stop making everything a drama").
            outcome, how = "unclear", "other" if a.codes() else "uncoded"
        v = a.view
        out.append(RepairOutcome(
            message_id=v.id,
            conversation_id=frame.conversation_id,
            episode_id=frame.id,
            sender=v.sender,
            partner=a.partner,
            timestamp=v.timestamp,
            outcome=outcome,
            how=how,
            response_ids=tuple(r.id for r in a.response),
            response_codes=a.codes(),
            defense_codes=defense,
            attack_codes=attack,
            ignored_why=a.ignored_why,
            later_reply_id=a.later.id if a.later is not None and not a.answered else None,
            latency_seconds=a.latency_seconds,
        ))
    return out


def latencies(frame: Frame) -> list[tuple[str, float]]:
    """``(sender, seconds)`` for every change of turn in the episode where both sides are timed.

    The latency runs from the last message of one run to the first message of the next.
    """
    out: list[tuple[str, float]] = []
    for r in range(1, len(frame.runs)):
        prev = frame.views[frame.runs[r - 1][1] - 1]
        first = frame.views[frame.runs[r][0]]
        s = _seconds(prev, first)
        if s is not None and s >= 0:
            out.append((first.sender, s))
    return out
