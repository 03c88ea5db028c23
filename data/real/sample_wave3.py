"""The third labeling wave's chunks (2026-12-03): which utterances, in which chunk.

Run from the repository root after ``real_data.py build``::

    python3 data/real/sample_wave3.py OUT_DIR

It writes ``C1``/``C2`` (``counsel_chat``), ``W1``/``W2`` (``twitter_sarcasm``), ``E1``–``E3``
(``esconv``) and ``S`` (the blind second pass) as JSONL chunks of ``id``, ``source``,
``speaker``, ``text`` and ``context``, exactly as the annotators got them. Utterances that the
first two waves labeled are left out. Stdlib only.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict

from waves import labeled_ids, utterances_by_source, write_chunks

SEED = 20261203
ESCONV_WINDOWS, WINDOW = 72, 25


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    labeled = labeled_ids("pass1.jsonl")  # the first two waves
    by_source = utterances_by_source(("counsel_chat", "twitter_sarcasm", "esconv"))
    # the first wave's rule for counsel_chat: questions of at most 600 characters
    counsel = [r for r in by_source["counsel_chat"]
               if r["id"] not in labeled and len(r["text"]) <= 600]
    twitter = [r for r in by_source["twitter_sarcasm"] if r["id"] not in labeled]
    rng.shuffle(twitter)
    twitter = twitter[:600]
    conversations: dict[str, list[dict]] = defaultdict(list)
    for r in by_source["esconv"]:
        conversations[r["conversation"]].append(r)
    free = [c for c, rows in conversations.items() if not any(r["id"] in labeled for r in rows)]
    rng.shuffle(free)
    windows: list[list[dict]] = []
    for conv in free:
        rows = conversations[conv]
        if len(rows) < 10:
            continue
        start = rng.randrange(0, max(1, len(rows) - WINDOW + 1))
        windows.append(rows[start:start + WINDOW])
        if len(windows) == ESCONV_WINDOWS:
            break
    half = len(counsel) // 2
    out = {"C1": counsel[:half], "C2": counsel[half:], "W1": twitter[:300], "W2": twitter[300:]}
    for i in range(3):
        out[f"E{i + 1}"] = [r for w in windows[i * 24:(i + 1) * 24] for r in w]
    second = rng.sample(counsel, 150) + rng.sample(twitter, 150)
    rng.shuffle(second)
    out["S"] = second
    return out


if __name__ == "__main__":
    raise SystemExit(write_chunks(sys.argv[1:], chunks, __doc__))
