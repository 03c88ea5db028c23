"""The loop detector on hand-built conversations with known loops, in both directions."""

from __future__ import annotations

import pytest

from heard.patterns import LOOP_STEPS, find_patterns

# reach → defend → overfunction (several turns, with a further defense) → harden → counter-blame
FULL = [
    (0, "A", "emotional_truth", "I felt alone at the party last night."),
    (2, "B", "proving_wrong", "That's not what happened, I checked on you twice."),
    (3, "A", "over_explaining", "I'm not trying to attack you, I just mean I felt alone."),
    (4, "B", "reframing", "You're overreacting."),
    (5, "A", "caretaking", "Sorry for being so emotional."),
    (6, "A", "tracking", "Are you mad at me?"),
    (8, "B", "", "no"),
    (9, "A", "hardening", "Forget it. It doesn't matter."),
    (11, "B", "counter_blame", "See? You're the one who's distant."),
]

# the reach is held: the loop never starts
HELD_REACH = [
    (0, "A", "emotional_truth", "I felt alone at the party last night."),
    (2, "B", "validation curiosity", "That makes sense. What was it like for you?"),
    (3, "A", "", "Lonely, honestly."),
]

# defended, over-functioning, then the partner holds: broken before hardening
HELD_LATER = [
    (0, "A", "complaint", "You were on your phone all through dinner."),
    (1, "B", "reframing", "It's not a big deal."),
    (2, "A", "over_explaining", "What I'm trying to say is I missed you."),
    (4, "B", "ownership validation", "You're right, I was on my phone. That's on me."),
    (5, "A", "hardening", "Whatever, forget it."),
]

# defended, over-functioning, and then the chat goes quiet for a night
ENDS_AFTER_OVERFUNCTION = [
    (0, "A", "bid", "Can we talk tonight?"),
    (1, "B", "escaping_blame", "I'm exhausted, what do you want from me?"),
    (2, "A", "caretaking", "I know you're trying so hard, I'm sorry."),
    (3, "A", "over_explaining", "I'm not trying to pile on, I just mean..."),
    (3 + 60 * 9, "B", "counter_blame", "You're the one who's distant."),
]


def loops_of(kit, rows, **kw):
    return find_patterns(kit.corpus(rows), **kw).loops


def test_loops_full_loop_found_with_every_step(kit) -> None:
    (loop,) = loops_of(kit, FULL)
    assert loop.full and loop.broke_at is None and loop.broke_how is None
    assert (loop.pursuer, loop.partner, loop.reach_id) == ("A", "B", "c1-1")
    assert loop.steps == {
        "reach": ("c1-1",),
        "defend": ("c1-2",),
        "overfunction": ("c1-3", "c1-5", "c1-6"),
        "harden": ("c1-8",),
        "counter_blame": ("c1-9",),
    }
    assert loop.further_defense_ids == ("c1-4",)
    assert loop.distance_blame is True and loop.distance_terms == ("distant",)
    assert loop.episode_id == "c1#1"
    assert (loop.end - loop.start).total_seconds() == 11 * 60


def test_loops_held_reach_starts_no_loop(kit) -> None:
    result = find_patterns(kit.corpus(HELD_REACH))
    assert result.loops == ()
    (reach,) = result.reaches
    assert reach.outcome == "heard" and reach.hold_codes == ("curiosity", "validation")


def test_loops_broken_by_a_hold_after_overfunctioning(kit) -> None:
    (loop,) = loops_of(kit, HELD_LATER)
    assert not loop.full
    assert loop.steps_present == ("reach", "defend", "overfunction")
    assert (loop.broke_at, loop.broke_how, loop.closed_by) == ("harden", "held", "c1-4")
    # the hardening after the loop closed belongs to no instance
    assert loop.steps["harden"] == ()


def test_loops_partial_loop_ends_with_the_episode(kit) -> None:
    (loop,) = loops_of(kit, ENDS_AFTER_OVERFUNCTION)
    assert loop.steps_present == ("reach", "defend", "overfunction")
    assert loop.steps["overfunction"] == ("c1-3", "c1-4")
    assert (loop.broke_at, loop.broke_how, loop.closed_by) == ("harden", "ended", None)
    # with no episode split the counter-blame still needs a hardening before it
    (same,) = loops_of(kit, ENDS_AFTER_OVERFUNCTION, gap_hours=24)
    assert same.steps["counter_blame"] == () and same.broke_how == "ended"


def test_loops_skipped_step_is_named(kit) -> None:
    rows = [
        (0, "A", "emotional_truth", "It scares me when you go quiet."),
        (1, "B", "withdrawal", "I'm done talking about this."),
        (2, "A", "hardening", "Fine. I've stopped expecting anything."),
        (3, "B", "counter_blame", "What about when you forgot my birthday?"),
    ]
    (loop,) = loops_of(kit, rows)
    assert loop.steps_present == ("reach", "defend", "harden", "counter_blame")
    assert (loop.broke_at, loop.broke_how) == ("overfunction", "skipped")
    assert loop.distance_blame is False and loop.distance_terms == ()


def test_loops_repair_that_lands_closes_the_loop(kit) -> None:
    rows = [
        (0, "A", "bid", "Will you sit with me for a bit?"),
        (1, "B", "criticism", "You always need something."),
        (2, "A", "repair_attempt", "I don't want to fight with you. Can we start over?"),
        (3, "B", "validation", "ok. I get it, I'm sorry too. tea?"),
        (4, "A", "hardening", "never mind"),
    ]
    result = find_patterns(kit.corpus(rows))
    (loop,) = result.loops
    assert (loop.broke_at, loop.broke_how, loop.closed_by) == ("harden", "repair landed", "c1-4")
    assert result.reaches[0].outcome == "attacked"
    assert result.repairs[0].outcome == "landed" and result.repairs[0].how == "held"


def test_loops_repair_met_by_an_uncoded_answer_does_not_close_the_loop(kit) -> None:
    rows = [
        (0, "A", "bid", "Will you sit with me for a bit?"),
        (1, "B", "criticism", "You always need something."),
        (2, "A", "repair_attempt", "I don't want to fight with you. Can we start over?"),
        (3, "B", "", "ok. tea?"),
        (4, "A", "hardening", "never mind"),
    ]
    result = find_patterns(kit.corpus(rows))
    (loop,) = result.loops
    assert loop.broke_how != "repair landed" and loop.steps.get("harden") == ("c1-5",)
    assert (result.repairs[0].outcome, result.repairs[0].how) == ("unclear", "uncoded")


def test_loops_partner_repair_closes_the_loop(kit) -> None:
    rows = [
        (0, "A", "complaint", "You didn't text when you were running late."),
        (1, "B", "proving_wrong", "Technically I did text you."),
        (2, "B", "repair_attempt", "Let's take a breath."),
    ]
    (loop,) = loops_of(kit, rows)
    assert (loop.broke_at, loop.broke_how, loop.closed_by) == ("overfunction", "repaired", "c1-3")
    rows[2] = (2, "A", "over_explaining", "I'm not trying to attack you, I mean...")
    rows.append((4, "B", "repair_attempt", "Can we start over?"))
    (loop,) = loops_of(kit, rows)
    assert (loop.broke_at, loop.broke_how, loop.closed_by) == ("harden", "repaired", "c1-4")


def test_loops_hold_later_in_the_reply_turn_closes_the_loop(kit) -> None:
    rows = [
        (0, "A", "emotional_truth", "I felt alone at the party."),
        (1, "B", "proving_wrong", "That's not what happened, I was right there."),
        (1.5, "B", "validation", "But I can see why it felt that way."),
        (2, "A", "over_explaining", "Thank you. I just mean..."),
    ]
    result = find_patterns(kit.corpus(rows))
    assert result.reaches[0].outcome == "defended"
    (loop,) = result.loops
    assert (loop.broke_at, loop.broke_how, loop.closed_by) == ("overfunction", "held", "c1-3")
    assert loop.steps["defend"] == ("c1-2",) and loop.further_defense_ids == ()


def test_loops_each_reach_starts_at_most_one_instance(kit) -> None:
    rows = [
        (0, "A", "emotional_truth", "I felt alone at the party."),
        (1, "B", "proving_wrong", "That's not what happened."),
        (2, "A", "emotional_truth bid", "I need to know you're with me. Can we talk?"),
        (3, "B", "reframing", "You're too sensitive."),
        (4, "A", "over_explaining", "Let me explain it again."),
        (5, "A", "hardening", "Forget it."),
        (6, "B", "counter_blame", "You're so cold."),
    ]
    result = find_patterns(kit.corpus(rows))
    (loop,) = result.loops
    assert loop.full and loop.reach_id == "c1-1" and loop.further_defense_ids == ("c1-4",)
    assert [r.outcome for r in result.reaches] == ["defended", "defended"]
    assert loop.distance_terms == ("cold",)


def test_loops_both_partners_can_pursue_at_once(kit) -> None:
    rows = [
        (0, "A", "emotional_truth", "I felt alone at the party."),
        (1, "B", "proving_wrong emotional_truth", "That's not true, and I feel attacked."),
        (2, "A", "reframing over_explaining", "You're overreacting, I just mean I felt alone."),
        (3, "B", "hardening", "Forget it."),
        (4, "A", "hardening", "Fine."),
        (5, "B", "counter_blame", "You're the one who pulled away."),
        (6, "A", "counter_blame", "You shut down first."),
    ]
    loops = loops_of(kit, rows)
    assert [(lp.pursuer, lp.reach_id, lp.full) for lp in loops] == [
        ("A", "c1-1", True), ("B", "c1-2", False)]
    b_loop = loops[1]
    assert b_loop.steps_present == ("reach", "defend", "harden", "counter_blame")
    assert b_loop.broke_at == "overfunction" and b_loop.distance_terms == ("shut down",)
    assert loops[0].distance_terms == ("pulled away",)


def test_loops_do_not_cross_episodes(kit) -> None:
    rows = [
        (0, "A", "emotional_truth", "I felt alone."),
        (1, "B", "proving_wrong", "That's not what happened."),
        (2, "A", "over_explaining", "What I mean is..."),
        (60 * 8, "A", "hardening", "Forget it."),
        (60 * 8 + 1, "B", "counter_blame", "You're distant."),
    ]
    (loop,) = loops_of(kit, rows)
    assert loop.broke_how == "ended" and loop.steps["harden"] == ()
    (loop,) = loops_of(kit, rows, gap_hours=12)
    assert loop.full


@pytest.mark.parametrize("rows", [FULL, HELD_REACH, HELD_LATER, ENDS_AFTER_OVERFUNCTION],
                         ids=["full", "held-reach", "held-later", "ends"])
def test_loops_mirror_when_names_swap(kit, rows) -> None:
    a = find_patterns(kit.corpus(rows)).to_dict()
    b = find_patterns(kit.corpus(kit.swap(rows))).to_dict()
    assert kit.swap_names(a["loops"]) == b["loops"]
    assert kit.swap_names(a["partners"])["A"] == b["partners"]["A"]
    assert kit.swap_names(a["partners"])["B"] == b["partners"]["B"]


def test_loops_summary_counts_pursuer_partner_and_funnel(kit) -> None:
    result = find_patterns(kit.corpus(FULL, HELD_LATER, kit.swap(ENDS_AFTER_OVERFUNCTION)))
    a, b = result.partners["A"], result.partners["B"]
    assert a.loops_as_pursuer == {"full": 1, "partial": 1}
    assert b.loops_as_pursuer == {"full": 0, "partial": 1}
    assert a.loops_as_partner == {"full": 0, "partial": 1}
    assert b.loops_as_partner == {"full": 1, "partial": 1}
    assert a.loop_steps_as_pursuer == dict(zip(LOOP_STEPS, (2, 2, 2, 1, 1), strict=True))
    assert b.distance_blames == 1 and a.distance_blames == 0
    assert len(result.full_loops) == 1 and len(result.partial_loops) == 2
