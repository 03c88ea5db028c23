"""heard's canonical JSON Lines format: one message object per line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from heard.errors import InputError
from heard.ingest._base import ImportReport, Input, Reader, ReadOptions, register
from heard.ingest._guard import TOO_DEEP, loads
from heard.ingest._text import check_text, iter_json_lines
from heard.ingest._time import parse_timestamp
from heard.model import (
    FIELDS,
    KINDS,
    REQUIRED,
    Message,
    Source,
    codes_from_list,
    reaction_from_dict,
    source_from_dict,
)

__all__ = ["JsonlReader"]

_KNOWN = frozenset((*FIELDS, "codes"))


@register
class JsonlReader(Reader):
    name = "jsonl"
    key = "heard.reader.jsonl.v1"
    description = "heard's canonical JSON Lines (one message per line); what `heard import` writes"

    def sniff(self, source: Input) -> float:
        head = source.head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"{"):
            return 0.0
        first = head.split(b"\n", 1)[0]
        try:
            obj = loads(first)
        except ValueError as exc:
            if str(exc) == TOO_DEEP:  # JSON, only too deep: the read names the line
                return 0.9
            return 0.2 if source.suffix in (".jsonl", ".ndjson") else 0.0
        if isinstance(obj, dict) and "sender" in obj and "text" in obj:
            return 0.95
        return 0.3 if source.suffix in (".jsonl", ".ndjson") else 0.05

    def read(self, source: Input, options: ReadOptions, report: ImportReport) -> Iterator[Message]:
        check_text(source)
        default_cid = options.conversation_id or source.stem
        for lineno, obj in iter_json_lines(source, options.encoding, error="E005"):
            yield self._message(obj, source, lineno, default_cid, options, report)

    def _message(
        self,
        obj: dict[str, Any],
        source: Input,
        lineno: int,
        default_cid: str,
        options: ReadOptions,
        report: ImportReport,
    ) -> Message:
        def bad(field: str, detail: str) -> InputError:
            return InputError.from_code("E007", path=source.name, line=lineno, field=field,
                                        detail=detail)

        kind = obj.get("kind") or "text"
        if kind not in KINDS:
            raise bad("kind", f"is '{kind}'; it must be one of {', '.join(KINDS)}")
        for name in REQUIRED:
            if name not in obj and not (kind == "event" and name == "sender"):
                raise InputError.from_code(
                    "E006", path=source.name, line=lineno, field=name,
                    required=" and ".join(f"'{r}'" for r in REQUIRED),
                )
        sender = obj.get("sender") or ""
        text = obj.get("text")
        if text is None:
            text = ""
        if not isinstance(sender, str):
            raise bad("sender", "must be a string")
        if not isinstance(text, str):
            raise bad("text", "must be a string")
        text = text.replace("\r\n", "\n").replace("\r", "\n")

        timestamp = None
        source_info = source_from_dict(_checked_source(obj.get("source"), bad),
                                       default_format="jsonl")
        raw_ts = obj.get("timestamp")
        if raw_ts not in (None, ""):
            parsed = parse_timestamp(str(raw_ts), tz=options.tz, time_format=options.time_format)
            if parsed is None:
                raise InputError.from_code("E011", path=source.name, line=lineno,
                                           value=str(raw_ts)[:40])
            timestamp, basis, tz = parsed
            if basis == "wall_clock" and not obj.get("source"):
                source_info = Source(format="jsonl", time_basis=basis, tz=tz)
                if tz == "UTC (assumed)":
                    report.warn("timestamps without a time zone were read as UTC; "
                                "pass --tz to place them in your zone")
        elif not obj.get("source"):
            source_info = Source(format="jsonl", time_basis="none")
        if source_info.path is None and source_info.line is None:
            source_info = Source(
                format=source_info.format, path=source.name, line=lineno,
                time_basis=source_info.time_basis, tz=source_info.tz, flags=source_info.flags,
            )

        reactions_raw = obj.get("reactions") or []
        if not isinstance(reactions_raw, list):
            raise bad("reactions", "must be a list")
        try:
            reactions = tuple(reaction_from_dict(r) for r in reactions_raw)
        except (ValueError, AttributeError, TypeError) as exc:
            raise bad("reactions", f"has an unreadable entry ({exc})") from exc

        raw_cid = obj.get("conversation_id")
        cid = str(raw_cid) if raw_cid not in (None, "") else default_cid
        mid = obj.get("message_id")
        message = Message(
            conversation_id=cid,
            message_id=str(mid) if mid not in (None, "") else f"{cid}-{lineno}",
            sender=sender,
            timestamp=timestamp,
            text=text,
            kind=kind,
            reply_to=str(obj["reply_to"]) if obj.get("reply_to") not in (None, "") else None,
            reactions=reactions,
            edited=bool(obj.get("edited", False)),
            source=source_info,
            extra={k: v for k, v in obj.items() if k not in _KNOWN},
        )
        if "codes" in obj:
            codes = obj["codes"]
            if not isinstance(codes, list):
                raise bad("codes", "must be a list of {code, score, evidence} objects")
            try:
                message.annotations["codes"] = codes_from_list(
                    [c if isinstance(c, dict) else {"code": c} for c in codes]
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise bad("codes", f"has an unreadable entry ({exc})") from exc
        return message


def _short(exc: Exception) -> str:
    return str(exc).split(":")[0]


#: The ``source`` fields heard writes, and the types each may have (None: the field may be null).
_SOURCE_TYPES: dict[str, tuple[type, ...]] = {
    "format": (str,), "path": (str, type(None)), "line": (int, type(None)),
    "time_basis": (str,), "tz": (str, type(None)), "flags": (list, type(None)),
}
_TIME_BASES = ("instant", "wall_clock", "none")


def _checked_source(data: Any, bad: Callable[[str, str], InputError]) -> dict[str, Any] | None:
    """``source`` as heard writes it (an object of known field types), else E007."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise bad("source", "must be an object such as {\"format\": \"whatsapp\", \"line\": 3}")
    for key, types in _SOURCE_TYPES.items():
        value = data.get(key)
        if key in data and (not isinstance(value, types) or isinstance(value, bool)):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise bad("source", f"has '{key}' of type {type(value).__name__}, not {names}")
    if not all(isinstance(f, str) for f in data.get("flags") or ()):
        raise bad("source", "has 'flags' that are not all strings")
    if data.get("time_basis", "instant") not in _TIME_BASES:
        raise bad("source", f"has 'time_basis' '{str(data['time_basis'])[:20]}', not one of "
                            + ", ".join(_TIME_BASES))
    return data
