"""Ordinary talk carries no code (the codebook's first decided hard case), for the model-based
coders: "sure" to "can you grab milk?" is no contempt, "what do you want for dinner?" no bid."""

from __future__ import annotations

import pytest

from heard.coding import TrainedCoder
from heard.coding._context import NO_TURN, OrdinaryTalk, Turn
from heard.coding._rule_data import context_settings
from heard.model import Code, Evidence, codebook


@pytest.fixture(scope="module")
def ordinary() -> OrdinaryTalk:
    return OrdinaryTalk.from_settings(context_settings())


def _codes(*names: str) -> tuple[Code, ...]:
    return tuple(Code(name, 0.6) for name in names)


def _names(codes: tuple[Code, ...]) -> list[str]:
    return [c.name for c in codes]


@pytest.mark.parametrize("text", ["Sure.", "ok", "OK!!", "no worries", "sure 👍", "👍",
                                  "whatever you want", "I don’t mind", "bye!", "Good night",
                                  "ttyl"])
def test_an_acknowledgement_after_calm_talk_carries_no_code(ordinary, text) -> None:
    calm = Turn(exists=True, codes=frozenset({"bid"}))
    for turn in (NO_TURN, calm):
        assert ordinary.apply(_codes("contempt", "withdrawal"), text, turn) == ()


@pytest.mark.parametrize("text", ["Hello", "hi!", "Hey there", "good morning"])
def test_a_greeting_is_no_bid(ordinary, text) -> None:
    # small talk carries no code; talk about films had "Hello" as a bid in 175 of 766 greetings
    assert ordinary.apply(_codes("bid"), text, NO_TURN) == ()


def test_a_presence_check_is_left_to_the_model(ordinary) -> None:
    # "hello?" after silence can ask the other to answer (a bid): not an ordinary reply
    assert _names(ordinary.apply(_codes("bid"), "hello?", NO_TURN)) == ["bid"]


def test_an_acknowledgement_after_a_heated_turn_keeps_its_codes(ordinary) -> None:
    # a curt "ok." that ends a fight can still be withdrawal
    heated = Turn(exists=True, codes=frozenset({"complaint"}))
    assert _names(ordinary.apply(_codes("withdrawal"), "ok.", heated)) == ["withdrawal"]
    assert _names(ordinary.apply(_codes("withdrawal"), "Bye.", heated)) == ["withdrawal"]


def test_safety_is_never_dropped(ordinary) -> None:
    assert _names(ordinary.apply(_codes("contempt", "safety_risk"), "ok", NO_TURN)) == [
        "safety_risk"]
    assert _names(ordinary.apply(_codes("safety_risk", "bid"), "pick you up at 7?",
                                 NO_TURN)) == ["safety_risk"]


@pytest.mark.parametrize(("text", "kept"), [
    ("what do you want for dinner?", []),
    ("dinner at 7?", []),
    ("did you pay the electric bill?", []),
    ("want to get dinner together tonight, just us?", ["bid"]),  # reaches for the person
    ("can we talk tonight?", ["bid"]),
    ("what do you want for dinner", ["bid"]),  # not asked as a question: left to the model
])
def test_a_logistics_question_is_no_bid(ordinary, text, kept) -> None:
    assert _names(ordinary.apply(_codes("bid"), text, NO_TURN)) == kept


def test_longer_replies_are_left_to_the_model(ordinary) -> None:
    codes = _codes("contempt")
    assert ordinary.apply(codes, "sure, poor you 🙄", NO_TURN) == codes


@pytest.fixture(scope="module")
def trained() -> TrainedCoder:
    return TrainedCoder().fit()


@pytest.mark.parametrize(("before", "reply"), [
    ("can you grab milk on the way home?", "Sure."),
    ("don't forget the dentist tomorrow", "no worries"),
    ("what do you want for dinner?", "whatever you want"),
])
def test_the_default_engine_reads_ordinary_replies_as_ordinary(trained, before, reply) -> None:
    assert trained.code_text(reply, context=[before]) == ()


def test_the_default_engine_reads_a_dinner_question_as_no_bid(trained) -> None:
    names = {c.name for c in trained.code_text("what do you want for dinner?")}
    assert not names & {"bid", "curiosity"}


def test_the_ordinary_settings_name_real_codes() -> None:
    spec = context_settings()["ordinary"]
    names = {c.name for c in codebook().codes}
    for key in ("keep_after", "logistics_drop", "never_drop"):
        assert set(spec[key]) <= names, key


def test_evidence_is_the_rule_phrase_where_a_rule_fired(trained) -> None:
    # the model's strongest grams beside a rule's phrase were stock words ("now", "mean. It")
    codes = trained.code_text("You'll pay for this! (The dinner, I mean. It was your turn.)")
    (safety,) = [c for c in codes if c.name == "safety_risk"]
    assert [e.text for e in safety.evidence] == ["You'll pay for this"]
    assert not any(i.startswith("model:") for i in safety.rule_ids)


def test_model_evidence_never_crosses_a_sentence_end(trained) -> None:
    text = ("In my country there is news every day about the war, it is very sad. "
            "I hope my family is ok")
    codes = trained.code_text(text)
    assert codes
    for code in codes:
        for e in code.evidence:
            assert not any(ch in e.text for ch in ".!?"), (code.name, e.text)


def _quoted(name: str, text: str, quote: str) -> Code:
    a = text.index(quote)
    return Code(name, 0.6, evidence=(Evidence(a, a + len(quote), quote),))


@pytest.mark.parametrize(("text", "code", "quote"), [
    ("Stuck at work, I'll be back around 7:30. There's leftover curry x", "staying",
     "I'll be back"),
    ("playing 5 a side, back 8", "hardening", "playing 5 a side, back 8"),
    ("I'm staying at mum and dad's tonight", "staying", "I'm staying"),
])
def test_a_plan_said_in_passing_is_no_move(ordinary, text, code, quote) -> None:
    assert ordinary.apply((_quoted(code, text, quote),), text, NO_TURN) == ()


def test_a_move_beside_a_plan_keeps_its_code(ordinary) -> None:
    # "I'm done" is its own sentence: the plan next to it does not explain it away
    text = "I'm done. Home at 9"
    codes = (_quoted("hardening", text, "I'm done"),)
    assert ordinary.apply(codes, text, NO_TURN) == codes
    # and a plan drops only its own codes
    text = "I'm staying at mum's tonight"
    codes = (_quoted("boundary", text, "I'm staying at mum's tonight"),)
    assert ordinary.apply(codes, text, NO_TURN) == codes
