"""Messenger and Instagram 'Download your information' JSON, and the Messenger E2EE export."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from heard.errors import ExportFormatError, InputError, OptionError
from heard.ingest import Input, ReadOptions, detect_format, read_export
from heard.ingest._json import JsonStream
from heard.ingest._messenger import fix_mojibake

FIX = Path(__file__).parent / "fixtures"
DYI = FIX / "messenger" / "dyi"
INBOX = DYI / "your_facebook_activity" / "messages" / "inbox"
THREAD = INBOX / "alexrivera_10158234567"
E2EE = FIX / "messenger" / "e2ee"
INSTA = FIX / "instagram"
A, Z = "Alex Rivera", "Zoë Okafor"


def _read(target: Path | str, fmt: str | None = None, **opts: object) -> tuple[list, dict]:
    imp = read_export(target, format=fmt, options=ReadOptions(**opts))  # type: ignore[arg-type]
    messages = list(imp)
    return messages, imp.report.to_dict()


@pytest.mark.parametrize(("target", "fmt"), [
    (THREAD / "message_1.json", "messenger"),
    (THREAD, "messenger"),
    (DYI, "messenger"),
    (E2EE / "Alex Rivera_40.json", "messenger"),
    (E2EE, "messenger"),
    (INSTA, "instagram"),
    (INSTA / "your_instagram_activity/messages/inbox/jordanlee_17893412/message_1.json",
     "instagram"),
])
def test_messenger_detected(target: Path, fmt: str) -> None:
    assert detect_format(Input.open(target))[0] == fmt


def test_messenger_thread_folder_merges_files_chronologically() -> None:
    messages, report = _read(THREAD)
    times = [m.timestamp for m in messages]
    assert times == sorted(times)
    assert len(messages) == 15 and report["details"]["files"] == 2
    assert {m.sender for m in messages} == {A, Z}
    assert messages[0].timestamp == datetime(2023, 3, 4, 18, 2, 11, tzinfo=UTC)
    assert report["first"] == "2023-03-04T18:02:11+00:00"
    assert report["last"] == "2023-11-21T08:22:00+00:00"
    assert not report["suspicious"] and not report["skipped"]


def test_messenger_mojibake_repaired_and_kinds() -> None:
    messages, report = _read(THREAD)
    texts = {m.text: m for m in messages}
    assert "Mañana? 🙏" in texts and texts["Mañana? 🙏"].sender == Z
    assert [r.emoji for r in texts["Mañana? 🙏"].reactions] == ["👍"]
    assert texts["Mañana? 🙏"].reactions[0].sender == A
    assert "I felt really alone at the party tonight.\nCan we talk about it?" in texts
    kinds = [m.kind for m in messages]
    assert kinds.count("deleted") == 1 and kinds.count("attachment") == 2
    assert texts["You are now connected on Messenger"].kind == "event"
    assert texts["Alex called you."].kind == "event"
    assert texts["Alex called you."].extra["call_duration_s"] == 734
    notice = texts["Zoë sent an attachment."]
    assert notice.kind == "attachment" and notice.extra["attachments"][0].endswith("plan.pdf")
    link = texts["https://example.org/weekend-cabins"]
    assert link.kind == "text" and link.extra["share"] == "https://example.org/weekend-cabins"
    assert report["deleted"] == 1 and report["events"] == 2


def test_messenger_source_lines_and_ids() -> None:
    messages, _ = _read(THREAD / "message_1.json")
    first = messages[0]
    lines = (THREAD / "message_1.json").read_text().splitlines()
    assert '"sender_name"' in lines[first.source.line] or "{" in lines[first.source.line - 1]
    assert first.source.format == "messenger" and first.source.time_basis == "instant"
    assert first.source.path.endswith("message_1.json")
    assert len({m.message_id for m in messages}) == len(messages)
    assert all(m.conversation_id == "alexrivera_10158234567" for m in messages)


def test_messenger_download_lists_chats_and_picks_by_name() -> None:
    with pytest.raises(InputError, match=r"E153.*2 chats.*Alex Rivera & Zoë Okafor"):
        _read(DYI)
    messages, report = _read(DYI, chat="alex rivera")
    assert report["details"]["duplicates_merged"] == 1
    assert report["last"] == "2023-12-06T07:30:00+00:00"
    assert any("end-to-end encryption cut-over on 2023-12-06" in w for w in report["warnings"])
    assert sum(m.text == "Mañana? 🙏" for m in messages) == 1
    assert messages[-1].kind == "event" and messages[-1].extra["system"] == "e2ee_notice"


def test_messenger_group_chat_refused_without_pair() -> None:
    with pytest.raises(InputError, match="E014.*3 senders"):
        _read(DYI, chat="hikingcrew_4411290")
    messages, report = _read(DYI, chat="hikingcrew_4411290", pair=(A, "Priya Shah"))
    assert {m.sender for m in messages if m.is_human} == {A, "Priya Shah"}
    assert report["details"]["left_out_by_pair"] == 1


def test_messenger_unknown_chat() -> None:
    with pytest.raises(OptionError, match="E154.*Nobody"):
        _read(DYI, chat="Nobody")


def test_messenger_e2ee_export_merged_with_download() -> None:
    messages, report = _read(FIX / "messenger", chat=A)
    assert not report["warnings"]
    assert report["last"] == "2024-02-11T07:10:00+00:00"
    assert report["details"]["duplicates_merged"] == 2
    e2ee = [m for m in messages if "Alex Rivera_40" in m.source.path]
    assert [m.kind for m in e2ee] == ["text", "text", "attachment", "deleted", "attachment",
                                      "text"]
    assert e2ee[0].reactions[0].emoji == "❤" and e2ee[0].reactions[0].sender == Z
    times = [m.timestamp for m in messages]
    assert times == sorted(times)
    assert len({m.message_id for m in messages}) == len(messages)


def test_messenger_e2ee_single_file_not_mojibake_fixed(tmp_path: Path) -> None:
    data = json.loads((E2EE / "Alex Rivera_40.json").read_text(encoding="utf-8"))
    data["messages"][1]["text"] = "Ã© stays as typed"
    path = tmp_path / "Alex Rivera_40.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    messages, _ = _read(path)
    assert messages[1].text == "Ã© stays as typed"


def test_messenger_zip_download(tmp_path: Path) -> None:
    archive = tmp_path / "facebook-zoeokafor-2024-02-12-AbCdEf.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in DYI.rglob("*.json"):
            zf.write(path, path.relative_to(DYI).as_posix())
    assert detect_format(Input.open(archive))[0] == "messenger"
    messages, report = _read(archive, chat="2")
    assert len(messages) == 18 and report["format"] == "messenger"
    assert messages[0].source.path.startswith(str(archive) + "/your_facebook_activity/")


def test_messenger_folder_of_zip_parts(tmp_path: Path) -> None:
    parts = tmp_path / "download"
    parts.mkdir()
    files = sorted(THREAD.glob("*.json"))
    for i, path in enumerate(files, 1):
        with zipfile.ZipFile(parts / f"facebook-part-{i}.zip", "w") as zf:
            zf.write(path, path.relative_to(DYI).as_posix())
    messages, _ = _read(parts)
    assert len(messages) == 15


def test_messenger_instagram() -> None:
    messages, report = _read(INSTA)
    assert report["format"] == "instagram"
    by_text = {m.text: m for m in messages}
    assert by_text["Liked a message"].kind == "event"
    assert by_text["Reacted 😂 to your message "].kind == "event"
    reaction = by_text["yes, you looked so happy"].reactions[0]
    assert reaction.emoji == "😍" and reaction.timestamp == datetime.fromtimestamp(
        1711998200, tz=UTC)
    share = [m for m in messages if m.kind == "attachment"]
    assert len(share) == 1 and share[0].extra["share"].startswith("https://www.instagram.com/")
    assert {m.sender for m in messages if m.is_human} == {"jordan.lee", "Pat Moreno"}


def test_messenger_out_of_order_file_keeps_order_and_flags(tmp_path: Path) -> None:
    data = json.loads((THREAD / "message_2.json").read_text())
    data["messages"][1]["timestamp_ms"] = data["messages"][-1]["timestamp_ms"] - 60_000
    path = tmp_path / "message_1.json"
    path.write_text(json.dumps(data, indent=2))
    messages, report = _read(path)
    assert len(messages) == 6
    # newest-first file replayed backwards: the moved message stays in (reversed) file order
    moved = messages[-2]
    assert moved.timestamp < messages[0].timestamp
    assert [s["line"] for s in report["suspicious"]] == [moved.source.line]
    assert "out_of_order" in moved.source.flags


@pytest.mark.parametrize("cut", [40, 300, 900, -3])
def test_messenger_truncated_json_names_the_line(tmp_path: Path, cut: int) -> None:
    raw = (THREAD / "message_1.json").read_bytes()
    path = tmp_path / "message_1.json"
    path.write_bytes(raw[:cut])
    with pytest.raises(InputError, match=r"E150: '.*message_1.json' line \d+: .*cut off"):
        _read(path, "messenger")


def test_messenger_corrupt_json_and_bytes(tmp_path: Path) -> None:
    raw = (THREAD / "message_1.json").read_text()
    path = tmp_path / "message_1.json"
    path.write_text(raw.replace('"timestamp_ms": 1700516403000,', '"timestamp_ms": 17,,', 1))
    line = 1 + raw[:raw.index('"timestamp_ms": 1700516403000')].count("\n")
    with pytest.raises(InputError, match=rf"E150: .* line {line}: .*corrupt"):
        _read(path)
    path.write_bytes(raw.encode().replace(b"Alex called you.", b"Alex \xff called you."))
    with pytest.raises(InputError, match=r"E151: .*message_1.json' near line \d+"):
        _read(path)


def test_messenger_wrong_or_empty_input(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "x", "type": "personal_chat", "messages": []}')
    with pytest.raises(ExportFormatError, match="E152.*not a Messenger export"):
        _read(path, "messenger")
    empty = tmp_path / "message_1.json"
    empty.write_text(json.dumps({"participants": [{"name": A}, {"name": Z}], "messages": [],
                                 "title": A, "thread_path": "inbox/x_1"}))
    with pytest.raises(InputError, match="E015"):
        _read(empty)
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "notes.json").write_text("{}")
    with pytest.raises(ExportFormatError, match="E159"):
        _read(folder, "messenger")


def test_messenger_truncated_zip(tmp_path: Path) -> None:
    archive = tmp_path / "facebook.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in THREAD.glob("*.json"):
            zf.write(path, path.relative_to(DYI).as_posix())
    archive.write_bytes(archive.read_bytes()[:700])
    with pytest.raises(InputError, match="E026|E160"):
        _read(archive, "messenger")


@pytest.mark.parametrize(("raw", "fixed"), [
    ("caf\u00c3\u00a9", "café"),
    ("\u00f0\u009f\u0098\u00a0", "😠"),
    ("plain ascii", "plain ascii"),
    ("café", "café"),              # not valid UTF-8 bytes: left alone
    ("naïve ✓", "naïve ✓"),        # a code point above 255: left alone
    ("", ""),
])
def test_messenger_fix_mojibake(raw: str, fixed: str) -> None:
    assert fix_mojibake(raw) == fixed


def test_messenger_json_stream_small_chunks() -> None:
    doc = {"guild": {"id": "1"}, "messages": [{"n": i, "t": "é" * i, "x": [1.5, None, True]}
                                              for i in range(50)], "count": 50}
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    stream = JsonStream(io.BytesIO(text.encode()), "doc.json", chunk=7)
    seen = {}
    for key in stream.iter_object():
        if key == "messages":
            items = list(stream.iter_array())
            seen[key] = [item for _, item in items]
            lines = [line for line, _ in items]
        else:
            seen[key] = stream.value()
    assert seen == doc
    expected = [i + 1 for i, ln in enumerate(text.splitlines()) if ln == "  {"]
    assert lines == expected


def test_messenger_source_file_untouched(tmp_path: Path) -> None:
    copy = tmp_path / "thread"
    shutil.copytree(THREAD, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    _read(copy)
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
