"""Long messages coded whole and a stretch at a time (heard.coding._long, _spans.stretches)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from heard.coding import EncoderCoder, TrainedCoder
from heard.coding._combine import _long_messages
from heard.coding._features import MessageInput
from heard.coding._long import LongMessages
from heard.coding._spans import stretches
from heard.model import Code, Evidence

LETTER = ("My husband and I have been married for ten years and I love him. Lately he yells at "
          "me whenever I ask for help with the kids, and I feel like I am doing everything "
          "alone in this house. He says I am overreacting. I can't do this anymore and I am "
          "thinking of leaving him. What should I do?")


def _texts(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    return [text[a:b] for a, b in spans]


def test_stretches_pack_whole_sentences_up_to_the_word_limit() -> None:
    text = 'We talked. "He never listens." Then he left!! Why?\nI waited up all night for him'
    assert _texts(text, stretches(text, 5)) == [
        'We talked. "He never listens."', "Then he left!! Why?", "I waited up all night for him"]
    # a sentence longer than the limit is a stretch of its own, never cut mid-sentence
    assert _texts(text, stretches(text, 2)) == [
        "We talked.", '"He never listens."', "Then he left!!", "Why?",
        "I waited up all night for him"]
    assert stretches("", 5) == [] and stretches(" ... ", 5) == []


def test_only_messages_over_the_word_limit_with_two_stretches_are_cut() -> None:
    long = LongMessages(min_words=10, stretch_words=8)
    assert long.spans("Home in 20, want anything from the shop on the way?") == []
    one_sentence = "and then he said that I was the one who never ever listens to anybody"
    assert long.spans(one_sentence) == []
    text = "I waited all night for you to call me back. You never called. I'm done with this."
    assert _texts(text, long.spans(text)) == [
        "I waited all night for you to call me back.", "You never called. I'm done with this."]


def _keyword_coder(seen: list[MessageInput]):
    """Codes "done" as breaking_point and "never" as criticism, scored by how short the text is
    (so a stretch outscores the whole), and records every row it was given."""
    def code_inputs(rows: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        seen.extend(rows)
        out = []
        for row in rows:
            codes = []
            for word, name in (("never", "criticism"), ("done", "breaking_point")):
                at = row.text.find(word)
                if at >= 0:
                    score = round(min(1.0, 5 / len(row.text.split())), 4)
                    codes.append(Code(name, score, (Evidence(at, at + len(word), word),)))
            out.append(tuple(codes))
        return out
    return code_inputs


def test_codes_of_stretches_join_the_whole_with_their_evidence_placed_in_the_whole() -> None:
    long = LongMessages(min_words=10, stretch_words=8)
    text = "I waited all night for you to call me back. You never called. I'm done with this."
    rule = Code("criticism", 0.4, (Evidence(text.index("never"), text.index("never") + 5,
                                            "never"),), ("crit-never",))
    rows = [MessageInput(text=text, rule_scores={"criticism": 0.4}, rule_codes=(rule,),
                         prev_text="where were you?"),
            MessageInput(text="ok", prev_text="home at 7")]
    seen: list[MessageInput] = []
    coded = long.code(_keyword_coder(seen), rows)
    # the two messages, then the long one's two stretches, in one call
    assert [r.text for r in seen] == [text, "ok", "I waited all night for you to call me back.",
                                      "You never called. I'm done with this."]
    first, second = seen[2], seen[3]
    assert first.rule_codes == () and first.rule_scores == {}
    assert second.rule_scores == {"criticism": 0.4}
    assert second.rule_codes[0].evidence[0].text == "never"
    assert second.rule_codes[0].evidence[0].start == second.text.index("never")
    assert second.prev_text == "where were you?"  # each stretch answers what the whole answers
    whole, short = coded
    assert short == ()
    assert [c.name for c in whole] == ["criticism", "breaking_point"]  # codebook order
    for c in whole:
        assert c.score == 0.7143  # the stretch's score, higher than the whole's 0.2941
        e = c.evidence[0]
        assert text[e.start:e.end] == e.text


def test_a_message_coded_whole_keeps_its_higher_score_and_evidence() -> None:
    long = LongMessages(min_words=3, stretch_words=2)
    text = "never. x y z. done"

    def code_inputs(rows: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        return [(Code("criticism", 0.9 if r.text == text else 0.5,
                      (Evidence(0, 5, r.text[:5]),)),) for r in rows]

    (codes,) = long.code(code_inputs, [MessageInput(text=text)])
    assert [(c.name, c.score, c.evidence[0].start) for c in codes] == [("criticism", 0.9, 0)]


@pytest.fixture(scope="module")
def trained() -> tuple[TrainedCoder, TrainedCoder]:
    return TrainedCoder(long_messages=False).fit(), TrainedCoder(long_messages=True).fit()


def test_trained_coder_finds_what_lies_in_a_stretch_and_loses_nothing(trained) -> None:
    off, on = trained
    context = ["How are things at home?"]
    without = {c.name for c in off.code_text(LETTER, context=context)}
    found = on.code_text(LETTER, context=context)
    assert without <= {c.name for c in found}
    for c in found:
        assert c.evidence and all(LETTER[e.start:e.end] == e.text for e in c.evidence)


def test_short_messages_are_coded_the_same_with_or_without_stretches(trained) -> None:
    off, on = trained
    for text in ("You never listen to me.", "home in 20", "I feel so alone lately, can we talk?"):
        assert off.code_text(text) == on.code_text(text)


def test_the_packaged_setting_decides_when_the_coder_is_not_told(trained) -> None:
    long, engines = _long_messages()
    assert long.min_words > long.stretch_words > 0
    default = TrainedCoder().fit()
    expected = trained[1] if "trained" in engines else trained[0]
    assert default.code_text(LETTER) == expected.code_text(LETTER)


def test_encoder_reads_past_its_64_tokens_in_stretches() -> None:
    off = EncoderCoder(threads=1, long_messages=False).fit()
    on = EncoderCoder(threads=1, long_messages=True).fit()
    without = {c.name for c in off.code_text(LETTER)}
    found = on.code_text(LETTER)
    assert without <= {c.name for c in found}
    # "I can't do this anymore and I am thinking of leaving him" lies past the 64 tokens
    assert "breaking_point" in {c.name for c in found} - without
    for c in found:
        assert all(LETTER[e.start:e.end] == e.text for e in c.evidence)
