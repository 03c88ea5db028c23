"""Telegram Desktop JSON export (``result.json``): a single chat, or the whole account.

The file is read as a stream: :class:`JsonStream` walks the outer objects and decodes one
message at a time with :meth:`json.JSONDecoder.raw_decode`, so memory stays bounded by the
largest single message, not the file.

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
* A full-account export holds many chats: heard takes its one-to-one chat, or the one whose
  name ``--pair`` gives, and refuses to guess between several.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from heard.errors import ExportFormatError, InputError, OptionError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._text import check_text
from heard.ingest._time import place_wall_clock
from heard.model import Message, Reaction, Source

__all__ = ["JsonStream", "TelegramReader"]

_MEDIA_KEYS = ("photo", "file", "media_type", "sticker_emoji", "location_information",
               "contact_information", "poll", "place_name", "game_title", "invoice_information")
#: Fields turned into Message fields; everything else is kept in ``extra``.
_CONSUMED = frozenset(("id", "type", "date", "date_unixtime", "from", "from_id", "actor",
                       "actor_id", "text", "text_entities", "reactions", "reply_to_message_id",
                       "edited", "edited_unixtime"))
_MAX_VALUE = 64 * 1024 * 1024


class JsonStream:
    """An incremental reader of one JSON document, for files too big to load.

    Containers are walked with :meth:`members` and :meth:`elements`; any value can instead be
    decoded whole with :meth:`value` or skipped with :meth:`skip`. Errors name the line.
    """

    def __init__(self, f: IO[str], name: str, *, chunk: int = 1 << 16,
                 error: str = "E110") -> None:
        self._f = f
        self._code = error  # numbered template with path, line and detail fields
        self.name = name
        self._chunk = chunk
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line of self._buf[0]
        self._decoder = json.JSONDecoder()

    # -- buffer ---------------------------------------------------------------------------

    def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            data = self._f.read(self._chunk)
        except UnicodeDecodeError as exc:
            raise InputError.from_code("E004", path=self.name, line=self.line,
                                       encoding="utf-8") from exc
        if not data:
            self._eof = True
            return False
        if self._pos:
            self._line += self._buf.count("\n", 0, self._pos)
            self._buf = self._buf[self._pos:]
            self._pos = 0
        self._buf += data
        return True

    @property
    def line(self) -> int:
        return self._line + self._buf.count("\n", 0, self._pos)

    def _error(self, detail: str) -> ExportFormatError:
        return ExportFormatError.from_code(self._code, path=self.name, line=self.line,
                                           detail=detail)

    def peek(self) -> str:
        """The next non-blank character ("" at the end)."""
        while True:
            buf, pos = self._buf, self._pos
            n = len(buf)
            while pos < n and buf[pos] in " \t\r\n":
                pos += 1
            self._pos = pos
            if pos < n:
                return buf[pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        got = self.peek()
        if got != char:
            found = repr(got) if got else "end of file"
            raise self._error(f"expected '{char}', found {found}")
        self._pos += 1

    # -- values ---------------------------------------------------------------------------

    def value(self) -> Any:
        """Decode the next value whole."""
        self.peek()
        while True:
            try:
                obj, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                incomplete = exc.pos >= len(self._buf) - 8 or exc.msg.startswith("Unterminated")
                if incomplete and not self._eof:
                    if len(self._buf) - self._pos > _MAX_VALUE:
                        raise ExportFormatError.from_code(
                            "E114", path=self.name, line=self.line,
                            limit=_MAX_VALUE // (1024 * 1024)) from exc
                    self._fill()
                    continue
                line = self._line + self._buf.count("\n", 0, exc.pos)
                raise ExportFormatError.from_code(
                    self._code, path=self.name, line=line,
                    detail=exc.msg if not self._eof or exc.pos < len(self._buf) - 8
                    else "the file ends in the middle of a value") from exc
            # A number cut at the chunk boundary decodes as a shorter number: read on.
            if end >= len(self._buf) and not self._eof and isinstance(obj, int | float):
                self._fill()
                continue
            self._pos = end
            return obj

    def skip(self) -> None:
        """Skip the next value, walking containers so that big ones are never held whole."""
        c = self.peek()
        if c == "{":
            for _ in self.members():
                self.skip()
        elif c == "[":
            for _ in self.elements():
                self.skip()
        else:
            self.value()

    def members(self) -> Iterator[str]:
        """Walk an object: yields each key; the caller must consume (or skip) its value."""
        self.expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise self._error("expected an object key")
            self.expect(":")
            yield key
            c = self.peek()
            self._pos += 1
            if c == "}":
                return
            if c != ",":
                raise self._error(f"expected ',' or '}}', found {c!r}" if c
                                  else "the file ends inside an object")

    def elements(self) -> Iterator[None]:
        """Walk an array: yields once per element; the caller must consume (or skip) it."""
        self.expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield None
            c = self.peek()
            self._pos += 1
            if c == "]":
                return
            if c != ",":
                raise self._error(f"expected ',' or ']', found {c!r}" if c
                                  else "the file ends inside a list")

    def end(self) -> None:
        if self.peek():
            raise self._error("unexpected data after the end of the JSON document")


def open_text(source: Input, encoding: str = "utf-8") -> IO[str]:
    enc = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    return io.TextIOWrapper(source.open_binary(), encoding=enc, newline="")


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


def _result_json(source: Input) -> Input:
    if source.is_dir:
        assert source.path is not None
        for name in ("result.json",):
            if (source.path / name).is_file():
                return Input(source.path / name, name=str(source.path / name))
        raise ExportFormatError.from_code("E111", path=source.name,
                                          detail="the folder has no result.json")
    return source


@register
class TelegramReader(Reader):
    name = "telegram"
    key = "heard.reader.telegram.v1"
    description = "Telegram Desktop JSON export (result.json; one chat or the whole account)"

    def sniff(self, source: Input) -> float:
        if source.is_dir:
            if source.path is not None and (source.path / "result.json").is_file():
                return self.sniff(Input(source.path / "result.json", name="result.json"))
            return 0.0
        if source.is_zip:
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
        return f, JsonStream(f, source.name)

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
        personal = [c for c in chats if c.get("type") == "personal_chat"]
        if options.pair:
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
            names = ", ".join(str(c.get("name")) for c in personal[:6])
            raise InputError.from_code("E112", path=source.name, count=len(personal),
                                       names=names + (" …" if len(personal) > 6 else ""))
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
            except (ValueError, OverflowError, OSError):
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
                out.extend(Reaction(emoji=emoji) for _ in range(count - len(recent)))
        return tuple(out)
