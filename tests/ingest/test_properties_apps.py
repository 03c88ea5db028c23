"""Property-based tests of the chat-app readers: round trips, and mangled input.

Round trips write messages the way each app does (Messenger's mojibake and newest-first order,
DiscordChatExporter's JSON, SMS Backup & Restore XML with emoji as UTF-16 surrogate references,
iMessage's attributedBody blobs) and check that the reader gives back every message verbatim.
Mangled input (cut, spliced, corrupted bytes) must end in a message list or a numbered
:class:`~heard.errors.HeardError`, never another exception; and a valid file whose texts hold
junk must account for every record (read, or listed as skipped).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heard.errors import HeardError
from heard.ingest import ReadOptions, read_export
from heard.ingest._imessage import decode_attributed_body

FIX = Path(__file__).parent / "fixtures"
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
A, Z = "Alex Rivera", "Zoë Okafor"
T0 = datetime(2024, 1, 1, tzinfo=UTC)

# Text a person could type: any character but surrogates, plus the line breaks apps keep.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"),
                                 blacklist_characters="\ufffe\uffff") | st.sampled_from(
                                     "\n\t\r"), min_size=1, max_size=40)
MESSAGES = st.lists(st.tuples(st.sampled_from([A, Z]), TEXT, st.integers(1, 10_000_000)),
                    min_size=1, max_size=25)


def _norm(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read(path: Path, fmt: str, **opts: object) -> tuple[list, dict]:
    imp = read_export(path, format=fmt, options=ReadOptions(**opts))  # type: ignore[arg-type]
    out = list(imp)
    return out, imp.report.to_dict()


def _times(items: list) -> list[int]:
    ms, out = 1_704_067_200_000, []
    for item in items:
        ms += item[2]
        out.append(ms)
    return out


def _moji(value: object) -> object:
    if isinstance(value, str):
        return value.encode("utf-8").decode("latin-1")
    if isinstance(value, list):
        return [_moji(v) for v in value]
    if isinstance(value, dict):
        return {k: _moji(v) for k, v in value.items()}
    return value


def _looks_like_notice(text: str) -> bool:
    from heard.ingest._meta_json import _system_kind

    return _system_kind(text, A) is not None or _system_kind(text, Z) is not None


@SETTINGS
@given(items=MESSAGES)
def test_properties_apps_messenger_round_trip(tmp_path_factory, items) -> None:  # type: ignore[no-untyped-def]
    times = _times(items)
    msgs = [{"sender_name": s, "timestamp_ms": t, "content": text}
            for (s, text, _), t in zip(items, times, strict=True)]
    doc = {"participants": [{"name": A}, {"name": Z}], "messages": msgs[::-1],
           "title": A, "thread_path": "inbox/x_1"}
    path = tmp_path_factory.mktemp("m") / "message_1.json"
    path.write_text(json.dumps(_moji(doc), indent=2), encoding="ascii")
    try:
        out, report = _read(path, "messenger")
    except HeardError as exc:  # one sender only
        assert "E013" in str(exc) and len({s for s, _, _ in items}) == 1
        return
    assert [(m.sender, m.text) for m in out] == [(s, _norm(t)) for s, t, _ in items]
    assert [m.timestamp for m in out] == [T0 + timedelta(milliseconds=t - 1_704_067_200_000)
                                          for t in times]
    kinds = {m.kind for m in out if not _looks_like_notice(m.text)}
    assert kinds <= {"text"}
    assert not report["skipped"]


@SETTINGS
@given(items=MESSAGES, edited=st.lists(st.booleans(), min_size=25, max_size=25))
def test_properties_apps_discord_round_trip(tmp_path_factory, items, edited) -> None:  # type: ignore[no-untyped-def]
    times = _times(items)
    ids = {A: "111", Z: "222"}
    msgs = []
    for i, ((sender, text, _), ms) in enumerate(zip(items, times, strict=True)):
        when = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
        msgs.append({"id": str(900 + i), "type": "Reply" if i else "Default", "timestamp": when,
                     "timestampEdited": when if edited[i] else None, "content": text,
                     "author": {"id": ids[sender], "name": sender, "nickname": sender},
                     "attachments": [], "reactions": [],
                     **({"reference": {"messageId": str(899 + i)}} if i else {})})
    doc = {"guild": {"id": "0", "name": "Direct Messages"},
           "channel": {"id": "5", "type": "DirectTextChat", "name": "x"}, "messages": msgs}
    path = tmp_path_factory.mktemp("d") / "dm.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    try:
        out, _ = _read(path, "discord")
    except HeardError as exc:
        assert "E013" in str(exc)
        return
    assert [(m.sender, m.text) for m in out] == [(s, _norm(t)) for s, t, _ in items]
    assert [m.edited for m in out] == edited[:len(items)]
    assert [m.reply_to for m in out] == [None] + [str(900 + i) for i in range(len(items) - 1)]


def _xml_attr(text: str) -> str:
    out = []
    for ch in text:
        cp = ord(ch)
        if ch in "&<>\"'\n\r\t":
            out.append(f"&#{cp};")
        elif cp > 0xFFFF:  # as Silence and other tools write it: two surrogate references
            cp -= 0x10000
            out.append(f"&#{0xD800 + (cp >> 10)};&#{0xDC00 + (cp & 0x3FF)};")
        else:
            out.append(ch)
    return "".join(out)


@SETTINGS
@given(items=st.lists(st.tuples(st.booleans(), XML_TEXT), min_size=2, max_size=25),
       junk=st.lists(st.sampled_from(["&#1;", "&#x1F;", "&#55357;", "\x0b", ""]),
                     min_size=25, max_size=25))
def test_properties_apps_sms_round_trip(tmp_path_factory, items, junk) -> None:  # type: ignore[no-untyped-def]
    lines = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>", "<smses count='0'>"]
    for i, (sent, text) in enumerate(items):
        lines.append(f'<sms address="+1 555 010 2233" date="{1714502100000 + i * 1000}" '
                     f'type="{2 if sent else 1}" body="{junk[i]}{_xml_attr(text)}" '
                     f'contact_name="Jamie" />')
    lines.append("</smses>")
    path = tmp_path_factory.mktemp("s") / "sms.xml"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        out, report = _read(path, "sms", me="Robin")
    except HeardError as exc:
        assert "E013" in str(exc)
        return
    expected = [("Robin" if sent else "Jamie",
                 ("\ufffd" if junk[i] == "&#55357;" else "") + _norm(text))
                for i, (sent, text) in enumerate(items)]
    assert [(m.sender, m.text) for m in out] == expected
    assert not report["skipped"]
    assert [m.source.line for m in out] == list(range(3, 3 + len(items)))


@given(text=st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_properties_apps_attributed_body_round_trip(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return
    n = len(raw)
    length = bytes([n]) if n < 0x80 else b"\x81" + n.to_bytes(2, "little")
    blob = (b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00"
            b"\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+"
            + length + raw + b"\x86\x84\x02iI\x01\x05\x92\x84\x84\x84\x0cNSDictionary\x00\x86")
    assert decode_attributed_body(blob) == text


# --------------------------------------------------------------------------- mangled input

MANGLE = st.tuples(st.integers(0, 10_000), st.integers(0, 400), st.binary(max_size=40),
                   st.sampled_from(["splice", "cut", "flip"]))


def _mangle(data: bytes, how: tuple[int, int, bytes, str]) -> bytes:
    at, size, junk, kind = how
    at %= max(len(data), 1)
    if kind == "cut":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes(b ^ 0xA5 for b in data[at:at + max(size % 64, 1)]) + \
            data[at + max(size % 64, 1):]
    return data[:at] + junk + data[at + size:]


def _survives(path: Path, fmt: str, **opts: object) -> None:
    try:
        _read(path, fmt, **opts)
    except HeardError as exc:
        assert str(exc).startswith("E") and "\n" not in str(exc)


SOURCES = {
    "messenger": (FIX / "messenger/dyi/your_facebook_activity/messages/inbox/"
                  "alexrivera_10158234567/message_1.json", {}),
    "instagram": (FIX / "instagram/your_instagram_activity/messages/inbox/jordanlee_17893412/"
                  "message_1.json", {}),
    "discord": (FIX / "discord/dm_mira_dev.json", {}),
    "discord-csv": (FIX / "discord/dm_mira_dev.csv", {"tz": "Europe/Warsaw"}),
    "sms": (FIX / "sms/sms-20240512183000.xml", {"chat": "1"}),
}


@SETTINGS
@given(which=st.sampled_from(sorted(SOURCES)), how=MANGLE)
def test_properties_apps_mangled_text_exports_never_crash(tmp_path_factory, which, how) -> None:  # type: ignore[no-untyped-def]
    src, opts = SOURCES[which]
    path = tmp_path_factory.mktemp("x") / src.name
    path.write_bytes(_mangle(src.read_bytes(), how))
    _survives(path, which.split("-")[0], **opts)


@cache
def _chat_db_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.db"
        con = sqlite3.connect(path)
        con.executescript("""
            CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT NOT NULL, service TEXT);
            CREATE TABLE chat (ROWID INTEGER PRIMARY KEY, guid TEXT, style INTEGER,
              chat_identifier TEXT, display_name TEXT);
            CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT,
              attributedBody BLOB, handle_id INTEGER, is_from_me INTEGER, date INTEGER,
              associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0,
              thread_originator_guid TEXT, date_edited INTEGER DEFAULT 0,
              cache_has_attachments INTEGER DEFAULT 0, item_type INTEGER DEFAULT 0);
            CREATE TABLE chat_handle_join (chat_id INTEGER, handle_id INTEGER);
            CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER,
              message_date INTEGER);
            INSERT INTO handle VALUES (1, '+15550104477', 'iMessage');
            INSERT INTO chat VALUES (1, 'iMessage;-;+15550104477', 45, '+15550104477', '');
            INSERT INTO chat_handle_join VALUES (1, 1);""")
        for i in range(200):
            con.execute("INSERT INTO message (ROWID, guid, text, handle_id, is_from_me, date) "
                        "VALUES (?,?,?,?,?,?)",
                        (i + 1, f"G{i}", f"message number {i} " * 3, 1, i % 2,
                         731_619_000_000_000_000 + i * 60_000_000_000))
            con.execute("INSERT INTO chat_message_join VALUES (1, ?, 0)", (i + 1,))
        con.commit()
        con.close()
        return path.read_bytes()


@SETTINGS
@given(how=MANGLE)
def test_properties_apps_mangled_chat_db_never_crashes(tmp_path_factory, how) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("db") / "chat.db"
    path.write_bytes(_mangle(_chat_db_bytes(), how))
    _survives(path, "imessage")


@SETTINGS
@given(kinds=st.lists(st.sampled_from(["text", "empty", "unsent", "photo", "nots", "call",
                                       "notobj", "dup"]), min_size=1, max_size=30))
def test_properties_apps_messenger_never_loses_a_message(tmp_path_factory, kinds) -> None:  # type: ignore[no-untyped-def]
    msgs: list[object] = []
    for i, kind in enumerate(kinds):
        base = {"sender_name": [A, Z][i % 2], "timestamp_ms": 1_704_067_200_000 + i * 1000}
        if kind == "text":
            msgs.append({**base, "content": f"hello {i}"})
        elif kind == "empty":
            msgs.append(base)
        elif kind == "unsent":
            msgs.append({**base, "is_unsent": True})
        elif kind == "photo":
            msgs.append({**base, "photos": [{"uri": "p.jpg"}]})
        elif kind == "nots":
            msgs.append({"sender_name": A, "content": "no time"})
        elif kind == "call":
            msgs.append({**base, "content": "Alex called you.", "call_duration": 5})
        elif kind == "notobj":
            msgs.append(["not", "an", "object"])
        else:
            msgs.append(dict(msgs[-1]) if msgs and isinstance(msgs[-1], dict)
                        and "timestamp_ms" in msgs[-1] else {**base, "content": "x"})
    doc = {"participants": [{"name": A}, {"name": Z}], "messages": msgs[::-1]}
    path = tmp_path_factory.mktemp("n") / "message_1.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    imp = read_export(path, format="messenger")
    out = []
    try:
        out.extend(imp)
    except HeardError as exc:
        assert exc.code in ("E013", "E015")
    report = imp.report
    merged = report.details.get("duplicates_merged", 0)
    assert report.total + len(report.skipped) + merged == len(kinds)
    assert {s.line for s in report.skipped} <= set(range(1, len(path.read_text()) + 1))
