"""The pre-send check: advice per code, emotional truth, safety mode, received messages."""

from __future__ import annotations

import pytest

from heard.app import check_text
from heard.errors import OptionError

SOFTENING = ("soften", "appease", "stay", "holds space", "reply")


@pytest.mark.parametrize(("text", "codes"), [
    ("You always make everything about you.", {"criticism", "absolutes", "name_the_feeling"}),
    ("Wow. Great job, genius. You are pathetic.", {"contempt"}),
    ("You're the one who's distant.", {"counter_blame"}),
    ("I'm not trying to attack you, I just mean what I'm trying to say is", {"over_explaining"}),
    ("I can't do this anymore. Maybe we should separate.", {"in_person"}),
])
def test_check_flags_and_advice(text: str, codes: set[str]) -> None:
    r = check_text(text)
    got = {s.code for s in r.suggestions}
    assert codes <= got, got
    for s in r.suggestions:
        assert s.advice
        if s.span is not None:
            assert text[s.span["start"]:s.span["end"]] == s.span["text"]


def test_check_emotional_truth_recognized() -> None:
    r = check_text("I felt alone at the party when you left without me.")
    assert {"emotional_truth", "complaint"} <= {t["code"] for t in r.truths}
    assert not r.flagged
    assert "one_request" in {s.code for s in r.suggestions}


def test_check_criticism_plus_contempt_better_in_person() -> None:
    r = check_text("You never think of anyone else. You're pathetic.")
    assert "in_person" in {s.code for s in r.suggestions}


@pytest.mark.parametrize(("text", "context", "mode"), [
    ("Give me your password or else.", None, "send"),
    ("ok I'm sorry, I'll do whatever you want", ["You'll regret it if you leave."], "send"),
    ("You'll regret it if you leave.", None, "received"),
])
def test_check_safety_shows_resources_not_advice(text: str, context: list[str] | None,
                                                 mode: str) -> None:
    r = check_text(text, context, mode=mode)  # type: ignore[arg-type]
    assert r.safety_mode
    assert r.suggestions == [] and r.holding_space == []
    assert any("988" in res["contact"] or "799-7233" in res["contact"]
               for res in r.safety["resources"])
    d = r.to_dict()
    assert d["suggestions"] == [] and d["safety_mode"] is True


def test_check_received_suggests_holding_space() -> None:
    r = check_text("I felt so alone when you left the party without me.", mode="received")
    keys = [h["code"] for h in r.holding_space]
    assert set(keys) == {"validation", "ownership", "curiosity", "staying"}
    assert "emotional_truth" in r.holding_space[0]["because"]
    assert r.suggestions == []


def test_check_context_changes_coding() -> None:
    r = check_text("You're overreacting", ["I feel alone when you go quiet"])
    assert "reframing" in {c.name for c in r.codes}


def test_check_empty_and_errors() -> None:
    assert check_text("   ").codes == ()
    with pytest.raises(OptionError, match="E501"):
        check_text("hi", mode="shout")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="E502"):
        check_text("x" * 20_001)
