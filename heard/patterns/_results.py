"""The pattern layer's whole result and the settings it ran with.

Result tree::

    PatternResult                   find_patterns(corpus)
    ├── episodes: Episode           a conversation split at long silences
    ├── reaches: ReachOutcome       each reach message and what met it
    ├── repairs: RepairOutcome      each repair attempt: landed or ignored
    ├── chases: Chase               runs of messages into silence
    ├── loops: LoopInstance         reach → defend/attack → overfunction → harden → counter_blame
    ├── partners: PartnerSummary    per sender, whole corpus (Rate, Latency inside)
    └── conversations: ConversationSummary   per conversation, the same summaries

    SafetyResult                    scan_safety(corpus)
    ├── findings: SafetyFinding     each message coded ``safety_risk``
    └── resources: Resource         where to get help

The events live in ``_outcomes``, the per-partner counts in ``_tallies``, the safety gate's
result in ``_safety_result``; every one is a :class:`heard.model.Result`, its ``to_dict()``
derived from its fields. The field names are a contract read by the report layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from heard.model import Result, Summary, Table, Text
from heard.patterns._outcomes import (
    REACH_OUTCOMES,
    Chase,
    Episode,
    LoopInstance,
    ReachOutcome,
    RepairOutcome,
)
from heard.patterns._tallies import (
    ConversationSummary,
    PartnerSummary,
    partners_table,
    summary_words,
)

__all__ = ["PatternResult", "PatternSettings"]


@dataclass(frozen=True, slots=True)
class PatternSettings(Result):
    """The thresholds an analysis ran with (defaults from ``patterns/data/settings.json``).

    Attributes
    ----------
    gap_hours : float
        A silence this long (between human messages) starts a new episode.
    reply_window_hours : float
        A reply later than this after a reach or repair counts as ignored.
    min_n : int
        Below this many cases a rate or a latency says "not enough data" instead of a number.
    burst_minutes : float
        Messages from one sender less than this many minutes apart are one turn; a later one
        went out into silence (a chase follow-up, and a new attempt that leaves the earlier
        reach unanswered).
    """

    gap_hours: float
    reply_window_hours: float
    min_n: int
    burst_minutes: float

    summary_title: ClassVar[str] = "Settings of the analysis"


@dataclass(frozen=True)
class PatternResult(Result):
    """Everything the loop detector found. Build it with :func:`heard.patterns.find_patterns`.

    Attributes
    ----------
    settings : PatternSettings
    senders : tuple of str
        Human senders in order of first appearance.
    episodes : tuple of Episode
    reaches : tuple of ReachOutcome
    repairs : tuple of RepairOutcome
    chases : tuple of Chase
    loops : tuple of LoopInstance
    partners : dict of str to PartnerSummary
        Whole-corpus summaries, one per sender.
    conversations : tuple of ConversationSummary
        The same summaries per conversation.
    reference : dict
        Published figures quoted for context, each with its label (e.g. ``turn_toward``:
        Gottman's 86% vs 33%, descriptive figures from one lab's newlywed study, not norms).
    has_timestamps : bool
        Whether any human message had a timestamp (latency, windows and spans need them).
    """

    settings: PatternSettings
    senders: tuple[str, ...]
    episodes: tuple[Episode, ...]
    reaches: tuple[ReachOutcome, ...]
    repairs: tuple[RepairOutcome, ...]
    chases: tuple[Chase, ...]
    loops: tuple[LoopInstance, ...]
    partners: Mapping[str, PartnerSummary]
    conversations: tuple[ConversationSummary, ...]
    reference: Mapping[str, Any] = field(default_factory=dict)
    has_timestamps: bool = False

    json_extra: ClassVar[Mapping[str, str]] = {"counts": "counts"}
    json_order: ClassVar[tuple[str, ...]] = ("settings", "senders", "has_timestamps",
                                             "counts", "partners", "conversations")

    @property
    def counts(self) -> dict[str, int]:
        """How many of each were found."""
        return {"episodes": len(self.episodes), "reaches": len(self.reaches),
                "repairs": len(self.repairs), "chases": len(self.chases),
                "loops_full": len(self.full_loops), "loops_partial": len(self.partial_loops)}

    @property
    def full_loops(self) -> tuple[LoopInstance, ...]:
        return tuple(lp for lp in self.loops if lp.full)

    @property
    def partial_loops(self) -> tuple[LoopInstance, ...]:
        return tuple(lp for lp in self.loops if not lp.full)

    def summary(self) -> Summary:
        """The loop in numbers and both partners side by side, in the report's words."""
        w = summary_words()
        c = self.counts
        blocks: list[Text | Table] = [Text(w["loop_counts"].format(
            full=_times(c["loops_full"]), partial=_times(c["loops_partial"]),
            episodes=c["episodes"]), lead=w["loop"])]
        for s, p in self.partners.items():
            met = ", ".join(f"{w['outcomes'][o]} {_times(p.reach_outcomes[o].count)}"
                            for o in REACH_OUTCOMES if p.reach_outcomes[o].count)
            blocks.append(Text("  " + w["reached"].format(sender=s, n=_times(p.reaches),
                                                          met=met or "nothing yet")))
        blocks.append(partners_table(self.partners))
        blocks.append(Text(w["caveat"], tone="note"))
        return Summary("Patterns", blocks)


def _times(n: int) -> str:
    return f"{n} time" if n == 1 else f"{n} times"
