"""DiscordChatExporter JSON and CSV exports."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from heard.errors import ExportFormatError, InputError
from heard.ingest import Input, ReadOptions, detect_format, read_export
from heard.ingest._discord import parse_dce_date

FIX = Path(__file__).parent / "fixtures" / "discord"
DM = FIX / "dm_mira_dev.json"
CSV = FIX / "dm_mira_dev.csv"
CEST = timezone(timedelta(hours=2))


def _read(target: Path, fmt: str | None = None, **opts: object) -> tuple[list, dict]:
    imp = read_export(target, format=fmt, options=ReadOptions(**opts))  # type: ignore[arg-type]
    messages = list(imp)
    return messages, imp.report.to_dict()


@pytest.mark.parametrize("target", [DM, CSV, FIX / "folder"])
def test_discord_detected(target: Path) -> None:
    assert detect_format(Input.open(target)) == ("discord", pytest.approx(0.95, abs=0.05))


def test_discord_json_dm() -> None:
    messages, report = _read(DM, me="Mira")
    assert [m.sender for m in messages] == ["Mira", "Dev", "Mira", "Dev", "Mira", "Dev", "Mira"]
    first = messages[0]
    assert first.timestamp == datetime(2024, 4, 28, 21, 3, 10, 412000, tzinfo=CEST)
    assert first.source.time_basis == "instant" and first.source.line == 21
    assert first.message_id == "1100000000000000001"
    reply, edited, call, photo, pinned, notice = messages[1:]
    assert reply.reply_to == first.message_id
    assert edited.edited and edited.text == "nothing! I just miss you 🥺\nlike, actually"
    assert [(r.emoji, r.sender) for r in edited.reactions] == [("❤️", "Dev")]
    assert call.kind == "event" and call.extra["call_duration_s"] == 2130
    assert photo.kind == "attachment" and photo.extra["attachments"] == ["sunrise.jpg"]
    assert pinned.extra["pinned"] and [r.emoji for r in pinned.reactions] == ["🙏", "🙏"]
    assert notice.kind == "event" and notice.extra["type"] == "ChannelPinnedMessage"
    assert report["details"]["message_count_declared"] == 7
    assert report["events"] == 2 and report["attachments"] == 1


def test_discord_csv_wall_clock() -> None:
    messages, report = _read(CSV, tz="Europe/Warsaw")
    assert len(messages) == 5
    assert messages[0].timestamp == datetime(2024, 4, 28, 21, 3, tzinfo=CEST)
    assert messages[0].source.time_basis == "wall_clock"
    assert messages[0].source.tz == "Europe/Warsaw"
    assert messages[2].text == "nothing! I just miss you 🥺\nlike, actually"
    assert [r.emoji for r in messages[4].reactions] == ["🙏", "🙏", "😂"]
    assert messages[3].kind == "attachment"
    assert [s["line"] for s in report["skipped"]] == [8]  # row 3 spans lines 4-5
    assert "someday" in report["skipped"][0]["reason"]


def test_discord_csv_without_tz_warns() -> None:
    _, report = _read(CSV)
    assert any("--tz" in w for w in report["warnings"])


def test_discord_folder_needs_channel_choice() -> None:
    with pytest.raises(InputError, match=r"E153.*#general in Book club.*dev_ostrowski"):
        _read(FIX / "folder")
    messages, report = _read(FIX / "folder", chat="dev_ostrowski")
    assert len(messages) == 7 and report["details"]["channel"] == "dev_ostrowski"
    messages, _ = _read(FIX / "folder", chat="#general", pair=("Mira", "Dev"))
    assert [m.text for m in messages] == ["chapter 3 was wild", "😂"]


def test_discord_zip(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(DM, "dm.json")
    messages, report = _read(archive)
    assert len(messages) == 7 and report["format"] == "discord"


def test_discord_partitioned_parts_in_order(tmp_path: Path) -> None:
    data = json.loads(DM.read_text(encoding="utf-8"))
    first, second = dict(data), dict(data)
    first["messages"], second["messages"] = data["messages"][:4], data["messages"][4:]
    for i, part in enumerate([first, second], 1):
        (tmp_path / f"Direct Messages - dev [987] [part {i}].json").write_text(
            json.dumps(part, indent=2), encoding="utf-8")
    messages, report = _read(tmp_path)
    assert [m.message_id[-1] for m in messages] == list("1234567")
    assert report["details"]["files"] == 2


def test_discord_group_dm_refused(tmp_path: Path) -> None:
    data = json.loads(DM.read_text(encoding="utf-8"))
    data["channel"]["type"] = "DirectGroupTextChat"
    data["channel"]["recipients"] = ["mira.k", "dev_ostrowski", "quinn"]
    path = tmp_path / "group.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="E014"):
        _read(path)


@pytest.mark.parametrize("cut", [30, 500, 2500])
def test_discord_truncated(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "dm.json"
    path.write_bytes(DM.read_bytes()[:cut])
    with pytest.raises(InputError, match=r"E150: '.*dm.json' line \d+"):
        _read(path, "discord")


def test_discord_wrong_input(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(ExportFormatError, match="E152"):
        _read(path, "discord")
    bad = tmp_path / "bad.csv"
    bad.write_text("AuthorID,Author,Date,Content,Attachments,Reactions\n", encoding="utf-8")
    with pytest.raises(InputError, match="E015"):
        _read(bad)


@pytest.mark.parametrize(("value", "order", "expected"), [
    ("4/1/2023 9:14 PM", "MDY", datetime(2023, 4, 1, 21, 14)),
    ("01/04/2023 21:14", "DMY", datetime(2023, 4, 1, 21, 14)),
    ("01.04.2023 21:14:05", "DMY", datetime(2023, 4, 1, 21, 14, 5)),
    ("2023-04-01 21:14", "DMY", datetime(2023, 4, 1, 21, 14)),
    ("01-Apr-23 09:14 PM", "DMY", datetime(2023, 4, 1, 21, 14)),
    ("12/31/2023 12:05 AM", "MDY", datetime(2023, 12, 31, 0, 5)),
    ("31/31/2023 10:00", "DMY", None),
    ("yesterday", "DMY", None),
])
def test_discord_csv_dates(value: str, order: str, expected: datetime | None) -> None:
    assert parse_dce_date(value, order) == expected


def test_discord_csv_date_order_voted(tmp_path: Path) -> None:
    path = tmp_path / "us.csv"
    path.write_text("AuthorID,Author,Date,Content,Attachments,Reactions\n"
                    "1,a,04/01/2023 9:14 PM,hi,,\n2,b,04/13/2023 9:15 PM,hey,,\n",
                    encoding="utf-8")
    messages, report = _read(path, tz="America/Chicago")
    assert messages[0].timestamp.month == 4 and messages[0].timestamp.day == 1
    assert not report["warnings"]


def _dce_dm(tmp_path: Path, **changes: object) -> Path:
    doc = {"guild": {"id": "0", "name": "Direct Messages"},
           "channel": {"id": "897616348878872660", "type": "DirectTextChat",
                       "category": "Private", "name": "Slada"},
           "messages": [
               {"id": str(900 + i), "type": "Default",
                "timestamp": f"2021-10-12T22:4{i}:14.472+00:00", "content": text,
                "author": {"id": aid, "name": name, "isBot": False}}
               for i, (aid, name, text) in enumerate([("1", "Slada", "Hello"),
                                                      ("2", "mira", "hey")])]}
    for key, value in changes.items():
        if value is None:
            doc.pop(key)  # a top-level key the export lacks
        else:
            doc["channel"][key] = value  # type: ignore[index]
    path = tmp_path / "Direct Messages - Private - Slada [897616348878872660].json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_discord_group_dm_of_two_without_a_member_list_imports(tmp_path: Path) -> None:
    imp = read_export(_dce_dm(tmp_path, type="DirectGroupTextChat"))
    assert [m.sender for m in imp] == ["Slada", "mira"]


def test_discord_export_without_guild_is_still_detected(tmp_path: Path) -> None:
    path = _dce_dm(tmp_path, guild=None)
    assert detect_format(Input.open(path))[0] == "discord"
    assert len(list(read_export(path))) == 2


def test_discord_json_without_messages_is_e152_with_its_line(tmp_path: Path) -> None:
    """Found by the property test: an export cut before its 'messages' list."""
    path = tmp_path / "dm.json"
    path.write_text('{"guild": {"id": "0", "name": "Direct Messages"},\n'
                    ' "channel": {"id": "1", "type": "DirectTextChat", "name": "mira"}}\n',
                    encoding="utf-8")
    with pytest.raises(ExportFormatError, match=r"^E152: .*dm\.json.* line \d+"):
        list(read_export(path, format="discord"))
