"""Every bound the readers put on their input, in one place, each with why it is where it is.

A chat export is text a person wrote: even the longest real ones (a WhatsApp ``_chat.txt`` of
several hundred megabytes, an iMessage ``chat.db`` of a few gigabytes) stay far inside these
numbers, while a corrupt or hostile file (a zip bomb, a line with no end, JSON nested a hundred
thousand deep, a CSV quote never closed) crosses one of them early and ends in a numbered error
instead of filling memory, disk or the stack. Raise a limit here, never in a reader.
"""

from __future__ import annotations

__all__ = [
    "MAX_CSV_FIELD_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_LINE_BYTES",
    "MAX_REACTIONS",
    "MAX_ZIP_MEMBER_BYTES",
    "MAX_ZIP_RATIO",
    "MB",
    "ZIP_RATIO_FLOOR",
]

MB = 1024 * 1024

#: The longest line a text reader reads. WhatsApp caps a message at 65,536 characters (under
#: 256 KB in UTF-8) and heard skips messages over ``--max-chars`` anyway; a line this long is
#: a file with no line breaks (binary data, a cut download), which would otherwise be read
#: into memory whole.
MAX_LINE_BYTES = 64 * MB

#: How deep JSON may nest. The deepest real export (Telegram's text entities inside a message
#: inside a chat list inside an account) is under 10 levels; Python's parser recurses per
#: level and fails with RecursionError near 1,000.
MAX_JSON_DEPTH = 100

#: The longest CSV field. Python's own default (``csv.field_size_limit``): no chat app lets a
#: message get near it (Discord's longest is 4,000 characters, WhatsApp's 65,536), and a field
#: that reaches it almost always means a quote left open swallowing the rest of the file.
MAX_CSV_FIELD_CHARS = 131_072

#: The largest member heard decompresses out of a zip: over 10 times the biggest real chat
#: file or database seen (a WhatsApp ``_chat.txt`` of 100+ MB, a ``chat.db`` of a few GB).
MAX_ZIP_MEMBER_BYTES = 16 * 1024 * MB

#: The highest compression ratio heard accepts for a member bigger than ``ZIP_RATIO_FLOOR``.
#: Chat text and SQLite databases deflate 3-10 times; only data built to be a "zip bomb"
#: (one repeated byte) gets near deflate's ceiling of about 1,000.
MAX_ZIP_RATIO = 100

#: Below this size the ratio is not checked: a small member costs nothing to read, and tiny
#: repetitive files (an empty database, a short chat) can deflate very well.
ZIP_RATIO_FLOOR = 32 * MB

#: The most reactions kept from one count ("❤️ × N"): exports give a count beside the names
#: they list, and each counted reaction becomes one object, so a damaged count of 10**30 would
#: fill memory. Far above any real message's reactions.
MAX_REACTIONS = 1000
