"""``read_export``: detect an input's format and stream its messages through common checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from heard.errors import EmptyInputError, ExportFormatError, InputError, OptionError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, readers
from heard.ingest._guard import reading, unreadable
from heard.ingest._text import looks_binary
from heard.ingest._zip import refuse_zip
from heard.model import Message, Source, message_to_record, record_to_json

__all__ = ["Import", "detect_format", "read_export"]

#: The first bytes of a zip: a member, an empty archive, a split archive.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def detect_format(source: Input) -> tuple[str, float]:
    """The most likely format of ``source`` and its score. Raises when nothing fits."""
    try:
        scores = sorted(
            ((reader.sniff(source), name) for name, reader in readers().items()),
            reverse=True,
        )
    except OSError as exc:  # a link that loops or points nowhere, a file that can't be read
        raise unreadable(exc, source.name) from exc
    best_score, best = scores[0] if scores else (0.0, "")
    if best_score >= 0.3:
        return best, best_score
    if not source.is_dir:
        if source.head.startswith(_ZIP_MAGIC) or source.suffix == ".zip":
            with source.zip() as zf:  # unreadable: E026; else what it holds instead
                refuse_zip(zf, source.name)
        if not source.head.strip():
            raise EmptyInputError.from_code("E002", path=source.name)
        why = looks_binary(source.head)
        if why:
            raise ExportFormatError.from_code("E003", path=source.name, detail=why)
    else:
        raise ExportFormatError.from_code("E025", path=source.name)
    raise ExportFormatError.from_code("E008", path=source.name, formats=", ".join(readers()))


class Import:
    """A single-pass stream of messages from one export, plus the report it fills.

    Iterate it once. When the stream ends, the participant checks run: a chat with one sender,
    or a group chat without ``pair``, raises :class:`~heard.errors.InputError`. The group check
    applies per conversation: an input of many two-person conversations (a study's couples,
    each with its ``conversation_id``) passes, and a conversation of three or more people in it
    still needs ``pair``.
    """

    def __init__(self, source: Input, reader: Reader, options: ReadOptions) -> None:
        self.source = source
        self.reader = reader
        self.options = options
        self.report = ImportReport(path=source.name, format=reader.name)
        self._used = False

    def __iter__(self) -> Iterator[Message]:
        if self._used:
            raise RuntimeError("an Import can be iterated only once; call read_export again")
        self._used = True
        return self._stream()

    def json_lines(self) -> Iterator[str]:
        """The stream as heard's canonical JSON Lines (what ``heard import`` writes), in strings
        of whole lines, after the same checks as iterating. A reader that can write the lines
        without building each message (WhatsApp: ``json_lines``) writes them itself."""
        fast = getattr(self.reader, "json_lines", None)
        if fast is None:
            for message in self:
                yield record_to_json(message_to_record(message)) + "\n"
            return
        if self._used:
            raise RuntimeError("an Import can be iterated only once; call read_export again")
        self._used = True
        people: dict[str, dict[str, None]] = {}
        yield from reading(fast(self.source, self.options, self.report, people), self.report,
                           self.source.name)
        self._check_participants(people)

    def _stream(self) -> Iterator[Message]:
        opts, report = self.options, self.report
        pair = set(opts.pair) if opts.pair else None
        limit = opts.max_chars
        observe = report.observe
        previous = None
        # each conversation's human senders: the group check applies per conversation, so a
        # corpus of many couples passes while a group chat inside it still needs --pair
        people: dict[str, dict[str, None]] = {}
        for message in reading(self.reader.read(self.source, opts, report), report,
                               self.source.name):
            if len(message.text) > limit:
                report.skip(message.source.line, f"message of {len(message.text):,} characters "
                            f"is over --max-chars {limit:,}", message.text)
                report.warn(f"skipped messages longer than {limit:,} characters; "
                            "raise --max-chars to keep them")
                continue
            if pair is not None and message.is_human and message.sender not in pair:
                report.details["left_out_by_pair"] = report.details.get("left_out_by_pair", 0) + 1
                continue
            stamp = message.timestamp
            if stamp:
                if (previous is not None and stamp < previous.timestamp
                        and message.conversation_id == previous.conversation_id):
                    report.flag(message.source.line,
                                "earlier than the message before it; file order kept",
                                message.text)
                    message = _with_flag(message, "out_of_order")
                previous = message
            observe(message)
            if message.is_human:
                key = message.conversation_id
                couple = message.extra.get("couple_id") if message.extra else None
                if couple not in (None, ""):  # a study may reuse conversation ids per couple
                    key = f"{couple} / {key}"
                who = people.get(key)
                if who is None:
                    who = people[key] = {}
                who[message.sender] = None
            yield message
        self._check_participants(people)

    def _check_participants(self, people: dict[str, dict[str, None]]) -> None:
        report, opts = self.report, self.options
        senders = list(report.senders)
        if report.total == 0 or not senders:
            raise EmptyInputError.from_code(
                "E015", path=self.source.name,
                detail=f"{len(report.skipped)} lines skipped" if report.skipped
                else "no message lines",
            )
        if opts.pair:
            missing = [n for n in opts.pair if n not in report.senders]
            if missing:
                raise OptionError.from_code("E023", name=missing[0], path=self.source.name,
                                            senders=", ".join(senders) or "none")
        if len(senders) == 1:
            raise InputError.from_code("E013", path=self.source.name, sender=senders[0])
        if len(senders) > 2 and not opts.pair:
            groups = [(cid, list(who)) for cid, who in people.items() if len(who) > 2]
            if len(people) <= 1 or groups:
                where = self.source.name
                if len(people) > 1:
                    cid, senders = groups[0]
                    where = f"{where}, conversation {cid}"
                shown = ", ".join(senders[:6]) + (" …" if len(senders) > 6 else "")
                raise InputError.from_code("E014", path=where, count=len(senders),
                                           senders=shown)
        if opts.me and opts.me not in report.senders:
            raise OptionError.from_code(
                "E030", option="--me",
                detail=f"'{opts.me}' is not a sender in '{self.source.name}'; "
                       f"senders are {', '.join(senders)}",
            )


def _with_flag(message: Message, flag: str) -> Message:
    s = message.source
    new = Message(
        conversation_id=message.conversation_id, message_id=message.message_id,
        sender=message.sender, timestamp=message.timestamp, text=message.text,
        kind=message.kind, reply_to=message.reply_to, reactions=message.reactions,
        edited=message.edited,
        source=Source(format=s.format, path=s.path, line=s.line, time_basis=s.time_basis,
                      tz=s.tz, flags=(*s.flags, flag)),
        extra=message.extra,
    )
    new.annotations.update(message.annotations)
    return new


def read_export(
    target: str | Path | Input,
    *,
    format: str | None = None,
    options: ReadOptions | None = None,
) -> Import:
    """Open an export and return a streaming :class:`Import` of its messages.

    Parameters
    ----------
    target : path, ``"-"`` for standard input, or an :class:`Input`
    format : str, optional
        Skip detection and use this reader (``heard import --format``).
    options : ReadOptions, optional

    Examples
    --------
    >>> imp = read_export("chat.jsonl")          # doctest: +SKIP
    >>> messages = list(imp); imp.report.format  # doctest: +SKIP
    'jsonl'
    """
    source = target if isinstance(target, Input) else Input.open(target)
    all_readers = readers()
    if format:
        if format not in all_readers:
            raise OptionError.from_code("E009", format=format, formats=", ".join(all_readers))
        reader = all_readers[format]
    else:
        reader = all_readers[detect_format(source)[0]]
    return Import(source, reader, options or ReadOptions())
