"""The message: one chat message, transcript turn or system event, as imported.

Fields read at import never change afterwards. What heard computes about a message goes only
into :attr:`Message.annotations`, under a named key (``"codes"`` for the active coder's codes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["KINDS", "Code", "Evidence", "Kind", "Message", "Reaction", "Source"]

Kind = Literal["text", "attachment", "event", "deleted"]
KINDS: tuple[str, ...] = ("text", "attachment", "event", "deleted")


@dataclass(frozen=True, slots=True)
class Evidence:
    """The span of a message's text that carries a code: ``text[start:end]``."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(int(data["start"]), int(data["end"]), str(data.get("text", "")))


@dataclass(frozen=True, slots=True)
class Code:
    """One code predicted present in a message, with its score in [0, 1] and its evidence.

    ``rule_ids`` names the rules (or model features) that fired, so every code can be explained.
    """

    name: str
    score: float
    evidence: tuple[Evidence, ...] = ()
    rule_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.name,
            "score": round(float(self.score), 4),
            "evidence": [e.to_dict() for e in self.evidence],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Code:
        return cls(
            name=str(data["code"]),
            score=float(data.get("score", 1.0)),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()),
        )


@dataclass(frozen=True, slots=True)
class Reaction:
    """A reaction (tapback, emoji) one person put on a message."""

    emoji: str
    sender: str | None = None
    timestamp: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "emoji": self.emoji,
            "sender": self.sender,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
        }


@dataclass(frozen=True, slots=True)
class Source:
    """Where a message came from, and how much to trust its time.

    ``time_basis`` is ``"instant"`` when the export recorded a real point in time, ``"wall_clock"``
    when it recorded local clock time that heard placed in ``tz`` (given by the user, or assumed),
    and ``"none"`` when there was no time at all. ``flags`` records import-time findings such as
    ``"out_of_order"``.
    """

    format: str = "jsonl"
    path: str | None = None
    line: int | None = None
    time_basis: str = "instant"
    tz: str | None = None
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": self.format, "path": self.path, "line": self.line,
                                "time_basis": self.time_basis}
        if self.tz:
            data["tz"] = self.tz
        if self.flags:
            data["flags"] = list(self.flags)
        return data


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation.

    Parameters
    ----------
    conversation_id, message_id : str
        Stable identifiers; ``message_id`` is unique within the corpus.
    sender : str
        Display name as the export gives it. Empty for events with no author.
    timestamp : datetime or None
        Always timezone-aware when present.
    text : str
        Verbatim text (line endings normalized to ``\\n``).
    kind : {"text", "attachment", "event", "deleted"}
    reply_to : str or None
        ``message_id`` this message answers, where the app records it.
    reactions : tuple of Reaction
    edited : bool
    source : Source
    extra : dict
        Input fields heard does not know, kept so that output carries every input field.
    annotations : dict
        What heard computed: ``annotations["codes"]`` holds a tuple of :class:`Code`.

    Examples
    --------
    >>> m = Message("c1", "c1-1", "Sam", None, "I miss you")
    >>> m.codes
    ()
    """

    conversation_id: str
    message_id: str
    sender: str
    timestamp: datetime | None
    text: str
    kind: str = "text"
    reply_to: str | None = None
    reactions: tuple[Reaction, ...] = ()
    edited: bool = False
    source: Source = field(default_factory=Source)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    annotations: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def codes(self) -> tuple[Code, ...]:
        """Codes assigned by the active coder (or given with the input)."""
        return self.annotations.get("codes", ())

    @property
    def code_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.codes)

    @property
    def is_human(self) -> bool:
        """True for what a person wrote or sent (text, attachment, deleted), not system events."""
        return self.kind != "event" and bool(self.sender)

    def has(self, *names: str) -> bool:
        """True when any of the named codes is present."""
        present = self.code_names
        return any(n in present for n in names)
