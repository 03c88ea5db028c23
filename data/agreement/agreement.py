"""Agreement between the corpus's labels and a blind second coder, on a sample of conversations.

Run from the repository root: ``python3 data/agreement/agreement.py`` (needs heard installed:
it scores with ``heard.coding.evaluate``, the harness ``heard eval`` uses). The sample and how
it was coded are described in ``data/agreement/README.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from heard.coding import evaluate

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT.parent / "corpus"


def main() -> int:
    labels: dict[str, set[str]] = {}
    for path in sorted(CORPUS.glob("batch_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            labels[row["message_id"]] = set(row["gold"])
    second = [json.loads(line) for line in
              (ROOT / "second_coder.jsonl").read_text(encoding="utf-8").splitlines()]
    missing = [r["message_id"] for r in second if r["message_id"] not in labels]
    if missing:
        print(f"data/agreement/second_coder.jsonl: {len(missing)} message id(s) not in the "
              f"corpus, first {missing[0]!r}; the sample must come from data/corpus",
              file=sys.stderr)
        return 2
    first = [labels[r["message_id"]] for r in second]
    result = evaluate(first, [set(r["codes"]) for r in second])
    n_conv = len({r["message_id"].rsplit("-", 1)[0] for r in second})
    print(f"corpus labels (rows) against the blind second coder (columns), {n_conv} "
          "conversations")
    print(result.as_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
