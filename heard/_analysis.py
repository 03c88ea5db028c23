"""The analysis of a corpus: coding, patterns, safety and dynamics, as one results object.

Like every result, :class:`Analysis` derives ``to_dict()`` from its fields (the JSON of
``heard analyze --json``) and gives a ``summary()`` made of its parts' summaries, safety
first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from heard.model import Corpus, Result, Summary, Text, json_field
from heard.patterns import summary_words

if TYPE_CHECKING:
    from heard.dynamics import DynamicsResult
    from heard.patterns import PatternResult, SafetyResult

__all__ = ["Analysis"]


@dataclass(frozen=True)
class Analysis(Result):
    """Everything heard found in a corpus. Build it with :func:`heard.analyze`.

    Attributes
    ----------
    corpus : Corpus
        The messages, each with its codes in ``annotations["codes"]``.
    patterns : PatternResult
        Reaches and what met them, loops, chasing, per-partner summaries, episodes.
    safety : SafetyResult
        The safety gate. When ``safety.triggered`` the report switches to safety mode.
    dynamics : DynamicsResult or None
        Sequential analysis, the Gottman–Murray model and the long arc (None when skipped).
    coder : str
        Which engine coded the messages (``"given"`` with ``--given-codes``).
    settings : dict
        The settings the analysis ran with.
    generated_at : datetime
        When the analysis ran (fixed in tests so that reports are deterministic).
    """

    # the JSON describes the corpus (overview, code_counts) instead of repeating its messages,
    # and puts the dynamics' four parts at the top level
    corpus: Corpus = json_field(omit=True)
    patterns: PatternResult
    safety: SafetyResult
    dynamics: DynamicsResult | None = json_field(default=None, inline=True)
    coder: str = "rules"
    settings: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    json_extra: ClassVar[dict[str, str]] = {"heard_version": "_version",
                                            "overview": "overview",
                                            "code_counts": "code_counts"}
    json_order: ClassVar[tuple[str, ...]] = (
        "heard_version", "generated_at", "coder", "settings", "overview", "safety",
        "code_counts", "patterns", "long_arc", "sequential", "gottman_murray", "trends")

    @property
    def senders(self) -> list[str]:
        return self.corpus.senders

    def overview(self) -> dict[str, Any]:
        """What was analyzed: counts, date range, senders, imports."""
        kinds: Counter[str] = Counter()
        per_sender: Counter[str] = Counter()
        first = last = None
        for m in self.corpus.iter_messages():
            kinds[m.kind] += 1
            if m.is_human:
                per_sender[m.sender] += 1
            if m.timestamp is not None:
                first = m.timestamp if first is None or m.timestamp < first else first
                last = m.timestamp if last is None or m.timestamp > last else last
        return {
            "conversations": len(self.corpus.conversations),
            "messages": sum(kinds.values()),
            "by_kind": dict(sorted(kinds.items())),
            "by_sender": dict(per_sender),
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None,
            "imports": self.corpus.meta.get("imports", []),
        }

    def code_counts(self) -> dict[str, dict[str, int]]:
        """Per sender, how many messages carry each code (computed from the messages)."""
        counts: dict[str, Counter[str]] = {s: Counter() for s in self.senders}
        for m in self.corpus.iter_messages(lambda m: m.is_human):
            counts.setdefault(m.sender, Counter()).update(m.code_names)
        return {s: dict(sorted(c.items())) for s, c in counts.items()}

    @staticmethod
    def _version() -> str:
        from heard import __version__

        return __version__

    def summary(self) -> Summary:
        """What was analyzed, safety first when it was raised, then the patterns and the
        dynamics, each part's own summary."""
        w = summary_words()
        ov = self.overview()
        when = (f"{ov['first'][:10]} to {ov['last'][:10]}" if ov["first"] and ov["last"]
                else w["no_dates"])
        what = Text(w["analyzed"].format(
            when=when, conversations=ov["conversations"], episodes=len(self.patterns.episodes),
            messages=ov["messages"],
            people=", ".join(f"{s} {n}" for s, n in ov["by_sender"].items())),
            lead=w["analyzed_lead"])
        parts: list[Any] = []
        if self.safety.triggered:
            parts += [*self.safety.summary().blocks, what, Text(
                "Message patterns follow. They are not an explanation of the safety concern "
                "above.", tone="strong")]
        else:
            parts.append(what)
        parts.append(self.patterns.summary())
        if self.dynamics is not None:
            parts.append(self.dynamics.summary())
        return Summary("heard", parts)
