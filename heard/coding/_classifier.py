"""The trained coder: a calibrated one-vs-rest linear model over words, characters and rules.

How a message is coded
----------------------
1. :mod:`heard.coding._features` turns the message (with the rule coder's scores and the other
   partner's previous message) into one sparse row.
2. :class:`~heard.coding._calibrated.MultiLabelCodeClassifier` gives each code a calibrated
   probability ``p``: one logistic regression per code (liblinear, balanced class weights),
   Platt-scaled on out-of-fold scores of the training corpus (folds grouped by couple).
3. **Combining rules and model, the one place it happens.** Rules enter twice:

   * as features: the 24 rule scores are columns of the model (stacking), so the model learns
     how far to trust each rule;
   * as *authoritative* codes and rules (chosen and applied in :mod:`heard.coding._combine`,
     shared with the embedding coder): a code listed in ``authoritative`` (always
     ``safety_risk``, plus any code where, in the training corpus's out-of-fold predictions,
     "model or rule" beat the model alone on F1), or a single rule listed in
     ``authoritative_rules`` (its hits were right at least 80% of the time on the training
     corpus), raises the code by itself::

         raised(code) = r >= rule_threshold and (code in authoritative
                                                 or a fired rule in authoritative_rules)
         score(code) = max(p, r) if raised(code) else p
         present(code) = p >= t[code] or raised(code)

   ``safety_risk`` favors recall twice over: the rules alone can raise it, and its model
   threshold is the highest one that keeps out-of-fold recall at ``recall_floor`` (0.98).
4. Thresholds ``t[code]`` maximize each code's out-of-fold F-score on the training corpus:
   F1 for most codes, F-beta with beta < 1 (precision weighs more) for the ``attack`` and
   ``defend`` codes, because a false "defensive" or "contemptuous" label on someone costs more
   than a miss (``precision_beta`` in :data:`heard.coding._train.SETTINGS`).
5. Evidence: the word 1–2-grams present in the message with the largest positive
   contribution (weight x value) to the code, at most ``max_evidence`` of them and only those
   within ``EVIDENCE_SHARE`` (half) of the strongest, each quoted as the clause it stands in
   (:func:`heard.coding._spans.clauses`); where a rule fired for the code, the rule's phrase
   instead.

The model is stored without pickle: arrays in ``model.npz``, vocabularies and settings in
``model.json`` (see :func:`save_model` / :func:`load_model`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from heard.coding._calibrated import MultiLabelCodeClassifier
from heard.coding._combine import ALWAYS_AUTHORITATIVE, InputCoder, combined_code, rule_raises
from heard.coding._features import (
    MessageFeaturizer,
    MessageInput,
    evidence_function_words,
)
from heard.coding._spans import clauses
from heard.errors import DataFileError, InputError
from heard.model import Code, Corpus, codebook

__all__ = ["MultiLabelCodeClassifier", "TrainedCoder", "TrainedModel", "load_model",
           "save_model"]

MODEL_FORMAT = 1
#: A word n-gram is quoted as evidence when its contribution to the code is at least this share
#: of the strongest gram's.
EVIDENCE_SHARE = 0.5
_BREAK = re.compile(r"[.!?;:\n]")


# ------------------------------------------------------------------------------ the model


@dataclass
class TrainedModel:
    """Everything the trained coder needs, as plain arrays and settings (no pickle)."""

    codes: tuple[str, ...]
    featurizer: MessageFeaturizer
    classifier: MultiLabelCodeClassifier
    authoritative: tuple[str, ...] = ALWAYS_AUTHORITATIVE
    authoritative_rules: tuple[str, ...] = ()
    rule_threshold: float = 0.5
    rule_feature_threshold: float = 0.05
    meta: dict[str, Any] = field(default_factory=dict)


def save_model(model: TrainedModel, out_dir: str | Path) -> list[Path]:
    """Write ``model.npz`` (arrays) and ``model.json`` (settings, vocabularies) to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clf = model.classifier
    word_vocab, word_idf, char_vocab, char_idf = model.featurizer.state()
    npz = out / "model.npz"
    with npz.open("wb") as f:
        np.savez_compressed(f, **clf.fitted_arrays(), word_idf=word_idf, char_idf=char_idf)
    meta = {
        "format": MODEL_FORMAT,
        "codes": list(model.codes),
        "authoritative": list(model.authoritative),
        "authoritative_rules": list(model.authoritative_rules),
        "rule_threshold": model.rule_threshold,
        "rule_feature_threshold": model.rule_feature_threshold,
        "classifier": clf.get_params(),
        "featurizer": model.featurizer.settings(),
        "meta": model.meta,
        "word_vocabulary": word_vocab,
        "char_vocabulary": char_vocab,
    }
    js = out / "model.json"
    js.write_text(json.dumps(meta, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
                  + "\n", encoding="utf-8")
    return [npz, js]


def load_model(path: str | Path | None = None) -> TrainedModel:
    """Read a model written by :func:`save_model` (``None``: the packaged one)."""
    if path is None:
        folder: Any = resources.files("heard.coding").joinpath("data", "model")
    else:
        folder = Path(path)
        if not (folder / "model.json").is_file():
            raise InputError.from_code("E450", path=folder)
    try:
        meta = json.loads(folder.joinpath("model.json").read_text(encoding="utf-8"))
        with folder.joinpath("model.npz").open("rb") as f:
            arrays = dict(np.load(f, allow_pickle=False))
    except (OSError, ValueError) as exc:
        if path is None:
            raise DataFileError.from_code("E451", detail=exc) from exc
        raise InputError.from_code("E452", path=folder, detail=exc) from exc
    if meta.get("format") != MODEL_FORMAT:
        raise InputError.from_code("E452", path=folder,
                                   detail=f"model format {meta.get('format')!r}, "
                                          f"this heard reads {MODEL_FORMAT}")
    featurizer = MessageFeaturizer.from_state(meta["featurizer"], meta["word_vocabulary"],
                                              arrays["word_idf"], meta["char_vocabulary"],
                                              arrays["char_idf"])
    clf = MultiLabelCodeClassifier.from_arrays(meta["classifier"], arrays)
    return TrainedModel(codes=tuple(meta["codes"]), featurizer=featurizer, classifier=clf,
                        authoritative=tuple(meta["authoritative"]),
                        authoritative_rules=tuple(meta.get("authoritative_rules", ())),
                        rule_threshold=float(meta["rule_threshold"]),
                        rule_feature_threshold=float(meta["rule_feature_threshold"]),
                        meta=meta.get("meta", {}))


# ------------------------------------------------------------------------------ the step


class TrainedCoder(InputCoder):
    """Code every message with the trained model (and the rules it is combined with).

    Parameters
    ----------
    model : None, path or TrainedModel
        ``None`` for the packaged model (``heard train`` rebuilds it), a folder written by
        :func:`save_model`, or a model in memory.
    output_field : str
        The ``message.annotations`` key written by :meth:`transform`.
    max_evidence : int
        At most this many word n-grams quoted as evidence per code.

    Attributes
    ----------
    model_ : TrainedModel

    Examples
    --------
    >>> coder = TrainedCoder().fit(Corpus())                     # doctest: +SKIP
    >>> [c.name for c in coder.code_text("You always make everything about you.")]  # doctest: +SKIP
    ['criticism']
    """

    requires: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, *, model: str | Path | TrainedModel | None = None,
                 output_field: str = "codes", max_evidence: int = 3) -> None:
        self.model = model
        self.output_field = output_field
        self.max_evidence = max_evidence

    def fit(self, corpus: Corpus | None = None) -> Self:
        """Load the model and the rules it uses; return ``self`` (training is ``heard train``)."""
        from heard.coding._rules import RuleCoder

        model = self.model if isinstance(self.model, TrainedModel) else load_model(self.model)
        self.model_ = model
        self._rules = RuleCoder(threshold=model.rule_feature_threshold).fit()
        self._index = {c: i for i, c in enumerate(model.codes)}
        # word n-grams made only of function words ("at the", "do") are never quoted
        function_words = evidence_function_words()
        self._quotable = [not function_words.issuperset(n.split())
                          for n in model.featurizer.word_vectorizer_.get_feature_names_out()]
        self._mark_fitted()
        return self

    def _ready(self) -> None:
        self.check_fitted()

    @property
    def model_folder(self) -> Any:
        """Where the model's files are (the packaged folder for ``model=None``)."""
        if self.model is None:
            return resources.files("heard.coding").joinpath("data", "model")
        if isinstance(self.model, TrainedModel):
            raise AttributeError("a model in memory has no folder")
        return Path(self.model)

    @property
    def measured(self) -> dict[str, Any] | None:
        """How this model did on held-out real text (``heard eval --real --update-card``)."""
        from heard.coding._real import read_measured

        try:
            return read_measured(self.model_folder)
        except AttributeError:
            return None

    def code_inputs(self, inputs: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        """Codes of prepared rows (see :func:`heard.coding._features.collect_inputs`)."""
        self._ready()
        model = self.model_
        featurizer = model.featurizer
        X = featurizer.transform(inputs).tocsr()
        proba = model.classifier._label_proba(X)
        # columns in codebook order, so each row's codes come out in that order
        names = [n for n in codebook().names if n in self._index]
        cols = np.array([self._index[n] for n in names], dtype=np.intp)
        proba = proba[:, cols]
        present = proba >= model.classifier.thresholds_[cols]
        rule, rule_used = rule_raises(inputs, names, model.authoritative,
                                      model.authoritative_rules, model.rule_threshold)
        present |= rule_used
        out: list[tuple[Code, ...]] = [() for _ in inputs]
        coef = model.classifier.coef_
        indptr, indices, data = X.indptr, X.indices, X.data
        for row in np.flatnonzero(present.any(axis=1)).tolist():
            item = inputs[row]
            lo, hi = indptr[row], indptr[row + 1]
            values = dict(zip(indices[lo:hi].tolist(), data[lo:hi].tolist(), strict=True))
            grams = featurizer.word_columns(item.text)
            out[row] = tuple(
                self._code(names[k], float(max(proba[row, k], rule[row, k])), item, values,
                           grams, coef[cols[k]], rule_used=bool(rule_used[row, k]))
                for k in np.flatnonzero(present[row]).tolist())
        return out

    def _code(self, name: str, score: float, item: MessageInput, values: dict[int, float],
              grams: list[tuple[int, int, int]], weights: np.ndarray, *,
              rule_used: bool) -> Code:
        spans: list[tuple[float, int, int, int]] = []
        quotable = self._quotable
        text = item.text
        for col, a, b in grams:
            contrib = float(weights[col]) * values.get(col, 0.0)
            # a two-word gram across a sentence end ("mean. It") quotes no phrase
            if contrib > 0 and quotable[col] and _BREAK.search(text, a, b) is None:
                spans.append((contrib, a, b, col))
        spans.sort(key=lambda s: (-s[0], s[1], s[2]))
        seen: set[int] = set()
        chosen: list[tuple[int, int]] = []
        ids: list[str] = []
        names = self.model_.featurizer.feature_names_
        top = spans[0][0] if spans else 0.0
        for contrib, a, b, col in spans:
            if col in seen:
                continue
            if contrib < EVIDENCE_SHARE * top:
                break  # a weak gram says little about why: quote only the strong ones
            seen.add(col)
            chosen.append((a, b))
            ids.append(f"model:{names[col]}")
            if len(chosen) >= self.max_evidence:
                break
        if chosen:
            # quote the clause each gram stands in, not the gram: "sounds" or "said" alone
            # is a stock word, "she said floss more" is the phrase the code stands on
            parts = clauses(text)
            chosen = [next(((c, d) for c, d in parts if c <= a and b <= d), (a, b))
                      for a, b in chosen]
        return combined_code(name, score, item, chosen, ids, rule_used=rule_used,
                             rule_threshold=self.model_.rule_threshold)

