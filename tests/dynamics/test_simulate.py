"""What-if simulation: distributions, basins, the smallest change, guardrails."""

from __future__ import annotations

import numpy as np
import pytest

from heard.dynamics._gm_core import Influence, PersonFit
from heard.dynamics._gottman import GMResult
from heard.dynamics._simulate import (
    AddRepair,
    LastingChange,
    ShiftSetPoint,
    SoftenResponse,
    _apply,
    _ends_negative,
    _params,
    basins,
    simulate,
    simulate_months,
    smallest_change,
)
from heard.errors import InputError, OptionError


def _person(a: float, r: float, infl: Influence, sigma: float = 0.8) -> PersonFit:
    n = 200
    return PersonFit("ojive3", {"a": a, "r": r}, {}, sigma**2 * n, n, 5, 0.0, 0.0, 0.0, infl)


def _bistable() -> GMResult:
    # each answers strong negativity with negativity and warmth with warmth: two attractors
    step = Influence((-2.0, 2.0), (True, True), (-3.0, 0.0, 3.0), (0.0, 0.0, 0.0))
    fits = {"Ana": _person(0.0, 0.5, step), "Ben": _person(0.0, 0.5, step)}
    return GMResult(("Ana", "Ben"), "staggered", {k: {"ojive3": v} for k, v in fits.items()},
                    fits, (), {}, (-8.0, 8.0))


def test_simulate_bistable_basins_have_both_outcomes() -> None:
    b = basins(_bistable(), grid=21)
    assert 0.2 < b.share_negative < 0.8
    assert b.negative[0, 0] and not b.negative[-1, -1]


def test_simulate_distributions_are_seeded_and_shift_with_set_point() -> None:
    res = _bistable()
    s1 = simulate(res, n_runs=300, n_turns=30, seed=3, opening=(-4.0, -4.0))
    s2 = simulate(res, n_runs=300, n_turns=30, seed=3, opening=(-4.0, -4.0))
    assert s1.to_dict() == s2.to_dict()
    assert s1.share_negative > 0.8
    up = simulate(res, ShiftSetPoint("Ana", 6.0), n_runs=300, n_turns=30, seed=3,
                  opening=(-4.0, -4.0))
    assert up.mean_score_quantiles["Ana"][2] > s1.mean_score_quantiles["Ana"][2]
    assert up.share_negative < s1.share_negative
    assert s1.paths_quantiles["Ben"].shape == (5, 31)


def test_simulate_smallest_repair_is_minimal() -> None:
    res = _bistable()
    opening = (-5.0, -5.0)
    found = smallest_change(res, opening, partner="Ben", kind="repair", k=0.0)
    assert found.value is not None and not found.already_positive
    w0, h0 = np.array([opening[0]]), np.array([opening[1]])

    def ends_negative(c: float) -> bool:
        p = _apply(_params(res), [AddRepair("Ben", c, 0.0)])
        return bool(_ends_negative(p, w0, h0)[0])

    assert not ends_negative(found.value + 0.01)
    assert ends_negative(found.value - 0.01)


def test_simulate_softening_and_already_positive() -> None:
    res = _bistable()
    soft = smallest_change(res, (-5.0, -5.0), kind="soften")
    assert soft.value is not None and 0 < soft.value <= 1
    assert simulate(res, SoftenResponse("Ben", 0.0), n_runs=50, seed=1,
                    opening=(-5.0, -5.0)).share_negative < 1.0
    assert smallest_change(res, (5.0, 5.0)).already_positive


def test_simulate_months_lasting_fraction_matters() -> None:
    res = _bistable()
    keep = simulate_months(res, LastingChange("Ben", 1.0, boost=2.0, crisis_weeks=(2,)),
                           weeks=12, n_runs=40)
    fade = simulate_months(res, LastingChange("Ben", 0.0, boost=2.0, crisis_weeks=(2,)),
                           weeks=12, n_runs=40)
    late_keep = keep["weekly_mean_score_quantiles"]["Ben"][-1][2]
    late_fade = fade["weekly_mean_score_quantiles"]["Ben"][-1][2]
    assert late_keep > late_fade
    assert fade["set_point_shift"][2] == pytest.approx(2.0)


def test_simulate_guardrails() -> None:
    res = _bistable()
    with pytest.raises(InputError, match="E208"):
        simulate(res, AddRepair("Cy", 1.0))
    with pytest.raises(OptionError, match="E206"):
        simulate(res, n_runs=0)
    with pytest.raises(OptionError, match="E206"):
        simulate_months(res, LastingChange("Ben", 1.5))
    with pytest.raises(OptionError, match="E206"):
        smallest_change(res, (0.0, 0.0), kind="magic")
