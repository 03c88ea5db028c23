"""The fourth labeling wave's chunks (2026-12-04): film dialogue, which utterances, in which chunk.

Run from the repository root after ``real_data.py build``::

    python3 data/real/sample_wave4.py OUT_DIR

It writes ``M1``–``M6`` (``movie_dialogs``, for training), ``H1``/``H2`` (``movie_dialogs_test``,
held out) and ``S`` (the blind second pass) as JSONL chunks of ``id``, ``source``, ``speaker``,
``text`` and ``context``, exactly as the annotators got them. Windows of up to 20 consecutive
lines are drawn at random from exchanges between exactly two characters of at least 6 lines,
so argument and everyday talk come at the rate the films have them. Stdlib only.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict

from waves import utterances_by_source, write_chunks

SEED = 20261204
WINDOW, MIN_LINES = 20, 6
TRAIN_UTTERANCES, TEST_UTTERANCES = 2100, 800


def _windows(rows: list[dict], target: int, rng: random.Random) -> list[list[dict]]:
    conversations: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        conversations[r["conversation"]].append(r)
    two = [c for c, turns in conversations.items()
           if len(turns) >= MIN_LINES and len({t["speaker"] for t in turns}) == 2]
    rng.shuffle(two)
    out: list[list[dict]] = []
    total = 0
    for conv in two:
        turns = conversations[conv]
        start = rng.randrange(0, max(1, len(turns) - WINDOW + 1))
        out.append(turns[start:start + WINDOW])
        total += len(out[-1])
        if total >= target:
            break
    return out


def _split(windows: list[list[dict]], parts: int) -> list[list[dict]]:
    flat_total = sum(map(len, windows))
    out: list[list[dict]] = [[] for _ in range(parts)]
    i = 0
    for w in windows:
        if len(out[i]) >= flat_total / parts and i < parts - 1:
            i += 1
        out[i].extend(w)
    return out


def second_pass(train: list[list[dict]], test: list[list[dict]], rng: random.Random,
                n: int = 150) -> list[dict]:
    """The blind second pass's chunk: ``n`` held-out and ``n`` training lines of the chunks
    (fewer where a chunk holds fewer), shuffled together."""
    held, kept = [r for c in test for r in c], [r for c in train for r in c]
    second = rng.sample(held, min(n, len(held))) + rng.sample(kept, min(n, len(kept)))
    rng.shuffle(second)
    return second


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    by_source = utterances_by_source(("movie_dialogs", "movie_dialogs_test"))
    train = _split(_windows(by_source["movie_dialogs"], TRAIN_UTTERANCES, rng), 6)
    test = _split(_windows(by_source["movie_dialogs_test"], TEST_UTTERANCES, rng), 2)
    out = {f"M{i + 1}": rows for i, rows in enumerate(train)}
    out.update({f"H{i + 1}": rows for i, rows in enumerate(test)})
    out["S"] = second_pass(train, test, rng)
    return out


if __name__ == "__main__":
    raise SystemExit(write_chunks(sys.argv[1:], chunks, __doc__))
