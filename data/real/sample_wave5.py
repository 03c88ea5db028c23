"""The fifth labeling wave's chunks (2026-12-04): more film dialogue, from exchanges no earlier
wave drew from.

Run from the repository root after ``real_data.py build``::

    python3 data/real/sample_wave5.py OUT_DIR

It writes ``N1``–``N4`` (``movie_dialogs``, for training) and ``G1``/``G2``
(``movie_dialogs_test``, held out), drawn as the fourth wave drew (``sample_wave4.py``) with
another seed, leaving out every exchange that holds a labeled line, and ``S``, the blind second
pass (150 held-out and 150 training lines of those chunks, drawn after them: the chunks above
are the same with or without it). Stdlib only.
"""

from __future__ import annotations

import random
import sys

from sample_wave4 import _split, _windows, second_pass
from waves import labeled_ids, utterances_by_source, write_chunks

SEED = 20261205
TRAIN_UTTERANCES, TEST_UTTERANCES = 1400, 800


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    # the waves before this one (a glob would now find this wave's own labels too)
    labeled = labeled_ids("pass1.jsonl", "pass1_wave3.jsonl", "pass1_wave4.jsonl")
    by_source = utterances_by_source(("movie_dialogs", "movie_dialogs_test"))
    for source, rows in by_source.items():
        taken = {r["conversation"] for r in rows if r["id"] in labeled}
        by_source[source] = [r for r in rows if r["conversation"] not in taken]
    train = _split(_windows(by_source["movie_dialogs"], TRAIN_UTTERANCES, rng), 4)
    test = _split(_windows(by_source["movie_dialogs_test"], TEST_UTTERANCES, rng), 2)
    out = {f"N{i + 1}": rows for i, rows in enumerate(train)}
    out.update({f"G{i + 1}": rows for i, rows in enumerate(test)})
    out["S"] = second_pass(train, test, rng)
    return out


if __name__ == "__main__":
    raise SystemExit(write_chunks(sys.argv[1:], chunks, __doc__))
