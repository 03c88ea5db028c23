"""A folder of exports, one couple each: import every one, and go on past a broken one.

``heard import DIR`` takes a folder that no reader claims as one export (a Messenger download
or a folder of Discord channels is still one export) as a study's folder: each file or
subfolder in it is one couple's export, detected by the readers as if it were given alone.
Every message gets the entry's name as ``couple_id`` (unless its record has one), so that the
couples stay apart in the one JSONL written; conversation ids that are not the entry's own
name are prefixed with it, so that two couples' conversation ids never merge.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heard.errors import ExportFormatError, HeardError, InputError
from heard.ingest._base import Input, ReadOptions, displayable
from heard.ingest._read import Import, detect_format, read_export

__all__ = ["FolderEntry", "folder_entries", "is_folder_of_exports"]

_UNSAFE = re.compile(r"\s+")


def is_folder_of_exports(path: str | Path) -> bool:
    """Whether ``path`` is a folder that no reader takes as one export."""
    source = Input.open(path)
    if not source.is_dir:
        return False
    try:
        detect_format(source)
    except ExportFormatError as exc:
        return exc.code == "E025"
    return False


@dataclass
class FolderEntry:
    """One export of a folder: its import (stream it once), or why it could not start."""

    path: Path
    couple_id: str
    imp: Import | None = None
    error: HeardError | None = None

    def records(self, to_record: Any) -> Iterator[dict[str, Any]]:
        """The export's canonical records, tagged with the couple. Raises what the import
        raises (a bad line, a group chat): the caller drops the entry's records then."""
        assert self.imp is not None
        cid = self.couple_id
        for message in self.imp:
            record = to_record(message)
            record.setdefault("couple_id", cid)
            conv = record.get("conversation_id")
            if conv != cid:
                record["conversation_id"] = f"{cid}/{conv}"
            yield record


def folder_entries(folder: str | Path, *, format: str | None = None,
                   options: ReadOptions | None = None) -> Iterator[FolderEntry]:
    """Each export in ``folder`` (files and subfolders, by name; hidden ones left out)."""
    opts = options or ReadOptions()
    used: set[str] = set()
    for path in sorted(Path(folder).iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        stem = _UNSAFE.sub("_", displayable(path.stem if path.is_file() else path.name))
        stem = stem or "export"
        cid, n = stem, 2
        while cid in used:  # "a.txt" and "a.json" are two couples
            cid, n = f"{stem}-{n}", n + 1
        used.add(cid)
        try:
            imp = read_export(path, format=format,
                              options=dataclasses.replace(opts, conversation_id=cid))
        except InputError as exc:
            yield FolderEntry(path, cid, error=exc)
            continue
        yield FolderEntry(path, cid, imp=imp)
