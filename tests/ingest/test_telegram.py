"""Telegram Desktop JSON importer: single chats, full-account exports, streaming, bad input."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from heard.errors import HeardError, InputError
from heard.ingest import Input, ReadOptions, detect_format, read_export
from heard.ingest._json import JsonStream

HERE = Path(__file__).parent / "fixtures" / "telegram"


def _read(path, **opts):
    imp = read_export(path, format=opts.pop("format", None), options=ReadOptions(**opts))
    return list(imp), imp.report


def test_telegram_personal_chat():
    path = HERE / "personal_chat_result.json"
    assert detect_format(Input.open(path))[0] == "telegram"
    messages, report = _read(path)
    by_id = {m.message_id.rsplit("-", 1)[1]: m for m in messages}
    assert len(messages) == 10
    assert report.details["exporter"] == "Mira Svensson"
    assert report.details["chat_type"] == "personal_chat"
    # date_unixtime is the instant; 20:01 Berlin winter time is 19:01 UTC
    call = by_id["101"]
    assert call.timestamp.isoformat() == "2024-02-03T19:01:00+00:00"
    assert call.source.time_basis == "instant"
    assert (call.kind, call.sender, call.extra["subtype"]) == ("event", "Mira Svensson", "call")
    assert call.extra["duration_seconds"] == 312
    # entity lists are joined with "", not " "
    assert by_id["103"].text == ("I didn't hang up, the connection dropped.\n"
                                 "It's not always about you")
    assert by_id["103"].reply_to == "telegram-777000222-102"
    # edited is set by reactions too: kept as "touched", never as an edit
    touched = by_id["104"]
    assert touched.edited is False and touched.extra["touched"] == "2024-02-03T20:30:00"
    assert [(r.emoji, r.sender) for r in touched.reactions] == [("❤", "Tomás Ortega")]
    assert [by_id[i].kind for i in ("105", "106", "108")] == ["attachment"] * 3
    assert by_id["106"].extra["media_type"] == "voice_message"
    assert by_id["108"].extra["sticker_emoji"] == "🙄"
    assert by_id["107"].text == "see https://example.org/couples ok?"
    pin = by_id["109"]
    assert (pin.kind, pin.sender, pin.extra["attributed_to"]) == ("event", "", "Tomás Ortega")
    assert by_id["110"].text == "morning. line one\nline two"
    # each message points at its line in the file
    lines = (HERE / "personal_chat_result.json").read_text(encoding="utf-8").splitlines()
    assert lines[by_id["102"].source.line - 1].strip() == "{"
    assert '"id": 102' in lines[by_id["102"].source.line]
    assert report.to_dict()["events"] == 2


def test_telegram_old_export_is_wall_clock_in_tz():
    messages, report = _read(HERE / "old_no_unixtime.json", tz="Europe/Berlin")
    assert [m.timestamp.isoformat() for m in messages] == [
        "2019-03-31T01:59:00+01:00", "2019-03-31T03:01:00+02:00", "2019-03-31T03:02:00+02:00"]
    assert all(m.source.time_basis == "wall_clock" for m in messages)
    assert messages[2].text == "sleep!"
    _, report = _read(HERE / "old_no_unixtime.json")
    assert any("date_unixtime" in w for w in report.warnings)


def test_telegram_full_account_needs_a_choice():
    path = HERE / "full_account_result.json"
    assert detect_format(Input.open(path))[0] == "telegram"
    with pytest.raises(InputError) as err:
        _read(path)
    assert err.value.code == "E112" and "Old friend" in str(err.value)
    assert "1. " in str(err.value) and "--chat" in str(err.value)
    # --chat takes the number in that list, or the chat's name
    listed = str(err.value).split("(", 1)[1]
    number = next(part.split(". ", 1)[0].strip() for part in listed.split(", ")
                  if "Tomás Ortega" in part)
    for chat in (number, "Tomás Ortega"):
        messages, _ = _read(path, chat=chat)
        assert {m.conversation_id for m in messages} == {"telegram-777000222"}
    messages, report = _read(path, pair=("Mira Svensson", "Tomás Ortega"))
    assert {m.sender for m in messages} == {"Mira Svensson", "Tomás Ortega"}
    assert {m.conversation_id for m in messages} == {"telegram-777000222"}
    assert report.details["exporter"] == "Mira Svensson"
    assert report.details["chats_in_export"] == 4 and report.details["chats_left_out"] == 3
    messages, _ = _read(path, pair=("Mira Svensson", "Old friend"))
    assert {m.conversation_id for m in messages} == {"telegram-31337"}
    with pytest.raises(InputError) as err:
        _read(path, pair=("Mira Svensson", "Nobody"))
    assert err.value.code == "E113"


def test_telegram_folder_input(tmp_path):
    (tmp_path / "result.json").write_bytes((HERE / "personal_chat_result.json").read_bytes())
    assert detect_format(Input.open(tmp_path))[0] == "telegram"
    messages, _ = _read(tmp_path)
    assert len(messages) == 10


def test_telegram_group_chat_needs_pair(tmp_path):
    data = {"name": "Trip", "type": "private_group", "id": 9, "messages": [
        {"id": i, "type": "message", "date": "2024-01-01T10:00:00", "date_unixtime": "1704103200",
         "from": n, "from_id": f"user{i}", "text": "hi"} for i, n in enumerate("ABC")]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        _read(path)
    assert err.value.code == "E014"
    messages, _ = _read(path, pair=("A", "C"))
    assert [m.sender for m in messages] == ["A", "C"]


@pytest.mark.parametrize(("content", "code"), [
    (b'{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "mess',
     "E110"),
    (b'{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1,, }]}', "E110"),
    (b'{"name": "x", "type": "personal_chat", "id": 1, "messages": []}', "E015"),
    (b'{"hello": "world"}', "E111"),
    (b'[1, 2, 3]', "E111"),
    (b'{"name": "x", "id": 1, "messages": [{"id": 1, "type": "message", "from": "A",'
     b' "text": "caf\xe9"}]}', "E004"),
    (b"", "E002"),
])
def test_telegram_bad_input(tmp_path, content, code):
    path = tmp_path / "result.json"
    path.write_bytes(content)
    with pytest.raises(HeardError) as err:
        _read(path, format="telegram")
    assert err.value.code == code
    assert "result.json" in str(err.value) and "\n" not in str(err.value)


def test_telegram_stream_small_chunks_match_json_loads():
    text = (HERE / "full_account_result.json").read_text(encoding="utf-8")
    js = JsonStream(io.StringIO(text), "x", chunk=7)
    assert js.value() == json.loads(text)
    js = JsonStream(io.StringIO('{"a": [1, 22, 333, {"b": "c"}], "n": 12345678901234567890}'),
                    "x", chunk=3)
    seen = {}
    for key in js.members():
        if key == "a":
            seen[key] = []
            for _ in js.elements():
                seen[key].append(js.value())
        else:
            seen[key] = js.value()
    js.end()
    assert seen == {"a": [1, 22, 333, {"b": "c"}], "n": 12345678901234567890}


def test_telegram_streams_a_large_export(tmp_path):
    path = tmp_path / "result.json"
    with path.open("w", encoding="utf-8") as f:
        f.write('{"name": "B", "type": "personal_chat", "id": 2, "messages": [\n')
        n = 20_000
        for i in range(n):
            sender, fid = ("A", "user1") if i % 2 else ("B", "user2")
            f.write(json.dumps({"id": i, "type": "message", "date": "2024-01-01T10:00:00",
                                "date_unixtime": str(1704103200 + i), "from": sender,
                                "from_id": fid, "text": ["x" * 10, {"type": "bold", "text": "y"}]}))
            f.write(",\n" if i < n - 1 else "\n")
        f.write("]}\n")
    imp = read_export(path)
    count = 0
    for m in imp:
        count += 1
        assert m.text == "xxxxxxxxxxy"
    assert count == 20_000 and imp.report.details["exporter"] == "A"


def test_telegram_export_in_a_zip_is_read_from_its_result_json(tmp_path):
    path = tmp_path / "Telegram Export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(HERE / "personal_chat_result.json", "ChatExport_2024-05-01/result.json")
        zf.writestr("ChatExport_2024-05-01/photos/photo_1.jpg", b"\xff\xd8")
    assert detect_format(Input.open(path))[0] == "telegram"
    direct, _ = _read(HERE / "personal_chat_result.json")
    zipped, _ = _read(path)
    assert [m.text for m in zipped] == [m.text for m in direct]
