"""The fifth labeling wave's chunks (2026-12-04): more film dialogue, from exchanges no earlier
wave drew from.

Run from the repository root after ``real_data.py build``::

    python3 data/real/sample_wave5.py OUT_DIR

It writes ``N1``–``N4`` (``movie_dialogs``, for training) and ``G1``/``G2``
(``movie_dialogs_test``, held out), drawn as the fourth wave drew (``sample_wave4.py``) with
another seed, leaving out every exchange that holds a labeled line. Stdlib only.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from sample_wave4 import HERE, _split, _windows

SEED = 20261205
TRAIN_UTTERANCES, TEST_UTTERANCES = 1400, 800


def _labeled() -> set[str]:
    ids: set[str] = set()
    for path in (HERE / "labels").glob("pass1*.jsonl"):
        ids.update(json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines())
    return ids


def chunks() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    labeled = _labeled()
    by_source: dict[str, list[dict]] = defaultdict(list)
    with (HERE / "cache" / "utterances.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["source"] in ("movie_dialogs", "movie_dialogs_test"):
                by_source[row["source"]].append(row)
    for source, rows in by_source.items():
        taken = {r["conversation"] for r in rows if r["id"] in labeled}
        by_source[source] = [r for r in rows if r["conversation"] not in taken]
    train = _split(_windows(by_source["movie_dialogs"], TRAIN_UTTERANCES, rng), 4)
    test = _split(_windows(by_source["movie_dialogs_test"], TEST_UTTERANCES, rng), 2)
    out = {f"N{i + 1}": rows for i, rows in enumerate(train)}
    out.update({f"G{i + 1}": rows for i, rows in enumerate(test)})
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
