"""data/real/real_data.py reads each source's own format into utterances with stable ids."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "data" / "real" / "real_data.py"


@pytest.fixture(scope="module")
def real_data() -> ModuleType:
    spec = importlib.util.spec_from_file_location("real_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cmu_dog_keeps_who_wrote_each_turn(real_data: ModuleType, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Turns in a row by one person stay theirs; each answers the turn before, ids are stable."""
    monkeypatch.setattr(real_data, "CACHE", tmp_path)
    source = next(s for s in real_data.sources() if s["id"] == "cmu_dog")
    folder = tmp_path / "src" / source["repo"].replace("/", "+") / "Conversations" / "valid"
    folder.mkdir(parents=True)
    history = [{"uid": "user2", "text": "Have you seen this one?"},
               {"uid": "user1", "text": "no"},
               {"uid": "user1", "text": "was it  good?"},
               {"uid": "user2", "text": "   "},
               {"uid": "user2", "text": "Tom Hanks is great in it"}]
    (folder / "00a8fb146b5aed15592c.json").write_text(json.dumps({"history": history}))
    utts = list(real_data._cmu_dog({**source, "paths": ["Conversations/valid"]}))
    assert [(u["speaker"], u["text"]) for u in utts] == [
        ("B", "Have you seen this one?"), ("A", "no"), ("A", "was it good?"),
        ("B", "Tom Hanks is great in it")]
    assert utts[0]["id"] == "cmu_dog:valid-00a8fb146b5a:0"
    assert utts[-1]["id"] == "cmu_dog:valid-00a8fb146b5a:4"
    assert {u["conversation"] for u in utts} == {"cmu_dog:valid-00a8fb146b5a"}
    assert utts[2]["context"][-1] == {"speaker": "A", "text": "no"}


def test_every_source_has_a_reader_and_a_licence(real_data: ModuleType) -> None:
    for source in real_data.sources():
        assert source["id"] in real_data.READERS, source["id"]
        assert source["licence"].strip() and source["role"] in ("train", "test")
