"""Every output goes through one safe writer (heard._files): a temporary file beside the target,
renamed over regular files only; special files are never replaced; errors are numbered; and no
temporary file is left behind by an error, Ctrl-C or SIGTERM."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from heard._files import open_output, write_output
from heard.errors import InputError
from heard.samples import demo_path

DEMO = str(demo_path())


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("argv", [
    ["import", DEMO, "-o", "{dir}"],
    ["code", DEMO, "-o", "{dir}"],
    ["analyze", DEMO, "--no-dynamics", "--permutations", "0", "-o", "{dir}"],
    ["analyze", DEMO, "--no-dynamics", "--json", "{dir}"],
    ["analyze", DEMO, "--no-dynamics", "--summary-pdf", "{dir}"],
    ["demo", "--permutations", "0", "-o", "{dir}"],
    ["simulate", "--demo", "--runs", "5", "--json", "{dir}"],
])
def test_output_onto_a_folder_is_a_numbered_error(argv: list[str], tmp_path: Path, cli) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    status, _, err = cli(*[a.replace("{dir}", str(folder)) for a in argv])
    assert status == 2 and "E032" in err and "internal error" not in err
    assert list(folder.iterdir()) == [] and _hidden(tmp_path) == []


def test_output_replaces_a_regular_file_only_on_success(tmp_path: Path, cli) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    status, _, _ = cli("import", DEMO, "-o", str(out))
    assert status == 0 and out.read_text().startswith('{"conversation_id"')
    assert _hidden(tmp_path) == []
    # into the input itself: refused, input untouched
    copy = tmp_path / "in.jsonl"
    copy.write_bytes(Path(DEMO).read_bytes())
    status, _, err = cli("import", str(copy), "-o", str(copy))
    assert status == 2 and "E022" in err and copy.read_bytes() == Path(DEMO).read_bytes()


def test_output_through_a_symlink_keeps_the_link(tmp_path: Path, cli) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    status, _, _ = cli("import", DEMO, "-o", str(link))
    assert status == 0 and link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().count("\n") > 200
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "new.jsonl")
    status, _, _ = cli("import", DEMO, "-o", str(dangling))
    assert status == 0 and dangling.is_symlink() and (tmp_path / "new.jsonl").stat().st_size
    assert _hidden(tmp_path) == []


def test_output_onto_a_fifo_is_written_in_place(tmp_path: Path, cli) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    status, _, _ = cli("import", DEMO, "-o", str(fifo))
    reader.join(timeout=30)
    assert status == 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].count(b"\n") > 200
    assert _hidden(tmp_path) == []


def _device(tmp_path: Path, minor: int, name: str) -> Path:
    """/dev/null (minor 3) or /dev/full (7); as root a private node, so that a regression
    could never replace the machine's own device."""
    if os.geteuid() != 0:
        return Path("/dev") / name
    node = tmp_path / name
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except OSError:
        pytest.skip("running as root without the right to make a device node")
    return node


def test_output_onto_dev_null_is_written_in_place(tmp_path: Path, cli) -> None:
    null = _device(tmp_path, 3, "null")
    status, _, _ = cli("import", DEMO, "-o", str(null))
    assert status == 0 and stat.S_ISCHR(os.lstat(null).st_mode)
    status, _, _ = cli("analyze", DEMO, "--no-dynamics", "--permutations", "0",
                       "-o", str(null), "--json", str(null))
    assert status == 0 and stat.S_ISCHR(os.lstat(null).st_mode)


def test_a_full_disk_is_a_numbered_error(tmp_path: Path, cli) -> None:
    full = _device(tmp_path, 7, "full")
    status, _, err = cli("import", DEMO, "-o", str(full))
    assert status == 2 and "E033" in err and stat.S_ISCHR(os.lstat(full).st_mode)
    status, _, err = cli("analyze", DEMO, "--no-dynamics", "--permutations", "0",
                         "-o", str(tmp_path / "r.html"), "--json", str(full))
    assert status == 2 and "E033" in err


@pytest.mark.parametrize("argv", [["import", DEMO], ["codebook"], ["codebook", "--json"],
                                  ["codebook", "criticism"], ["check", "you never listen"],
                                  ["check", "hello", "--json"]])
def test_a_full_disk_on_standard_output_is_a_numbered_error(argv: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "heard", *argv], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "E033" in proc.stderr and "Traceback" not in proc.stderr
    assert "Exception ignored" not in proc.stderr


def test_enospc_while_writing_leaves_the_old_file_and_no_temp(tmp_path: Path,
                                                               monkeypatch) -> None:
    out = tmp_path / "report.html"
    out.write_text("old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputError) as exc:
        write_output(out, b"new report")
    assert exc.value.code == "E033" and out.read_text() == "old"
    assert _hidden(tmp_path) == []


def test_an_error_inside_the_block_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with pytest.raises(ZeroDivisionError), open_output(out) as f:
        f.write("half")
        assert len(_hidden(tmp_path)) == 1  # the temporary file, hidden, beside the target
        1 / 0  # noqa: B018
    assert not out.exists() and _hidden(tmp_path) == []


def test_block_devices_and_sockets_are_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
        with pytest.raises(InputError) as exc:
            write_output(path, b"x")
        assert exc.value.code == "E034" and stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        s.close()


def _big_input(tmp_path: Path, copies: int = 40) -> Path:
    lines = Path(DEMO).read_text("utf-8").splitlines()
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for k in range(copies):
            for line in lines:
                record = json.loads(line)
                record["message_id"] = f"{record['message_id']}-{k}"
                record["conversation_id"] = f"{record['conversation_id']}-{k}"
                f.write(json.dumps(record) + "\n")
    return path


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_write_removes_the_temp_and_keeps_the_old_file(
        signum: int, status: int, tmp_path: Path) -> None:
    big = _big_input(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "out.jsonl"
    out.write_text("old\n")
    # Ctrl-C as at a terminal: a shell starts background jobs with SIGINT ignored, and heard
    # (rightly) leaves an ignored signal ignored, so a suite run in the background would see
    # the import finish instead
    proc = subprocess.Popen([sys.executable, "-m", "heard", "import", str(big), "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 120
        while not _hidden(out_dir):  # wait until it writes its hidden temporary file
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, err
    assert "nothing was overwritten" in err and "Traceback" not in err
    assert _hidden(out_dir) == [] and out.read_text() == "old\n"
