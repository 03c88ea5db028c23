"""The eighth labeling wave's chunks (2026-12-05, fourteenth session): real spoken talk among
people who know each other, on the train side (``sbcsae_groups``: the Santa Barbara recordings
that are not the held-out two-person ones).

Run from the repository root after ``real_data.py build``::

    python3 data/real/sample_wave8.py OUT_DIR

It writes ``G1``–``G14``: from each of fourteen recordings (drawn with the seed among those
where a second speaker holds at least a tenth of the words, so that it is talk and not a
lecture), 300 consecutive turns from a drawn start; and ``S1``/``S2``, a blind second pass of
150 of those turns each. Stdlib only.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict

from waves import utterances_by_source, write_chunks

SEED = 20261208
CHUNKS, SIZE, SECOND_PASS = 14, 300, 300
SECOND_SPEAKER_SHARE = 0.1


def _talk(rows: list[dict]) -> bool:
    words: dict[str, int] = defaultdict(int)
    for r in rows:
        words[r["speaker"]] += len(r["text"].split())
    ranked = [*sorted(words.values(), reverse=True), 0]
    return len(rows) >= SIZE and ranked[1] >= SECOND_SPEAKER_SHARE * sum(ranked)


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    recordings: dict[str, list[dict]] = defaultdict(list)
    for r in utterances_by_source(("sbcsae_groups",))["sbcsae_groups"]:
        recordings[r["conversation"]].append(r)
    names = sorted(name for name, rows in recordings.items() if _talk(rows))
    out = {}
    for i, name in enumerate(rng.sample(names, CHUNKS)):
        rows = recordings[name]
        start = rng.randrange(len(rows) - SIZE + 1)
        out[f"G{i + 1}"] = rows[start:start + SIZE]
    second = rng.sample([r for rows in out.values() for r in rows], SECOND_PASS)
    out["S1"], out["S2"] = second[:SECOND_PASS // 2], second[SECOND_PASS // 2:]
    return out


if __name__ == "__main__":
    raise SystemExit(write_chunks(sys.argv[1:], chunks, __doc__))
