"""A small negative-binomial (NB2) GLM with log link and offset, fitted by maximum likelihood.

The long-arc model refits the same tiny design (a few columns, one row per week) hundreds of
times while it profiles the decay time tau, so it uses this numpy fitter rather than building a
statsmodels model each time: IRLS for the coefficients at fixed dispersion alpha, alternated
with a one-dimensional search for alpha given the means, until the log-likelihood settles. The
result is the joint maximum-likelihood estimate that ``statsmodels.discrete.discrete_model.
NegativeBinomial`` (NB2) finds, which the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import optimize, special, stats

from heard.model import Result, Summary, Text, json_field

__all__ = ["NBFit", "TrendResult", "fit_nb", "nb_loglik", "trend_test"]

_ALPHA_MIN = 1e-6  # below this the NB2 is a Poisson for all practical purposes
_ALPHA_MAX = 100.0
_ETA_CLIP = 30.0
_SEPARATED = 12.0  # |coefficient| beyond this (a rate ratio over 160 000) means separation


def nb_loglik(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    """NB2 log-likelihood (variance mu + alpha*mu^2), with the constant terms included."""
    if alpha <= _ALPHA_MIN:
        return float(np.sum(special.xlogy(y, mu) - mu - special.gammaln(y + 1)))
    r = 1.0 / alpha
    return float(np.sum(special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1)
                        + r * np.log(r / (r + mu)) + special.xlogy(y, mu / (r + mu))))


@dataclass(frozen=True, eq=False)
class NBFit:
    """One NB2 fit: coefficients, dispersion, log-likelihood and the Wald covariance."""

    params: np.ndarray
    alpha: float
    llf: float
    cov: np.ndarray
    mu: np.ndarray
    converged: bool
    separated: bool

    @property
    def n_params(self) -> int:
        """Coefficients plus alpha."""
        return int(self.params.size) + 1

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    @property
    def ok(self) -> bool:
        return self.converged and not self.separated and np.isfinite(self.llf)


def _irls(y: np.ndarray, X: np.ndarray, offset: np.ndarray, alpha: float, beta: np.ndarray,
          max_iter: int = 50, tol: float = 1e-10) -> tuple[np.ndarray, bool]:
    ridge = 1e-8 * np.eye(X.shape[1])
    ridge[0, 0] = 0.0  # the intercept is never shrunk
    dev_old = np.inf
    for _ in range(max_iter):
        eta = np.clip(X @ beta + offset, -_ETA_CLIP, _ETA_CLIP)
        mu = np.exp(eta)
        w = mu / (1.0 + alpha * mu)
        z = eta - offset + (y - mu) / mu
        xtw = X.T * w
        try:
            beta = np.linalg.solve(xtw @ X + ridge, xtw @ z)
        except np.linalg.LinAlgError:
            return beta, False
        dev = -nb_loglik(y, np.exp(np.clip(X @ beta + offset, -_ETA_CLIP, _ETA_CLIP)), alpha)
        if abs(dev_old - dev) <= tol * (abs(dev) + 1.0):
            return beta, True
        dev_old = dev
    return beta, False


def _best_alpha(y: np.ndarray, mu: np.ndarray) -> float:
    # Poisson when the data are not over-dispersed: the NB2 likelihood then peaks at alpha -> 0.
    res = optimize.minimize_scalar(lambda la: -nb_loglik(y, mu, float(np.exp(la))),
                                   bounds=(np.log(_ALPHA_MIN), np.log(_ALPHA_MAX)),
                                   method="bounded", options={"xatol": 1e-5})
    alpha = float(np.exp(res.x))
    if nb_loglik(y, mu, _ALPHA_MIN) >= nb_loglik(y, mu, alpha):
        return _ALPHA_MIN
    return alpha


def fit_nb(y: np.ndarray, X: np.ndarray, offset: np.ndarray, *, alpha: float | None = None,
           start: np.ndarray | None = None, max_outer: int = 30) -> NBFit:
    """Fit log E[y] = X @ beta + offset with NB2 errors.

    Parameters
    ----------
    y : ndarray of counts
    X : ndarray, shape (n, p)
        Design with the intercept in column 0.
    offset : ndarray
        Log exposure.
    alpha : float, optional
        Fixed dispersion; estimated jointly by maximum likelihood when omitted.
    start : ndarray, optional
        Starting coefficients (warm start while profiling).

    Returns
    -------
    NBFit
        ``separated`` is set when a coefficient runs off (e.g. a regressor that is non-zero only
        where every count is zero); ``converged`` is False when the iterations did not settle.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if start is None:
        beta = np.zeros(X.shape[1])
        beta[0] = np.log(max(y.sum(), 0.5) / np.exp(offset).sum())
    else:
        beta = np.array(start, dtype=float)
    a = _ALPHA_MIN if alpha is None else max(float(alpha), _ALPHA_MIN)
    converged = False
    llf_old = -np.inf
    for _ in range(max_outer):
        beta, ok = _irls(y, X, offset, a, beta)
        mu = np.exp(np.clip(X @ beta + offset, -_ETA_CLIP, _ETA_CLIP))
        if alpha is None:
            a = _best_alpha(y, mu)
        llf = nb_loglik(y, mu, a)
        if ok and (alpha is not None or abs(llf - llf_old) < 1e-8 * (abs(llf) + 1.0)):
            converged = True
            break
        llf_old = llf
    mu = np.exp(np.clip(X @ beta + offset, -_ETA_CLIP, _ETA_CLIP))
    w = mu / (1.0 + a * mu)
    try:
        cov = np.linalg.inv((X.T * w) @ X)
    except np.linalg.LinAlgError:
        cov = np.full((X.shape[1], X.shape[1]), np.nan)
        converged = False
    separated = bool(np.any(np.abs(beta[1:]) > _SEPARATED))
    return NBFit(beta, a, nb_loglik(y, mu, a), cov, mu, converged, separated)


@dataclass(frozen=True)
class TrendResult(Result):
    """A log-linear trend in a rate: rate ratio per month, its 95% CI and a likelihood-ratio p."""

    sender: str = json_field(omit=True)  # the JSON is keyed by sender and family
    family: str = json_field(omit=True)
    status: str  # "ok" or "insufficient_data"
    rate_ratio_per_month: float | None = None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    direction: str | None = None  # "rising", "falling" or "flat"
    months: float | None = json_field(default=None, digits=1)
    n_events: int = 0
    verdict: str = ""

    json_digits: ClassVar[int | None] = 4

    def summary(self) -> Summary:
        return Summary(f"{self.sender} / {self.family}: trend", [Text(self.verdict)])


def trend_test(y: np.ndarray, exposure: np.ndarray, *, sender: str, family: str,
               bin_days: int = 7, min_bins: int = 8, min_events: int = 5,
               level: float = 0.05) -> TrendResult:
    """Is the rate of a family in a sender's messages rising or falling over the months?

    NB2 GLM ``log mu_t = b0 + b1 * months_t + log(exposure_t)`` against the intercept-only model,
    likelihood-ratio test with one degree of freedom.
    """
    y = np.asarray(y, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    seen = exposure > 0
    months_all = np.arange(y.size) * bin_days / (365.25 / 12)
    n_events = int(y[seen].sum())
    what = f"{sender}'s {family} messages"
    if seen.sum() < min_bins or n_events < min_events:
        return TrendResult(sender, family, "insufficient_data", n_events=n_events,
                           verdict=f"Not enough data for a trend in {what} "
                                   f"({int(seen.sum())} active bins, {n_events} messages).")
    yy, off, t = y[seen], np.log(exposure[seen]), months_all[seen]
    X1 = np.column_stack([np.ones_like(t), t - t.mean()])
    f0 = fit_nb(yy, X1[:, :1], off)
    f1 = fit_nb(yy, X1, off)
    lr = max(0.0, 2.0 * (f1.llf - f0.llf))
    p = float(stats.chi2.sf(lr, 1))
    b, se = float(f1.params[1]), float(f1.bse[1])
    rr = float(np.exp(b))
    ci = (float(np.exp(b - 1.96 * se)), float(np.exp(b + 1.96 * se)))
    span = float(t[-1] - t[0])
    if p >= level:
        direction = "flat"
        verdict = (f"No clear trend in {what} over {span:.0f} months "
                   f"(about {abs(rr - 1) * 100:.0f}% a month, p = {p:.2g}).")
    else:
        direction = "rising" if b > 0 else "falling"
        total = np.exp(b * span)
        verdict = (f"{what[0].upper()}{what[1:]} were {direction}: about "
                   f"{abs(rr - 1) * 100:.1f}% a month, {total:.2g}× over {span:.0f} months "
                   f"(p = {p:.2g}).")
    return TrendResult(sender, family, "ok", rr, ci, p, direction, span, n_events, verdict)
