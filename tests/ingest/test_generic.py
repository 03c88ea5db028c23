"""The first importers: canonical JSONL, CSV and plain transcripts, and the shared checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heard.errors import EmptyInputError, ExportFormatError, InputError, OptionError
from heard.ingest import Input, ReadOptions, detect_format, read_export


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*rows: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


A = {"conversation_id": "c", "sender": "Ana", "text": "hi", "timestamp": "2026-01-01T10:00:00Z"}
B = {"conversation_id": "c", "sender": "Ben", "text": "hey", "timestamp": "2026-01-01T10:01:00Z"}


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.jsonl", jsonl(A, B), "jsonl"),
        ("noext", jsonl(A, B), "jsonl"),
        ("a.csv", "timestamp,sender,text\n2026-01-01 10:00,Ana,hi\n", "csv"),
        ("a.txt", "Ana: hi\nBen: hey\nAna: how are you\n", "transcript"),
    ],
)
def test_generic_detects_format(tmp_path: Path, name: str, content: str, expected: str) -> None:
    assert detect_format(Input.open(write(tmp_path, name, content)))[0] == expected


def test_generic_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)))
    with pytest.raises(ExportFormatError, match=r"E003: '.*photo.jpg' looks like a binary"):
        list(read_export(path))


def test_generic_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyInputError, match="E002"):
        list(read_export(write(tmp_path, "empty.txt", "  \n")))


def test_generic_unknown_text_format(tmp_path: Path) -> None:
    with pytest.raises(ExportFormatError, match="E008.*--format"):
        list(read_export(write(tmp_path, "notes.txt", "just some notes\nwithout speakers\n")))


def test_generic_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="E001"):
        read_export(tmp_path / "nope.txt")


def test_generic_unknown_format_option(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="E009.*jsonl"):
        read_export(write(tmp_path, "a.jsonl", jsonl(A, B)), format="nope")


# --------------------------------------------------------------------------- JSONL


def test_jsonl_reads_fields_and_keeps_extra(tmp_path: Path) -> None:
    row = {**A, "mood": "tired", "reply_to": "x", "edited": True,
           "reactions": [{"emoji": "❤️", "sender": "Ben"}]}
    msgs = list(read_export(write(tmp_path, "a.jsonl", jsonl(row, B))))
    assert msgs[0].extra == {"mood": "tired"} and msgs[0].edited and msgs[0].reply_to == "x"
    assert msgs[0].reactions[0].emoji == "❤️"
    assert msgs[0].timestamp.isoformat() == "2026-01-01T10:00:00+00:00"
    assert msgs[0].source.line == 1 and msgs[1].message_id == "c-2"


def test_jsonl_codes_are_read(tmp_path: Path) -> None:
    row = {**A, "codes": [{"code": "bid", "score": 0.8, "evidence": [{"start": 0, "end": 2}]}]}
    msgs = list(read_export(write(tmp_path, "a.jsonl", jsonl(row, B))))
    assert msgs[0].codes[0].name == "bid" and msgs[0].codes[0].evidence[0].end == 2


def test_jsonl_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl(A) + "{not json\n" + jsonl(B))
    with pytest.raises(InputError, match=r"E005: '.*a.jsonl' line 2 is not valid JSON"):
        list(read_export(path))


def test_jsonl_missing_field(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl(A, {"sender": "Ben"}))
    with pytest.raises(InputError, match=r"E006: .* line 2 is missing the field 'text'"):
        list(read_export(path))


def test_jsonl_bad_kind_and_timestamp(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="E007.*kind"):
        list(read_export(write(tmp_path, "a.jsonl", jsonl(A, {**B, "kind": "sticker"}))))
    with pytest.raises(InputError, match="E011.*line 2"):
        list(read_export(write(tmp_path, "b.jsonl", jsonl(A, {**B, "timestamp": "tuesday"}))))


def test_jsonl_naive_time_uses_tz_option(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl({**A, "timestamp": "2026-07-01T10:00:00"}, B))
    imp = read_export(path, options=ReadOptions(tz="Europe/Berlin"))
    first = next(iter(imp))
    assert first.timestamp.utcoffset().total_seconds() == 7200
    assert first.source.time_basis == "wall_clock" and first.source.tz == "Europe/Berlin"


def test_jsonl_naive_time_without_tz_warns(tmp_path: Path) -> None:
    imp = read_export(write(tmp_path, "a.jsonl", jsonl({**A, "timestamp": "2026-07-01T10:00"}, B)))
    list(imp)
    assert any("--tz" in w for w in imp.report.warnings)


def test_jsonl_bad_encoding_names_line(tmp_path: Path) -> None:
    content = jsonl(A).encode() + '{"sender": "Ben", "text": "caf\xe9"}\n'.encode("latin-1")
    with pytest.raises(InputError, match=r"E004: .* line 2 as utf-8.*--encoding"):
        list(read_export(write(tmp_path, "a.jsonl", content)))


def test_jsonl_other_encoding_with_option(tmp_path: Path) -> None:
    content = (jsonl(A) + '{"sender": "Ben", "text": "caf\xe9"}\n').encode("latin-1")
    msgs = list(read_export(write(tmp_path, "a.jsonl", content),
                            options=ReadOptions(encoding="latin-1")))
    assert msgs[1].text == "café"


def test_jsonl_bom_and_crlf(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf" + jsonl(A, {**B, "text": "a\r\nb"}).replace("\n", "\r\n").encode()
    msgs = list(read_export(write(tmp_path, "a.jsonl", content)))
    assert [m.text for m in msgs] == ["hi", "a\nb"]


def test_jsonl_one_sender_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="E013.*only one sender \\(Ana\\)"):
        list(read_export(write(tmp_path, "a.jsonl", jsonl(A, A))))


def test_jsonl_group_needs_pair(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl(A, B, {**B, "sender": "Cy"}))
    with pytest.raises(InputError, match="E014.*3 senders.*--pair"):
        list(read_export(path))
    imp = read_export(path, options=ReadOptions(pair=("Ana", "Cy")))
    assert [m.sender for m in imp] == ["Ana", "Cy"]
    assert imp.report.details["left_out_by_pair"] == 1


def test_jsonl_pair_with_unknown_name(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl(A, B))
    with pytest.raises(OptionError, match="E023.*'Zed'"):
        list(read_export(path, options=ReadOptions(pair=("Ana", "Zed"))))


def test_jsonl_huge_message_is_skipped_and_reported(tmp_path: Path) -> None:
    huge = "\n".join(f"line {i}" for i in range(10_000))
    imp = read_export(write(tmp_path, "a.jsonl", jsonl(A, B, {**A, "text": huge})))
    msgs = list(imp)
    assert len(msgs) == 2
    assert imp.report.skipped[0].line == 3 and "max-chars" in imp.report.warnings[0]


def test_jsonl_out_of_order_is_flagged_not_reordered(tmp_path: Path) -> None:
    early = {**B, "timestamp": "2026-01-01T09:00:00Z"}
    imp = read_export(write(tmp_path, "a.jsonl", jsonl(A, early)))
    msgs = list(imp)
    assert [m.sender for m in msgs] == ["Ana", "Ben"]
    assert "out_of_order" in msgs[1].source.flags and imp.report.suspicious[0].line == 2


def test_jsonl_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    fake = io.TextIOWrapper(io.BytesIO(jsonl(A, B).encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", fake)
    imp = read_export("-")
    assert [m.text for m in imp] == ["hi", "hey"] and imp.report.path == "<stdin>"


# --------------------------------------------------------------------------- CSV


def test_csv_guesses_columns_and_keeps_multiline(tmp_path: Path) -> None:
    path = write(tmp_path, "chat.csv",
                 'Date,Author,Message\n2026-01-01 10:00,Ana,"hello\nthere"\n'
                 "2026-01-01 10:02,Ben,hi\n")
    msgs = list(read_export(path))
    assert [(m.sender, m.text) for m in msgs] == [("Ana", "hello\nthere"), ("Ben", "hi")]
    assert msgs[1].source.line == 4 and msgs[0].conversation_id == "chat"


def test_csv_explicit_map_and_semicolons(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "wann;wer;was\n01.01.2026 10:00;Ana;hallo\n"
                                    "01.01.2026 10:05;Ben;na\n")
    opts = ReadOptions(column_map={"timestamp": "wann", "sender": "wer", "text": "was"},
                       time_format="%d.%m.%Y %H:%M", tz="Europe/Berlin")
    msgs = list(read_export(path, options=opts))
    assert msgs[1].timestamp.hour == 10 and msgs[1].timestamp.utcoffset().seconds == 3600


def test_csv_missing_text_column(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "when,who\n2026-01-01,Ana\n")
    with pytest.raises(InputError, match="E010.*sender.*--map sender=COLUMN"):
        list(read_export(path))


def test_csv_short_row_is_skipped_with_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "timestamp,sender,text\n2026-01-01 10:00,Ana,hi\noops\n"
                                    "2026-01-01 10:01,Ben,yo\n")
    imp = read_export(path)
    assert len(list(imp)) == 2 and imp.report.skipped[0].line == 3


def test_csv_bad_timestamp(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "timestamp,sender,text\nsoon,Ana,hi\n")
    with pytest.raises(InputError, match="E011.*line 2.*'soon'"):
        list(read_export(path))


# --------------------------------------------------------------------------- transcripts


def test_transcript_speakers_timestamps_and_continuations(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt", (
        "[2026-03-02 21:14] Sam: are you coming?\n"
        "[2026-03-02 21:20] Alex: yes\n"
        "sorry, traffic\n"
        "PS: I got the wine\n"
        "21:30 Sam: ok\n"
        "Sam: see you\n"
    ))
    imp = read_export(path, options=ReadOptions(tz="Europe/London"))
    msgs = list(imp)
    assert [m.sender for m in msgs] == ["Sam", "Alex", "Sam", "Sam"]
    assert msgs[1].text == "yes\nsorry, traffic\nPS: I got the wine"
    assert msgs[2].timestamp.hour == 21 and msgs[2].timestamp.minute == 30
    assert msgs[3].timestamp is None
    assert imp.report.suspicious[0].line == 4


def test_transcript_text_before_first_speaker_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt", "Chat export\nSam: hi\nAlex: hey\nSam: ok\n")
    imp = read_export(path, format="transcript")
    assert len(list(imp)) == 3 and imp.report.skipped[0].line == 1


def test_transcript_without_speakers(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt", "no speakers here\n")
    with pytest.raises(InputError, match="E012.*line 1"):
        list(read_export(path, format="transcript"))


def test_transcript_lone_cr_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt", b"Sam: hi\rAlex: hey\rSam: bye\r")
    assert [m.text for m in read_export(path)] == ["hi", "hey", "bye"]
