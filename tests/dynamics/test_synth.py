"""Synthetic couples: deterministic, documented parameters respected, codes with evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heard.coding import codebook
from heard.dynamics import CoupleParams, build_series, generate_couple
from heard.errors import OptionError


def test_synth_is_deterministic_for_a_seed():
    p = CoupleParams(weeks=6, crisis_weeks=(2,), seed=7)
    a, b = generate_couple(p), generate_couple(p)
    assert [(m.message_id, m.text, m.code_names) for m in a] == \
        [(m.message_id, m.text, m.code_names) for m in b]
    c = generate_couple(CoupleParams(weeks=6, crisis_weeks=(2,), seed=8))
    assert [m.text for m in a] != [m.text for m in c]


def test_synth_messages_are_well_formed_with_evidence_spans():
    msgs = generate_couple(CoupleParams(weeks=8, seed=1, crisis_weeks=(3,)))
    assert msgs == sorted(msgs, key=lambda m: m.timestamp)
    assert len({m.message_id for m in msgs}) == len(msgs)
    cb = codebook()
    for m in msgs:
        assert m.timestamp.tzinfo is not None and m.sender in ("Maya", "Jon")
        for c in m.codes:
            assert c.name in cb and 0 <= c.score <= 1
            (ev,) = c.evidence
            assert m.text[ev.start:ev.end] == ev.text and ev.text


def test_synth_respects_volume_crises_and_base_rates():
    p = CoupleParams(weeks=30, messages_per_week=200, crisis_weeks=(5, 15), omega=0.0,
                     nb_alpha=0.0, loop_strength=1.0, seed=3)
    msgs = generate_couple(p)
    s = build_series(msgs)
    assert s.n_bins == 30
    assert np.mean(s.exposure.sum(axis=0)) == pytest.approx(200, rel=0.1)
    assert [e.sender for e in s.crises] == ["Maya", "Maya"]
    assert s.crisis_bins() == [5, 15] and s.promise_bins() == [5, 15]
    assert {e.sender for e in s.promises} == {"Jon"}
    for who in p.names:
        for fam in ("reach", "defend", "overfunction", "hold"):
            rate = s.count(who, fam).sum() / s.exposure_of(who).sum()
            assert rate == pytest.approx(p.base_rates[who][fam], abs=0.02), (who, fam)


def test_synth_planted_pulse_and_drift_show_in_the_counts():
    p = CoupleParams(weeks=52, messages_per_week=400, crisis_weeks=(10, 30), omega=1.1,
                     tau=2.0, drift_overfunction=-1.0, drift_harden=1.0, nb_alpha=0.0, seed=4)
    s = build_series(generate_couple(p))
    hold = s.count("Jon", "hold") / s.exposure_of("Jon")
    assert hold[10] / np.mean(hold[2:9]) == pytest.approx(math.exp(1.1), rel=0.35)
    over = s.count("Maya", "overfunction") / s.exposure_of("Maya")
    hard = s.count("Maya", "harden") / s.exposure_of("Maya")
    assert over[-8:].mean() < 0.6 * over[:8].mean()
    assert hard[-8:].mean() > 1.6 * hard[:8].mean()
    assert p.half_life_weeks == pytest.approx(2 * math.log(2))


@pytest.mark.parametrize(("field", "value"), [
    ("weeks", 0), ("names", ("A", "A")), ("crisis_weeks", (99,)), ("tau", 0.0),
    ("response_family", "nope"), ("crisis_sender", "Zed"),
])
def test_synth_bad_parameters_raise_e228(field, value):
    with pytest.raises(OptionError, match="E228"):
        generate_couple(CoupleParams(**{field: value}))


def test_synth_params_to_dict_is_json_ready():
    import json
    d = CoupleParams().to_dict()
    assert json.loads(json.dumps(d))["names"] == ["Maya", "Jon"]
