"""WhatsApp "Export chat": the ``.txt`` (Android and iOS, any locale) or the ``.zip`` around it.

A message starts with a header (``1/4/23, 7:02 PM - Sam: text`` on Android, ``[04.01.23,
19:02:11] Sam: text`` on iOS); every line up to the next header continues its body. The reader
works in two steps over the text, which it reads in blocks of whole lines:

1. a scan of the headers only, which learns the file's header shape and keeps the sequence of
   distinct dates, from which the day/month order is inferred (:func:`infer_date_order`);
2. the parse proper (:mod:`heard.ingest._wa_parse`), which yields one
   :class:`~heard.model.Message` per header, or, for ``heard import``
   (:meth:`WhatsAppReader.json_lines`), writes each message's JSON line without building it.

The modules: ``_wa_shapes`` (header shapes and the locale data), ``_wa_parse`` (the scan and
the parse), ``_wa_messages`` (what a body is: sender, kind, notices, markers), ``_wa_lines``
(the JSON Lines), and this one (the reader: finding the chat, settling the shape and order).

A file with more than :data:`SETTLE_HEADERS` header lines (most real exports) is scanned only
that far when those lines settle both questions (one header shape, and a day or month over 12
that proves the order): the rest is only decoded (so that a bad byte is still
refused before any message is returned), and the parse counts the whole file's headers and
dates on its way, reports them, and warns if the whole file would have been read otherwise.

Memory stays bounded whatever the file size: nothing but one block of lines and its messages, a
few counters and the list of distinct dates is held.

Choices worth knowing (they are also in the import report):

* System notices are ``kind="event"`` with an empty sender, even when iOS writes a participant's
  name before them; that name is kept in ``extra["attributed_to"]``. Calls are events too, with
  the caller as sender (who called is information; a call is not something typed).
* Media placeholders and attachment lines are ``kind="attachment"``; their text is kept verbatim,
  including an Android caption on the following lines.
* Deletion markers are ``kind="deleted"``.
* The edit marker (``<This message was edited>`` and its translations) is removed from the end of
  the text and recorded as ``edited=True``: it is WhatsApp's annotation, not what the person
  wrote. Everything else in a body is kept verbatim; only line endings are normalized.
* Times are the exporting phone's wall clock: they are placed in ``--tz`` and recorded as
  ``time_basis="wall_clock"``.
* When nothing in the file decides the day/month order, the likelier one is used (a 24-hour
  clock or dots: day first; "AM/PM" with slashes: month first) and a warning names
  ``--date-order`` for the other: a person gets their chat, with a way to correct it.
* One export may mix header styles (iOS writes ``2020-03-01``, ``2020.04.01`` and
  ``01/07/2025`` in one file; AM/PM is spelt ``p.m.``, ``p. m.`` or ``PM``): those shapes are
  one family, and a four-digit first field is always the year.
* A line without ``Name:`` is WhatsApp's own (a notice), on iOS as on Android; so is an iOS
  notice filed under the name it is about (``Ana: Ana left``).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heard.errors import ExportFormatError, HeardError, OptionError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._dayorder import DateOrder, infer_date_order
from heard.ingest._members import MemberInput, chat_file
from heard.ingest._text import check_text, iter_blocks
from heard.ingest._wa_lines import json_lines
from heard.ingest._wa_messages import classify
from heard.ingest._wa_parse import (
    Scan,
    Tally,
    accepted_signatures,
    fold,
    parse,
    read_guard,
    scan_block,
)
from heard.ingest._wa_shapes import _patterns, parse_header
from heard.model import Message

# ``_patterns`` and ``classify`` are re-exported for the tests that check the tables directly.
__all__ = ["DateOrder", "WhatsAppReader", "_patterns", "classify", "infer_date_order",
           "parse_header"]

#: WhatsApp stops an export without media at this many messages (fewer with media).
EXPORT_CAP = 40_000
EXPORT_CAP_MEDIA = 10_000


# --------------------------------------------------------------------------------------------
# sources: a plain file, a zip member, a file inside a folder


_CHAT_TXT = re.compile(r"(?:^|/)(?:_chat\.txt|WhatsApp[^/]*\.txt|[^/]*WhatsApp[^/]*\.txt)$",
                       re.IGNORECASE)


def _pick_member(names: Sequence[str]) -> str | None:
    texts = [n for n in names if n.lower().endswith(".txt") and not n.endswith("/")
             and "__MACOSX" not in n]
    for name in texts:
        if name.rsplit("/", 1)[-1] == "_chat.txt":
            return name
    named = [n for n in texts if _CHAT_TXT.search(n)]
    if named:
        return named[0]
    return texts[0] if len(texts) == 1 else None


def _chat_source(source: Input) -> tuple[Input, dict[str, Any]]:
    """The text file that holds the chat, plus facts about its container."""
    return chat_file(source, _pick_member, missing=lambda listing: ExportFormatError.from_code(
        "E102", path=source.name, members=listing))


def chat_partner_from_name(name: str) -> str | None:
    """The other person's name from ``WhatsApp Chat with NAME.txt`` and its translations."""
    stem = Path(name.replace("\\", "/")).name
    for suffix in (".txt", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    for prefix in _patterns().file_names:
        if stem.lower().startswith(prefix.lower()):
            partner = stem[len(prefix):].strip()
            # Several exports of one chat get " (1)", " (2)" appended by the file system.
            partner = re.sub(r"\s*\(\d+\)$", "", partner)
            return partner or None
    return None



_DATE_ORDERS = ("DMY", "MDY", "YMD")

#: Files with more header lines than this are read once when these settle the date order and
#: the header shape (see ``WhatsAppReader._scan``): enough lines to meet a day over 12 and the
#: header shapes of an export; the rest is checked as it is parsed, with a warning where the
#: whole file would have been read otherwise. Most real exports (up to 40,000 messages) are
#: then read in one pass instead of two.
SETTLE_HEADERS = 5_000


@dataclass(frozen=True, slots=True)
class _Plan:
    chat: Input
    info: dict[str, Any]
    scan: Scan
    order: str
    accepted: set[tuple[Any, ...]]
    tally: Tally | None


@register
class WhatsAppReader(Reader):
    name = "whatsapp"
    key = "heard.reader.whatsapp.v1"
    description = "WhatsApp 'Export chat' (.txt or .zip; Android and iOS, any locale)"

    # -- detection --------------------------------------------------------------------------

    def sniff(self, source: Input) -> float:
        named = chat_partner_from_name(source.name) is not None
        try:
            if source.is_dir:
                assert source.path is not None
                names = [p.name for p in source.path.iterdir() if p.suffix.lower() == ".txt"]
                picked = _pick_member(names)
                if picked is None:
                    return 0.0
                inner = Input(source.path / picked, name=picked)
                return self._sniff_text(inner.head, named=True)
            if source.is_zip:
                with source.zip() as zf:
                    names = zf.namelist()
                    picked = _pick_member(names)
                    if picked is None:
                        return 0.0
                    with zf.open(picked) as f:
                        head = f.read(16 * 1024)
                return self._sniff_text(head, named=True)
        except (HeardError, OSError, zipfile.BadZipFile, zlib.error, EOFError):
            return 0.0
        return self._sniff_text(source.head, named=named)

    @staticmethod
    def _sniff_text(head: bytes, *, named: bool) -> float:
        text = head.decode("utf-8", "replace").lstrip("\ufeff")
        lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
        if not lines:
            return 0.0
        headers = [h for h in (parse_header(ln) for ln in lines) if h is not None]
        if not headers:
            return 0.0
        top, count = Counter(h.signature for h in headers).most_common(1)[0]
        term, sep, seconds, ampm_style, _tsep, word = top
        if term == "]" and not seconds:
            # iOS always writes seconds; "[date time] Name:" without them is more likely a
            # transcript, but when no other reader claims it, it is read as WhatsApp.
            return 0.35
        generic = (sep == "-" and not word and not ampm_style and headers[0].d1.isdigit()
                   and len(headers[0].d1) == 4 and term != "]")
        first_is_header = parse_header(lines[0]) is not None
        if named:
            return 0.97
        if generic:
            # ``2024-03-02 21:14 - Sam: hi`` is as much a plain transcript as a WhatsApp chat.
            return 0.5
        if first_is_header and count >= 1:
            return 0.95
        return 0.9 if count >= 3 else 0.4

    # -- reading ----------------------------------------------------------------------------

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        plan = self._plan(source, options, report)
        yield from parse(plan.chat, options, report, plan.order, plan.accepted, source,
                         plan.tally)
        self._finish(plan, options, report)

    def json_lines(self, source: Input, options: ReadOptions, report: ImportReport,
                   people: dict[str, dict[str, None]]) -> Iterator[str]:
        """What :meth:`Import.json_lines` writes, made without building the messages: the
        canonical JSON Lines of the messages an Import of ``read`` yields, after its checks,
        in strings of whole lines; ``people`` gets each conversation's human senders."""
        plan = self._plan(source, options, report)
        yield from json_lines(plan.chat, options, report, plan.order, plan.accepted, source,
                              plan.tally, people)
        self._finish(plan, options, report)

    def _plan(self, source: Input, options: ReadOptions, report: ImportReport) -> _Plan:
        """Find the chat, scan its headers, settle the date order: what the parse needs."""
        chat, info = _chat_source(source)
        check_text(chat)
        report.details.update(info)
        inner = chat.member if isinstance(chat, MemberInput) else chat.name
        partner = chat_partner_from_name(inner) or chat_partner_from_name(source.name)
        if partner:
            report.details["chat_with"] = partner
        if options.date_order and options.date_order.upper() not in _DATE_ORDERS:
            raise OptionError.from_code("E104", value=options.date_order)

        scan, settled = self._scan(chat, options)
        if scan.headers == 0:
            line, excerpt = scan.first_line or (1, "")
            raise ExportFormatError.from_code("E101", path=chat.name, line=line,
                                              excerpt=excerpt[:60])
        accepted = accepted_signatures(scan)
        top = scan.signatures.most_common(1)[0][0]
        comma_share = scan.commas[True] / max(1, scan.headers)
        order = self._date_order(chat, scan, (*top, comma_share >= 0.5), options, report)
        variant = "ios" if scan.ios * 2 >= scan.headers else "android"
        report.details["whatsapp_variant"] = variant
        report.details["header_lines"] = scan.headers
        if settled:
            self._warn_cap(scan.headers, info, report)
        if options.tz is None:
            report.warn("WhatsApp records the phone's local clock time without a zone; times "
                        "were placed in UTC. Pass --tz (for example Europe/Berlin) to place them "
                        "in your zone.")
        tally = None if settled else Tally()
        if tally is not None:
            report.details["settled_on_header_lines"] = scan.headers
        return _Plan(chat, info, scan, order, accepted, tally)

    def _finish(self, plan: _Plan, options: ReadOptions, report: ImportReport) -> None:
        if plan.tally is not None:
            headers = self._check_settled(plan.scan, plan.tally, plan.order, plan.accepted,
                                          options, report)
            self._warn_cap(headers, plan.info, report)

    def _scan(self, chat: Input, options: ReadOptions) -> tuple[Scan, bool]:
        """Header statistics, and whether they cover the whole file.

        Large files are decided on their first :data:`SETTLE_HEADERS` header lines when those
        settle the questions (a day or month over 12 decides the order; one header shape),
        so that they are read once; the rest is still decoded here, so that a bad byte or a
        damaged archive is refused before any message is returned. Otherwise the whole file
        is scanned first.
        """
        scan = Scan()
        blocks = read_guard(chat, iter_blocks(chat, options.encoding))
        shapes: dict[tuple[Any, ...], int] = {}
        state = ["", "", ""]
        checked = False
        for start, block in blocks:
            scan_block(scan, shapes, state, start, block)
            if not checked and sum(shapes.values()) >= SETTLE_HEADERS:
                checked = True
                fold(scan, shapes)
                if self._settled(scan, options):
                    for _ in blocks:
                        pass
                    return scan, False
                scan = Scan(first_line=scan.first_line, dates=scan.dates)
        fold(scan, shapes)
        return scan, True

    @staticmethod
    def _settled(scan: Scan, options: ReadOptions) -> bool:
        if len(scan.signatures) != 1:
            return False
        if options.date_order:
            return True
        inferred = infer_date_order(scan.dates)
        return inferred.decisive and inferred.confidence == 1.0

    def _check_settled(self, scan: Scan, tally: Tally, order: str,
                       accepted: set[tuple[Any, ...]], options: ReadOptions,
                       report: ImportReport) -> int:
        """After a read decided on the first header lines: the whole file's figures, and a
        warning where the whole file would have been read otherwise. Returns the header
        count."""
        full = Scan(dates=tally.dates)
        fold(full, {(*k, True): n for k, n in tally.shapes.items()})
        report.details["header_lines"] = full.headers
        report.details["whatsapp_variant"] = "ios" if full.ios * 2 >= full.headers else "android"
        settled = f"settled on the first {scan.headers:,} message lines"
        inferred = infer_date_order(full.dates)
        if options.date_order:
            if (inferred.decisive and inferred.order != order and inferred.confidence >= 0.9
                    and not any("contradicts" in w for w in report.warnings)):
                report.warn(f"--date-order {order} contradicts the dates in the file, which read "
                            f"as {inferred.order}; dates impossible as {order} are kept as text "
                            "of the message before them and listed as suspicious")
        else:
            report.details["date_order_votes"] = inferred.votes
            same = inferred.order == order
            report.details["date_order_confidence"] = (
                inferred.confidence if same else round(1.0 - inferred.confidence, 3))
            if not same or inferred.confidence < 0.9:
                other = "MDY" if order == "DMY" else "DMY"
                report.warn(f"the day/month order was {settled} as {order}, but the whole "
                            f"file reads as {inferred.order} (confidence "
                            f"{inferred.confidence:.2f}); dates impossible as {order} are kept "
                            "as text of the message before them and listed as suspicious; if "
                            f"{other} is right, import again with --date-order {other}")
        if accepted_signatures(full) != accepted:
            report.warn(f"the shape of this file's message lines was {settled}, but later "
                        "lines of another shape start many messages; they were kept as text "
                        "of the message before them and listed as suspicious")
        return full.headers

    @staticmethod
    def _date_order(chat: Input, scan: Scan, signature: tuple[Any, ...],
                    options: ReadOptions, report: ImportReport) -> str:
        inferred = infer_date_order(scan.dates, signature=signature)
        if options.date_order:
            order = options.date_order.upper()
            report.details["date_order"] = order
            report.details["date_order_source"] = "--date-order"
            if inferred.decisive and inferred.order != order and inferred.confidence >= 0.9:
                report.warn(f"--date-order {order} contradicts the dates in the file, which read "
                            f"as {inferred.order}; dates impossible as {order} are kept as text "
                            "of the message before them and listed as suspicious")
            return order
        report.details["date_order"] = inferred.order
        report.details["date_order_confidence"] = inferred.confidence
        report.details["date_order_votes"] = inferred.votes
        report.details["date_order_source"] = "inferred"
        if inferred.confidence < 0.9:
            # Undecided files still import: the likelier order is used, and the person is told
            # how to choose the other one.
            other = "MDY" if inferred.order == "DMY" else "DMY"
            example = "/".join(scan.dates[0]) if scan.dates else "?"
            report.warn(f"the day/month order is uncertain: dates such as {example} were read as "
                        f"{inferred.order} (confidence {inferred.confidence:.2f}); if that is "
                        f"wrong, import again with --date-order {other}")
        return inferred.order

    @staticmethod
    def _warn_cap(headers: int, info: dict[str, Any], report: ImportReport) -> None:
        media = info.get("media_files", 0) > 0
        for cap in (EXPORT_CAP, EXPORT_CAP_MEDIA) if media else (EXPORT_CAP,):
            if cap - cap // 100 <= headers <= cap:
                report.warn(
                    f"this export holds {headers:,} messages, at WhatsApp's export limit of "
                    f"{cap:,}{' with media' if cap == EXPORT_CAP_MEDIA else ''}: older messages "
                    "are probably missing, and the analysis covers only the date range shown")
                report.details["export_cap"] = cap
                return
