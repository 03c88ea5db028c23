"""The trained coder: a calibrated one-vs-rest linear model over words, characters and rules.

How a message is coded
----------------------
1. :mod:`heard.coding._features` turns the message (with the rule coder's scores and the other
   partner's previous message) into one sparse row.
2. :class:`MultiLabelCodeClassifier` gives each code a calibrated probability ``p``: one
   logistic regression per code (liblinear, balanced class weights), Platt-scaled on
   out-of-fold scores of the training corpus (folds grouped by couple).
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
   within ``EVIDENCE_SHARE`` (half) of the strongest, mapped back to exact character offsets,
   plus the rule's evidence where a rule fired for the code.

The model is stored without pickle: arrays in ``model.npz``, vocabularies and settings in
``model.json`` (see :func:`save_model` / :func:`load_model`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from heard.coding._combine import ALWAYS_AUTHORITATIVE, InputCoder, combined_code, rule_raises
from heard.coding._features import (
    MessageFeaturizer,
    MessageInput,
    evidence_function_words,
)
from heard.errors import DataFileError, InputError
from heard.model import Code, Corpus, codebook

__all__ = ["MultiLabelCodeClassifier", "TrainedCoder", "TrainedModel", "load_model",
           "save_model"]

MODEL_FORMAT = 1
#: A word n-gram is quoted as evidence when its contribution to the code is at least this share
#: of the strongest gram's.
EVIDENCE_SHARE = 0.5


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))


class MultiLabelCodeClassifier(ClassifierMixin, BaseEstimator):
    """One-vs-rest logistic regression with Platt calibration and per-label thresholds.

    ``y`` may be a label indicator matrix (multi-label: ``predict`` gives a 0/1 matrix, one
    column per label, where the calibrated probability reaches the label's threshold) or a 1-D
    array of class labels (``predict`` gives the most probable class).

    Parameters
    ----------
    C : float
        Inverse regularization strength of every logistic regression.
    class_weight : {"balanced"}, dict or None
    calibration_folds : int
        Folds of the out-of-fold scores used to fit the Platt scaling and choose thresholds
        (grouped when ``fit`` gets ``groups``). Below 2, or with too few samples, no
        calibration: probabilities are the regressions' own, thresholds 0.5.
    recall_floor : dict, optional
        ``{label index or class: recall}``: that label's threshold is lowered until its
        out-of-fold recall reaches the floor.
    threshold_beta : dict, optional
        ``{label index or class: beta}``: that label's threshold maximizes out-of-fold
        F-beta instead of F1 (beta < 1 favors precision).
    max_iter : int
    random_state : int

    Attributes
    ----------
    classes_ : ndarray
        Class labels (1-D ``y``) or label indices (indicator ``y``).
    coef_ : ndarray of shape (n_labels, n_features), float32
    intercept_ : ndarray of shape (n_labels,)
    platt_a_, platt_b_ : ndarray of shape (n_labels,)
        Calibrated probability = ``sigmoid(a * decision + b)``.
    thresholds_ : ndarray of shape (n_labels,)
    oof_proba_ : ndarray or None
        Calibrated out-of-fold probabilities of the training samples (None without folds).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.9], [1.0]] * 5)
    >>> clf = MultiLabelCodeClassifier(calibration_folds=0).fit(X, [0, 0, 1, 1] * 5)
    >>> clf.predict([[0.05], [0.95]]).tolist()
    [0, 1]
    """

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced",
                 calibration_folds: int = 3, recall_floor: Mapping[Any, float] | None = None,
                 threshold_beta: Mapping[Any, float] | None = None, max_iter: int = 1000,
                 random_state: int = 0) -> None:
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.recall_floor = recall_floor
        self.threshold_beta = threshold_beta
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, groups: Sequence[Any] | None = None) -> Self:
        """Fit one calibrated regression per label; ``groups`` keep calibration folds apart."""
        if not (isinstance(self.C, int | float) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if not (self.class_weight in ("balanced", None) or isinstance(self.class_weight, dict)):
            raise ValueError("class_weight must be 'balanced', None or a dict, got "
                             f"{self.class_weight!r}")
        X, y = validate_data(self, X, y, accept_sparse="csr", multi_output=True,
                             dtype=[np.float64, np.float32])
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim == 1:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError("Classifier can't train when only one class is present.")
            Y = (y[:, None] == self.classes_[None, :]).astype(np.int8)
            self._multilabel = False
        else:
            Y = np.asarray(y)
            if not np.isin(Y, (0, 1)).all():
                raise ValueError("a 2-D y must be a 0/1 label indicator matrix")
            Y = Y.astype(np.int8)
            self.classes_ = np.arange(Y.shape[1])
            self._multilabel = True
        n, n_labels = Y.shape
        self._weights = None
        if isinstance(self.class_weight, dict) and not self._multilabel:
            # class weights of a 1-D y weigh samples in every one-vs-rest column
            self._weights = np.array([float(self.class_weight.get(v, 1.0)) for v in y])
        coef = np.zeros((n_labels, X.shape[1]), dtype=np.float32)
        intercept = np.zeros(n_labels)
        self._n_iter: list[int] = []
        for j in range(n_labels):
            coef[j], intercept[j] = self._fit_one(X, Y[:, j])
        self.n_iter_ = np.array(self._n_iter[:n_labels], dtype=np.int32)
        a, b = np.ones(n_labels), np.zeros(n_labels)
        thresholds = np.full(n_labels, 0.5)
        folds = self._folds(n, groups)
        self.oof_proba_ = None
        if folds:
            oof = np.zeros((n, n_labels))
            for train, test in folds:
                for j in range(n_labels):
                    w, c = self._fit_one(X[train], Y[train, j], train)
                    oof[test, j] = X[test] @ w.astype(np.float64) + c
            floors = self._by_label(self.recall_floor)
            betas = self._by_label(self.threshold_beta)
            for j in range(n_labels):
                a[j], b[j] = _platt(oof[:, j], Y[:, j])
                oof[:, j] = _sigmoid(a[j] * oof[:, j] + b[j])
                thresholds[j] = _best_threshold(oof[:, j], Y[:, j], floors.get(j),
                                                betas.get(j, 1.0))
            self.oof_proba_ = oof
        self.coef_, self.intercept_ = coef, intercept
        self.platt_a_, self.platt_b_, self.thresholds_ = a, b, thresholds
        return self

    def _by_label(self, setting: Mapping[Any, float] | None) -> dict[int, float]:
        out: dict[int, float] = {}
        for key, value in (setting or {}).items():
            hits = np.flatnonzero(self.classes_ == key)
            if len(hits):
                out[int(hits[0])] = float(value)
        return out

    def _folds(self, n: int, groups: Sequence[Any] | None) -> list[tuple[np.ndarray, np.ndarray]]:
        k = int(self.calibration_folds)
        if k < 2 or n < 5 * k:
            return []
        if groups is not None:
            if len(set(groups)) < k:
                return []
            return list(GroupKFold(n_splits=k).split(np.zeros(n), groups=groups))
        return list(KFold(n_splits=k).split(np.zeros(n)))

    def _fit_one(self, X: Any, y: np.ndarray,
                 rows: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        pos = int(y.sum())
        if pos == 0 or pos == len(y):
            # one class only: a constant, confident answer
            rate = (pos + 0.5) / (len(y) + 1.0)
            self._n_iter.append(0)
            return np.zeros(X.shape[1], dtype=np.float32), math.log(rate / (1 - rate))
        weights = self._weights
        if weights is not None:
            weights = weights if rows is None else weights[rows]
        model = LogisticRegression(
            C=self.C, solver="liblinear",
            class_weight=None if weights is not None else self.class_weight,
            max_iter=self.max_iter, random_state=self.random_state)
        model.fit(X, y, sample_weight=weights)
        self._n_iter.append(int(np.max(model.n_iter_)))
        return model.coef_[0].astype(np.float32), float(model.intercept_[0])

    # -- storing ---------------------------------------------------------------------------
    def fitted_arrays(self) -> dict[str, np.ndarray]:
        """The fitted multi-label state as plain arrays, for an ``.npz`` file (no pickle)."""
        check_is_fitted(self, "coef_")
        return {"coef": self.coef_.astype(np.float32), "intercept": self.intercept_,
                "platt_a": self.platt_a_, "platt_b": self.platt_b_,
                "thresholds": self.thresholds_}

    @classmethod
    def from_arrays(cls, params: Mapping[str, Any],
                    arrays: Mapping[str, np.ndarray]) -> MultiLabelCodeClassifier:
        """A fitted multi-label classifier from :meth:`fitted_arrays` and its settings.

        Settings this version does not know (written by another heard) are ignored.
        """
        known = cls().get_params()
        clf = cls(**{k: v for k, v in params.items() if k in known})
        clf.coef_ = np.asarray(arrays["coef"], dtype=np.float32)
        clf.intercept_ = arrays["intercept"]
        clf.platt_a_, clf.platt_b_ = arrays["platt_a"], arrays["platt_b"]
        clf.thresholds_ = arrays["thresholds"]
        clf.classes_ = np.arange(clf.coef_.shape[0])
        clf.n_features_in_ = clf.coef_.shape[1]
        clf._multilabel = True
        clf.oof_proba_ = None
        return clf

    # -- predicting ------------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds per label (for two classes: of the second against the first)."""
        z = self._calibrated_logits(X)
        if not self._multilabel and len(self.classes_) == 2:
            return z[:, 1] - z[:, 0]
        return z

    def _calibrated_logits(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", reset=False,
                          dtype=[np.float64, np.float32])
        scores = np.asarray(X @ self.coef_.T.astype(np.float64)) + self.intercept_
        return self.platt_a_ * scores + self.platt_b_

    def _label_proba(self, X: Any) -> np.ndarray:
        return _sigmoid(self._calibrated_logits(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probability per label (multi-label) or per class, rows summing to 1."""
        proba = self._label_proba(X)
        if self._multilabel:
            return proba
        total = proba.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        return proba / total

    def predict(self, X: Any) -> np.ndarray:
        proba = self._label_proba(X)
        if self._multilabel:
            return (proba >= self.thresholds_).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if y.min() == y.max():
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    model.fit(scores.reshape(-1, 1), y)
    a = float(model.coef_[0, 0])
    return (a, float(model.intercept_[0])) if a > 0 else (1.0, 0.0)


def _best_threshold(proba: np.ndarray, y: np.ndarray, floor: float | None,
                    beta: float = 1.0) -> float:
    """The threshold with the best F-beta (lowered to reach ``floor`` recall when given)."""
    pos = int(y.sum())
    if pos == 0:
        return 0.5
    order = np.argsort(-proba, kind="stable")
    p_sorted, y_sorted = proba[order], y[order]
    tp = np.cumsum(y_sorted)
    k = np.arange(1, len(y) + 1)
    b2 = beta * beta
    f1 = (1 + b2) * tp / (k + b2 * pos)
    # only cut between distinct values
    last = np.r_[p_sorted[:-1] != p_sorted[1:], True]
    best = int(np.argmax(np.where(last, f1, -1.0)))
    threshold = float(p_sorted[best])
    if floor is not None:
        need = math.ceil(floor * pos)
        positives = np.sort(proba[y == 1])[::-1]
        threshold = min(threshold, float(positives[need - 1]))
    return float(np.clip(threshold, 0.02, 0.95))


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
        for col, a, b in grams:
            contrib = float(weights[col]) * values.get(col, 0.0)
            if contrib > 0 and quotable[col]:
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
        return combined_code(name, score, item, chosen, ids, rule_used=rule_used,
                             rule_threshold=self.model_.rule_threshold)

