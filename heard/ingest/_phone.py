"""Phone numbers as SMS and iMessage store them, in one form, and the key forms of one match by.

A phone writes one correspondent as ``+1 (555) 010-2233`` in one message and ``5550102233`` in
the next; both readers group a conversation by :func:`phone_key` so those are one person.
"""

from __future__ import annotations

import re

__all__ = ["normalize_phone", "phone_key"]


def normalize_phone(raw: str) -> str:
    """A phone number in E.164-like form (``+`` and digits); emails and names stay as they are.

    No country code is guessed: ``0301234567`` stays national. Matching across forms uses
    :func:`phone_key`.

    Examples
    --------
    >>> normalize_phone("+1 (555) 010-2233")
    '+15550102233'
    >>> normalize_phone("0044 20 7946 0958")
    '+442079460958'
    """
    value = raw.strip()
    if "@" in value:
        return value.lower()
    compact = re.sub(r"[\s().\-/\u00a0\u202f]", "", value)
    if not compact or not re.fullmatch(r"\+?\d+", compact):
        return value
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact


def phone_key(number: str) -> str:
    """The key under which forms of one number match: its last nine digits.

    ``+15550102233``, ``15550102233`` and ``5550102233`` share a key; short codes and sender
    names are their own key.
    """
    norm = normalize_phone(number)
    digits = re.sub(r"\D", "", norm)
    if norm.startswith("+") or norm.isdigit():
        return digits[-9:] if len(digits) >= 9 else digits
    return norm.casefold()
