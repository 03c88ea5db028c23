"""The rule coder: every code reachable, tricky near-misses, context, evidence, negation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heard.coding import RuleCoder, codebook
from heard.errors import NotFittedError
from heard.model import Corpus, Message


@pytest.fixture(scope="module")
def coder() -> RuleCoder:
    return RuleCoder().fit(Corpus())


def names(coder: RuleCoder, text: str, **kw) -> set[str]:
    return {c.name for c in coder.code_text(text, **kw)}


# For each code: sentences that must carry it.
POSITIVE = {
    "emotional_truth": [
        "I felt so invisible at your parents' place.",
        "I need to feel like we're a team.",
        "it hurts me when you joke about my job",
    ],
    "complaint": [
        "You didn't call when your flight landed.",
        "you were on your phone the whole movie",
        "when you cancelled our plans I had already booked the table",
    ],
    "bid": [
        "Can we go for a walk after dinner?",
        "look at this dog lol",
        "come cuddle with me for a bit?",
    ],
    "criticism": [
        "You never think about anyone but yourself.",
        "what is wrong with you",
        "you're so selfish",
        "I feel like you never care what I think",
    ],
    "contempt": ["Wow, great job, genius.", "you're such an idiot", "oh poor baby 🙄"],
    "escaping_blame": [
        "That's not my fault.",
        "what do you want from me, I was working all day",
        "so I'm always the bad guy",
    ],
    "proving_wrong": [
        "That is not what happened at all.",
        "I got home at 9, not 10.",
        "I never said that, scroll up",
    ],
    "reframing": [
        "You're being way too sensitive.",
        "it's not that big a deal",
        "I'm sorry you feel that way.",
        "calm down, it was just a joke",
    ],
    "counter_blame": [
        "You're the one who never listens.",
        "what about when you forgot my birthday?",
        "I'm sorry, but you started this",
    ],
    "withdrawal": [
        "I'm done talking about this.",
        "just leave me alone",
        "I'm not doing this right now",
    ],
    "over_explaining": [
        "I'm not trying to blame you, I just mean it stung.",
        "what I'm trying to say is that I missed you",
        "let me explain it again",
    ],
    "caretaking": [
        "sorry for being so needy",
        "I don't want you to feel bad, forget I said anything",
        "I know you're exhausted, it's fine",
    ],
    "tracking": [
        "are you upset with me?",
        "you seem quiet tonight, did I do something?",
        "are we okay?",
    ],
    "repair_attempt": ["Can we start over?", "I hate fighting with you", "let's take a breath"],
    "hardening": [
        "Forget it. It doesn't matter anymore.",
        "I've stopped expecting you to notice.",
        "why do I even bother",
    ],
    "validation": [
        "That makes total sense.",
        "I can see why that hurt you.",
        "of course you felt left out",
    ],
    "ownership": [
        "I was harsh with you earlier, that's on me.",
        "you're right, I did forget",
        "I shouldn't have raised my voice",
    ],
    "curiosity": [
        "What was that like for you?",
        "tell me more about it",
        "what do you need from me right now?",
    ],
    "staying": [
        "I'm not going anywhere.",
        "I'm right here with you",
        "I need a few minutes, then I'll come back and we'll finish this",
    ],
    "proactive_naming": [
        "I noticed I've been short with you this week.",
        "I think I got defensive earlier.",
        "something feels off between us lately",
    ],
    "boundary": [
        "I won't keep talking while you're yelling; I'm stepping out.",
        "I'm not going to chase you for answers anymore.",
        "I need twenty minutes to calm down, then I want to finish this",
    ],
    "breaking_point": ["I can't do this anymore.", "maybe we should separate", "I want a divorce"],
    "promise": [
        "I'll do better.",
        "I'm going to go to therapy, I promise",
        "it won't happen again",
    ],
    "safety_risk": [
        "You'll regret it if you leave.",
        "give me your password or else",
        "share your location with me or we're done",
        "I don't want to be here anymore",
        "if you go I'll hurt myself",
    ],
}

# For each code: near-misses that must NOT carry it (codebook "not this" and our own).
NEGATIVE = {
    "emotional_truth": [
        "I feel like you never listen",
        "you always make me feel stupid",
        "did you feel the earthquake?",
    ],
    "complaint": ["You always leave your dishes everywhere.", "can you pick up milk?"],
    "bid": ["did you pay the bill?", "can you move the car before 8?"],
    "criticism": [
        "You didn't text me when you were running late.",
        "I'm not saying you always do this",
    ],
    "contempt": ["Great, see you at six.", "nice job on the presentation today!"],
    "escaping_blame": ["It was raining so the game got cancelled.", "I was at work until six."],
    "proving_wrong": [
        "Okay, I got the time wrong, and I hear that you felt forgotten. That makes sense.",
        "the meeting is at seven",
    ],
    "reframing": [
        "I need twenty minutes to calm down, then I want to finish this",
        "I never said you were overreacting",
    ],
    "counter_blame": ["I'm sorry I was short with you.", "you're right, that's on me"],
    "withdrawal": [
        "I need twenty minutes to calm down, then I want to finish this",
        "fine, see you at 7",
    ],
    "over_explaining": ["I explained the recipe to my sister.", "what time is it?"],
    "caretaking": ["Sorry I'm late!", "take the last slice, I already ate"],
    "tracking": ["what's wrong with you?", "are you coming to dinner?"],
    "repair_attempt": ["I'm sorry, but you started it.", "let's take the bus"],
    "hardening": [
        "I'm done talking about this.",
        "I'm not going to chase you for answers anymore.",
    ],
    "validation": [
        "I'm sorry you feel that way.",
        "I understand, but you're overreacting",
        "I don't understand why you're mad",
    ],
    "ownership": [
        "I'm sorry, but you started it.",
        "I'm sorry you feel that way.",
        "It's not my fault.",
    ],
    "curiosity": [
        "why would you even say that?",
        "what is wrong with you?",
        "what time is dinner?",
    ],
    "staying": ["I'm leaving.", "you're not going anywhere tonight"],
    "proactive_naming": ["You've been distant this week.", "I noticed the fridge is empty."],
    "boundary": ["I'm not going to bother anymore.", "I need milk"],
    "breaking_point": ["I can't do this puzzle, help", "I'm not leaving, I'm here"],
    "promise": ["I can't promise anything.", "I won't do better, why would I"],
    "safety_risk": [
        "I'm not going anywhere.",
        "I would never hurt you",
        "what's the wifi password?",
    ],
}


@pytest.mark.parametrize(("code", "text"), [(c, t) for c, ts in POSITIVE.items() for t in ts])
def test_rules_positive(coder: RuleCoder, code: str, text: str) -> None:
    assert code in names(coder, text)


@pytest.mark.parametrize(("code", "text"), [(c, t) for c, ts in NEGATIVE.items() for t in ts])
def test_rules_tricky_negative(coder: RuleCoder, code: str, text: str) -> None:
    assert code not in names(coder, text)


def test_rules_tables_cover_every_code() -> None:
    all_codes = set(codebook().names)
    assert set(POSITIVE) == all_codes and set(NEGATIVE) == all_codes
    assert all(len(POSITIVE[c]) >= 2 and len(NEGATIVE[c]) >= 2 for c in all_codes)


def test_rules_clause_examples(coder: RuleCoder) -> None:
    assert names(coder, "I'm sorry, but you started it.") >= {"counter_blame"}
    assert names(coder, "I'm sorry you feel that way.") == {"reframing"}
    assert names(coder, "I feel like you never listen.") == {"criticism"}
    assert names(coder, "I need twenty minutes, then I want to finish this.") == {
        "staying",
        "boundary",
    }
    assert names(coder, "I'm done talking about this.") == {"withdrawal"}
    assert "curiosity" not in names(coder, "why would you even say that?")


# --- context ----------------------------------------------------------------------------
T0 = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)


def convo(*turns: tuple[str, str], gap: timedelta = timedelta(minutes=1)) -> Corpus:
    return Corpus.from_messages(
        Message("c", f"c-{i}", who, T0 + i * gap, text) for i, (who, text) in enumerate(turns)
    )


@pytest.mark.parametrize("reply", ["fine.", "k", "ok", "whatever", "sure", "👍", "Fine!!"])
def test_rules_minimal_reply_after_bid_is_withdrawal(coder: RuleCoder, reply: str) -> None:
    corpus = coder.transform(
        convo(("A", "I feel alone when you go quiet. Can we talk tonight?"), ("B", reply))
    )
    assert corpus.conversations[0].messages[1].code_names == {"withdrawal"}


@pytest.mark.parametrize("reply", ["fine.", "k", "ok", "sure", "👍"])
def test_rules_minimal_reply_after_logistics_is_no_code(coder: RuleCoder, reply: str) -> None:
    corpus = coder.transform(convo(("A", "are you coming at 7?"), ("B", reply)))
    assert corpus.conversations[0].messages[1].codes == ()


def test_rules_minimal_reply_next_day_is_no_code(coder: RuleCoder) -> None:
    corpus = coder.transform(convo(("A", "I miss you so much"), ("B", "ok"), gap=timedelta(days=1)))
    assert corpus.conversations[0].messages[1].codes == ()


def test_rules_minimal_reply_without_context_setting(coder: RuleCoder) -> None:
    plain = RuleCoder(use_context=False).fit()
    corpus = plain.transform(convo(("A", "I feel so alone lately"), ("B", "fine.")))
    assert corpus.conversations[0].messages[1].codes == ()


def test_rules_code_text_uses_context(coder: RuleCoder) -> None:
    assert names(coder, "k") == set()
    assert names(coder, "k", context=["I really need you to hold me tonight"]) == {"withdrawal"}
    msgs = [
        Message("c", "1", "A", None, "I felt alone at the party"),
        Message("c", "2", "B", None, "sorry"),
    ]
    assert names(coder, "fine.", context=msgs, sender="B") == {"withdrawal"}
    assert names(coder, "fine.", context=msgs, sender="A") == set()


def test_rules_distance_reply_is_counter_blame(coder: RuleCoder) -> None:
    assert names(coder, "you've been so distant lately") == {"complaint"}
    got = names(coder, "well you've been so distant lately", context=["I feel so alone with you"])
    assert "counter_blame" in got and "complaint" not in got


def test_rules_fact_reply_to_reach_is_proving_wrong(coder: RuleCoder) -> None:
    text = "actually I did text you, at 6:40"
    assert "proving_wrong" not in names(coder, text)
    assert "proving_wrong" in names(coder, text, context=["I felt forgotten when you didn't text"])


@pytest.mark.parametrize(("before", "expected"), [
    ("you never pick up. I felt so stupid waiting there", {"escaping_blame"}),
    ("where were you? you didn't pick up", set()),  # a plain fact given when asked
])
def test_rules_excuse_after_accusation_unless_asked(coder: RuleCoder, before: str,
                                                    expected: set[str]) -> None:
    assert names(coder, "my phone was in my locker", context=[before]) == expected


def test_rules_transform_walks_order_and_skips_events(coder: RuleCoder) -> None:
    msgs = [
        Message("c", "1", "A", T0, "I feel so alone lately"),
        Message("c", "2", "", T0, "A changed the group name", kind="event"),
        Message("c", "3", "B", T0, "photo.jpg", kind="attachment"),
        Message("c", "4", "B", T0 + timedelta(minutes=2), "whatever"),
    ]
    corpus = coder.transform(Corpus.from_messages(msgs))
    got = [m.annotations["codes"] for m in corpus.iter_messages()]
    assert [c.name for c in got[0]] == ["emotional_truth"]
    assert got[1] == () and got[2] == ()
    assert [c.name for c in got[3]] == ["withdrawal"]


# --- scores, evidence, negation, thresholds, determinism ----------------------------------
def test_rules_codes_carry_scores_evidence_and_rule_ids(coder: RuleCoder) -> None:
    text = "You ALWAYS do this. What is wrong with you?"
    (code,) = coder.code_text(text)
    assert code.name == "criticism" and 0.5 <= code.score <= 1
    assert code.rule_ids and all(r.startswith("criticism.") for r in code.rule_ids)
    assert next(e.text for e in code.evidence).startswith("You ALWAYS")
    assert all(text[e.start : e.end] == e.text for e in code.evidence)


def test_rules_noisy_or_combines_weak_cues(coder: RuleCoder) -> None:
    (code,) = coder.code_text("You always forget. You never even ask.")
    assert code.score == pytest.approx(0.8 if len(code.rule_ids) == 1 else 1 - 0.2 * 0.2, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("I never said you're overreacting", "reframing"),
        ("I'm not saying you always do this", "criticism"),
        ("I can't promise I'll change", "promise"),
        ("I don't understand why that makes sense to you", "validation"),
    ],
)
def test_rules_negation_cancels_negatable_rules(coder: RuleCoder, text: str, code: str) -> None:
    assert code not in names(coder, text)


def test_rules_negation_stops_at_clause_break(coder: RuleCoder) -> None:
    assert "reframing" in names(coder, "no, you're overreacting")


def test_rules_threshold_filters(coder: RuleCoder) -> None:
    text = "I was just tired"  # a weak excuse cue (0.45) alone
    assert names(coder, text) == set()
    assert "escaping_blame" in names(RuleCoder(threshold=0.4).fit(), text)
    assert RuleCoder(threshold=0.99).fit().code_text("You're pathetic.") == ()


def test_rules_output_field_and_params(coder: RuleCoder) -> None:
    c = RuleCoder(output_field="codes.rules", threshold=0.6)
    assert c.get_params() == {
        "threshold": 0.6,
        "rules": None,
        "output_field": "codes.rules",
        "use_context": True,
    }
    corpus = c.fit_transform(convo(("A", "You're pathetic.")))
    msg = corpus.conversations[0].messages[0]
    assert "codes" not in msg.annotations and msg.annotations["codes.rules"][0].name == "contempt"


def test_rules_transform_needs_an_explicit_fit() -> None:
    with pytest.raises(NotFittedError, match="^E060: RuleCoder"):
        RuleCoder().transform(convo(("A", "I can't do this anymore")))
    corpus = RuleCoder().fit().transform(convo(("A", "I can't do this anymore")))
    assert corpus.conversations[0].messages[0].code_names == {"breaking_point"}


def test_rules_deterministic(coder: RuleCoder) -> None:
    texts = [t for ts in POSITIVE.values() for t in ts]
    first = [coder.code_text(t) for t in texts]
    fresh = RuleCoder().fit()
    again = [fresh.code_text(t) for t in texts]
    assert first == again


def test_rules_custom_rules_only() -> None:
    rows = [
        {
            "id": "bid.tea",
            "code": "bid",
            "phrases": ["(fancy|want) (a|some)? tea"],
            "score": 0.9,
            "note": "test",
        }
    ]
    c = RuleCoder(rules=rows).fit()
    assert [x.name for x in c.code_text("Fancy a tea?")] == ["bid"]
    assert c.code_text("You always do this") == ()


_FRAGMENTS = st.sampled_from(
    [
        " you always ",
        " I'm sorry, but ",
        " fine. ",
        " I feel alone ",
        " kill myself ",
        "\n",
        " you're overreacting ",
        " I’m not ",
        " ur never here ",
        " k ",
        "🙄",
        "  ",
        "?!",
        "é",
    ]
) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.!?'’😀🙄\n\tIYOUAEN", max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=8).map("".join))
def test_rules_evidence_offsets_are_exact(text: str) -> None:
    for code in _HYP_CODER.code_text(text, context=["I feel so alone"]):
        assert 0 <= code.score <= 1
        for ev in code.evidence:
            assert text[ev.start : ev.end] == ev.text and ev.start < ev.end


_HYP_CODER = RuleCoder().fit()
