"""A broken couple is a row of the errors table, and the run goes on; bad use is one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import couple_records, write_corpus, write_jsonl

from heard.batch import Settings, part_done, run_batch
from heard.cli import main
from heard.errors import HeardError, OptionError
from heard.model import Summary

FAST = Settings(engine="rules", dynamics=False)


def _line(cid: str, sender: str, text: str, n: int, **extra: str) -> dict:
    return {"conversation_id": cid, "message_id": f"{cid}-{n}", "sender": sender, "text": text,
            "timestamp": f"2024-03-01T10:{n:02d}:00+00:00", **extra}


def test_batch_errors_table_names_each_broken_couple(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    good = couple_records(0, 30) + couple_records(1, 30)
    solo = [_line("solo", "Ana", f"hello {i}", i) for i in range(3)]
    trio = [_line("trio", s, "hi", i) for i, s in enumerate(["Ana", "Bo", "Cy"])]
    badkind = [_line("badkind", "Ana", "hi", 0), _line("badkind", "Bo", "yes", 1, kind="x")]
    lines = [json.dumps(r) for r in good[:30] + solo + trio + badkind]
    broken_at = len(lines) + 2  # a line that is not JSON, inside couple-000001's run
    tail = [json.dumps(r) for r in good[30:]]
    lines += [tail[0], "{not json", *tail[1:]]
    src = tmp_path / "study.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_batch(src, tmp_path / "out", workers=0, part_messages=20, settings=FAST)

    errors = {e["couple_id"]: e for e in
              pq.read_table(tmp_path / "out" / "errors.parquet").to_pylist()}
    assert set(errors) == {"solo", "trio", "badkind", "couple-000001"}
    assert errors["solo"]["code"] == "E013"
    assert errors["trio"]["code"] == "E014"
    assert errors["badkind"]["code"] == "E007"
    assert f"line {len(good[:30]) + 3 + 3 + 2}:" in errors["badkind"]["message"]
    assert errors["couple-000001"]["code"] == "E005"
    assert f"line {broken_at} " in errors["couple-000001"]["message"]
    assert result.analyzed == 1 and result.failed == 4
    couples = pq.read_table(tmp_path / "out" / "couples").column("couple_id").to_pylist()
    assert couples == ["couple-000000"]
    assert {r["part"] for r in errors.values()} <= set(range(result.parts))
    # the summary names them too: a table of couple and numbered error, in text and HTML
    summary = result.summary()
    assert isinstance(summary, Summary) and str(summary) == summary.as_text()
    assert "1 analyzed, 4 in the errors table." in summary.as_text()
    assert re.search(r"^solo +E013: ", summary.as_text(), re.M)
    assert '<th scope="row">trio</th><td>E014: ' in summary.as_html()


def test_batch_broken_export_in_a_folder_goes_on(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    folder = tmp_path / "exports"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", couple_records(0, 30))
    (folder / "b.jsonl").write_text('{"sender": "Ana", "text": "hi"}\n{"sender": 3}\n',
                                    encoding="utf-8")
    write_jsonl(folder / "c.jsonl", couple_records(2, 30))
    chat = "".join(f"0{d}/03/2024, 1{d}:0{d} - {who}: {text}\n" for d, (who, text) in enumerate(
        [("Sam", "are you coming home?"), ("Alex", "yes, in ten"), ("Sam", "ok, love you"),
         ("Alex", "love you too"), ("Sam", "you never call back"), ("Alex", "I'm sorry")], 1))
    (folder / "alex-sam").mkdir()  # a WhatsApp export folder: one couple of the study
    (folder / "alex-sam" / "WhatsApp Chat with Alex.txt").write_text(chat, encoding="utf-8")
    result = run_batch(folder, tmp_path / "out", workers=0, settings=FAST)
    errors = pq.read_table(tmp_path / "out" / "errors.parquet").to_pylist()
    assert [(e["couple_id"], e["code"]) for e in errors] == [("b", "E006")]
    assert result.analyzed == 3
    got = pq.read_table(tmp_path / "out" / "couples").to_pylist()
    assert {c["couple_id"]: c["messages"] for c in got} == {
        "a": len(couple_records(0, 30)), "c": len(couple_records(2, 30)),
        "alex-sam": 6}
    wa = pq.read_table(tmp_path / "out" / "messages",
                       filters=[("couple_id", "=", "alex-sam")]).to_pylist()
    assert [m["text"] for m in wa][-1] == "I'm sorry"
    assert {m["conversation_id"] for m in wa} == {"alex-sam"}


def test_batch_a_failing_part_is_e606_and_resume_finishes(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import heard.batch._run as run_module

    src = write_corpus(tmp_path / "s.jsonl", 3, messages=30)
    real = run_module.run_part

    def flaky(part, settings, out):  # a full disk, say, on part 1 only
        if part.number == 1:
            raise OSError("No space left on device")
        return real(part, settings, out)

    monkeypatch.setattr(run_module, "run_part", flaky)
    with pytest.raises(HeardError, match="E606: part 1 .*No space left"):
        run_batch(src, tmp_path / "out", workers=0, part_messages=1, settings=FAST)
    assert part_done(tmp_path / "out", 0) and part_done(tmp_path / "out", 2)
    assert not part_done(tmp_path / "out", 1)
    monkeypatch.setattr(run_module, "run_part", real)
    result = run_batch(src, tmp_path / "out", workers=0, part_messages=1, settings=FAST,
                       resume=True)
    assert result.ran == 1 and result.analyzed == 3


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["batch", *args])
    return code, capsys.readouterr().err


def test_batch_cli_runs_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_corpus(tmp_path / "s.jsonl", 2, messages=30)
    code, err = _cli(capsys, str(src), "-o", str(tmp_path / "o"), "--workers", "0",
                     "--engine", "rules", "--no-dynamics")
    assert code == 0, err
    assert "2 couples" in err and "2 analyzed" in err and str(tmp_path / "o") in err


@pytest.mark.parametrize("case", ["E601", "E602", "E602-overwrite", "E603", "E603-changed",
                                  "E605"])
def test_batch_cli_errors_are_one_numbered_line(case: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = write_corpus(tmp_path / "s.jsonl", 2, messages=20)
    out = tmp_path / "o"
    args = [str(src), "-o", str(out), "--workers", "0", "--engine", "rules", "--no-dynamics"]
    if case == "E601":
        (tmp_path / "chat.txt").write_text("Ana: hi\nBo: hello\n", encoding="utf-8")
        args[0] = str(tmp_path / "chat.txt")
    elif case.startswith("E602"):
        out.mkdir()
        (out / "notes.txt").write_text("mine", encoding="utf-8")
        args += ["--overwrite"] if case.endswith("overwrite") else []
    elif case == "E603":
        args += ["--resume"]
    elif case == "E603-changed":
        assert _cli(capsys, *args)[0] == 0
        with src.open("a", encoding="utf-8") as f:
            f.write(json.dumps(_line("late", "Ana", "one more", 1)) + "\n")
        args += ["--resume"]
    elif case == "E605":
        pq.write_table(pa.table({"conversation_id": ["a"], "sender": ["Ana"]}),
                       tmp_path / "m.parquet")
        args[0] = str(tmp_path / "m.parquet")
    code, err = _cli(capsys, *args)
    assert code == 2
    number = case.split("-")[0]
    assert err.startswith(f"heard: error: {number}: ") and err.count("\n") == 1, err
    if number == "E602":
        assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"



@pytest.mark.parametrize("option", [("--workers", "-1"), ("--workers", "two"),
                                    ("--part-messages", "0"), ("--permutations", "0"),
                                    ("--permutations", "1000000"), ("--seed", "-1"),
                                    ("--max-chars", "0"), ("--encoding", "klingon")])
def test_batch_cli_bad_values_are_refused_at_parse_time(
        option: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_corpus(tmp_path / "s.jsonl", 2, messages=20)
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(src), "-o", str(tmp_path / "o"), *option])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.startswith(f"heard: error: E031: argument {option[0]}: ") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()  # refused before any work


@pytest.mark.parametrize(("kwargs", "option"), [({"workers": -1}, "--workers"),
                                                ({"part_messages": 0}, "--part-messages")])
def test_batch_api_bad_values_are_e607(kwargs: dict, option: str, tmp_path: Path) -> None:
    src = write_corpus(tmp_path / "s.jsonl", 2, messages=20)
    with pytest.raises(OptionError, match=f"^E607: {option} must be "):
        run_batch(src, tmp_path / "o", settings=FAST, **{"part_messages": 20, **kwargs})


def test_batch_cli_without_dask_says_what_to_install(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    src = write_corpus(tmp_path / "s.jsonl", 1, messages=10)
    code, err = _cli(capsys, str(src), "-o", str(tmp_path / "o"))
    assert code == 2
    assert err.startswith("heard: error: E600: ") and "pip install 'heard[batch]'" in err


def test_batch_cli_unreachable_scheduler_is_e604(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = write_corpus(tmp_path / "s.jsonl", 1, messages=10)
    code, err = _cli(capsys, str(src), "-o", str(tmp_path / "o"), "--engine", "rules",
                     "--scheduler", f"tcp://127.0.0.1:{port}")
    assert code == 2
    assert err.startswith(f"heard: error: E604: can't reach the Dask scheduler at "
                          f"'tcp://127.0.0.1:{port}'"), err
