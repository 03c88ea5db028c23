"""Shared helpers of the batch tests: synthetic couples on disk, and an output's bytes."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

pytest.importorskip("pyarrow", reason="heard batch needs pip install 'heard[batch]'")
pytest.importorskip("distributed", reason="heard batch needs pip install 'heard[batch]'")

NAMES = ["Maya", "Jon", "Sam", "Alex", "Ana", "Bo", "Chris", "Dana", "Eli", "Fatima"]


def couple_records(i: int, messages: int, seed: int = 0) -> list[dict]:
    """One synthetic couple (``generate_couple``) as canonical records, ``couple-00000i``."""
    from heard.dynamics import CoupleParams, generate_couple
    from heard.model import message_to_record

    a, b = NAMES[i % len(NAMES)], NAMES[(i + 3) % len(NAMES)]
    rates = CoupleParams().base_rates
    params = CoupleParams(weeks=1, messages_per_week=float(messages), crisis_weeks=(),
                          names=(a, b), seed=seed + i, start=date(2024, 1, 1) + timedelta(i),
                          base_rates={a: rates["Maya"], b: rates["Jon"]})
    cid = f"couple-{i:06d}"
    out = []
    for m in generate_couple(params):
        r = message_to_record(m, with_codes=False)
        r["conversation_id"] = cid
        r["message_id"] = f"{cid}-{r['message_id']}"
        r.pop("source")
        out.append(r)
    return out


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def write_corpus(path: Path, couples: int, messages: int = 40, seed: int = 0) -> Path:
    return write_jsonl(path, [r for i in range(couples)
                              for r in couple_records(i, messages, seed)])


def files_of(out: Path) -> dict[str, bytes]:
    """Every file a batch wrote, by path under ``out`` (what two runs must share byte for byte)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def heard_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "heard", *args]


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("batch-corpus")
