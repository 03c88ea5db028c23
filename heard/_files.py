"""Output files written safely: the one way heard writes a file a person asked for.

A regular file is written to a hidden temporary file in the target's own folder and renamed
over the target only once everything is written, so an error, Ctrl-C or ``kill`` never leaves
half a report where the old one was, and never leaves the temporary file behind (handlers for
SIGINT, SIGTERM and SIGHUP remove it while it exists). Anything that is not a regular file is
never replaced by one: a symlink is followed to the file it names, a FIFO or a character device
(``/dev/null``, ``/dev/stdout``, ``/dev/full``) is written in place, and a block device or a
socket is refused. A full disk, a folder given as the output and every other failure are one
numbered error.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import signal
import stat
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import IO, Any

from heard.errors import InputError, OptionError

__all__ = ["Interrupted", "megabytes", "open_output", "output_error", "safe_stem", "write_output"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(text: str, *, limit: int = 80) -> str:
    """The part of ``text`` a file name can carry on every system ('' when none can).

    One rule for every name heard makes from a person's words (a chat's title, a couple's id):
    accents folded to ASCII, any run of other characters one ``-``, and no dot or dash at
    either end, so the name is never hidden, never ``..`` and never a path.

    >>> safe_stem("../Zoë & Dan/")
    'Zoe-Dan'
    """
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _UNSAFE.sub("-", ascii_).strip("._-")[:limit].strip("._-")

#: Signals that remove the temporary file before heard stops.
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))
_LIVE: set[str] = set()  # temporary files being written now
_DEPTH = 0  # blocks of the main thread writing one now
_SAVED: dict[int, Any] = {}  # the handlers ours replaced, restored when the last one is done
_LOCK = threading.Lock()


class Interrupted(KeyboardInterrupt):
    """A signal stopped heard while it wrote a file (after its temporary file was removed).

    A ``KeyboardInterrupt``, so that no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def output_error(path: str | Path, exc: OSError) -> InputError:
    """The numbered error for a failed write to ``path``: E033 for a full disk, else E021."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return InputError.from_code("E033", path=path)
    if exc.errno == errno.EISDIR:
        return OptionError.from_code("E032", path=path, example=Path(path) / "heard-output")
    return InputError.from_code("E021", path=path, detail=exc.strerror or exc)


class _Guarded:
    """A file whose write errors are heard's numbered errors (E033 for a full disk)."""

    def __init__(self, file: IO[Any], path: str | Path) -> None:
        self._file, self._path = file, path

    def write(self, data: Any) -> int:
        try:
            return self._file.write(data)
        except OSError as exc:
            raise output_error(self._path, exc) from exc

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._file.flush()
        except OSError as exc:
            raise output_error(self._path, exc) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _remove_live(signum: int, frame: FrameType | None) -> None:
    for tmp in list(_LIVE):
        with suppress(OSError):
            os.unlink(tmp)
    raise Interrupted(signum)


@contextmanager
def _watched() -> Iterator[None]:
    """Signal handlers that remove the live temporary files, while a block writes one.

    Installed in the main thread only (signals are delivered there) by the outermost block,
    and the ones they replaced come back when it ends; a signal that was ignored stays so.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _DEPTH
    with _LOCK:
        _DEPTH += 1
        if _DEPTH == 1:
            for signum in _SIGNALS:
                previous = signal.getsignal(signum)
                if previous is signal.SIG_IGN or previous is None:
                    continue
                with suppress(ValueError, OSError):
                    signal.signal(signum, _remove_live)
                    _SAVED[signum] = previous
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                for signum, previous in _SAVED.items():
                    with suppress(ValueError, OSError, TypeError):
                        signal.signal(signum, previous)
                _SAVED.clear()


def _new_temp(real: Path) -> tuple[int, str]:
    """A new hidden file beside ``real`` (mode 0600), registered for removal *before* it is
    made: a signal can reach Python between any two steps (another thread may take it while
    this one holds it back), and the handler removes only the files it knows."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = str(real.parent / f".{real.name}.{secrets.token_hex(4)}.tmp")
        _LIVE.add(tmp)
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            _LIVE.discard(tmp)  # someone else's: try another name
        except BaseException:
            _LIVE.discard(tmp)
            raise
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(real.parent))


def _same_file(path: Path, inputs: Sequence[str | Path]) -> None:
    for src in inputs:
        if str(src) == "-":
            continue
        with suppress(OSError):
            if path.exists() and Path(src).exists() and path.samefile(src):
                raise OptionError.from_code("E022", path=path)


def _kind(mode: int) -> str | None:
    """What a path that must not be written is, by its mode (None: heard may write it)."""
    if stat.S_ISBLK(mode):
        return "a disk (block device)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None


@contextmanager
def open_output(path: str | Path, *, binary: bool = False,
                inputs: Sequence[str | Path] = ()) -> Iterator[IO[Any]]:
    """A file object for ``path``; a regular file is replaced only when the block succeeds.

    Parameters
    ----------
    path : str or Path
        Where the output goes.
    binary : bool
        Yield a binary file (default: UTF-8 text with ``\\n`` line ends).
    inputs : sequence of paths
        The command's inputs: writing over one of them is E022.

    Raises
    ------
    InputError
        E021 (can't write: a missing folder, no permission), E022 (the output is an input),
        E032 (the output is a folder), E033 (the disk is full), E034 (a block device or a
        socket).
    """
    target = Path(path)
    _same_file(target, inputs)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None  # a new file, or a symlink to one that doesn't exist yet
    except OSError as exc:
        raise output_error(target, exc) from exc
    if mode is not None and stat.S_ISDIR(mode):
        raise OptionError.from_code("E032", path=target, example=target / "heard-output")
    if mode is not None and (kind := _kind(mode)) is not None:
        raise OptionError.from_code("E034", path=target, kind=kind)
    if mode is not None and not stat.S_ISREG(mode):
        # a FIFO or a character device: written in place, like the shell's `>` would
        with _in_place(target, binary) as f:
            yield f
        return
    # a symlink is followed, so the link stays and the file it names gets the new content
    real = Path(os.path.realpath(target))
    folder = real.parent
    if not folder.is_dir():
        raise InputError.from_code("E021", path=target, detail="its folder does not exist")
    with _replacing(real, target, binary) as f:
        yield f


def _fdopen(fd: int, binary: bool) -> IO[Any]:
    return os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")


@contextmanager
def _in_place(target: Path, binary: bool) -> Iterator[IO[Any]]:
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise output_error(target, exc) from exc
    raw = _fdopen(fd, binary)
    guarded = _Guarded(raw, target)
    try:
        yield guarded  # type: ignore[misc]
        guarded.flush()
    finally:
        with suppress(OSError):
            raw.close()


@contextmanager
def _replacing(real: Path, shown: Path, binary: bool) -> Iterator[IO[Any]]:
    with _watched():
        try:
            fd, tmp = _new_temp(real)
        except OSError as exc:  # no permission, a read-only or full disk
            raise output_error(shown, exc) from exc
        try:
            raw = _fdopen(fd, binary)
            guarded = _Guarded(raw, shown)
            try:
                yield guarded  # type: ignore[misc]
                guarded.flush()
                try:
                    os.fsync(raw.fileno())
                except OSError as exc:
                    raise output_error(shown, exc) from exc
            finally:
                with suppress(OSError):
                    raw.close()
            try:
                os.replace(tmp, real)
            except OSError as exc:
                raise output_error(shown, exc) from exc
        finally:
            with suppress(OSError):
                os.unlink(tmp)
            _LIVE.discard(tmp)


def write_output(path: str | Path, data: bytes | str, *,
                 inputs: Sequence[str | Path] = ()) -> Path:
    """Write ``data`` to ``path`` through :func:`open_output`; return the path."""
    with open_output(path, binary=isinstance(data, bytes), inputs=inputs) as f:
        f.write(data)
    return Path(path)


def megabytes(n_bytes: int) -> str:
    """A size in MB (of 1,048,576 bytes, as the limits are set) as a person writes it: "0.5",
    "200", "1,500" (never "1.5e+03"); the app and the CLI say sizes the same way."""
    mb = n_bytes / 1024 / 1024
    return f"{mb:,.0f}" if mb >= 10 else f"{mb:.2g}"
