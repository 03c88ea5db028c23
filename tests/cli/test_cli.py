"""The CLI contract: commands, output shapes, exit status, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from heard.cli import main

ROWS = [
    {"conversation_id": "c1", "message_id": "m1", "sender": "Maya",
     "timestamp": "2026-02-01T20:00:00+00:00",
     "text": "I felt really alone at the party last night", "mood": "low"},
    {"conversation_id": "c1", "message_id": "m2", "sender": "Theo",
     "timestamp": "2026-02-01T20:02:00+00:00", "text": "that's not what happened"},
    {"conversation_id": "c1", "message_id": "m3", "sender": "Maya",
     "timestamp": "2026-02-01T20:03:00+00:00",
     "text": "I'm not trying to attack you, I just mean I missed you"},
    {"conversation_id": "c1", "message_id": "m4", "sender": "Theo",
     "timestamp": "2026-02-01T20:05:00+00:00", "text": "ok. want to grab dinner friday?"},
]


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return path


def test_cli_import_writes_canonical_jsonl(chat: Path, tmp_path: Path, cli) -> None:
    out_path = tmp_path / "out.jsonl"
    status, out, err = cli("import", str(chat), "-o", str(out_path))
    assert status == 0 and out == ""
    assert "as jsonl: 4 messages" in err
    records = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [r["message_id"] for r in records] == ["m1", "m2", "m3", "m4"]
    assert records[0]["mood"] == "low" and records[0]["kind"] == "text"


def test_cli_import_to_stdout(chat: Path, cli) -> None:
    status, out, _ = cli("import", str(chat), "-o", "-")
    assert status == 0 and len(out.splitlines()) == 4


def test_cli_import_refuses_to_overwrite_input(chat: Path, cli) -> None:
    before = chat.read_text()
    status, _, err = cli("import", str(chat), "-o", str(chat))
    assert status == 2 and "E022" in err and chat.read_text() == before


def test_cli_code_contract(chat: Path, cli) -> None:
    status, out, _ = cli("code", str(chat), "--format", "jsonl")
    assert status == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["message_id"] for r in records] == ["m1", "m2", "m3", "m4"]
    for record, row in zip(records, ROWS, strict=True):
        for key, value in row.items():
            assert record[key] == value
        assert isinstance(record["codes"], list)
        for c in record["codes"]:
            assert set(c) == {"code", "score", "evidence"} and 0 <= c["score"] <= 1
            for ev in c["evidence"]:
                assert record["text"][ev["start"]:ev["end"]] == ev["text"]
    names = {c["code"] for r in records for c in r["codes"]}
    assert "emotional_truth" in {c["code"] for c in records[0]["codes"]}
    assert "proving_wrong" in names and "over_explaining" in names


def test_cli_code_reads_stdin(chat: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "heard", "code", "-"],
                            input=chat.read_bytes(), capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.decode().splitlines()) == 4


def test_cli_analyze_writes_html_and_json(chat: Path, tmp_path: Path, cli) -> None:
    html, js = tmp_path / "r.html", tmp_path / "a.json"
    status, out, _ = cli("analyze", str(chat), "-o", str(html), "--json", str(js),
                         "--permutations", "50")
    assert status == 0, out
    assert html.read_text().lstrip().lower().startswith("<!doctype html>")
    data = json.loads(js.read_text())
    for key in ("overview", "safety", "patterns", "code_counts", "long_arc", "sequential"):
        assert key in data
    assert data["overview"]["messages"] == 4
    assert str(html.resolve()) in out.replace("\n", "")


def test_cli_analyze_given_codes(tmp_path: Path, cli) -> None:
    rows = [dict(r, codes=[]) for r in ROWS]
    rows[0]["codes"] = [{"code": "bid", "score": 1.0, "evidence": []}]
    rows[1]["codes"] = [{"code": "withdrawal", "score": 1.0, "evidence": []}]
    path = tmp_path / "coded.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    js = tmp_path / "a.json"
    status, _, _ = cli("analyze", str(path), "--given-codes", "--no-dynamics",
                       "-o", str(tmp_path / "r.html"), "--json", str(js))
    assert status == 0
    data = json.loads(js.read_text())
    assert data["coder"] == "given"
    assert data["code_counts"]["Maya"] == {"bid": 1}
    assert data["code_counts"]["Theo"] == {"withdrawal": 1}


def test_cli_given_codes_missing(chat: Path, tmp_path: Path, cli) -> None:
    status, _, err = cli("analyze", str(chat), "--given-codes",
                         "-o", str(tmp_path / "r.html"))
    assert status == 2 and "E019" in err and len(err.strip().splitlines()) == 1


def test_cli_given_codes_unknown(tmp_path: Path, cli) -> None:
    rows = [dict(r, codes=[{"code": "sulking"}]) for r in ROWS]
    path = tmp_path / "coded.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    status, _, err = cli("analyze", str(path), "--given-codes",
                         "-o", str(tmp_path / "r.html"))
    assert status == 2 and "E020" in err and "sulking" in err


def test_cli_codebook(cli) -> None:
    status, out, _ = cli("codebook", "--json")
    data = json.loads(out)
    assert status == 0 and len(data["codes"]) == 24 and len(data["families"]) == 8
    status, out, _ = cli("codebook", "counter_blame")
    assert status == 0 and out.startswith("counter_blame (defend)")
    status, _, err = cli("codebook", "sulking")
    assert status == 2 and "E030" in err


BAD_INPUTS = {
    "empty.jsonl": b"",
    "binary.bin": bytes(range(256)) * 4,
    "bad.jsonl": b'{"sender": "A", "text": "x"}\n{oops\n',
    "missing.jsonl": b'{"sender": "A", "text": "x"}\n{"sender": "B"}\n',
    "latin1.jsonl": b'{"sender": "A", "text": "x"}\n{"sender": "B", "text": "caf\xe9"}\n',
    "one_sender.txt": b"Ana: hi\nAna: anyone?\n",
    "notes.txt": b"shopping list\neggs\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BAD_INPUTS[name])
    result = subprocess.run([sys.executable, "-m", "heard", "analyze", str(path),
                             "-o", str(tmp_path / "r.html")],
                            capture_output=True, text=True, check=False, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("heard: error: E"), result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_cli_missing_file_and_usage_errors(tmp_path: Path, cli) -> None:
    status, _, err = cli("analyze", str(tmp_path / "nope.txt"))
    assert status == 2 and "E001" in err
    with pytest.raises(SystemExit) as exc:
        main(["analyze"])
    assert exc.value.code == 2
    status, _, err = cli("import", str(tmp_path / "x"), "--tz", "Mars/Base")
    assert status == 2


def test_cli_bad_tz_is_one_line(chat: Path, cli) -> None:
    status, _, err = cli("import", str(chat), "--tz", "Mars/Base")
    assert status == 2 and "E016" in err and "Mars/Base" in err


def test_cli_huge_message_warns_with_count(tmp_path: Path, cli) -> None:
    rows = [*ROWS, {"sender": "Maya", "text": "\n".join(["x"] * 10_000) + "y" * 50_000}]
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    status, _, err = cli("import", str(path), "-o", str(tmp_path / "o.jsonl"))
    assert status == 0 and "skipped 1: line 5" in err and "--max-chars" in err


def test_cli_demo_writes_report(tmp_path: Path, monkeypatch, cli) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = cli("demo", "--json", "demo.json", "--permutations", "50")
    assert status == 0
    report = tmp_path / "heard-report.html"
    assert report.exists() and str(report) in out.replace("\n", "")
    data = json.loads((tmp_path / "demo.json").read_text())
    found = {c for counts in data["code_counts"].values() for c in counts}
    # every code but safety_risk: that one is in `heard demo --safety` only (tests/cli/test_demo.py)
    assert len(found) == 23 and "safety_risk" not in found


def test_cli_console_script_version() -> None:
    result = subprocess.run([sys.executable, "-m", "heard", "--version"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("heard ")


def test_cli_simulate_with_changes(tmp_path: Path, cli) -> None:
    from heard.samples import demo_path

    out = tmp_path / "sim.json"
    status, text, _ = cli("simulate", str(demo_path()), "--repair", "Maya=1.5",
                          "--soften", "Dan=0.5", "--lasting", "Dan=0.5", "--runs", "50",
                          "--turns", "20", "--json", str(out))
    assert status == 0
    data = json.loads(out.read_text())
    assert data["status"] == "ok"
    assert set(data["opening"]) == {"Dan", "Maya"}
    assert data["as_fitted"]["n_runs"] == 50 and data["changed"]["n_turns"] == 20
    assert len(data["changes"]) == 3 and "months" in data
    assert "end on a hard note" in text and "not a prediction" in text


def test_cli_simulate_bad_change(cli) -> None:
    from heard.samples import demo_path

    status, _, err = cli("simulate", str(demo_path()), "--repair", "Maya")
    assert status == 2 and "E030" in err and "--repair" in err


@pytest.mark.slow
def test_cli_demo_long_arc(tmp_path: Path, monkeypatch, cli) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, _ = cli("demo", "--long-arc", "--json", "long.json",
                       "--permutations", "20")
    assert status == 0
    data = json.loads((tmp_path / "long.json").read_text())
    assert len(data["long_arc"]["crises"]) == 4
    models = {sender: {fam: r["model"] for fam, r in fams.items()}
              for sender, fams in data["long_arc"]["partners"].items()}
    assert models["Jon"]["hold"] == "pulse"  # planted: a decaying pulse, nothing lasting
    assert data["safety"]["triggered"] is False
