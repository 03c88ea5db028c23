"""DiscordChatExporter (Tyrrrz/DiscordChatExporter) JSON and CSV exports.

JSON: ``{"guild": {…}, "channel": {"id", "type", "name", …}, "dateRange", "exportedAt",
"messages": [{"id", "type", "timestamp", "timestampEdited", "callEndedTimestamp", "content",
"author": {"id", "name", "nickname", "isBot"}, "attachments", "reactions", "reference", …}],
"messageCount"}``. The ``messages`` array is streamed, so a channel of any size reads in bounded
memory. Timestamps carry an offset and are read as instants. ``Source.line`` is the line of the
file where the message object starts.

CSV: ``AuthorID,Author,Date,Content,Attachments,Reactions``; ``Date`` is local clock time in the
exporter's culture with no offset, so it is wall-clock time placed in ``--tz``. ``Source.line`` is
the line where the row starts.

People are told apart by author id; each id keeps the first name it was seen with. A folder (or
zip) of several exports is grouped by channel id; ``--chat`` picks a channel by name, id or
number, and the parts of one channel (DCE's ``[part N]`` files) are read in order.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from heard.errors import ExportFormatError, InputError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._csv import checked_rows
from heard.ingest._guard import as_list
from heard.ingest._json import JsonStream
from heard.ingest._limits import MAX_REACTIONS
from heard.ingest._members import Member, iter_members, natural_key, read_head
from heard.ingest._messenger import choose, refuse_group
from heard.ingest._time import place_wall_clock
from heard.model import Message, Reaction, Source

__all__ = ["DiscordReader", "parse_dce_date"]

CSV_HEADER = ("AuthorID", "Author", "Date", "Content", "Attachments", "Reactions")
_HUMAN_TYPES = frozenset({"Default", "Reply", "ThreadStarterMessage", ""})
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_NUMERIC = re.compile(
    r"^\s*(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})[,T ]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    r"(?:[.,]\d+)?\s*([AaPp]\.?\s?[Mm]\.?)?\s*$")
_NAMED = re.compile(
    r"^\s*(\d{1,2})[- ]([A-Za-z]{3})[A-Za-z]*[- ,]+(\d{2,4})[,T ]+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([AaPp]\.?\s?[Mm]\.?)?\s*$")
_REACTION = re.compile(r"\s*(.+?)\s*\((\d+)\)\s*")


def _is_dce_json(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # a trimmed export may lack "guild"; "channel" with messages that have an "author" is enough
    return (text.startswith(b"{") and b'"channel"' in text
            and (b'"guild"' in text or b'"author"' in text)
            and (b'"messages"' in text or b'"exportedAt"' in text))


def _is_dce_csv(head: bytes) -> bool:
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip().decode("utf-8", "replace")
    cells = [c.strip().strip('"') for c in first.split(",")]
    return tuple(cells[:4]) == CSV_HEADER[:4]


def _want(rel: str) -> bool:
    low = rel.lower()
    return (low.endswith((".json", ".csv")) and "_files/" not in low
            and not low.rsplit("/", 1)[-1].startswith("."))


@register
class DiscordReader(Reader):
    name = "discord"
    key = "heard.reader.discord.v1"
    description = "DiscordChatExporter JSON (or CSV) export of a DM or channel; file, folder or zip"

    def sniff(self, source: Input) -> float:
        if not source.is_dir and not source.is_zip:
            if _is_dce_json(source.head) or _is_dce_csv(source.head):
                return 0.95
            return 0.0
        try:
            members = self._members(source, limit=40)
        except InputError:
            return 0.0
        return 0.9 if members else 0.0

    def _members(self, source: Input, limit: int | None = None,
                 lenient: bool = False) -> list[tuple[Member, str]]:
        out = []
        if not source.is_dir and not source.is_zip:
            head = source.head
            kind = "json" if _is_dce_json(head) else "csv" if _is_dce_csv(head) else ""
            if not kind and lenient and re.match(rb'(?:\xef\xbb\xbf)?\s*\{\s*"guild"', head):
                kind = "json"  # cut off before 'channel': parse it and say where
            member = iter_members(source, _want)[0]
            return [(member, kind)] if kind else []
        for member in iter_members(source, _want)[:limit]:
            head = read_head(member, 4096)
            if _is_dce_json(head):
                out.append((member, "json"))
            elif _is_dce_csv(head):
                out.append((member, "csv"))
        return out

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        members = self._members(source, lenient=True)
        if not members:
            if not source.is_dir and not source.is_zip:
                head = source.head.lstrip(b"\xef\xbb\xbf \t\r\n")
                if not head:
                    raise InputError.from_code("E002", path=source.name)
                raise ExportFormatError.from_code(
                    "E152", path=source.name, line=1, app="DiscordChatExporter",
                    detail="it has neither the JSON 'guild'/'channel'/'messages' keys nor the "
                           "CSV header AuthorID,Author,Date,Content")
            raise ExportFormatError.from_code(
                "E159", path=source.name, app="DiscordChatExporter",
                detail="no .json or .csv file written by DiscordChatExporter")
        channels: dict[str, list[tuple[Member, str, dict[str, Any]]]] = {}
        for member, kind in sorted(members, key=lambda mk: natural_key(mk[0].name)):
            info = self._channel(member) if kind == "json" else {
                "id": member.name.rsplit("/", 1)[-1].rsplit(".", 1)[0],
                "name": member.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]}
            cid = str(info.get("id") or member.name)
            channels.setdefault(cid, []).append((member, kind, info))
        keys = list(channels)
        labels = [self._label(channels[k][0][2], k) for k in keys]

        def matches(i: int, sel: str) -> bool:
            info = channels[keys[i]][0][2]
            low = sel.casefold().lstrip("#")
            return low in (keys[i].casefold(), str(info.get("name", "")).casefold())

        index = choose(options.chat, source.name, labels, matches)
        parts = channels[keys[index]]
        people = parts[0][2].get("recipients")
        if parts[0][2].get("type") == "DirectGroupTextChat" and isinstance(people, list):
            # a group DM the export lists members for; without that list, the people who wrote
            # decide (a group DM of two people is a couple's chat)
            refuse_group(source.name, [str(p) for p in people], options)
        report.details["channel"] = labels[index]
        if len(parts) > 1:
            report.details["files"] = len(parts)
        names: dict[str, str] = {}
        for member, kind, _info in parts:
            cid = options.conversation_id or f"discord-{keys[index]}"
            if kind == "json":
                yield from self._read_json(member, cid, names, report)
            else:
                yield from self._read_csv(member, cid, names, options, report)

    @staticmethod
    def _label(info: dict[str, Any], key: str) -> str:
        name = info.get("name") or key
        kind = info.get("type")
        guild = info.get("guild")
        bits = [f"#{name}" if kind and "Direct" not in str(kind) else str(name)]
        if guild and guild != "Direct Messages":
            bits.append(f"in {guild}")
        return " ".join(bits)

    @staticmethod
    def _channel(member: Member) -> dict[str, Any]:
        info: dict[str, Any] = {}
        with member.open() as raw:
            stream = JsonStream(raw, member.label)
            for key in stream.iter_object():
                if key == "channel":
                    channel = stream.value()
                    if isinstance(channel, dict):
                        info.update(channel)
                elif key == "guild":
                    guild = stream.value()
                    if isinstance(guild, dict):
                        info["guild"] = guild.get("name")
                elif key == "messages":
                    break
                else:
                    stream.skip_value()
        return info

    # -- JSON
    def _read_json(self, member: Member, cid: str, names: dict[str, str],
                   report: ImportReport) -> Iterator[Message]:
        with member.open() as raw:
            stream = JsonStream(raw, member.label)
            if stream.peek() != "{":
                raise stream.error("the file does not start with a JSON object")
            found = False
            for key in stream.iter_object():
                if key != "messages":
                    if key == "messageCount":
                        report.details["message_count_declared"] = stream.value()
                    else:
                        stream.skip_value()
                    continue
                found = True
                if stream.peek() != "[":
                    raise stream.error("'messages' is not a list")
                for line, item in stream.iter_array():
                    message = self._json_message(item, line, member, cid, names, report)
                    if message is not None:
                        yield message
            if not found:
                raise ExportFormatError.from_code(
                    "E152", path=member.label, line=stream.line, app="DiscordChatExporter",
                    detail="there is no 'messages' list")

    def _json_message(self, item: Any, line: int, member: Member, cid: str,
                      names: dict[str, str], report: ImportReport) -> Message | None:
        if not isinstance(item, dict):
            report.skip(line, "message is not a JSON object", str(item))
            return None
        timestamp = _iso(item.get("timestamp"))
        if timestamp is None:
            report.skip(line, "message without a readable timestamp", str(item.get("content")))
            return None
        author = item.get("author") if isinstance(item.get("author"), dict) else {}
        sender = _name(author, names)
        text = item.get("content") if isinstance(item.get("content"), str) else ""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        mtype = str(item.get("type") or "")
        extra: dict[str, Any] = {}
        attachments = [a.get("fileName") or a.get("url") or ""
                       for a in as_list(item.get("attachments")) if isinstance(a, dict)]
        stickers = [s.get("name") or ""
                    for s in as_list(item.get("stickers")) if isinstance(s, dict)]
        kind = "text"
        if mtype == "Call":
            kind = "event"
            ended = _iso(item.get("callEndedTimestamp"))
            extra["type"] = "Call"
            extra["call_duration_s"] = (round((ended - timestamp).total_seconds())
                                        if ended else None)
        elif mtype not in _HUMAN_TYPES or author.get("isBot"):
            kind = "event"
            extra["type"] = mtype or "bot"
        elif attachments or stickers:
            kind = "attachment"
        elif not text:
            if item.get("embeds"):
                kind = "attachment"
                extra["embeds"] = len(item["embeds"])
            else:
                report.skip(line, "message with no text and no attachment", sender)
                return None
        if attachments:
            extra["attachments"] = attachments
        if stickers:
            extra["stickers"] = stickers
        if item.get("isPinned"):
            extra["pinned"] = True
        reply_to = None
        ref = item.get("reference")
        if isinstance(ref, dict) and ref.get("messageId") and ref.get("type") != "Forward":
            reply_to = str(ref["messageId"])
        reactions: list[Reaction] = []
        for r in as_list(item.get("reactions")):
            if not isinstance(r, dict):
                continue
            emoji = r.get("emoji") if isinstance(r.get("emoji"), dict) else {}
            symbol = emoji.get("name") or emoji.get("code") or "?"
            users = [u for u in as_list(r.get("users")) if isinstance(u, dict)]
            for u in users:
                reactions.append(Reaction(symbol, _name(u, names)))
            count = r.get("count")
            if isinstance(count, int) and count > len(users):
                reactions.extend(Reaction(symbol, None) for _ in
                                 range(min(count, MAX_REACTIONS) - len(users)))
        mid = item.get("id")
        return Message(
            conversation_id=cid,
            message_id=str(mid) if mid not in (None, "") else f"{cid}-{line}",
            sender=sender,
            timestamp=timestamp,
            text=text,
            kind=kind,
            reply_to=reply_to,
            reactions=tuple(reactions),
            edited=bool(item.get("timestampEdited")),
            source=Source(format="discord", path=member.label, line=line, time_basis="instant"),
            extra=extra,
        )

    # -- CSV
    def _read_csv(self, member: Member, cid: str, names: dict[str, str], options: ReadOptions,
                  report: ImportReport) -> Iterator[Message]:
        with member.open() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            counter = _Lines(text, member.label)
            rows = checked_rows(csv.reader(counter), counter, member.label)
            header = next(rows, None)
            if header is None or tuple(h.strip() for h in header[:4]) != CSV_HEADER[:4]:
                raise ExportFormatError.from_code(
                    "E152", path=member.label, line=1, app="DiscordChatExporter CSV",
                    detail="the header is not AuthorID,Author,Date,Content,Attachments,Reactions")
            order = options.date_order
            if order is None:
                order = _date_order(member, report)
            start = counter.line + 1
            for row in rows:
                line, start = start, counter.line + 1
                if not any(c.strip() for c in row):
                    continue
                if len(row) < 4:
                    report.skip(line, f"row has {len(row)} columns, the header has 6",
                                ",".join(row))
                    continue
                author_id, author, date, content = row[:4]
                attachments = [a.strip() for a in (row[4] if len(row) > 4 else "").split(",")
                               if a.strip()]
                parsed = _csv_date(date, order, options)
                if parsed is None:
                    report.skip(line, f"can't read the date '{date[:40]}'", content)
                    continue
                timestamp, basis, tz = parsed
                if tz == "UTC (assumed)":
                    report.warn("DiscordChatExporter CSV dates have no time zone; they were "
                                "read as UTC. Pass --tz with the exporter's zone")
                sender = names.setdefault(author_id.strip() or author, author)
                reactions = []
                for m in _REACTION.finditer(row[5] if len(row) > 5 else ""):
                    reactions.extend(Reaction(m.group(1).strip(", ")) for _ in
                                     range(min(int(m.group(2)), MAX_REACTIONS)))
                content = content.replace("\r\n", "\n").replace("\r", "\n")
                if not content and not attachments:
                    report.skip(line, "message with no text and no attachment", author)
                    continue
                yield Message(
                    conversation_id=cid,
                    message_id=f"{cid}-{line}",
                    sender=sender,
                    timestamp=timestamp,
                    text=content,
                    kind="attachment" if attachments else "text",
                    reactions=tuple(reactions),
                    source=Source(format="discord", path=member.label, line=line,
                                  time_basis=basis, tz=tz),
                    extra={"attachments": attachments} if attachments else {},
                )


def _name(author: dict[str, Any], names: dict[str, str]) -> str:
    uid = str(author.get("id") or "")
    display = str(author.get("nickname") or author.get("name") or uid)
    if not uid:
        return display
    return names.setdefault(uid, display)


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


class _Lines:
    """Feeds lines to ``csv.reader`` and counts them; a bad byte names its line."""

    def __init__(self, text: io.TextIOWrapper, label: str) -> None:
        self._text = text
        self._label = label
        self.line = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._text)
        except UnicodeDecodeError as exc:
            raise InputError.from_code("E151", path=self._label, line=self.line + 1,
                                       detail=exc.reason) from exc
        self.line += 1
        return line


def parse_dce_date(value: str, order: str) -> datetime | None:
    """A naive (or, for ISO with an offset, aware) datetime from a DCE CSV ``Date`` cell.

    ``order`` is ``"DMY"``, ``"MDY"`` or ``"YMD"`` for all-numeric dates.

    Examples
    --------
    >>> parse_dce_date("4/1/2023 9:14 PM", "MDY")
    datetime.datetime(2023, 4, 1, 21, 14)
    >>> parse_dce_date("01-Apr-23 09:14 PM", "DMY")
    datetime.datetime(2023, 4, 1, 21, 14)
    """
    value = value.strip()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    m = _NUMERIC.match(value)
    if m:
        a, b, c = (int(x) for x in m.group(1, 2, 3))
        if len(m.group(1)) == 4:
            y, mo, d = a, b, c
        elif order == "MDY":
            mo, d, y = a, b, c
        else:
            d, mo, y = a, b, c
    else:
        m = _NAMED.match(value)
        if not m or m.group(2).lower() not in _MONTHS:
            return None
        d, mo, y = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
    if y < 100:
        y += 2000
    hour, minute = int(m.group(4)), int(m.group(5))
    second = int(m.group(6) or 0)
    ampm = (m.group(7) or "").lower().replace(".", "").replace(" ", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        return datetime(y, mo, d, hour, minute, second)
    except ValueError:
        return None


def _sample_rows(head: str) -> Iterator[list[str]]:
    # newline="": a lone CR ends a line here as in the read itself; a row the csv module
    # refuses ends the sample (the read names its line)
    try:
        yield from csv.reader(io.StringIO(head, newline=""))
    except csv.Error:
        return


def _date_order(member: Member, report: ImportReport) -> str:
    """Day/month order voted from the dates in the file's first 64 KB."""
    head = read_head(member, 65536).decode("utf-8", "replace")
    first_big = second_big = False
    ampm = False
    sample = ""
    for row in _sample_rows(head):
        if len(row) < 3:
            continue
        m = _NUMERIC.match(row[2])
        if not m or len(m.group(1)) == 4:
            continue
        sample = sample or row[2]
        first_big |= int(m.group(1)) > 12
        second_big |= int(m.group(2)) > 12
        ampm |= bool(m.group(7))
    if first_big and not second_big:
        return "DMY"
    if second_big and not first_big:
        return "MDY"
    if sample:
        guess = "MDY" if ampm else "DMY"
        report.warn(f"can't tell day/month order from dates such as '{sample}'; read them as "
                    f"{guess}. Pass --date-order to choose")
        return guess
    return "DMY"


def _csv_date(value: str, order: str,
              options: ReadOptions) -> tuple[datetime, str, str | None] | None:
    if options.time_format:
        try:
            naive = datetime.strptime(value.strip(), options.time_format)
        except ValueError:
            return None
    else:
        parsed = parse_dce_date(value, order)
        if parsed is None:
            return None
        if parsed.tzinfo is not None:
            return parsed, "instant", None
        naive = parsed
    return place_wall_clock(naive, options.tz)
