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


def test_check_self_harm_cares_for_the_writer_and_marks_the_whole_phrase() -> None:
    text = "if you leave I don't know what I'll do to myself"
    r = check_text(text)
    assert r.safety_mode and r.safety["categories"] == ["self-harm"]
    assert "988" in r.safety["resources"][0]["contact"]
    assert "yourself" in r.safety["explanation"][0]
    assert "threats, control or violence" not in " ".join(r.safety["explanation"])
    (f,) = r.safety["findings"]
    assert [p["text"] for p in f["phrases"]] == [text]
    assert f["phrases"][0]["category"] == "self-harm"


def test_check_threat_received_lists_the_hotline_first() -> None:
    r = check_text("Give me your password or else.", mode="received")
    assert r.safety["categories"][0] in ("threat", "coercive control")
    assert "799-7233" in r.safety["resources"][0]["contact"]
    assert "not a communication problem" in " ".join(r.safety["explanation"])


def test_check_context_is_coded_once_as_each_message_alone() -> None:
    from heard.app._check import _coder

    context = ["I feel alone when you go quiet", "ok", "You'll regret it if you leave."]
    r = check_text("You're overreacting", context)
    alone = _coder().code_text("You're overreacting", context=context)
    assert [c.name for c in r.codes] == [c.name for c in alone]
    (hit,) = r.safety["findings"]
    assert hit["where"] == "context" and hit["index"] == 2


def test_check_result_page_marks_the_phrase() -> None:
    pytest.importorskip("fastapi")
    from heard.app._views import env as _env

    r = check_text("if you leave I don't know what I'll do to myself")
    page = _env().get_template("check_result.j2").render(result=r.to_dict(), highlighted="")
    assert ("<mark class=\"f-safety\">if you leave I don&#39;t know what I&#39;ll do to "
            "myself</mark>") in page
    assert page.index("988") < page.index("799-7233")
