"""Reading text exports line by line, with line numbers, whatever their line endings."""

from __future__ import annotations

import codecs
import io
import unicodedata
from collections.abc import Iterable, Iterator
from typing import IO, Any

from heard.errors import ExportFormatError, InputError
from heard.ingest._base import Input
from heard.ingest._guard import loads
from heard.ingest._limits import MAX_LINE_BYTES, MB

__all__ = ["check_text", "iter_blocks", "iter_json_lines", "iter_lines", "looks_binary"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def looks_binary(head: bytes) -> str | None:
    """Why ``head`` looks like binary data, or None when it looks like text."""
    if not head or bom_encoding(head) in ("utf-16", "utf-32"):
        return None
    sample = head[:8192]
    if b"\x00" in sample:
        return "it contains NUL bytes"
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    if control > max(8, len(sample) // 20):
        return "it is mostly control characters"
    return None


def check_text(source: Input) -> None:
    """Raise a one-line error when a text reader is handed an empty or binary file."""
    head = source.head
    if not head.strip():
        raise InputError.from_code("E002", path=source.name)
    why = looks_binary(head)
    if why:
        raise ExportFormatError.from_code("E003", path=source.name, detail=why)


def iter_lines(source: Input, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` with line endings (LF, CRLF, lone CR) removed.

    Decoding is per line so that a bad byte is reported with its line number. UTF-16/32 files
    (recognized by their BOM) are decoded as a whole stream instead.
    """
    head = source.head
    bom = bom_encoding(head)
    if bom in ("utf-16", "utf-32"):
        yield from _iter_wide(source, bom)
        return
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8") and bom == "utf-8-sig":
        encoding = "utf-8-sig"
    with source.open_binary() as f:
        yield from _decode_lines(source, _bounded_lines(source, f), encoding,
                                 source.line_offset, first=True)


def _too_long(source: Input, line: int | str) -> InputError:
    return InputError.from_code("E044", path=source.name, line=line,
                                limit=MAX_LINE_BYTES // MB)


def _bounded_lines(source: Input, f: IO[bytes]) -> Iterator[bytes]:
    """The raw lines of ``f``; one longer than :data:`MAX_LINE_BYTES` raises E044 before it
    is read whole."""
    lineno = source.line_offset
    while line := f.readline(MAX_LINE_BYTES + 1):
        # a lone CR also ends a line, so count those too for the number E044 gives
        lineno += 1 + line.count(b"\r", 0, len(line) - 1)
        if len(line) > MAX_LINE_BYTES:
            raise _too_long(source, lineno)
        yield line


def _decode_lines(source: Input, raws: Iterable[bytes], encoding: str, lineno: int, *,
                  first: bool) -> Iterator[tuple[int, str]]:
    for raw in raws:
        enc = encoding if first else encoding.replace("-sig", "")
        first = False
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            raise InputError.from_code(
                "E004", path=source.name, line=lineno + 1, encoding=encoding
            ) from exc
        except LookupError as exc:
            raise InputError.from_code(
                "E030", option="--encoding", detail=f"unknown encoding '{encoding}'"
            ) from exc
        text = text.rstrip("\n")
        if text.endswith("\r"):
            text = text[:-1]
        # Old Mac exports end lines with a lone CR: split them, each a line of its own.
        for part in text.split("\r"):
            lineno += 1
            yield lineno, part


# Codecs where a line break is the byte 0x0A and nothing else, so that a run of whole lines
# decodes to the same text as its lines decoded one by one.
_BLOCK_CODECS = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1", "iso8859-15",
                           "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1257",
                           "mac-roman"})
BLOCK_SIZE = 1 << 18


def iter_blocks(source: Input, encoding: str = "utf-8",
                size: int | None = None) -> Iterator[tuple[int, str]]:
    """Yield ``(first_line_number, text)``: the lines of :func:`iter_lines`, in runs.

    Each run is whole lines, each ended by ``"\\n"`` (CRLF and lone CR already made LF), so
    ``text.split("\\n")[:-1]`` are exactly the lines :func:`iter_lines` yields from line
    ``first_line_number`` on, with the same errors (a bad byte names its line). Reading and
    decoding about ``size`` bytes at a time is several times faster than line by line, and
    memory stays bounded by ``size`` plus the longest line.
    """
    size = size or BLOCK_SIZE
    head = source.head
    bom = bom_encoding(head)
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8") and bom == "utf-8-sig":
        encoding = "utf-8-sig"
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        codec = ""
    if bom in ("utf-16", "utf-32") or codec not in _BLOCK_CODECS:
        yield from _blocks_of(iter_lines(source, encoding), size)
        return
    lineno = 1
    first = True
    # the bytes after the last line break read so far, in pieces: joined once, when a break
    # ends them, so that a long line costs its length (not its length times its blocks)
    tail: list[bytes] = []
    tail_size = 0
    with source.open_binary() as f:
        while True:
            raw = f.read(size)
            if raw:
                cut = raw.rfind(b"\n") + 1
                if not cut:
                    tail.append(raw)
                    tail_size += len(raw)
                    if tail_size > MAX_LINE_BYTES:
                        raise _too_long(source, lineno)
                    continue
                data = b"".join((*tail, raw[:cut])) if tail else raw[:cut]
                rest = raw[cut:]
                tail, tail_size = ([rest], len(rest)) if rest else ([], 0)
            elif tail:
                data, tail = b"".join(tail), []
            else:
                return
            enc = encoding if first else encoding.replace("-sig", "")
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                # Decode line by line to name the line with the bad byte.
                lines = [t for _, t in _decode_lines(source, io.BytesIO(data), encoding,
                                                     lineno - 1, first=first)]
                text = "\n".join(lines) + "\n"
            first = False
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            if not text.endswith("\n"):
                text += "\n"
            yield lineno, text
            lineno += text.count("\n")


def _blocks_of(lines: Iterable[tuple[int, str]], size: int) -> Iterator[tuple[int, str]]:
    buf: list[str] = []
    start = 1
    total = 0
    for lineno, text in lines:
        if not buf:
            start = lineno
        buf.append(text)
        total += len(text) + 1
        if total >= size:
            yield start, "\n".join(buf) + "\n"
            buf, total = [], 0
    if buf:
        yield start, "\n".join(buf) + "\n"


def _iter_wide(source: Input, encoding: str) -> Iterator[tuple[int, str]]:
    with source.open_binary() as f:
        stream = io.TextIOWrapper(f, encoding=encoding, newline=None)
        lineno = 0
        try:
            # characters, not bytes: a UTF-16 line of MAX_LINE_BYTES characters is twice as big
            while text := stream.readline(MAX_LINE_BYTES // 2 + 1):
                lineno += 1
                if len(text) > MAX_LINE_BYTES // 2:
                    raise _too_long(source, lineno)
                yield lineno, text.rstrip("\n")
        except UnicodeDecodeError as exc:
            raise InputError.from_code("E004", path=source.name, line="?",
                                       encoding=encoding) from exc


_FORMAT_MARKS = dict.fromkeys(
    [0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
     0xFEFF]
)


def strip_marks(text: str) -> str:
    """Remove bidi and BOM marks, which some apps sprinkle into headers."""
    return text.translate(_FORMAT_MARKS)


def normalize_spaces(text: str) -> str:
    """Map the narrow and no-break spaces of some locales to plain spaces (headers only)."""
    return "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)


def iter_json_lines(
    source: Input, encoding: str, *, error: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSON Lines file.

    A line that is not a JSON object raises the numbered error ``error`` (a template with
    ``path``, ``line`` and ``detail``), so each format keeps its own advice.
    """
    for lineno, line in iter_lines(source, encoding):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except ValueError as exc:
            raise ExportFormatError.from_code(
                error, path=source.name, line=lineno, detail=str(exc).split(":")[0]
            ) from exc
        if not isinstance(obj, dict):
            raise ExportFormatError.from_code(
                error, path=source.name, line=lineno,
                detail=f"found a JSON {type(obj).__name__}, not an object",
            )
        yield lineno, obj
