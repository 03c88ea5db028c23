"""Chasing: the second, third, fourth message into silence, with the time it spans."""

from __future__ import annotations

import pytest

from heard.patterns import find_patterns


def chases_of(kit, rows, **kw):
    return find_patterns(kit.corpus(rows), **kw).chases


def test_chase_run_with_time_span_ended_by_reply(kit) -> None:
    rows = [
        (0, "A", "bid", "Can we talk tonight?"),
        (30, "A", "tracking", "Are you mad at me?"),
        (90, "A", "", "?"),
        (200, "A", "hardening", "Forget it."),
        (210, "B", "", "sorry, was in a meeting"),
    ]
    (ch,) = chases_of(kit, rows)
    assert ch.sender == "A" and ch.length == 4
    assert ch.message_ids == ("c1-1", "c1-2", "c1-3", "c1-4")
    assert ch.followup_ids == ("c1-2", "c1-3", "c1-4")
    assert ch.span_seconds == 200 * 60 and (ch.end - ch.start).total_seconds() == 12000
    assert (ch.ended, ch.reply_id) == ("reply", "c1-5")


def test_chase_lines_typed_in_one_go_are_one_turn(kit) -> None:
    rows = [(0, "A", "", "hey"), (0.5, "A", "", "so"), (1, "A", "", "about tonight"),
            (3, "B", "", "yes?")]
    assert chases_of(kit, rows) == ()
    (ch,) = chases_of(kit, rows, burst_minutes=0.25)
    assert ch.followup_ids == ("c1-2", "c1-3")


def test_chase_only_pauses_count_as_followups(kit) -> None:
    rows = [(0, "A", "", "hey"), (1, "A", "", "you there?"), (45, "A", "", "hello??"),
            (46, "A", "", "please answer")]
    (ch,) = chases_of(kit, rows)
    assert ch.length == 4 and ch.followup_ids == ("c1-3",)
    assert (ch.ended, ch.reply_id) == ("episode_end", None)


def test_chase_without_timestamps_counts_every_extra_message(kit) -> None:
    rows = [(None, "A", "", "a"), (None, "A", "", "b"), (None, "A", "", "c"), (None, "B", "", "d")]
    (ch,) = chases_of(kit, rows)
    assert ch.followup_ids == ("c1-2", "c1-3") and ch.span_seconds is None and ch.start is None


def test_chase_ends_at_the_episode_end(kit) -> None:
    rows = [(0, "A", "", "a"), (60, "A", "", "b"), (60 * 9, "A", "", "c"),
            (60 * 9 + 1, "B", "", "d")]
    first, *rest = chases_of(kit, rows)
    assert rest == []
    assert first.episode_id == "c1#1" and first.ended == "episode_end"
    assert first.message_ids == ("c1-1", "c1-2")


@pytest.mark.parametrize("who", ["A", "B"])
def test_chase_summary_is_the_same_for_either_sender(kit, who) -> None:
    rows = [(0, "A", "", "a"), (20, "A", "", "b"), (40, "A", "", "c"), (41, "B", "", "d"),
            (60, "A", "", "e"), (80, "A", "", "f"), (81, "B", "", "g")]
    if who == "B":
        rows = kit.swap(rows)
    other = "B" if who == "A" else "A"
    result = find_patterns(kit.corpus(rows))
    s = result.partners[who]
    assert (s.chases, s.chase_followups, s.longest_chase) == (2, 3, 3)
    o = result.partners[other]
    assert (o.chases, o.chase_followups, o.longest_chase) == (0, 0, 0)
