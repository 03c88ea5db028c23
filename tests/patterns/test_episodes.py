"""Episodes: a conversation split at long silences between human messages."""

from __future__ import annotations

import math

import pytest

from heard.errors import OptionError
from heard.model import Corpus
from heard.patterns import find_patterns, split_episodes

ROWS = [
    (0, "A", "", "morning"),
    (5, "B", "", "morning!"),
    (60 * 7, "A", "", "home at 7?"),        # 6h55 later: a new episode
    (60 * 7 + 2, "B", "", "yes"),
    (60 * 12, "A", "", "night"),            # 4h58 later: same episode at 6h
]


def test_episodes_split_at_gaps_with_stable_ids(kit) -> None:
    eps = split_episodes(kit.corpus(ROWS, ROWS), gap_hours=6)
    assert [e.id for e in eps] == ["c1#1", "c1#2", "c2#1", "c2#2"]
    first, second = eps[:2]
    assert [m.message_id for m in first.messages] == ["c1-1", "c1-2"]
    assert [m.message_id for m in second.messages] == ["c1-3", "c1-4", "c1-5"]
    assert first.gap_before_hours is None
    assert second.gap_before_hours == pytest.approx((60 * 7 - 5) / 60)
    assert (second.end - second.start).total_seconds() == 5 * 3600


@pytest.mark.parametrize(("gap", "n"), [(1, 3), (6, 2), (7, 1), (math.inf, 1)])
def test_episodes_gap_is_configurable(kit, gap, n) -> None:
    assert len(split_episodes(kit.corpus(ROWS), gap_hours=gap)) == n


def test_episodes_default_gap_comes_from_the_settings_file(kit) -> None:
    assert find_patterns(kit.corpus(ROWS)).settings.gap_hours == 6
    assert [e.id for e in split_episodes(kit.corpus(ROWS))] == ["c1#1", "c1#2"]


def test_episodes_without_timestamps_one_episode(kit) -> None:
    rows = [(None, s, c, t) for _, s, c, t in ROWS]
    (ep,) = split_episodes(kit.corpus(rows), gap_hours=1)
    assert ep.id == "c1#1" and len(ep.messages) == 5 and ep.start is None


def test_episodes_an_event_does_not_end_a_silence(kit) -> None:
    rows = [(0, "A", "", "night"), (60 * 3, "", "", "B changed the group icon"),
            (60 * 7, "B", "", "morning")]
    eps = split_episodes(kit.corpus(rows, kinds={2: "event"}), gap_hours=6)
    assert [[m.message_id for m in e.messages] for e in eps] == [["c1-1", "c1-2"], ["c1-3"]]
    assert eps[0].end == eps[0].start and len(eps[0].human_messages) == 1


def test_episodes_leading_and_trailing_events_stay_in_the_conversation(kit) -> None:
    rows = [(0, "", "", "created"), (1, "A", "", "hi"), (2, "B", "", "hey"), (3, "", "", "left")]
    (ep,) = split_episodes(kit.corpus(rows, kinds={1: "event", 4: "event"}), gap_hours=6)
    assert len(ep.messages) == 4
    assert ep.to_dict()["first_message_id"] == "c1-2"


def test_episodes_conversation_of_events_only_has_none(kit) -> None:
    rows = [(0, "", "", "created"), (1, "", "", "left")]
    assert split_episodes(kit.corpus(rows, kinds={1: "event", 2: "event"}), gap_hours=6) == []


def test_episodes_out_of_order_time_never_splits(kit) -> None:
    rows = [(600, "A", "", "later"), (0, "B", "", "earlier"), (601, "A", "", "again")]
    assert len(split_episodes(kit.corpus(rows), gap_hours=6)) == 1


def test_episodes_empty_corpus() -> None:
    assert split_episodes(Corpus(), gap_hours=6) == []
    result = find_patterns(Corpus())
    assert result.episodes == () and result.partners == {} and not result.has_timestamps


@pytest.mark.parametrize("bad", [0, -1, "6", float("nan"), True])
def test_episodes_bad_gap_is_a_numbered_error(kit, bad) -> None:
    with pytest.raises(OptionError) as err:
        split_episodes(kit.corpus(ROWS), gap_hours=bad)
    assert err.value.code == "E350" and "gap_hours" in str(err.value)
