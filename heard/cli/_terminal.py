"""The one way the CLI prints, so that text from the data can't drive the terminal.

A sender's name, a CSV header or a message can hold escape sequences and control characters
that a terminal obeys (move the cursor, retitle the window, hide or rewrite what was printed).
Everything the CLI shows goes through here: :func:`say` and :func:`tell` for lines of text,
:func:`console` for rich output (a :class:`SafeConsole` cleans every piece of text it renders,
keeping only its own styling), and :func:`stdout` for data written to standard output
(cleaned only when it is a terminal, so pipes get the data unchanged). Newlines and tabs stay:
they are layout.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Iterable
from contextlib import suppress
from typing import IO, Any

from rich.console import Console
from rich.segment import Segment

from heard.errors import InputError

__all__ = ["SafeConsole", "clean", "console", "finish_stdout", "say", "silence_stdout",
           "stdout", "tell", "to_stream"]

# ESC sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-character ones), their 8-bit C1 forms,
# every other C0/C1 control but tab and newline, DEL, and the bidirectional overrides and
# isolates that make text display in another order than it is stored.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                       r"\u2066-\u2069\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` with escape sequences and control characters removed (tab, newline kept).

    A carriage return before a newline is a line end (kept as the newline); a lone one would
    let later text overwrite the line, so it goes. A lone surrogate (from a file name that is
    not UTF-8) becomes U+FFFD, which every terminal can show.
    """
    if text.isprintable():  # the common case: nothing to do
        return text
    text = _SEQUENCES.sub("", text.replace("\r\n", "\n"))
    return _CONTROLS.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


class SafeConsole(Console):
    """A rich console that cleans every text it renders; rich's own styles and cursor moves
    (styles are applied after this, cursor moves are control segments) are kept."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            seg if seg.control else Segment(clean(seg.text), seg.style, seg.control)
            for seg in buffer)


def console(*, stderr: bool = False, **options: Any) -> SafeConsole:
    """A rich console on standard output (or error) whose output is cleaned; a failing
    standard output is heard's error (E033, E038), a failing standard error is ignored."""
    stream = sys.stderr if stderr else sys.stdout
    if stream is None and not stderr:
        raise InputError.from_code("E038")
    sink = _Stdout(stream, clean=False, quiet=stderr) if stream is not None else None
    return SafeConsole(stderr=stderr, file=sink, **options)  # type: ignore[arg-type]


def _write(stream: IO[str] | None, text: str) -> None:
    if stream is None:  # closed (`2>&-`): there is nowhere to say it
        return
    stream.write(clean(text))
    stream.flush()


def say(text: str = "", *, end: str = "\n") -> None:
    """Text on standard output, cleaned."""
    if sys.stdout is None:
        raise InputError.from_code("E038")
    try:
        _write(sys.stdout, text + end)
    except OSError as exc:
        raise _stdout_error(exc) from exc


def tell(text: str, *, end: str = "\n") -> None:
    """Text on standard error, cleaned. A failing standard error is left alone: there would
    be nowhere to report that."""
    with suppress(OSError, ValueError):
        _write(sys.stderr, text + end)


def to_stream(text: str, stream: IO[str] | None) -> None:
    """``text`` as is (no newline added) on standard error if ``stream`` is it, else on
    standard output: for argparse, which names the stream it means."""
    if stream is not None and stream is sys.stderr:
        tell(text, end="")
    else:
        say(text, end="")


def _stdout_error(exc: OSError) -> Exception:
    """A failed write to standard output as heard's error (E033 when the disk is full); what
    is still buffered will go nowhere, so that Python's own last flush can't fail again."""
    silence_stdout()
    if exc.errno == errno.EPIPE:
        return BrokenPipeError(*exc.args)
    from heard._files import output_error

    return output_error("standard output", exc)


def silence_stdout() -> None:
    """Point standard output's descriptor at the null device (after it failed)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    with suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


def finish_stdout() -> None:
    """Flush standard output at the end of a command; a full disk is E033 here too."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except OSError as exc:
        raise _stdout_error(exc) from exc


class _Stdout:
    """Standard output as a data sink: cleaned on a terminal (unless rich, which cleans its
    own, writes through it), numbered errors on failure (none for standard error)."""

    def __init__(self, stream: IO[str], *, clean: bool = True, quiet: bool = False) -> None:
        self._stream, self._quiet = stream, quiet
        try:
            self._clean = clean and stream.isatty()
        except (AttributeError, ValueError, OSError):
            self._clean = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(clean(text) if self._clean else text)
        except OSError as exc:
            if self._quiet:
                return 0
            raise _stdout_error(exc) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            if not self._quiet:
                raise _stdout_error(exc) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def stdout() -> IO[str]:
    """Standard output for data (JSON, JSON lines): E038 when it is closed."""
    if sys.stdout is None:
        raise InputError.from_code("E038")
    return _Stdout(sys.stdout)  # type: ignore[return-value]
