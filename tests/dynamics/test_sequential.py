"""Lag-sequential analysis: hand-computed tables, statsmodels cross-checks, planted effects."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import Table, Table2x2

from heard.dynamics._sequential import _hypergeom_p, sequential_analysis, yules_q
from heard.dynamics._turns import build_turns
from heard.errors import InputError, OptionError
from heard.model import Code, Corpus, Message

sys.path.insert(0, str(Path(__file__).parent))
from _couples import make_corpus


def _corpus(rows: list[tuple[str, str, tuple[str, ...]]]) -> Corpus:
    msgs = []
    for i, (conv, sender, codes) in enumerate(rows):
        m = Message(conv, f"m{i}", sender, None, "x")
        m.annotations["codes"] = tuple(Code(c, 1.0) for c in codes)
        msgs.append(m)
    return Corpus.from_messages(msgs)


def test_sequential_turns_merge_consecutive_messages() -> None:
    c = _corpus([("a", "Ana", ("complaint",)), ("a", "Ana", ("criticism",)),
                 ("a", "Ben", ("withdrawal",)), ("b", "Ben", ()), ("b", "Ana", ("bid",))])
    turns = build_turns(c)
    assert [(t.sender, t.message_ids) for t in turns] == [
        ("Ana", ("m0", "m1")), ("Ben", ("m2",)), ("Ben", ("m3",)), ("Ana", ("m4",))]
    assert turns[0].codes == {"complaint", "criticism"}
    assert [t.index for t in turns] == [0, 1, 0, 1]


def test_sequential_hand_computed_table() -> None:
    # Ana -> Ben steps: complaint->withdrawal, complaint->validation, bid->withdrawal, none->none
    c = _corpus([("a", "Ana", ("complaint",)), ("a", "Ben", ("withdrawal",)),
                 ("b", "Ana", ("complaint",)), ("b", "Ben", ("validation",)),
                 ("c", "Ana", ("bid",)), ("c", "Ben", ("withdrawal",)),
                 ("d", "Ana", ()), ("d", "Ben", ())])
    res = sequential_analysis(c, n_permutations=0)
    t = res.test("demand->withdraw", "Ana")
    assert t.counts == (1, 1, 1, 1)
    assert t.yules_q == pytest.approx(0.0)
    assert t.target_sender == "Ben" and not t.enough_data
    assert t.p_value is None
    table = next(x for x in res.tables if x.level == "code" and x.given_sender == "Ana")
    assert table.given == ("complaint", "bid", "uncoded")
    assert table.target == ("withdrawal", "validation", "uncoded")
    np.testing.assert_array_equal(table.counts, [[1, 1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(table.transitional_probabilities[0], [0.5, 0.5, 0.0])


def test_sequential_yules_q_and_se_match_statsmodels() -> None:
    q, lo, hi, se = yules_q(30, 10, 15, 45)
    t = Table2x2(np.array([[30, 10], [15, 45]]))
    assert se == pytest.approx(t.log_oddsratio_se)
    lor_lo, lor_hi = t.log_oddsratio_confint()
    assert lo == pytest.approx(np.tanh(lor_lo / 2))
    assert hi == pytest.approx(np.tanh(lor_hi / 2))
    assert q == pytest.approx((t.oddsratio - 1) / (t.oddsratio + 1))
    assert np.isnan(yules_q(0, 0, 3, 4)[0])


def test_sequential_adjusted_residuals_match_statsmodels() -> None:
    res = sequential_analysis(make_corpus(seed=4), n_permutations=0)
    for table in res.tables:
        ours = table.adjusted_residuals
        theirs = Table(table.counts.astype(float), shift_zeros=False).standardized_resids
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-9, atol=1e-9)
    two = Table(np.array([[30.0, 10.0], [15.0, 45.0]]), shift_zeros=False)
    assert np.asarray(two.standardized_resids)[0, 0] == pytest.approx(4.924, abs=1e-3)


def test_sequential_planted_demand_withdraw_is_recovered() -> None:
    res = sequential_analysis(make_corpus(plant=0.6, seed=1), n_permutations=1000)
    ana = res.test("demand->withdraw", "Ana")
    assert ana.enough_data and ana.yules_q > 0.5 and ana.ci[0] > 0
    assert ana.p_value < 0.01 and ana.z > 3
    ben = res.test("demand->withdraw", "Ben")  # not planted in this direction
    assert ben.p_value > 0.01
    names = {(t["name"], t["given_sender"]) for t in res.to_dict()["tests"]}
    assert ("demand->withdraw", "Ben") in names and ("withdraw->demand", "Ana") in names


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_sequential_no_effect_under_independence(seed: int) -> None:
    res = sequential_analysis(make_corpus(seed=seed), n_permutations=1000, seed=seed)
    usable = [t for t in res.tests if t.enough_data]
    assert usable
    assert all(t.p_adjusted > 0.05 for t in usable)


def test_sequential_permutation_matches_explicit_shuffles() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 8)
    g = rng.random(len(groups)) < 0.3
    t = (rng.random(len(groups)) < 0.3) | (g & (rng.random(len(groups)) < 0.2))
    a = int(np.sum(g & t))
    fast = _hypergeom_p(a, groups, g.astype(float), t.astype(float), 4000,
                        np.random.default_rng(1))
    counts = []
    expected = sum(g[groups == k].sum() * t[groups == k].sum() / 8 for k in range(30))
    for _ in range(2000):
        perm = g.copy()
        for k in range(30):
            idx = np.flatnonzero(groups == k)
            perm[idx] = rng.permutation(g[idx])
        counts.append(np.sum(perm & t))
    slow = (1 + np.sum(np.abs(np.array(counts) - expected) >= abs(a - expected) - 1e-9)) / 2001
    assert fast == pytest.approx(slow, abs=0.03)


def test_sequential_to_dict_contract() -> None:
    d = sequential_analysis(make_corpus(seed=2), n_permutations=50).to_dict()
    keys = {"name", "given", "target", "given_sender", "target_sender", "n", "yules_q", "ci",
            "z", "p_value", "enough_data"}
    for t in d["tests"]:
        assert keys <= set(t)
    assert {t["given_sender"] for t in d["tests"]} == {"Ana", "Ben"}


def test_sequential_guardrails() -> None:
    with pytest.raises(OptionError, match="E206"):
        sequential_analysis(make_corpus(n_convs=2), n_permutations=-1)
    three = _corpus([("a", "Ana", ()), ("a", "Ben", ()), ("a", "Cy", ())])
    with pytest.raises(InputError, match="E204"):
        sequential_analysis(three)
    res = sequential_analysis(three, pair=("Ana", "Ben"), n_permutations=10)
    assert res.n_transitions == 1
    assert not any(t.enough_data for t in res.tests)
