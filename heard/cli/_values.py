"""Checks for option values, run by the parser before any work starts.

Each is an argparse ``type``: a bad value is refused at once with the parser's numbered
error (E031), not after minutes of reading and coding. The bounds are the ones the API
checks again (``n_permutations >= 0``, ``min_n >= 1``, positive hours...), plus upper bounds
where a larger value would only exhaust memory or time.
"""

from __future__ import annotations

import argparse
import codecs
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from heard.errors import InputError, OptionError

__all__ = ["MAX_PERMUTATIONS", "MAX_RUNS", "MAX_TURNS", "check_arguments", "encoding", "number",
           "whole"]

#: Beyond this many permutations the baseline's p-values no longer change; the time does.
MAX_PERMUTATIONS = 100_000
#: ``heard simulate`` keeps every run's path in memory: runs x turns numbers.
MAX_RUNS, MAX_TURNS = 20_000, 1_000


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number from ``minimum`` (to ``maximum``)."""
    span = f"from {minimum:,} to {maximum:,}" if maximum is not None else f"{minimum:,} or more"

    def check(value: str) -> int:
        try:
            n = int(value.strip().replace("_", ""), 10)
        except ValueError:
            n = None
        if n is None or n < minimum or (maximum is not None and n > maximum):
            raise argparse.ArgumentTypeError(f"must be a whole number {span} (got {value!r})")
        return n

    check.__name__ = "whole number"
    return check


def number(*, above: float | None = None, at_least: float | None = None,
           maximum: float | None = None, infinite: bool = False) -> Callable[[str], float]:
    """A number above ``above`` (or from ``at_least``), up to ``maximum``; ``inf`` only
    where it means "never" (``infinite``); never ``nan``."""
    if above is not None:
        span = f"above {above:g}"
    else:
        span = f"{at_least:g} or more" if at_least is not None else "a number"
    if maximum is not None:
        span += f" and at most {maximum:g}"

    def check(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            x = math.nan
        bad = (math.isnan(x) or (math.isinf(x) and not infinite)
               or (above is not None and not x > above)
               or (at_least is not None and not x >= at_least)
               or (maximum is not None and x > maximum))
        if bad:
            raise argparse.ArgumentTypeError(f"must be a number {span} (got {value!r})")
        return x

    check.__name__ = "number"
    return check


def encoding(value: str) -> str:
    """A text encoding Python knows (utf-8, cp1252, utf-16...)."""
    try:
        codecs.lookup(value)
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"unknown text encoding {value!r}; try utf-8, utf-16 or cp1252") from None
    return value


#: The options of each command that name an output file (not a folder): a folder there is
#: refused before the work, not after it.
FILE_OUTPUTS = {"import": ("output",), "code": ("output",),
                "analyze": ("output", "json", "table", "summary_pdf"),
                "demo": ("output", "json", "summary_pdf"), "simulate": ("json",)}
#: Arguments named by position: how an error names them.
_POSITIONAL = {"path": "PATH", "text": "TEXT", "gold": "GOLD", "code": "CODE"}


def _not_utf8(value: Any) -> str | None:
    for item in value if isinstance(value, list | tuple) else (value,):
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
    return None


def check_arguments(args: argparse.Namespace) -> None:
    """What the parser can't see, checked before any work.

    A name in another encoding than UTF-8 arrives with lone surrogates (Python's
    ``surrogateescape``): heard could open it, but not write it into its JSON output or show
    it, so it is refused (E036). ``-`` with standard input closed (``<&-``) is E035.
    """
    for dest, value in vars(args).items():
        bad = _not_utf8(value)
        if bad is not None:
            option = _POSITIONAL.get(dest, "--" + dest.replace("_", "-"))
            raise OptionError.from_code("E036", option=option, shown=bad)
    for dest in FILE_OUTPUTS.get(getattr(args, "command", None) or "", ()):
        target = getattr(args, dest, None)
        if isinstance(target, str) and target != "-" and os.path.isdir(target):
            raise OptionError.from_code("E032", path=target,
                                        example=os.path.join(target, "heard-output"))
    data_dir = getattr(args, "data_dir", None)
    if isinstance(data_dir, str) and os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise InputError.from_code("E510", path=data_dir, detail="it is a file, not a folder")
    reads_stdin = "-" in (getattr(args, "path", None), getattr(args, "text", None))
    if reads_stdin and sys.stdin is None:
        raise InputError.from_code("E035", command=getattr(args, "command", None) or "import")
