"""Long-arc model: reference numbers, planted effects recovered, nothing found where none was
planted, guardrails."""

from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize

from heard.dynamics import LongArcModel, fit_nb
from heard.dynamics._longarc import _pulse
from heard.dynamics._nbglm import nb_loglik
from heard.errors import OptionError

CRISES = (12, 30, 48, 66)


def simulate(seed: int, *, weeks: int = 78, crises=CRISES, base: float = 1.0,
             omega: float = 1.4, tau: float = 3.0, perm: float = 0.0, gamma: float = 1.0,
             alpha: float = 0.2) -> np.ndarray:
    """Weekly NB2 counts with planted crisis effects (the set-up of dynamics-notes §4.3)."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    eta = np.full(weeks, math.log(base))
    for k, c in enumerate(crises):
        eta += (t >= c) * (perm + omega * gamma ** k * np.exp(-(t - c) / tau))
    return rng.poisson(rng.gamma(1 / alpha, alpha * np.exp(eta)))


def fit(y, crises=CRISES, **kw):
    return LongArcModel(**kw).fit(y, list(crises), exposure=np.ones(len(y)), sender="Sam",
                                  family="hold")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_longarc_nb_fit_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    n = 90
    t = np.arange(n)
    X = np.column_stack([np.ones(n), _pulse(n, [20, 50], 3.0), (t >= 50).astype(float)])
    expo = rng.integers(20, 150, n)
    mu = expo * np.exp(-3 + 1.2 * X[:, 1] + 0.3 * X[:, 2])
    y = rng.negative_binomial(1 / 0.3, 1 / (1 + 0.3 * mu))
    ref = sm.NegativeBinomial(y, X, offset=np.log(expo)).fit(disp=0, maxiter=500)
    ours = fit_nb(y, X, np.log(expo))
    assert ours.converged
    np.testing.assert_allclose(ours.params, ref.params[:-1], atol=1e-4)
    assert ours.alpha == pytest.approx(ref.params[-1], abs=1e-4)
    assert ours.llf == pytest.approx(ref.llf, abs=1e-6)


def test_longarc_profile_tau_matches_direct_maximum_likelihood():
    y = simulate(3, base=2.0)
    res = fit(y, trend=False)
    assert res.model == "pulse"
    n = y.size

    def negll(theta):
        b0, om, log_tau, log_alpha = theta
        mu = np.exp(b0 + om * _pulse(n, CRISES, float(np.exp(log_tau))))
        return -nb_loglik(y, mu, float(np.exp(log_alpha)))

    direct = optimize.minimize(negll, [math.log(2), 1.0, math.log(3), math.log(0.2)],
                               method="Nelder-Mead",
                               options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 20000})
    tau_direct = math.exp(direct.x[2])
    assert res.half_life_weeks == pytest.approx(tau_direct * math.log(2), rel=0.01)
    assert res.aic["pulse"] == pytest.approx(2 * 4 + 2 * direct.fun, abs=0.01)


def test_longarc_planted_pulse_is_recovered_with_its_half_life():
    results = [fit(simulate(s, base=2.0)) for s in range(12)]
    models = Counter(r.model for r in results)
    assert models["pulse"] >= 8, models
    half = np.median([r.half_life_weeks for r in results if r.model == "pulse"])
    assert half == pytest.approx(3.0 * math.log(2), rel=0.4)
    r = next(r for r in results if r.model == "pulse")
    assert r.fraction_retained == 0.0
    assert r.peak_rate_ratio > 2
    lo, hi = r.half_life_ci
    assert lo <= r.half_life_weeks <= hi
    assert "half-life" in r.verdict and "nothing lasted" in r.verdict and "Sam" in r.verdict


def test_longarc_planted_step_is_recovered_and_reported_as_lasting():
    crises = (10, 24, 50, 60)
    results = [fit(simulate(s, crises=crises, omega=0.0, perm=0.7), crises) for s in range(8)]
    models = Counter(r.model for r in results)
    assert models["step"] >= 6, models
    r = next(r for r in results if r.model == "step")
    assert r.half_life_weeks is None and r.fraction_retained == 1.0
    assert r.step_rate_ratio == pytest.approx(math.exp(0.7), rel=0.35)
    assert "held" in r.verdict


def test_longarc_step_plus_pulse_found_when_part_of_the_change_lasts():
    results = [fit(simulate(s, perm=0.5), trend=False) for s in range(6)]
    assert Counter(r.model for r in results)["step+pulse"] >= 5
    r = results[0]
    assert 0 < r.fraction_retained < 1
    assert "lasted" in r.verdict


def test_longarc_nothing_found_where_nothing_was_planted():
    results = [fit(simulate(s, omega=0.0)) for s in range(15)]
    models = Counter(r.model for r in results)
    assert models["none"] >= 12, models
    assert all(r.half_life_weeks is None for r in results if r.model == "none")


def test_longarc_habituation_each_crisis_buys_less():
    results = [fit(simulate(s, base=4.0, omega=2.0, gamma=0.5)) for s in range(6)]
    flagged = [r for r in results if r.habituation and r.habituation["each_crisis_buys_less"]]
    assert len(flagged) >= 4
    r = flagged[0]
    assert r.habituation["gamma"] < 0.8
    assert "Each crisis bought less" in r.verdict
    peaks = r.habituation["peak_rate_ratio_by_crisis"]
    assert peaks == sorted(peaks, reverse=True)


@pytest.mark.parametrize(("crises", "weeks", "why"), [
    ((12,), 78, "1 crisis"),
    ((), 78, "0 crisis"),
    ((70, 74), 78, "active week(s) after the first crisis"),
])
def test_longarc_guardrails_give_insufficient_data(crises, weeks, why):
    y = simulate(0, weeks=weeks, crises=crises, base=2.0)
    r = fit(y, crises)
    assert r.model == "insufficient_data"
    assert why in r.reason
    assert r.half_life_weeks is None and r.fraction_retained is None
    assert r.to_dict()["model"] == "insufficient_data"


def test_longarc_all_zero_and_sparse_series_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = fit(np.zeros(78, dtype=int))
        sparse = fit(np.r_[np.zeros(70, dtype=int), [1, 0, 1, 0, 1, 1, 0, 1]])
    assert zero.model == "insufficient_data" and "0 such message" in zero.reason
    assert sparse.model in {"none", "step", "pulse", "step+pulse", "insufficient_data"}


def test_longarc_zero_exposure_weeks_are_left_out():
    y = simulate(1, base=2.0)
    expo = np.ones(78)
    expo[[5, 6, 7]] = 0
    y[[5, 6, 7]] = 0
    r = LongArcModel().fit(y, list(CRISES), exposure=expo)
    assert r.weeks == 75
    assert np.isnan(r.fitted[5]) and not np.isnan(r.fitted[4])


@pytest.mark.parametrize("kwargs", [{"max_tau_weeks": 0.1}, {"min_crises": 0},
                                    {"n_tau": 2}, {"trend": "sometimes"}])
def test_longarc_bad_options_raise_numbered_error(kwargs):
    with pytest.raises(OptionError, match="E226"):
        LongArcModel(**kwargs).fit(np.ones(30), [5, 15])


def test_longarc_result_to_dict_and_summary():
    r = fit(simulate(2, base=2.0))
    d = r.to_dict()
    for key in ("model", "half_life_weeks", "fraction_retained", "peak_rate_ratio", "aic",
                "verdict", "weeks", "crises"):
        assert key in d
    assert r.summary().as_text().startswith("Sam / hold:")
    for word in (" he ", " she ", " his ", " her "):
        assert word not in f" {r.verdict.lower()} "
