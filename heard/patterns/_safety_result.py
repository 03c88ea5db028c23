"""The safety gate's result: each message coded ``safety_risk``, quoted with its evidence,
and where to get help. When ``triggered``, every report switches to safety mode, and the
summary opens with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from heard.model import Evidence, Result, Section, Summary, Text, json_field

__all__ = ["Resource", "SafetyFinding", "SafetyResult"]


@dataclass(frozen=True, slots=True)
class Resource(Result):
    """Where to get help: a name, how to reach it, and for whom or where."""

    name: str
    contact: str
    detail: str = ""

    def summary(self) -> Summary:
        return Summary("", [Text(self.contact + (f" ({self.detail})" if self.detail else ""),
                                 lead=f"{self.name}: ")])


@dataclass(frozen=True, slots=True)
class SafetyFinding(Result):
    """A message coded ``safety_risk``, quoted with its evidence.

    Attributes
    ----------
    category : str
        ``"threat"``, ``"coercive control"``, ``"violence"``, ``"self-harm"`` from the safety
        lexicon applied to the evidence, or ``"safety concern"`` when no term matched.
    categories : tuple of str
        Every category that matched (``category`` is the first by the lexicon's priority).
    evidence : tuple of Evidence
        The spans that carry the code (the whole text when the coder gave none).
    score : float
        The coder's score for ``safety_risk`` (1.0 for given codes).
    """

    message_id: str
    conversation_id: str
    sender: str
    timestamp: datetime | None
    text: str
    evidence: tuple[Evidence, ...]
    category: str
    categories: tuple[str, ...] = ()
    score: float = json_field(default=1.0, digits=4)

    def summary(self) -> Summary:
        return Summary(f"{self.category}: {self.sender}", [_finding_text(self)])


@dataclass(frozen=True, slots=True)
class SafetyResult(Result):
    """The safety gate. When ``triggered``, reports switch to safety mode.

    Attributes
    ----------
    triggered : bool
        Any message, from either partner, coded ``safety_risk``.
    findings : tuple of SafetyFinding
        In corpus order.
    explanation : str
        Plain words on why this is not a communication problem (from ``data/safety.json``).
    resources : tuple of Resource
    """

    triggered: bool
    findings: tuple[SafetyFinding, ...] = ()
    explanation: str = ""
    resources: tuple[Resource, ...] = ()

    json_extra: ClassVar[Mapping[str, str]] = {"categories": "categories"}

    @property
    def categories(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.category] = out.get(f.category, 0) + 1
        return dict(sorted(out.items()))

    def summary(self) -> Summary:
        """Safety first: why this is not a communication problem, what was found, who can
        help. Without a finding, one line says the gate found nothing."""
        if not self.triggered:
            return Summary("Safety", [Text("No message raised a safety concern.")])
        blocks: list[Text] = []
        for para in (p for p in self.explanation.split("\n\n") if p.strip()):
            blocks += [Text(para), Text("")]
        blocks.append(Text("", lead="What heard found:"))
        blocks += [_finding_text(f) for f in self.findings]
        blocks.append(Text("", lead="People who can help:"))
        blocks += [Text(r.contact + (f" ({r.detail})" if r.detail else ""),
                        lead=f"  {r.name}: ") for r in self.resources]
        return Summary("", [Section("Safety first", blocks, alert=True)])


def _finding_text(f: SafetyFinding) -> Text:
    when = f" {f.timestamp:%Y-%m-%d %H:%M}" if f.timestamp else ""
    return Text(f"“{f.text}”", lead=f"  {f.sender},{when} ({f.category}): ")
