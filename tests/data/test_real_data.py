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


def test_transcripts_keep_conversations_of_two_apart_and_join_a_speakers_units_into_turns(
        real_data: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Intonation units in a row by one speaker are one turn, in time order; laughter and
    unclear words are said in brackets, a turn of laughter alone is dropped; a conversation
    where a third speaker holds more than 2% of the words, or the second less than 20%, is
    left out, and is what the train-side source of the other recordings reads."""
    monkeypatch.setattr(real_data, "CACHE", tmp_path)
    source = next(s for s in real_data.sources() if s["id"] == "sbcsae_dyads")
    assert source["role"] == "test"
    folder = tmp_path / "src" / source["repo"].replace("/", "+") / "ASR"
    folder.mkdir(parents=True)
    lines = [
        "SBC900 1 0001_ANN 0.0 1.0 So you told ~Bob,",
        "SBC900 1 0002_JOE 2.5 3.0 <LAUGH>",
        "SBC900 1 0001_ANN 1.0 2.0 without asking me?",
        "SBC900 1 0002_JOE 3.0 4.0 I <UNK> did <LAUGH> .",
        "SBC900 1 0001_ANN 4.0 5.0 <L2 Sí L2> you did.",
        "SBC901 1 0003_SUE 0.0 1.0 one two three four five six seven eight nine ten",
        "SBC901 1 0004_MAX 1.0 2.0 one",
        "SBC902 1 0005_A 0.0 1.0 one two three four",
        "SBC902 1 0006_B 1.0 2.0 one two three four",
        "SBC902 1 0007_C 2.0 3.0 one two",
    ]
    (folder / "original.stm").write_text("\n".join(lines) + "\n", encoding="utf-8")
    utts = list(real_data._sbcsae(source))
    assert [(u["speaker"], u["text"]) for u in utts] == [
        ("ANN", "So you told Bob, without asking me?"),
        ("JOE", "I (unclear) did (laughs) ."),
        ("ANN", "Sí you did.")]
    assert [u["id"] for u in utts] == ["sbcsae_dyads:SBC900:0", "sbcsae_dyads:SBC900:1",
                                       "sbcsae_dyads:SBC900:2"]
    assert utts[2]["context"] == [{"speaker": "ANN", "text": "So you told Bob, without asking me?"},
                                  {"speaker": "JOE", "text": "I (unclear) did (laughs) ."}]
    others = next(s for s in real_data.sources() if s["id"] == "sbcsae_groups")
    assert others["role"] == "train" and others["paths"] == source["paths"]
    groups = list(real_data._sbcsae(others))
    # the two recordings the test source leaves out, and nothing of the one it keeps
    assert sorted({u["conversation"] for u in groups}) == ["sbcsae_groups:SBC901",
                                                            "sbcsae_groups:SBC902"]
    assert [u["speaker"] for u in groups if u["conversation"].endswith("SBC902")] == [
        "A", "B", "C"]


def test_every_source_has_a_reader_and_a_licence(real_data: ModuleType) -> None:
    for source in real_data.sources():
        assert source["id"] in real_data.READERS, source["id"]
        assert source["licence"].strip() and source["role"] in ("train", "test")


def test_film_lines_become_exchanges_and_held_out_films_stay_apart(
        real_data: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Consecutive line numbers of one film are one exchange (the file lists them newest first);
    a gap or another film starts a new one; the test films are read only by the test source."""
    monkeypatch.setattr(real_data, "CACHE", tmp_path)
    train = next(s for s in real_data.sources() if s["id"] == "movie_dialogs")
    test = next(s for s in real_data.sources() if s["id"] == "movie_dialogs_test")
    assert train["test_movies"] == test["test_movies"] and test["role"] == "test"
    held = train["test_movies"][0]
    kept = next(f"m{i}" for i in range(100) if f"m{i}" not in train["test_movies"])
    folder = tmp_path / "src" / train["repo"].replace("/", "+")
    folder.mkdir(parents=True)
    sep = " +++$+++ "
    rows = [("L12", "u1", kept, "ANNA", "You never  called."),
            ("L11", "u2", kept, "TOM", "Where were you?"),
            ("L10", "u1", kept, "ANNA", "Out."),
            ("L5", "u2", kept, "TOM", "Caf\xe9?"),
            ("L7", "u9", held, "RAY", "Get out.")]
    (folder / "movie_lines.txt").write_bytes(
        "\n".join(sep.join(r) for r in rows).encode("latin-1") + b"\nbroken line\n")
    utts = list(real_data._movies(train))
    assert [(u["id"], u["speaker"], u["text"]) for u in utts] == [
        (f"movie_dialogs:{kept}-L5:0", "TOM", "Café?"),
        (f"movie_dialogs:{kept}-L10:0", "ANNA", "Out."),
        (f"movie_dialogs:{kept}-L10:1", "TOM", "Where were you?"),
        (f"movie_dialogs:{kept}-L10:2", "ANNA", "You never called.")]
    assert utts[-1]["context"] == [{"speaker": "ANNA", "text": "Out."},
                                   {"speaker": "TOM", "text": "Where were you?"}]
    assert [u["id"] for u in real_data._movies(test)] == [f"movie_dialogs_test:{held}-L7:0"]


def test_a_wave_script_leaves_out_earlier_waves_not_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sample_wave5.py rebuilds the chunks its annotators got: an exchange an earlier wave
    labeled is left out, one this wave labeled is drawn again."""
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    import sample_wave5
    import waves

    monkeypatch.setattr(waves, "HERE", tmp_path)
    (tmp_path / "cache").mkdir()
    (tmp_path / "labels").mkdir()
    rows = []
    for conv, source in (("m1-L10", "movie_dialogs"), ("m2-L10", "movie_dialogs"),
                         ("m3-L10", "movie_dialogs_test")):
        for k in range(6):
            rows.append({"id": f"{source}:{conv}:{k}", "source": source,
                         "conversation": f"{source}:{conv}", "speaker": "AB"[k % 2],
                         "text": f"line {k}", "context": []})
    (tmp_path / "cache" / "utterances.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))
    label = '{"id": "%s", "codes": [], "annotator": "x"}\n'
    (tmp_path / "labels" / "pass1.jsonl").write_text("")
    (tmp_path / "labels" / "pass1_wave3.jsonl").write_text("")
    (tmp_path / "labels" / "pass1_wave4.jsonl").write_text(label % "movie_dialogs:m1-L10:0")
    (tmp_path / "labels" / "pass1_wave5.jsonl").write_text(label % "movie_dialogs:m2-L10:3")
    drawn = {r["conversation"] for chunk in sample_wave5.chunks().values() for r in chunk}
    assert drawn == {"movie_dialogs:m2-L10", "movie_dialogs_test:m3-L10"}
