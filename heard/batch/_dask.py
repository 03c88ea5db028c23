"""The parts on Dask: a local cluster of one-thread worker processes, or a running scheduler.

The coders are Python that holds the interpreter lock, so a worker is a process with one
thread, and it runs one part at a time. Each part is one task; the scheduler keeps track of
who runs what. A worker that dies takes its running task with it, and the scheduler gives the
task to another worker (``distributed.scheduler.allowed-failures`` times); a task that raised
is tried once more. Because a part writes its files under temporary names and renames them,
running a part twice leaves one copy of its rows.

Progress comes from the scheduler: each finished task, as :func:`distributed.as_completed`
hands it back, moves the bar.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from heard.batch._part import Settings, run_part
from heard.batch._plan import Part
from heard.errors import InputError

__all__ = ["run_on_dask"]


def run_on_dask(todo: list[Part], settings: Settings, out: Path, total: int,
                progress: Callable[[int, int], None] | None,
                failures: list[tuple[int, str]], *, workers: int | None,
                scheduler: str | None) -> None:
    """Run ``todo`` on Dask; a part that failed on every try goes into ``failures``."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError.from_code("E604", address=scheduler,
                                       detail=str(exc).split("\n")[0][:200]) from None
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        run = uuid.uuid4().hex[:8]  # two batches on one scheduler never share a task key
        futures = {client.submit(run_part, part, settings, str(out), pure=False, retries=1,
                                 key=f"heard-part-{run}-{part.number:05d}"): part.number
                   for part in todo}
        done = total - len(todo)
        for future in as_completed(futures):
            if future.status != "finished":
                exc = future.exception()
                failures.append((futures[future], f"{type(exc).__name__}: {exc}"))
            future.release()
            done += 1
            if progress is not None:
                progress(done, total)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
