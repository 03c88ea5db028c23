"""What the labeling waves' scripts (``sample_wave*.py``) share: reading the built utterances
and the labels, and writing chunks the way the annotators got them. Stdlib only."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def utterances_by_source(sources: Iterable[str]) -> dict[str, list[dict]]:
    """The built utterances (``cache/utterances.jsonl``) of ``sources``, in file order."""
    wanted = set(sources)
    out: dict[str, list[dict]] = defaultdict(list)
    with (HERE / "cache" / "utterances.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["source"] in wanted:
                out[row["source"]].append(row)
    return out


def labeled_ids(*names: str) -> set[str]:
    """Ids of every utterance in the named label files (``labels/``)."""
    ids: set[str] = set()
    for name in names:
        text = (HERE / "labels" / name).read_text(encoding="utf-8")
        ids.update(json.loads(line)["id"] for line in text.splitlines())
    return ids


def write_chunks(argv: list[str], chunks: Callable[[], dict[str, list[dict]]], doc: str) -> int:
    """The scripts' command line: ``OUT_DIR`` gets one JSONL file per chunk."""
    if len(argv) != 1:
        print(doc.split("\n\n")[1].strip(), file=sys.stderr)
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
