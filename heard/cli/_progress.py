"""A progress bar on standard error, only on a terminal and only for long work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from heard.cli._terminal import console as terminal_console

#: Seconds of work before a progress bar appears: short runs stay quiet.
PROGRESS_DELAY = 2.0
_STAGES = {"read": "Reading messages", "coder": "Loading heard's coder",
           "code": "Coding messages", "patterns": "Finding the loop",
           "dynamics": "Modelling the long arc", "check": "Reading your message",
           "couples": "Analyzing couples"}


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A progress callback that draws a bar on standard error, or None when it is no terminal.

    The bar (rich.progress, transient) shows only once the work has run ``PROGRESS_DELAY``
    seconds, and is gone when the block ends, so pipes, files and tests get nothing.
    """
    console = terminal_console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    import threading

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
    task = bar.add_task("Working", total=None)
    lock = threading.Lock()
    state = {"started": False, "done": False}

    def start() -> None:
        with lock:
            if not state["done"]:
                bar.start()
                state["started"] = True

    def update(stage: str, done: int, total: int | None) -> None:
        bar.update(task, description=_STAGES.get(stage, stage), completed=done, total=total)

    timer = threading.Timer(PROGRESS_DELAY, start)
    timer.daemon = True
    timer.start()
    try:
        yield update
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["started"]:
                bar.stop()


def with_progress(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (an API call taking ``progress=``) run under :func:`_progress`'s bar."""
    def run(*args: Any, **kwargs: Any) -> Any:
        with progress_bar() as progress:
            return func(*args, progress=progress, **kwargs)
    return run
