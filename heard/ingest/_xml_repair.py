"""Repairs, on the way into the XML parser, of what backup tools write and XML forbids.

UTF-16 surrogate pairs written as two character references (``&#55357;&#56838;``) become one
reference to the real character, a lone surrogate reference becomes U+FFFD, and references to
(or raw bytes of) control characters are dropped. :class:`_Filter` does it chunk by chunk, so a
backup of any size streams through; each repair is counted in :class:`_Repairs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["repair_references"]

_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
_CTRL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TAIL_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));\Z")


def _ref_value(m: re.Match[bytes]) -> int:
    return int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))


def _valid_xml(cp: int) -> bool:
    return (cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD
            or 0x10000 <= cp <= 0x10FFFF)


@dataclass
class _Repairs:
    pairs: int = 0
    lone_surrogates: int = 0
    controls: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in (("surrogate_pairs_joined", self.pairs),
                                  ("lone_surrogates_replaced", self.lone_surrogates),
                                  ("control_characters_dropped", self.controls)) if v}


def repair_references(data: bytes, repairs: _Repairs | None = None) -> bytes:
    """Make the character references and control bytes of ``data`` valid XML.

    Examples
    --------
    >>> repair_references(b"hi &#55357;&#56838; &#x1; ok")
    b'hi &#128518;  ok'
    """
    repairs = repairs if repairs is not None else _Repairs()
    if _CTRL.search(data):
        data, n = _CTRL.subn(b"", data)
        repairs.controls += n
    if b"&#" not in data:
        return data
    out: list[bytes] = []
    last = 0
    matches = list(_REF.finditer(data))
    i = 0
    while i < len(matches):
        m = matches[i]
        cp = _ref_value(m)
        out.append(data[last:m.start()])
        last = m.end()
        if 0xD800 <= cp <= 0xDBFF and i + 1 < len(matches) and matches[i + 1].start() == m.end():
            low = _ref_value(matches[i + 1])
            if 0xDC00 <= low <= 0xDFFF:
                out.append(b"&#%d;" % (0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)))
                repairs.pairs += 1
                last = matches[i + 1].end()
                i += 2
                continue
        if _valid_xml(cp):
            out.append(m.group(0))
        elif 0xD800 <= cp <= 0xDFFF:
            out.append(b"&#65533;")
            repairs.lone_surrogates += 1
        else:
            repairs.controls += 1
        i += 1
    out.append(data[last:])
    return b"".join(out)


class _Filter:
    """Feeds :func:`repair_references` chunk by chunk, never splitting a reference or a pair."""

    def __init__(self, repairs: _Repairs) -> None:
        self._held = b""
        self.repairs = repairs

    def feed(self, chunk: bytes, final: bool) -> bytes:
        buf = self._held + chunk
        if final:
            self._held = b""
            return repair_references(buf, self.repairs)
        cut = len(buf)
        amp = buf.rfind(b"&", max(0, len(buf) - 32))
        if amp != -1:
            cut = amp
        tail = _TAIL_REF.search(buf, max(0, cut - 16), cut)
        if tail and 0xD800 <= _ref_value(tail) <= 0xDBFF:
            cut = tail.start()
        self._held = buf[cut:]
        return repair_references(buf[:cut], self.repairs)
