"""The original two-phase Gottman–Murray estimator (bilinear, ojive, repair/damping).

A reimplementation, from the description in ``shared/design/dynamics-notes.md`` §1.3 and §1.6,
of what the R package ``dyad`` (``origmodel``; a port of Swanson's FORTRAN) computes:

1. scores in [0, 0.6] become 0 (neutral) and everything is rounded;
2. the uninfluenced parameters (a, r) come only from steps where the partner is exactly neutral;
3. the influenced part ``own[t+1] - r*own[t] - a`` is fitted as a function of the partner's score.

It exists to reproduce the published reference numbers. For chat the notes advise the TAR
estimators instead (:mod:`heard.dynamics._gm_core`): chat has too few exactly-neutral moments.

The repair/damping search reproduces the original's numerics on purpose: the effectiveness
``c`` is found by 500 Newton steps on the sum of squares itself (not its derivative), keeping the
best iterate; those steps are chaotic, so sums are accumulated left to right exactly as the
original does. With ``dyad_compat=True`` two slips of the original are kept as well, so that the
reference values reproduce: the wife's damping search scores residuals against the first m
husband scores in time order, and the husband's damping search starts from ``d + (1-diff)/...``
instead of ``d * (1-diff)/...``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heard.dynamics._gm_core import FixedPoint, Influence, fixed_points
from heard.model import Result, Summary, Table, json_field

__all__ = ["OriginalResult", "fit_original"]

_STEP = 0.1
_EPS = _STEP / 100
_MAXITER = 500
_MAXITEM = 150


@dataclass(frozen=True, slots=True)
class OriginalResult(Result):
    """What the two-phase estimator found. ``params`` uses the ``dyad`` names."""

    influence: str
    params: dict[str, float]
    fixed_points: tuple[FixedPoint, ...]
    influence_on_wife: Influence = json_field(omit=True, repr=False)
    influence_on_husband: Influence = json_field(omit=True, repr=False)

    def summary(self) -> Summary:
        rows = [(k, f"{v:+.4f}") for k, v in self.params.items()]
        rows += [("steady state", p.words()) for p in self.fixed_points]
        return Summary(f"Gottman-Murray model, two-phase fit ({self.influence})",
                       [Table(("", ""), rows)])


def _rsum(v: np.ndarray) -> float:
    # R's sum() accumulates in extended precision; an exactly rounded sum matches it
    return math.fsum(v.tolist())


def _newton_c(c0: float, f1, f2) -> tuple[float, float, bool]:
    """The original's search for c: Newton steps on f itself, keeping the best iterate."""
    c = c0
    f = f1(c)
    fmin, best = f, c0
    n, d = 0, 0.05
    while n < _MAXITER and d != 0:
        n += 1
        c_prev = c
        d = f2(c_prev)
        if d != 0:
            c = c_prev - f / d
            f = f1(c)
            if f < fmin:
                fmin, best = f, c
    return best, math.sqrt(fmin), d != 0


def _funcs(resid0: np.ndarray, p: np.ndarray, k: float, sign: float):
    """SSR and its derivative for repair (sign=+1: diff = p-k) or damping (sign=-1)."""
    diff = sign * p + (k if sign < 0 else -k)
    denom = 1 - diff
    e = np.abs(diff) - diff
    near1 = np.abs(denom) < 1e-5
    near2 = np.abs(denom) < 1e-6
    g1 = e / np.where(near1, 1.0, denom)
    den2 = np.where(near2, 1.0, denom)
    acc = np.add.accumulate
    any1, any2 = bool(near1.any()), bool(near2.any())

    def f1(c: float) -> float:
        r = resid0 - c * g1
        if any1:
            r = np.where(near1, resid0, r)
        return float(acc(r * r)[-1])

    def f2(c: float) -> float:
        r = resid0 - c * e / den2
        # ((2*r)*e)/den summed is exactly 2 * sum((r*e)/den): scaling by 2 is exact
        term = r * e / den2
        if any2:
            term = np.where(near2, resid0, term)
        return -2.0 * float(acc(term)[-1])

    return f1, f2


def _search(p: np.ndarray, resid0: np.ndarray, start: float, stop: float, sign: float,
            p_eval: np.ndarray, plus_quirk: bool) -> tuple[float, float] | None:
    """Scan the trigger k in steps of 0.1 (down for repair, up for damping); best (k, c)."""
    best: tuple[float, float, float] | None = None
    k = start
    loop = 0
    while (k > stop) if sign > 0 else (k < stop):
        k = k - _STEP if sign > 0 else k + _STEP
        loop += 1
        hit = np.flatnonzero(p < k - _EPS) if sign > 0 else np.flatnonzero(p > k + _EPS)
        if len(hit) == 0:
            continue
        i = int(hit[0])
        diff = (p[i] - k) if sign > 0 else (-p[i] + k)
        if plus_quirk:
            c0 = resid0[i] + (1 - diff) / (abs(diff) - diff)
        else:
            c0 = resid0[i] * (1 - diff) / (abs(diff) - diff)
        f1, f2 = _funcs(resid0, p_eval, k, sign)
        c, res, ok = _newton_c(float(c0), f1, f2)
        if ok and (best is None or loop == 1 or res < best[2]):
            best = (k, c, res)
    return None if best is None else (best[0], best[1])


def _bilinear_slopes(s: np.ndarray, infl: np.ndarray, restrict: bool) -> tuple[float, float]:
    left = (s < 0) & (infl < 0) if restrict else s < 0
    right = (s > 0) & (infl > 0) if restrict else s > 0
    out = []
    for mask, count in ((left, (s < 0).sum()), (right, (s > 0).sum())):
        ss = _rsum(s[mask] ** 2)
        out.append(_rsum(s[mask] * infl[mask]) / ss if ss != 0 and count > 3 else math.nan)
    return out[0], out[1]


def _half(scores: np.ndarray, infl: np.ndarray, extreme: float, positive: bool,
          ) -> tuple[float, float, float]:
    """Ojive fit of one half: (level near 0, level beyond the threshold, threshold)."""
    def levels(th: float) -> tuple[float, float]:
        near = scores <= th if positive else scores >= th
        lv = [_rsum(infl[m]) / m.sum() if m.any() else 0.0 for m in (near, ~near)]
        return lv[0], lv[1]

    unit = 1 if positive else -1
    if extreme == unit:
        return (*levels(extreme), extreme)
    th = float(round(extreme / 2))
    lo, hi = levels(th)
    prev = None
    for it in range(1, 11):
        cands = range(1, int(extreme) + 1) if positive else range(-1, int(extreme) - 1, -1)
        best_ss, best_th = math.inf, th
        for c in cands:
            near = scores <= c if positive else scores >= c
            ss = float(np.sum((infl[near] - lo) ** 2) + np.sum((infl[~near] - hi) ** 2))
            if ss < best_ss:
                best_ss, best_th = ss, float(c)
        th = best_th
        lo, hi = levels(th)
        if prev is not None and (abs(prev - th) < 1 or it >= 10):
            break
        prev = th
    return lo, hi, th


def fit_original(wife: np.ndarray, husband: np.ndarray, *, influence: str = "bilinear",
                 dyad_compat: bool = True, convention: str = "same_lag") -> OriginalResult:
    """Two-phase Gottman–Murray fit of two aligned series (wife = first, husband = second).

    Parameters
    ----------
    wife, husband : array
        Aligned scores (e.g. SPAFF weights summed over 6-second blocks).
    influence : {"bilinear", "ojive", "rd"}
        Influence shape; "rd" is bilinear on the ideal quadrants plus repair and damping.
    dyad_compat : bool
        Keep the original's two slips in the damping search (see module docstring).
    convention : {"same_lag", "staggered"}
        Which Jacobian decides the stability of the fixed points.
    """
    ww = np.asarray(wife, float).copy()
    hw = np.asarray(husband, float).copy()
    for v in (ww, hw):
        v[(v >= 0) & (v <= 0.6)] = 0.0
    ww, hw = np.round(ww), np.round(hw)

    def uninfluenced(own: np.ndarray, other: np.ndarray) -> tuple[float, float]:
        neutral = other == 0
        # the squared and plain sums include the last step, which has no successor (as dyad)
        sxx, sx, cnt = float(np.sum(own[neutral] ** 2)), float(np.sum(own[neutral])), neutral.sum()
        nxt = neutral[:-1]
        sxn = float(np.sum(own[:-1][nxt] * own[1:][nxt]))
        sn = float(np.sum(own[1:][nxt]))
        det = cnt * sxx - sx**2
        if det == 0:
            return math.nan, math.nan
        return (sn * sxx - sxn * sx) / det, (cnt * sxn - sx * sn) / det

    a, r1 = uninfluenced(ww, hw)
    b, r2 = uninfluenced(hw, ww)
    h, w = hw[:-1], ww[:-1]
    ihw = ww[1:] - r1 * ww[:-1] - a
    iwh = hw[1:] - r2 * hw[:-1] - b
    params: dict[str, float] = {"a": a, "r1": r1, "natw": a / (1 - r1),
                                "b": b, "r2": r2, "nath": b / (1 - r2)}
    if influence == "ojive":
        lv = {}
        for name, s, infl in (("h", h, ihw), ("w", w, iwh)):
            pos, neg = s > 0, s < 0
            lv[name + "pos"] = _half(s[pos], infl[pos], float(s.max()), True) if pos.any() \
                else (0.0, 0.0, 0.0)
            lv[name + "neg"] = _half(s[neg], infl[neg], float(s.min()), False) if neg.any() \
                else (0.0, 0.0, 0.0)
        i_w = _ojive_influence(lv["hneg"], lv["hpos"])
        i_h = _ojive_influence(lv["wneg"], lv["wpos"])
        for side, key in (("w", "h"), ("h", "w")):
            own_a, own_r = (a, r1) if side == "w" else (b, r2)
            (dx, ex, fx), (ax, bx, cx) = lv[key + "neg"], lv[key + "pos"]
            params |= {f"a{side}": (ax + own_a) / (1 - own_r),
                       f"b{side}": (bx + own_a) / (1 - own_r), f"c{side}": cx,
                       f"d{side}": (dx + own_a) / (1 - own_r),
                       f"e{side}": (ex + own_a) / (1 - own_r), f"f{side}": fx}
    else:
        restrict = influence == "rd"
        lh, rh = _bilinear_slopes(h, ihw, restrict)
        lw, rw = _bilinear_slopes(w, iwh, restrict)
        params |= {"lh": lh, "rh": rh, "lw": lw, "rw": rw}
        rep: dict[str, tuple[float, float] | None] = {"w": None, "h": None}
        damp: dict[str, tuple[float, float] | None] = {"w": None, "h": None}
        if restrict:
            for who, s, infl, slope_l, slope_r, k_name, c_name, kd_name, cd_name in (
                ("w", h, ihw, lh, rh, "krh", "crw", "kdh", "cdw"),
                ("h", w, iwh, lw, rw, "krw", "crh", "kdw", "cdh"),
            ):
                neg, pos = s < 0, s > 0
                smin, smax = float(s.min()), float(s.max())
                if 3 <= neg.sum() <= _MAXITEM and smin != -1:
                    p = s[neg]
                    kc = _search(p, infl[neg] - slope_l * p, float(p.max()) + _STEP, smin, 1.0,
                                 p, False)
                    if kc:
                        params[k_name], params[c_name] = kc
                        rep[who] = (kc[1], kc[0])
                if 3 <= pos.sum() <= _MAXITEM and smax != 1:
                    p = s[pos]
                    quirky = dyad_compat and who == "w"
                    p_eval = s[: len(p)] if quirky else p
                    kc = _search(p, infl[pos] - slope_r * p, float(p.min()) - _STEP, smax, -1.0,
                                 p_eval, dyad_compat and who == "h")
                    if kc:
                        params[kd_name], params[cd_name] = kc
                        # dyad adds +c*... for damping; Influence subtracts c
                        damp[who] = (-kc[1], kc[0])
        i_w = _bilinear_influence(lh, rh, rep["w"], damp["w"])
        i_h = _bilinear_influence(lw, rw, rep["h"], damp["h"])
    fps = fixed_points(a, r1, i_w, b, r2, i_h, convention=convention)
    return OriginalResult(influence, params, tuple(fps), i_w, i_h)


def _nz(v: float) -> float:
    return 0.0 if math.isnan(v) else v


def _bilinear_influence(left: float, right: float, repair: tuple[float, float] | None,
                        damping: tuple[float, float] | None) -> Influence:
    return Influence((0.0,), (True,), (0.0, 0.0), (_nz(left), _nz(right)), repair, damping)


def _ojive_influence(neg: tuple[float, float, float], pos: tuple[float, float, float],
                     ) -> Influence:
    d, e, f = neg
    a, b, c = pos
    # E below F, D on [F, 0), 0 at 0, A on (0, C], B above C
    return Influence((f, 0.0, 0.0, c), (False, False, True, True),
                     (e, d, 0.0, a, b), (0.0,) * 5)
