"""The canonical JSON Lines record: one message per line, the format every command reads.

A record carries the :class:`~heard.model.Message` fields under their own names, ``codes`` when
the message has been coded, and any other input field unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from heard.model._message import Code, Message, Reaction, Source

__all__ = ["FIELDS", "REQUIRED", "codes_from_list", "message_to_record", "reaction_from_dict",
           "record_to_json", "source_from_dict"]

#: Field order of a canonical record.
FIELDS: tuple[str, ...] = (
    "conversation_id",
    "message_id",
    "sender",
    "timestamp",
    "text",
    "kind",
    "reply_to",
    "reactions",
    "edited",
    "source",
)
#: Fields a record must have; the rest have defaults.
REQUIRED: tuple[str, ...] = ("sender", "text")


def message_to_record(message: Message, *, with_codes: bool = True) -> dict[str, Any]:
    """The canonical record of a message, extra input fields included."""
    record: dict[str, Any] = {
        "conversation_id": message.conversation_id,
        "message_id": message.message_id,
        "sender": message.sender,
        "timestamp": message.timestamp.isoformat() if message.timestamp else None,
        "text": message.text,
        "kind": message.kind,
        "reply_to": message.reply_to,
        "reactions": [r.to_dict() for r in message.reactions],
        "edited": message.edited,
        "source": message.source.to_dict(),
    }
    for key, value in message.extra.items():
        record.setdefault(key, value)
    if with_codes and "codes" in message.annotations:
        record["codes"] = [c.to_dict() for c in message.codes]
    return record


# One encoder for every record: ``json.dumps`` with these options builds a new one per call,
# which costs as much as the encoding itself on a 500,000-message import.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def record_to_json(record: Mapping[str, Any]) -> str:
    return _ENCODER.encode(record)


def reaction_from_dict(data: Mapping[str, Any] | str) -> Reaction:
    if isinstance(data, str):
        return Reaction(emoji=data)
    ts = data.get("timestamp")
    return Reaction(
        emoji=str(data.get("emoji", "")),
        sender=data.get("sender"),
        timestamp=datetime.fromisoformat(ts) if ts else None,
    )


def source_from_dict(data: Mapping[str, Any] | None, *, default_format: str) -> Source:
    if not data:
        return Source(format=default_format)
    return Source(
        format=str(data.get("format", default_format)),
        path=data.get("path"),
        line=data.get("line"),
        time_basis=str(data.get("time_basis", "instant")),
        tz=data.get("tz"),
        flags=tuple(data.get("flags") or ()),
    )


def codes_from_list(items: list[Mapping[str, Any]]) -> tuple[Code, ...]:
    return tuple(Code.from_dict(item) for item in items)
