"""Gottman–Murray estimators against the R `dyad` reference numbers, plus planted effects."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from heard.dynamics._gm_core import Influence, fit_person, fixed_points
from heard.dynamics._gm_original import fit_original
from heard.dynamics._gottman import GottmanMurray, fit_gottman_murray, score_turn
from heard.errors import InputError, OptionError

sys.path.insert(0, str(Path(__file__).parent))
from _couples import make_corpus

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "dyad_couple.json").read_text())
TOL = 5e-5 + 1e-6  # agree to 4 decimals with values printed to 6


def _couple() -> np.ndarray:
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "dynamics"
    path = shared / "dyad_couple.csv"
    if not path.exists():
        path = REF_DIR / "dyad_couple.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1)


COUPLE = _couple()


def _person(who: str):
    w, h = COUPLE[:, 0], COUPLE[:, 1]
    return (w[1:], w[:-1], h[:-1]) if who == "wife" else (h[1:], h[:-1], w[:-1])


def test_gottman_fixture_copy_matches_shared() -> None:
    copy = np.loadtxt(REF_DIR / "dyad_couple.csv", delimiter=",", skiprows=1)
    assert copy.shape == (150, 2)
    np.testing.assert_array_equal(copy, COUPLE)


@pytest.mark.parametrize("who", ["wife", "husband"])
@pytest.mark.parametrize("model", ["ojive3", "bilinear", "none"])
def test_gottman_tar_reproduces_dyad(who: str, model: str) -> None:
    ref = REF["tar"][who][model]
    fit = fit_person(*_person(who), model)
    for key, value in ref.items():
        got = fit.ssr if key == "ssr" else fit.params[key]
        assert abs(got - value) <= (1e-3 if key == "ssr" else TOL), (key, got, value)


@pytest.mark.parametrize("who", ["wife", "husband"])
def test_gottman_bic_table_and_choice(who: str) -> None:
    ref = REF["bic"][who]
    res = GottmanMurray(convention="same_lag", n_baseline=0).fit(COUPLE, names=("wife", "husband"))
    for model, value in ref.items():
        if model != "best":
            assert round(res.fits[who][model].bic, 1) == value
    assert res.chosen[who].model == ref["best"]


def test_gottman_original_bilinear_reproduces_dyad() -> None:
    ref = REF["origmodel_bilinear"]
    res = fit_original(COUPLE[:, 0], COUPLE[:, 1], influence="bilinear")
    for key in ("r1", "a", "natw", "r2", "b", "nath", "lh", "rh", "lw", "rw"):
        assert abs(res.params[key] - ref[key]) <= TOL, key
    assert len(res.fixed_points) == 1
    fp = res.fixed_points[0]
    assert abs(fp.first - ref["fixed_point"][0]) <= TOL
    assert abs(fp.second - ref["fixed_point"][1]) <= TOL
    assert fp.stability == "stable" and fp.oscillating
    assert round(max(abs(v) for v in fp.eigenvalues_same_lag), 3) == ref["modulus_same_lag"]
    assert round(max(abs(v) for v in fp.eigenvalues_staggered), 3) == ref["modulus_staggered"]


def test_gottman_original_repair_damping_reproduces_dyad() -> None:
    ref = REF["origmodel_rd"]
    res = fit_original(COUPLE[:, 0], COUPLE[:, 1], influence="rd")
    for key in ("krw", "crh", "krh", "crw", "kdw", "cdh", "kdh", "cdw"):
        assert abs(res.params[key] - ref[key]) <= TOL, (key, res.params[key])
    w, h = COUPLE[:, 0], COUPLE[:, 1]
    inside = [p for p in res.fixed_points
              if w.min() <= p.first <= w.max() and h.min() <= p.second <= h.max()]
    assert len(inside) == ref["n_fixed_points"]
    assert all(p.stability == "unstable" for p in inside)


def test_gottman_original_ojive_runs() -> None:
    res = fit_original(COUPLE[:, 0], COUPLE[:, 1], influence="ojive")
    assert {"aw", "bw", "cw", "dw", "ew", "fw", "ah", "fh"} <= set(res.params)
    assert res.params["fw"] < 0 < res.params["cw"]


def test_gottman_bilinear_closed_form_fixed_point() -> None:
    # notes 1.5: W* = (a(1-r2) + mH b) / ((1-r1)(1-r2) - mH mW) in the quadrant of the slopes
    a, r1, b, r2, m_h, m_w = 1.0, 0.5, -1.0, 0.4, 0.2, 0.3
    infl = Influence((0.0,), (True,), (0.0, 0.0), (m_h, m_h))
    infl2 = Influence((0.0,), (True,), (0.0, 0.0), (m_w, m_w))
    (fp,) = fixed_points(a, r1, infl, b, r2, infl2)
    den = (1 - r1) * (1 - r2) - m_h * m_w
    assert fp.first == pytest.approx((a * (1 - r2) + m_h * b) / den, abs=1e-9)
    assert fp.second == pytest.approx((b * (1 - r1) + m_w * a) / den, abs=1e-9)
    # staggered Jacobian: det = r1 r2, trace = r1 + r2 + mW mH
    ev = fp.eigenvalues_staggered
    assert (ev[0] * ev[1]).real == pytest.approx(r1 * r2)
    assert (ev[0] + ev[1]).real == pytest.approx(r1 + r2 + m_w * m_h)


def _simulate(n: int, slope_on_second: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2))
    w = h = 0.0
    for t in range(n):
        w = 0.3 + 0.5 * w + rng.normal(0, 1.5)
        h = -0.2 + 0.4 * h + slope_on_second * w + rng.normal(0, 1.5)
        out[t] = w, h
    return out


def test_gottman_planted_influence_is_recovered() -> None:
    data = _simulate(400, 0.6, seed=3)
    res = GottmanMurray(influence="linear", n_baseline=99, seed=1).fit(data, names=("W", "H"))
    h = res.chosen["H"]
    assert abs(h.params["slope"] - 0.6) < 3 * h.se["slope"]
    assert abs(h.r - 0.4) < 0.1
    assert res.influence_beats_chance("H") is True
    assert res.influence_beats_chance("W") is False


@pytest.mark.parametrize("seed", [11, 12])
def test_gottman_no_influence_found_where_none_planted(seed: int) -> None:
    data = _simulate(300, 0.0, seed=seed).round()  # integer scores, as turn scores are
    res = GottmanMurray(n_baseline=99, seed=seed).fit(data, names=("W", "H"))
    assert res.influence_beats_chance("W") is False
    assert res.influence_beats_chance("H") is False


def test_gottman_scores_use_weights_and_cap() -> None:
    assert score_turn(frozenset()) == 0.0
    assert score_turn(frozenset({"contempt", "criticism"})) == -6.0
    assert score_turn(frozenset({"contempt", "criticism", "counter_blame", "withdrawal",
                                 "hardening"})) == -8.0
    assert score_turn(frozenset({"validation", "curiosity"})) == 6.0


def test_gottman_fit_on_corpus_with_windows() -> None:
    corpus = make_corpus(n_convs=60, turns=16, plant=0.5, seed=2)
    ana = fit_gottman_murray(corpus, window_weeks=4, step_weeks=2, n_baseline=19)
    assert ana.overall is not None
    assert ana.overall.names == ("Ana", "Ben")
    assert set(ana.overall.to_dict()["people"]) == {"Ana", "Ben"}
    assert len(ana.windows) >= 4
    assert any(w.result is not None for w in ana.windows)
    d = ana.to_dict()
    assert d["windows"][0]["n_conversations"] > 0
    assert "Gottman-Murray" in ana.overall.summary().as_text()


def test_gottman_window_without_enough_data_is_flagged() -> None:
    corpus = make_corpus(n_convs=3, turns=6, seed=1)
    ana = fit_gottman_murray(corpus, n_baseline=0)
    assert ana.overall is None and "E200" in (ana.reason or "")
    assert all(w.result is None for w in ana.windows)


@pytest.mark.parametrize(
    ("kwargs", "data", "code"),
    [
        ({}, np.zeros((10, 2)), "E200"),
        ({}, np.zeros((50, 3)), "E201"),
        ({"influence": "spline"}, np.zeros((50, 2)), "E202"),
        ({"convention": "sideways"}, np.zeros((50, 2)), "E203"),
    ],
)
def test_gottman_guardrails(kwargs: dict, data: np.ndarray, code: str) -> None:
    with pytest.raises((InputError, OptionError), match=code):
        GottmanMurray(n_baseline=0, **kwargs).fit(data)


def test_gottman_nan_row_names_its_place() -> None:
    data = np.ones((40, 2))
    data[7, 1] = np.nan
    with pytest.raises(InputError, match="row 8"):
        GottmanMurray(n_baseline=0).fit(data)
