"""Result objects: frozen, JSON-ready, deterministic, symmetric, and consistent on any input."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heard.coding import codebook
from heard.patterns import LOOP_STEPS, find_patterns

CODES = list(codebook().names)

row = st.tuples(
    st.one_of(st.none(), st.integers(0, 60 * 30)),
    st.sampled_from(["A", "B"]),
    st.lists(st.sampled_from(CODES), max_size=3).map(" ".join),
    st.sampled_from(["I felt alone.", "You're the one who's distant.", "ok", "Forget it."]),
)


def timed(rows):
    """Give rows increasing timestamps (or none at all), as an export would."""
    if rows and rows[0][0] is None:
        return [(None, s, c, x) for _, s, c, x in rows]
    t, out = 0, []
    for step, s, c, x in rows:
        t += step or 0
        out.append((t, s, c, x))
    return out


def dumps(data) -> str:
    return json.dumps(data, allow_nan=False, sort_keys=False)


FULL = [
    (0, "A", "emotional_truth", "I felt alone."),
    (1, "B", "proving_wrong", "That's not what happened."),
    (2, "A", "over_explaining repair_attempt", "I just mean... can we start over?"),
    (30, "A", "tracking", "Are you mad?"),
    (31, "B", "reframing", "You're overreacting."),
    (32, "A", "hardening", "Forget it."),
    (33, "B", "counter_blame", "You're distant."),
]


def test_results_to_dict_is_json_ready_and_deterministic(kit) -> None:
    a = find_patterns(kit.corpus(FULL, FULL)).to_dict()
    b = find_patterns(kit.corpus(FULL, FULL)).to_dict()
    text = dumps(a)
    assert text == dumps(b)
    assert json.loads(text) == a
    assert a["counts"] == {"episodes": 2, "reaches": 2, "repairs": 2, "chases": 2,
                           "loops_full": 2, "loops_partial": 0}
    assert a["loops"][0]["steps"] == {
        "reach": ["c1-1"], "defend": ["c1-2"], "overfunction": ["c1-3", "c1-4"],
        "harden": ["c1-6"], "counter_blame": ["c1-7"]}
    assert list(a["partners"]["A"]["reach_outcomes"]) == [
        "heard", "defended", "attacked", "neutral", "ignored"]


def test_results_are_frozen(kit) -> None:
    result = find_patterns(kit.corpus(FULL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.loops = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.loops[0].full = False  # type: ignore[misc]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, max_size=30), gap=st.sampled_from([1, 6]))
def test_results_invariants_hold_on_any_conversation(kit, rows, gap) -> None:
    rows = timed(rows)
    result = find_patterns(kit.corpus(rows), gap_hours=gap)
    data = result.to_dict()
    assert json.loads(dumps(data)) == data
    # the mirrored conversation gives the mirrored result
    mirrored = find_patterns(kit.corpus(kit.swap(rows)), gap_hours=gap).to_dict()
    for key in ("reaches", "repairs", "chases", "loops", "partners", "conversations", "counts"):
        assert kit.swap_names(data[key]) == mirrored[key], key
    # every reach is counted once, and starts at most one loop
    reach_msgs = [m for m in kit.build(rows) if any(
        codebook().family_of(c.name) == "reach" for c in m.codes)]
    assert [r.message_id for r in result.reaches] == [m.message_id for m in reach_msgs]
    starts = [lp.reach_id for lp in result.loops]
    assert len(starts) == len(set(starts))
    by_id = {r.message_id: r for r in result.reaches}
    for lp in result.loops:
        assert by_id[lp.reach_id].outcome in ("defended", "attacked")
        assert lp.full == (lp.steps_present == LOOP_STEPS)
        assert lp.full or lp.broke_at in LOOP_STEPS
    for sender, s in result.partners.items():
        assert sum(s.reach_outcomes[k].count for k in s.reach_outcomes) == s.reaches
        assert sum(s.bids_turned.values()) == s.bids
        assert s.messages == sum(1 for r in rows if r[1] == sender)
