"""Day/month order of numeric dates (``05/06/2023``): inferred from every clue a file gives.

WhatsApp writes dates in the phone's locale without saying which field is the day, and other
text exports do the same. :func:`infer_date_order` weighs the clues: a field over 12 (decisive),
dates that would run backwards in a chronological export, which field changes more often (the
day does), and the header's locale hints (dots and words such as ``à``/``klo`` put the day first;
AM/PM with slashes leans month first). A four-digit first field is always the year.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

__all__ = ["DateOrder", "infer_date_order", "ordered_date"]


@dataclass(slots=True)
class DateOrder:
    """The inferred order of a file's date fields, how sure heard is, and why."""

    order: str
    confidence: float
    votes: dict[str, Any] = field(default_factory=dict)
    decisive: bool = False


def _valid(y: int, m: int, d: int) -> bool:
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return False
    try:
        datetime(y, m, d)
    except ValueError:
        return False
    return True


def _year(raw: str) -> int:
    y = int(raw)
    return y + 2000 if len(raw) <= 2 else y


def ordered_date(key: tuple[str, str, str], order: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a raw date under ``order``; None when that date cannot exist."""
    a, b, c = key
    if order == "YMD" or len(a) == 4:  # a four-digit first field is a year whatever the order
        y, m, d = _year(a), int(b), int(c)
    elif order == "DMY":
        y, m, d = _year(c), int(b), int(a)
    else:
        y, m, d = _year(c), int(a), int(b)
    return (y, m, d) if _valid(y, m, d) else None


def infer_date_order(
    dates: Sequence[tuple[str, str, str]], *, signature: tuple[Any, ...] = ()
) -> DateOrder:
    """Infer day/month order from a file's distinct dates, in file order.

    Voters: a field over 12 (decisive); dates that would go backwards in time (a chat export is
    chronological); which field changes more often (the day does); and locale hints from the
    header shape (dots and words such as ``à``/``klo`` are day-first, AM/PM with slashes leans
    month-first). The result's ``confidence`` is in [0.5, 1].
    """
    if not dates:
        return DateOrder("DMY", 0.5, {"dates": 0})
    if all(len(a) == 4 for a, _, _ in dates):
        return DateOrder("YMD", 1.0, {"four_digit_year_first": True}, decisive=True)
    # year-first dates read the same in every order; the others decide
    dates = [k for k in dates if len(k[0]) != 4]
    big1 = sum(1 for a, _, _ in dates if 12 < int(a) <= 31)
    big2 = sum(1 for _, b, _ in dates if 12 < int(b) <= 31)
    votes: dict[str, Any] = {"dates": len(dates), "day_first_over_12": big1,
                             "day_second_over_12": big2}
    if big1 or big2:
        order = "DMY" if big1 >= big2 else "MDY"
        minority, total = min(big1, big2), big1 + big2
        return DateOrder(order, round(1.0 - minority / total, 3), votes, decisive=True)

    logodds = 0.0
    decreasing = {}
    for order in ("DMY", "MDY"):
        prev = None
        n = 0
        for key in dates:
            cur = ordered_date(key, order)
            if cur is None:
                continue
            if prev is not None and cur < prev:
                n += 1
            prev = cur
        decreasing[order] = n
    votes["backwards_if_DMY"] = decreasing["DMY"]
    votes["backwards_if_MDY"] = decreasing["MDY"]
    logodds += max(-6.0, min(6.0, 1.5 * (decreasing["MDY"] - decreasing["DMY"])))

    changes1 = sum(1 for p, q in pairwise(dates) if p[0] != q[0])
    changes2 = sum(1 for p, q in pairwise(dates) if p[1] != q[1])
    votes["changes_first"] = changes1
    votes["changes_second"] = changes2
    logodds += max(-3.0, min(3.0, 0.5 * (changes1 - changes2)))

    hint = 0.0
    if signature:
        _, sep, _, ampm_style, _, word = signature[:6]
        comma = signature[6] if len(signature) > 6 else True
        if sep == "." or word:
            hint += 3.0
        elif sep == "-":
            hint += 1.0
        elif ampm_style == "A" and sep == "/":
            hint -= 1.0  # en-US writes AM/PM with month first
        elif ampm_style in ("a", "."):
            hint += 1.0  # en-GB/IN/AU "pm" and Spanish "p. m." put the day first
        elif sep == "/" and not comma:
            hint += 1.0
    votes["locale_hint"] = hint
    logodds += hint
    p = 1.0 / (1.0 + math.exp(-logodds))
    order = "DMY" if p >= 0.5 else "MDY"
    return DateOrder(order, round(max(p, 1.0 - p), 3), votes)
