"""Where a command's output goes: standard output, or a file replaced only on success."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from heard._files import open_output
from heard.cli._terminal import stdout

__all__ = ["output"]


@contextmanager
def output(target: str | None, *, inputs: Sequence[str] = (), binary: bool = False
           ) -> Iterator[IO[Any]]:
    """Standard output (``-`` or None), or the file ``target`` through
    :func:`heard._files.open_output`: a temporary file beside it, renamed over a regular file
    only once the block succeeds, special files written in place, numbered errors."""
    if target in (None, "-"):
        out = stdout()
        yield out
        out.flush()
        return
    with open_output(target, inputs=inputs, binary=binary) as f:
        yield f
