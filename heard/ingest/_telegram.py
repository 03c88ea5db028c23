"""Telegram Desktop JSON export (``result.json``): a single chat, or the whole account.

The file is read as a stream: the shared ``JsonStream`` (``_json.py``) walks the outer objects
and decodes one message at a time, so memory stays bounded by the largest single message, not
the file.

Choices worth knowing:

* ``date_unixtime`` (exports since tdesktop 3.7.6) is a real instant; older exports only have
  ``date``, the exporting PC's wall clock, which is placed in ``--tz``.
* ``text`` is a string or a list of strings and entity objects; the pieces are joined with ``""``
  (joining with a space, as some parsers do, changes the text).
* ``edited`` is *not* an edit signal: the server sets it when someone reacts (tdesktop #30647).
  heard keeps it as ``extra["touched"]`` ("changed after sending: an edit or a reaction") and
  leaves ``edited`` False.
* Service messages are ``kind="event"``; a ``phone_call`` keeps the caller as sender, like the
  other chat readers, with its duration and discard reason in ``extra``.
* A full-account export holds many chats: heard takes its one-to-one chat, or the one ``--chat``
  names (its number in the list heard prints, its name or id) or whose name ``--pair`` gives,
  and refuses to guess between several. Chats without a ``type`` (trimmed exports) count as
  one-to-one candidates.
* The export may be given as ``result.json``, its folder, or a zip of the folder.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from heard.errors import ExportFormatError, HeardError, InputError, OptionError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._json import JsonStream, open_text
from heard.ingest._limits import MAX_REACTIONS
from heard.ingest._members import chat_file
from heard.ingest._text import check_text
from heard.ingest._time import place_wall_clock
from heard.model import Message, Reaction, Source

__all__ = ["TelegramReader"]

_MEDIA_KEYS = ("photo", "file", "media_type", "sticker_emoji", "location_information",
               "contact_information", "poll", "place_name", "game_title", "invoice_information")
#: Fields turned into Message fields; everything else is kept in ``extra``.
_CONSUMED = frozenset(("id", "type", "date", "date_unixtime", "from", "from_id", "actor",
                       "actor_id", "text", "text_entities", "reactions", "reply_to_message_id",
                       "edited", "edited_unixtime"))


# --------------------------------------------------------------------------------------------


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for piece in value:
            if isinstance(piece, str):
                parts.append(piece)
            elif isinstance(piece, dict):
                parts.append(str(piece.get("text", "")))
        return "".join(parts)
    return str(value)


def _pick_result(names: Sequence[str]) -> str | None:
    """``result.json`` (at the top, or in the one folder a zip of the export holds)."""
    found = sorted((n for n in names if n.rsplit("/", 1)[-1] == "result.json"
                    and "__MACOSX" not in n), key=lambda n: n.count("/"))
    return found[0] if found else None


def _result_json(source: Input) -> Input:
    if not source.is_dir and not source.is_zip:
        return source
    return chat_file(source, _pick_result, missing=lambda listing: ExportFormatError.from_code(
        "E111", path=source.name, detail=f"it has no result.json ({listing})"))[0]


@register
class TelegramReader(Reader):
    name = "telegram"
    key = "heard.reader.telegram.v1"
    description = "Telegram Desktop JSON export (result.json; one chat or the whole account)"

    def sniff(self, source: Input) -> float:
        if source.is_dir or source.is_zip:
            try:
                return self.sniff(_result_json(source))
            except (HeardError, OSError, zipfile.BadZipFile, zlib.error, EOFError):
                return 0.0
        head = source.head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"{"):
            return 0.0
        text = head[:16384]
        if b'"personal_information"' in text and b'"chats"' in text:
            return 0.95
        if b'"messages"' in text and (b'"date_unixtime"' in text or b'"from_id"' in text
                                      or b'"personal_chat"' in text
                                      or b'"type": "message"' in text):
            return 0.95
        return 0.0

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        source = _result_json(source)
        check_text(source)
        kind = self._shape(source, options)
        if kind == "single":
            yield from self._read_single(source, options, report)
        else:
            yield from self._read_account(source, options, report)

    # -- shapes ---------------------------------------------------------------------------

    def _stream(self, source: Input, options: ReadOptions) -> tuple[IO[str], JsonStream]:
        f = open_text(source, options.encoding)
        return f, JsonStream(f, source.name, error="E110")

    def _shape(self, source: Input, options: ReadOptions) -> str:
        f, js = self._stream(source, options)
        with f:
            if js.peek() != "{":
                raise ExportFormatError.from_code("E111", path=source.name,
                                                  detail="it does not start with a JSON object")
            for key in js.members():
                if key == "messages":
                    return "single"
                if key in ("chats", "personal_information", "left_chats"):
                    return "account"
                js.skip()
        raise ExportFormatError.from_code("E111", path=source.name,
                                          detail="no 'messages' or 'chats' list")

    def _read_single(self, source: Input, options: ReadOptions,
                     report: ImportReport) -> Iterator[Message]:
        f, js = self._stream(source, options)
        with f:
            chat: dict[str, Any] = {}
            for key in js.members():
                if key == "messages":
                    yield from self._messages(js, chat, source, options, report)
                elif key in ("name", "type", "id"):
                    chat[key] = js.value()
                else:
                    js.skip()
            js.end()
        self._chat_details(chat, report)

    def _read_account(self, source: Input, options: ReadOptions,
                      report: ImportReport) -> Iterator[Message]:
        chats, me = self._catalog(source, options)
        # one-to-one chats; an export whose chats carry no type at all (older or trimmed
        # exports) offers every chat
        personal = [c for c in chats if c.get("type") in ("personal_chat", None)]
        if options.chat:
            wanted = _pick_chat(personal, options.chat)
            if not wanted:
                raise OptionError.from_code(
                    "E113", path=source.name, names=options.chat,
                    chats=_chat_list(personal) or "none")
        elif options.pair:
            wanted = [c for c in personal if c.get("name") in options.pair]
            if not wanted:
                raise OptionError.from_code(
                    "E113", path=source.name, names=" or ".join(options.pair),
                    chats=", ".join(str(c.get("name")) for c in personal[:8]) or "none")
        elif len(personal) == 1:
            wanted = personal
        elif not personal:
            raise ExportFormatError.from_code(
                "E111", path=source.name, detail="the account export holds no one-to-one chat")
        else:
            raise InputError.from_code("E112", path=source.name, count=len(personal),
                                       names=_chat_list(personal))
        chosen = {(c["section"], c["index"]) for c in wanted}
        report.details["chats_in_export"] = len(chats)
        report.details["chats_left_out"] = len(chats) - len(chosen)
        if me:
            report.details["exporter"] = me
        f, js = self._stream(source, options)
        with f:
            for key in js.members():
                if key in ("chats", "left_chats"):
                    for sub in js.members():
                        if sub != "list":
                            js.skip()
                            continue
                        for index, _ in enumerate(js.elements()):
                            if (key, index) not in chosen:
                                js.skip()
                                continue
                            chat: dict[str, Any] = {}
                            for ck in js.members():
                                if ck == "messages":
                                    yield from self._messages(js, chat, source, options,
                                                              report)
                                elif ck in ("name", "type", "id"):
                                    chat[ck] = js.value()
                                else:
                                    js.skip()
                            self._chat_details(chat, report)
                else:
                    js.skip()

    def _catalog(self, source: Input, options: ReadOptions) -> tuple[list[dict[str, Any]], str]:
        """Every chat of a full export (name, type, id, place) without keeping messages."""
        chats: list[dict[str, Any]] = []
        me = ""
        f, js = self._stream(source, options)
        with f:
            for key in js.members():
                if key == "personal_information":
                    info = js.value()
                    if isinstance(info, dict):
                        me = " ".join(str(info.get(k) or "") for k in ("first_name", "last_name"))
                        me = me.strip()
                elif key in ("chats", "left_chats"):
                    for sub in js.members():
                        if sub != "list":
                            js.skip()
                            continue
                        for index, _ in enumerate(js.elements()):
                            entry: dict[str, Any] = {"section": key, "index": index}
                            for ck in js.members():
                                if ck in ("name", "type", "id"):
                                    entry[ck] = js.value()
                                else:
                                    js.skip()
                            chats.append(entry)
                else:
                    js.skip()
            js.end()
        return chats, me

    @staticmethod
    def _chat_details(chat: dict[str, Any], report: ImportReport) -> None:
        if chat.get("name") is not None:
            report.details["chat_name"] = chat.get("name")
        if chat.get("type") is not None:
            report.details["chat_type"] = chat.get("type")

    # -- messages -------------------------------------------------------------------------

    def _messages(self, js: JsonStream, chat: dict[str, Any], source: Input,
                  options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        cid = options.conversation_id or (
            f"telegram-{chat['id']}" if chat.get("id") is not None else source.stem)
        partner_id = (f"user{chat['id']}" if chat.get("type") == "personal_chat"
                      and chat.get("id") is not None else None)
        for _ in js.elements():
            js.peek()
            line = js.line
            obj = js.value()
            if not isinstance(obj, dict):
                report.skip(line, "a message entry that is not a JSON object", repr(obj))
                continue
            message = self._message(obj, cid, line, source, options, report)
            if message is None:
                continue
            if partner_id and obj.get("from_id") and obj.get("from_id") != partner_id \
                    and "exporter" not in report.details and message.is_human:
                report.details["exporter"] = message.sender
            yield message

    def _message(self, obj: dict[str, Any], cid: str, line: int, source: Input,
                 options: ReadOptions, report: ImportReport) -> Message | None:
        mid = obj.get("id")
        stamp, basis, tz = self._time(obj.get("date_unixtime"), obj.get("date"), options)
        if stamp is None:
            report.flag(line, "message without a readable date; kept without time",
                        str(obj.get("date")))
        elif tz == "UTC (assumed)":
            report.warn("this export has no date_unixtime (Telegram Desktop before 3.7.6): "
                        "times are the exporting PC's clock, placed in UTC; pass --tz")
        text = _text_of(obj.get("text"))
        extra = {k: v for k, v in obj.items() if k not in _CONSUMED}
        if obj.get("edited") is not None:
            extra["touched"] = obj.get("edited")
        mtype = obj.get("type", "message")
        if mtype == "service":
            action = obj.get("action", "")
            sender = ""
            if action == "phone_call":
                sender = str(obj.get("actor") or obj.get("actor_id") or "")
                extra["subtype"] = "call"
            elif obj.get("actor"):
                extra["attributed_to"] = obj.get("actor")
            kind = "event"
        elif mtype == "message":
            sender = obj.get("from")
            if not sender:
                sender = str(obj.get("from_id") or "")
                if sender:
                    report.flag(line, "sender without a name (deleted account?); its id is "
                                "used as the name", sender)
            kind = "attachment" if any(k in obj for k in _MEDIA_KEYS) else "text"
            if not sender:
                report.skip(line, "message without a sender", text)
                return None
        else:
            report.skip(line, f"unknown entry type '{mtype}'", text)
            return None
        reply = obj.get("reply_to_message_id")
        return Message(
            conversation_id=cid,
            message_id=f"{cid}-{mid}" if mid is not None else f"{cid}-line{line}",
            sender=str(sender),
            timestamp=stamp,
            text=text.replace("\r\n", "\n").replace("\r", "\n"),
            kind=kind,
            reply_to=f"{cid}-{reply}" if reply is not None else None,
            reactions=self._reactions(obj.get("reactions"), options),
            edited=False,
            source=Source(format="telegram", path=source.name, line=line,
                          time_basis=basis, tz=tz),
            extra=extra,
        )

    @staticmethod
    def _time(unix: Any, date: Any, options: ReadOptions
              ) -> tuple[datetime | None, str, str | None]:
        if unix not in (None, ""):
            try:
                return datetime.fromtimestamp(int(unix), tz=UTC), "instant", None
            except (ValueError, TypeError, OverflowError, OSError):
                pass
        if isinstance(date, str) and date:
            try:
                naive = datetime.fromisoformat(date)
            except ValueError:
                return None, "none", None
            if naive.tzinfo is not None:
                return naive, "instant", None
            return place_wall_clock(naive, options.tz)
        return None, "none", None

    @staticmethod
    def _reactions(raw: Any, options: ReadOptions) -> tuple[Reaction, ...]:
        if not isinstance(raw, list):
            return ()
        out: list[Reaction] = []
        for r in raw:
            if not isinstance(r, dict):
                continue
            emoji = r.get("emoji") or (f"custom_emoji:{r.get('document_id')}"
                                       if r.get("document_id") else str(r.get("type", "")))
            recent = r.get("recent") if isinstance(r.get("recent"), list) else []
            for who in recent:
                if not isinstance(who, dict):
                    continue
                ts = None
                if isinstance(who.get("date"), str):
                    try:
                        ts = place_wall_clock(datetime.fromisoformat(who["date"]), options.tz)[0]
                    except ValueError:
                        ts = None
                out.append(Reaction(emoji=emoji, sender=who.get("from") or who.get("from_id"),
                                    timestamp=ts))
            count = r.get("count")
            if isinstance(count, int) and count > len(recent):
                out.extend(Reaction(emoji=emoji) for _ in
                           range(min(count, MAX_REACTIONS) - len(recent)))
        return tuple(out)


def _chat_list(chats: list[dict[str, Any]], shown: int = 8) -> str:
    """``1. Name, 2. Name …``: the numbers ``--chat`` takes."""
    listed = ", ".join(f"{i}. {c.get('name') or c.get('id') or '?'}"
                       for i, c in enumerate(chats[:shown], 1))
    return listed + (" …" if len(chats) > shown else "")


def _pick_chat(chats: list[dict[str, Any]], wanted: str) -> list[dict[str, Any]]:
    """The chat ``--chat`` names: its number in the list, its name, or its id."""
    if wanted.isdigit() and 1 <= int(wanted) <= len(chats):
        return [chats[int(wanted) - 1]]
    return [c for c in chats if wanted in (str(c.get("name")), str(c.get("id")))]
