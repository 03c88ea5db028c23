"""The Apple Messages reader on real SQLite files built here with chat.db's tables and columns."""

from __future__ import annotations

import plistlib
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from heard.errors import ExportFormatError, InputError, OptionError
from heard.ingest import Input, ReadOptions, detect_format, read_export
from heard.ingest._imessage import apple_time, decode_attributed_body

APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)

# The tables and columns of macOS 14's chat.db that the reader touches, plus neighbours, with
# Apple's names and types (a subset of the ~90 message columns).
SCHEMA = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL,
  country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT,
  UNIQUE (id, service));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
  style INTEGER, state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT,
  service_name TEXT, room_name TEXT, account_login TEXT, is_archived INTEGER DEFAULT 0,
  last_addressed_handle TEXT, display_name TEXT, group_id TEXT, is_filtered INTEGER DEFAULT 0,
  successful_query INTEGER, engram_id TEXT, server_change_token TEXT,
  ck_sync_state INTEGER DEFAULT 0, original_group_id TEXT,
  last_read_message_timestamp INTEGER DEFAULT 0, cloudkit_record_id TEXT,
  last_addressed_sim_id TEXT, is_blackholed INTEGER DEFAULT 0, syndication_date INTEGER DEFAULT 0,
  syndication_type INTEGER DEFAULT 0, is_recovered INTEGER DEFAULT 0,
  is_deleting_incoming_messages INTEGER DEFAULT 0);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
  text TEXT, replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0,
  subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0,
  type INTEGER DEFAULT 0, service TEXT, account TEXT, account_guid TEXT,
  error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
  is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0,
  is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0,
  is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
  is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0,
  has_dd_results INTEGER DEFAULT 0, is_service_message INTEGER DEFAULT 0,
  is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
  is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0,
  cache_roomnames TEXT, was_data_detected INTEGER DEFAULT 0,
  was_deduplicated INTEGER DEFAULT 0, is_audio_message INTEGER DEFAULT 0,
  is_played INTEGER DEFAULT 0, date_played INTEGER, item_type INTEGER DEFAULT 0,
  other_handle INTEGER DEFAULT 0, group_title TEXT, group_action_type INTEGER DEFAULT 0,
  share_status INTEGER DEFAULT 0, share_direction INTEGER DEFAULT 0,
  is_expirable INTEGER DEFAULT 0, expire_state INTEGER DEFAULT 0,
  message_action_type INTEGER DEFAULT 0, message_source INTEGER DEFAULT 0,
  associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0,
  balloon_bundle_id TEXT, payload_data BLOB, expressive_send_style_id TEXT,
  associated_message_range_location INTEGER DEFAULT 0,
  associated_message_range_length INTEGER DEFAULT 0, time_expressive_send_played INTEGER,
  message_summary_info BLOB, ck_sync_state INTEGER DEFAULT 0, ck_record_id TEXT,
  ck_record_change_tag TEXT, destination_caller_id TEXT, is_corrupt INTEGER DEFAULT 0,
  reply_to_guid TEXT, sort_id INTEGER, is_spam INTEGER DEFAULT 0,
  has_unseen_mention INTEGER DEFAULT 0, thread_originator_guid TEXT,
  thread_originator_part TEXT, syndication_ranges TEXT, synced_syndication_ranges TEXT,
  was_delivered_quietly INTEGER DEFAULT 0, did_notify_recipient INTEGER DEFAULT 0,
  date_retracted INTEGER DEFAULT 0, date_edited INTEGER DEFAULT 0,
  was_detonated INTEGER DEFAULT 0, part_count INTEGER, is_stewie INTEGER DEFAULT 0,
  is_kt_verified INTEGER DEFAULT 0, is_sos INTEGER DEFAULT 0, is_critical INTEGER DEFAULT 0,
  bia_reference_id TEXT DEFAULT NULL, fallback_hash TEXT DEFAULT NULL,
  associated_message_emoji TEXT DEFAULT NULL);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
  created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT,
  mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0,
  user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0,
  is_sticker INTEGER DEFAULT 0, sticker_user_info BLOB, attribution_info BLOB,
  hide_attachment INTEGER DEFAULT 0);
CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
  handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
  message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER DEFAULT 0,
  PRIMARY KEY (chat_id, message_id));
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID)
  ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE,
  UNIQUE(message_id, attachment_id));
CREATE TABLE chat_recoverable_message_join (chat_id INTEGER REFERENCES chat (ROWID)
  ON DELETE CASCADE, message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
  delete_date INTEGER, ck_sync_state INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
CREATE INDEX chat_message_join_idx_message_date_id_chat_id
  ON chat_message_join(chat_id, message_date, message_id);
CREATE INDEX message_attachment_join_idx_message_id ON message_attachment_join(message_id);
"""


def streamtyped(text: str) -> bytes:
    """An ``attributedBody`` blob shaped like the ones Messages writes (NSAttributedString)."""
    raw = text.encode("utf-8")
    n = len(raw)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x10000:
        length = b"\x81" + n.to_bytes(2, "little")
    else:
        length = b"\x82" + n.to_bytes(4, "little")
    return (b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00"
            b"\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+"
            + length + raw +
            b"\x86\x84\x02iI\x01" + bytes([min(len(text), 127)]) +
            b"\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x01\x92\x84\x96\x96"
            b"\x1d__kIMMessagePartAttributeName\x86\x92\x84\x84\x84\x08NSNumber\x00\x84\x84"
            b"\x07NSValue\x00\x94\x84\x01*\x84\x99\x99\x00\x86\x86\x86")


def ns(dt: datetime) -> int:
    return int((dt - APPLE_EPOCH).total_seconds()) * 1_000_000_000


def secs(dt: datetime) -> int:
    return int((dt - APPLE_EPOCH).total_seconds())


T0 = datetime(2024, 3, 8, 19, 30, tzinfo=UTC)
PARTNER = "+15550104477"


def build_chat_db(path: Path, *, seconds: bool = False, extra_chats: bool = True) -> Path:
    """A Messages database with one couple's chat (iMessage + SMS threads) and a group chat."""
    stamp = secs if seconds else ns
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    con.executescript(SCHEMA)
    con.executemany("INSERT INTO handle (ROWID, id, country, service) VALUES (?,?,?,?)", [
        (1, PARTNER, "us", "iMessage"), (2, PARTNER, "us", "SMS"),
        (3, "kit.lopez@example.com", "us", "iMessage"), (4, "+15550108800", "us", "iMessage"),
    ])
    con.executemany(
        "INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name, display_name) "
        "VALUES (?,?,?,?,?,?)", [
            (1, f"iMessage;-;{PARTNER}", 45, PARTNER, "iMessage", ""),
            (2, f"SMS;-;{PARTNER}", 45, PARTNER, "SMS", ""),
            (3, "iMessage;+;chat884422190017", 43, "chat884422190017", "iMessage",
             "Saturday climbing"),
        ])
    con.executemany("INSERT INTO chat_handle_join VALUES (?,?)",
                    [(1, 1), (2, 2), (3, 3), (3, 4)])
    rows = [
        # rowid, guid, text, body, handle, from_me, minute, extra columns
        (1, "A1", "hey, are you home for dinner?", None, 1, 1, 0, {}),
        (2, "B1", None, streamtyped("I'm staying late again, sorry 😕"), 1, 0, 3, {}),
        (3, "A2", None, streamtyped("That's the third time this week. I miss you."), 1, 1, 5,
         {}),
        # a tapback (love) on A2 from the partner, then a laugh by me on B1, later removed
        (4, "T1", None, None, 1, 0, 6, {"associated_message_guid": "p:0/A2",
                                        "associated_message_type": 2000}),
        (5, "T2", None, None, 1, 1, 7, {"associated_message_guid": "p:0/B1",
                                        "associated_message_type": 2003}),
        (6, "T3", None, None, 1, 1, 8, {"associated_message_guid": "p:0/B1",
                                        "associated_message_type": 3003}),
        # a reply, then an edit, then an unsent message
        (7, "B2", "You're right. I'll be home by 8, promise", None, 1, 0, 9,
         {"thread_originator_guid": "A2", "thread_originator_part": "0:0:44"}),
        (8, "A3", None, streamtyped("ok. thank you ❤️"), 1, 1, 10,
         {"date_edited": 11, "message_summary_info": plistlib.dumps(
             {"ec": {"0": [{"d": 10, "t": streamtyped("ok.")},
                           {"d": 11, "t": streamtyped("ok. thank you ❤️")}]},
              "ep": [0]}, fmt=plistlib.FMT_BINARY)}),
        (9, "B3", None, None, 1, 0, 12, {"date_edited": 13, "date_retracted": 13,
                                         "message_summary_info": plistlib.dumps(
                                             {"rp": [0]}, fmt=plistlib.FMT_BINARY)}),
        # an attachment with a caption, over SMS (other chat row, other handle row)
        (10, "B4", "\ufffcstuck in traffic", None, 2, 0, 14, {"cache_has_attachments": 1,
                                                             "service": "SMS"}),
        # a custom-emoji tapback on the attachment
        (11, "T4", None, None, 1, 1, 15, {"associated_message_guid": "p:0/B4",
                                          "associated_message_type": 2006,
                                          "associated_message_emoji": "🚗"}),
        # a long message (length > 127 bytes needs the 0x81 prefix)
        (12, "A4", None, streamtyped("I don't want to fight. " * 8), 1, 1, 20, {}),
    ]
    group = [
        (13, "G1", "who's in for saturday?", None, 3, 0, 30, {}),
        (14, "G2", None, None, 4, 0, 31, {"item_type": 2, "group_title": "Saturday climbing"}),
        (15, "G3", "me!", None, 0, 1, 32, {}),
    ]
    for rowid, guid, text, body, handle, from_me, minute, extra in rows + (
            group if extra_chats else []):
        when = T0 + timedelta(minutes=minute)
        cols = {"ROWID": rowid, "guid": guid, "text": text, "attributedBody": body,
                "handle_id": handle, "is_from_me": from_me, "date": stamp(when),
                "service": "iMessage", **extra}
        for key in ("date_edited", "date_retracted"):
            if key in cols:
                cols[key] = stamp(T0 + timedelta(minutes=cols[key]))
        con.execute(f"INSERT INTO message ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})", list(cols.values()))
        chat = 3 if guid.startswith("G") else 2 if handle == 2 else 1
        con.execute("INSERT INTO chat_message_join VALUES (?,?,?)", (chat, rowid, stamp(when)))
    con.execute("INSERT INTO attachment (ROWID, guid, filename, mime_type, transfer_name, "
                "total_bytes) VALUES (1, 'AT1', '~/Library/Messages/Attachments/5e/14/"
                "AT1/IMG_2231.HEIC', 'image/heic', 'IMG_2231.HEIC', 1843221)")
    con.execute("INSERT INTO message_attachment_join VALUES (10, 1)")
    con.commit()
    con.close()
    return path


@pytest.fixture
def chat_db(tmp_path: Path) -> Path:
    return build_chat_db(tmp_path / "chat.db")


def _read(target: Path | str, **opts: object) -> tuple[list, dict]:
    imp = read_export(target, options=ReadOptions(**opts))  # type: ignore[arg-type]
    messages = list(imp)
    return messages, imp.report.to_dict()


def test_imessage_detected(chat_db: Path) -> None:
    assert detect_format(Input.open(chat_db))[0] == "imessage"
    assert detect_format(Input.open(chat_db.parent))[0] == "imessage"


def test_imessage_several_chats_need_a_choice(chat_db: Path) -> None:
    with pytest.raises(InputError, match=r"E153.*1\) \+15550104477.*2\) Saturday climbing"):
        _read(chat_db)


@pytest.mark.parametrize("selector", ["+1 (555) 010-4477", "5550104477", "1",
                                      "+15550104477"])
def test_imessage_chat_by_handle_or_number(chat_db: Path, selector: str) -> None:
    messages, report = _read(chat_db, chat=selector, me="Jo")
    assert {m.sender for m in messages} == {"Jo", PARTNER}
    assert report["format"] == "imessage"


def test_imessage_conversation(chat_db: Path) -> None:
    messages, report = _read(chat_db, chat=PARTNER, me="Jo")
    by_id = {m.message_id: m for m in messages}
    # tapback rows are not messages
    assert not {"T1", "T2", "T3", "T4"} & set(by_id)
    assert [m.message_id for m in messages] == ["A1", "B1", "A2", "B2", "A3", "B3", "B4", "A4"]
    assert by_id["B1"].text == "I'm staying late again, sorry 😕"
    assert by_id["A2"].sender == "Jo" and by_id["B1"].sender == PARTNER
    # reactions: love on A2; my laugh on B1 was removed; custom emoji on B4
    assert [(r.emoji, r.sender) for r in by_id["A2"].reactions] == [("❤️", PARTNER)]
    assert by_id["B1"].reactions == ()
    assert [(r.emoji, r.sender) for r in by_id["B4"].reactions] == [("🚗", "Jo")]
    assert by_id["A2"].reactions[0].timestamp == T0 + timedelta(minutes=6)
    # reply, edit with history, unsent
    assert by_id["B2"].reply_to == "A2"
    assert by_id["A3"].edited and by_id["A3"].text == "ok. thank you ❤️"
    assert [v["text"] for v in by_id["A3"].extra["edit_history"]] == ["ok.", "ok. thank you ❤️"]
    assert by_id["B3"].kind == "deleted" and by_id["B3"].text == "" and not by_id["B3"].edited
    # attachment: caption without U+FFFC, file listed; SMS thread merged into the same chat
    b4 = by_id["B4"]
    assert b4.kind == "attachment" and b4.text == "stuck in traffic"
    assert b4.extra["attachments"][0]["transfer_name"] == "IMG_2231.HEIC"
    assert b4.extra["service"] == "SMS"
    assert by_id["A4"].text == "I don't want to fight. " * 8
    # time: real instants, from nanoseconds
    assert messages[0].timestamp == T0
    assert all(m.source.time_basis == "instant" and m.source.format == "imessage"
               for m in messages)
    assert by_id["B2"].source.line == 7
    assert report["details"]["tapbacks"] == {"added": 3, "removed": 1}
    assert report["deleted"] == 1 and report["attachments"] == 1
    assert report["first"] == T0.isoformat()


def test_imessage_seconds_epoch(tmp_path: Path) -> None:
    path = build_chat_db(tmp_path / "chat.db", seconds=True, extra_chats=False)
    messages, _ = _read(path)
    assert messages[0].timestamp == T0
    assert messages[1].timestamp == T0 + timedelta(minutes=3)


def test_imessage_group_needs_pair(chat_db: Path) -> None:
    with pytest.raises(InputError, match="E014.*3 senders.*group chat.*--pair"):
        _read(chat_db, chat="Saturday climbing")
    messages, _ = _read(chat_db, chat="Saturday climbing", me="Jo",
                        pair=("Jo", "kit.lopez@example.com"))
    assert [m.kind for m in messages] == ["text", "event", "text"]
    assert messages[1].extra["group_title"] == "Saturday climbing"


def test_imessage_unknown_chat(chat_db: Path) -> None:
    with pytest.raises(OptionError, match="E154.*nobody"):
        _read(chat_db, chat="nobody")


def test_imessage_opened_read_only(chat_db: Path) -> None:
    before = chat_db.read_bytes()
    chat_db.chmod(0o444)
    try:
        _read(chat_db, chat="1")
    finally:
        chat_db.chmod(0o644)
    assert chat_db.read_bytes() == before
    assert not Path(str(chat_db) + "-journal").exists()


def test_imessage_zip_and_ios_backup_name(chat_db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "messages.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(chat_db, "Messages/chat.db")
    messages, report = _read(archive, chat="1")
    assert len(messages) == 8 and report["format"] == "imessage"
    backup = tmp_path / "backup" / "3d"
    backup.mkdir(parents=True)
    (backup / "3d0d7e5fb2ce288813306e4d4636395e047a3d28").write_bytes(chat_db.read_bytes())
    assert detect_format(Input.open(tmp_path / "backup"))[0] == "imessage"


def test_imessage_bad_databases(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (id INTEGER, body TEXT)")
    con.commit()
    con.close()
    with pytest.raises(ExportFormatError, match="E157.*other.db"):
        _read(other, chat="1")
    damaged = tmp_path / "chat.db"
    build_chat_db(damaged)
    data = damaged.read_bytes()
    damaged.write_bytes(data[:100] + b"\xff" * 4000 + data[4100:])
    with pytest.raises(InputError, match="E15[67]|E161"):
        _read(damaged, chat="1")
    fake = tmp_path / "fake.db"
    fake.write_bytes(b"not a database at all" * 10)
    with pytest.raises(InputError, match="E156.*fake.db"):
        _read_format(fake, "imessage")


def _read_format(path: Path, fmt: str) -> list:
    return list(read_export(path, format=fmt))


def test_imessage_forced_format_on_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(InputError, match="E156"):
        _read_format(path, "imessage")


def test_imessage_empty_chat(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.commit()
    con.close()
    with pytest.raises(InputError, match="E015"):
        _read(path)


@pytest.mark.parametrize("text", ["", "a", "é" * 64, "x" * 127, "y" * 128, "🙂" * 5000,
                                  "line\nbreak", "nul\x00inside"])
def test_imessage_attributed_body_round_trip(text: str) -> None:
    assert decode_attributed_body(streamtyped(text)) == text


def test_imessage_attributed_body_mutable_and_junk() -> None:
    blob = streamtyped("hi there").replace(b"\x08NSString", b"\x0fNSMutableString")
    assert decode_attributed_body(blob) == "hi there"
    assert decode_attributed_body(b"") is None
    assert decode_attributed_body(b"\x04\x0bstreamtyped garbage") is None
    cut = streamtyped("a longer message that is cut")[:-60]
    assert decode_attributed_body(cut) is not None


@pytest.mark.parametrize(("value", "expected"), [
    (0, None), (None, None),
    (731_619_000, datetime(2024, 3, 8, 19, 30, tzinfo=UTC)),
    (731_619_000_000_000_000, datetime(2024, 3, 8, 19, 30, tzinfo=UTC)),
    (731_619_000_123_456_789, datetime(2024, 3, 8, 19, 30, 0, 123456, tzinfo=UTC)),
])
def test_imessage_apple_time(value: int | None, expected: datetime | None) -> None:
    assert apple_time(value) == expected


def test_imessage_database_without_chat_tables_reads_each_handle_as_a_chat(
        chat_db: Path) -> None:
    con = sqlite3.connect(chat_db)
    for table in ("chat_message_join", "chat_handle_join", "chat"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.commit()
    con.close()
    with pytest.raises(InputError) as err:  # several handles: the list of chats
        list(read_export(chat_db))
    assert err.value.code == "E153"


def test_imessage_minimal_schema_and_text_tapbacks(tmp_path: Path) -> None:
    # the columns a hand-built test database has: no guid, no associated_message_type
    db = tmp_path / "chat.db"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE handle(ROWID, id);
        CREATE TABLE chat(ROWID, chat_identifier);
        CREATE TABLE chat_handle_join(chat_id, handle_id);
        CREATE TABLE chat_message_join(message_id, chat_id);
        CREATE TABLE message(ROWID, text, attributedBody, date, is_from_me, handle_id);
        INSERT INTO handle VALUES ('h1', '+15550000001');
        INSERT INTO chat VALUES ('c1', '+15550000001');
        INSERT INTO chat_handle_join VALUES ('c1', 'h1');
        INSERT INTO message VALUES ('m1', 'hi', NULL, 726364800000000000, 1, 'h1');
        INSERT INTO message VALUES ('m2', 'Loved “hi”', NULL, 726364900000000000, 0, 'h1');
        INSERT INTO message VALUES ('m3', 'hey you', NULL, 726365000000000000, 0, 'h1');
        INSERT INTO chat_message_join VALUES ('m1', 'c1'), ('m2', 'c1'), ('m3', 'c1');
    """)
    con.close()
    messages = list(read_export(db))
    assert [(m.sender, m.kind) for m in messages] == [
        ("me", "text"), ("+15550000001", "event"), ("+15550000001", "text")]
    assert messages[1].extra["reaction"] == "❤️"
