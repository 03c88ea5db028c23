"""Reading text exports line by line, with line numbers, whatever their line endings."""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Iterator

from heard.errors import ExportFormatError, InputError
from heard.ingest._base import Input

__all__ = ["check_text", "iter_lines", "looks_binary"]

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
    lineno = 0
    with source.open_binary() as f:
        first = True
        for raw in f:
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


def _iter_wide(source: Input, encoding: str) -> Iterator[tuple[int, str]]:
    import io

    with source.open_binary() as f:
        stream = io.TextIOWrapper(f, encoding=encoding, newline=None)
        try:
            for lineno, text in enumerate(stream, 1):
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
