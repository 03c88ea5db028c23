"""Training and grouped cross-validation of the embedding coder (``heard train --engine embed``).

The folds are the trained coder's (:func:`heard.coding._train.cross_validate`, grouped by
couple, same ``n_folds`` and ``seed``), so both engines are scored on the same splits. The
reference sample (``../shared/gold/reference.jsonl``) is never read here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heard.coding._embed import EmbeddingCoder
from heard.coding._embed_head import SETTINGS, _vectors, fit_head, save_head
from heard.coding._embed_model import _embedder
from heard.coding._evaluate import EvaluationResult, evaluate
from heard.coding._train import (
    corpus_inputs,
    load_corpus,
    training_card,
    with_codebook_examples,
    write_trained,
)

__all__ = ["CV_FOLDS", "EmbeddingCrossValidation", "cross_validate_embed", "train_embed"]

CV_FOLDS = 5


@dataclass(frozen=True)
class EmbeddingCrossValidation:
    """Grouped cross-validation of the embedding engine, with the rules on the same messages."""

    embed: EvaluationResult
    rules: EvaluationResult
    n_folds: int
    n_couples: int
    seconds: float
    embed_model: dict[str, Any]
    embed_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"n_folds": self.n_folds, "n_couples": self.n_couples,
                "grouped_by": "couple (sorted pair of sender names)",
                "embed_model": self.embed_model, "embed": self.embed.to_dict(),
                "rules": self.rules.to_dict()}

    def as_text(self) -> str:
        head = (f"grouped {self.n_folds}-fold cross-validation by couple ({self.n_couples} "
                f"couples), {self.seconds:.0f} s ({self.embed_seconds:.0f} s embedding with "
                f"'{self.embed_model['name']}')\n")
        return (head + "\n== embedding engine ==\n" + self.embed.as_text()
                + "\n== rules engine (same messages, not trained) ==\n" + self.rules.as_text())


def cross_validate_embed(corpus_dir: str | Path, embed_model: str | os.PathLike[str], *,
                         n_folds: int = CV_FOLDS, seed: int = 0,
                         settings: Mapping[str, Any] | None = None,
                         device: str = "cpu") -> EmbeddingCrossValidation:
    """Out-of-fold predictions for every corpus message, with the trained coder's folds.

    Every message (and every previous message) is embedded once; then a head is fitted per
    fold. The folds are those of :func:`heard.coding._train.cross_validate` for the same
    ``n_folds`` and ``seed`` (grouped by couple), so both engines are scored on the same splits.
    """
    from sklearn.model_selection import GroupKFold

    t0 = time.perf_counter()
    s = {**SETTINGS, **(settings or {})}
    messages, gold, couples = load_corpus(corpus_dir)
    n = len(messages)
    messages, gold, couples = with_codebook_examples(messages, gold, couples, s)
    embedder = _embedder(embed_model, device)
    inputs = corpus_inputs(messages, s["rule_feature_threshold"])
    extra = list(range(n, len(messages)))  # codebook examples: in every training set
    t1 = time.perf_counter()
    _vectors(embedder, inputs)  # fills the cache: each text is embedded once
    embed_seconds = time.perf_counter() - t1
    predicted: list[set[str]] = [set() for _ in range(n)]
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(n), groups=couples[:n]):
        train_idx = [*train_idx.tolist(), *extra]
        head = fit_head([inputs[i] for i in train_idx], [gold[i] for i in train_idx],
                        [couples[i] for i in train_idx], embedder, seed=seed, settings=s)
        coder = EmbeddingCoder(head=head, embed_model=embed_model, device=device).fit()
        for i, names in zip(test_idx, coder.predict_names([inputs[i] for i in test_idx]),
                            strict=True):
            predicted[i] = names
    rules = [{c for c, v in i.rule_scores.items() if v >= s["rule_threshold"]}
             for i in inputs[:n]]
    return EmbeddingCrossValidation(
        embed=evaluate(gold[:n], predicted, groups=[m.conversation_id for m in messages[:n]]),
        rules=evaluate(gold[:n], rules), n_folds=n_folds,
        n_couples=len(set(couples[:n])), seconds=time.perf_counter() - t0,
        embed_model=embedder.describe(), embed_seconds=embed_seconds)


def train_embed(corpus_dir: str | Path, out_dir: str | Path,
                embed_model: str | os.PathLike[str], *, seed: int = 0, cv: bool = True,
                device: str = "cpu") -> dict[str, Any]:
    """Fit a head on the corpus, write it and ``model_card.json`` to ``out_dir``; return the card.

    Deterministic for a seed and an embedding model (on the same torch build and CPU).
    """
    corpus_messages, corpus_gold, corpus_couples = load_corpus(corpus_dir)
    messages, gold, couples = with_codebook_examples(corpus_messages, corpus_gold,
                                                     corpus_couples, SETTINGS)
    embedder = _embedder(embed_model, device)
    inputs = corpus_inputs(messages, SETTINGS["rule_feature_threshold"])
    head = fit_head(inputs, gold, couples, embedder, seed=seed)
    card = training_card(
        "heard embedding coder (sentence embeddings + one-vs-rest logistic regression, "
        "Platt-calibrated)", seed, SETTINGS, corpus_dir, corpus_messages,
        len(messages) - len(corpus_messages), head)
    card["embed_model"] = embedder.describe()
    if cv:
        card["grouped_cv"] = cross_validate_embed(corpus_dir, embed_model, seed=seed,
                                                  device=device).to_dict()
    write_trained(head, card, out_dir, save_head)
    return card
