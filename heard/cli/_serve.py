"""``heard serve``: heard's app in the browser, on this computer."""

from __future__ import annotations

import argparse
from typing import Any

from heard.cli._shell import EXIT_OK
from heard.cli._values import number, whole
from heard.errors import OptionError


def run(args: argparse.Namespace) -> int:
    from heard.app import serve

    if not 1 <= args.port <= 65535:
        raise OptionError.from_code("E511", value=args.port)
    serve(host=args.host, port=args.port, open_browser=not args.no_browser,
          data_dir=args.data_dir, max_upload_mb=args.max_upload_mb,
          encrypt=not args.no_encryption, lock_after_minutes=args.lock_after)
    return EXIT_OK


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("serve", help="open heard's app in your browser (runs on this computer)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only; any "
                        "other address requires the access token printed at start)")
    p.add_argument("--port", type=whole(1, 65535), default=8765, help="port (default 8765)")
    p.add_argument("--no-browser", action="store_true", help="don't open a browser")
    p.add_argument("--data-dir", metavar="DIR",
                   help="where heard keeps its store (default: your user data folder, or "
                        "$HEARD_DATA_DIR)")
    p.add_argument("--max-upload-mb", type=number(above=0), default=200, help="largest upload (MB)")
    p.add_argument("--lock-after", type=number(at_least=0, maximum=7 * 24 * 60), default=15,
                   metavar="MINUTES",
                   help="lock heard after this many minutes without use; the passphrase opens "
                        "it again (default 15; 0 never locks)")
    p.add_argument("--no-encryption", action="store_true",
                   help="keep the store unencrypted, with no passphrase: anyone who can open "
                        "your files can then read every imported message (default: encrypted)")
    return p
