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
