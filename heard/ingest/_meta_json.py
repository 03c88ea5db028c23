"""One message of Meta's JSON exports (Messenger, Instagram) as a :class:`~heard.model.Message`.

Both shapes are read here: the "Download your information" one (``sender_name``,
``timestamp_ms``, ``content``, every string UTF-8 bytes written as code points) and the
end-to-end encrypted export (``senderName``, ``timestamp``, ``text``, ``media``). Notices the app
wrote itself ("You named the group …") are told apart by the patterns in
``data/messenger_system.json``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from heard.ingest._base import ImportReport
from heard.ingest._guard import as_list
from heard.ingest._time import from_unix
from heard.model import Message, Reaction, Source

__all__ = ["epoch_ms", "fix_mojibake", "meta_message", "with_id"]

_MEDIA_KEYS = ("photos", "videos", "audio_files", "gifs", "files")


def fix_mojibake(text: str) -> str:
    """Undo Meta's "UTF-8 bytes as code points" encoding, only where it is safe.

    The repair applies only when every code point is below 256 and the bytes decode as UTF-8;
    any other string is returned unchanged.

    Examples
    --------
    >>> fix_mojibake("caf\\u00c3\\u00a9")
    'café'
    >>> fix_mojibake("café ✓")
    'café ✓'
    """
    if not text or text.isascii() or max(text) > "\xff":
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return text


def epoch_ms(value: Any) -> datetime | None:
    """A UTC datetime from milliseconds since 1970; None when ``value`` is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return from_unix(value / 1000.0)


@cache
def _system_patterns() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    data = json.loads(resources.files("heard.ingest").joinpath(
        "data/messenger_system.json").read_text(encoding="utf-8"))
    return tuple((re.compile(row["pattern"], re.DOTALL), row["kind"], row["name"])
                 for row in data["patterns"])


def _system_kind(text: str, sender: str) -> tuple[str, str] | None:
    """``(kind, pattern name)`` when ``text`` is a notice the app wrote, else None."""
    if len(text) > 600:
        return None
    for pattern, kind, name in _system_patterns():
        m = pattern.fullmatch(text)
        if not m:
            continue
        who = m.groupdict().get("who")
        if who is None or who == "You" or who == sender or (
                sender.startswith(who + " ") and len(who) >= 2):
            return kind, name
    return None


def meta_message(raw: dict[str, Any], *, e2ee: bool, section: str, path: str, line: int,
                 cid: str, fmt: str, report: ImportReport) -> Message | None:
    """One message object of a Messenger/Instagram file (``e2ee``: the encrypted export's
shape), or None when it is skipped (and said in ``report``); its id is set later."""
    fix = (lambda s: s) if e2ee else fix_mojibake
    ts_value = raw.get("timestamp" if e2ee else "timestamp_ms")
    timestamp = epoch_ms(ts_value)
    sender_raw = raw.get("senderName" if e2ee else "sender_name")
    text_raw = raw.get("text" if e2ee else "content")
    if timestamp is None:
        report.skip(line, "message without a readable timestamp", str(text_raw or ""))
        return None
    sender = fix(sender_raw) if isinstance(sender_raw, str) else ""
    text = fix(text_raw) if isinstance(text_raw, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    extra: dict[str, Any] = {}
    attachments: list[str] = []
    if e2ee:
        for media in as_list(raw.get("media")):
            uri = media.get("uri") if isinstance(media, dict) else None
            attachments.append(uri if isinstance(uri, str) else "")
    else:
        for mkey in _MEDIA_KEYS:
            for media in as_list(raw.get(mkey)):
                uri = media.get("uri") if isinstance(media, dict) else None
                attachments.append(fix(uri) if isinstance(uri, str) else "")
        sticker = raw.get("sticker")
        if isinstance(sticker, dict):
            attachments.append(fix(str(sticker.get("uri", ""))))
            extra["sticker"] = True
    share = raw.get("share")
    if isinstance(share, dict) and share.get("link"):
        extra["share"] = fix(str(share["link"]))
    reactions = []
    for r in as_list(raw.get("reactions")):
        if not isinstance(r, dict) or not isinstance(r.get("reaction"), str):
            continue
        rts = r.get("timestamp")
        actor = r.get("actor")
        reactions.append(Reaction(
            emoji=fix(r["reaction"]),
            sender=fix(actor) if isinstance(actor, str) else None,
            timestamp=epoch_ms(rts * 1000)
            if isinstance(rts, int) and not isinstance(rts, bool) and rts > 0 else None,
        ))
    mtype = raw.get("type")
    unsent = bool(raw.get("isUnsent") if e2ee else raw.get("is_unsent"))
    if e2ee and mtype == "placeholder":
        unsent = True
        extra["placeholder"] = True
    kind = "text"
    if unsent:
        kind = "deleted"
    elif mtype == "Call" or "call_duration" in raw:
        kind = "event"
        extra["call_duration_s"] = raw.get("call_duration")
        if raw.get("missed"):
            extra["missed"] = True
    elif mtype in ("Subscribe", "Unsubscribe"):
        kind = "event"
    elif attachments:
        kind = "attachment"
        extra["attachments"] = attachments
    elif not text and "share" in extra:
        kind = "attachment"
    if kind == "text" and text:
        system = _system_kind(text, sender)
        if system:
            kind, extra["system"] = system
    if kind == "text" and not text:
        if raw.get("is_geoblocked_for_viewer"):
            kind = "deleted"
            extra["geoblocked"] = True
        else:
            report.skip(line, "message with no text and no attachment", sender)
            return None
    if kind == "deleted":
        report.details["unsent"] = report.details.get("unsent", 0) + 1
    if attachments and kind != "attachment":
        extra["attachments"] = attachments
    if not e2ee and section and section != "inbox":
        extra["section"] = section
    if not sender and kind != "event":
        report.flag(line, "message without a sender", text)
    return Message(
        conversation_id=cid,
        message_id="",
        sender=sender,
        timestamp=timestamp,
        text=text,
        kind=kind,
        reactions=tuple(reactions),
        source=Source(format=fmt, path=path, line=line, time_basis="instant"),
        extra=extra,
    )


def with_id(message: Message, mid: str) -> Message:
    return Message(
        conversation_id=message.conversation_id, message_id=mid, sender=message.sender,
        timestamp=message.timestamp, text=message.text, kind=message.kind,
        reply_to=message.reply_to, reactions=message.reactions, edited=message.edited,
        source=message.source, extra=message.extra,
    )
