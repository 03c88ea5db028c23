"""What met each reach and each repair: heard, defended, attacked, neutral, ignored; latency."""

from __future__ import annotations

import pytest

from heard.patterns import find_patterns


def reach_after(kit, reply_codes: str | None):
    rows = [(0, "A", "bid", "Look at this sunset")]
    if reply_codes is not None:
        rows.append((1, "B", reply_codes, "reply"))
    return find_patterns(kit.corpus(rows)).reaches[0]


@pytest.mark.parametrize(("reply", "outcome", "turn"), [
    ("validation", "heard", "toward"),
    ("curiosity staying", "heard", "toward"),
    ("proving_wrong", "defended", "against"),
    ("validation reframing", "defended", "against"),
    ("withdrawal", "defended", "away"),
    ("criticism", "attacked", "against"),
    ("contempt counter_blame", "attacked", "against"),
    ("", "neutral", "toward"),
    ("bid", "neutral", "toward"),
    (None, "ignored", "away"),
])
def test_reach_outcome_and_turn(kit, reply, outcome, turn) -> None:
    r = reach_after(kit, reply)
    assert (r.outcome, r.turn) == (outcome, turn)


def test_reach_attack_and_defense_are_both_recorded(kit) -> None:
    r = reach_after(kit, "criticism escaping_blame")
    assert r.outcome == "attacked"
    assert r.attack_codes == ("criticism",) and r.defense_codes == ("escaping_blame",)
    assert r.response_ids == ("c1-2",) and r.response_codes == ("criticism", "escaping_blame")
    assert (r.sender, r.partner, r.codes, r.latency_seconds) == ("A", "B", ("bid",), 60.0)


def test_reach_reply_turn_is_all_consecutive_messages(kit) -> None:
    rows = [
        (0, "A", "emotional_truth", "I felt alone."),
        (1, "B", "validation", "That makes sense."),
        (2, "B", "proving_wrong", "But I did check on you."),
        (3, "A", "", "ok"),
    ]
    r = find_patterns(kit.corpus(rows)).reaches[0]
    assert r.response_ids == ("c1-2", "c1-3") and r.outcome == "defended"


def test_reach_ignored_at_episode_end_notes_the_later_reply(kit) -> None:
    rows = [(0, "A", "bid", "Can we talk tonight?"), (60 * 10, "B", "", "sorry, was asleep")]
    r = find_patterns(kit.corpus(rows)).reaches[0]
    assert (r.outcome, r.ignored_why, r.later_reply_id) == ("ignored", "episode_end", "c1-2")
    assert r.partner == "B" and r.latency_seconds is None


def test_reach_ignored_when_the_conversation_just_stops(kit) -> None:
    r = find_patterns(kit.corpus([(0, "A", "bid", "Can we talk tonight?")])).reaches[0]
    assert (r.outcome, r.ignored_why, r.later_reply_id, r.partner) == (
        "ignored", "episode_end", None, None)


@pytest.mark.parametrize(("window", "outcome"), [(None, "ignored"), (6, "neutral")])
def test_reach_reply_window(kit, window, outcome) -> None:
    rows = [
        (0, "A", "bid", "Can we talk tonight?"),
        (200, "A", "", "I'm home by the way"),
        (300, "B", "", "sure"),
    ]
    r = find_patterns(kit.corpus(rows), reply_window_hours=window).reaches[0]
    assert r.outcome == outcome and r.latency_seconds == 300 * 60
    if outcome == "ignored":
        assert (r.ignored_why, r.later_reply_id, r.turn) == ("late", "c1-3", "away")


def test_reach_ignored_without_timestamps_when_reached_again(kit) -> None:
    rows = [
        (None, "A", "emotional_truth", "I felt alone at the party."),
        (None, "A", "bid", "Can we talk?"),
        (None, "B", "curiosity", "What happened?"),
    ]
    first, second = find_patterns(kit.corpus(rows)).reaches
    assert (first.outcome, first.ignored_why, first.later_reply_id) == (
        "ignored", "reached_again", "c1-3")
    assert second.outcome == "heard" and second.latency_seconds is None


@pytest.mark.parametrize(("pause", "first_outcome"), [(1, "heard"), (30, "ignored")])
def test_reach_again_after_a_pause_leaves_the_first_unanswered(kit, pause, first_outcome) -> None:
    rows = [
        (0, "A", "bid", "Are you free later?"),
        (pause, "A", "bid", "Hello?"),
        (pause + 1, "B", "curiosity", "Sorry! What's up?"),
    ]
    first, second = find_patterns(kit.corpus(rows)).reaches
    assert first.outcome == first_outcome and second.outcome == "heard"


def test_reach_events_are_skipped_between_reach_and_reply(kit) -> None:
    rows = [
        (0, "A", "bid", "Look at this"),
        (1, "", "", "Messages are end-to-end encrypted"),
        (2, "B", "validation", "wow, beautiful"),
    ]
    corpus = kit.corpus(rows, kinds={2: "event"})
    r = find_patterns(corpus).reaches[0]
    assert r.outcome == "heard" and r.response_ids == ("c1-3",)


REPAIRS = [
    ("validation", "landed", "held"),
    ("repair_attempt", "landed", "repaired"),
    ("", "unclear", "uncoded"),
    ("bid", "unclear", "other"),
    ("reframing", "ignored", "defended"),
    ("withdrawal", "ignored", "defended"),
    ("contempt", "ignored", "attacked"),
    (None, "ignored", "unanswered"),
]


@pytest.mark.parametrize(("reply", "outcome", "how"), REPAIRS)
def test_reach_repair_landed_or_ignored(kit, reply, outcome, how) -> None:
    rows = [(0, "A", "repair_attempt", "Can we start over?")]
    if reply is not None:
        rows.append((1, "B", reply, "reply"))
    result = find_patterns(kit.corpus(rows))
    rp = result.repairs[0]
    assert (rp.outcome, rp.how) == (outcome, how)
    summary = result.partners["A"]
    assert summary.repairs == 1 and summary.repairs_landed.count == (outcome == "landed")
    assert summary.repairs_ignored == ({how: 1} if outcome == "ignored" else {})
    assert summary.repairs_unclear == (outcome == "unclear")


def test_reach_answered_by_an_uncoded_message_is_never_held_or_landed(kit) -> None:
    """An answer the coder left uncoded is not evidence that anything was heard."""
    rows = [
        (0, "A", "emotional_truth", "please, I really don't want us to go to bed angry"),
        (1, "B", "", "then stop making everything a drama"),
        (2, "A", "repair_attempt", "I'm sorry. can we start over?"),
        (3, "B", "", "whatever"),
    ]
    result = find_patterns(kit.corpus(rows))
    (reach,) = [r for r in result.reaches if r.message_id == "c1-1"]
    assert reach.outcome == "neutral" and reach.response_codes == ()
    (repair,) = result.repairs
    assert (repair.outcome, repair.how) == ("unclear", "uncoded")
    summary = result.partners["A"]
    assert summary.reach_outcomes["heard"].count == 0
    assert summary.repairs_landed.count == 0 and summary.repairs_unclear == 1
    assert all(lp.broke_how not in ("held", "repair landed") for lp in result.loops)


def test_reach_latency_median_and_quartiles(kit) -> None:
    rows = []
    t = 0
    for k in range(1, 6):  # B answers after 1..5 minutes, A after 2 minutes each time
        rows += [(t, "A", "", "a"), (t + k, "B", "", "b")]
        t += k + 2
    result = find_patterns(kit.corpus(rows))
    lat = result.partners["B"].latency
    assert (lat.n, lat.median_seconds, lat.q1_seconds, lat.q3_seconds) == (5, 180, 120, 240)
    a = result.partners["A"].latency
    assert a.n == 4 and a.median_seconds is None and "not enough data" in a.note
    assert find_patterns(kit.corpus(rows), min_n=4).partners["A"].latency.median_seconds == 120


def test_reach_latency_needs_timestamps(kit) -> None:
    rows = [(None, "A", "bid", "hi"), (None, "B", "", "hey")] * 3
    lat = find_patterns(kit.corpus(rows)).partners["B"].latency
    assert lat.n == 0 and lat.note == "no timed replies"


def test_reach_outcomes_mirror_when_names_swap(kit) -> None:
    rows = [
        (0, "A", "bid", "Can we talk?"),
        (1, "B", "reframing", "You're overreacting."),
        (3, "B", "emotional_truth", "I feel tired."),
        (4, "A", "validation", "That makes sense."),
        (40, "A", "complaint", "You didn't call."),
        (45, "A", "repair_attempt", "Let's take a breath."),
        (400, "B", "", "ok"),
    ]
    a = find_patterns(kit.corpus(rows)).to_dict()
    b = find_patterns(kit.corpus(kit.swap(rows))).to_dict()
    for key in ("reaches", "repairs", "partners", "conversations"):
        assert kit.swap_names(a[key]) == b[key], key
