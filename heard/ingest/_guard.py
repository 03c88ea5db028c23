"""Checks every JSON value a reader decodes: bounded nesting, and no lone surrogates.

JSON may spell half of a UTF-16 pair on its own (``"\\ud800"``); Python decodes it to a string
that no UTF-8 file can hold, so the JSONL heard writes back would fail half-way. Such a half
is replaced with U+FFFD (the replacement character), which keeps the rest of the message, and
the import warns once. Nesting is checked after decoding, only when a value has enough
brackets to be too deep, so that ordinary messages cost one count.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from heard.errors import ImportWarning_, InputError
from heard.ingest._base import displayable
from heard.ingest._limits import MAX_JSON_DEPTH

__all__ = ["TOO_DEEP", "as_list", "check_value", "loads", "reading", "scrub_text", "unreadable"]

#: The detail every too-deep error gives.
TOO_DEEP = f"nested more than {MAX_JSON_DEPTH} levels deep"

T = TypeVar("T")
_REPORT: ContextVar[Any] = ContextVar("heard_import_report", default=None)
_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE = re.compile("[\ud800-\udfff]")
_WARNING = ("some text held half of an emoji or other character on its own (a lone UTF-16 "
            "surrogate), which can't be saved; each was replaced with \ufffd")


def unreadable(exc: OSError, label: str) -> InputError:
    """E046 for a file that can't be read (a link loop, a permission, a disk error)."""
    return InputError.from_code("E046", path=displayable(str(exc.filename or label)),
                                detail=exc.strerror or type(exc).__name__)


def reading(items: Iterator[T], report: Any, label: str) -> Iterator[T]:
    """``items`` (a reader's messages), each made while ``report`` gets this module's
    warnings; a file that can't be read (a link loop, a permission, a disk error) is E046."""
    while True:
        token = _REPORT.set(report)
        try:
            item = next(items)
        except StopIteration:
            return
        except OSError as exc:
            raise unreadable(exc, label) from exc
        finally:
            _REPORT.reset(token)
        yield item


def _replaced() -> None:
    report = _REPORT.get()
    if report is not None:
        if _WARNING not in report.warnings:
            warnings.warn(_WARNING, ImportWarning_, stacklevel=4)
        report.warn(_WARNING)


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else ``[]``: a damaged export may hold a number or a
    string where a list of attachments or reactions belongs."""
    return value if isinstance(value, list) else []


def scrub_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (reported once per import)."""
    if text.isascii() or not _LONE.search(text):
        return text
    _replaced()
    return _LONE.sub("\ufffd", text)


def _too_deep(obj: Any) -> bool:
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _scrub(obj: Any) -> Any:
    if isinstance(obj, str):
        return scrub_text(obj)
    if isinstance(obj, list):
        return [_scrub(v) for v in obj]
    if isinstance(obj, dict):
        return {scrub_text(k): _scrub(v) for k, v in obj.items()}
    return obj


def check_value(obj: Any, raw: str, start: int = 0, end: int | None = None) -> Any:
    """``obj`` (decoded from ``raw[start:end]``) checked: raises ``ValueError`` when it nests
    too deep, and returns it with lone surrogates replaced."""
    end = len(raw) if end is None else end
    if (isinstance(obj, dict | list)
            and raw.count("[", start, end) + raw.count("{", start, end) > MAX_JSON_DEPTH
            and _too_deep(obj)):
        raise ValueError(TOO_DEEP)
    if _ESCAPE.search(raw, start, end):  # only an escape can make a lone surrogate
        obj = _scrub(obj)
    return obj


def loads(text: str | bytes) -> Any:
    """:func:`json.loads` with bounded nesting (``ValueError`` past it) and lone surrogates
    replaced. Bytes must be UTF-8."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is a ValueError too
    try:
        obj = json.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    return check_value(obj, text)
