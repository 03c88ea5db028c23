"""Character spans shared by the coding engines."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["clauses", "merge_spans"]

_CLAUSE_BREAK = re.compile(
    r"[.!?\u2026;:\n]+|,|\s[-\u2013\u2014]+\s|(?<=\s)(?=(?:but|because|cause|cuz|so|though|"
    r"although|and yet)\b)", re.IGNORECASE)
_HAS_WORD = re.compile(r"[^\W_]|[^\x00-\x7f]")
_MAX_CLAUSES = 16


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort character spans and merge the overlapping ones."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clauses(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of ``text`` (sentence ends, commas, semicolons, dashes,
    line breaks, and before "but", "because", "so", "though"; long texts join neighbours).

    Examples
    --------
    >>> t = "I'm sorry, but you never listen. Whatever"
    >>> [t[a:b] for a, b in clauses(t)]
    ["I'm sorry", 'but you never listen', 'Whatever']
    """
    cuts = [0]
    for m in _CLAUSE_BREAK.finditer(text):
        cuts.extend((m.start(), m.end()))
    cuts.append(len(text))
    spans: list[tuple[int, int]] = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=True):
        piece = text[a:b]
        if not _HAS_WORD.search(piece):
            continue
        lead = len(piece) - len(piece.lstrip())
        spans.append((a + lead, a + len(piece.rstrip())))
    while len(spans) > _MAX_CLAUSES:  # long letters: join neighbours, keep the quotes short
        spans = [(spans[k][0], spans[min(k + 1, len(spans) - 1)][1])
                 for k in range(0, len(spans), 2)]
    return spans
