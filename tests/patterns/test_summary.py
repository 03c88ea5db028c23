"""Per-partner summaries: the same fields for both; rates with their n, "not enough data" below."""

from __future__ import annotations

import pytest

from heard.patterns import REACH_OUTCOMES, find_patterns


def bids(replies: list[str | None]) -> list:
    rows, t = [], 0
    for reply in replies:
        rows.append((t, "A", "bid", "look at this"))
        if reply is not None:
            rows.append((t + 1, "B", reply, "reply"))
        t += 20
    return rows


def test_summary_turn_toward_rate(kit) -> None:
    rows = bids(["", "validation", "curiosity", "", None, "reframing", "withdrawal", ""])
    s = find_patterns(kit.corpus(rows)).partners["A"]
    assert s.bids == 8 and s.bids_turned == {"toward": 5, "away": 2, "against": 1}
    assert (s.turn_toward.count, s.turn_toward.n, s.turn_toward.value) == (5, 8, 5 / 8)
    assert s.turn_toward.to_dict() == {"count": 5, "n": 8, "rate": 0.625, "note": None}


def test_summary_below_min_n_says_not_enough_data(kit) -> None:
    s = find_patterns(kit.corpus(bids(["", "", "", None]))).partners["A"]
    assert s.turn_toward.value is None and s.turn_toward.count == 3
    assert s.turn_toward.to_dict()["note"] == "not enough data (n=4, needs 5)"
    s = find_patterns(kit.corpus(bids(["", "", "", None])), min_n=4).partners["A"]
    assert s.turn_toward.value == 0.75


def test_summary_gottman_figures_are_labelled_descriptive(kit) -> None:
    ref = find_patterns(kit.corpus(bids([""]))).to_dict()["reference"]["turn_toward"]
    assert (ref["stayed_together"], ref["divorced"]) == (0.86, 0.33)
    label = ref["label"].lower()
    assert "descriptive" in label and "one lab" in label and "not norms" in label


def test_summary_reach_outcomes_counted_with_n(kit) -> None:
    rows = bids(["validation", "validation", "proving_wrong", "criticism", None, ""])
    s = find_patterns(kit.corpus(rows), min_n=1).partners["A"]
    got = {k: (s.reach_outcomes[k].count, s.reach_outcomes[k].n) for k in REACH_OUTCOMES}
    assert got == {"heard": (2, 6), "defended": (1, 6), "attacked": (1, 6),
                   "neutral": (1, 6), "ignored": (1, 6)}
    assert s.reaches == 6 and s.reaches_by_code == {"bid": 6}


def test_summary_codes_by_family(kit) -> None:
    rows = [
        (0, "A", "complaint emotional_truth", "You left early and I felt alone."),
        (1, "B", "proving_wrong counter_blame", "I didn't. You left first."),
        (2, "A", "over_explaining tracking", "I just mean... are you mad?"),
        (3, "B", "validation ownership", "I was short with you, that's on me."),
        (4, "A", "hardening", "ok."),
        (5, "B", "contempt", "sure, poor you"),
    ]
    result = find_patterns(kit.corpus(rows))
    a, b = result.partners["A"], result.partners["B"]
    assert a.reaches_by_code == {"complaint": 1, "emotional_truth": 1} and a.reaches == 1
    assert b.defenses == {"counter_blame": 1, "proving_wrong": 1}
    assert b.holds == {"ownership": 1, "validation": 1} and b.attacks == {"contempt": 1}
    assert a.overfunctioning == {"over_explaining": 1, "tracking": 1} and a.hardening == 1
    assert (a.messages, b.messages) == (3, 3)
    assert set(a.to_dict()) == set(b.to_dict())


def test_summary_both_partners_listed_even_when_one_is_silent(kit) -> None:
    result = find_patterns(kit.corpus([(0, "A", "bid", "hi")], [(0, "B", "", "x"),
                                                                (1, "A", "", "y")]))
    assert list(result.partners) == ["A", "B"]
    first = result.conversations[0]
    assert list(first.partners) == ["A", "B"] and first.partners["B"].messages == 0


def test_summary_per_conversation_adds_up_to_the_corpus(kit) -> None:
    one = bids(["validation", None, "proving_wrong"])
    two = [*kit.swap(bids(["", "criticism"])), (100, "A", "repair_attempt", "truce?")]
    result = find_patterns(kit.corpus(one, two))
    assert [c.conversation_id for c in result.conversations] == ["c1", "c2"]
    assert [c.episodes for c in result.conversations] == [1, 1]
    for sender in ("A", "B"):
        whole = result.partners[sender].to_dict()
        parts = [c.partners[sender].to_dict() for c in result.conversations]
        for key in ("messages", "reaches", "bids", "repairs", "chases", "hardening"):
            assert whole[key] == sum(p[key] for p in parts), (sender, key)
        for k in REACH_OUTCOMES:
            assert whole["reach_outcomes"][k]["count"] == sum(
                p["reach_outcomes"][k]["count"] for p in parts)


@pytest.mark.parametrize("min_n", [0, -2, 2.5, "5"])
def test_summary_bad_min_n_is_a_numbered_error(kit, min_n) -> None:
    from heard.errors import OptionError

    with pytest.raises(OptionError, match="E350: min_n"):
        find_patterns(kit.corpus(bids([""])), min_n=min_n)
