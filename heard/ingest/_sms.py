"""Android "SMS Backup & Restore" (SyncTech) XML backups: ``<smses>`` with ``<sms>`` and ``<mms>``.

Shapes (``shared/design/import-formats.md`` 4.6): ``<sms address date type body contact_name …/>``
with ``type`` 1 received, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued; ``<mms date msg_box
address contact_name …>`` holding ``<parts><part ct text data …/></parts>`` and ``<addrs><addr
address type/></addrs>`` (137 = from, 151 = to).

The file is parsed as a stream with expat, the parser beneath ``xml.etree.ElementTree``
``iterparse``, used directly so that every message knows the line it starts on and no element
tree is built: memory holds one message (and one MMS part's base64 data, which expat must keep
while it reads the attribute). Before the parser sees the bytes, a streaming filter repairs
what other tools write into this format and XML forbids: UTF-16 surrogate pairs written as two
character references (``&#55357;&#56838;``) become one reference to the real character, a lone
surrogate reference becomes U+FFFD, and references to (or raw bytes of) control characters are
dropped. Each repair is counted in the report.

A backup holds every conversation on the phone. The backup is read twice: once to list its
conversations (by the other party's normalised phone number), then to stream the chosen one.
``--chat`` picks it by number, contact name, or the position in the list.

``Source.line`` is the line of the ``<sms>`` or ``<mms>`` start tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from xml.parsers import expat

from heard.errors import ExportFormatError, InputError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._chats import choose, refuse_group
from heard.ingest._members import Member, iter_members, natural_key, read_head
from heard.ingest._phone import normalize_phone, phone_key
from heard.ingest._tapback import reaction_from_text
from heard.ingest._xml_repair import _Filter, _Repairs, repair_references
from heard.model import Message, Source

__all__ = ["SmsReader", "normalize_phone", "phone_key", "reaction_from_text", "repair_references"]

_SMS_TYPES = {1: "received", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
_UNKNOWN_CONTACT = frozenset({"", "(unknown)", "null", "unknown"})
_ADDR_FROM = "137"
_ADDR_TO = "151"

# --------------------------------------------------------------------------- reader


@dataclass
class _Conversation:
    key: frozenset[str]
    addresses: list[str]
    names: list[str]
    count: int = 0
    first_line: int = 0

    def label(self) -> str:
        parts = []
        for i, addr in enumerate(self.addresses):
            name = self.names[i] if i < len(self.names) else ""
            parts.append(f"{name} ({addr})" if name else addr)
        return ", ".join(parts) + f" — {self.count} message" + ("s" if self.count != 1 else "")


@dataclass
class _Record:
    tag: str
    line: int
    attrs: dict[str, str]
    parts: list[dict[str, str]] = field(default_factory=list)
    addrs: list[dict[str, str]] = field(default_factory=list)


def _split_addresses(rec: _Record) -> tuple[list[str], list[str], frozenset[str]]:
    """``(addresses, contact names, conversation key)`` of a record.

    An MMS without an ``address`` attribute still says who it is with in its ``<addrs>``: the
    sender (137) of a received one, the recipients (151) of a sent one.
    """
    attrs = rec.attrs
    address = attrs.get("address", "")
    if not address.strip() and rec.tag == "mms" and rec.addrs:
        kind = _ADDR_TO if attrs.get("msg_box") == "2" else _ADDR_FROM
        address = "~".join(x.get("address", "") for x in rec.addrs if x.get("type") == kind)
    return _addresses(address, attrs.get("contact_name", "") or "")


@lru_cache(maxsize=8192)
def _addresses(address: str, contact: str) -> tuple[list[str], list[str], frozenset[str]]:
    # a phone has few distinct correspondents, so this runs once per address, not per message
    raw = [a for a in re.split(r"[~,;]", address) if a.strip()]
    addresses = list(dict.fromkeys(normalize_phone(a) for a in raw))
    names = [n.strip() for n in contact.split(",")] if len(addresses) > 1 else [contact.strip()]
    names = [n if n.casefold() not in _UNKNOWN_CONTACT else "" for n in names]
    if len(names) != len(addresses):
        names = [""] * len(addresses)
    return addresses, names, frozenset(phone_key(a) for a in addresses)


def _want_xml(rel: str) -> bool:
    return rel.lower().endswith(".xml")


@register
class SmsReader(Reader):
    name = "sms"
    key = "heard.reader.sms-backup-restore.v1"
    description = "Android 'SMS Backup & Restore' XML backup (sms and mms); file, folder or zip"

    def sniff(self, source: Input) -> float:
        if not source.is_dir and not source.is_zip:
            head = source.head[:8192]
            if b"<smses" in head:
                return 0.95
            return 0.0
        try:
            members = self._backups(source)
        except InputError:
            return 0.0
        return 0.9 if members else 0.0

    def _backups(self, source: Input) -> list[Member]:
        members = iter_members(source, _want_xml)
        if not source.is_dir and not source.is_zip:
            return members
        return [m for m in members if b"<smses" in read_head(m, 8192)]

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        backups = self._backups(source)
        if not backups:
            raise ExportFormatError.from_code(
                "E159", path=source.name, app="SMS Backup & Restore",
                detail="no .xml file with an <smses> element")
        backups.sort(key=lambda m: natural_key(m.name))
        member = backups[-1]
        if len(backups) > 1:
            report.warn(f"found {len(backups)} backups; read the last one by name, "
                        f"'{member.name}'. Pass a single file to read another")
        if not read_head(member, 4096).strip():
            raise InputError.from_code("E002", path=member.label)
        conversations = self._survey(member)
        if not conversations:
            raise InputError.from_code("E015", path=member.label, detail="no <sms> or <mms>")
        ordered = sorted(conversations.values(), key=lambda c: (-c.count, c.first_line))
        labels = [c.label() for c in ordered]

        def matches(i: int, sel: str) -> bool:
            conv = ordered[i]
            if sum(ch.isdigit() for ch in sel) >= 5:
                return phone_key(sel) in conv.key
            low = sel.casefold()
            return any(n.casefold() == low for n in conv.names if n)

        index = choose(options.chat, member.label, labels, matches,
                       lambda i: len(ordered[i].key) == 1)
        chosen = ordered[index]
        refuse_group(member.label, [options.me or "me"] + [
            n or a for a, n in zip(chosen.addresses, chosen.names, strict=False)], options)
        report.details["chat"] = chosen.label()
        if len(ordered) > 1:
            report.details["chats_in_backup"] = len(ordered)
        yield from self._messages(member, chosen, options, report)

    # -- parsing
    def _records(self, member: Member, *, children: bool,
                 repairs: _Repairs | None = None) -> Iterator[_Record]:
        """Stream the ``<sms>`` and ``<mms>`` records of a backup, in file order."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        ready: list[_Record] = []
        current: list[_Record | None] = [None]
        root: list[str] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            line = parser.CurrentLineNumber
            if not root:
                root.append(tag)
                if tag != "smses":
                    what = "a call log" if tag == "calls" else f"<{tag}>"
                    raise ExportFormatError.from_code(
                        "E152", path=member.label, line=line, app="SMS Backup & Restore",
                        detail=f"the root element is {what}, not <smses>")
                return
            if tag == "sms":
                ready.append(_Record("sms", line, attrs))
            elif tag == "mms":
                current[0] = _Record("mms", line, attrs)
            elif current[0] is not None:
                # the addresses are always read (an MMS may name its chat only there); the
                # parts only when the messages are made
                if tag == "addr":
                    current[0].addrs.append(attrs)
                elif children and tag == "part":
                    attrs.pop("data", None)
                    current[0].parts.append(attrs)

        def end(tag: str) -> None:
            if tag == "mms" and current[0] is not None:
                ready.append(current[0])
                current[0] = None

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        filt = _Filter(repairs if repairs is not None else _Repairs())
        try:
            raw = member.open()
        except OSError as exc:
            raise InputError.from_code("E160", path=member.label, member=member.name,
                                       detail=exc) from exc
        with raw:
            while True:
                try:
                    chunk = raw.read(1 << 16)
                except Exception as exc:  # zlib.error, BadZipFile, EOFError, OSError
                    raise InputError.from_code("E160", path=member.label, member=member.name,
                                               detail=str(exc) or type(exc).__name__) from exc
                data = filt.feed(chunk, final=not chunk)
                try:
                    parser.Parse(data, not chunk)
                except (expat.ExpatError, LookupError, ValueError) as exc:  # Lookup-, Value-
                    raise InputError.from_code(  # Error: an encoding expat can't read
                        "E158", path=member.label, line=parser.ErrorLineNumber,
                        column=parser.ErrorColumnNumber + 1, detail=expat.ErrorString(exc.code)
                        if isinstance(exc, expat.ExpatError) else exc) from exc
                yield from ready
                ready.clear()
                if not chunk:
                    break
        if not root:
            raise InputError.from_code("E002", path=member.label)

    def _survey(self, member: Member) -> dict[frozenset[str], _Conversation]:
        conversations: dict[frozenset[str], _Conversation] = {}
        for rec in self._records(member, children=False):
            addresses, names, key = _split_addresses(rec)
            conv = conversations.get(key)
            if conv is None:
                conv = conversations[key] = _Conversation(key, list(addresses), list(names),
                                                          first_line=rec.line)
            elif not any(conv.names) and any(names):
                conv.names = list(names)
            conv.count += 1
        return conversations

    def _messages(self, member: Member, conv: _Conversation, options: ReadOptions,
                  report: ImportReport) -> Iterator[Message]:
        me = options.me or "me"
        display = {phone_key(a): (n or a) for a, n in zip(conv.addresses, conv.names,
                                                           strict=False)}
        cid = options.conversation_id or "sms-" + "-".join(
            sorted(re.sub(r"\W", "", a) for a in conv.addresses))
        repairs = _Repairs()
        total = 0
        last_line, on_line = 0, 0
        for rec in self._records(member, children=True, repairs=repairs):
            if _split_addresses(rec)[2] != conv.key:
                continue
            total += 1
            on_line = on_line + 1 if rec.line == last_line else 1
            last_line = rec.line
            message = self._message(rec, member, conv, display, me, cid, report)
            if message is not None:
                if on_line > 1:
                    message = Message(**{**_fields(message),
                                         "message_id": f"{message.message_id}-{on_line}"})
                yield message
        fixed = repairs.as_dict()
        if fixed:
            report.details["repaired"] = fixed
            report.warn("repaired invalid character references in the backup ("
                        + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in fixed.items())
                        + ")")
        report.details["records"] = total

    def _message(self, rec: _Record, member: Member, conv: _Conversation,
                 display: dict[str, str], me: str, cid: str,
                 report: ImportReport) -> Message | None:
        a = rec.attrs
        try:
            ms = int(a.get("date", ""))
            timestamp = datetime.fromtimestamp(ms / 1000.0, tz=UTC)
        except (ValueError, OverflowError, OSError):
            report.skip(rec.line, f"<{rec.tag}> without a readable date "
                        f"('{a.get('date', '')[:20]}')", a.get("body", ""))
            return None
        box_attr = "type" if rec.tag == "sms" else "msg_box"
        try:
            box = int(a.get(box_attr, ""))
        except ValueError:
            box = 0
        if box not in (1, 2):
            what = _SMS_TYPES.get(box, f"{box_attr}={a.get(box_attr, '')!r}")
            report.skip(rec.line, f"{what} message, never sent or received", a.get("body", ""))
            return None
        extra: dict[str, Any] = {}
        if box == 2:
            sender = me
        elif rec.tag == "sms" or len(conv.key) == 1:
            sender = display.get(next(iter(conv.key)) if len(conv.key) == 1
                                 else phone_key(a.get("address", "")), a.get("address", ""))
        else:
            froms = [x.get("address", "") for x in rec.addrs if x.get("type") == _ADDR_FROM]
            key = _addresses(froms[0], "")[2] if froms else frozenset()
            key = next(iter(key)) if len(key) == 1 else ""
            sender = display.get(key) or (normalize_phone(froms[0]) if froms else "")
            if not sender:
                report.flag(rec.line, "group MMS without a sender address", "")
        if rec.tag == "sms":
            text = a.get("body", "")
            attachments: list[dict[str, str]] = []
        else:
            texts, attachments = [], []
            for part in rec.parts:
                ct = part.get("ct", "")
                if ct == "text/plain":
                    texts.append(part.get("text", ""))
                elif ct and ct != "application/smil":
                    attachments.append({"ct": ct, "name": part.get("name") or part.get("cl")
                                        or ""})
            text = "\n".join(t for t in texts if t)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        kind = "attachment" if attachments else "text"
        if attachments:
            extra["attachments"] = attachments
        if kind == "text":
            reaction = reaction_from_text(text)
            if reaction:
                kind = "event"
                extra.update(reaction)
        if kind == "text" and not text:
            report.skip(rec.line, f"<{rec.tag}> with no text and no attachment", "")
            return None
        if rec.tag == "mms":
            extra["mms"] = True
        return Message(
            conversation_id=cid,
            message_id=f"{cid}-{rec.line}",
            sender=sender,
            timestamp=timestamp,
            text=text,
            kind=kind,
            source=Source(format="sms", path=member.label, line=rec.line, time_basis="instant"),
            extra=extra,
        )


def _fields(message: Message) -> dict[str, Any]:
    return {name: getattr(message, name) for name in (
        "conversation_id", "message_id", "sender", "timestamp", "text", "kind", "reply_to",
        "reactions", "edited", "source", "extra")}
