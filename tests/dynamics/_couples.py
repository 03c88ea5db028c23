"""Tiny simulated couples for the dynamics tests (codes planted with known probabilities)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from heard.model import Code, Corpus, Message

BASE = {"complaint": 0.15, "withdrawal": 0.1, "emotional_truth": 0.15, "validation": 0.1,
        "over_explaining": 0.1, "proving_wrong": 0.1}


def make_corpus(n_convs: int = 60, turns: int = 16, *, plant: float = 0.0, seed: int = 0,
                names: tuple[str, str] = ("Ana", "Ben"), split: float = 0.0) -> Corpus:
    """Alternating turns; with ``plant`` > 0, Ana's complaint raises Ben's next withdrawal to
    ``plant`` (one direction only). ``split`` > 0 splits turns into several messages."""
    rng = np.random.default_rng(seed)
    msgs: list[Message] = []
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for c in range(n_convs):
        cid = f"c{c}"
        start = t0 + timedelta(days=c)
        prev: set[str] = set()
        for i in range(turns):
            sender = names[i % 2]
            codes = {k for k, p in BASE.items() if rng.random() < p}
            if plant and sender == names[1]:
                codes.discard("withdrawal")
                p = plant if "complaint" in prev else BASE["withdrawal"]
                if rng.random() < p:
                    codes.add("withdrawal")
            parts = 2 if split and rng.random() < split else 1
            for j in range(parts):
                mine = codes if j == parts - 1 else set()
                m = Message(cid, f"{cid}-{i}-{j}", sender, start + timedelta(minutes=2 * i + j),
                            "text")
                m.annotations["codes"] = tuple(Code(k, 1.0) for k in sorted(mine))
                msgs.append(m)
            prev = codes
    return Corpus.from_messages(msgs)
