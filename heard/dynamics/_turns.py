"""Turns: a sender's consecutive human messages in one conversation, merged.

Chat splits one spoken turn into several bubbles ("ok" / "but listen" / "I felt alone"). The
dynamics models work on turns, so that "what each partner's last turn does to the other's next"
is a step from one sender to the other. System events are skipped (they neither start nor end a
turn); a turn carries the union of its messages' codes and keeps every message id, so each number
computed from turns can be traced back to the messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from heard.errors import InputError
from heard.model import Corpus, Message, Result, Summary, Text

__all__ = ["Turn", "build_turns", "partners", "turns_by_conversation"]


@dataclass(frozen=True, slots=True)
class Turn(Result):
    """One turn: a sender's run of consecutive human messages within a conversation.

    Attributes
    ----------
    conversation_id : str
    index : int
        Position of the turn within its conversation (0-based).
    sender : str
    start, end : datetime or None
        Timestamps of the first and last message of the turn (None when the export had none).
    message_ids : tuple of str
        The merged messages, in order.
    codes : frozenset of str
        Union of the messages' code names.

    Examples
    --------
    >>> from heard.model import Corpus, Message
    >>> msgs = [Message("c", "1", "Ana", None, "hi"), Message("c", "2", "Ana", None, "you there?"),
    ...         Message("c", "3", "Ben", None, "yes")]
    >>> [(t.sender, t.message_ids) for t in build_turns(Corpus.from_messages(msgs))]
    [('Ana', ('1', '2')), ('Ben', ('3',))]
    """

    conversation_id: str
    index: int
    sender: str
    start: datetime | None
    end: datetime | None
    message_ids: tuple[str, ...]
    codes: frozenset[str]

    @property
    def n_messages(self) -> int:
        return len(self.message_ids)

    def has(self, names: Iterable[str]) -> bool:
        """True when any of ``names`` is among the turn's codes."""
        return not self.codes.isdisjoint(names)

    def summary(self) -> Summary:
        codes = ", ".join(sorted(self.codes)) or "no codes"
        return Summary(f"Turn {self.index + 1} of {self.conversation_id}", [
            Text(f"{self.sender}: {self.n_messages} messages ({codes}).")])


def _flush(conv_id: str, index: int, run: list[Message]) -> Turn:
    stamps = [m.timestamp for m in run if m.timestamp is not None]
    codes: set[str] = set()
    for m in run:
        codes.update(m.code_names)
    return Turn(
        conversation_id=conv_id,
        index=index,
        sender=run[0].sender,
        start=stamps[0] if stamps else None,
        end=stamps[-1] if stamps else None,
        message_ids=tuple(m.message_id for m in run),
        codes=frozenset(codes),
    )


def build_turns(corpus: Corpus) -> tuple[Turn, ...]:
    """Merge each sender's consecutive human messages into turns, conversation by conversation.

    Parameters
    ----------
    corpus : Corpus
        Messages in conversation order; codes are read from ``message.annotations["codes"]``.

    Returns
    -------
    tuple of Turn
        All turns, conversation after conversation, in order. Consecutive turns of one
        conversation always have different senders.
    """
    out: list[Turn] = []
    for conv in corpus.conversations:
        run: list[Message] = []
        index = 0
        for m in conv.messages:
            if not m.is_human:
                continue
            if run and m.sender != run[-1].sender:
                out.append(_flush(conv.id, index, run))
                index += 1
                run = []
            run.append(m)
        if run:
            out.append(_flush(conv.id, index, run))
    return tuple(out)


def turns_by_conversation(turns: Iterable[Turn]) -> dict[str, list[Turn]]:
    """Group turns by conversation id, keeping the order of first appearance."""
    groups: dict[str, list[Turn]] = {}
    for t in turns:
        groups.setdefault(t.conversation_id, []).append(t)
    return groups


def partners(turns: Sequence[Turn], pair: Sequence[str] | None = None) -> tuple[str, str]:
    """The two partners, in order of first appearance (or as ``pair`` names them).

    Raises
    ------
    InputError
        E204 when the turns do not come from exactly two senders (and no pair was given), E208
        when ``pair`` names someone who never wrote.
    """
    seen: dict[str, None] = {}
    for t in turns:
        seen.setdefault(t.sender, None)
    names = list(seen)
    if pair is not None:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise InputError.from_code(
                "E206", option="pair", detail="two different names", value=tuple(pair)
            )
        for name in pair:
            if name not in seen:
                raise InputError.from_code("E208", name=name, names=", ".join(names))
        return (pair[0], pair[1])
    if len(names) != 2:
        raise InputError.from_code(
            "E204", count=len(names), senders=", ".join(names) or "none"
        )
    return (names[0], names[1])

