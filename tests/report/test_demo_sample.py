"""The embedded demo conversation with its safety message (`heard demo --safety`): valid canonical
JSONL that exercises the whole loop and every code. The default demo: tests/cli/test_demo.py."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import pytest

import heard
from heard.coding import codebook
from heard.model import FIELDS
from heard.samples import demo_path


@pytest.fixture(scope="module")
def records() -> list[dict]:
    lines = demo_path("safety").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_demo_sample_is_canonical_jsonl(records):
    assert 250 <= len(records) <= 450
    for r in records:
        assert set(r) <= set(FIELDS)
        assert {"conversation_id", "message_id", "sender", "timestamp", "text", "kind"} <= set(r)
        assert r["kind"] in ("text", "attachment")
        assert r["text"].strip()
    ids = [r["message_id"] for r in records]
    assert len(ids) == len(set(ids))
    corpus = heard.load(demo_path("safety"))
    assert len(corpus) == len(records)
    assert sorted(corpus.senders) == ["Dan", "Maya"]


def test_demo_sample_spans_weeks_in_increasing_time(records):
    times = [datetime.fromisoformat(r["timestamp"]) for r in records]
    assert all(t.tzinfo is not None and t.utcoffset() is not None for t in times)
    assert all(a < b for a, b in itertools.pairwise(times))
    assert (times[-1] - times[0]).days >= 7 * 8
    assert len({r["conversation_id"] for r in records}) >= 30


def _first(corpus: heard.Corpus, code: str) -> int:
    return next(i for i, m in enumerate(corpus.iter_messages()) if m.has(code))


@pytest.fixture(scope="module", params=["hand codes", "rules"])
def demo_analysis(request):
    """The story as the project coded it by hand, and as heard's own coder reads it."""
    if request.param == "hand codes":
        corpus = request.getfixturevalue("rkit").demo_gold_corpus()
        return heard.analyze(corpus, given_codes=True, dynamics=False)
    return heard.analyze(heard.load(demo_path("safety")), dynamics=False)


def test_demo_sample_reaches_every_code(demo_analysis):
    found = {n for m in demo_analysis.corpus.iter_messages() for n in m.code_names}
    assert set(codebook().names) <= found


def test_demo_sample_has_the_loop_a_heard_bid_and_the_long_arc(demo_analysis):
    p = demo_analysis.patterns
    assert len(p.full_loops) >= 1
    assert any(r.outcome == "heard" for r in p.reaches)
    assert any(r.outcome == "landed" for r in p.repairs)
    assert any(r.outcome == "ignored" for r in p.repairs)
    assert any(c.length >= 3 for c in p.chases)
    corpus = demo_analysis.corpus
    crisis = _first(corpus, "breaking_point")
    assert any(i > crisis for i, m in enumerate(corpus.iter_messages()) if m.has("promise"))
    # the relapse: another full loop after the promise
    promise = _first(corpus, "promise")
    order = {m.message_id: i for i, m in enumerate(corpus.iter_messages())}
    assert any(order[lp.reach_id] > promise for lp in p.full_loops)
    # both partners reach, defend and hold: the symmetry shows
    counts = demo_analysis.code_counts()
    for sender in ("Dan", "Maya"):
        assert sum(counts[sender].get(c, 0) for c in codebook().codes_in("hold")) >= 2
        assert sum(counts[sender].get(c, 0) for c in codebook().codes_in("defend")) >= 2


def test_demo_sample_triggers_safety_mode_once(demo_analysis):
    s = demo_analysis.safety
    assert s.triggered
    assert len(s.findings) == 1
    assert s.findings[0].category == "self-harm"
