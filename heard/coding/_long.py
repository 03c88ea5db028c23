"""Long messages, coded whole and a stretch at a time.

The engines learned from chat-length messages (nine in ten training lines have at most 25-29
words) and the encoder reads only the first 64 tokens of a message with the one it answers. A
long message (a letter pasted into a chat, a long text at the end of a fight) can carry
several moves; past the cut, or diluted among many words, they go uncoded. So a message of
more than ``min_words`` words is also coded in stretches: its sentences packed in order into
stretches of at most ``stretch_words`` words, each read with the message the whole answers. A
code is present where the whole or any stretch carries it, with the highest score and the
evidence from where it scored highest. Settings: ``coding/data/context.json``,
``long_messages``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from heard.coding._features import MessageInput
from heard.coding._spans import stretches
from heard.model import Code, Evidence, codebook

__all__ = ["LongMessages"]

CodeInputs = Callable[[Sequence[MessageInput]], list[tuple[Code, ...]]]


@dataclass(frozen=True, slots=True)
class LongMessages:
    """How long a message must be to be coded in stretches too, and how long a stretch is.

    Examples
    --------
    >>> long = LongMessages(min_words=5, stretch_words=4)
    >>> t = "You never call. I waited all night. I'm done."
    >>> [t[a:b] for a, b in long.spans(t)]
    ['You never call.', 'I waited all night.', "I'm done."]
    >>> long.spans("Home in 20.")
    []
    """

    min_words: int
    stretch_words: int

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LongMessages:
        return cls(min_words=int(settings["min_words"]),
                   stretch_words=int(settings["stretch_words"]))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The stretches of ``text`` when it is long enough to have two or more, else ``[]``."""
        if len(text.split()) <= self.min_words:
            return []
        parts = stretches(text, self.stretch_words)
        return parts if len(parts) > 1 else []

    def code(self, code_inputs: CodeInputs,
             inputs: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        """``code_inputs`` over ``inputs`` and the stretches of the long ones, merged."""
        rows = list(inputs)
        owners: list[tuple[int, int]] = []  # (row of the whole message, stretch start)
        for k, item in enumerate(inputs):
            for a, b in self.spans(item.text):
                rows.append(_stretch(item, a, b))
                owners.append((k, a))
        coded = code_inputs(rows)
        out = coded[:len(inputs)]
        parts: dict[int, list[tuple[int, tuple[Code, ...]]]] = {}
        for (k, a), codes in zip(owners, coded[len(inputs):], strict=True):
            parts.setdefault(k, []).append((a, codes))
        for k, found in parts.items():
            out[k] = _merge(inputs[k].text, out[k], found)
        return out


def _stretch(item: MessageInput, a: int, b: int) -> MessageInput:
    """``item`` cut to ``text[a:b]``, with the rule matches that lie in it."""
    text = item.text[a:b]
    rule_codes = []
    for c in item.rule_codes:
        inside = tuple(Evidence(max(e.start, a) - a, min(e.end, b) - a,
                                text[max(e.start, a) - a:min(e.end, b) - a])
                       for e in c.evidence if e.start < b and e.end > a)
        if inside:
            rule_codes.append(replace(c, evidence=inside))
    return replace(item, text=text, rule_codes=tuple(rule_codes),
                   rule_scores={c.name: c.score for c in rule_codes})


def _merge(text: str, whole: tuple[Code, ...],
           parts: list[tuple[int, tuple[Code, ...]]]) -> tuple[Code, ...]:
    """One code per name: the highest-scoring, its evidence placed in the whole ``text``."""
    best = {c.name: c for c in whole}
    for a, codes in parts:
        for c in codes:
            if c.name in best and best[c.name].score >= c.score:
                continue
            best[c.name] = replace(c, evidence=tuple(
                Evidence(e.start + a, e.end + a, text[e.start + a:e.end + a])
                for e in c.evidence))
    order = {name: i for i, name in enumerate(codebook().names)}
    return tuple(sorted(best.values(), key=lambda c: order.get(c.name, len(order))))
