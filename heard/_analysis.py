"""The analysis of a corpus: coding, patterns, safety and dynamics, as one results object."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from heard.model import Corpus

if TYPE_CHECKING:
    from heard.dynamics import DynamicsResult
    from heard.patterns import PatternResult, SafetyResult

__all__ = ["Analysis"]


@dataclass(frozen=True)
class Analysis:
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

    corpus: Corpus
    patterns: PatternResult
    safety: SafetyResult
    dynamics: DynamicsResult | None = None
    coder: str = "rules"
    settings: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

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

    def to_dict(self) -> dict[str, Any]:
        """The whole analysis as JSON-ready data (what ``heard analyze --json`` writes)."""
        from heard import __version__

        data: dict[str, Any] = {
            "heard_version": __version__,
            "generated_at": self.generated_at.isoformat(),
            "coder": self.coder,
            "settings": self.settings,
            "overview": self.overview(),
            "safety": self.safety.to_dict(),
            "code_counts": self.code_counts(),
            "patterns": self.patterns.to_dict(),
        }
        if self.dynamics is not None:
            data.update(self.dynamics.to_dict())
        return data
