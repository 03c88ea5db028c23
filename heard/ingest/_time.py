"""Timestamps: real instants where the export has them, else wall-clock time placed in a zone."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heard.errors import OptionError

__all__ = ["from_unix", "parse_timestamp", "place_wall_clock", "zone"]


@cache
def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone ``name``; None for None. A bad name is the user's error (E016)."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OptionError.from_code("E016", tz=name) from exc


def place_wall_clock(naive: datetime, tz: str | None) -> tuple[datetime, str, str]:
    """Place a local clock time in ``tz`` (UTC when None). Returns (aware, basis, tz name)."""
    z = zone(tz)
    if z is None:
        return naive.replace(tzinfo=UTC), "wall_clock", "UTC (assumed)"
    return naive.replace(tzinfo=z), "wall_clock", tz or "UTC"


def parse_timestamp(
    value: str, *, tz: str | None = None, time_format: str | None = None
) -> tuple[datetime, str, str | None] | None:
    """Parse one timestamp string.

    Returns ``(aware datetime, time_basis, tz)`` or None when the value is not a timestamp.
    ISO 8601 with an offset (or ``Z``) and Unix epochs (seconds or milliseconds) are instants;
    anything else is local wall-clock time placed in ``tz``.
    """
    value = value.strip()
    if not value:
        return None
    if time_format:
        try:
            dt = datetime.strptime(value, time_format)
        except ValueError:
            return None
    else:
        if value.replace(".", "", 1).isdigit():
            number = float(value)
            if number > 1e11:  # milliseconds since the epoch
                number /= 1000.0
            stamp = from_unix(number)
            return (stamp, "instant", None) if stamp is not None else None
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            dt = _parse_loose(value)
            if dt is None:
                return None
    if dt.tzinfo is not None:
        return dt, "instant", None
    return place_wall_clock(dt, tz)


_LOOSE_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %I:%M %p",
    "%Y-%m-%d %I:%M:%S %p",
    "%d %b %Y %H:%M",
    "%b %d, %Y %H:%M:%S",
    "%b %d, %Y %I:%M %p",
    "%a, %d %b %Y %H:%M:%S %z",
)


def _parse_loose(value: str) -> datetime | None:
    for fmt in _LOOSE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def from_unix(seconds: float) -> datetime | None:
    """The instant ``seconds`` after 1970 in UTC, or None when no calendar holds it (a
    damaged export's 10**30 or NaN)."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
