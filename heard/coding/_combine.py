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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from heard.coding._features import MessageInput

__all__ = ["ALWAYS_AUTHORITATIVE", "choose_authority", "rule_raises"]

#: Codes where rules may raise a code by themselves, whatever the training data say.
ALWAYS_AUTHORITATIVE = ("safety_risk",)


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
    ``codes`` order. Returns both tuples sorted (codes in ``codes`` order, rules by id).
    """
    threshold = float(settings["rule_threshold"])
    margin = float(settings["authoritative_margin"])
    precision = float(settings.get("rule_precision", 1.01))
    min_hits = int(settings.get("rule_min_hits", 1))
    auth_codes = set(ALWAYS_AUTHORITATIVE)
    auth_rules: set[str] = set()
    for j, code in enumerate(codes):
        fired = [_fired(item, code, threshold) for item in inputs]
        rule_pred = np.array([bool(f) for f in fired])
        base = _f1(model_pred[:, j].astype(bool), Y[:, j])
        if code not in auth_codes and _f1(model_pred[:, j].astype(bool) | rule_pred,
                                          Y[:, j]) > base + margin:
            auth_codes.add(code)
        if code in auth_codes:
            continue
        for rule in sorted({r for f in fired for r in f}):
            hits = np.array([rule in f for f in fired])
            n = int(hits.sum())
            if n < min_hits or Y[hits, j].mean() < precision:
                continue
            if _f1(model_pred[:, j].astype(bool) | hits, Y[:, j]) >= base:
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
    scores = np.zeros((len(inputs), len(names)))
    for row, item in enumerate(inputs):
        if not item.rule_scores:
            continue
        for k, name in enumerate(names):
            if name in codes:
                scores[row, k] = item.rule_scores.get(name, 0.0)
            elif rules and not rules.isdisjoint(_fired(item, name, threshold)):
                scores[row, k] = item.rule_scores[name]
    return scores, scores >= threshold
