"""Conversations and the corpus: plain containers with selector-based accessors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heard.model._message import Message

__all__ = ["Conversation", "Corpus", "Selector"]

Selector = Callable[[Message], bool]


def _all(_: Message) -> bool:
    return True


@dataclass(slots=True)
class Conversation:
    """The messages of one conversation (one chat, or one episode of it), in order."""

    id: str
    messages: list[Message] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages)

    def iter_messages(self, selector: Selector = _all) -> Iterator[Message]:
        return (m for m in self.messages if selector(m))

    @property
    def senders(self) -> list[str]:
        """Human senders in order of first appearance."""
        seen: dict[str, None] = {}
        for m in self.messages:
            if m.is_human:
                seen.setdefault(m.sender, None)
        return list(seen)

    @property
    def start(self) -> datetime | None:
        return next((m.timestamp for m in self.messages if m.timestamp), None)

    @property
    def end(self) -> datetime | None:
        return next((m.timestamp for m in reversed(self.messages) if m.timestamp), None)


@dataclass(slots=True)
class Corpus:
    """Every conversation being analyzed, in input order.

    Examples
    --------
    >>> from heard.model import Message
    >>> c = Corpus.from_messages([Message("a", "a1", "Sam", None, "hi")])
    >>> [conv.id for conv in c.conversations]
    ['a']
    """

    conversations: list[Conversation] = field(default_factory=list)
    #: Facts about where the corpus came from, e.g. ``meta["imports"]``: import reports as dicts.
    meta: dict = field(default_factory=dict)

    @classmethod
    def from_messages(cls, messages: Iterable[Message]) -> Corpus:
        """Group messages by ``conversation_id``, keeping input order within and between them."""
        by_id: dict[str, Conversation] = {}
        for m in messages:
            conv = by_id.get(m.conversation_id)
            if conv is None:
                conv = by_id[m.conversation_id] = Conversation(m.conversation_id)
            conv.messages.append(m)
        return cls(list(by_id.values()))

    def __len__(self) -> int:
        return sum(len(c) for c in self.conversations)

    def iter_messages(self, selector: Selector = _all) -> Iterator[Message]:
        for conv in self.conversations:
            yield from conv.iter_messages(selector)

    @property
    def senders(self) -> list[str]:
        seen: dict[str, None] = {}
        for conv in self.conversations:
            for s in conv.senders:
                seen.setdefault(s, None)
        return list(seen)

    def to_frame(self, selector: Selector = _all) -> Any:
        """A pandas DataFrame of the selected messages, one row each (needs pandas).

        Raises
        ------
        OptionError
            E070 when pandas is not installed (it is not one of heard's dependencies).
        """
        try:
            import pandas as pd
        except ImportError as exc:
            from heard.errors import OptionError

            raise OptionError.from_code("E070", what="Corpus.to_frame()",
                                        package="pandas") from exc

        return pd.DataFrame(
            {
                "conversation_id": m.conversation_id,
                "message_id": m.message_id,
                "sender": m.sender,
                "timestamp": m.timestamp,
                "text": m.text,
                "kind": m.kind,
                "codes": [c.name for c in m.codes],
            }
            for m in self.iter_messages(selector)
        )
