"""Exit statuses and the argument parser every command's options hang on."""

from __future__ import annotations

import argparse
from typing import IO, Any

from heard.cli._terminal import to_stream
from heard.errors import OptionError

EXIT_OK, EXIT_BUG, EXIT_USER = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one numbered line (E031) and exit status 2, like every
    user error, and what it prints goes through the CLI's one cleaned sink."""

    def error(self, message: str) -> None:  # type: ignore[override]
        error = OptionError.from_code("E031", detail=message.rstrip("."), prog=self.prog)
        self.exit(EXIT_USER, f"heard: error: {error}\n")

    def _print_message(self, message: str, file: IO[str] | Any = None) -> None:
        if message:
            to_stream(message, file)
