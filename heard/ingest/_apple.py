"""Values as Apple Messages stores them: timestamps since 2001, ``attributedBody``
typedstreams, tapback targets and the edit history plist.

Each is decoded without Apple's frameworks and never raises on damaged data: what can't be read
is None (or empty), and the reader says what it skipped.
"""

from __future__ import annotations

import plistlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["apple_time", "decode_attributed_body", "edit_history", "summary_info",
           "target_guid"]

_APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


def apple_time(value: Any) -> datetime | None:
    """A UTC datetime from an Apple timestamp (seconds or nanoseconds since 2001-01-01).

    Examples
    --------
    >>> apple_time(700_000_000)
    datetime.datetime(2023, 3, 7, 20, 26, 40, tzinfo=datetime.timezone.utc)
    >>> apple_time(700_000_000_000_000_000)
    datetime.datetime(2023, 3, 7, 20, 26, 40, tzinfo=datetime.timezone.utc)
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if number == 0:
        return None
    try:
        if abs(number) > 1_000_000_000_000:
            return _APPLE_EPOCH + timedelta(microseconds=number // 1000)
        return _APPLE_EPOCH + timedelta(seconds=number)
    except OverflowError:
        return None


def decode_attributed_body(blob: bytes | None) -> str | None:
    """The plain text of an ``attributedBody`` NSAttributedString typedstream, or None.

    The text is the first string object after the ``NSString`` (or ``NSMutableString``) class
    name: the marker ``0x01 0x2B`` ("one value of type +"), then its byte length (one byte below
    0x80, or 0x81 and two little-endian bytes, or 0x82 and four), then that many UTF-8 bytes.
    When the length does not fit the blob, the text runs to the ``0x86 0x84`` that closes it.
    """
    if not blob:
        return None
    data = bytes(blob)
    start = 0
    for name in (b"NSMutableString", b"NSString"):
        at = data.find(name)
        if at != -1:
            start = at + len(name)
            break
    marker = data.find(b"\x01\x2b", start)
    if marker == -1:
        return None
    i = marker + 2
    if i >= len(data):
        return None
    tag = data[i]
    if tag < 0x80:
        size, i = tag, i + 1
    elif tag == 0x81:
        size, i = int.from_bytes(data[i + 1:i + 3], "little"), i + 3
    elif tag == 0x82:
        size, i = int.from_bytes(data[i + 1:i + 5], "little"), i + 5
    else:
        return None
    raw = data[i:i + size]
    if len(raw) < size:
        end = data.find(b"\x86\x84", i)
        raw = data[i:end if end != -1 else len(data)]
    return raw.decode("utf-8", errors="replace")


def target_guid(value: str | None) -> str | None:
    """``p:0/GUID`` or ``bp:GUID`` -> ``GUID``."""
    if not value:
        return None
    m = re.match(r"^(?:p:\d+/|bp:)?(.+)$", value)
    return m.group(1) if m else value


def summary_info(blob: bytes | None) -> dict[str, Any]:
    if not blob:
        return {}
    try:
        data = plistlib.loads(bytes(blob))
    except Exception:  # plistlib raises several types on damaged data; the summary is optional
        return {}
    return data if isinstance(data, dict) else {}


def edit_history(ec: Any) -> list[dict[str, Any]]:
    """Earlier versions of an edited message: ``[{"time", "text"}]``, oldest first."""
    out: list[dict[str, Any]] = []
    parts = ec.values() if isinstance(ec, dict) else [ec]
    for versions in parts:
        for version in versions if isinstance(versions, list) else ():
            if not isinstance(version, dict):
                continue
            text = decode_attributed_body(version.get("t")) if isinstance(
                version.get("t"), bytes) else None
            when = apple_time(version.get("d"))
            out.append({"time": when.isoformat() if when else None, "text": text})
    return out
