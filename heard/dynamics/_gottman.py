"""The Gottman–Murray model on turns: scores, pooled TAR fits, steady states, a chance baseline.

Each turn gets a score from its codes (``data/code_weights.json``: SPAFF-like weights, one note
per code). For each partner the next turn's score is regressed on their own previous turn and on
the other's latest turn (the staggered, turn-based convention of Cook et al. 1995; the ``dyad``
same-lag convention is available for simultaneous series). Pairs (t, t+1) are pooled over
conversations without crossing their boundaries. Five influence shapes are fitted by TAR least
squares and the one with the smallest BIC is kept (:mod:`heard.dynamics._gm_core`).

Influence is claimed only where it beats chance (Sels et al. 2020): the same fit is repeated with
each partner's turns paired with the other partner's turns from a *different* conversation, and
the BIC gain of influence over no influence must exceed what those pseudo-couples reach.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from heard.dynamics._gm_core import (
    MODEL_NAMES,
    PersonFit,
    _ic,
    fit_person,
    fixed_points,
)
from heard.dynamics._gm_result import Baseline, GMAnalysis, GMResult, GMWindow
from heard.dynamics._turns import Turn, build_turns, partners, turns_by_conversation
from heard.errors import DataFileError, InputError, OptionError
from heard.model import Corpus

__all__ = ["GMAnalysis", "GMResult", "GMWindow", "GottmanMurray", "code_weights",
           "fit_gottman_murray", "score_turn"]

_INFLUENCES = ("auto", *MODEL_NAMES)
_CONVENTIONS = ("staggered", "same_lag")


@cache
def code_weights() -> tuple[dict[str, float], float]:
    """The packaged weights per code and the cap on a turn's score."""
    path = resources.files("heard.dynamics") / "data" / "code_weights.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        weights = {k: float(v["weight"]) for k, v in data["weights"].items()}
        return weights, float(data["cap"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError.from_code("E205", file="code_weights.json", detail=exc) from exc


def score_turn(codes: frozenset[str] | set[str]) -> float:
    """Sum of the weights of the distinct codes, clipped to [-cap, cap]; 0 when uncoded."""
    weights, cap = code_weights()
    total = sum(weights.get(c, 0.0) for c in codes)
    return float(min(max(total, -cap), cap))


@cache
def _score_cached(codes: frozenset[str]) -> float:
    return score_turn(codes)


@dataclass(frozen=True, slots=True)
class _Design:
    """One person's pooled transitions: y = own next, x = own previous, z = partner's score."""

    y: np.ndarray
    x: np.ndarray
    z: np.ndarray
    group: np.ndarray  # conversation index of each row

    @property
    def n(self) -> int:
        return len(self.y)


def _series_designs(data: np.ndarray, convention: str) -> tuple[_Design, _Design]:
    w, h = data[:, 0], data[:, 1]
    g = np.zeros(len(w) - 1, dtype=int)
    first = _Design(w[1:], w[:-1], h[:-1], g)
    second = _Design(h[1:], h[:-1], w[1:] if convention == "staggered" else w[:-1], g)
    return first, second


def _turn_designs(turns: Sequence[Turn], names: tuple[str, str], convention: str,
                  ) -> tuple[_Design, _Design]:
    rows: dict[str, list[tuple[float, float, float, int]]] = {n: [] for n in names}
    for gi, conv in enumerate(turns_by_conversation(turns).values()):
        seq = [t for t in conv if t.sender in names]
        s = [_score_cached(t.codes) for t in seq]
        leader = seq[0].sender if seq else None
        for i in range(2, len(seq)):
            who = seq[i].sender
            if seq[i - 1].sender == who or seq[i - 2].sender != who:
                continue  # a third sender interrupted the alternation
            if convention == "staggered" or who == leader:
                z = s[i - 1]
            elif i >= 3 and seq[i - 3].sender != who:
                z = s[i - 3]
            else:
                continue
            rows[who].append((s[i], s[i - 2], z, gi))
    out = []
    for n in names:
        arr = np.array(rows[n], dtype=float).reshape(-1, 4)
        out.append(_Design(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3].astype(int)))
    return out[0], out[1]


def _fit_all(d: _Design, models: Sequence[str], mpr: float) -> dict[str, PersonFit]:
    k = max(1, round(d.n * mpr))
    fits = {}
    for m in models:
        f = fit_person(d.y, d.x, d.z, m, mpr=k)
        if f is not None:
            fits[m] = f
    return fits


def _gain(fits: dict[str, PersonFit]) -> float:
    """BIC gain of the best influence model over no influence (positive: influence helps)."""
    infl = [f.bic for m, f in fits.items() if m != "none"]
    return fits["none"].bic - min(infl) if infl and "none" in fits else math.nan


def _surrogate_gain(d: _Design, models: Sequence[str], mpr: float, bic_none: float) -> float:
    """The same gain from SSRs alone (no standard errors), for the many pseudo-couples.

    Only the partner's scores change in a pseudo-couple, so the no-influence BIC is given.
    """
    k = max(1, round(d.n * mpr))
    bics = {"none": bic_none}
    for m in models:
        if m == "none":
            continue
        ssr = fit_person(d.y, d.x, d.z, m, mpr=k, ssr_only=True)
        if ssr is not None:
            bics[m] = _ic(m, max(float(ssr), 1e-300), d.n)[3]
    infl = [b for m, b in bics.items() if m != "none"]
    return bics["none"] - min(infl) if infl and "none" in bics else math.nan


def _surrogate(d: _Design, rng: np.random.Generator) -> _Design:
    """The partner's scores taken from another conversation (or circularly shifted)."""
    groups, start, size = np.unique(d.group, return_index=True, return_counts=True)
    if len(groups) >= 2:
        # rows are stored conversation by conversation; a derangement pairs each conversation
        # with another one's partner scores, reused cyclically when that one is shorter
        perm = np.arange(len(groups))
        while True:
            rng.shuffle(perm)
            if not np.any(perm == np.arange(len(groups))):
                break
        gi = np.searchsorted(groups, d.group)
        pos = np.arange(d.n) - start[gi]
        src = perm[gi]
        z = d.z[start[src] + pos % size[src]]
        return _Design(d.y, d.x, z, d.group)
    lo = max(1, d.n // 10)
    shift = int(rng.integers(lo, max(lo + 1, d.n - lo)))
    return _Design(d.y, d.x, np.roll(d.z, shift), d.group)


class GottmanMurray:
    """Estimator for the Gottman–Murray model (TAR least squares, shape chosen by BIC).

    Parameters
    ----------
    influence : {"auto", "none", "linear", "bilinear", "ojive2", "ojive3"}
    convention : {"staggered", "same_lag"}
        Staggered (the second partner answers the first's *current* turn) suits chat;
        same-lag is ``dyad``'s convention for simultaneous 6-second blocks.
    min_per_regime : float
        Share of observations every regime must hold (0.1, as ``dyad``).
    min_pairs : int
        Fewer transitions than this for a partner raises E200.
    n_baseline : int
        Shuffled-partner pseudo-couples for the chance baseline (0 to skip).
    seed : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> series = rng.normal(size=(120, 2)).round()
    >>> res = GottmanMurray(n_baseline=0).fit(series, names=("W", "H"))
    >>> sorted(res.chosen)
    ['H', 'W']
    """

    def __init__(self, influence: str = "auto", convention: str = "staggered", *,
                 min_per_regime: float = 0.1, min_pairs: int = 20, n_baseline: int = 99,
                 seed: int = 0) -> None:
        self.influence = influence
        self.convention = convention
        self.min_per_regime = min_per_regime
        self.min_pairs = min_pairs
        self.n_baseline = n_baseline
        self.seed = seed

    def _check(self) -> None:
        if self.influence not in _INFLUENCES:
            raise OptionError.from_code("E202", value=self.influence,
                                        choices=", ".join(_INFLUENCES))
        if self.convention not in _CONVENTIONS:
            raise OptionError.from_code("E203", value=self.convention)
        if not 0 < self.min_per_regime < 1 / 3:
            raise OptionError.from_code("E206", option="min_per_regime",
                                        detail="between 0 and 1/3", value=self.min_per_regime)

    def fit(self, data: Any, *, names: Sequence[str] | None = None) -> GMResult:
        """Fit to a Corpus, a sequence of Turns, or two aligned series (T x 2).

        Parameters
        ----------
        data : Corpus, sequence of Turn, array-like or DataFrame with two columns
        names : (str, str), optional
            Partner names (for a corpus: the pair to analyze).
        """
        self._check()
        if isinstance(data, Corpus):
            data = build_turns(data)
        if isinstance(data, (list, tuple)) and data and isinstance(data[0], Turn):
            pair = partners(data, names)
            d1, d2 = _turn_designs(data, pair, self.convention)
        else:
            pair, arr = _as_series(data, names)
            d1, d2 = _series_designs(arr, self.convention)
        return self._fit_designs(pair, d1, d2)

    def _fit_designs(self, pair: tuple[str, str], d1: _Design, d2: _Design) -> GMResult:
        for name, d in zip(pair, (d1, d2), strict=True):
            if d.n < self.min_pairs:
                raise InputError.from_code(
                    "E200", what=f"the Gottman-Murray fit for {name}", need=self.min_pairs,
                    unit="turn pairs", got=d.n, option="min_pairs")
        models = MODEL_NAMES if self.influence == "auto" else ("none", self.influence)
        fits = {n: _fit_all(d, models, self.min_per_regime) for n, d in zip(pair, (d1, d2),
                                                                            strict=True)}
        chosen = {}
        for n in pair:
            pool = fits[n] if self.influence == "auto" else {
                k: v for k, v in fits[n].items() if k == self.influence}
            chosen[n] = min(pool.values(), key=lambda f: f.bic) if pool else fits[n]["none"]
        baseline: dict[str, Baseline] = {}
        if self.n_baseline > 0:
            rng = np.random.default_rng(self.seed)
            for n, d in zip(pair, (d1, d2), strict=True):
                obs = _gain(fits[n])
                null = []
                for _ in range(self.n_baseline):
                    null.append(_surrogate_gain(_surrogate(d, rng), models,
                                                self.min_per_regime, fits[n]["none"].bic))
                nul = np.asarray(null)
                p = (1 + np.sum(nul >= obs)) / (len(nul) + 1)
                baseline[n] = Baseline(float(obs), tuple(map(float, nul)), float(p))
        allz = np.concatenate([d1.y, d2.y, d1.x, d2.x])
        lo, hi = float(allz.min()), float(allz.max())
        c1, c2 = chosen[pair[0]], chosen[pair[1]]
        fps = fixed_points(c1.a, c1.r, c1.influence, c2.a, c2.r, c2.influence,
                           convention=self.convention, span=max(abs(lo), abs(hi)) * 3 + 1)
        fps = [p for p in fps if lo <= p.first <= hi and lo <= p.second <= hi]
        return GMResult(pair, self.convention, fits, chosen, tuple(fps), baseline, (lo, hi))


def _as_series(data: Any, names: Sequence[str] | None) -> tuple[tuple[str, str], np.ndarray]:
    cols = getattr(data, "columns", None)
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError.from_code("E201", detail=str(exc)) from exc
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError.from_code("E201", detail=f"got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise InputError.from_code("E201", detail=f"row {bad + 1} is not a finite number")
    if names is None:
        names = tuple(map(str, cols)) if cols is not None else ("first", "second")
    return (str(names[0]), str(names[1])), arr


def fit_gottman_murray(corpus: Corpus | Sequence[Turn], *, window_weeks: int = 4,
                       step_weeks: int = 1, pair: Sequence[str] | None = None,
                       n_baseline: int = 99, min_pairs: int = 20, seed: int = 0) -> GMAnalysis:
    """Fit the model over all conversations and in rolling windows of ``window_weeks``.

    Windows group conversations by their first timestamp and move by ``step_weeks`` (so
    consecutive windows share data when ``step_weeks < window_weeks``). Windows with fewer than
    ``min_pairs`` transitions for either partner are kept, marked as not enough data. The chance
    baseline runs on the whole-period fit only.
    """
    for opt, val in (("window_weeks", window_weeks), ("step_weeks", step_weeks)):
        if not isinstance(val, int) or val < 1:
            raise OptionError.from_code("E206", option=opt, detail="a whole number >= 1",
                                        value=val)
    turns = build_turns(corpus) if isinstance(corpus, Corpus) else tuple(corpus)
    names = partners(turns, pair)
    est = GottmanMurray(min_pairs=min_pairs, n_baseline=n_baseline, seed=seed)
    reason = None
    try:
        overall: GMResult | None = est.fit(list(turns), names=names)
    except InputError as exc:
        overall, reason = None, str(exc)
    convs = turns_by_conversation(turns)
    conv_index = {cid: i for i, cid in enumerate(convs)}
    starts = {cid: ts[0].start for cid, ts in convs.items() if ts[0].start is not None}
    windows: list[GMWindow] = []
    if starts:
        # designs once for all turns; a window selects its conversations' rows
        full = _turn_designs(turns, names, "staggered")
        first = min(starts.values())
        last = max(starts.values())
        origin = (first - timedelta(days=first.weekday())).replace(hour=0, minute=0, second=0,
                                                                     microsecond=0)
        step, span = timedelta(weeks=step_weeks), timedelta(weeks=window_weeks)
        wstart = origin
        win_est = GottmanMurray(min_pairs=min_pairs, n_baseline=0)
        while wstart <= last:
            wend = wstart + span
            ids = [c for c, s in starts.items() if wstart <= s < wend]
            keep = np.array([conv_index[c] for c in ids], dtype=int)
            subs = []
            for d in full:
                m = np.isin(d.group, keep)
                subs.append(_Design(d.y[m], d.x[m], d.z[m], d.group[m]))
            counts = {n: d.n for n, d in zip(names, subs, strict=True)}
            res = None
            if min(counts.values()) >= min_pairs:
                res = win_est._fit_designs(names, subs[0], subs[1])
            windows.append(GMWindow(wstart.isoformat(), wend.isoformat(), len(ids), counts, res))
            wstart += step
    return GMAnalysis(overall, tuple(windows), window_weeks, step_weeks, reason)
