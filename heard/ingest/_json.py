"""One streaming JSON parser under every JSON reader (Telegram, Messenger/Instagram, Discord,
signal-export).

Chat exports can be hundreds of megabytes, most of it one ``messages`` array. :class:`JsonStream`
walks objects key by key and arrays item by item, and decodes each item with
:meth:`json.JSONDecoder.raw_decode` (the C scanner) over a sliding buffer: memory holds one
message at a time, whatever the file's size, and every error names its line.

Why not ``ijson``: its C backend is not a heard dependency, and per message it does what
``raw_decode`` does here; a test compares this parser with :func:`json.loads`.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from heard.errors import ExportFormatError, HeardError, InputError
from heard.ingest._base import Input
from heard.ingest._guard import TOO_DEEP, check_value
from heard.ingest._limits import MAX_JSON_DEPTH

__all__ = ["MAX_VALUE_CHARS", "JsonStream", "open_text"]

#: No message of any export is this big; a longer value means a corrupt file.
MAX_VALUE_CHARS = 64 * 1024 * 1024
_WS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


class JsonStream:
    """Read one JSON document incrementally.

    Containers are walked with :meth:`members` (an object's keys) and :meth:`elements` (an
    array's items, consumed by the caller), or :meth:`iter_array` (``(line, item)`` decoded
    whole); any value can be decoded whole with :meth:`value` or skipped with :meth:`skip`,
    which streams through big containers.

    Parameters
    ----------
    raw : binary or text file object
        Bytes are decoded as UTF-8 (a BOM is dropped); text is read as is.
    label : str
        The name errors give for the file.
    chunk : int
        How many bytes or characters to read at a time.
    error : str
        The numbered error for corrupt JSON: a template with ``path``, ``line`` and ``detail``
        (each app's wording says how to export again).
    """

    def __init__(self, raw: IO[bytes] | IO[str], label: str, *, chunk: int = 1 << 16,
                 error: str = "E150") -> None:
        self._raw = raw
        self._decoder = None if isinstance(raw, io.TextIOBase) else (
            codecs.getincrementaldecoder("utf-8-sig")("strict"))
        self.label = label
        self._code = error
        self._chunk = chunk
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._count_pos = 0
        self._count_line = 1

    # -- buffer ---------------------------------------------------------------------------

    def _fill(self, size: int | None = None) -> bool:
        if self._eof:
            return False
        try:
            data = self._raw.read(size or self._chunk)
            # text files are read as they are; bytes go through the UTF-8 decoder
            text = (self._decoder.decode(data, final=not data)  # type: ignore[arg-type]
                    if self._decoder is not None else data)
        except UnicodeDecodeError as exc:
            if self._decoder is None:
                encoding = getattr(self._raw, "encoding", None) or "utf-8"
                raise InputError.from_code("E004", path=self.label, line=self.line,
                                           encoding=encoding) from exc
            raise InputError.from_code("E151", path=self.label, line=self.line,
                                       detail=exc.reason) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise InputError.from_code("E160", path=self.label, member=Path(self.label).name,
                                       detail=str(exc) or type(exc).__name__) from exc
        if not data:
            self._eof = True
        if self._pos:
            self._count()
            self._buf = self._buf[self._pos:]
            self._count_pos -= self._pos
            self._pos = 0
        self._buf += text
        return bool(data)

    def _count(self) -> int:
        if self._pos > self._count_pos:
            self._count_line += self._buf.count("\n", self._count_pos, self._pos)
            self._count_pos = self._pos
        return self._count_line

    @property
    def line(self) -> int:
        """The line number of the current position."""
        return self._count()

    def error(self, detail: str, *, line: int | None = None) -> HeardError:
        """The numbered corrupt-JSON error at the current line."""
        return ExportFormatError.from_code(self._code, path=self.label,
                                           line=self.line if line is None else line,
                                           detail=detail)

    # -- tokens ---------------------------------------------------------------------------

    def peek(self) -> str:
        """The next non-blank character ("" at the end of the file), not consumed."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        got = self.peek()
        if got != char:
            found = f"'{got}'" if got else "the end of the file (cut off?)"
            raise self.error(f"expected '{char}', found {found}")
        self._pos += 1

    def value(self) -> Any:
        """Decode the next complete value."""
        self.peek()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self._buf, self._pos)
            except RecursionError:
                raise self.error(TOO_DEEP) from None
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated") or exc.pos >= len(self._buf) - 16
                if cut and not self._eof:
                    if len(self._buf) - self._pos > MAX_VALUE_CHARS:
                        raise ExportFormatError.from_code(
                            "E114", path=self.label, line=self.line,
                            limit=MAX_VALUE_CHARS // (1024 * 1024)) from None
                    self._fill(max(self._chunk, len(self._buf) - self._pos))
                    continue
                self._pos = min(exc.pos, len(self._buf))
                raise self.error(f"{exc.msg}; the file ends early" if cut
                                 else exc.msg) from None
            if end >= len(self._buf) and not self._eof:
                # a number or literal cut at the chunk's end decodes short: read on
                self._fill()
                continue
            try:
                obj = check_value(obj, self._buf, self._pos, end)
            except ValueError as exc:
                raise self.error(str(exc)) from None
            self._pos = end
            return obj

    # -- containers -----------------------------------------------------------------------

    def members(self) -> Iterator[str]:
        """Walk an object: yields each key; the caller consumes (or skips) its value."""
        self.expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self.error("expected a quoted key")
            key = self.value()
            self.expect(":")
            yield key
            char = self.peek()
            self._pos += 1
            if char == ",":
                continue
            if char == "}":
                return
            self._pos -= 1
            raise self.error(f"expected ',' or '}}' after the value of '{key}', found "
                             + (f"'{char}'" if char else "the end of the file (cut off?)"))

    def elements(self) -> Iterator[int]:
        """Walk an array: yields each item's line; the caller consumes (or skips) the item."""
        self.expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            self.peek()
            yield self.line
            char = self.peek()
            self._pos += 1
            if char == ",":
                continue
            if char == "]":
                return
            self._pos -= 1
            raise self.error("expected ',' or ']' between items, found "
                             + (f"'{char}'" if char else "the end of the file (cut off?)"))

    def iter_array(self) -> Iterator[tuple[int, Any]]:
        """``(line, item)`` for each item of the array here, each decoded whole."""
        for line in self.elements():
            yield line, self.value()

    def skip(self, depth: int = 0) -> None:
        """Consume the value here, streaming through containers so that a big one costs no
        memory (nor, past :data:`MAX_JSON_DEPTH` levels, stack)."""
        char = self.peek()
        if char in ("[", "{") and depth >= MAX_JSON_DEPTH:
            raise self.error(TOO_DEEP)
        if char == "[":
            for _ in self.elements():
                self.skip(depth + 1)
        elif char == "{":
            for _ in self.members():
                self.skip(depth + 1)
        else:
            self.value()

    def end(self) -> None:
        """Check that nothing but blanks follows the document."""
        if self.peek():
            raise self.error("unexpected data after the end of the JSON document")

    # the names the Messenger and Discord readers were written with
    iter_object = members
    skip_value = skip


def open_text(source: Input, encoding: str = "utf-8") -> IO[str]:
    """``source`` as text in ``encoding`` (a UTF-8 BOM dropped), newlines kept as written."""
    enc = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    return io.TextIOWrapper(source.open_binary(), encoding=enc, newline="")
