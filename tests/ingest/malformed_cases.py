"""The malformed-input set of issue 14: each case builds one bad input and names the error.

Every case writes its input under a folder it is given and returns the path to import, the
numbered error the import must end in, and the text that error must name (the file). Used by
``test_malformed.py``; the fuzz harness (``tests/fuzz``) replays its own crash corpus.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

FIX = Path(__file__).parent / "fixtures"
OK_LINES = ('{"sender": "A", "text": "hi", "timestamp": "2024-01-01T10:00:00+00:00"}\n'
            '{"sender": "B", "text": "yo", "timestamp": "2024-01-01T10:01:00+00:00"}\n')
WA_LINE = "[01/02/2024, 10:00:00] Alex: hello\n[01/02/2024, 10:01:00] Sam: hi\n"

#: name -> builder(folder) -> (path to import, expected code, text the message must hold)
CASES: dict[str, Callable[[Path], tuple[Path, str, str]]] = {}


def case(fn: Callable[[Path], tuple[Path, str, str]]) -> Callable[[Path], tuple[Path, str, str]]:
    CASES[fn.__name__] = fn
    return fn


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _zip(path: Path, members: dict[str, bytes], **kw: object) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **kw) as zf:  # type: ignore[arg-type]
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _patch_zip(path: Path, fn: Callable[[bytearray], None]) -> Path:
    data = bytearray(path.read_bytes())
    fn(data)
    path.write_bytes(bytes(data))
    return path


def _central(data: bytearray) -> int:
    return data.index(b"PK\x01\x02")


# -- JSONL -----------------------------------------------------------------------------------

@case
def jsonl_source_string(d: Path) -> tuple[Path, str, str]:
    line = '{"sender": "A", "text": "hi", "source": "whatsapp"}\n'
    return _write(d / "src.jsonl", line + OK_LINES), "E007", "src.jsonl"


@case
def jsonl_source_wrong_types(d: Path) -> tuple[Path, str, str]:
    line = ('{"sender": "A", "text": "hi", "source": {"format": 1, "line": "x", "flags": 5, '
            '"path": [1]}}\n')
    return _write(d / "srctypes.jsonl", line + OK_LINES), "E007", "srctypes.jsonl"


@case
def jsonl_source_flags_string(d: Path) -> tuple[Path, str, str]:
    line = '{"sender": "A", "text": "hi", "source": {"flags": "abc", "line": true}}\n'
    return _write(d / "flags.jsonl", line + OK_LINES), "E007", "flags.jsonl"


@case
def jsonl_fields_wrong_types(d: Path) -> tuple[Path, str, str]:
    line = '{"sender": "A", "text": "hi", "kind": ["text"]}\n'
    return _write(d / "kind.jsonl", line + OK_LINES), "E007", "kind.jsonl"


@case
def jsonl_nested_brackets(d: Path) -> tuple[Path, str, str]:
    line = "[" * 100_000 + "\n"
    return _write(d / "deep.jsonl", OK_LINES + line), "E005", "deep.jsonl"


@case
def jsonl_nested_in_field(d: Path) -> tuple[Path, str, str]:
    line = '{"sender": "A", "text": "hi", "x": ' + "[" * 5000 + "]" * 5000 + "}\n"
    return _write(d / "deepfield.jsonl", line + OK_LINES), "E005", "deepfield.jsonl"


@case
def jsonl_very_long_line(d: Path) -> tuple[Path, str, str]:
    # one line over the line limit (no newline at all): refused, never read whole
    from heard.ingest import _text  # the limit in force (a test may lower it)

    path = d / "long.jsonl"
    with open(path, "wb") as f:
        f.write(b'{"sender": "A", "text": "')
        block = b"x" * (1 << 20)
        for _ in range(_text.MAX_LINE_BYTES // len(block) + 1):
            f.write(block)
    return path, "E044", "long.jsonl"


# -- Telegram, Messenger ---------------------------------------------------------------------

@case
def telegram_nested_brackets(d: Path) -> tuple[Path, str, str]:
    text = ('{"name": "Sam", "type": "personal_chat", "id": 1, "messages": [' + "[" * 100_000)
    return _write(d / "result.json", text), "E110", "result.json"


@case
def telegram_nested_in_message(d: Path) -> tuple[Path, str, str]:
    text = ('{"name": "Sam", "type": "personal_chat", "id": 1, "messages": [{"id": 1, '
            '"type": "message", "x": ' + "[" * 100_000 + "]" * 100_000 + "}]}")
    return _write(d / "tg" / "result.json", text), "E110", "result.json"


@case
def telegram_nested_skipped_value(d: Path) -> tuple[Path, str, str]:
    text = ('{"name": "Sam", "type": "personal_chat", "id": 1, "messages": [], "unknown": '
            + "[" * 100_000 + "]" * 100_000 + "}")
    return _write(d / "tg2" / "result.json", text), "E110", "result.json"


def _messenger(messages: list[dict[str, object]]) -> str:
    return json.dumps({"participants": [{"name": "Alex Rivera"}, {"name": "Sam Lee"}],
                       "messages": messages, "title": "Sam Lee", "is_still_participant": True,
                       "thread_path": "inbox/samlee_1"})


@case
def messenger_wrong_field_types(d: Path) -> tuple[Path, str, str]:
    """Media, reactions and times of the wrong types: the message is kept, the junk left."""
    msgs = [{"sender_name": "Sam Lee", "timestamp_ms": 1700000060000, "content": "look",
             "photos": 5, "reactions": 7, "videos": True, "audio_files": 1.5},
            {"sender_name": "Sam Lee", "timestamp_ms": 1700000030000, "content": "hey",
             "reactions": [{"reaction": "x", "actor": "Alex Rivera", "timestamp": 10**30}]},
            {"sender_name": ["Sam Lee"], "timestamp_ms": "soon", "content": {"a": 1}},
            {"sender_name": "Alex Rivera", "timestamp_ms": 1700000000000, "content": "hi"}]
    return (_write(d / "inbox" / "samlee_1" / "message_1.json", _messenger(msgs)),
            "", "message_1.json")


@case
def messenger_participants_wrong_types(d: Path) -> tuple[Path, str, str]:
    text = json.dumps({"participants": "Sam", "messages": {"a": 1}, "title": 5})
    return (_write(d / "inbox" / "x_2" / "message_1.json", text), "E008", "message_1.json")


# -- lone surrogates: kept, as U+FFFD ----------------------------------------------------------

SURROGATE_CASES = ("jsonl_lone_surrogate", "telegram_lone_surrogate")


def jsonl_lone_surrogate(d: Path) -> Path:
    line = ('{"sender": "A", "text": "broken \\ud800 half", "x": ["\\udfff"], '
            '"timestamp": "2024-01-01T09:00:00+00:00"}\n')
    return _write(d / "surrogate.jsonl", line + OK_LINES)


def telegram_lone_surrogate(d: Path) -> Path:
    text = json.dumps({"name": "Sam", "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "date_unixtime": "1704103200",
         "from": "Sam", "from_id": "user1", "text": "half PLACEHOLDER here"},
        {"id": 2, "type": "message", "date": "2024-01-01T10:01:00", "date_unixtime": "1704103260",
         "from": "Alex", "from_id": "user2", "text": "ok"}]})
    return _write(d / "tgs" / "result.json", text.replace("PLACEHOLDER", "\\ud800"))


# -- CSV -------------------------------------------------------------------------------------

@case
def csv_field_over_limit(d: Path) -> tuple[Path, str, str]:
    text = 'timestamp,sender,text\n2024-01-01T10:00:00Z,A,"' + "x" * 200_000 + "\n"
    return _write(d / "big.csv", text), "E045", "big.csv"


@case
def csv_unbalanced_quote(d: Path) -> tuple[Path, str, str]:
    lines = ["timestamp,sender,text", '2024-01-01T10:00:00Z,A,"never closed']
    lines += [f"2024-01-01T10:{i % 60:02d}:00Z,B,line {i} " + "y" * 100 for i in range(3000)]
    return _write(d / "quote.csv", "\n".join(lines) + "\n"), "E045", "quote.csv"


@case
def discord_csv_bare_cr(d: Path) -> tuple[Path, str, str]:
    text = ("AuthorID,Author,Date,Content,Attachments,Reactions\n"
            "1,mira.k,28/04/2024 21:03,hello\rthere,,\n"
            "2,dev,28/04/2024 21:04,hi,,\n")
    return _write(d / "dm.csv", text), "", "dm.csv"


@case
def discord_csv_field_over_limit(d: Path) -> tuple[Path, str, str]:
    text = ("AuthorID,Author,Date,Content,Attachments,Reactions\n"
            '1,mira.k,28/04/2024 21:03,"' + "x" * 200_000 + "\n")
    return _write(d / "dm2.csv", text), "E045", "dm2.csv"


# -- SMS Backup & Restore XML ----------------------------------------------------------------

_SMS = ('<smses count="2"><sms protocol="0" address="+15550102233" date="1714502100000" '
        'type="1" body="hi" contact_name="Sam" /><sms protocol="0" address="+15550102233" '
        'date="1714502200000" type="2" body="yo" contact_name="Sam" /></smses>')


@case
def sms_unknown_encoding(d: Path) -> tuple[Path, str, str]:
    text = "<?xml version='1.0' encoding='no-such-codec' standalone='yes' ?>\n" + _SMS
    return _write(d / "sms-1.xml", text), "E158", "sms-1.xml"


@case
def sms_multibyte_encoding(d: Path) -> tuple[Path, str, str]:
    text = "<?xml version='1.0' encoding='shift_jis' standalone='yes' ?>\n" + _SMS
    return _write(d / "sms-2.xml", text), "E158", "sms-2.xml"


@case
def sms_utf16_declared_utf8_bytes(d: Path) -> tuple[Path, str, str]:
    text = "<?xml version='1.0' encoding='utf-16' standalone='yes' ?>\n" + _SMS
    return _write(d / "sms-3.xml", text), "E158", "sms-3.xml"


# -- zips ------------------------------------------------------------------------------------

@case
def zip_encrypted_flag(d: Path) -> tuple[Path, str, str]:
    path = _zip(d / "enc.zip", {"_chat.txt": WA_LINE.encode()})

    def flag(data: bytearray) -> None:
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            i = data.index(sig)
            data[i + off] |= 1
    return _patch_zip(path, flag), "E040", "enc.zip"


@case
def zip_version_needed(d: Path) -> tuple[Path, str, str]:
    path = _zip(d / "ver.zip", {"_chat.txt": WA_LINE.encode()})

    def version(data: bytearray) -> None:
        data[_central(data) + 6: _central(data) + 8] = struct.pack("<H", 99)
        data[4:6] = struct.pack("<H", 99)
    return _patch_zip(path, version), "E041", "ver.zip"


@case
def zip_unknown_method(d: Path) -> tuple[Path, str, str]:
    path = _zip(d / "method.zip", {"_chat.txt": WA_LINE.encode()})

    def method(data: bytearray) -> None:
        data[_central(data) + 10: _central(data) + 12] = struct.pack("<H", 97)
        data[8:10] = struct.pack("<H", 97)
    return _patch_zip(path, method), "E041", "method.zip"


@case
def zip_empty_member_name(d: Path) -> tuple[Path, str, str]:
    path = d / "noname.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(""), WA_LINE)
    return path, "E042", "noname.zip"


@case
def zip_non_utf8_member_name(d: Path) -> tuple[Path, str, str]:
    path = _zip(d / "badname.zip", {"chat.txt": WA_LINE.encode()})

    def name(data: bytearray) -> None:
        c = _central(data)
        data[c + 8] |= 0x08  # keep flags sane
        data[c + 9] |= 0x08  # bit 11: the name is UTF-8
        data[c + 46] = 0xFF  # ... and it is not
    return _patch_zip(path, name), "E042", "badname.zip"


@case
def zip_truncated(d: Path) -> tuple[Path, str, str]:
    path = _zip(d / "cut.zip", {"_chat.txt": (WA_LINE * 200).encode()})
    data = path.read_bytes()
    return _write(path, data[: len(data) // 2]), "E026", "cut.zip"


@case
def zip_corrupt(d: Path) -> tuple[Path, str, str]:
    path = _zip(d / "corrupt.zip", {"_chat.txt": (WA_LINE * 200).encode()})

    def smash(data: bytearray) -> None:
        for i in range(40, min(len(data) - 100, 400)):
            data[i] ^= 0x5A
    return _patch_zip(path, smash), "E026", "corrupt.zip"


@case
def zip_empty(d: Path) -> tuple[Path, str, str]:
    return _zip(d / "empty.zip", {}), "E047", "empty.zip"


@case
def zip_nested(d: Path) -> tuple[Path, str, str]:
    inner = _zip(d / "inner.zip", {"_chat.txt": WA_LINE.encode()}).read_bytes()
    (d / "inner.zip").unlink()
    return _zip(d / "outer.zip", {"export.zip": inner}), "E047", "outer.zip"


def bomb(path: Path, member: str, head: bytes, fill: bytes, size: int) -> Path:
    """A zip whose one deflated ``member`` unpacks to ``size`` bytes (``head`` then ``fill``
    repeated), built in well under a second: one MiB of ``fill`` is deflated once, flushed so
    that it stands alone, and repeated. The CRC is left 0, since heard refuses the member from
    its sizes, before unpacking a byte."""
    block = fill * ((1 << 20) // len(fill))
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = z.compress(head) + z.flush(zlib.Z_FULL_FLUSH)
    once = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    count = -(-(size - len(head)) // len(block))  # at least size bytes
    data = first + once * count + z.flush()
    total = len(head) + count * len(block)
    name = member.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, 0, len(data), total,
                        len(name), 0) + name
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, 0, len(data),
                          total, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return _write(path, local + data + central + end)


@case
def zip_bomb_chat(d: Path) -> tuple[Path, str, str]:
    """A 1 MB zip whose _chat.txt unpacks to 1 GiB with no newline: refused up front."""
    path = bomb(d / "bomb.zip", "_chat.txt", b"[01/02/2024, 10:00:00] Alex: ", b"a", 1 << 30)
    return path, "E043", "bomb.zip"


@case
def zip_bomb_imessage(d: Path) -> tuple[Path, str, str]:
    """An iMessage zip whose chat.db unpacks far past its size: never copied out."""
    path = bomb(d / "imsg.zip", "chat.db", b"SQLite format 3\x00", b"\x00", 1 << 30)
    return path, "E043", "imsg.zip"


# -- folders and names -----------------------------------------------------------------------

@case
def folder_symlink_loop(d: Path) -> tuple[Path, str, str]:
    folder = d / "loop"
    folder.mkdir()
    os.symlink("b", folder / "a")
    os.symlink("a", folder / "b")
    return folder, "E046", "loop"


@case
def file_name_not_utf8(d: Path) -> tuple[Path, str, str]:
    name = os.fsdecode(b"chat-\xff\xfe.jsonl")
    path = d / name
    _write(path, OK_LINES.replace('"A"', '"A"', 1) + '{"sender": "A", "text": "x"}\n')
    return path, "", "chat-"


@case
def folder_entry_name_not_utf8(d: Path) -> tuple[Path, str, str]:
    folder = d / "study"
    folder.mkdir()
    _write(folder / os.fsdecode(b"couple-\xff.jsonl"), OK_LINES)
    _write(folder / "couple-2.jsonl", OK_LINES)
    return folder, "", "study"
