"""Facebook Messenger and Instagram "Download your information" JSON, and the E2EE export.

Shapes read (see ``shared/design/import-formats.md`` 4.4):

* the DYI download: ``…/messages/{inbox,archived_threads,filtered_threads,message_requests,
  e2ee_cutover}/<name>_<id>/message_N.json``, each ``{"participants": [{"name"}], "messages":
  [{"sender_name", "timestamp_ms", "content", "photos", …}], "title", …}``, newest first, every
  string written as UTF-8 bytes in ``\\u00XX`` escapes (mojibake);
* the end-to-end-encrypted export (``messenger.com/secure_storage/dyi``): one ``<Name>_<n>.json``
  per chat, ``{"participants": ["A", "B"], "threadName", "messages": [{"senderName",
  "timestamp", "text", "type", "media", "reactions", "isUnsent"}]}``, no mojibake.

An input may be one file, a thread folder, the whole download (folder or zip, or a folder holding
the download's zip parts and the E2EE export). The files of one chat (same participants) are
merged into one chronological stream: each file is parsed as a stream and spooled to a temporary
file in small pickled segments, so that a newest-first file is replayed backwards without holding
it in memory; the files are then merged by time, opening a file only when the merge reaches its
first message. A message that appears in two files (same time to the millisecond, sender and
content) is kept once.

``Source.line`` is the line of the JSON file where the message object starts.
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from heard.errors import ExportFormatError, InputError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._chats import choose, refuse_group
from heard.ingest._json import JsonStream
from heard.ingest._members import MEDIA_DIRS, Member, iter_members, natural_key, read_head
from heard.ingest._meta_json import fix_mojibake, meta_message, with_id
from heard.ingest._spool import Spool
from heard.model import Message

__all__ = [
    "InstagramReader",
    "Member",
    "MessengerReader",
    "choose",
    "fix_mojibake",
    "iter_members",
    "refuse_group",
]


_SECTIONS = ("inbox", "archived_threads", "filtered_threads", "message_requests", "e2ee_cutover")
_MESSAGE_FILE = re.compile(r"message_\d+\.json$")


@dataclass
class _ThreadFile:
    member: Member
    e2ee: bool
    participants: tuple[str, ...]
    section: str
    folder: str
    spool: Spool | None = None
    backwards: bool = False


@dataclass
class _Chat:
    participants: frozenset[str]
    files: list[_ThreadFile] = field(default_factory=list)

    @property
    def folder(self) -> str:
        dyi = [f.folder for f in self.files if not f.e2ee]
        return (dyi or [f.folder for f in self.files])[0]

    def label(self) -> str:
        names = sorted(self.participants) or ["(no participants)"]
        return " & ".join(names) + f" [{self.folder}]"


def _want_json(rel: str) -> bool:
    low = rel.lower()
    if not low.endswith(".json"):
        return False
    parts = low.split("/")
    return bool(_MESSAGE_FILE.search(parts[-1])) or "messages" in parts[:-1] or len(parts) <= 2


def _is_instagram(member: Member) -> bool:
    return "instagram" in member.label.lower()


def _sniff_json_head(head: bytes) -> str | None:
    """``"dyi"``, ``"e2ee"`` or None for the first bytes of a JSON file."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return None
    if b'"timestamp_ms"' in text and b'"sender_name"' in text:
        # one Instagram layout has "messages" alone, without "participants"
        return "dyi"
    if b'"participants"' in text and b'"thread_path"' in text:
        return "dyi"
    if b'"senderName"' in text or (b'"threadName"' in text and b'"participants"' in text):
        return "e2ee"
    return None


@register
class MessengerReader(Reader):
    name = "messenger"
    key = "heard.reader.messenger.v1"
    description = ("Facebook Messenger 'Download your information' JSON (file, folder or zip), "
                   "and the end-to-end encrypted chats export")
    app = "Messenger"

    # -- detection
    def _candidates(self, source: Input) -> list[Member]:
        return iter_members(source, _want_json)

    def sniff(self, source: Input) -> float:
        if source.is_dir or source.is_zip:
            try:
                found = self._sniff_container(source)
            except InputError:
                return 0.0
        else:
            kind = _sniff_json_head(source.head)
            found = (kind, "instagram" in source.name.lower()) if kind else None
        if not found:
            return 0.0
        _, instagram = found
        return self._score(instagram)

    def _score(self, instagram: bool) -> float:
        return 0.85 if instagram else 0.95

    def _sniff_container(self, source: Input) -> tuple[str, bool] | None:
        if source.is_dir:
            assert source.path is not None
            # cheap: look for the usual folders before reading any file
            for base in (source.path, source.path / "your_facebook_activity",
                         source.path / "your_instagram_activity"):
                inbox = base / "messages" / "inbox"
                if inbox.is_dir():
                    return "dyi", "instagram" in str(inbox).lower()
            for part in sorted(source.path.glob("*.zip"))[:20]:
                try:
                    names = Input(part, name=str(part)).zip().namelist()
                except InputError:
                    continue
                if any(_MESSAGE_FILE.search(n) and "/messages/" in "/" + n for n in names):
                    return "dyi", "instagram" in (str(part) + " ".join(names[:50])).lower()
        members = self._candidates(source) if source.is_zip else _shallow_json(source)
        members.sort(key=lambda m: not _MESSAGE_FILE.search(m.name))
        for member in members[:50]:
            kind = _sniff_json_head(read_head(member))
            if kind:
                return kind, _is_instagram(member)
        return None

    # -- reading
    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        files = []
        for member in self._candidates(source):
            single = not source.is_dir and not source.is_zip
            head = source.head if single else read_head(member)
            kind = _sniff_json_head(head)
            if kind is None and not source.is_dir and not source.is_zip:
                if b'"participants"' not in head:
                    self._not_this(source, head)
                kind = "dyi"  # asked for by name, or cut off early: parse it and say where
            if kind is None:
                continue
            files.append(self._header(member, kind == "e2ee"))
        if not files:
            raise ExportFormatError.from_code(
                "E159", path=source.name, app=self.app,
                detail="no message_N.json file and no end-to-end encrypted chat file")
        chats: dict[frozenset[str], _Chat] = {}
        for tf in sorted(files, key=lambda f: (f.e2ee, natural_key(f.member.name))):
            key = frozenset(tf.participants)
            chats.setdefault(key, _Chat(key)).files.append(tf)
        ordered = sorted(chats.values(), key=lambda c: natural_key(c.label()))
        labels = [c.label() for c in ordered]

        def matches(i: int, sel: str) -> bool:
            chat = ordered[i]
            low = sel.casefold()
            return (any(p.casefold() == low for p in chat.participants)
                    or any(f.folder.casefold() == low or f.folder.casefold().startswith(low + "_")
                           for f in chat.files))

        if len(ordered) > 1 and options.chat is None and options.pair:
            wanted = frozenset(options.pair)
            pick = [i for i, c in enumerate(ordered) if wanted <= c.participants]
            index = pick[0] if len(pick) == 1 else choose(None, source.name, labels, matches)
        else:
            index = choose(options.chat, source.name, labels, matches,
                           lambda i: len(ordered[i].participants) <= 2)
        chat = ordered[index]
        refuse_group(source.name, sorted(chat.participants), options)
        report.details["chat"] = chat.label()
        report.details["files"] = len(chat.files)
        if len(ordered) > 1:
            report.details["chats_in_export"] = len(ordered)
        yield from self._read_chat(chat, options, report)

    def _not_this(self, source: Input, head: bytes) -> None:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text:
            raise InputError.from_code("E002", path=source.name)
        if not text.startswith(b"{"):
            raise ExportFormatError.from_code(
                "E152", path=source.name, line=1, app=self.app,
                detail="the file does not start with a JSON object")
        raise ExportFormatError.from_code(
            "E152", path=source.name, line=1, app=self.app,
            detail="it has no 'participants' with 'sender_name'/'timestamp_ms' messages, "
                   "nor 'senderName' messages")

    def _header(self, member: Member, e2ee: bool) -> _ThreadFile:
        participants: list[str] = []
        with member.open() as raw:
            stream = JsonStream(raw, member.label)
            for key in stream.iter_object():
                if key == "participants":
                    value = stream.value()
                    if isinstance(value, list):
                        for p in value:
                            name = p.get("name") if isinstance(p, dict) else p
                            if isinstance(name, str):
                                participants.append(name if e2ee else fix_mojibake(name))
                    break
                if key == "messages":
                    break
                stream.skip_value()
        parts = member.parts
        section = next((p for p in reversed(parts[:-1]) if p in _SECTIONS), "")
        if e2ee:
            section, folder = "e2ee", Path(member.name).stem
        else:
            folder = parts[-2] if len(parts) >= 2 else Path(member.name).stem
        return _ThreadFile(member, e2ee, tuple(dict.fromkeys(participants)), section, folder)

    def _spool(self, tf: _ThreadFile, report: ImportReport) -> None:
        """Parse one file into a spool of ``(ts_ms, line, raw, extra_header)`` items."""
        spool = Spool()
        with tf.member.open() as raw:
            stream = JsonStream(raw, tf.member.label)
            if stream.peek() != "{":
                raise stream.error("the file does not start with a JSON object")
            seen_messages = False
            for key in stream.iter_object():
                if key != "messages":
                    stream.skip_value()
                    continue
                seen_messages = True
                if stream.peek() != "[":
                    raise stream.error("'messages' is not a list")
                ts_key = "timestamp" if tf.e2ee else "timestamp_ms"
                for line, item in stream.iter_array():
                    if not isinstance(item, dict):
                        report.skip(line, "message is not a JSON object", str(item))
                        continue
                    ts = item.get(ts_key)
                    ts = int(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) \
                        else None
                    spool.add(ts, (ts, line, item))
            if not seen_messages:
                report.warn(f"'{tf.member.label}' has no 'messages' list")
        if spool.first_ts is not None and spool.last_ts is not None:
            tf.backwards = spool.first_ts > spool.last_ts
        else:
            tf.backwards = not tf.e2ee
        tf.spool = spool

    def _merged(self, chat: _Chat, report: ImportReport) -> Iterator[tuple[_ThreadFile, Any]]:
        """Items of every file of ``chat`` in time order (file order kept within a file)."""
        for tf in chat.files:
            self._spool(tf, report)
        pending = sorted((tf for tf in chat.files if tf.spool and tf.spool.count),
                         key=lambda tf: (tf.spool.min_ts if tf.spool.min_ts is not None  # type: ignore[union-attr]
                                         else -1))
        heap: list[tuple[int, int, int, Any, Iterator[Any], _ThreadFile]] = []
        seq = 0

        def activate(tf: _ThreadFile) -> None:
            nonlocal seq
            it = tf.spool.replay(tf.backwards)  # type: ignore[union-attr]
            first = next(it, None)
            if first is not None:
                seq += 1
                heapq.heappush(heap, (first[0] if first[0] is not None else -1, seq, 0, first,
                                      it, tf))

        pos = 0
        try:
            while heap or pos < len(pending):
                if not heap:
                    activate(pending[pos])
                    pos += 1
                    continue
                top_ts = heap[0][0]
                while pos < len(pending) and (pending[pos].spool.min_ts or -1) <= top_ts:  # type: ignore[union-attr]
                    activate(pending[pos])
                    pos += 1
                ts, order, _, item, it, tf = heapq.heappop(heap)
                yield tf, item
                nxt = next(it, None)
                if nxt is not None:
                    # keep this file's own order: an earlier time later in the file stays after
                    key = nxt[0] if nxt[0] is not None and nxt[0] >= ts else ts
                    heapq.heappush(heap, (key, order, 0, nxt, it, tf))
        finally:
            for tf in chat.files:
                if tf.spool:
                    tf.spool.close()

    def _read_chat(self, chat: _Chat, options: ReadOptions,
                   report: ImportReport) -> Iterator[Message]:
        cid = options.conversation_id or chat.folder
        fmt = self.name
        last_key_ts: int | None = None
        keys_at_ts: set[tuple[Any, ...]] = set()
        ids_at_ts = 0
        duplicates = 0
        has_e2ee = any(tf.e2ee for tf in chat.files)
        cutover = [tf for tf in chat.files if tf.section == "e2ee_cutover"]
        e2ee_notice = False
        last_dyi: datetime | None = None
        for tf, (ts_ms, line, raw) in self._merged(chat, report):
            message = meta_message(raw, e2ee=tf.e2ee, section=tf.section,
                                   path=tf.member.label, line=line, cid=cid, fmt=fmt,
                                   report=report)
            if message is None:
                continue
            if message.extra.get("system") == "e2ee_notice":
                e2ee_notice = True
            key = (message.sender, message.kind, message.text, len(message.extra.get(
                "attachments", ())))
            if ts_ms != last_key_ts:
                last_key_ts, keys_at_ts, ids_at_ts = ts_ms, set(), 0
            if key in keys_at_ts:
                duplicates += 1
                continue
            keys_at_ts.add(key)
            ids_at_ts += 1
            mid = f"{cid}-{ts_ms}" + (f"-{ids_at_ts}" if ids_at_ts > 1 else "")
            message = with_id(message, mid)
            if message.timestamp is not None and not tf.e2ee:
                last_dyi = message.timestamp
            yield message
        if duplicates:
            report.details["duplicates_merged"] = duplicates
        if (cutover or e2ee_notice) and not has_e2ee and len(chat.participants) <= 2:
            when = f" on {last_dyi.date().isoformat()}" if last_dyi else ""
            report.warn(
                f"this {self.app} chat stops at the end-to-end encryption cut-over{when}: newer "
                "messages are only in the separate end-to-end encrypted export "
                "(messenger.com/secure_storage/dyi); put it in the same folder to merge it")




def _shallow_json(source: Input, limit: int = 400) -> list[Member]:
    """JSON files at most two folders deep (for sniffing a folder without walking all of it)."""
    assert source.path is not None
    out: list[Member] = []
    root = source.path
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack and len(out) < limit:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir():
                if depth < 2 and entry.name.lower() not in MEDIA_DIRS:
                    stack.append((Path(entry.path), depth + 1))
            elif entry.name.lower().endswith(".json"):
                full = Path(entry.path)
                out.append(Member(str(full), full.relative_to(root).as_posix(),
                                  lambda full=full: open(full, "rb")))  # noqa: SIM115
    return out


@register
class InstagramReader(MessengerReader):
    name = "instagram"
    key = "heard.reader.instagram.v1"
    description = "Instagram 'Download your information' JSON messages (file, folder or zip)"
    app = "Instagram"

    def _score(self, instagram: bool) -> float:
        return 0.96 if instagram else 0.0

