"""Weekly series: bins, exposure, family and code counts, crisis and promise clustering."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from heard.dynamics import build_series, find_events
from heard.errors import OptionError
from heard.model import Code, Corpus, Message


def msg(i: int, sender: str, when: datetime | None, *codes: str) -> Message:
    m = Message("c1", f"m{i}", sender, when, "text")
    if codes:
        m.annotations["codes"] = tuple(Code(c, 0.9) for c in codes)
    return m


T0 = datetime(2024, 1, 3, 20, 0, tzinfo=UTC)  # a Wednesday


def test_series_bins_start_on_monday_and_count_exposure():
    msgs = [msg(0, "Ana", T0, "bid"), msg(1, "Ben", T0 + timedelta(minutes=1), "reframing"),
            msg(2, "Ana", T0 + timedelta(days=8), "tracking", "caretaking"),
            msg(3, "Ana", T0 + timedelta(days=8, minutes=2))]
    s = build_series(Corpus.from_messages(msgs))
    assert s.start == date(2024, 1, 1) and s.n_bins == 2
    assert s.exposure_of("Ana").tolist() == [1, 2]
    assert s.exposure_of("Ben").tolist() == [1, 0]
    # two overfunction codes in one message count once for the family, once each as codes
    assert s.count("Ana", "overfunction").tolist() == [0, 1]
    assert s.code_count("Ana", "tracking").tolist() == [0, 1]
    assert s.count("Ben", "defend").tolist() == [1, 0]
    assert s.bin_starts == [date(2024, 1, 1), date(2024, 1, 8)]


def test_series_custom_bins_and_untimed_messages_are_noted():
    msgs = [msg(0, "Ana", T0), msg(1, "Ben", None, "bid"), msg(2, "Ana", T0 + timedelta(days=4))]
    s = build_series(msgs, bin_days=3)
    assert s.start == T0.date() and s.n_bins == 2 and s.bin_label == "3 days"
    assert s.n_untimed == 1 and "without a timestamp" in s.notes[0]


def test_series_with_no_timestamps_is_empty_not_an_error():
    s = build_series([msg(0, "Ana", None, "bid"), msg(1, "Ben", None)])
    assert s.n_bins == 0 and s.exposure.shape == (2, 0)


@pytest.mark.parametrize("bad", [0, -7, 2.5, True])
def test_series_bad_bin_days_raises_e225(bad):
    with pytest.raises(OptionError, match="E225"):
        build_series([msg(0, "Ana", T0)], bin_days=bad)


def test_series_crises_cluster_within_days_and_know_whose_they_are():
    msgs = [msg(0, "Ana", T0, "breaking_point"),
            msg(1, "Ana", T0 + timedelta(days=1), "breaking_point"),
            msg(2, "Ben", T0 + timedelta(days=2), "breaking_point"),
            msg(3, "Ben", T0 + timedelta(days=30), "breaking_point"),
            msg(4, "Ben", T0 + timedelta(days=31), "promise")]
    crises = find_events(msgs, "breaking_point", kind="crisis", cluster_days=3)
    assert [c.sender for c in crises] == ["Ana", "Ben"]
    assert crises[0].senders == ("Ana", "Ben") and len(crises[0].message_ids) == 3
    s = build_series(msgs)
    assert s.crisis_bins() == [0, 4]
    assert s.crisis_bins(["Ben"]) == [4]
    assert s.promise_bins() == [4]
    assert s.crises[1].to_dict()["date"] == "2024-02-02"


def test_series_totals_match_the_messages():
    rng = np.random.default_rng(0)
    msgs = [msg(i, "Ana" if i % 2 else "Ben", T0 + timedelta(hours=int(h)), "bid")
            for i, h in enumerate(rng.integers(0, 24 * 60, 200))]
    s = build_series(msgs)
    assert s.exposure.sum() == 200 and s.family_counts.sum() == 200
