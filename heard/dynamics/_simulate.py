"""What-if simulation from a fitted Gottman–Murray model.

Change one thing, then look at many simulated conversations rather than one path: the fitted
equations are run forward with residual noise (drawn with each partner's fitted residual SD),
vectorized over runs. Interventions are small frozen dataclasses:

- :class:`SoftenResponse`: scale a partner's response to the other's negativity (the influence
  pieces at or below 0), e.g. his response to her vulnerability;
- :class:`AddRepair`: add a repair term (Gottman et al. 2002) to a partner's equation;
- :class:`ShiftSetPoint`: move a partner's uninfluenced set point;
- :class:`LastingChange`: for the long arc: after each crisis a partner's set point rises by
  ``boost`` and decays back with ``tau_weeks``, except a ``fraction`` that lasts. Its plain
  parameters are what a long-arc fit reports (peak, tau, retained fraction).

Simulated numbers describe this model of this couple under an assumed change; they are not
predictions about the people.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from heard.dynamics._gm_core import Influence
from heard.dynamics._gottman import GMResult
from heard.errors import InputError, OptionError
from heard.model import Result, Summary, Table, Text, json_field

__all__ = ["HARD_END_ROUNDS", "AddRepair", "Basins", "LastingChange", "ShiftSetPoint",
           "SimulationResult", "SmallestChange", "SoftenResponse", "basins", "simulate",
           "simulate_months", "smallest_change"]

_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_NEUTRAL_TOL = 0.05
#: A simulated conversation "ends on a hard note" when both partners' scores over its last
#: this many rounds average below 0: a plain outcome a person can picture, unlike a basin.
HARD_END_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class SoftenResponse:
    """Multiply ``partner``'s response to the other's negativity by ``factor`` (0.5 halves it)."""

    partner: str
    factor: float


@dataclass(frozen=True, slots=True)
class AddRepair:
    """Give ``partner`` a repair term: when the other drops below ``k``, push up by up to 2c."""

    partner: str
    c: float
    k: float = 0.0


@dataclass(frozen=True, slots=True)
class ShiftSetPoint:
    """Move ``partner``'s uninfluenced set point by ``delta`` score points."""

    partner: str
    delta: float


@dataclass(frozen=True, slots=True)
class LastingChange:
    """After each crisis week, ``partner``'s set point rises by ``boost`` and decays with
    ``tau_weeks``, keeping ``fraction`` (0..1) for good."""

    partner: str
    fraction: float
    boost: float = 2.0
    tau_weeks: float = 3.0
    crisis_weeks: tuple[int, ...] = (4,)


Intervention = SoftenResponse | AddRepair | ShiftSetPoint


@dataclass(frozen=True, slots=True)
class _Params:
    names: tuple[str, str]
    a: tuple[float, float]
    r: tuple[float, float]
    infl: tuple[Influence, Influence]
    sigma: tuple[float, float]
    staggered: bool
    lo: float
    hi: float


def _params(result: GMResult) -> _Params:
    n1, n2 = result.names
    c1, c2 = result.chosen[n1], result.chosen[n2]
    return _Params(result.names, (c1.a, c2.a), (c1.r, c2.r), (c1.influence, c2.influence),
                   (c1.sigma, c2.sigma), result.convention == "staggered", *result.score_range)


def _who(p: _Params, name: str) -> int:
    if name not in p.names:
        raise InputError.from_code("E208", name=name, names=", ".join(p.names))
    return p.names.index(name)


def _apply(p: _Params, interventions: Sequence[Intervention]) -> _Params:
    for iv in interventions:
        i = _who(p, iv.partner)
        a, r, infl = list(p.a), list(p.r), list(p.infl)
        if isinstance(iv, SoftenResponse):
            if iv.factor < 0:
                raise OptionError.from_code("E206", option="SoftenResponse.factor",
                                            detail="at least 0", value=iv.factor)
            infl[i] = infl[i].with_terms(scale_negative=iv.factor)
        elif isinstance(iv, AddRepair):
            infl[i] = infl[i].with_terms(repair=(iv.c, iv.k))
        elif isinstance(iv, ShiftSetPoint):
            a[i] += iv.delta * (1 - r[i])
        else:
            raise OptionError.from_code("E206", option="intervention",
                                        detail="SoftenResponse, AddRepair or ShiftSetPoint",
                                        value=iv)
        p = replace(p, a=tuple(a), infl=tuple(infl))  # type: ignore[arg-type]
    return p


def _run(p: _Params, w0: np.ndarray, h0: np.ndarray, n_turns: int,
         rng: np.random.Generator | None, shift: tuple[float, float] = (0.0, 0.0),
         ) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the pair map; returns paths of shape (n_turns + 1, runs)."""
    w, h = w0.astype(float), h0.astype(float)
    ws, hs = [w], [h]
    for _ in range(n_turns):
        e1 = rng.standard_normal(w.shape) * p.sigma[0] if rng is not None else 0.0
        e2 = rng.standard_normal(h.shape) * p.sigma[1] if rng is not None else 0.0
        w_new = np.clip(p.a[0] + shift[0] + p.r[0] * w + p.infl[0](h) + e1, p.lo, p.hi)
        partner = w_new if p.staggered else w
        h = np.clip(p.a[1] + shift[1] + p.r[1] * h + p.infl[1](partner) + e2, p.lo, p.hi)
        w = w_new
        ws.append(w)
        hs.append(h)
    return np.array(ws), np.array(hs)


def _ends_negative(p: _Params, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Noise-free continuation from (w, h): does it settle where the pair's mean is negative?"""
    ws, hs = _run(p, w, h, 200, None)
    # a small tolerance so that settling at exactly neutral is not called negative
    return (ws[-20:].mean(axis=0) + hs[-20:].mean(axis=0)) < -_NEUTRAL_TOL


@dataclass(frozen=True)
class SimulationResult(Result):
    """Distributions over many simulated conversations (frozen)."""

    names: tuple[str, str]
    n_runs: int
    n_turns: int
    intervention: tuple[Any, ...] = json_field(convert=lambda ivs: [repr(i) for i in ivs])
    # name -> (len(_QUANTILES), n_turns + 1)
    paths_quantiles: dict[str, np.ndarray] = json_field(digits=4)
    mean_score_quantiles: dict[str, tuple[float, ...]]
    share_negative: float = json_field(name="share_ending_negative")
    #: Share of the simulated conversations (with their noise) that end on a hard note.
    share_hard_end: float = json_field(default=math.nan, name="share_ending_hard", digits=4)
    #: Per partner, the share of their simulated turns that score below 0.
    share_hard_turns: dict[str, float] = json_field(default_factory=dict, digits=4)

    json_extra: ClassVar[dict[str, str]] = {"quantiles": "quantiles"}

    @property
    def quantiles(self) -> tuple[float, ...]:
        """The quantiles of ``paths_quantiles`` and ``mean_score_quantiles``."""
        return _QUANTILES

    def summary(self) -> Summary:
        def of(x: float) -> str:
            return "-" if math.isnan(x) else f"{round(x * 100):d} of 100"

        rows = [("Conversations that end on a hard note", of(self.share_hard_end))]
        rows += [(f"{n}'s turns that are hard", of(self.share_hard_turns.get(n, math.nan)))
                 for n in self.names]
        return Summary(f"{self.n_runs} simulated conversations of {self.n_turns} turns",
                       [Table(("", ""), rows)])


def _as_list(intervention: Any) -> list[Intervention]:
    if intervention is None:
        return []
    if isinstance(intervention, (list, tuple)):
        return list(intervention)
    return [intervention]


def simulate(result: GMResult, intervention: Any = None, *, n_runs: int = 500,
             n_turns: int = 40, seed: int = 0, opening: tuple[float, float] | None = None,
             ) -> SimulationResult:
    """Simulate ``n_runs`` conversations of ``n_turns`` rounds, optionally after a change.

    Parameters
    ----------
    result : GMResult
    intervention : SoftenResponse, AddRepair, ShiftSetPoint, a list of them, or None
    n_runs, n_turns, seed : int
    opening : (float, float), optional
        Scores of the first round; default each partner's fitted set point.

    Returns
    -------
    SimulationResult
        Quantiles of each partner's path and of each run's mean score, the share of runs
        whose end state settles in the negative basin, the share that end on a hard note
        (:data:`HARD_END_ROUNDS`) and each partner's share of turns below 0.
    """
    for opt, val in (("n_runs", n_runs), ("n_turns", n_turns)):
        if not isinstance(val, int) or val < 1:
            raise OptionError.from_code("E206", option=opt, detail="a whole number >= 1",
                                        value=val)
    ivs = _as_list(intervention)
    p = _apply(_params(result), ivs)
    if opening is None:
        opening = tuple(p.a[i] / (1 - p.r[i]) if p.r[i] != 1 else 0.0 for i in (0, 1))
    rng = np.random.default_rng(seed)
    w0 = np.full(n_runs, float(opening[0]))
    h0 = np.full(n_runs, float(opening[1]))
    ws, hs = _run(p, w0, h0, n_turns, rng)
    neg = _ends_negative(p, ws[-1], hs[-1])
    q = np.asarray(_QUANTILES)
    last = min(HARD_END_ROUNDS, n_turns)
    hard_end = (ws[-last:].mean(axis=0) + hs[-last:].mean(axis=0)) < 0
    return SimulationResult(
        p.names, n_runs, n_turns, tuple(ivs),
        {p.names[0]: np.quantile(ws, q, axis=1), p.names[1]: np.quantile(hs, q, axis=1)},
        {p.names[0]: tuple(np.quantile(ws.mean(axis=0), q).tolist()),
         p.names[1]: tuple(np.quantile(hs.mean(axis=0), q).tolist())},
        float(neg.mean()), float(hard_end.mean()),
        {p.names[0]: float((ws[1:] < 0).mean()), p.names[1]: float((hs[1:] < 0).mean())})


@dataclass(frozen=True)
class Basins(Result):
    """Where noise-free conversations starting on a grid of openings end up."""

    first: np.ndarray
    second: np.ndarray
    # bool, shape (len(second), len(first)); 0 and 1 in the JSON
    negative: np.ndarray = json_field(convert=lambda a: a.astype(int))

    json_extra: ClassVar[dict[str, str]] = {"share_negative": "share_negative"}

    @property
    def share_negative(self) -> float:
        return float(self.negative.mean())

    def summary(self) -> Summary:
        return Summary("Where noise-free conversations end", [Text(
            f"{round(self.share_negative * 100)} of 100 openings on the grid end on a hard "
            "note.")])


def basins(result: GMResult, intervention: Any = None, *, grid: int = 41) -> Basins:
    """Basins of attraction over a grid of openings spanning the observed score range."""
    p = _apply(_params(result), _as_list(intervention))
    xs = np.linspace(p.lo, p.hi, grid)
    W, H = np.meshgrid(xs, xs)
    neg = _ends_negative(p, W.ravel(), H.ravel()).reshape(W.shape)
    return Basins(xs, xs, neg)


@dataclass(frozen=True)
class SmallestChange(Result):
    """The smallest change found that carries ``opening`` into the positive basin."""

    kind: str
    partner: str
    value: float | None
    already_positive: bool
    opening: tuple[float, float]

    json_extra: ClassVar[dict[str, str]] = {"found": "found"}

    @property
    def found(self) -> bool:
        return self.value is not None

    def summary(self) -> Summary:
        what = (f"{self.kind} of {self.value:g}" if self.value is not None
                else "no change in the range tried")
        return Summary(f"Smallest change, {self.partner}", [Text(
            "already ends well" if self.already_positive else what)])


def smallest_change(result: GMResult, opening: tuple[float, float], *, partner: str | None = None,
                    kind: str = "repair", k: float = 0.0, max_c: float = 8.0,
                    tol: float = 1e-3) -> SmallestChange:
    """Bisection for the smallest repair strength c (or softening) that makes ``opening`` end
    in the positive basin.

    ``kind="repair"`` searches c in [0, max_c] of an :class:`AddRepair` with trigger ``k``;
    ``kind="soften"`` searches the largest factor in [0, 1] of a :class:`SoftenResponse` (the
    reported value is the reduction 1 - factor). With ``partner=None`` both partners are tried
    and the smaller change is returned.
    """
    if kind not in ("repair", "soften"):
        raise OptionError.from_code("E206", option="kind", detail="'repair' or 'soften'",
                                    value=kind)
    base = _params(result)
    names = [partner] if partner is not None else list(base.names)
    w0, h0 = np.array([float(opening[0])]), np.array([float(opening[1])])

    def negative(iv: Intervention | None) -> bool:
        p = _apply(base, [iv] if iv is not None else [])
        return bool(_ends_negative(p, w0, h0)[0])

    if not negative(None):
        return SmallestChange(kind, names[0], 0.0, True, tuple(opening))  # type: ignore[arg-type]
    best: SmallestChange | None = None
    for name in names:
        _who(base, name)

        def make(v: float, who: str = name) -> Intervention:
            return AddRepair(who, v, k) if kind == "repair" else SoftenResponse(who, 1.0 - v)

        hi = max_c if kind == "repair" else 1.0
        if negative(make(hi)):
            continue
        lo = 0.0
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            if negative(make(mid)):
                lo = mid
            else:
                hi = mid
        if best is None or hi < (best.value or math.inf):
            best = SmallestChange(kind, name, hi, False, tuple(opening))  # type: ignore[arg-type]
    return best or SmallestChange(kind, names[0], None, False, tuple(opening))  # type: ignore[arg-type]


def simulate_months(result: GMResult, change: LastingChange, *, weeks: int = 26,
                    conversations_per_week: int = 3, n_turns: int = 20, n_runs: int = 200,
                    seed: int = 0) -> dict[str, Any]:
    """Weekly distributions of each partner's mean turn score under a post-crisis change.

    Each week ``conversations_per_week`` conversations of ``n_turns`` rounds are simulated for
    each of ``n_runs`` runs, with ``change.partner``'s set point raised by
    ``boost * (fraction + (1 - fraction) * exp(-(week - crisis) / tau_weeks))`` after each
    crisis week (effects of several crises add up).
    """
    if not 0 <= change.fraction <= 1:
        raise OptionError.from_code("E206", option="LastingChange.fraction",
                                    detail="between 0 and 1", value=change.fraction)
    if change.tau_weeks <= 0:
        raise OptionError.from_code("E206", option="LastingChange.tau_weeks",
                                    detail="greater than 0", value=change.tau_weeks)
    p = _params(result)
    i = _who(p, change.partner)
    rng = np.random.default_rng(seed)
    q = np.asarray(_QUANTILES)
    out: dict[str, list[list[float]]] = {n: [] for n in p.names}
    shifts = []
    for wk in range(weeks):
        s = sum(change.boost * (change.fraction + (1 - change.fraction)
                                * math.exp(-(wk - c) / change.tau_weeks))
                for c in change.crisis_weeks if wk >= c)
        shifts.append(s)
        sh = (s * (1 - p.r[0]), 0.0) if i == 0 else (0.0, s * (1 - p.r[1]))
        m = n_runs * conversations_per_week
        start = [np.full(m, (p.a[j] + sh[j]) / (1 - p.r[j]) if p.r[j] != 1 else 0.0)
                 for j in (0, 1)]
        ws, hs = _run(p, start[0], start[1], n_turns, rng, sh)
        for name, arr in zip(p.names, (ws, hs), strict=True):
            per_run = arr[1:].mean(axis=0).reshape(n_runs, conversations_per_week).mean(axis=1)
            out[name].append(np.quantile(per_run, q).tolist())
    return {"names": list(p.names), "partner": change.partner, "fraction": change.fraction,
            "quantiles": list(_QUANTILES), "set_point_shift": shifts,
            "weekly_mean_score_quantiles": out}
