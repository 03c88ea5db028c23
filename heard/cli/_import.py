"""``heard import``: an export (or a folder of exports) to heard's JSONL."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from heard.cli._options import (
    add_import_options,
    print_import_report,
    read_options,
)
from heard.cli._output import output
from heard.cli._progress import progress_bar
from heard.cli._shell import EXIT_OK, EXIT_USER
from heard.cli._terminal import tell
from heard.errors import HeardError, OptionError


def run(args: argparse.Namespace) -> int:
    from heard.ingest import is_folder_of_exports, read_export

    if args.each or is_folder_of_exports(args.path):
        return _import_folder(args)
    imp = read_export(args.path, format=args.input_format, options=read_options(args))
    with output(args.output, inputs=[args.path]) as out, progress_bar() as progress:
        shown = 0
        for lines in imp.json_lines():
            out.write(lines)
            if progress is not None and imp.report.total - shown >= 1000:
                shown = imp.report.total
                progress("read", shown, None)
    print_import_report(imp.report.to_dict())
    if args.output not in (None, "-"):
        tell(f"heard: wrote {args.output}")
    return EXIT_OK


def _import_folder(args: argparse.Namespace) -> int:
    """``heard import DIR``: each export in DIR is one couple; a broken one is reported with
    its numbered error and left out, and the rest go on."""
    import shutil

    from heard.ingest import folder_entries
    from heard.model import message_to_record, record_to_json

    if not Path(args.path).is_dir():
        raise OptionError.from_code("E030", option="--each",
                                    detail=f"'{args.path}' is not a folder of exports")
    done, failed, messages = 0, 0, 0
    with output(args.output, inputs=[args.path]) as out:
        for entry in folder_entries(args.path, format=args.input_format,
                                    options=read_options(args)):
            error = entry.error
            if error is None:
                # one export's records wait in a spool until it has read to the end, so a
                # broken export leaves nothing half-written behind
                with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+",
                                                   encoding="utf-8", newline="\n") as spool:
                    try:
                        n = 0
                        for record in entry.records(message_to_record):
                            spool.write(record_to_json(record) + "\n")
                            n += 1
                    except HeardError as exc:
                        error = exc
                    except Exception as exc:  # a bug in a reader: say so, go on to the next
                        error = HeardError(f"internal error ({type(exc).__name__}: {exc}); "
                                           "this is a bug in heard, please report it")
                    else:
                        spool.seek(0)
                        shutil.copyfileobj(spool, out)
                        done, messages = done + 1, messages + n
                        assert entry.imp is not None
                        report = entry.imp.report.to_dict()
                        tell(f"heard: {entry.path.name} → couple {entry.couple_id}: "
                             f"{report['format']}, {n} items, senders "
                             + ", ".join(report["senders"]))
                        for w in report.get("warnings") or []:
                            tell(f"  warning: {w}")
            if error is not None:
                failed += 1
                tell(f"heard: {entry.path.name}: not imported: {error}")
    tell(f"heard: imported {done} of {done + failed} exports ({messages:,} items)"
         + (f"; {failed} could not be imported (see above)" if failed else "")
         + (f"; wrote {args.output}" if args.output not in (None, "-") else ""))
    return EXIT_OK if done else EXIT_USER


def add_parser(sub: Any) -> argparse.ArgumentParser:
    from heard.ingest import readers

    formats = "; ".join(f"{name}: {r.description}" for name, r in sorted(readers().items()))
    p = sub.add_parser("import", help="convert an export to heard's JSONL",
                       description="Convert a chat export to heard's canonical JSONL. "
                                   f"Formats (detected; --format overrides): {formats}.")
    p.add_argument("path", help="the export (file, folder or zip), or - for stdin")
    p.add_argument("-o", "--output", help="output .jsonl (default: stdout; - for stdout)")
    p.add_argument("--each", action="store_true",
                   help="PATH is a folder of exports, one couple each: import every one into "
                        "one JSONL, each with its couple_id (automatic for a folder that is "
                        "not itself one export)")
    add_import_options(p)
    return p
