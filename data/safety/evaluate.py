"""Recall and false alarms of a coding engine's ``safety_risk`` on the safety probe sets.

Run from the repository root: ``python data/safety/evaluate.py [dev|test] [--engine NAME]``.
Prints, per kind of danger, how many messages the engine flags, and how many of the messages
without danger it flags anyway. See ``data/safety/README.md`` for what the sets are and why
only ``dev`` may be read while writing rules.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from heard.coding import default_engine, make_engine
from heard.model import Corpus, Message

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("split", nargs="?", default="test", choices=["dev", "test"])
    ap.add_argument("--engine", default=default_engine().key)
    args = ap.parse_args()
    rows = [json.loads(line) for line in (HERE / f"{args.split}.jsonl").open(encoding="utf-8")]
    messages = []
    t = datetime(2026, 1, 1, tzinfo=UTC)
    for k, row in enumerate(rows):
        if row.get("context"):  # the message it answers, from the other person
            messages.append(Message(f"p{k}", f"p{k}-0", "Other", t, row["context"]))
            t += timedelta(minutes=1)
        messages.append(Message(f"p{k}", f"p{k}-1", "Writer", t, row["text"]))
        t += timedelta(minutes=1)
    coded = make_engine(args.engine).fit().transform(Corpus.from_messages(messages))
    flagged = {m.message_id for m in coded.iter_messages()
               if any(c.name == "safety_risk" for c in m.annotations.get("codes", ()))}
    found, total, alarms = Counter(), Counter(), 0
    for k, row in enumerate(rows):
        hit = f"p{k}-1" in flagged
        if row["danger"]:
            total[row["kind"]] += 1
            found[row["kind"]] += hit
        else:
            alarms += hit
    safe = sum(not r["danger"] for r in rows)
    print(f"{args.split}: engine {args.engine}, {len(rows)} messages")
    for kind in sorted(total):
        print(f"  {kind:22} {found[kind]:3}/{total[kind]}")
    print(f"  recall {sum(found.values())}/{sum(total.values())} = "
          f"{sum(found.values()) / sum(total.values()):.3f}; "
          f"false alarms {alarms}/{safe} = {alarms / safe:.3f}")


if __name__ == "__main__":
    main()
