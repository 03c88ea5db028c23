"""The seventh labeling wave's chunks (2026-12-05, thirteenth session): a new held-out source,
real talk between two people who know each other (``sbcsae_dyads``), labeled whole.

Run from the repository root after ``real_data.py build``::

    python3 data/real/sample_wave7.py OUT_DIR

It writes ``V1``–``V20``: every utterance of the source, in conversation order, cut into
twenty chunks of about 300 consecutive turns (a chunk's first turns keep their context), and
``S1``/``S2``, a blind second pass of 150 utterances each, drawn after the chunks. No model
has coded this text, and none may train or tune on it. Stdlib only.
"""

from __future__ import annotations

import random
import sys

from waves import utterances_by_source, write_chunks

SEED = 20261207
CHUNKS, SECOND_PASS = 20, 300


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    rows = utterances_by_source(("sbcsae_dyads",))["sbcsae_dyads"]
    size = -(-len(rows) // CHUNKS)
    out = {f"V{i + 1}": rows[i * size:(i + 1) * size] for i in range(CHUNKS)}
    second = rng.sample(rows, SECOND_PASS)
    out["S1"], out["S2"] = second[:SECOND_PASS // 2], second[SECOND_PASS // 2:]
    return out


if __name__ == "__main__":
    raise SystemExit(write_chunks(sys.argv[1:], chunks, __doc__))
