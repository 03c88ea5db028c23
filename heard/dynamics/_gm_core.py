"""Gottman–Murray building blocks: influence functions, TAR least squares, fixed points.

The threshold-autoregressive (TAR) estimators follow Hamaker, Zhang & van der Maas (2009), as
implemented in the R package ``dyad`` (reimplemented here from the description in
``shared/design/dynamics-notes.md`` §1.3/§1.6; no code copied). For one person::

    own[t+1] = a + r * own[t] + I(partner) + e

with I one of: none, linear, bilinear (kink at theta), ojive with 2 or 3 regimes. Thresholds are
found by grid search over the observed partner scores (at least ``mpr`` observations per regime),
ordinary least squares inside; the grid search is vectorized through cumulative sums of the
data sorted by the partner's score, so one pass solves every candidate at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from heard.model import Result, Summary, Table, json_field

__all__ = [
    "MODEL_NAMES",
    "FixedPoint",
    "Influence",
    "PersonFit",
    "fit_person",
    "fixed_points",
]

MODEL_NAMES: tuple[str, ...] = ("none", "linear", "bilinear", "ojive2", "ojive3")
# parameters counted in BIC (equal residual variance; the threshold is not counted, as in dyad)
_N_PARAMS = {"none": 3, "linear": 4, "bilinear": 5, "ojive2": 4, "ojive3": 5}


@dataclass(frozen=True, slots=True)
class Influence:
    """A piecewise-affine influence function I(x), plus optional repair and damping terms.

    ``cuts`` are sorted break points; ``closed_left[j]`` says whether x == cuts[j] belongs to
    the piece on its left. Piece j holds ``intercepts[j] + slopes[j] * x``. Repair (Gottman et
    al. 2002) adds ``2*c_r*d/(1+d)`` when the partner is below ``k_r`` (d = k_r - x); damping adds
    ``-2*c_d*d/(1+d)`` above ``k_d`` (d = x - k_d).
    """

    cuts: tuple[float, ...] = ()
    closed_left: tuple[bool, ...] = ()
    intercepts: tuple[float, ...] = (0.0,)
    slopes: tuple[float, ...] = (0.0,)
    repair: tuple[float, float] | None = None  # (c_r, k_r)
    damping: tuple[float, float] | None = None  # (c_d, k_d)

    def _piece(self, x: np.ndarray) -> np.ndarray:
        idx = np.zeros(x.shape, dtype=np.intp)
        for c, left in zip(self.cuts, self.closed_left, strict=True):
            idx += (x > c) if left else (x >= c)
        return idx

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        j = self._piece(x)
        out = np.asarray(self.intercepts)[j] + np.asarray(self.slopes)[j] * x
        if self.repair is not None:
            c, k = self.repair
            d = np.maximum(k - x, 0.0)
            out = out + 2.0 * c * d / (1.0 + d)
        if self.damping is not None:
            c, k = self.damping
            d = np.maximum(x - k, 0.0)
            out = out - 2.0 * c * d / (1.0 + d)
        return out

    def deriv(self, x: np.ndarray | float) -> np.ndarray:
        """dI/dx (the slope of the piece; repair/damping derivatives added)."""
        x = np.asarray(x, dtype=float)
        out = np.asarray(self.slopes)[self._piece(x)].astype(float)
        if self.repair is not None:
            c, k = self.repair
            d = np.maximum(k - x, 0.0)
            out = out + np.where(x < k, -2.0 * c / (1.0 + d) ** 2, 0.0)
        if self.damping is not None:
            c, k = self.damping
            d = np.maximum(x - k, 0.0)
            out = out + np.where(x > k, -2.0 * c / (1.0 + d) ** 2, 0.0)
        return out

    def with_terms(self, *, repair: tuple[float, float] | None = None,
                   damping: tuple[float, float] | None = None, scale_negative: float = 1.0,
                   ) -> Influence:
        """A copy with repair/damping set and the pieces left of 0 scaled by ``scale_negative``.

        Scaling applies to the response to the partner's negativity (pieces whose range lies at
        or below 0), the "soften his response" what-if.
        """
        ints = list(self.intercepts)
        slps = list(self.slopes)
        upper = [*self.cuts, math.inf]
        for j, hi in enumerate(upper):
            if hi <= 0:
                ints[j] *= scale_negative
                slps[j] *= scale_negative
            elif j == 0 or self.cuts[j - 1] < 0:
                # a piece straddling 0: scale its slope, which acts on negative x (I(0) = 0)
                slps[j] *= scale_negative
        return Influence(self.cuts, self.closed_left, tuple(ints), tuple(slps),
                         repair if repair is not None else self.repair,
                         damping if damping is not None else self.damping)

    @classmethod
    def from_model(cls, model: str, params: dict[str, float]) -> Influence:
        if model == "none":
            return cls()
        if model == "linear":
            return cls((), (), (0.0,), (params["slope"],))
        if model == "bilinear":
            return cls((params["theta"],), (True,), (0.0, 0.0),
                       (params["slope_low"], params["slope_high"]))
        if model == "ojive2":
            return cls((params["threshold"],), (True,), (params["level_low"], 0.0), (0.0, 0.0))
        if model == "ojive3":
            return cls((params["threshold_low"], params["threshold_high"]), (True, True),
                       (params["level_low"], 0.0, params["level_high"]), (0.0, 0.0, 0.0))
        raise ValueError(model)


@dataclass(frozen=True, slots=True)
class PersonFit(Result):
    """One person's equation under one influence shape."""

    model: str
    params: dict[str, float]
    se: dict[str, float]
    ssr: float
    n: int
    n_params: int
    loglik: float
    aic: float
    bic: float
    influence: Influence = json_field(omit=True, repr=False)

    json_extra: ClassVar[dict[str, str]] = {"set_point": "set_point"}

    @property
    def a(self) -> float:
        return self.params["a"]

    @property
    def r(self) -> float:
        return self.params["r"]

    @property
    def sigma(self) -> float:
        """Residual standard deviation (maximum likelihood, SSR/n)."""
        return math.sqrt(self.ssr / self.n) if self.n else float("nan")

    @property
    def set_point(self) -> float:
        """Uninfluenced steady state a / (1 - r)."""
        return self.a / (1.0 - self.r) if self.r != 1.0 else float("nan")

    def summary(self) -> Summary:
        rows = [(k, f"{v:+.4f}", f"{self.se[k]:.4f}" if self.se.get(k) else "")
                for k, v in self.params.items()]
        return Summary(f"Influence shape {self.model}: BIC {self.bic:.1f}, n = {self.n}",
                       [Table(("Parameter", "Value", "SE"), rows)])


def _ic(model: str, ssr: float, n: int) -> tuple[int, float, float, float]:
    k = _N_PARAMS[model]
    loglik = -(n * math.log(2 * math.pi) + n * math.log(ssr / n) + n) / 2.0
    return k, loglik, -2 * loglik + 2 * k, -2 * loglik + math.log(n) * k


def _ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    ssr = float(resid @ resid)
    dof = max(len(y) - X.shape[1], 1)
    try:
        cov = np.linalg.inv(X.T @ X) * (ssr / dof)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(X.shape[1], np.nan)
    return beta, se, ssr


def _batched_ssr(xtx: np.ndarray, xty: np.ndarray, yty: float) -> np.ndarray:
    """SSR for a batch of normal equations; singular candidates get +inf."""
    try:
        beta = np.linalg.solve(xtx, xty[..., None])[..., 0]
        return yty - np.einsum("ij,ij->i", beta, xty)
    except np.linalg.LinAlgError:
        out = np.full(len(xtx), np.inf)
        for i in range(len(xtx)):
            if np.linalg.matrix_rank(xtx[i]) == xtx.shape[1]:
                b = np.linalg.solve(xtx[i], xty[i])
                out[i] = yty - float(b @ xty[i])
        return out


def _groups(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of z (sorted) and each row's group; O(n) for small integer scores."""
    if len(z):
        zmin, zmax = float(z.min()), float(z.max())
        if zmax - zmin <= 4096 and np.array_equal(z, np.round(z)):
            off = (z - zmin).astype(np.int64)
            present = np.bincount(off, minlength=int(zmax - zmin) + 1) > 0
            lookup = np.cumsum(present) - 1
            return np.flatnonzero(present) + zmin, lookup[off]
    return np.unique(z, return_inverse=True)


def fit_person(y: np.ndarray, x: np.ndarray, z: np.ndarray, model: str, *,
               mpr: int | None = None, ssr_only: bool = False) -> PersonFit | float | None:
    """Fit one person's TAR equation ``y = a + r*x + I(z)`` under one influence shape.

    Parameters
    ----------
    y, x, z : array
        Own next score, own previous score, the partner's score that acts on ``y``.
    model : {"none", "linear", "bilinear", "ojive2", "ojive3"}
    mpr : int, optional
        Minimum observations per regime; default ``round(n/10)`` as in ``dyad``.

    ssr_only : bool
        Return only the smallest sum of squared residuals (for fast baselines).

    Returns
    -------
    PersonFit (or its SSR), or None when no threshold leaves enough observations per regime.
    """
    y = np.asarray(y, float)
    x = np.asarray(x, float)
    z = np.asarray(z, float)
    n = len(y)
    ones = np.ones(n)
    if model in ("none", "linear"):
        if ssr_only:
            # sums by elementwise products (long BLAS dots stall on a busy machine)
            cols = [ones, x] + ([z] if model == "linear" else [])
            xtx = np.array([[float((c1 * c2).sum()) for c2 in cols] for c1 in cols])
            xty = np.array([float((c * y).sum()) for c in cols])
            return float(_batched_ssr(xtx[None], xty[None], float((y * y).sum()))[0])
        X = np.column_stack([ones, x] + ([z] if model == "linear" else []))
        beta, se, ssr = _ols(X, y)
        names = ["a", "r"] + (["slope"] if model == "linear" else [])
        params = dict(zip(names, map(float, beta), strict=True))
        ses = dict(zip(names, map(float, se), strict=True))
        return _finish(model, params, ses, ssr, n)
    if model not in ("bilinear", "ojive2", "ojive3"):
        raise ValueError(model)
    if mpr is None:
        mpr = round(n / 10)
    mpr = max(int(mpr), 1)
    # Splits can only fall between distinct partner scores, so every candidate's normal
    # equations are sums over groups of equal z: one pass of bincounts, then prefix sums
    # over the (few) groups solve all candidates at once.
    u, inv = _groups(z)
    def grouped(v: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(np.bincount(inv, weights=v, minlength=len(u)))])

    S1, Sx, Sy = grouped(ones), grouped(x), grouped(y)
    T1, Tx, Ty = S1[-1], Sx[-1], Sy[-1]
    Txx, Txy, yty = float((x * x).sum()), float((x * y).sum()), float((y * y).sum())
    cum = S1.astype(np.int64)  # rows in the low regime when the first g groups are low
    gs = np.arange(1, len(u))

    def valid(lo: int, hi: int) -> np.ndarray:
        return gs[(cum[gs] >= lo) & (cum[gs] <= hi)]

    if model == "bilinear":
        g = valid(mpr, n - mpr)
        if len(g) == 0:
            return None
        Sz, Sxz, Szz, Szy = grouped(z), grouped(x * z), grouped(z * z), grouped(z * y)
        zl, xzl, zzl, zyl = Sz[g], Sxz[g], Szz[g], Szy[g]
        zr, xzr, zzr, zyr = Sz[-1] - zl, Sxz[-1] - xzl, Szz[-1] - zzl, Szy[-1] - zyl
        xtx = np.zeros((len(g), 4, 4))
        xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 1, 1] = T1, Tx, Txx
        xtx[:, 0, 2], xtx[:, 0, 3] = zl, zr
        xtx[:, 1, 2], xtx[:, 1, 3] = xzl, xzr
        xtx[:, 2, 2], xtx[:, 3, 3] = zzl, zzr
        xty = np.column_stack([np.full(len(g), Ty), np.full(len(g), Txy), zyl, zyr])
    elif model == "ojive2":
        g = valid(mpr, n - mpr)
        if len(g) == 0:
            return None
        xtx = np.zeros((len(g), 3, 3))
        xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 1, 1] = T1, Tx, Txx
        xtx[:, 0, 2], xtx[:, 1, 2], xtx[:, 2, 2] = S1[g], Sx[g], S1[g]
        xty = np.column_stack([np.full(len(g), Ty), np.full(len(g), Txy), Sy[g]])
    else:
        g1s, g2all = valid(mpr, n - 2 * mpr), valid(2 * mpr, n - mpr)
        if len(g1s) == 0 or len(g2all) == 0:
            return None
        g1, g2 = np.meshgrid(g1s, g2all, indexing="ij")
        keep = cum[g2] >= cum[g1] + mpr
        g1, g2 = g1[keep], g2[keep]  # row-major: low split outer, high split inner, as dyad
        if len(g1) == 0:
            return None
        xtx = np.zeros((len(g1), 4, 4))
        xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 1, 1] = T1, Tx, Txx
        xtx[:, 0, 2], xtx[:, 1, 2], xtx[:, 2, 2] = S1[g1], Sx[g1], S1[g1]
        xtx[:, 0, 3], xtx[:, 1, 3], xtx[:, 3, 3] = T1 - S1[g2], Tx - Sx[g2], T1 - S1[g2]
        xty = np.column_stack([np.full(len(g1), Ty), np.full(len(g1), Txy), Sy[g1],
                               Ty - Sy[g2]])
    xtx = xtx + np.triu(xtx, 1).transpose(0, 2, 1)
    ssrs = _batched_ssr(xtx, xty, yty)
    if ssr_only:
        return float(ssrs.min())
    i = int(np.argmin(ssrs))
    if model == "bilinear":
        th = float(u[g[i] - 1])
        low = z <= th
        X = np.column_stack([ones, x, z * low, z * ~low])
        names, extra = ["a", "r", "slope_low", "slope_high"], {"theta": th}
    elif model == "ojive2":
        th = float(u[g[i] - 1])
        X = np.column_stack([ones, x, (z <= th).astype(float)])
        names, extra = ["a", "r", "level_low"], {"threshold": th}
    else:
        lo_th, hi_th = float(u[g1[i] - 1]), float(u[g2[i] - 1])
        X = np.column_stack([ones, x, (z <= lo_th).astype(float), (z > hi_th).astype(float)])
        names = ["a", "r", "level_low", "level_high"]
        extra = {"threshold_low": lo_th, "threshold_high": hi_th}
    beta, se, ssr = _ols(X, y)
    params = dict(zip(names, map(float, beta), strict=True)) | extra
    ses = dict(zip(names, map(float, se), strict=True))
    return _finish(model, params, ses, ssr, n)


def _finish(model: str, params: dict[str, float], se: dict[str, float], ssr: float,
            n: int) -> PersonFit:
    k, loglik, aic, bic = _ic(model, max(ssr, 1e-300), n)
    return PersonFit(model, params, se, ssr, n, k, loglik, aic, bic,
                     Influence.from_model(model, params))


@dataclass(frozen=True, slots=True)
class FixedPoint(Result):
    """An influenced steady state (W*, H*) of the pair, with its stability in both conventions."""

    first: float
    second: float
    eigenvalues_same_lag: tuple[complex, complex]
    eigenvalues_staggered: tuple[complex, complex]
    convention: str

    json_extra: ClassVar[dict[str, str]] = {
        "stability": "stability", "modulus": "modulus", "oscillating": "oscillating",
        "half_life": "half_life"}

    def _eig(self) -> tuple[complex, complex]:
        if self.convention == "same_lag":
            return self.eigenvalues_same_lag
        return self.eigenvalues_staggered

    @property
    def modulus(self) -> float:
        return float(max(abs(v) for v in self._eig()))

    @property
    def stability(self) -> str:
        mods = [abs(v) for v in self._eig()]
        if all(m < 1 for m in mods):
            return "stable"
        if any(m < 1 for m in mods):
            return "saddle"
        return "unstable"

    @property
    def oscillating(self) -> bool:
        return any(abs(v.imag) > 1e-12 for v in self._eig())

    @property
    def half_life(self) -> float | None:
        """Turns (steps) for a deviation to halve; None when the point is not stable."""
        m = self.modulus
        if not 0 < m < 1:
            return None if m >= 1 else 0.0
        return math.log(0.5) / math.log(m)

    def words(self) -> str:
        hl = f", half-life {self.half_life:.2f} turns" if self.half_life else ""
        return (f"({self.first:+.3f}, {self.second:+.3f}) {self.stability}"
                f"{' (oscillating)' if self.oscillating else ''}{hl}")

    def summary(self) -> Summary:
        return Summary("An influenced steady state", [Table(("", ""), [("", self.words())])])


def _eigs(r1: float, r2: float, d_hw: float, d_wh: float) -> tuple[tuple[complex, complex],
                                                                   tuple[complex, complex]]:
    same = np.linalg.eigvals(np.array([[r1, d_hw], [d_wh, r2]]))
    stag = np.linalg.eigvals(np.array([[r1, d_hw], [r1 * d_wh, r2 + d_wh * d_hw]]))
    return (tuple(complex(v) for v in same), tuple(complex(v) for v in stag))  # type: ignore[return-value]


def fixed_points(a: float, r1: float, infl_on_first: Influence, b: float, r2: float,
                 infl_on_second: Influence, *, span: float = 60.0, grid: int = 24001,
                 convention: str = "staggered") -> list[FixedPoint]:
    """Influenced steady states: crossings of the two null clines, with their Jacobians.

    ``infl_on_first`` is I(second) acting on the first person (I_HW), ``infl_on_second`` is
    I(first) acting on the second (I_WH). The first person's null cline is
    W = (a + I_HW(H)) / (1 - r1); the second's H = (b + I_WH(W)) / (1 - r2). Roots of
    g(W) = W_cline(H_cline(W)) - W are bracketed on a fine grid and refined by bisection; a sign
    change across a jump of a stepped cline is a basin boundary, not a fixed point, and is
    dropped.
    """
    if abs(1 - r1) < 1e-12 or abs(1 - r2) < 1e-12:
        return []

    def h_of(w: np.ndarray) -> np.ndarray:
        return (b + infl_on_second(w)) / (1.0 - r2)

    def g(w: np.ndarray) -> np.ndarray:
        return (a + infl_on_first(h_of(w))) / (1.0 - r1) - w

    ws = np.linspace(-span, span, grid)
    gs = g(ws)
    found: list[float] = []
    exact = np.flatnonzero(gs == 0)
    found.extend(ws[exact].tolist())
    idx = np.flatnonzero(np.sign(gs[:-1]) * np.sign(gs[1:]) < 0)
    for i in idx:
        lo, hi = float(ws[i]), float(ws[i + 1])
        glo = float(gs[i])
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            gm = float(g(np.array(mid)))
            if (gm < 0) == (glo < 0):
                lo, glo = mid, gm
            else:
                hi = mid
        root = 0.5 * (lo + hi)
        if abs(float(g(np.array(root)))) < 1e-7:
            found.append(root)
    out: list[FixedPoint] = []
    for w in sorted(found):
        h = float(h_of(np.array(w)))
        same, stag = _eigs(r1, r2, float(infl_on_first.deriv(h)), float(infl_on_second.deriv(w)))
        out.append(FixedPoint(float(w), h, same, stag, convention))
    return out
