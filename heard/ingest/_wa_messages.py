"""WhatsApp message bodies: what kind each is, and the :class:`~heard.model.Message` built from it.

A body is text, an attachment (media placeholders, attachment lines, locations), a deletion
marker, or an event (system notices and calls). System notices have an empty sender, even when
iOS writes a participant's name before them (that name is kept in ``extra["attributed_to"]``);
calls keep the caller as sender. The edit marker (``<This message was edited>`` and its
translations) is removed from the end of the text and recorded as ``edited=True``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from heard.ingest._base import ImportReport
from heard.ingest._text import normalize_spaces, strip_marks
from heard.ingest._time import place_wall_clock
from heard.ingest._wa_shapes import _MARK_RX, _SPACES, _patterns
from heard.model import Message, trusted_message, trusted_source

__all__ = ["classify"]


def _lead_marked(text: str) -> bool:
    return bool(text) and text[0] in "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff"


def classify(body: str, *, authorless: bool) -> tuple[str, str | None]:
    """``(kind, subtype)`` of a message body.

    ``authorless`` is True when WhatsApp itself marks the line as not typed: an Android line
    without an author, or an iOS body that begins with a format mark.
    """
    return _classify(_patterns(), body, authorless)


def _classify(p: Any, body: str, authorless: bool) -> tuple[str, str | None]:
    cut = body.find("\n")
    if cut < 0:
        first = body
        clean = whole = (strip_marks(body) if not body.isascii()
                         and _MARK_RX.search(body) is not None else body).strip()
    else:
        first = body[:cut]
        marked = not body.isascii() and _MARK_RX.search(body) is not None
        clean = (strip_marks(first) if marked else first).strip()
        whole = (strip_marks(body) if marked else body).strip()
    if whole in p.deleted:
        return "deleted", None
    # One match of both tables together rules out most bodies before trying each.
    if p.calls_or_strict.match(clean):
        if len(clean) <= 80 and p.calls.match(clean) and (authorless or len(clean) <= 40):
            return "event", "call"
        if p.system_strict.match(clean):
            return "event", "system"
    if (authorless and p.system_loose.match(clean)) or clean.endswith(p.endings):
        return "event", "system"
    if whole in p.media:
        return "attachment", "media_omitted"
    # Both tables need a "<" or a closing ")": test for that before running them.
    if (("<" in first and p.attached.search(first))
            or (clean.endswith(")") and p.file_attached.match(clean))):
        return "attachment", "file"
    if clean.startswith(p.location_or_poll):
        if clean.startswith(p.location):
            return "attachment", "location"
        if clean.startswith(p.poll):
            return "text", "poll"
    if not whole and "\n" not in body.strip("\n"):
        return "attachment", "view_once"
    if authorless:
        return "event", "system"
    return "text", None


def _clean_author(raw: str) -> str:
    # "~ Name" (a profile name, not a saved contact) is the same person as "Name"; older
    # exports write a plain space after the tilde, newer ones a narrow no-break space.
    name = raw.strip() if raw.isascii() else normalize_spaces(strip_marks(raw)).strip()
    if name.startswith("~"):
        name = name[1:].strip()
    return name


class _Emitter:
    """Turns a collected header and body into a :class:`~heard.model.Message`."""

    def __init__(self, cid: str, path: str, tz: str | None, report: ImportReport) -> None:
        self.cid = cid
        self.path = path
        self.report = report
        placed, self.basis, self.tz = place_wall_clock(datetime(2000, 1, 1), tz)
        self.tzinfo = placed.tzinfo
        # Android author candidate -> (is a person, cleaned name). A chat has a handful.
        self.authors: dict[str, tuple[bool, str]] = {}
        self.names: dict[str, str] = {}
        self.pat = _patterns()

    def emit(self, line: int, stamp: datetime, ios: bool, rest: str,
             more: list[str] | None) -> Message:
        sender, body, kind, edited, extra = self.describe(line, ios, rest, more)
        return trusted_message(self.cid, f"{self.cid}-{line}", sender, stamp, body, kind, edited,
                               trusted_source("whatsapp", self.path, line, self.basis, self.tz),
                               extra or {})

    def describe(self, line: int, ios: bool, rest: str, more: list[str] | None
                 ) -> tuple[str, str, str, bool, dict[str, Any] | None]:
        """``(sender, text, kind, edited, extra)`` of a collected header and body."""
        if more:
            while more and not more[-1].strip():
                more.pop()
            if more:
                rest = rest + "\n" + "\n".join(more)
        pat = self.pat
        sender = ""
        body = rest
        # "Name:" at the start: what ``pat.author`` matches, found without the regex (a name
        # holds no colon, so only the first colon can end it)
        cut = rest.find(":")
        end = -1
        if 0 < cut <= 100 and (more is None or rest.find("\n", 0, cut) < 0):
            after = rest[cut + 1:cut + 2]
            if not after:
                end = cut + 1
            elif after in _SPACES:
                end = cut + 2
            elif not (after.isalnum() or after == "_" or after == "/"):
                end = cut + 1
        if ios:
            if end > 0:
                raw = rest[:cut]
                sender = self.names.get(raw) or self._name(raw)
                body = rest[end:]
            # no "Name:" at all: WhatsApp wrote the line (group notices on iOS); and iOS puts a
            # notice about someone under their own name ("Ana: Ana left")
            authorless = (end < 0 or _lead_marked(body)
                          or (body.startswith(sender) and bool(sender)
                              and pat.system_loose.match(body) is not None))
        else:
            authorless = True
            if end > 0:
                candidate = rest[:cut]
                person = self.authors.get(candidate)
                if person is None:
                    person = self._author(candidate)
                if person[0]:
                    sender, body = person[1], rest[end:]
                    authorless = False
        kind, subtype = _classify(pat, body, authorless)
        edited = False
        if (kind == "text" or kind == "attachment") and body[-1:] in pat.edited_ends:
            em = pat.edited.search(body)
            if em:
                body, edited = body[: em.start()], True
        extra: dict[str, Any] | None = None
        if subtype:
            extra = {"subtype": subtype}
            if kind == "event" and subtype != "call":
                if sender:
                    extra["attributed_to"] = sender
                sender = ""
                if ios and subtype == "system" and not _matches_table(body):
                    self.report.flag(line, "iOS line WhatsApp marks as not typed (leading "
                                     "U+200E), with unknown wording; kept as a system event",
                                     body)
        if sender and len(sender) > 60 and kind != "event":
            self.report.flag(line, "unusually long sender name; is this a system notice?", rest)
        return sender, body, kind, edited, extra

    def _name(self, raw: str) -> str:
        name = _clean_author(raw)
        if len(self.names) < 10_000:
            self.names[raw] = name
        return name

    def _author(self, candidate: str) -> tuple[bool, str]:
        person = (not _patterns().system_loose.match(strip_marks(candidate)),
                  _clean_author(candidate))
        if len(self.authors) < 10_000:
            self.authors[candidate] = person
        return person


def _matches_table(body: str) -> bool:
    clean = strip_marks(body.split("\n", 1)[0]).strip()
    p = _patterns()
    return bool(p.system_strict.match(clean) or p.system_loose.match(clean))
