"""``heard forget``: delete what the app stored."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from heard.cli._shell import EXIT_OK
from heard.cli._terminal import say
from heard.cli._values import whole
from heard.errors import InputError, OptionError


def run(args: argparse.Namespace) -> int:
    from heard.app import default_data_dir, forget_all

    folder = Path(args.data_dir) if args.data_dir else default_data_dir()
    if args.all:
        removed = forget_all(folder)
        say(f"heard: deleted everything heard stored in {folder}"
            + ("" if removed else " (there was nothing)"))
        return EXIT_OK
    if args.conversation is None:
        raise OptionError.from_code("E030", option="heard forget",
                                    detail="pass --all, or a conversation number from "
                                           "`heard forget --list`")
    store = _open(folder)
    if not store.delete(args.conversation):
        raise InputError.from_code("E507", key=args.conversation)
    say(f"heard: deleted conversation {args.conversation} and everything about it")
    return EXIT_OK


def _open(folder: Path) -> Any:
    """The store, asking for its passphrase on the terminal when it is encrypted."""
    from heard.app import needs_passphrase, open_store

    if not needs_passphrase(folder):
        return open_store(folder)
    if not sys.stdin.isatty():
        raise InputError.from_code("E539", path=folder)
    return open_store(folder, getpass.getpass("heard's passphrase: "))


def _forget_list(args: argparse.Namespace) -> int:
    from heard.app import default_data_dir

    folder = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not (folder / "heard.sqlite3").exists():
        say("heard: nothing stored")
        return EXIT_OK
    for c in _open(folder).chats():
        say(f"{c['id']}\t{c['title']}\t{c['messages']} messages\t{c['format']}")
    return EXIT_OK


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("forget", help="delete what heard stored (one conversation, or --all)")
    p.add_argument("conversation", nargs="?", type=whole(1), help="the conversation's number")
    p.add_argument("--all", action="store_true", help="delete everything heard stored")
    p.add_argument("--list", action="store_const", const=_forget_list, dest="func",
                   help="list the stored conversations and their numbers")
    p.add_argument("--data-dir", metavar="DIR", help="heard's data folder (default: yours)")
    return p
