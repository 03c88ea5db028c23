"""The ``heard`` command: a thin shell over :mod:`heard.api`.

Exit status: 0 on success; 2 on a user's error, with one line on stderr naming the file, the
line where there is one, and what to do; 1 on a bug in heard (with a request to report it).

Each command lives in its own module with ``add_parser(subparsers)`` (returns its parser) and
``run(args)`` (returns the exit status); :data:`COMMANDS` lists them in the order ``--help``
shows them. A new command is a new module and one line in that list.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from heard.cli import (
    _analyze,
    _batch,
    _check,
    _code,
    _codebook,
    _demo,
    _eval,
    _forget,
    _import,
    _serve,
    _simulate,
    _train,
)
from heard.cli._shell import EXIT_BUG, EXIT_OK, EXIT_USER, Parser
from heard.cli._terminal import finish_stdout, silence_stdout, tell
from heard.cli._values import check_arguments
from heard.errors import HeardError, InputError

__all__ = ["COMMANDS", "build_parser", "main"]

#: The command modules, in the order ``heard --help`` lists them.
COMMANDS: list[ModuleType] = [_import, _code, _analyze, _batch, _demo, _simulate, _codebook,
                              _eval, _train, _check, _serve, _forget]


def build_parser() -> Parser:
    from heard import __version__

    parser = Parser(
        prog="heard",
        description="See why one partner can't hear the other, in your own messages. "
                    "Everything runs on this computer; nothing is sent anywhere.",
    )
    parser.add_argument("--version", action="version", version=f"heard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        func: Callable[..., int] | None = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return EXIT_USER
        check_arguments(args)  # before any work: a closed stdin, a name that is not UTF-8
    except InputError as exc:
        tell(f"heard: error: {exc}")
        return EXIT_USER
    from heard._lean import import_spacy_without_torch

    if args.command != "import":  # reading an export never needs spaCy (~1.5 s CPU, 60 MB)
        import_spacy_without_torch()
    try:
        with warnings.catch_warnings():
            # a warning can quote a name from the data: it goes through the cleaned sink too
            warnings.showwarning = _show_warning
            status = func(args)
            finish_stdout()
        return status
    except InputError as exc:
        tell(f"heard: error: {exc}")
        return EXIT_USER
    except HeardError as exc:
        tell(f"heard: error: {exc}")
        return EXIT_BUG
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP while a file was written
        signum = getattr(exc, "signum", signal.SIGINT)
        tell("heard: " + ("interrupted" if signum == signal.SIGINT else "stopped")
             + "; nothing was overwritten")
        return 128 + int(signum)
    except BrokenPipeError:  # the reader went away (`| head`): not an error
        silence_stdout()
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("HEARD_DEBUG"):
            raise
        tell(f"heard: internal error: {type(exc).__name__}: {exc}. This is a bug in heard; "
             "rerun with HEARD_DEBUG=1 for details and please report it.")
        return EXIT_BUG


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    tell(f"heard: warning: {message}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
