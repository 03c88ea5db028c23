"""A stream of many couples' messages, one couple at a time.

Messages of one couple must come together in the stream (couples in any order, messages in time
order within each): :func:`iter_couples` hands them out so, and refuses a couple that comes back
(E027). A stream whose couples are interleaved is first sorted on disk (:func:`sort_by_couple`:
sorted runs of :data:`SORT_RUN` messages in a private temporary folder, merged back, deleted at
the end), so memory holds one run, never the corpus.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from heard.errors import InputError
from heard.model import Message

__all__ = ["SORT_RUN", "conversation_key", "couple_key", "is_grouped", "iter_couples",
           "sort_by_couple"]

#: Messages per sorted run when an interleaved input is sorted on disk.
SORT_RUN = 100_000


def couple_key(message: Message) -> str:
    """Which couple a message belongs to: its ``couple_id`` field, else its conversation."""
    cid = message.extra.get("couple_id") if message.extra else None
    return str(cid) if cid not in (None, "") else message.conversation_id


def conversation_key(message: Message) -> str:
    """A conversation within its couple (a study may reuse conversation ids per couple)."""
    cid = message.extra.get("couple_id") if message.extra else None
    if cid in (None, ""):
        return message.conversation_id
    return f"{cid}\x00{message.conversation_id}"


def iter_couples(
    messages: Iterable[Message],
    *,
    key: Callable[[Message], str] = couple_key,
    where: str = "input",
) -> Iterator[tuple[str, list[Message]]]:
    """``(couple id, its messages)`` for each run of messages with the same key, in order.

    Raises :class:`~heard.errors.InputError` (E027) when a couple comes back after another
    one: its messages must come together (sort them first, see :func:`sort_by_couple`).
    """
    seen: set[str] = set()
    current: str | None = None
    bucket: list[Message] = []
    for n, m in enumerate(messages, 1):
        k = key(m)
        if k != current:
            if bucket:
                yield current, bucket  # type: ignore[misc]
            if k in seen:
                raise InputError.from_code("E027", path=where, couple=k, n=n)
            seen.add(k)
            current, bucket = k, []
        bucket.append(m)
    if bucket:
        yield current, bucket  # type: ignore[misc]


def is_grouped(messages: Iterable[Message], key: Callable[[Message], str]) -> bool:
    """Whether each key's messages come together; reads the stream to its end either way, so
    that the import's checks (a group chat, one sender) run before any work starts."""
    seen: set[str] = set()
    current: str | None = None
    grouped = True
    for m in messages:
        k = key(m)
        if k != current:
            if k in seen:
                grouped = False
            seen.add(k)
            current = k
    return grouped


def sort_by_couple(
    messages: Iterable[Message],
    *,
    key: Callable[[Message], str] = couple_key,
    run: int = SORT_RUN,
) -> Iterator[Message]:
    """The messages with each couple's together, in the order couples first appear.

    Within a couple, input order is kept (a stable sort). Runs of ``run`` messages are sorted
    in memory and written to a private temporary folder (pickles of heard's own objects,
    deleted when the stream ends), then merged, so memory holds one run, not the input.
    """
    rank: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="heard-sort-") as tmp:
        files: list[Path] = []
        chunk: list[tuple[int, int, Message]] = []

        def spill() -> None:
            chunk.sort(key=lambda t: (t[0], t[1]))
            path = Path(tmp) / f"run-{len(files):05d}.pickle"
            with path.open("wb") as f:
                for item in chunk:
                    pickle.dump(item, f, protocol=pickle.HIGHEST_PROTOCOL)
            files.append(path)
            chunk.clear()

        for seq, m in enumerate(messages):
            k = key(m)
            r = rank.get(k)
            if r is None:
                r = rank[k] = len(rank)
            chunk.append((r, seq, m))
            if len(chunk) >= run:
                spill()
        rank.clear()
        if not files:  # it all fit in one run: no disk needed
            chunk.sort(key=lambda t: (t[0], t[1]))
            for _, _, m in chunk:
                yield m
            return
        if chunk:
            spill()
        handles = [p.open("rb") for p in files]
        try:
            for _, _, m in heapq.merge(*(_unpickled(h) for h in handles),
                                       key=lambda t: (t[0], t[1])):
                yield m
        finally:
            for h in handles:
                h.close()


def _unpickled(handle: Any) -> Iterator[tuple[int, int, Message]]:
    while True:
        try:
            yield pickle.load(handle)  # only files this run wrote, in its private folder
        except EOFError:
            return
