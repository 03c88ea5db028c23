"""Agreement between the first and the blind second coding of real utterances (data/real/labels).

Run from the repository root: ``python3 data/real/agreement.py`` (needs heard installed: it
scores with ``heard.coding.evaluate``, the harness ``heard eval`` uses, with the first pass as
rows and the second as columns). Needs no text: the labels are keyed by utterance id.
"""

from __future__ import annotations

import json
from pathlib import Path

from heard.coding import evaluate

LABELS = Path(__file__).resolve().parent / "labels"


def _read(path: Path) -> dict[str, set[str]]:
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip())
    return {r["id"]: set(r["codes"]) for r in rows}


def _compare(title: str, first: dict[str, set[str]], second: dict[str, set[str]]) -> None:
    ids = sorted(i for i in second if i in first)
    sources = sorted({i.split(":", 1)[0] for i in ids})
    print(f"{title}: first coding (rows) against the blind second coding (columns): {len(ids)} "
          f"utterances from {len(sources)} sources ({', '.join(sources)})")
    result = evaluate([first[i] for i in ids], [second[i] for i in ids],
                      groups=[i.rsplit(":", 1)[0] for i in ids])
    print(result.as_text())


def main() -> int:
    first: dict[str, set[str]] = {}
    for path in sorted(LABELS.glob("pass1*.jsonl")):
        first.update(_read(path))
    seconds = {path.stem: _read(path) for path in sorted(LABELS.glob("pass2*.jsonl"))}
    for name, second in seconds.items():
        _compare(name, first, second)
        print()
    _compare("all second passes", first,
             {i: codes for second in seconds.values() for i, codes in second.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
