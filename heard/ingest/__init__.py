"""Importers: turn an export into the canonical message stream.

``read_export(path)`` detects the format (or takes ``format=``) and returns a streaming
:class:`Import`. Each format is a :class:`Reader` registered under its name; chat-app readers
live beside the generic ones as ``_<app>.py`` modules and register the same way.
"""

from heard.ingest import (  # noqa: F401  (importing a reader module registers it)
    _csv,
    _discord,
    _imessage,
    _jsonl,
    _messenger,
    _signal,
    _sms,
    _telegram,
    _transcript,
    _whatsapp,
)
from heard.ingest._base import (
    ImportReport,
    Input,
    Reader,
    ReadOptions,
    SkippedLine,
    readers,
    register,
)
from heard.ingest._folder import FolderEntry, folder_entries, is_folder_of_exports
from heard.ingest._read import Import, detect_format, read_export
from heard.ingest._time import zone

__all__ = [
    "FolderEntry",
    "Import",
    "ImportReport",
    "Input",
    "ReadOptions",
    "Reader",
    "SkippedLine",
    "detect_format",
    "folder_entries",
    "is_folder_of_exports",
    "read_export",
    "readers",
    "register",
    "zone",
]
