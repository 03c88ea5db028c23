"""Hand-coded corpora for the report tests, analyzed for real with ``given_codes=True``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

import heard
from heard._analysis import Analysis
from heard.model import Code, Corpus, Evidence, Message
from heard.samples import demo_path

FIXED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
DATA = Path(__file__).parent / "data"

#: (sender, text, {code: [phrase, ...]}) — evidence is where each phrase occurs in the text.
LOOP_CHAT = [
    ("Ana", "can we talk tonight? I felt alone at the party", {"bid": ["can we talk tonight?"],
     "emotional_truth": ["I felt alone at the party"]}),
    ("Jo<i>", "that's not what happened & you know it",
     {"proving_wrong": ["that's not what happened"]}),
    ("Ana", "I'm not trying to attack you, I just mean <script>alert(1)</script>",
     {"over_explaining": ["I'm not trying to attack you, I just mean"]}),
    ("Ana", "are you mad at me?", {"tracking": ["are you mad at me?"]}),
    ("Ana", "forget it. it doesn't matter.", {"hardening": ["forget it. it doesn't matter."]}),
    ("Jo<i>", "see? you're the one who's distant",
     {"counter_blame": ["you're the one who's distant"]}),
]
HELD_CHAT = [
    ("Jo<i>", "rough day, can we talk?", {"bid": ["can we talk?"]}),
    ("Ana", "of course, what happened? that makes sense", {"curiosity": ["what happened?"],
     "validation": ["that makes sense"]}),
    ("Jo<i>", "I'm sorry I was short earlier, can we start over?",
     {"repair_attempt": ["can we start over?"]}),
    ("Ana", "yes. I was short too, that's on me", {"ownership": ["I was short too, that's on me"]}),
    ("Jo<i>", "dinner at 7?", {}),
]
SAFETY_LINE = ("Jo<i>", "you'll regret it if you leave",
               {"safety_risk": ["you'll regret it if you leave"]})


def build(chats: list[list[tuple[str, str, dict[str, list[str]]]]]) -> list[Message]:
    """One conversation per chat, a day apart, messages three minutes apart."""
    out: list[Message] = []
    start = datetime(2026, 2, 1, 20, 0, tzinfo=UTC)
    for day, chat in enumerate(chats):
        for i, (sender, text, codes) in enumerate(chat):
            ts = start + timedelta(days=day, minutes=3 * i)
            m = Message(f"c{day + 1}", f"c{day + 1}-{i + 1}", sender, ts, text)
            given = []
            for name, phrases in codes.items():
                ev = []
                for p in phrases:
                    at = text.index(p)
                    ev.append(Evidence(at, at + len(p), p))
                given.append(Code(name, 1.0, tuple(ev)))
            m.annotations["codes"] = tuple(given)
            out.append(m)
    return out


def analyze(messages: list[Message]) -> Analysis:
    return heard.analyze(Corpus.from_messages(messages), given_codes=True, dynamics=False,
                         generated_at=FIXED)


@pytest.fixture
def plain_analysis():
    return analyze(build([LOOP_CHAT, HELD_CHAT]))


@pytest.fixture
def safety_analysis():
    return analyze(build([LOOP_CHAT, [*HELD_CHAT, SAFETY_LINE]]))


def demo_gold_corpus() -> Corpus:
    """The demo sample with the project's hand codes (tests/report/data/demo_gold_codes.json)."""
    gold = json.loads((DATA / "demo_gold_codes.json").read_text(encoding="utf-8"))
    corpus = heard.load(demo_path("safety"))
    for m in corpus.iter_messages():
        items = gold.get(m.message_id, [])
        m.annotations["codes"] = tuple(
            Code(c["code"], 1.0, tuple(Evidence(s, e, m.text[s:e]) for s, e in c["evidence"]))
            for c in items
        )
    return corpus


@pytest.fixture(scope="session")
def rkit() -> SimpleNamespace:
    """The helpers above, for test modules (conftest modules are not importable by name)."""
    return SimpleNamespace(build=build, analyze=analyze, demo_gold_corpus=demo_gold_corpus,
                           LOOP_CHAT=LOOP_CHAT, HELD_CHAT=HELD_CHAT, SAFETY_LINE=SAFETY_LINE,
                           FIXED=FIXED)
