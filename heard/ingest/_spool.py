"""A file's items spooled to a temporary file, so a newest-first file replays backwards.

Meta writes each ``message_N.json`` newest first; reading it forwards and keeping it in memory
would hold a whole chat. The items go to disk in small pickled segments instead, and are read
back segment by segment, in either order.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["Spool"]


class Spool:
    """Items of one file, written to a temporary file in pickled segments, replayable backwards."""

    SEGMENT = 512

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._offsets: list[int] = []
        self._pending: list[Any] = []
        self.count = 0
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.min_ts: int | None = None

    def add(self, ts: int | None, item: Any) -> None:
        self._pending.append(item)
        self.count += 1
        if ts is not None:
            if self.first_ts is None:
                self.first_ts = ts
            self.last_ts = ts
            self.min_ts = ts if self.min_ts is None else min(self.min_ts, ts)
        if len(self._pending) >= self.SEGMENT:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._offsets.append(self._file.tell())
            pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def replay(self, backwards: bool) -> Iterator[Any]:
        self._flush()
        order = reversed(self._offsets) if backwards else iter(self._offsets)
        try:
            for offset in order:
                self._file.seek(offset)
                items = pickle.load(self._file)
                yield from (reversed(items) if backwards else items)
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()
