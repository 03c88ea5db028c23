"""Apple Messages databases: macOS ``~/Library/Messages/chat.db`` and the iPhone backup's ``sms.db``
(``3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28``).

The database is opened read-only (``file:…?mode=ro``) and read with a cursor, so memory stays
small whatever its size. What is read (``shared/design/import-formats.md`` 4.5):

* ``message.date``: time since 2001-01-01 UTC, in nanoseconds on current systems and seconds on
  old ones (told apart by magnitude); a real instant.
* text from ``message.text``, or, when that is NULL (iOS 16 / macOS 13 and later), decoded from
  the ``attributedBody`` typedstream ("streamtyped") blob.
* tapbacks (``associated_message_type`` 2000-2007, removed by 3000-3007) become
  :class:`~heard.model.Reaction` objects on the message they point at (``p:N/GUID``,
  ``bp:GUID``); a person has at most one tapback per message, so a new one replaces theirs.
* ``thread_originator_guid`` is the reply target; ``date_edited`` marks an edit (the history in
  ``message_summary_info`` goes to ``extra["edit_history"]``); ``date_retracted``, a retracted
  part, or an edit that left no text marks an unsent message (kind ``deleted``).
* U+FFFC marks each attachment in the text: a message with attachments is kind ``attachment``,
  its caption is the text without U+FFFC, and the files are listed in ``extra``.

A database holds every chat. Chats with the same set of handles (the iMessage and SMS threads of
one number) are read as one conversation; ``--chat`` picks it by handle, phone number, name or
number in the list. The user's messages (``is_from_me``) are sent by ``--me`` (default ``me``);
the other person is named by their handle.

``Source.line`` is the ``message`` table's ROWID.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from heard.errors import ExportFormatError, InputError
from heard.ingest._apple import (
    apple_time,
    decode_attributed_body,
    edit_history,
    summary_info,
    target_guid,
)
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._chats import choose, refuse_group
from heard.ingest._phone import phone_key
from heard.ingest._tapback import reaction_from_text as sms_reaction
from heard.ingest._zip import unpack_member
from heard.model import Message, Reaction, Source

__all__ = ["IMessageReader", "apple_time", "decode_attributed_body"]

SQLITE_MAGIC = b"SQLite format 3\x00"
IOS_SMS_DB = "3d0d7e5fb2ce288813306e4d4636395e047a3d28"
_DB_NAMES = ("chat.db", "sms.db", IOS_SMS_DB)
_OBJ = "\ufffc"
_REQUIRED = ("message", "handle")
#: Without these (old iOS sms.db copies, trimmed test databases) a chat is one handle's messages.
_CHAT_TABLES = ("chat", "chat_message_join")


@cache
def _types() -> dict[str, Any]:
    return json.loads(resources.files("heard.ingest").joinpath(
        "data/imessage_types.json").read_text(encoding="utf-8"))


@dataclass
class _Chat:
    handles: tuple[str, ...]
    rowids: list[int] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    count: int = 0

    def label(self) -> str:
        who = ", ".join(self.handles) or ", ".join(self.identifiers)
        name = next((n for n in self.names if n), "")
        head = f"{name} ({who})" if name else who
        return head + f" — {self.count} message" + ("s" if self.count != 1 else "")


@register
class IMessageReader(Reader):
    name = "imessage"
    key = "heard.reader.imessage.v1"
    description = "Apple Messages chat.db (macOS) or sms.db (iPhone backup), read-only"

    # -- detection
    def sniff(self, source: Input) -> float:
        if source.is_dir:
            return 0.9 if self._find_in_dir(source.path) else 0.0  # type: ignore[arg-type]
        if source.is_zip:
            try:
                names = source.zip().namelist()
            except InputError:
                return 0.0
            return 0.9 if any(n.rsplit("/", 1)[-1] in _DB_NAMES for n in names) else 0.0
        head = source.head
        if not head.startswith(SQLITE_MAGIC):
            return 0.0
        if source.path is None:
            return 0.9 if b"chat_message_join" in head else 0.3
        try:
            tables = self._tables(self._connect(source.path, source.name))
        except InputError:
            return 0.3  # a damaged SQLite file: the reader names the problem
        # any other SQLite file: only this reader can say what is wrong with it
        return 0.95 if {"message", "handle"} <= tables else 0.3

    @staticmethod
    def _find_in_dir(path: Path) -> Path | None:
        for name in _DB_NAMES:
            for candidate in (path / name, path / name[:2] / name):
                if candidate.is_file():
                    return candidate
        return None

    # -- opening
    @staticmethod
    def _connect(path: Path, label: str) -> sqlite3.Connection:
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        try:
            con = sqlite3.connect(uri, uri=True)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            try:  # a WAL database in a read-only folder can only be opened as immutable
                con = sqlite3.connect(uri + "&immutable=1", uri=True)
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except (sqlite3.DatabaseError, UnicodeDecodeError):
                raise InputError.from_code("E156", path=label, detail=exc) from exc
        return con

    @staticmethod
    def _tables(con: sqlite3.Connection) -> set[str]:
        try:
            return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            return set()

    def _materialize(self, source: Input, tmp: Path) -> tuple[Path, str]:
        """A real file path for the database (copied out of a zip or standard input)."""
        if source.is_dir:
            found = self._find_in_dir(source.path)  # type: ignore[arg-type]
            if found is None:
                raise ExportFormatError.from_code(
                    "E159", path=source.name, app="Messages",
                    detail="no chat.db, sms.db or " + IOS_SMS_DB)
            return found, str(found)
        if source.is_zip:
            zf = source.zip()
            names = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] in _DB_NAMES]
            if not names:
                raise ExportFormatError.from_code(
                    "E159", path=source.name, app="Messages",
                    detail="no chat.db, sms.db or " + IOS_SMS_DB + " inside the zip")
            member = names[0]
            target = tmp / member.rsplit("/", 1)[-1]
            for suffix in ("", "-wal", "-shm"):  # checked first: size, ratio, free space
                if member + suffix in zf.namelist():
                    unpack_member(zf, member + suffix, Path(str(target) + suffix), source.name)
            return target, f"{source.name}/{member}"
        if source.path is None:
            target = tmp / "chat.db"
            with source.open_binary() as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return target, source.name
        return source.path, source.name

    # -- reading
    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        with tempfile.TemporaryDirectory(prefix="heard-imessage-") as tmp:
            path, label = self._materialize(source, Path(tmp))
            with path.open("rb") as f:
                magic = f.read(16)
            if not magic.strip(b"\x00"):
                raise InputError.from_code("E002", path=label)
            if magic != SQLITE_MAGIC:
                raise ExportFormatError.from_code(
                    "E156", path=label,
                    detail="it is not a SQLite database; an encrypted iPhone backup must be "
                           "decrypted first")
            con = self._connect(path, label)
            try:
                yield from self._read_db(con, label, options, report)
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise InputError.from_code("E156", path=label, detail=exc) from exc
            finally:
                con.close()

    def _read_db(self, con: sqlite3.Connection, label: str, options: ReadOptions,
                 report: ImportReport) -> Iterator[Message]:
        tables = self._tables(con)
        missing = [t for t in _REQUIRED if t not in tables]
        if missing:
            raise ExportFormatError.from_code("E157", path=label, tables=", ".join(missing))
        cols = {r[1] for r in con.execute("PRAGMA table_info(message)")}
        by_handle = not all(t in tables for t in _CHAT_TABLES)
        if by_handle:
            report.warn("this database has no chat tables; each handle's messages were read as "
                        "one chat")
        chats = self._chats_by_handle(con) if by_handle else self._chats(con)
        member = ("m.handle_id IN ({marks})" if by_handle else
                  "m.ROWID IN (SELECT message_id FROM chat_message_join "
                  "WHERE chat_id IN ({marks}))")
        if not chats:
            raise InputError.from_code("E015", path=label, detail="no chats in the database")
        labels = [c.label() for c in chats]

        def matches(i: int, sel: str) -> bool:
            chat = chats[i]
            low = sel.casefold()
            if sum(ch.isdigit() for ch in sel) >= 5 and "@" not in sel:
                key = phone_key(sel)
                return any(phone_key(h) == key for h in chat.handles + tuple(chat.identifiers))
            return (any(h.casefold() == low for h in chat.handles)
                    or any(x.casefold() == low for x in chat.identifiers)
                    or any(n.casefold() == low for n in chat.names if n))

        index = choose(options.chat, label, labels, matches, lambda i: len(chats[i].handles) == 1)
        chat = chats[index]
        me = options.me or "me"
        refuse_group(label, [me, *chat.handles], options)
        report.details["chat"] = chat.label()
        if len(chats) > 1:
            report.details["chats_in_database"] = len(chats)
        partner = chat.handles[0] if len(chat.handles) == 1 else None
        cid = options.conversation_id or f"imessage-{(chat.identifiers or chat.handles)[0]}"
        reactions = self._tapbacks(con, chat, cols, me, partner, report, member)
        yield from self._messages(con, chat, cols, me, partner, cid, reactions, label, report,
                                  member)

    def _chats(self, con: sqlite3.Connection) -> list[_Chat]:
        ccols = {r[1] for r in con.execute("PRAGMA table_info(chat)")}
        name_col = "c.display_name" if "display_name" in ccols else "NULL"
        rows = con.execute(
            f"""SELECT c.ROWID, c.chat_identifier, {name_col},
                   (SELECT COUNT(*) FROM chat_message_join j WHERE j.chat_id = c.ROWID),
                   (SELECT group_concat(h.id, char(31)) FROM chat_handle_join ch
                      JOIN handle h ON h.ROWID = ch.handle_id WHERE ch.chat_id = c.ROWID)
                FROM chat c ORDER BY c.ROWID"""
            if "chat_handle_join" in self._tables(con) else
            f"""SELECT c.ROWID, c.chat_identifier, {name_col},
                   (SELECT COUNT(*) FROM chat_message_join j WHERE j.chat_id = c.ROWID), NULL
                FROM chat c ORDER BY c.ROWID""").fetchall()
        groups: dict[tuple[str, ...], _Chat] = {}
        for rowid, ident, name, count, handles in rows:
            hs = tuple(sorted({h for h in (handles or "").split("\x1f") if h}))
            key = hs or (f"chat:{ident or rowid}",)
            chat = groups.setdefault(key, _Chat(hs))
            chat.rowids.append(rowid)
            if ident and ident not in chat.identifiers:
                chat.identifiers.append(ident)
            chat.names.append(name or "")
            chat.count += count or 0
        return sorted((c for c in groups.values() if c.count),
                      key=lambda c: (-c.count, c.label()))

    @staticmethod
    def _chats_by_handle(con: sqlite3.Connection) -> list[_Chat]:
        rows = con.execute(
            """SELECT h.ROWID, h.id, (SELECT COUNT(*) FROM message m WHERE m.handle_id = h.ROWID)
               FROM handle h ORDER BY h.ROWID""").fetchall()
        groups: dict[str, _Chat] = {}
        for rowid, handle, count in rows:
            chat = groups.setdefault(str(handle), _Chat((str(handle),)))
            chat.rowids.append(rowid)
            chat.count += count or 0
        return sorted((c for c in groups.values() if c.count),
                      key=lambda c: (-c.count, c.label()))

    @staticmethod
    def _col(cols: set[str], name: str) -> str:
        return f"m.{name}" if name in cols else "NULL"

    def _tapbacks(self, con: sqlite3.Connection, chat: _Chat, cols: set[str], me: str,
                  partner: str | None, report: ImportReport,
                  member: str) -> dict[str, list[Reaction]]:
        """Reactions by target guid, after applying every add and removal in time order."""
        if "associated_message_type" not in cols:
            return {}
        table = _types()["tapbacks"]
        marks = ",".join("?" * len(chat.rowids))
        emoji_col = self._col(cols, "associated_message_emoji")
        rows = con.execute(
            f"""SELECT m.ROWID, m.associated_message_guid, m.associated_message_type,
                       {emoji_col}, m.is_from_me, h.id, m.date
                FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id
                WHERE {member.format(marks=marks)}
                  AND m.associated_message_type BETWEEN 2000 AND 3999
                ORDER BY m.date, m.ROWID""", chat.rowids)
        state: dict[str, dict[str, tuple[int, Reaction]]] = {}
        added = removed = 0
        for rowid, target, atype, emoji, from_me, handle, date in rows:
            guid = target_guid(target)
            if guid is None:
                report.flag(rowid, "tapback without a target message")
                continue
            base = atype if atype < 3000 else atype - 1000
            symbol = emoji if base == 2006 else table.get(str(base))
            sender = me if from_me else (partner or handle or "")
            per_msg = state.setdefault(guid, {})
            if atype < 3000:
                if not symbol:
                    report.flag(rowid, f"tapback of unknown type {atype}")
                    continue
                per_msg[sender] = (base, Reaction(symbol, sender, apple_time(date)))
                added += 1
            else:
                if sender in per_msg and per_msg[sender][0] == base:
                    del per_msg[sender]
                removed += 1
        if added or removed:
            report.details["tapbacks"] = {"added": added, "removed": removed}
        return {guid: [r for _, r in per.values()] for guid, per in state.items() if per}

    def _messages(self, con: sqlite3.Connection, chat: _Chat, cols: set[str], me: str,
                  partner: str | None, cid: str, reactions: dict[str, list[Reaction]],
                  label: str, report: ImportReport, member: str) -> Iterator[Message]:
        c = self._col
        marks = ",".join("?" * len(chat.rowids))
        tapback_filter = ("AND (m.associated_message_type IS NULL OR "
                          "m.associated_message_type NOT BETWEEN 2000 AND 3999)"
                          if "associated_message_type" in cols else "")
        sql = f"""
            SELECT m.ROWID, {c(cols, "guid")}, m.text, {c(cols, "attributedBody")}, m.is_from_me,
                   h.id,
                   m.date, {c(cols, "date_edited")}, {c(cols, "date_retracted")},
                   {c(cols, "thread_originator_guid")}, {c(cols, "associated_message_type")},
                   {c(cols, "associated_message_guid")}, {c(cols, "cache_has_attachments")},
                   {c(cols, "item_type")}, {c(cols, "group_action_type")},
                   {c(cols, "group_title")}, {c(cols, "message_summary_info")},
                   {c(cols, "balloon_bundle_id")}, {c(cols, "is_audio_message")},
                   {c(cols, "service")}
            FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id
            WHERE {member.format(marks=marks)}
              {tapback_filter}
            ORDER BY m.date, m.ROWID"""
        has_attachments = "message_attachment_join" in self._tables(con)
        events = _types()["events"]
        sticker_type = _types()["sticker"]
        rowid = 0
        cursor = con.execute(sql, chat.rowids)
        while True:
            try:
                row = cursor.fetchone()
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise InputError.from_code("E161", path=label, row=rowid, detail=exc) from exc
            if row is None:
                break
            (rowid, guid, text, body, from_me, handle, date, edited_at, retracted_at, thread,
             atype, aguid, cache_att, item_type, action, title, summary, bundle, audio,
             service) = row
            timestamp = apple_time(date)
            if timestamp is None:
                report.skip(rowid, "message without a date", text or "")
                continue
            sender = me if from_me else (partner or handle or "")
            if not text:
                text = decode_attributed_body(body) or ""
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            extra: dict[str, Any] = {}
            if service:
                extra["service"] = service
            info = summary_info(summary)
            kind = "text"
            if item_type:
                kind = "event"
                key = f"{item_type}:{action or 0}"
                text = events.get(key) or events.get(str(item_type)) or f"event {item_type}"
                if title:
                    extra["group_title"] = title
                extra["item_type"] = item_type
            attachments: list[dict[str, Any]] = []
            if kind != "event" and has_attachments and (cache_att or _OBJ in text or audio):
                attachments = self._attachments(con, rowid)
            unsent = bool(retracted_at) or bool(info.get("rp")) or (
                bool(edited_at) and not text.strip() and not attachments and not info.get("ec"))
            if kind == "event":
                pass
            elif unsent:
                kind = "deleted"
                text = text.replace(_OBJ, "").strip()
            elif attachments or _OBJ in text or audio or atype == sticker_type:
                kind = "attachment"
                text = text.replace(_OBJ, "").strip()
                if attachments:
                    extra["attachments"] = attachments
                if atype == sticker_type:
                    extra["sticker_on"] = target_guid(aguid)
            elif not text.strip():
                if bundle:
                    kind = "attachment"
                else:
                    report.skip(rowid, "message with no text and no attachment", "")
                    continue
            if bundle:
                extra["app"] = bundle
            edited = bool(edited_at) and kind != "deleted"
            if edited and info.get("ec"):
                history = edit_history(info["ec"])
                if history:
                    extra["edit_history"] = history
            if kind == "text" and not atype:
                # a tapback sent to or from a phone without them arrives as text
                # ('Loved “see you”'): a reaction, not a message
                reaction = sms_reaction(text)
                if reaction:
                    kind = "event"
                    extra.update(reaction)
            if kind != "event" and not sender:
                report.flag(rowid, "message from an unknown handle", text)
            yield Message(
                conversation_id=cid,
                message_id=guid or f"{cid}-{rowid}",
                sender=sender if kind != "event" or not from_me else me,
                timestamp=timestamp,
                text=text,
                kind=kind,
                reply_to=thread or None,
                reactions=tuple(reactions.get(guid, ())),
                edited=edited,
                # test databases built by hand can have text ROWIDs
                source=Source(format="imessage", path=label,
                              line=rowid if isinstance(rowid, int) else None,
                              time_basis="instant"),
                extra=extra,
            )

    @staticmethod
    def _attachments(con: sqlite3.Connection, rowid: int) -> list[dict[str, Any]]:
        acols = {r[1] for r in con.execute("PRAGMA table_info(attachment)")}
        wanted = [n for n in ("filename", "mime_type", "transfer_name", "total_bytes")
                  if n in acols]
        if not wanted:
            return []
        rows = con.execute(
            f"""SELECT {", ".join("a." + n for n in wanted)} FROM message_attachment_join j
                JOIN attachment a ON a.ROWID = j.attachment_id WHERE j.message_id = ?
                ORDER BY a.ROWID""", (rowid,)).fetchall()
        return [{k: v for k, v in zip(wanted, r, strict=True) if v is not None} for r in rows]
