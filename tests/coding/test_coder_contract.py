"""One contract, checked on every coding engine (scikit-learn's ``check_estimator`` in spirit).

``fit`` returns the coder and is required; ``transform`` is repeatable and writes only the key
the coder declares; events and attachments get ``()``; every code is in the codebook and every
evidence span lies inside its message's text. The LLM engine runs against the same fake local
server as its own tests; the embedding engine needs sentence-transformers (``[test-embed]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_llm import FakeServer  # the LLM engine's fake server, on 127.0.0.1

from heard.coding import EmbeddingCoder, EncoderCoder, LLMCoder, RuleCoder, TrainedCoder
from heard.errors import NotFittedError
from heard.model import Corpus, Message, Step, codebook


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


#: engine name -> (a fresh coder, a fit setting and another valid value for it)
ENGINES: dict[str, Callable[[Any], tuple[Step, str, Any]]] = {
    "rules": lambda _: (RuleCoder(), "threshold", 0.7),
    "trained": lambda _: (TrainedCoder(), "max_evidence", 1),
    "encoder": lambda _: (EncoderCoder(threads=1), "use_screen", False),
    "embed": lambda _: (EmbeddingCoder(), "max_evidence", 1),
    "llm": lambda server: (LLMCoder(endpoint=server.url, model="toy"), "temperature", 0.5),
}


@pytest.fixture(params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> tuple[Step, str, Any]:
    if request.param == "embed":
        pytest.importorskip("sentence_transformers", reason="sentence-transformers is not "
                            "installed (pip install -e '.[test-embed]')")
    server = request.getfixturevalue("llm_server") if request.param == "llm" else None
    return ENGINES[request.param](server)


def chat() -> Corpus:
    t0 = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    rows = [
        ("Ana", "I felt so alone at the party last night", "text"),
        ("Jo", "That's not what happened and you know it.", "text"),
        ("Jo", "IMG_0042.jpg", "attachment"),
        ("", "Jo changed the group name", "event"),
        ("Ana", "You always make everything about you.", "text"),
        ("Jo", "I'm sorry, that's on me. Can we start over?", "text"),
        ("Ana", "ok, see you at 7", "text"),
    ]
    return Corpus.from_messages([
        Message("c1", f"c1-{i}", sender, t0 + timedelta(minutes=3 * i), text, kind=kind)
        for i, (sender, text, kind) in enumerate(rows)])


def codes_of(corpus: Corpus, field: str = "codes") -> list[tuple[tuple[str, float], ...]]:
    return [tuple((c.name, c.score) for c in m.annotations.get(field, ()))
            for m in corpus.iter_messages()]


def test_common_fit_returns_the_coder_and_is_required(engine) -> None:
    coder, _, _ = engine
    assert not coder.is_fitted
    with pytest.raises(NotFittedError, match="^E060: "):
        coder.transform(chat())
    assert coder.fit(Corpus()) is coder and coder.is_fitted


def test_common_transform_is_repeatable_and_codes_come_from_the_codebook(engine) -> None:
    coder, _, _ = engine
    coder.fit(Corpus())
    first, again = coder.transform(chat()), coder.transform(chat())
    assert codes_of(first) == codes_of(again)
    names = set(codebook().names)
    assert {n for m in first.iter_messages() for n in m.code_names} <= names


def test_common_only_the_declared_key_is_written(engine) -> None:
    coder, _, _ = engine
    coder.output_field = "codes.mine"
    assert coder.assigns == ("codes.mine",)
    coder.fit(Corpus())
    corpus = coder.transform(chat())
    for m in corpus.iter_messages():
        assert set(m.annotations) == {"codes.mine"}, m.annotations.keys()
    coder.output_field = "codes"  # where results go is not a fit setting
    assert coder.is_fitted and coder.assigns == ("codes",)


def test_common_events_and_attachments_get_no_codes(engine) -> None:
    coder, _, _ = engine
    corpus = coder.fit(Corpus()).transform(chat())
    for m in corpus.iter_messages(lambda m: m.kind != "text" or not m.is_human):
        assert m.annotations["codes"] == ()


def test_common_evidence_lies_inside_the_text(engine) -> None:
    coder, _, _ = engine
    corpus = coder.fit(Corpus()).transform(chat())
    coded = [m for m in corpus.iter_messages() if m.codes]
    assert coded, "the chat holds clear moves; an engine that codes none of them is broken"
    for m in coded:
        for code in m.codes:
            assert 0.0 <= code.score <= 1.0
            assert code.evidence, f"{code.name} on {m.text!r} carries no evidence"
            for ev in code.evidence:
                assert 0 <= ev.start < ev.end <= len(m.text)
                assert m.text[ev.start:ev.end] == ev.text


def test_common_changing_a_fit_setting_needs_fit_again(engine) -> None:
    coder, name, value = engine
    coder.fit(Corpus())
    setattr(coder, name, value)
    assert not coder.is_fitted
    with pytest.raises(NotFittedError):
        coder.transform(chat())
    coder.fit(Corpus()).transform(chat())
