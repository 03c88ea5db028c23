"""The importer interface: detect a format, then parse it as a stream of messages.

A reader is a small class with a versioned ``key``, a ``sniff`` that scores how likely an input
is in its format (0 to 1, from the file name and its first bytes, never the whole file), and a
``read`` generator that yields :class:`~heard.model.Message` objects one at a time while it fills
the shared :class:`ImportReport`. Readers register themselves with :func:`register`; chat-app
readers slot in the same way.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from heard.errors import InputError
from heard.model import Message

__all__ = [
    "HEAD_BYTES",
    "ImportReport",
    "Input",
    "ReadOptions",
    "Reader",
    "SkippedLine",
    "displayable",
    "readers",
    "register",
]

#: How much of an input ``sniff`` sees.
HEAD_BYTES = 64 * 1024


def displayable(name: str) -> str:
    """``name`` with the surrogate escapes of undecodable file-name bytes shown as U+FFFD."""
    if name.isascii():
        return name
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that no file-name byte makes
        return name.encode("utf-8", "replace").decode("utf-8")


@dataclass(slots=True)
class ReadOptions:
    """Options every reader understands (each uses those that apply to its format).

    Parameters
    ----------
    encoding : str
        Text encoding of the file. ``utf-8`` also accepts a BOM.
    tz : str or None
        IANA time zone for exports that record local wall-clock time. When None, such times are
        placed in UTC and the report warns that the zone was assumed.
    date_order : {"DMY", "MDY", "YMD"} or None
        Day/month order when an export leaves it ambiguous.
    me : str or None
        Which sender is the user.
    pair : tuple of two names, or None
        The two people to keep from a group chat.
    column_map : dict
        For CSV: canonical field name -> column name.
    time_format : str or None
        ``strptime`` format for CSV/transcript timestamps that are not ISO 8601.
    conversation_id : str or None
        Conversation id to give messages whose input has none (default: the file's stem).
    max_chars : int
        Longer messages are skipped with a warning: they are almost always pasted documents.
    chat : str or None
        Which chat to read from an export that holds several (an iMessage ``chat.db``, an SMS
        backup, a Messenger download, a folder of Discord channels): a handle, phone number,
        name, or the number shown in the list of chats. None: the only chat, else an error
        that lists them.
    """

    encoding: str = "utf-8"
    tz: str | None = None
    date_order: str | None = None
    me: str | None = None
    pair: tuple[str, str] | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    time_format: str | None = None
    conversation_id: str | None = None
    max_chars: int = 50_000
    chat: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedLine:
    line: int | None
    reason: str
    excerpt: str = ""


@dataclass(slots=True)
class ImportReport:
    """What an import found: counts by kind, senders, time range, and every skipped line."""

    path: str
    format: str = ""
    kinds: Counter = field(default_factory=Counter)
    senders: Counter = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    skipped: list[SkippedLine] = field(default_factory=list)
    suspicious: list[SkippedLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def observe(self, message: Message) -> None:
        self.kinds[message.kind] += 1
        if message.is_human:
            self.senders[message.sender] += 1
        ts = message.timestamp
        if ts is not None:
            if self.first is None or ts < self.first:
                self.first = ts
            if self.last is None or ts > self.last:
                self.last = ts

    def skip(self, line: int | None, reason: str, excerpt: str = "") -> None:
        self.skipped.append(SkippedLine(line, reason, excerpt[:80]))

    def flag(self, line: int | None, reason: str, excerpt: str = "") -> None:
        self.suspicious.append(SkippedLine(line, reason, excerpt[:80]))

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "messages": self.kinds.get("text", 0),
            "attachments": self.kinds.get("attachment", 0),
            "deleted": self.kinds.get("deleted", 0),
            "events": self.kinds.get("event", 0),
            "senders": dict(self.senders),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "skipped": [{"line": s.line, "reason": s.reason, "excerpt": s.excerpt}
                        for s in self.skipped],
            "suspicious": [{"line": s.line, "reason": s.reason, "excerpt": s.excerpt}
                           for s in self.suspicious],
            "warnings": list(self.warnings),
            **({"details": self.details} if self.details else {}),
        }


class Input:
    """One input to import: a file, a folder, a zip, or standard input spooled to a temp file.

    ``head`` holds the first :data:`HEAD_BYTES` bytes of a file, for sniffing.
    """

    def __init__(self, path: Path | None, *, name: str, spool: IO[bytes] | None = None,
                 line_offset: int = 0) -> None:
        self.path = path
        # a file name that is not valid UTF-8 reaches Python with surrogate escapes, which no
        # UTF-8 output can hold: show such bytes as U+FFFD wherever the name is printed or kept
        self.name = displayable(name)
        self._spool = spool
        # a slice of a bigger file (heard batch) numbers its lines as the whole file does
        self.line_offset = line_offset
        self._head: bytes | None = None

    @classmethod
    def open(cls, target: str | Path) -> Input:
        """Wrap a path, or ``-`` for standard input (spooled so that it can be read twice)."""
        if str(target) == "-":
            spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
            shutil.copyfileobj(sys.stdin.buffer, spool)
            spool.seek(0)
            return cls(None, name="<stdin>", spool=spool)
        path = Path(target)
        if not path.exists():
            raise InputError.from_code("E001", path=path)
        return cls(path, name=str(path))

    @property
    def is_dir(self) -> bool:
        return self.path is not None and self.path.is_dir()

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower() if self.path is not None else ""

    @property
    def stem(self) -> str:
        return displayable(self.path.stem) if self.path is not None else "stdin"

    @property
    def head(self) -> bytes:
        if self._head is None:
            if self.is_dir:
                self._head = b""
            else:
                with self.open_binary() as f:
                    self._head = f.read(HEAD_BYTES)
        return self._head

    @property
    def is_zip(self) -> bool:
        return not self.is_dir and self.head.startswith(b"PK\x03\x04")

    def open_binary(self) -> IO[bytes]:
        """A fresh binary handle positioned at the start (the caller closes it)."""
        if self._spool is not None:
            self._spool.seek(0)
            return _Unclosable(self._spool)
        assert self.path is not None
        return open(self.path, "rb")

    def zip(self) -> zipfile.ZipFile:
        """The input opened as a zip archive whose members are checked before they are
        unpacked (see ``_zip.py``)."""
        from heard.ingest._zip import open_zip

        if self._spool is not None:
            self._spool.seek(0)
            return open_zip(self._spool, self.name)
        return open_zip(self.path, self.name)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Input({self.name!r})"


class _Unclosable(io.BufferedIOBase):
    """A view of the spooled stdin whose close() leaves the spool open for a second read."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def read(self, size: int | None = -1) -> bytes:
        return self._raw.read(size if size is not None else -1)

    def readline(self, size: int | None = -1) -> bytes:
        return self._raw.readline(size if size is not None else -1)

    def __iter__(self) -> Iterator[bytes]:  # type: ignore[override]
        return iter(self._raw.readline, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        pass


class Reader:
    """Base class of every format reader.

    Subclasses set ``name`` (what ``--format`` takes), ``key`` (a versioned registry key),
    ``description``, and implement :meth:`sniff` and :meth:`read`.
    """

    name: ClassVar[str] = ""
    key: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def sniff(self, source: Input) -> float:
        """How likely ``source`` is in this format, from 0 (no) to 1 (certain)."""
        raise NotImplementedError

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        """Yield the messages of ``source`` in file order, recording what was skipped."""
        raise NotImplementedError


_REGISTRY: dict[str, Reader] = {}


def register(cls: type[Reader]) -> type[Reader]:
    """Class decorator: make a reader available to detection and ``--format``."""
    _REGISTRY[cls.name] = cls()
    return cls


def readers() -> dict[str, Reader]:
    """Registered readers by format name."""
    return dict(_REGISTRY)
