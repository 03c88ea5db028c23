"""Sentence, clause, negation and contrast logic for the rule coder.

Three questions are asked of every rule hit, over the message's tokens:

- *which sentence is it in?* Sentences end at ``. ! ? ;``, an ellipsis or a line break. Rule
  suppression ("I'm sorry you feel that way" cancels the apology's ``validation``) and contrast
  work within one sentence.
- *is it negated?* A rule marked ``negatable`` is cancelled when a negator (lexicon
  ``negators``: not, n't, never, no, ...) stands within ``NEGATION_WINDOW`` tokens before the
  match, in the same clause. Clauses end at sentence ends, commas and the conjunctions of
  lexicon ``clause_breaks`` (but, and, so, because, ...): "I never said you're overreacting"
  cancels ``reframing``, "no, you're overreacting" does not.
- *is it taken back?* A rule marked ``contrast`` ("you're right", "I'm sorry", "I hear you") is
  cancelled when a contrast word (lexicon ``contrast``: but, though, however, ...) follows it in
  the same sentence: "You're right, but you started it" is not ``ownership``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from spacy.attrs import IDX, LENGTH, LIKE_NUM, NORM
from spacy.tokens import Doc

from heard.coding._rule_data import token_flags

__all__ = ["NEGATION_WINDOW", "TokenView", "token_view"]

#: How many tokens before a match a negator may stand and still negate it.
NEGATION_WINDOW = 4


class TokenView:
    """Per-message token facts the hit filters need, computed once per message."""

    __slots__ = ("content", "ends", "norms", "numbers", "sentence")

    def __init__(self, norms: Sequence[int], ends: Sequence[int], sentence: Sequence[int],
                 content: Sequence[bool], numbers: Sequence[bool] = ()) -> None:
        self.norms = norms
        self.ends = ends
        self.sentence = sentence
        #: True for tokens with a letter or digit (not punctuation, emoji or space).
        self.content = content
        #: True for tokens that look like a number (spaCy's ``LIKE_NUM``).
        self.numbers = numbers

    def is_negated(self, start: int, negators: Collection[int],
                   breaks: Collection[int]) -> bool:
        """True when a negator precedes token ``start`` closely, in the same clause."""
        for i in range(start - 1, max(-1, start - 1 - NEGATION_WINDOW), -1):
            norm = self.norms[i]
            if norm in negators:
                return True
            if norm in breaks or self.sentence[i] != self.sentence[start]:
                return False
        return False

    def contrast_after(self, end: int, contrast: Collection[int]) -> bool:
        """True when a contrast word follows the match (ending before ``end``) in its sentence."""
        if end >= len(self.norms) or end == 0:
            return False
        sent = self.sentence[end - 1]
        for i in range(end, len(self.norms)):
            if self.sentence[i] != sent:
                return False
            if self.norms[i] in contrast:
                return True
        return False

    def anchored(self, start: int, end: int, anchor: str | None) -> bool:
        """Check an anchor: "start" = nothing but punctuation before; "whole" = nor after."""
        if anchor is None:
            return True
        if any(self.content[:start]):
            return False
        return anchor == "start" or not any(self.content[end:])


def token_view(doc: Doc, overrides: Mapping[int, int]) -> TokenView:
    """Normalize a doc's token norms in place (``overrides``: norm hash -> norm hash) and build
    its :class:`TokenView`, whose ``norms`` are string hashes."""
    content_flag, end_flag = token_flags()
    rows = doc.to_array([NORM, IDX, LENGTH, content_flag, end_flag, LIKE_NUM]).tolist()
    norms: list[int] = []
    ends: list[int] = []
    sentence: list[int] = []
    content: list[bool] = []
    numbers: list[bool] = []
    sent = 0
    for i, (norm, idx, length, has_alnum, ends_sentence, like_num) in enumerate(rows):
        new = overrides.get(norm)
        if new is not None:
            doc[i].norm_ = doc.vocab.strings[new]
            norm = new
        norms.append(norm)
        ends.append(idx + length)
        sentence.append(sent)
        content.append(bool(has_alnum))
        numbers.append(bool(like_num))
        if ends_sentence:
            sent += 1
    return TokenView(norms, ends, sentence, content, numbers)
