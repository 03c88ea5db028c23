"""Imports that run in the background, so the page stays responsive and can show progress.

The import form posts as before; app.js adds ``X-Heard-Async: 1`` and gets a job id back at
once, then polls ``/import/jobs/{id}`` (a small JSON status) and goes to the conversation
when it is done. Without JavaScript the same POST runs the import (in a worker thread, so the
server keeps answering other pages) and redirects when it finishes.

One worker: imports write the same SQLite file, and a second one queued behind the first says
"waiting" rather than slowing both down.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STAGES", "Job", "Jobs"]

#: Each stage of an import as the page words it, in order.
STAGES: dict[str, str] = {
    "waiting": "Waiting for the import before it to finish",
    "reading": "Reading the file",
    "saving": "Saving the messages on this computer",
    "coding": "Reading what each message does",
    "analyzing": "Finding the patterns between you",
    "done": "Done",
    "failed": "It didn't work",
}
_STEPS = ("reading", "saving", "coding", "analyzing")
#: Finished jobs are forgotten after this many seconds (their status is read once).
_KEEP_S = 600.0


@dataclass
class Job:
    """The state of one import, as the status endpoint reports it."""

    id: str
    stage: str = "waiting"
    done: int | None = None
    total: int | None = None
    chat_id: int | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def update(self, stage: str, done: int | None, total: int | None) -> None:
        self.stage, self.done, self.total = stage, done, total

    def to_dict(self) -> dict[str, Any]:
        step = _STEPS.index(self.stage) + 1 if self.stage in _STEPS else None
        label = STAGES.get(self.stage, self.stage)
        if self.stage == "coding" and self.total and self.done:
            label += f": {self.done:,} of {self.total:,} messages"
        elif self.stage in ("saving", "coding") and self.total:
            label += f": {self.total:,} message{'s' if self.total != 1 else ''}"
        elif self.stage == "reading" and self.done:
            label += f": {self.done:,} messages so far"
        return {
            "job": self.id,
            "stage": self.stage,
            "label": label,
            "step": step,
            "steps": len(_STEPS),
            "done": self.done,
            "total": self.total,
            "finished": self.finished is not None,
            "error": self.error,
            "location": (f"/c/{self.chat_id}#import-summary"
                         if self.chat_id is not None and self.error is None else None),
            "seconds": round((self.finished or time.monotonic()) - self.started, 1),
        }


class Jobs:
    """A registry of import jobs run one at a time on a worker thread."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heard-import")

    def start(self, work: Callable[[Job], int], on_error: Callable[[BaseException], str],
              cleanup: Callable[[], None]) -> Job:
        """Run ``work(job)`` (which returns the chat id) in the background.

        ``on_error`` words an exception for the page (None of its text reaches the page
        otherwise); ``cleanup`` always runs afterwards (the upload's temporary folder).
        """
        job = Job(id=secrets.token_urlsafe(16))
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job

        def run() -> None:
            try:
                job.chat_id = work(job)
                job.stage = "done"
            except Exception as exc:  # every failure is shown to the person, worded
                job.error, job.stage = on_error(exc), "failed"
            finally:
                job.finished = time.monotonic()
                cleanup()

        self._pool.submit(run)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self) -> bool:
        """True while an import has not finished (the idle lock waits for it)."""
        with self._lock:
            return any(j.finished is None for j in self._jobs.values())

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key in [k for k, j in self._jobs.items()
                    if j.finished is not None and now - j.finished > _KEEP_S]:
            del self._jobs[key]
