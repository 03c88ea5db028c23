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

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
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


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    by_source: dict[str, list[dict]] = defaultdict(list)
    with (HERE / "cache" / "utterances.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["source"] in ("movie_dialogs", "movie_dialogs_test"):
                by_source[row["source"]].append(row)
    train = _split(_windows(by_source["movie_dialogs"], TRAIN_UTTERANCES, rng), 6)
    test = _split(_windows(by_source["movie_dialogs_test"], TEST_UTTERANCES, rng), 2)
    out = {f"M{i + 1}": rows for i, rows in enumerate(train)}
    out.update({f"H{i + 1}": rows for i, rows in enumerate(test)})
    second = rng.sample([r for c in test for r in c], 150) + rng.sample(
        [r for c in train for r in c], 150)
    rng.shuffle(second)
    out["S"] = second
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in chunks().items():
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps({"id": r["id"], "source": r["source"], "context": r["context"],
                                     "speaker": r["speaker"], "text": r["text"]},
                                    ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
