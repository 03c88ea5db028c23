from __future__ import annotations

import json
from datetime import UTC, datetime

from heard.model import (
    Code,
    Corpus,
    Evidence,
    Message,
    Reaction,
    Source,
    message_to_record,
    record_to_json,
)


def test_message_codes_default_empty() -> None:
    m = Message("c", "c-1", "Sam", None, "hi")
    assert m.codes == () and m.code_names == frozenset()
    assert m.is_human


def test_message_event_is_not_human() -> None:
    assert not Message("c", "c-1", "", None, "Alex joined", kind="event").is_human
    assert not Message("c", "c-1", "Alex", None, "changed number", kind="event").is_human


def test_message_has_codes() -> None:
    m = Message("c", "c-1", "Sam", None, "I miss you")
    m.annotations["codes"] = (Code("emotional_truth", 0.9, (Evidence(0, 10, "I miss you"),)),)
    assert m.has("bid", "emotional_truth") and not m.has("bid")


def test_record_roundtrip_fields_and_extra() -> None:
    ts = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    m = Message("c", "c-1", "Sam", ts, "hey", reactions=(Reaction("❤️", "Alex"),),
                source=Source(format="csv", path="x.csv", line=2), extra={"mood": "ok"})
    m.annotations["codes"] = (Code("bid", 0.71234, (Evidence(0, 3, "hey"),)),)
    rec = message_to_record(m)
    assert list(rec)[:10] == ["conversation_id", "message_id", "sender", "timestamp", "text",
                              "kind", "reply_to", "reactions", "edited", "source"]
    assert rec["mood"] == "ok"
    assert rec["codes"] == [{"code": "bid", "score": 0.7123,
                             "evidence": [{"start": 0, "end": 3, "text": "hey"}]}]
    assert json.loads(record_to_json(rec))["timestamp"] == "2026-01-02T03:04:05+00:00"


def test_record_without_codes_has_no_codes_key() -> None:
    assert "codes" not in message_to_record(Message("c", "c-1", "Sam", None, "hi"))


def test_corpus_groups_in_input_order() -> None:
    msgs = [Message(cid, f"{cid}{i}", s, None, "x")
            for i, (cid, s) in enumerate([("b", "A"), ("a", "B"), ("b", "B"), ("a", "A")])]
    corpus = Corpus.from_messages(msgs)
    assert [c.id for c in corpus.conversations] == ["b", "a"]
    assert [m.message_id for m in corpus.conversations[0]] == ["b0", "b2"]
    assert corpus.senders == ["A", "B"] and len(corpus) == 4


def test_corpus_selector() -> None:
    msgs = [Message("a", "1", "A", None, "x"), Message("a", "2", "", None, "e", kind="event")]
    corpus = Corpus.from_messages(msgs)
    assert [m.message_id for m in corpus.iter_messages(lambda m: m.is_human)] == ["1"]
