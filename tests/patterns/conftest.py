"""Hand-built coded conversations for the pattern tests.

A row is ``(minutes, sender, codes, text)``: minutes after a fixed start (None: no timestamp),
codes as a space-separated string. Message ids are ``<conversation>-<n>``, n from 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from heard.model import Code, Corpus, Evidence, Message

T0 = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
Row = tuple[float | None, str, str, str]


def build(rows: Iterable[Row], *, conversation: str = "c1", kinds: dict[int, str] | None = None,
          ) -> list[Message]:
    out = []
    for n, (minutes, sender, codes, text) in enumerate(rows, start=1):
        ts = None if minutes is None else T0 + timedelta(minutes=minutes)
        kind = (kinds or {}).get(n, "text")
        m = Message(conversation, f"{conversation}-{n}", "" if kind == "event" else sender, ts,
                    text, kind=kind)
        m.annotations["codes"] = tuple(
            Code(name, 1.0, (Evidence(0, len(text), text),)) for name in codes.split()
        )
        out.append(m)
    return out


def swap(rows: Sequence[Row], a: str = "A", b: str = "B") -> list[Row]:
    """The same conversation with the two senders' names exchanged."""
    names = {a: b, b: a}
    return [(t, names.get(s, s), c, x) for t, s, c, x in rows]


def swap_names(data: Any, a: str = "A", b: str = "B") -> Any:
    """A ``to_dict`` result with the two names exchanged wherever a value or key is a name."""
    names = {a: b, b: a}
    if isinstance(data, dict):
        return {names.get(k, k): swap_names(v, a, b) for k, v in data.items()}
    if isinstance(data, list):
        return [swap_names(v, a, b) for v in data]
    if isinstance(data, str):
        return names.get(data, data)
    return data


def corpus(*conversations: Sequence[Row], **kw: Any) -> Corpus:
    """A corpus, one conversation (``c1``, ``c2``...) per rows list."""
    messages: list[Message] = []
    for k, rows in enumerate(conversations, start=1):
        messages += build(rows, conversation=f"c{k}", **kw)
    return Corpus.from_messages(messages)


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for tests (conftest modules are not imported by name)."""
    return SimpleNamespace(T0=T0, build=build, corpus=corpus, swap=swap, swap_names=swap_names)
