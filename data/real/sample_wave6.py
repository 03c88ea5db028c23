"""The sixth labeling wave's chunks (2026-12-04, twelfth session): training text only, where
the held-out sources' moves are learned.

Run from the repository root after ``real_data.py build``::

    python3 data/real/sample_wave6.py OUT_DIR

It writes ``R1``–``R6`` (every ``reddit_sarcasm`` response no wave labeled, shuffled),
``F1``–``F10`` (``movie_dialogs`` windows drawn as the fourth wave drew, from exchanges with no
labeled line), ``T1``/``T2`` (unlabeled ``sms`` messages) and ``S``, a blind second pass of 150
lines of those chunks, drawn after them (the chunks are the same with or without it). No
held-out source is drawn. Stdlib only.
"""

from __future__ import annotations

import random
import sys

from sample_wave4 import _split, _windows
from waves import labeled_ids, utterances_by_source, write_chunks

SEED = 20261206
FILM_UTTERANCES, SMS_MESSAGES, CHUNK = 3000, 600, 300


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    labeled = labeled_ids("pass1.jsonl", "pass1_wave3.jsonl", "pass1_wave4.jsonl",
                          "pass1_wave5.jsonl")
    by_source = utterances_by_source(("reddit_sarcasm", "movie_dialogs", "sms"))
    reddit = [r for r in by_source["reddit_sarcasm"] if r["id"] not in labeled]
    rng.shuffle(reddit)
    taken = {r["conversation"] for r in by_source["movie_dialogs"] if r["id"] in labeled}
    films = [r for r in by_source["movie_dialogs"] if r["conversation"] not in taken]
    films_split = _split(_windows(films, FILM_UTTERANCES, rng), FILM_UTTERANCES // CHUNK)
    sms = [r for r in by_source["sms"] if r["id"] not in labeled]
    sms = rng.sample(sms, SMS_MESSAGES)
    out = {f"R{i + 1}": reddit[i * CHUNK:(i + 1) * CHUNK]
           for i in range((len(reddit) + CHUNK - 1) // CHUNK)}
    out.update({f"F{i + 1}": rows for i, rows in enumerate(films_split)})
    out.update({f"T{i + 1}": sms[i * CHUNK:(i + 1) * CHUNK] for i in range(SMS_MESSAGES // CHUNK)})
    pool = [r for name, rows in out.items() if name[0] in "RF" for r in rows]
    out["S"] = rng.sample(pool, 150)
    return out


if __name__ == "__main__":
    raise SystemExit(write_chunks(sys.argv[1:], chunks, __doc__))
