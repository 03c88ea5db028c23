"""Signal: signal-export (``data.json``, ``chat.md``) and sigtop (JSON and text) exports.

Signal has no plaintext export of its own; these two tools read Signal Desktop's database.

* signal-export writes a folder per chat with ``data.json`` (one JSON object per line: ``date``,
  ``sender``, ``body``, ``quote``, ``sticker``, ``reactions``, ``attachments``, ``deleted``,
  ``call``, ``missed``) and ``chat.md`` (``[YYYY-MM-DD HH:MM:SS] Sender: body``). Its dates are
  the exporting machine's wall clock, placed in ``--tz``. ``Me`` is the exporter. heard prefers
  ``data.json`` when both are there.
* sigtop ``-f json`` writes an array of Signal Desktop's raw message objects (times are epoch
  milliseconds: real instants; ``type`` incoming/outgoing; ``quote.id`` is the quoted message's
  ``sent_at``). Raw messages carry no names: outgoing messages are "You" (as sigtop's text
  format writes), incoming ones get the conversation's name from the file name.
* sigtop ``-f text`` writes ``From:``/``Type:``/``Sent:`` blocks with offset-aware dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from heard.errors import ExportFormatError, InputError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._guard import as_list, loads
from heard.ingest._json import JsonStream, open_text
from heard.ingest._text import check_text, iter_json_lines, iter_lines
from heard.ingest._time import from_unix, place_wall_clock
from heard.model import Message, Reaction, Source

__all__ = ["SignalReader"]

_MD_HEADER = re.compile(
    r"^\[(?P<date>\d{4}-\d{2}-\d{2})(?:,? )(?P<time>\d{2}:\d{2}(?::\d{2})?)\] "
    r"(?P<sender>[^:\n]{1,100}?): ?(?P<body>.*)$")
_MD_REACTIONS = re.compile(r"\n?\(- (?P<list>.*) -\)$")
_MD_DELETED = "(This message was deleted)"
_MD_ATTACHMENT = re.compile(r"!?\[[^\]]*\]\(\./[^)]*\)")
_SIGTOP_TIME = "%a, %d %b %Y %H:%M:%S %z"
_EVENT_TYPES_OK = ("incoming", "outgoing")


def _shape(source: Input) -> tuple[str, Input]:
    """Which Signal export ``source`` is, and the file to read."""
    if source.is_dir:
        assert source.path is not None
        for name, shape in (("data.json", "data_json"), ("chat.md", "chat_md")):
            if (source.path / name).is_file():
                return shape, Input(source.path / name, name=str(source.path / name))
        raise ExportFormatError.from_code("E121", path=source.name)
    if source.path is not None and source.path.name == "chat.md":
        sibling = source.path.with_name("data.json")
        if sibling.is_file():
            return "data_json", Input(sibling, name=str(sibling))
    head = source.head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        after = head[1:].lstrip()
        if after.startswith(b"{") or after.startswith(b"]"):
            return "sigtop_json", source
        return "chat_md", source
    if head.startswith(b"{"):
        return "data_json", source
    if head.startswith(b"Conversation: ") or head.startswith(b"From: "):
        return "sigtop_text", source
    return "chat_md", source


@register
class SignalReader(Reader):
    name = "signal"
    key = "heard.reader.signal.v1"
    description = "Signal via signal-export (data.json, chat.md) or sigtop (JSON, text)"

    def sniff(self, source: Input) -> float:
        if source.is_zip:
            return 0.0
        if source.is_dir:
            p = source.path
            if p is not None and (p / "data.json").is_file() and (p / "chat.md").is_file():
                return 0.95
            return 0.0
        head = source.head.lstrip(b"\xef\xbb\xbf \t\r\n")[:8192]
        name = source.path.name if source.path is not None else ""
        if head.startswith(b"{"):
            first = head.split(b"\n", 1)[0]
            try:
                obj = loads(first)
            except ValueError:
                return 0.0
            keys = {"date", "sender", "body", "quote", "reactions", "attachments"}
            return 0.95 if isinstance(obj, dict) and keys <= set(obj) else 0.0
        if head.startswith(b"["):
            if b'"conversationId"' in head and (b'"sent_at"' in head or b'"received_at"' in head):
                return 0.95
            lines = head.decode("utf-8", "replace").splitlines()[:20]
            hits = sum(1 for ln in lines if _MD_HEADER.match(ln))
            if hits and name == "chat.md":
                return 0.96
            if hits and source.path is not None and source.path.with_name("data.json").is_file():
                return 0.96
            return 0.0
        if head.startswith(b"Conversation: ") and b"\nFrom: " in head and b"\nType: " in head:
            return 0.95
        return 0.0

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        shape, target = _shape(source)
        check_text(target)
        report.details["signal_export"] = {
            "data_json": "signal-export data.json", "chat_md": "signal-export chat.md",
            "sigtop_json": "sigtop JSON", "sigtop_text": "sigtop text"}[shape]
        cid = options.conversation_id or (
            Path(source.name).name if source.is_dir
            else (target.path.parent.name if shape in ("data_json", "chat_md")
                  and target.path is not None else source.stem))
        reader = {"data_json": self._data_json, "chat_md": self._chat_md,
                  "sigtop_json": self._sigtop_json, "sigtop_text": self._sigtop_text}[shape]
        yield from reader(target, cid, options, report)

    # -- signal-export ----------------------------------------------------------------------

    def _local(self, raw: Any, options: ReadOptions, report: ImportReport
               ) -> tuple[datetime | None, str, str | None]:
        try:
            naive = datetime.fromisoformat(str(raw))
        except ValueError:
            return None, "none", None
        if naive.tzinfo is not None:
            return naive, "instant", None
        stamp, basis, tz = place_wall_clock(naive, options.tz)
        if tz == "UTC (assumed)":
            report.warn("signal-export writes the exporting computer's clock time without a "
                        "zone; times were placed in UTC. Pass --tz to place them in your zone.")
        return stamp, basis, tz

    def _data_json(self, source: Input, cid: str, options: ReadOptions,
                   report: ImportReport) -> Iterator[Message]:
        for lineno, obj in iter_json_lines(source, options.encoding, error="E120"):
            if "sender" not in obj or "date" not in obj:
                raise ExportFormatError.from_code(
                    "E120", path=source.name, line=lineno,
                    detail="an object with 'date' and 'sender' was expected")
            stamp, basis, tz = self._local(obj.get("date"), options, report)
            if stamp is None:
                report.flag(lineno, "unreadable date; message kept without time",
                            str(obj.get("date")))
            sender = str(obj.get("sender") or "")
            body = str(obj.get("body") or "").replace("\r\n", "\n").replace("\r", "\n")
            extra: dict[str, Any] = {}
            kind = "text"
            if obj.get("deleted"):
                kind = "deleted"
            elif obj.get("call"):
                kind = "event"
                extra["subtype"] = "call"
                extra["missed"] = bool(obj.get("missed"))
            elif obj.get("attachments") or obj.get("sticker"):
                kind = "attachment"
            for key in ("quote", "attachments", "sticker"):
                if obj.get(key):
                    extra[key] = obj[key]
            if sender == "Me":
                report.details["exporter"] = "Me"
            yield Message(
                conversation_id=cid, message_id=f"{cid}-{lineno}", sender=sender,
                timestamp=stamp, text=body, kind=kind,
                reactions=tuple(_export_reaction(r) for r in as_list(obj.get("reactions"))
                                if _export_reaction(r) is not None),
                source=Source(format="signal", path=source.name, line=lineno,
                              time_basis=basis, tz=tz),
                extra=extra,
            )

    def _chat_md(self, source: Input, cid: str, options: ReadOptions,
                 report: ImportReport) -> Iterator[Message]:
        current: dict[str, Any] | None = None
        found = False
        for lineno, text in iter_lines(source, options.encoding):
            m = _MD_HEADER.match(text)
            if m:
                found = True
                if current:
                    yield self._md_message(current, source, cid, options, report)
                current = {"line": lineno, "m": m, "parts": [m.group("body")]}
            elif current is None:
                if text.strip():
                    report.skip(lineno, "text before the first message line", text)
            else:
                current["parts"].append(text)
        if current:
            yield self._md_message(current, source, cid, options, report)
        if not found:
            raise ExportFormatError.from_code(
                "E123", path=source.name,
                detail="no '[YYYY-MM-DD HH:MM:SS] Name: text' lines")

    def _md_message(self, current: dict[str, Any], source: Input, cid: str,
                    options: ReadOptions, report: ImportReport) -> Message:
        m = current["m"]
        parts = current["parts"]
        while len(parts) > 1 and not parts[-1].strip():
            parts.pop()
        body = "\n".join(parts)
        reactions: list[Reaction] = []
        rm = _MD_REACTIONS.search(body)
        if rm:
            for item in rm.group("list").split(", "):
                name, _, emoji = item.rpartition(": ")
                if name:
                    reactions.append(Reaction(emoji=emoji, sender=name))
            body = body[: rm.start()]
        extra: dict[str, Any] = {}
        qm = re.match(r"^\n*((?:>.*(?:\n|$))+)\n*", body)
        if qm and body.startswith("\n"):
            extra["quote"] = "\n".join(ln[1:].lstrip() for ln in qm.group(1).splitlines())
            body = body[qm.end():]
        kind = "text"
        if body == _MD_DELETED:
            kind = "deleted"
        elif _MD_ATTACHMENT.search(body) or body.startswith("\n((") or "\n(( " in body:
            kind = "attachment"
        raw_time = m.group("time") + (":00" if len(m.group("time")) == 5 else "")
        stamp, basis, tz = self._local(f"{m.group('date')}T{raw_time}", options, report)
        sender = m.group("sender")
        if sender == "Me":
            report.details["exporter"] = "Me"
        return Message(
            conversation_id=cid, message_id=f"{cid}-{current['line']}", sender=sender,
            timestamp=stamp, text=body, kind=kind, reactions=tuple(reactions),
            source=Source(format="signal", path=source.name, line=current["line"],
                          time_basis=basis, tz=tz),
            extra=extra,
        )

    # -- sigtop -----------------------------------------------------------------------------

    def _sigtop_json(self, source: Input, cid: str, options: ReadOptions,
                     report: ImportReport) -> Iterator[Message]:
        partner = source.stem
        names: dict[str, str] = {}
        with open_text(source, options.encoding) as f:
            js = JsonStream(f, source.name, error="E122")
            for _ in js.elements():
                js.peek()
                line = js.line
                obj = js.value()
                if not isinstance(obj, dict):
                    report.skip(line, "an entry that is not a JSON object", repr(obj))
                    continue
                msg = self._raw_message(obj, cid, line, partner, names, source, report)
                if msg is not None:
                    yield msg
            js.end()
        report.details["exporter"] = "You"

    def _raw_message(self, obj: dict[str, Any], cid: str, line: int, partner: str,
                     names: dict[str, str], source: Input,
                     report: ImportReport) -> Message | None:
        mtype = str(obj.get("type") or "")
        ms = obj.get("sent_at") or obj.get("timestamp") or obj.get("received_at_ms")
        stamp = None
        if isinstance(ms, int | float) and ms > 0:
            stamp = from_unix(ms / 1000.0)
        else:
            report.flag(line, "message without sent_at; kept without time", str(obj.get("id")))
        conv = str(obj.get("conversationId") or "")
        if mtype == "outgoing":
            sender = "You"
        elif mtype == "incoming":
            who = str(obj.get("sourceServiceId") or obj.get("sourceUuid") or obj.get("source")
                      or "")
            if who not in names:
                names[who] = partner if not names else (who or partner)
            sender = names[who]
        else:
            sender = ""
        body = str(obj.get("body") or "").replace("\r\n", "\n").replace("\r", "\n")
        extra: dict[str, Any] = {"signal_type": mtype} if mtype not in _EVENT_TYPES_OK else {}
        kind = "text"
        if mtype not in _EVENT_TYPES_OK:
            kind = "event"
            if mtype == "call-history":
                extra["subtype"] = "call"
                details = obj.get("callHistoryDetails") or obj.get("callId")
                if details:
                    extra["call"] = details
        elif obj.get("deletedForEveryone"):
            kind = "deleted"
        elif obj.get("attachments") or obj.get("sticker") or obj.get("isViewOnce"):
            kind = "attachment"
            if obj.get("attachments"):
                extra["attachments"] = [
                    {k: a.get(k) for k in ("fileName", "contentType", "size") if k in a}
                    for a in as_list(obj["attachments"]) if isinstance(a, dict)]
        quote = obj.get("quote")
        reply_to = None
        if isinstance(quote, dict) and quote.get("id") is not None:
            reply_to = f"{cid}-{quote['id']}"
        reactions = []
        for r in as_list(obj.get("reactions")):
            if not isinstance(r, dict) or not r.get("emoji"):
                continue
            who = "You" if r.get("fromId") and r.get("fromId") != conv else partner
            ts = r.get("timestamp")
            reactions.append(Reaction(
                emoji=str(r["emoji"]), sender=who,
                timestamp=from_unix(ts / 1000.0) if isinstance(ts, int | float) else None))
        edits = obj.get("editHistory")
        edited = bool(obj.get("editMessageTimestamp")) or (isinstance(edits, list)
                                                           and len(edits) > 1)
        return Message(
            conversation_id=cid, message_id=f"{cid}-{ms}", sender=sender, timestamp=stamp,
            text=body, kind=kind, reply_to=reply_to, reactions=tuple(reactions), edited=edited,
            source=Source(format="signal", path=source.name, line=line,
                          time_basis="instant" if stamp else "none"),
            extra=extra,
        )

    def _sigtop_text(self, source: Input, cid: str, options: ReadOptions,
                     report: ImportReport) -> Iterator[Message]:
        # A block starts after a blank line with "From: X" followed by "Type: ", or with
        # "Type: " alone (sigtop omits From when the sender is unknown).
        block: list[tuple[int, str]] = []
        found = False
        prev_blank = True
        for (lineno, text), nxt in _with_next(iter_lines(source, options.encoding)):
            starts = prev_blank and (
                (text.startswith("From: ") and nxt is not None and nxt.startswith("Type: "))
                or text.startswith("Type: "))
            if starts:
                if block:
                    yield self._text_block(block, source, cid, report)
                block = [(lineno, text)]
                found = True
            elif block:
                block.append((lineno, text))
            elif text.startswith("Conversation: "):
                report.details["conversation"] = text[len("Conversation: "):]
            elif text.strip():
                report.skip(lineno, "text before the first message block", text)
            prev_blank = not text.strip()
        if block:
            yield self._text_block(block, source, cid, report)
        if not found:
            raise ExportFormatError.from_code("E122", path=source.name, line=1,
                                              detail="no 'From:'/'Type:' message block")

    def _text_block(self, block: list[tuple[int, str]], source: Input, cid: str,
                    report: ImportReport) -> Message:
        fields: dict[str, list[str]] = {}
        i = 0
        while i < len(block) and block[i][1].strip():
            key, _, value = block[i][1].partition(": ")
            fields.setdefault(key, []).append(value)
            i += 1
        rest = [t for _, t in block[i:]]
        while rest and not rest[0].strip():
            rest.pop(0)
        while rest and not rest[-1].strip():
            rest.pop()
        quote = [t for t in rest if t.startswith(">")]
        history = [t for t in rest if t.startswith("|")]
        body_lines = [t for t in rest if not t.startswith((">", "|"))]
        while body_lines and not body_lines[0].strip():
            body_lines.pop(0)
        edited = "Edited" in fields
        if edited and history:
            body_lines = _latest_version(history)
        line = block[0][0]
        sender = (fields.get("From") or [""])[0]
        mtype = (fields.get("Type") or [""])[0]
        stamp = None
        sent = (fields.get("Sent") or [""])[0]
        if sent:
            try:
                stamp = datetime.strptime(sent, _SIGTOP_TIME)
            except ValueError:
                report.flag(line, "unreadable Sent: time; message kept without time", sent)
        kind = "text"
        extra: dict[str, Any] = {}
        if mtype not in _EVENT_TYPES_OK:
            kind = "event"
            extra["signal_type"] = mtype
            if mtype == "call-history":
                extra["subtype"] = "call"
            else:
                sender = ""
        elif "Attachment" in fields:
            kind = "attachment"
            extra["attachments"] = fields["Attachment"]
        if quote:
            extra["quote"] = "\n".join(q[1:].lstrip() for q in quote)
        reactions = []
        for r in fields.get("Reaction", []):
            emoji, _, who = r.partition(" from ")
            reactions.append(Reaction(emoji=emoji, sender=who or None))
        if mtype in _EVENT_TYPES_OK and not sender:
            raise InputError.from_code("E122", path=source.name, line=line,
                                       detail="a message block without 'From:'")
        return Message(
            conversation_id=cid, message_id=f"{cid}-{line}", sender=sender, timestamp=stamp,
            text="\n".join(body_lines), kind=kind, reactions=tuple(reactions), edited=edited,
            source=Source(format="signal", path=source.name, line=line,
                          time_basis="instant" if stamp else "none"),
            extra=extra,
        )


def _with_next(items: Iterator[tuple[int, str]]) -> Iterator[tuple[tuple[int, str], str | None]]:
    prev: tuple[int, str] | None = None
    for item in items:
        if prev is not None:
            yield prev, item[1]
        prev = item
    if prev is not None:
        yield prev, None


def _latest_version(history: list[str]) -> list[str]:
    """Body of the first (newest) version in a sigtop edit history."""
    lines = [h[1:] for h in history]
    out: list[str] = []
    seen_version = False
    in_body = False
    for ln in lines:
        s = ln[1:] if ln.startswith(" ") else ln
        if s.startswith("Version: "):
            if seen_version:
                break
            seen_version = True
            continue
        if not in_body:
            if not s.strip():
                in_body = True
            continue
        if s.startswith(">"):
            continue
        out.append(s)
    while out and not out[-1].strip():
        out.pop()
    return out


def _export_reaction(raw: Any) -> Reaction | None:
    if isinstance(raw, list | tuple) and len(raw) == 2:
        return Reaction(emoji=str(raw[1]), sender=str(raw[0]))
    if isinstance(raw, dict) and raw.get("emoji"):
        return Reaction(emoji=str(raw["emoji"]), sender=raw.get("name"))
    return None
