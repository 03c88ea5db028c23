"""WhatsApp straight to heard's canonical JSON Lines: the fast path of ``heard import``.

``heard import`` of a large export spent most of its time making a :class:`~heard.model.Message`
per message, a record dict from it, and encoding that dict. Here each message's line is written
from the parse's raw message (see :mod:`heard.ingest._wa_parse`) with one string template, the
timestamp text is made once per hour of the clock, and the checks an :class:`~heard.ingest.Import`
makes on every message (``--max-chars``, ``--pair``, order, the report's counts, the senders of
each conversation) are made here on the same values. The lines are byte for byte those of
``record_to_json(message_to_record(message))`` for the messages :meth:`Import.__iter__` yields
(a test checks every WhatsApp fixture both ways).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from json.encoder import encode_basestring
from typing import Any

from heard.ingest._base import ImportReport, Input, ReadOptions
from heard.ingest._wa_messages import _Emitter
from heard.ingest._wa_parse import Tally, raw_messages

__all__ = ["json_lines"]

# The string escaping of heard.model's record_to_json (a JSONEncoder with ensure_ascii=False).
_JSON = encode_basestring
_OUT_OF_ORDER = ', "flags": ["out_of_order"]'


def json_lines(chat: Input, options: ReadOptions, report: ImportReport, order: str,
               accepted: set[tuple[Any, ...]], original: Input, tally: Tally | None,
               people: dict[str, dict[str, None]]) -> Iterator[str]:
    """The JSON Lines of ``chat`` after the checks an Import makes, one string per block.

    ``people`` collects each conversation's human senders, for the Import's participant check.
    """
    cid = options.conversation_id or original.stem
    emitter = _Emitter(cid, chat.name, options.tz, report)
    describe = emitter.describe
    tzinfo = emitter.tzinfo
    cid_json = _JSON(cid)
    # one template for every line; the constant fields are written into it once
    template = (
        '{"conversation_id": ' + cid_json.replace("%", "%%") + ', "message_id": '
        + cid_json[:-1].replace("%", "%%") + '-%d", "sender": %s, "timestamp": "%s%s%s", '
        '"text": %s, "kind": "%s", "reply_to": null, "reactions": [], "edited": %s, '
        '"source": {"format": "whatsapp", "path": ' + _JSON(chat.name).replace("%", "%%")
        + ', "line": %d, "time_basis": ' + _JSON(emitter.basis).replace("%", "%%")
        + ', "tz": ' + _JSON(emitter.tz).replace("%", "%%") + "%s}%s}\n"
    )
    limit = options.max_chars
    pair = set(options.pair) if options.pair else None
    kinds = report.kinds
    senders = report.senders
    who = people.setdefault(cid, {})
    names: dict[str, str] = {}
    # the date being written: its (year, month, day), its number of days, its hours' text
    day: tuple[int, int, int] | None = None
    day_number = 0
    hours: list[tuple[str, str] | None] = [None] * 24
    # every message has the same zone, so times compare as clock readings: days and seconds
    previous = last = -1
    first = 1 << 62
    for batch in raw_messages(chat, options, report, order, accepted, tally):
        out = []
        for line, ymd, (h, mi, s, second_of_day, min_sec), ios, rest, more, acts in batch:
            if acts:
                for act in acts:
                    act[0](*act[1:])
            sender, text, kind, edited, extra = describe(line, ios, rest, more)
            if len(text) > limit:
                report.skip(line, f"message of {len(text):,} characters is over --max-chars "
                            f"{limit:,}", text)
                report.warn(f"skipped messages longer than {limit:,} characters; raise "
                            "--max-chars to keep them")
                continue
            human = kind != "event" and sender != ""
            if pair is not None and human and sender not in pair:
                report.details["left_out_by_pair"] = report.details.get("left_out_by_pair", 0) + 1
                continue
            if ymd is not day:
                day = ymd
                day_number = date(*ymd).toordinal()
                hours = [None] * 24
            key = day_number * 86400 + second_of_day
            flags = ""
            if key < previous:
                report.flag(line, "earlier than the message before it; file order kept", text)
                flags = _OUT_OF_ORDER
            previous = key
            if key > last:
                last = key
            if key < first:
                first = key
            kinds[kind] += 1
            if human:
                senders[sender] += 1
                if sender not in who:
                    who[sender] = None
            hour = hours[h]
            if hour is None:
                hour = hours[h] = _hour(*ymd, h, tzinfo)
            if hour[1]:
                stamp, min_sec, offset = hour[0], min_sec, hour[1]
            else:  # the zone's offset changes within this hour
                stamp, min_sec, offset = (
                    datetime(*ymd, h, mi, s, tzinfo=tzinfo).isoformat(), "", "")
            sender_json = names.get(sender)
            if sender_json is None:
                sender_json = names[sender] = _JSON(sender)
            out.append(template % (
                line, sender_json, stamp, min_sec, offset, _JSON(text),
                kind, "true" if edited else "false", line, flags,
                "".join(f", {_JSON(k)}: {_JSON(v)}" for k, v in extra.items())
                if extra else ""))
        if last >= 0:
            report.first = _instant(first, tzinfo)
            report.last = _instant(last, tzinfo)
        if out:
            yield "".join(out)


def _hour(y: int, mo: int, d: int, h: int, tzinfo: Any) -> tuple[str, str]:
    """``("YYYY-MM-DDTHH:", offset)`` of an hour of the clock; when the zone's offset changes
    within that hour, ``("", "")`` and each time is made whole."""
    start = datetime(y, mo, d, h, 0, 0, tzinfo=tzinfo).isoformat()
    end = datetime(y, mo, d, h, 59, 59, tzinfo=tzinfo).isoformat()
    if start[19:] != end[19:]:
        return "", ""
    return start[:14], start[19:]


def _instant(key: int, tzinfo: Any) -> datetime:
    days, seconds = divmod(key, 86400)
    return datetime.combine(date.fromordinal(days),
                            time(seconds // 3600, seconds // 60 % 60, seconds % 60),
                            tzinfo=tzinfo)
