"""Faults with the real thing: a Dask scheduler and two workers as processes, one of them killed
while it runs a part; a batch whose own process is killed, then resumed. Nothing is lost or
doubled, and the tables are byte for byte those of the single-process run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import files_of, heard_cmd, write_corpus

from heard.batch import Settings, part_done, run_batch

pytestmark = pytest.mark.slow

#: Slow enough parts (one couple each, with the dynamics models) that a kill lands mid-run.
SETTINGS = Settings(engine="rules", n_permutations=200)
WAIT = 600.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(what: str, check: Any, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _check_complete(out: Path, src: Path, reference: Path) -> None:
    """Every input message once (ids and counts), every couple once, and the same bytes."""
    import pyarrow.parquet as pq

    want = [json.loads(line)["message_id"] for line in src.read_text("utf-8").splitlines()]
    got = pq.read_table(out / "messages", columns=["message_id"]).column(0).to_pylist()
    assert len(got) == len(set(got)) == len(want)
    assert sorted(got) == sorted(want)
    couples = pq.read_table(out / "couples", columns=["couple_id"]).column(0).to_pylist()
    assert len(couples) == len(set(couples)) == len({m.rsplit("-w", 1)[0] for m in want})
    assert not list(out.rglob("*.tmp"))
    mine, theirs = files_of(out), files_of(reference)
    assert sorted(mine) == sorted(theirs)
    assert [k for k in mine if mine[k] != theirs[k]] == []


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Ten couples, and their batch run in this process (the reference)."""
    root = tmp_path_factory.mktemp("faults")
    src = write_corpus(root / "study.jsonl", 10, messages=50)
    reference = root / "here"
    run_batch(src, reference, workers=0, part_messages=1, settings=SETTINGS)
    return src, reference


def test_batch_on_a_scheduler_survives_a_killed_worker(study: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    from distributed import Client

    src, reference = study
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        for name in ("w1", "w2"):
            # no nanny: a killed worker stays dead, and its pid is the worker's own
            procs.append(subprocess.Popen(
                [*dask, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--host", "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client = Client(address, timeout=f"{int(WAIT)}s")
        client.wait_for_workers(2, timeout=WAIT)
        pids = client.run(os.getpid)
        assert {p.pid for p in procs[1:]} == set(pids.values())

        out = tmp_path / "out"
        result: list[Any] = []
        failed: list[BaseException] = []

        def batch() -> None:
            try:
                result.append(run_batch(src, out, scheduler=address, part_messages=1,
                                        settings=SETTINGS))
            except BaseException as exc:  # surfaced by the assertions below
                failed.append(exc)

        runner = threading.Thread(target=batch, daemon=True)
        runner.start()

        def busy_worker() -> str | None:
            """A worker running a part now, once another part is already done."""
            if not any(part_done(out, n) for n in range(10)):
                return None
            executing = client.run(lambda dask_worker: [
                str(ts.key) for ts in dask_worker.state.executing])
            for worker, keys in executing.items():
                if any(k.startswith("heard-part-") for k in keys):
                    return worker
            return None

        victim = _until("a worker running a part mid-run", busy_worker)
        os.kill(pids[victim], signal.SIGKILL)
        killed = next(p for p in procs if p.pid == pids[victim])
        killed.wait(timeout=60)
        runner.join(timeout=WAIT)
        assert not runner.is_alive(), "the batch did not finish"
        assert failed == []
        assert result[0].analyzed == 10 and result[0].ran == 10
        # waited for: when the killed worker's part had already finished, nothing was moved off
        # it, and the batch can end before the scheduler has noticed the death
        _until("the scheduler to drop the killed worker", lambda: client.run_on_scheduler(
            lambda dask_scheduler: len(dask_scheduler.workers)) == 1)
        client.close()
        _check_complete(out, src, reference)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def test_batch_resume_after_the_run_is_killed(study: tuple[Path, Path], tmp_path: Path) -> None:
    src, reference = study
    out = tmp_path / "out"
    proc = subprocess.Popen(
        heard_cmd("batch", str(src), "-o", str(out), "--workers", "0", "--engine", "rules",
                  "--part-messages", "1", "--permutations", "200"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _until("two parts done", lambda: proc.poll() is None and
               sum(part_done(out, n) for n in range(10)) >= 2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "summary.parquet").exists()
    done = sum(part_done(out, n) for n in range(10))
    assert 2 <= done < 10

    result = run_batch(src, out, workers=0, part_messages=1, settings=SETTINGS, resume=True)
    assert result.ran == 10 - done and result.analyzed == 10
    _check_complete(out, src, reference)

    # a part's file cut short since: the check against the record runs that part again
    victim = next((out / "messages").glob("part=00003/*.parquet"))
    victim.write_bytes(victim.read_bytes()[:-10])
    assert not part_done(out, 3)
    result = run_batch(src, out, workers=0, part_messages=1, settings=SETTINGS, resume=True)
    assert result.ran == 1
    _check_complete(out, src, reference)


def test_batch_local_cluster_writes_the_same_bytes(study: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    """The default: a LocalCluster of one-thread worker processes on this computer."""
    src, reference = study
    result = run_batch(src, tmp_path / "out", workers=2, part_messages=1, settings=SETTINGS)
    assert result.ran == 10
    _check_complete(tmp_path / "out", src, reference)
