"""Signal importer: signal-export (data.json, chat.md) and sigtop (JSON, text)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from heard.errors import HeardError
from heard.ingest import Input, ReadOptions, detect_format, read_export

HERE = Path(__file__).parent / "fixtures" / "signal"
EXPORT = HERE / "signal-export" / "Alex Kim"


def _read(path, **opts):
    imp = read_export(path, format=opts.pop("format", None), options=ReadOptions(**opts))
    return list(imp), imp.report


@pytest.mark.parametrize("path", [EXPORT, EXPORT / "data.json"])
def test_signal_export_data_json(path):
    assert detect_format(Input.open(path))[0] == "signal"
    messages, report = _read(path, tz="Europe/Berlin")
    assert report.details["signal_export"] == "signal-export data.json"
    assert [(m.kind, m.sender) for m in messages] == [
        ("text", "Me"), ("text", "Alex Kim"), ("text", "Me"), ("deleted", "Alex Kim"),
        ("event", "Alex Kim"), ("attachment", "Me")]
    assert messages[1].text == "There's nothing to talk about.\nYou always make it a thing"
    assert [(r.emoji, r.sender) for r in messages[1].reactions] == [("😢", "Me")]
    assert messages[2].extra["quote"].strip() == "> You always make it a thing"
    assert messages[4].extra == {"subtype": "call", "missed": True}
    assert messages[0].timestamp.isoformat() == "2024-05-01T21:14:03+02:00"
    assert messages[0].source.time_basis == "wall_clock"
    assert messages[0].conversation_id == "Alex Kim"
    assert report.details["exporter"] == "Me"


def test_signal_export_chat_md_alone(tmp_path):
    folder = tmp_path / "Alex Kim"
    folder.mkdir()
    shutil.copy(EXPORT / "chat.md", folder / "chat.md")
    path = folder / "chat.md"
    assert detect_format(Input.open(path))[0] == "signal"
    messages, report = _read(path, tz="UTC")
    assert report.details["signal_export"] == "signal-export chat.md"
    assert [(m.kind, m.sender) for m in messages] == [
        ("text", "Me"), ("text", "Alex Kim"), ("text", "Alex Kim"), ("deleted", "Alex Kim"),
        ("attachment", "Me")]
    assert messages[1].text == "There's nothing to talk about.\nYou always make it a thing"
    assert [(r.emoji, r.sender) for r in messages[1].reactions] == [("😢", "Me")]
    assert messages[2].text == "I'm not making it a thing, I felt alone there"
    assert messages[2].extra["quote"] == "You always make it a thing"


def test_signal_sigtop_json():
    path = HERE / "Alex Kim.json"
    assert detect_format(Input.open(path))[0] == "signal"
    messages, report = _read(path)
    assert report.details["signal_export"] == "sigtop JSON"
    assert [(m.kind, m.sender) for m in messages] == [
        ("text", "You"), ("text", "Alex Kim"), ("text", "You"), ("text", "Alex Kim"),
        ("event", ""), ("attachment", "Alex Kim"), ("deleted", "Alex Kim"), ("event", "")]
    assert messages[0].timestamp.isoformat() == "2024-05-01T19:14:03+00:00"
    assert messages[0].source.time_basis == "instant"
    assert messages[2].reply_to == messages[1].message_id
    assert [(r.emoji, r.sender) for r in messages[1].reactions] == [("😢", "You")]
    assert [(r.emoji, r.sender) for r in messages[2].reactions] == [("❤️", "Alex Kim")]
    assert messages[3].edited and messages[3].text == "ok. I hear you"
    assert messages[4].extra["subtype"] == "call"


def test_signal_sigtop_text():
    path = HERE / "Alex Kim.txt"
    assert detect_format(Input.open(path))[0] == "signal"
    messages, report = _read(path)
    assert report.details["signal_export"] == "sigtop text"
    alex = "Alex Kim (+15550104477)"
    assert [(m.kind, m.sender) for m in messages] == [
        ("text", "You"), ("text", alex), ("text", "You"), ("text", alex), ("attachment", alex),
        ("event", "")]
    assert messages[1].text == "There's nothing to talk about.\n\nYou always make it a thing"
    assert messages[1].timestamp.isoformat() == "2024-05-01T21:20:47+02:00"
    assert messages[2].text == "I'm not making it a thing, I felt alone there"
    assert "There's nothing to talk about." in messages[2].extra["quote"]
    assert messages[3].edited and messages[3].text == "ok. I hear you"
    assert [(r.emoji, r.sender) for r in messages[1].reactions] == [("😢", "You")]


@pytest.mark.parametrize(("name", "content", "code"), [
    ("data.json", '{"date": "2024-01-01T10:00:00", "sender": "Me", "body": "x"}\n{"date": ',
     "E120"),
    ("data.json", '{"date": "2024-01-01T10:00:00", "body": "x", "sender": "A", "quote": "",'
     ' "reactions": [], "attachments": []}\n', "E013"),
    ("x.json", '[{"conversationId": "c", "type": "outgoing", "sent_at": 1, "body": "x"},', "E122"),
    ("chat.md", "no signal lines here\n", "E123"),
])
def test_signal_bad_input(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HeardError) as err:
        _read(path, format="signal")
    assert err.value.code == code
    assert name in str(err.value) and "\n" not in str(err.value)


def test_signal_empty_folder_is_refused(tmp_path):
    with pytest.raises(HeardError) as err:
        _read(tmp_path, format="signal")
    assert err.value.code == "E121"
