"""What the messages page asks for, as one SQL condition over a chat's ``messages`` rows.

Text, sender, dates and codes are filtered by SQLite's JSON functions, so a 100,000-message
chat is never loaded to show 200 of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MessageFilter"]


@dataclass(frozen=True)
class MessageFilter:
    """What the messages page asks for; every field is optional and they combine with AND.

    Attributes
    ----------
    text : str
        Words the message's text contains (case-insensitive for ASCII letters).
    sender : str
        Exactly this sender.
    since, until : str
        ISO dates (``YYYY-MM-DD``), inclusive, in the message's own time zone.
    codes : tuple of str
        At least one of these codes (a code, or the codes of a family).
    ids : tuple of str, optional
        Only these message ids (the messages behind one figure); None means no such limit.
    """

    text: str = ""
    sender: str = ""
    since: str = ""
    until: str = ""
    codes: tuple[str, ...] = ()
    ids: tuple[str, ...] | None = None

    @property
    def active(self) -> bool:
        return bool(self.text or self.sender or self.since or self.until or self.codes
                    or self.ids is not None)

    def where(self, chat_id: int) -> tuple[str, list[Any]]:
        """The SQL condition over one chat's ``messages`` rows, and its parameters."""
        sql, args = ["chat_id=?"], [chat_id]
        if self.text:
            # LIKE with escapes: a % or _ the person typed is matched literally
            pattern = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            sql.append("json_extract(record, '$.text') LIKE ? ESCAPE '\\'")
            args.append(f"%{pattern}%")
        if self.sender:
            sql.append("json_extract(record, '$.sender') = ?")
            args.append(self.sender)
        # dates compare on the message's own calendar day (the first 10 characters of its
        # ISO timestamp), the same day its heading shows
        if self.since:
            sql.append("substr(json_extract(record, '$.timestamp'), 1, 10) >= ?")
            args.append(self.since)
        if self.until:
            sql.append("substr(json_extract(record, '$.timestamp'), 1, 10) <= ?")
            args.append(self.until)
        if self.codes:
            marks = ", ".join("?" * len(self.codes))
            sql.append("EXISTS (SELECT 1 FROM json_each(record, '$.codes') AS c "
                       f"WHERE json_extract(c.value, '$.code') IN ({marks}))")
            args.extend(self.codes)
        if self.ids is not None:
            marks = ", ".join("?" * len(self.ids)) or "NULL"
            sql.append(f"substr(identity, 1, 20) IN ({marks})")
            args.extend(self.ids)
        return " AND ".join(sql), args
