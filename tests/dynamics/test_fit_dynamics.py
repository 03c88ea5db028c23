"""fit_dynamics: the JSON contract, tiny corpora, a planted couple end to end."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

import pytest

from heard.dynamics import CoupleParams, fit_dynamics, generate_couple
from heard.errors import OptionError
from heard.model import Code, Corpus, Message

MODELS = {"none", "step", "pulse", "step+pulse", "insufficient_data"}


@pytest.fixture(scope="module")
def planted():
    p = CoupleParams(weeks=40, messages_per_week=250, crisis_weeks=(6, 16, 26), omega=1.2,
                     tau=2.0, drift_overfunction=-1.2, drift_harden=1.2, seed=11)
    return p, fit_dynamics(generate_couple(p), n_permutations=20)


def test_fit_dynamics_json_contract(planted):
    _, res = planted
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) == {"long_arc", "sequential", "gottman_murray", "trends"}
    arc = d["long_arc"]
    assert arc["bin"] == "week" and len(arc["crises"]) == 3 and len(arc["promises"]) == 3
    assert set(arc["partners"]) == {"Maya", "Jon"}
    for fams in arc["partners"].values():
        for item in fams.values():
            assert item["model"] in MODELS
            for key in ("half_life_weeks", "fraction_retained", "peak_rate_ratio", "aic",
                        "verdict", "weeks", "crises"):
                assert key in item
    tests = d["sequential"]["tests"]
    assert tests and all({"yules_q", "ci", "p_value"} <= set(t) for t in tests)
    assert set(d["trends"]["partners"]) == {"Maya", "Jon"}


def test_fit_dynamics_finds_the_planted_pulse_and_the_drift(planted):
    p, res = planted
    hold = res.long_arc["Jon"]["hold"]
    assert hold.model == "pulse", hold.summary().as_text()
    assert hold.half_life_weeks == pytest.approx(p.half_life_weeks, rel=0.5)
    assert res.trends["Maya"]["overfunction"].direction == "falling"
    assert res.trends["Maya"]["harden"].direction == "rising"
    assert res.reaching_partner == "Maya"
    assert "giving way to hardening" in res.shifts["Maya"]
    assert res.long_arc["Jon"]["defend"].model == "none"
    assert "Long arc" in res.summary().as_text()


@pytest.mark.parametrize("n", [0, 1, 20])
def test_fit_dynamics_tiny_corpus_is_insufficient_without_errors_or_warnings(n):
    t0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
    msgs = []
    for i in range(n):
        m = Message("c1", f"m{i}", "Ana" if i % 2 else "Ben", t0 + timedelta(minutes=i), "hi")
        m.annotations["codes"] = (Code("breaking_point" if i == 3 else "bid", 0.8),)
        msgs.append(m)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_dynamics(Corpus.from_messages(msgs), n_permutations=10)
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) == {"long_arc", "sequential", "gottman_murray", "trends"}
    for fams in d["long_arc"]["partners"].values():
        assert {v["model"] for v in fams.values()} == {"insufficient_data"}
    for fams in d["trends"]["partners"].values():
        assert {v["status"] for v in fams.values()} == {"insufficient_data"}


def test_fit_dynamics_rejects_bad_permutations():
    with pytest.raises(OptionError, match="E226"):
        fit_dynamics([], n_permutations=-1)
