"""What if: suggested changes move the outcome the way they say, deterministically; the
results object and its plain summary; the README example through the CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from heard.dynamics import (
    AddRepair,
    CoupleParams,
    ShiftSetPoint,
    SoftenResponse,
    WhatIfResult,
    describe_change,
    generate_couple,
    knob_help,
    simulate,
    suggest_changes,
    what_if_model,
)
from heard.dynamics._gm_core import Influence, PersonFit
from heard.dynamics._gottman import GMResult
from heard.model import Corpus

README = Path(__file__).resolve().parents[2] / "README.md"


def _person(a: float, r: float, infl: Influence, sigma: float = 1.0) -> PersonFit:
    n = 200
    return PersonFit("ojive3", {"a": a, "r": r}, {}, sigma**2 * n, n, 5, 0.0, 0.0, 0.0, infl)


def _result(a: float = -0.6, pull: bool = True) -> GMResult:
    step = (Influence((-2.0, 2.0), (True, True), (-1.5, 0.0, 1.5), (0.0, 0.0, 0.0)) if pull
            else Influence())
    fits = {"Ana": _person(a, 0.4, step), "Ben": _person(a, 0.4, Influence())}
    return GMResult(("Ana", "Ben"), "staggered", {k: {"ojive3": v} for k, v in fits.items()},
                    fits, (), {}, (-8.0, 8.0))


OPENING = (-1.0, -2.0)


def test_whatif_suggestions_move_the_outcome_the_way_they_claim() -> None:
    res = _result()
    base = simulate(res, None, n_runs=300, n_turns=30, seed=4, opening=OPENING)
    assert base.share_hard_end > 0.5  # a couple whose hard talks mostly end hard
    found = suggest_changes(res, OPENING, n_runs=300, n_turns=30, seed=4, min_drop=0.1)
    assert {(s.partner, s.knob) for s in found} == {(p, k) for p in ("Ana", "Ben")
                                                    for k in ("repair", "soften", "set-point")}
    moved = [s for s in found if s.status == "found"]
    assert {s.knob for s in moved} >= {"repair", "set-point"}
    for s in moved:
        again = simulate(res, s.change(), n_runs=300, n_turns=30, seed=4, opening=OPENING)
        assert again.share_hard_end == pytest.approx(s.after)
        assert s.before - again.share_hard_end >= 0.1 - 1e-9  # the drop it claims, or more
        assert s.flag.startswith(("--repair", "--soften", "--set-point"))


def test_whatif_suggestion_is_the_smallest_on_its_grid() -> None:
    res = _result()
    found = suggest_changes(res, OPENING, knobs=("repair",), n_runs=300, n_turns=30, seed=4)
    s = next(x for x in found if x.partner == "Ana")
    assert s.status == "found" and s.value > 0.1
    smaller = simulate(res, AddRepair("Ana", round(s.value - 0.1, 2)), n_runs=300, n_turns=30,
                       seed=4, opening=OPENING)
    assert s.before - smaller.share_hard_end < 0.1


def test_whatif_suggestions_are_deterministic_for_a_seed() -> None:
    res = _result()
    a = suggest_changes(res, OPENING, n_runs=200, n_turns=20, seed=7)
    b = suggest_changes(res, OPENING, n_runs=200, n_turns=20, seed=7)
    assert [s.to_dict() for s in a] == [s.to_dict() for s in b]


def test_whatif_soften_without_a_pull_says_so_and_changes_nothing() -> None:
    res = _result(pull=False)
    found = suggest_changes(res, OPENING, knobs=("soften",), n_runs=100, seed=1)
    assert {s.status for s in found} == {"no_pull"}
    a = simulate(res, None, n_runs=100, seed=1, opening=OPENING)
    b = simulate(res, SoftenResponse("Ana", 0.0), n_runs=100, seed=1, opening=OPENING)
    assert a.share_hard_end == b.share_hard_end


def test_whatif_nothing_to_move_when_conversations_end_well() -> None:
    res = _result(a=2.0, pull=False)
    found = suggest_changes(res, (2.0, 2.0), n_runs=200, seed=0)
    assert {s.status for s in found} == {"not_needed"}


def test_whatif_words_are_plain_and_speak_from_me() -> None:
    names = ("Ana", "Ben")
    assert describe_change(SoftenResponse("Ben", 0.5), names) == \
        "Ana's hard turns pulled Ben down only half as far as now"
    assert describe_change(SoftenResponse("Ben", 0.5), names, me="Ana") == \
        "your hard turns pulled Ben down only half as far as now"
    assert describe_change(ShiftSetPoint("Ana", 1.0), names, me="Ana").startswith("you came")
    for knob in ("repair", "soften", "set-point", "lasting"):
        text = knob_help(knob, "Ana", "Ben")
        assert "Ana" in text and not re.search(r"\b[a-z]+_[a-z]+\b", text)


@pytest.fixture(scope="module")
def couple() -> Corpus:
    return Corpus.from_messages(generate_couple(CoupleParams(weeks=12, crisis_weeks=(),
                                                             seed=3)))


def test_whatif_result_object_and_dict_callers(couple: Corpus) -> None:
    res = what_if_model(couple, [AddRepair("Maya", 1.5)], n_runs=200, n_turns=20, me="Jon")
    assert isinstance(res, WhatIfResult)
    d = res.to_dict()
    assert res["status"] == d["status"] == "ok" and "changed" in res
    assert d["changes"] == ["Maya answered hard turns with a repair of strength 1.5"]
    assert d["me"] == "Jon" and d["suggestions"]
    text = res.summary().as_text()
    assert "Your turns that are hard" in text and "you and Maya" in text
    assert "SoftenResponse" not in text and "basin" not in text
    # the change visibly moves the outcome it reports
    assert res.changed.share_hard_end < res.as_fitted.share_hard_end


def test_whatif_safety_concern_suggests_nothing(couple: Corpus) -> None:
    res = what_if_model(couple, n_runs=100, n_turns=20, safety_concern=True)
    assert res.suggestions == () and "safety concern" in res.summary().as_text()


def _readme_example() -> list[str]:
    line = next(ln for ln in README.read_text(encoding="utf-8").splitlines()
                if ln.strip().startswith("heard simulate --demo"))
    return shlex.split(line.split("#")[0])[1:]


def _table(text: str) -> dict[str, tuple[int, ...]]:
    rows = {}
    for ln in text.splitlines():
        m = re.match(r"(.+?)\s{2,}(\d+) of 100\s+(\d+) of 100\s*$", ln)
        if m:
            rows[m.group(1).strip()] = (int(m.group(2)), int(m.group(3)))
    return rows


def test_whatif_readme_example_visibly_changes_the_outcome(cli) -> None:
    argv = _readme_example()
    assert "--demo" in argv and any(a.startswith("--") for a in argv if a != "--demo")
    status, out, err = cli(*argv)
    assert status == 0, err
    rows = _table(out)
    ends = rows["Conversations that end on a hard note"]
    assert ends[1] < ends[0] - 5, out  # fewer hard endings with the change
    assert "instead of" in out


def test_whatif_cli_me_speaks_from_that_side(cli) -> None:
    status, out, _ = cli("simulate", "--demo", "--repair", "Dan=1", "--me", "Dan",
                         "--runs", "100", "--turns", "20")
    assert status == 0
    assert "Your turns that are hard" in out and "you answered hard turns" in out
    status, out2, _ = cli("simulate", "--demo", "--repair", "Dan=1", "--runs", "100",
                          "--turns", "20")
    assert "Dan's turns that are hard" in out2 and out2 != out


def test_whatif_cli_needs_a_file_or_demo(cli) -> None:
    status, _, err = cli("simulate")
    assert status == 2 and "E030" in err
