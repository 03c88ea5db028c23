"""Bad arguments are refused before any work, each with one numbered line: option values at
parse time, a closed standard input, a file name that is not UTF-8, an oversized context file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heard.cli import main
from heard.samples import demo_path

DEMO = str(demo_path())
MISSING = "no-such-export.jsonl"  # reading it would be E001: a parse-time refusal comes first


@pytest.mark.parametrize("argv", [
    ["analyze", MISSING, "--permutations", "-5"],
    ["analyze", MISSING, "--permutations", "1.5"],
    ["analyze", MISSING, "--permutations", "1000000"],
    ["analyze", MISSING, "--gap-hours", "nan"],
    ["analyze", MISSING, "--gap-hours", "0"],
    ["analyze", MISSING, "--gap-hours", "-1"],
    ["analyze", MISSING, "--reply-window-hours", "soon"],
    ["analyze", MISSING, "--burst-minutes", "-1"],
    ["analyze", MISSING, "--burst-minutes", "inf"],
    ["analyze", MISSING, "--min-n", "0"],
    ["analyze", MISSING, "--min-n", "-1"],
    ["analyze", MISSING, "--seed", "-1"],
    ["analyze", MISSING, "--max-chars", "0"],
    ["analyze", MISSING, "--encoding", "no-such-codec"],
    ["analyze", MISSING, "--engine", "llm", "--llm-timeout", "0"],
    ["analyze", MISSING, "--engine", "nope"],
    ["analyze", MISSING, "--date-order", "DDD"],
    ["import", MISSING, "--max-chars", "-3"],
    ["batch", MISSING, "-o", "out", "--date-order", "DDD"],
    ["batch", MISSING, "-o", "out", "--encoding", "no-such-codec"],
    ["batch", MISSING, "-o", "out", "--me", "Ana"],  # many couples: no one person is "me"
    ["code", MISSING, "--llm-timeout", "nan"],
    ["simulate", MISSING, "--runs", "0"],
    ["simulate", MISSING, "--runs", "1000000000"],
    ["simulate", MISSING, "--turns", "0"],
    ["simulate", MISSING, "--seed", "-2"],
    ["demo", "--permutations", "-1"],
    ["eval", MISSING, "--seed", "x"],
    ["train", "--seed", "-1"],
    ["serve", "--port", "0"],
    ["serve", "--port", "70000"],
    ["serve", "--max-upload-mb", "-1"],
    ["forget", "0"],
    ["forget", "x"],
    ["analyze"],
    ["nonsense"],
])
def test_bad_option_values_are_refused_at_parse_time(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.startswith("heard: error: E031: ") and err.count("\n") == 1, err
    assert "E001" not in err and "internal error" not in err


def test_good_option_values_still_pass(tmp_path: Path, cli) -> None:
    status, _, err = cli("analyze", DEMO, "--no-dynamics", "--permutations",
                         "0", "--gap-hours", "inf", "--min-n", "3", "--burst-minutes", "0",
                         "--seed", "7", "-o", str(tmp_path / "r.html"))
    assert status == 0, err


def _heard(*args: str, shell_suffix: str = "") -> subprocess.CompletedProcess[str]:
    cmd = " ".join([f'"{sys.executable}"', "-m", "heard", *args]) + shell_suffix
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("args", [("import", "-"), ("code",), ("check", "-")])
def test_closed_stdin_is_a_numbered_error(args: tuple[str, ...]) -> None:
    proc = _heard(*args, shell_suffix=" <&-")
    assert proc.returncode == 2, proc.stderr
    assert "E035" in proc.stderr and "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr


def test_a_file_name_that_is_not_utf8_is_refused_with_a_number(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.jsonl"
    with open(name, "wb") as f:
        f.write(Path(DEMO).read_bytes())
    for argv in ([b"import", name], [b"import", DEMO.encode(), b"-o", name + b".out"],
                 [b"analyze", name, b"--no-dynamics"]):
        proc = subprocess.run([sys.executable.encode(), b"-m", b"heard", *argv],
                              capture_output=True, timeout=120, check=False)
        err = proc.stderr.decode("utf-8")
        assert proc.returncode == 2 and "E036" in err and "caf\ufffd" in err, err
        assert "Traceback" not in err


def test_context_file_is_bounded(tmp_path: Path, cli) -> None:
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"x" * (3 << 20))  # one 3 MB line: read no further than 1 MB
    status, _, err = cli("check", "hello", "--context-file", str(huge))
    # 3 MiB, said in the same MB (of 1,048,576 bytes) as the limit and the app
    assert status == 2 and "E037" in err and "3 MB" in err and "1 MB" in err
    many = tmp_path / "many.txt"
    many.write_text("ok\n" * 201, "utf-8")
    status, _, err = cli("check", "hello", "--context-file", str(many))
    assert status == 2 and "E037" in err and "201 messages" in err
    long = tmp_path / "long.txt"
    long.write_text("y" * 20_001 + "\n", "utf-8")
    status, _, err = cli("check", "hello", "--context-file", str(long))
    assert status == 2 and "E037" in err
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    status, _, err = cli("check", "hello", "--context-file", str(binary))
    assert status == 2 and "E508" in err
    status, _, err = cli("check", "hello", "--context-file", str(tmp_path))
    assert status == 2 and "E508" in err
    fine = tmp_path / "fine.txt"
    fine.write_text("you never listen\nI do listen\n", "utf-8")
    status, _, err = cli("check", "hello", "--context-file", str(fine))
    assert status == 0, err


@pytest.mark.parametrize(("data", "problem"), [(b"\xff\xfe not text", "is not UTF-8 text"),
                                               (b"x" * ((1 << 20) + 1), "more than 1 MB")])
def test_check_from_stdin_is_bounded_and_utf8(data: bytes, problem: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "heard", "check", "-"], input=data,
                          capture_output=True, timeout=120, check=False)
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and "E039" in err and problem in err, err


@pytest.mark.parametrize("argv", [["forget", "3"], ["forget", "--all"], ["forget", "--list"],
                                  ["serve", "--no-browser"]])
def test_a_data_dir_that_is_a_file_is_a_numbered_error(argv: list[str], tmp_path: Path,
                                                       cli) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    status, _, err = cli(*argv, "--data-dir", str(not_a_folder))
    assert status == 2 and "E510" in err and "internal error" not in err
    assert not_a_folder.read_text() == "x"


def test_a_model_folder_without_an_engine_is_the_default_engines_not_ignored(
        tmp_path: Path) -> None:
    import argparse

    from heard.cli._options import chosen_engine
    from heard.coding import default_engine

    assert chosen_engine(argparse.Namespace(engine=None, model=None)) is None
    coder = chosen_engine(argparse.Namespace(engine=None, model=str(tmp_path)))
    assert type(coder).__name__ == default_engine().class_name
    assert str(coder.get_params()["model"]) == str(tmp_path)
