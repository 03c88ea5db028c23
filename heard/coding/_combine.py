"""Where rules may raise a code on their own, next to a trained model: chosen and applied.

Both model-based engines (the trained coder and the embedding coder) combine their calibrated
probabilities with the rule coder in this one way:

- **Authoritative codes**: ``safety_risk`` always (recall first), plus every code where, on the
  training corpus's out-of-fold predictions, "model or rule" beat the model alone on F1 by more
  than ``authoritative_margin``. For such a code the rule score counts like a probability.
- **Authoritative rules**: a single rule whose hits were right often enough on the training
  corpus (precision >= ``rule_precision`` over at least ``rule_min_hits`` messages where its
  code reached ``rule_threshold``) raises its code by itself, and adding it does not lower that
  code's out-of-fold F1. This keeps a precise rule ("you're overreacting" as ``reframing``)
  even where the code's other rules are too loose to be trusted, and where the corpus
  happens to hold few messages like it.

A message's code is then present when ``p >= threshold[code]``, or when a rule raises it
(``rule score >= rule_threshold`` and the code or one of its fired rules is authoritative);
its score is ``max(p, rule score)`` where a rule raised it, else ``p``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

from heard.coding._context import ContextTracker, OrdinaryTalk
from heard.coding._features import MessageInput, collect_inputs, text_in_context
from heard.coding._rule_data import context_settings
from heard.coding._spans import merge_spans
from heard.model import Code, Corpus, Evidence, Message, Step

__all__ = ["ALWAYS_AUTHORITATIVE", "InputCoder", "choose_authority", "combined_code",
           "rule_raises"]

#: Codes where rules may raise a code by themselves, whatever the training data say.
ALWAYS_AUTHORITATIVE = ("safety_risk",)
#: Rows coded per batch when ``transform`` reports progress.
_PROGRESS_BATCH = 256


@cache
def _ordinary() -> tuple[OrdinaryTalk, Mapping[str, Any]]:
    settings = context_settings()
    return OrdinaryTalk.from_settings(settings), settings


def _f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = int((pred & (y == 1)).sum())
    denom = int(pred.sum()) + int(y.sum())
    return 2 * tp / denom if denom else 0.0


def _fired(item: MessageInput, code: str, threshold: float) -> tuple[str, ...]:
    """Rule ids behind ``code`` in this message when its rule score reached ``threshold``."""
    if item.rule_scores.get(code, 0.0) < threshold:
        return ()
    return next((c.rule_ids for c in item.rule_codes if c.name == code), ())


def choose_authority(model_pred: np.ndarray, Y: np.ndarray, inputs: Sequence[MessageInput],
                     codes: Sequence[str], settings: Mapping[str, Any]
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Authoritative codes and rules, from out-of-fold model predictions on training rows.

    ``model_pred`` and ``Y`` are 0/1 arrays of shape (n_messages, n_codes), columns in
    ``codes`` order; -1 in ``Y`` (label unknown) leaves that row out of that code's choice.
    Returns both tuples sorted (codes in ``codes`` order, rules by id).
    """
    threshold = float(settings["rule_threshold"])
    margin = float(settings["authoritative_margin"])
    precision = float(settings.get("rule_precision", 1.01))
    min_hits = int(settings.get("rule_min_hits", 1))
    auth_codes = set(ALWAYS_AUTHORITATIVE)
    auth_rules: set[str] = set()
    for j, code in enumerate(codes):
        known = Y[:, j] >= 0
        y = Y[known, j]
        pred = model_pred[known, j].astype(bool)
        fired = [_fired(item, code, threshold)
                 for item, k in zip(inputs, known, strict=True) if k]
        rule_pred = np.array([bool(f) for f in fired], dtype=bool)
        base = _f1(pred, y)
        if code not in auth_codes and _f1(pred | rule_pred, y) > base + margin:
            auth_codes.add(code)
        if code in auth_codes:
            continue
        for rule in sorted({r for f in fired for r in f}):
            hits = np.array([rule in f for f in fired], dtype=bool)
            n = int(hits.sum())
            if n < min_hits or y[hits].mean() < precision:
                continue
            if _f1(pred | hits, y) >= base:
                auth_rules.add(rule)
    return tuple(c for c in codes if c in auth_codes), tuple(sorted(auth_rules))


def rule_raises(inputs: Sequence[MessageInput], names: Sequence[str],
                authoritative: Sequence[str], authoritative_rules: Sequence[str],
                threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rule scores and where rules raise a code, both of shape (len(inputs), len(names)).

    The score matrix holds the rule score wherever a rule raises the code (0 elsewhere).
    """
    codes = set(authoritative)
    rules = set(authoritative_rules)
    column = {name: k for k, name in enumerate(names)}
    scores = np.zeros((len(inputs), len(names)))
    for row, item in enumerate(inputs):
        for name, score in item.rule_scores.items():
            k = column.get(name)
            if k is None or score < threshold:
                continue  # below the threshold a rule raises nothing, whoever has authority
            if name in codes or (rules and not rules.isdisjoint(_fired(item, name, threshold))):
                scores[row, k] = score
    return scores, scores >= threshold


def combined_code(name: str, score: float, item: MessageInput, spans: list[tuple[int, int]],
                  ids: list[str], *, rule_used: bool, rule_threshold: float) -> Code:
    """The code with the model's evidence ``spans``, or the rule's where a rule fired.

    A rule's evidence is the phrase it matched ("you never listen"); beside it the model's
    strongest word grams are mostly stock words ("now", "get"), so where a rule fired only its
    phrases are quoted. A code with no span at all quotes the whole (stripped) message, so that
    every code carries the text it stands on.
    """
    text = item.text
    chosen = list(spans)
    ids = list(ids)
    rule = next((c for c in item.rule_codes if c.name == name), None)
    if rule is not None and (rule_used or rule.score >= rule_threshold) and rule.evidence:
        chosen = [(e.start, e.end) for e in rule.evidence]
        ids = [*(i for i in ids if not i.startswith("model:")), *rule.rule_ids]
    if not chosen:
        stripped = text.strip()
        start = text.find(stripped) if stripped else 0
        chosen.append((start, start + len(stripped)))
    evidence = tuple(Evidence(a, b, text[a:b]) for a, b in merge_spans(chosen) if b > a)
    return Code(name=name, score=round(score, 4), evidence=evidence,
                rule_ids=tuple(dict.fromkeys(ids)))


class InputCoder(Step):
    """Base of the model-based coders: they code :class:`MessageInput` rows in batches.

    A subclass sets ``output_field``, a fitted rule coder in ``_rules`` (its scores are the
    rows' rule features), and implements ``_ready`` (fit if needed) and ``code_inputs``.
    """

    output_field: str
    _rules: Any

    def _ready(self) -> None:
        raise NotImplementedError

    def code_inputs(self, inputs: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        raise NotImplementedError

    def transform(self, corpus: Corpus, *,
                  progress: Callable[[int, int], None] | None = None) -> Corpus:
        """Write ``annotations[output_field]`` for every message; non-text messages get ``()``.

        ``progress(done, total)``, when given, is called now and then: the rules' pass counts
        the first half of ``total``, the model's batches the second.
        """
        self._ready()
        n = len(corpus)
        rule_progress = None if progress is None else (lambda done, _: progress(done, 2 * n))
        pairs = collect_inputs(corpus, self._rules, progress=rule_progress)
        for m in corpus.iter_messages():
            m.annotations[self.output_field] = ()
        if not pairs:
            return corpus
        inputs = [p[1] for p in pairs]
        if progress is None:
            coded = self.code_inputs(inputs)
        else:
            # in batches, only so that the progress moves; each row is coded on its own
            coded = []
            for start in range(0, len(inputs), _PROGRESS_BATCH):
                coded += self.code_inputs(inputs[start:start + _PROGRESS_BATCH])
                progress(n + round(n * min(1.0, len(coded) / len(inputs))), 2 * n)
        ordinary, settings = _ordinary()
        tracker, conversation = ContextTracker(settings), None
        for (m, _), codes in zip(pairs, coded, strict=True):
            if m.conversation_id != conversation:
                tracker, conversation = ContextTracker(settings), m.conversation_id
            codes = ordinary.apply(codes, m.text, tracker.turn_for(m.sender, m.timestamp))
            m.annotations[self.output_field] = codes
            tracker.add(m.sender, m.timestamp, frozenset(c.name for c in codes),
                        asked="?" in m.text)
        return corpus

    def code_text(self, text: str, *, context: Sequence[Message | str] | None = None,
                  sender: str | None = None) -> tuple[Code, ...]:
        """Code one string, given the earlier messages of its conversation (oldest first).

        Plain-string context items are taken as the other person's messages.
        """
        corpus, target = text_in_context(text, context, sender)
        self.transform(corpus)
        return target.annotations[self.output_field]
