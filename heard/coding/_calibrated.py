"""The calibrated multi-label classifier under the trained and embedding coders.

:class:`MultiLabelCodeClassifier` is a scikit-learn estimator: one logistic regression per
label (liblinear, balanced class weights), Platt-scaled on out-of-fold scores (folds grouped
by couple when ``fit`` gets ``groups``), with one threshold per label chosen on those scores
(best F-beta, or lowered to reach a recall floor). Its fitted state is plain arrays
(:meth:`~MultiLabelCodeClassifier.fitted_arrays`), so models are stored without pickle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

__all__ = ["MultiLabelCodeClassifier"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))


class MultiLabelCodeClassifier(ClassifierMixin, BaseEstimator):
    """One-vs-rest logistic regression with Platt calibration and per-label thresholds.

    ``y`` may be a label indicator matrix (multi-label: ``predict`` gives a 0/1 matrix, one
    column per label, where the calibrated probability reaches the label's threshold) or a 1-D
    array of class labels (``predict`` gives the most probable class). An indicator matrix
    may hold -1 where a label is unknown: that row is left out of that label's regression,
    calibration and threshold (text presumed free of some labels says nothing of the others).

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
    def fit(self, X: Any, y: Any, groups: Sequence[Any] | None = None,
            sample_weight: Any = None) -> Self:
        """Fit one calibrated regression per label; ``groups`` keep calibration folds apart.

        ``sample_weight`` weighs each sample in the regressions, their calibration and the
        choice of thresholds alike: a weight of 2 counts as the sample given twice, except
        that it stays in one calibration fold, where two copies could fall in two.
        """
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
            if not np.isin(Y, (-1, 0, 1)).all():
                raise ValueError("a 2-D y must be a 0/1 label indicator matrix (-1: unknown)")
            Y = Y.astype(np.int8)
            self.classes_ = np.arange(Y.shape[1])
            self._multilabel = True
        n, n_labels = Y.shape
        self._weights = None
        if isinstance(self.class_weight, dict) and not self._multilabel:
            # class weights of a 1-D y weigh samples in every one-vs-rest column
            self._weights = np.array([float(self.class_weight.get(v, 1.0)) for v in y])
        weights = np.ones(n)
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (n,) or not np.isfinite(weights).all() or (weights < 0).any():
                raise ValueError(f"sample_weight must be {n} finite weights of 0 or more")
            self._weights = weights if self._weights is None else self._weights * weights
        # calibration and thresholds see the sample weights only: class weights shape the
        # regressions, while probabilities and cuts must keep the data's own base rates
        coef = np.zeros((n_labels, X.shape[1]), dtype=np.float32)
        intercept = np.zeros(n_labels)
        self._n_iter: list[int] = []
        known = Y >= 0
        everywhere = np.arange(n)
        for j in range(n_labels):
            if known[:, j].all():
                coef[j], intercept[j] = self._fit_one(X, Y[:, j])
            else:
                rows = everywhere[known[:, j]]
                coef[j], intercept[j] = self._fit_one(X[rows], Y[rows, j], rows)
        self.n_iter_ = np.array(self._n_iter[:n_labels], dtype=np.int32)
        a, b = np.ones(n_labels), np.zeros(n_labels)
        thresholds = np.full(n_labels, 0.5)
        folds = self._folds(n, groups)
        self.oof_proba_ = None
        if folds:
            oof = np.zeros((n, n_labels))
            for train, test in folds:
                for j in range(n_labels):
                    rows = train[known[train, j]]
                    w, c = self._fit_one(X[rows], Y[rows, j], rows)
                    oof[test, j] = X[test] @ w.astype(np.float64) + c
            floors = self._by_label(self.recall_floor)
            betas = self._by_label(self.threshold_beta)
            for j in range(n_labels):
                k = known[:, j]
                a[j], b[j] = _platt(oof[k, j], Y[k, j], weights[k])
                oof[:, j] = _sigmoid(a[j] * oof[:, j] + b[j])
                thresholds[j] = _best_threshold(oof[k, j], Y[k, j], floors.get(j),
                                                betas.get(j, 1.0), weights[k])
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
        # a 1-D y's class weights are already in the sample weights
        folded = isinstance(self.class_weight, dict) and not self._multilabel
        model = LogisticRegression(
            C=self.C, solver="liblinear", class_weight=None if folded else self.class_weight,
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


def _platt(scores: np.ndarray, y: np.ndarray,
           weight: np.ndarray | None = None) -> tuple[float, float]:
    if not y.size or y.min() == y.max():
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    model.fit(scores.reshape(-1, 1), y, sample_weight=weight)
    a = float(model.coef_[0, 0])
    return (a, float(model.intercept_[0])) if a > 0 else (1.0, 0.0)


def _best_threshold(proba: np.ndarray, y: np.ndarray, floor: float | None,
                    beta: float = 1.0, weight: np.ndarray | None = None) -> float:
    """The threshold with the best F-beta (lowered to reach ``floor`` recall when given).

    ``weight`` counts each sample that many times (all 1 without it).
    """
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    pos = float(w[y == 1].sum())
    if pos == 0:
        return 0.5
    order = np.argsort(-proba, kind="stable")
    p_sorted, y_sorted, w_sorted = proba[order], y[order], w[order]
    tp = np.cumsum(y_sorted * w_sorted)
    k = np.cumsum(w_sorted)
    b2 = beta * beta
    f1 = (1 + b2) * tp / (k + b2 * pos)
    # only cut between distinct values
    last = np.r_[p_sorted[:-1] != p_sorted[1:], True]
    best = int(np.argmax(np.where(last, f1, -1.0)))
    threshold = float(p_sorted[best])
    if floor is not None:
        # the highest cut whose weighted recall reaches the floor
        reach = int(np.argmax(tp >= floor * pos - 1e-9))
        threshold = min(threshold, float(p_sorted[reach]))
    return float(np.clip(threshold, 0.02, 0.95))
