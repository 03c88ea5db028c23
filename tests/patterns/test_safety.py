"""The safety gate: findings from either partner, categories, resources, plain words."""

from __future__ import annotations

import json
import re

import pytest

from heard.model import Code, Corpus, Evidence, Message
from heard.patterns import scan_safety


def one(text: str, codes: tuple[Code, ...], sender: str = "B") -> Corpus:
    m = Message("c1", "c1-1", sender, None, text)
    m.annotations["codes"] = codes
    return Corpus.from_messages([m])


def risk(text: str) -> Corpus:
    return one(text, (Code("safety_risk", 0.9, (Evidence(0, len(text), text),)),))


@pytest.mark.parametrize(("text", "category"), [
    ("You'll regret it if you leave.", "threat"),
    ("Give me your password.", "coercive control"),
    ("Share your location with me, now.", "coercive control"),
    ("I'll hurt myself if you go.", "self-harm"),
    ("I'll kill myself.", "self-harm"),
    ("Next time I'll hit you.", "violence"),
    ("You know what happens when I get angry.", "safety concern"),
])
def test_safety_category_from_the_lexicon(text, category) -> None:
    result = scan_safety(risk(text))
    assert result.triggered
    (f,) = result.findings
    assert f.category == category
    assert (f.message_id, f.sender, f.text, f.score) == ("c1-1", "B", text, 0.9)


def test_safety_self_harm_is_not_also_violence() -> None:
    (f,) = scan_safety(risk("I'll kill myself tonight")).findings
    assert f.categories == ("self-harm",)


def test_safety_several_categories_listed_in_priority_order() -> None:
    (f,) = scan_safety(risk("Give me your password or else.")).findings
    assert f.category == "threat" and f.categories == ("threat", "coercive control")


def test_safety_category_read_from_the_evidence_span() -> None:
    text = "Love you. Give me your password."
    span = Evidence(10, len(text), text[10:])
    (f,) = scan_safety(one(text, (Code("safety_risk", 1.0, (span,)),))).findings
    assert f.evidence == (span,) and f.category == "coercive control"
    # no span: the whole message is the evidence
    (f,) = scan_safety(one(text, (Code("safety_risk", 1.0),))).findings
    assert f.evidence == (Evidence(0, len(text), text),)


def test_safety_no_code_no_trigger_even_with_alarming_words() -> None:
    result = scan_safety(one("I'll kill you if you eat my fries", (Code("contempt", 1.0),)))
    assert not result.triggered and result.findings == ()
    assert result.resources and result.explanation  # always there for the report


def test_safety_findings_from_both_partners_in_order(kit) -> None:
    rows = [
        (0, "A", "", "where were you"),
        (1, "B", "safety_risk", "I'll hurt myself if you go."),
        (2, "A", "safety_risk", "Give me your phone."),
        (3, "", "safety_risk", "system text"),
    ]
    result = scan_safety(kit.corpus(rows, kinds={4: "event"}))
    assert [(f.message_id, f.sender) for f in result.findings] == [("c1-2", "B"), ("c1-3", "A")]
    assert result.categories == {"coercive control": 1, "self-harm": 1}
    assert result.findings[0].timestamp is not None


def test_safety_resources_and_plain_words() -> None:
    result = scan_safety(risk("or else"))
    contacts = " ".join(r.contact for r in result.resources)
    for needle in ("1-800-799-7233", "1-800-787-3224", "988", "findahelpline.com"):
        assert needle in contacts
    assert any("emergency" in r.name.lower() for r in result.resources)
    words = result.explanation.lower()
    assert "not a communication problem" in words
    for advice in ("soften", "appease", "stay", "leave", "confront", "you should"):
        assert not re.search(rf"\b{advice}", words), advice


def test_safety_to_dict_is_json_ready() -> None:
    data = scan_safety(risk("You'll regret it.")).to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["triggered"] is True and data["findings"][0]["category"] == "threat"
    assert set(data) == {"triggered", "categories", "findings", "explanation", "resources"}


def test_safety_self_harm_gets_its_own_words_and_the_crisis_line_first() -> None:
    result = scan_safety(risk("Some nights I want to die."))
    assert result.findings[0].category == "self-harm"
    assert "988" in result.resources[0].contact
    words = result.explanation.lower()
    assert "self-harm" in words and "crisis line" in words
    assert "threats, control or violence" not in words  # the abuse wording is not used here
    assert "`" not in result.explanation


@pytest.mark.parametrize(("text", "first"), [
    ("Next time I'll hit you.", "799-7233"),
    ("Give me your password.", "799-7233"),
    ("You'll regret it.", "799-7233"),
])
def test_safety_threats_and_control_list_the_hotline_first(text, first) -> None:
    result = scan_safety(risk(text))
    assert first in result.resources[0].contact
    assert "not a communication problem" in result.explanation.lower()
    assert len(result.resources) == 4  # the others follow, none dropped


def test_safety_category_from_the_rule_that_fired() -> None:
    text = "if you leave I don't know what I'll do"
    code = Code("safety_risk", 1.0, (Evidence(0, 12, "if you leave"),),
                rule_ids=("safety_risk.self_harm_vague", "safety_risk.threat_condition"))
    (f,) = scan_safety(one(text, (code,))).findings
    assert f.categories == ("self-harm", "threat") and f.category == "self-harm"


def test_safety_phrases_join_the_spans_of_one_sentence() -> None:
    from heard.patterns._safety import phrases

    text = "if you leave I don't know what I'll do to myself. See you. Or else!"
    spans = [(0, 12), (15, 25), (26, 48), (59, 66)]
    assert [text[a:b] for a, b in phrases(text, spans)] == [
        "if you leave I don't know what I'll do to myself", "Or else"]
    assert phrases(text, []) == []


def test_safety_guidance_for_the_check_speaks_to_the_writer() -> None:
    from heard.patterns._safety import guidance

    said = guidance(["self-harm"], mode="send")
    assert said["sections"][0]["category"] == "self-harm"
    assert "you" in said["paragraphs"][0].lower() and "yourself" in said["paragraphs"][0]
    assert [r["id"] for r in said["resources"]][:1] == ["crisis"]
    mixed = guidance(["threat", "coercive control", "violence"])
    assert [s["category"] for s in mixed["sections"]] == ["violence", "threat",
                                                          "coercive control"]
    # the shared words on abuse are said once, after the sections
    assert mixed["paragraphs"].count(mixed["shared"][0]) == 1
    assert guidance(["no such category"])["sections"][0]["category"] == "safety concern"


def test_safety_guidance_data_is_checked(monkeypatch) -> None:
    from heard.errors import DataFileError
    from heard.patterns import _safety
    from heard.patterns._data import load_json

    broken = json.loads(json.dumps(load_json("safety.json")))
    broken["guidance"]["self-harm"]["resources"] = ["nowhere"]
    monkeypatch.setattr(_safety, "load_json", lambda name: broken)
    with pytest.raises(DataFileError, match="unknown resources"):
        _safety._guidance_data.__wrapped__()
