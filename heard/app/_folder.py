"""The data folder while a server runs: one server per folder, and what a killed one left.

* **One server per folder.** Two servers on one store would each cache analyses, run imports
  and lock on idle without knowing of the other. ``heard serve`` takes an exclusive ``flock``
  on the data folder itself (released by the system when the process ends, however it ends);
  a second server on the same folder is refused with E520. Nothing is written for it, so
  ``heard forget --all`` still leaves no file behind. The lock is per process: apps built
  again in one process (the tests) share it. The command line's own commands don't take it:
  ``heard forget --all`` while a server runs is allowed, and when the server then opens a
  fresh store it locks the new folder (:func:`relock`).
* **No upload outlives its import.** Each upload is deleted in a ``finally``; after a hard
  kill that never ran, the next server start empties the upload folders (it holds the lock,
  so no other server's import is in flight).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from heard.errors import InputError

__all__ = ["clear_uploads", "hold_folder", "relock"]

_HELD: dict[str, tuple[int, int]] = {}  # real path -> (fd, the folder's inode when locked)
_GUARD = threading.Lock()


def hold_folder(data_dir: Path) -> None:
    """Lock this folder for the life of the process (E520 when another process has it)."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.path.realpath(data_dir)
    with _GUARD:
        inode = os.stat(data_dir).st_ino
        held = _HELD.get(key)
        if held is not None:
            if held[1] == inode:
                return
            os.close(held[0])  # the folder was removed and made again: lock the new one
            del _HELD[key]
        try:
            import fcntl
        except ModuleNotFoundError:  # Windows: SQLite's own locking is all there is
            return
        fd = os.open(data_dir, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError.from_code("E520", path=data_dir) from None
        _HELD[key] = (fd, inode)


def relock(data_dir: Path) -> None:
    """After the store was made again, lock the new folder if this process held the old one."""
    if os.path.realpath(data_dir) in _HELD:
        hold_folder(data_dir)


def clear_uploads(*folders: Path) -> None:
    """Empty upload folders a killed server left behind (call with the folder lock held)."""
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink():
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
