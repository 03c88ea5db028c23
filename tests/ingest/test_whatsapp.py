"""WhatsApp importer: every locale shape in the format notes, zips, folders, and bad input."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from heard.errors import ExportFormatError, HeardError, InputError, OptionError
from heard.ingest import Input, ReadOptions, detect_format, read_export
from heard.ingest._whatsapp import infer_date_order, parse_header

SHARED = Path("/work/shared/fixtures/whatsapp")
HERE = Path(__file__).parent / "fixtures" / "whatsapp"
LRM, NNBSP, NBSP = "\u200e", "\u202f", "\u00a0"


def _read(path, **opts):
    imp = read_export(path, format=opts.pop("format", None), options=ReadOptions(**opts))
    return list(imp), imp.report


def _shared_cases():
    if not (SHARED / "expected.json").exists():
        return []
    files = json.loads((SHARED / "expected.json").read_text(encoding="utf-8"))["files"]
    return sorted(files.items())


@pytest.mark.parametrize(("name", "expected"), _shared_cases())
def test_whatsapp_shared_variants_match_expected(name, expected):
    path = SHARED / f"{name}.txt"
    assert detect_format(Input.open(path))[0] == "whatsapp"
    messages, report = _read(path)
    got = [[m.timestamp.strftime("%Y-%m-%dT%H:%M"), m.sender, m.text]
           for m in messages if m.is_human]
    assert got == expected
    assert report.details["date_order_confidence"] == 1.0
    # invariants: system notices are never a person's message; exactly two people
    assert len(report.senders) == 2
    for m in messages:
        if "encrypted" in m.text or "chiffrement" in m.text:
            assert m.kind == "event" and m.sender == ""


def _kinds(messages):
    return [(m.source.line, m.kind, m.sender) for m in messages]


def test_whatsapp_ios_english_full_variety():
    messages, report = _read(HERE / "ios_en_12h_crlf.txt", tz="America/New_York")
    by_line = {m.source.line: m for m in messages}
    assert report.details["whatsapp_variant"] == "ios"
    assert report.details["date_order"] == "MDY"
    assert set(report.senders) == {"Sam Rivera", "Jo"}  # "~ Jo": the non-contact mark is dropped
    # the encryption notice and the number change carry a participant's name on iOS: events
    for line in (1, 13):
        assert by_line[line].kind == "event" and by_line[line].sender == ""
        assert by_line[line].extra["attributed_to"] == "Sam Rivera"
        assert not by_line[line].is_human
    assert by_line[4].text == ("I'm not accusing you, I just miss you\n"
                               "and I wanted to know when to start dinner\n\nthat's all")
    assert "\r" not in "".join(m.text for m in messages)
    assert (by_line[8].kind, by_line[8].text) == ("attachment", f"{LRM}image omitted")
    assert by_line[9].text == "ok see you at 10" and by_line[9].edited is True
    assert [by_line[n].kind for n in (10, 11)] == ["deleted", "deleted"]
    assert by_line[11].sender == "Sam Rivera"
    assert (by_line[12].kind, by_line[12].sender, by_line[12].extra["subtype"]) == (
        "event", "Jo", "call")
    assert by_line[17].extra["subtype"] == "call"
    assert by_line[14].kind == "attachment" and "<attached: 00000042-Lease.pdf>" in by_line[14].text
    assert by_line[15].extra["subtype"] == "location"
    assert by_line[16].kind == "attachment"
    assert by_line[18].text.startswith("POLL:\nDinner?") and by_line[18].extra["subtype"] == "poll"
    assert by_line[22].kind == "attachment" and by_line[22].extra["subtype"] == "view_once"
    first = by_line[2]
    assert first.timestamp.isoformat() == "2024-03-02T21:14:05-05:00"
    assert (first.source.time_basis, first.source.tz) == ("wall_clock", "America/New_York")
    assert report.to_dict()["events"] == 4
    assert not report.suspicious and not report.skipped


def test_whatsapp_ios_german_bom_marks_and_edit_marker():
    messages, _ = _read(HERE / "ios_de.txt", tz="Europe/Berlin")
    assert [(m.kind, m.sender) for m in messages] == [
        ("event", ""), ("text", "Lena"), ("text", "Malte Krüger"), ("attachment", "Lena"),
        ("text", "Malte Krüger"), ("attachment", "Lena")]
    assert messages[4].text == "Guten Morgen" and messages[4].edited
    assert messages[0].timestamp.isoformat() == "2023-10-27T22:42:29+02:00"


@pytest.mark.parametrize(("name", "order", "rows"), [
    ("android_fi_klo.txt", "DMY", [("2018-06-13T21:25:15", "Aino", "Moi!"),
                                   ("2018-06-13T21:26:02", "Eero", "Moi moi"),
                                   ("2018-06-14T07:00:00", "Aino", "Huomenta")]),
    ("android_hr_nodash.txt", "DMY", [("2018-06-13T21:25:15", "Ana", "Bok"),
                                      ("2018-06-13T21:26:01", "Ivan", "Bok, kako si?"),
                                      ("2018-06-14T09:00:00", "Ana", "Dobro")]),
    ("old_colon.txt", "MDY", [("2014-03-24T13:59:59", "Chris Doe", "are we still on for saturday"),
                              ("2014-03-24T14:03:10", "Pat", "yes!"),
                              ("2014-03-25T09:00:00", "Chris Doe", "great")]),
    ("android_id_dots.txt", "DMY", [("2025-08-30T18:00:00", "Dewi", "Sudah makan?"),
                                    ("2025-08-30T18:05:00", "Budi", "Belum"),
                                    ("2025-08-31T07:15:00", "Dewi", "<Media tidak disertakan>")]),
    ("android_nl_dashes.txt", "DMY", [("2022-04-26T12:11:00", "Femke", "Hoi"),
                                      ("2022-04-26T12:15:00", "Daan", "Hoi! Alles goed?"),
                                      ("2022-04-27T09:02:00", "Femke",
                                       "Dit bericht is verwijderd")]),
    ("ios_zh_iso.txt", "YMD", [("2023-05-04T16:17:13", "Carolina", "🥺"),
                               ("2023-05-04T16:18:00", "小明", "怎么了？"),
                               ("2023-05-04T16:18:41", "Carolina", "没事")]),
])
def test_whatsapp_locale_shapes(name, order, rows):
    messages, report = _read(HERE / name, tz="UTC")
    got = [(m.timestamp.strftime("%Y-%m-%dT%H:%M:%S"), m.sender, m.text)
           for m in messages if m.is_human]
    assert got == rows
    assert report.details["date_order"] == order
    assert detect_format(Input.open(HERE / name))[0] == "whatsapp"


def test_whatsapp_system_notices_without_author_are_events():
    messages, _ = _read(HERE / "android_fi_klo.txt", tz="UTC")
    assert (messages[0].kind, messages[0].sender) == ("event", "")
    messages, _ = _read(HERE / "android_nl_dashes.txt", tz="UTC")
    assert messages[0].kind == "event" and messages[-1].kind == "deleted"


def test_whatsapp_pasted_header_and_colon_notice():
    messages, report = _read(HERE / "android_enIN_multiline.txt", tz="Asia/Kolkata")
    by_line = {m.source.line: m for m in messages}
    # a pasted iOS-shaped line inside an Android chat stays part of the message, flagged
    assert by_line[2].text.endswith("[05/02/22, 10:00:00] Sagar: this line was pasted\nok?")
    assert [s.line for s in report.suspicious] == [3]
    # a notice that contains ": " is not read as a message from "Priya changed the subject..."
    assert by_line[5].kind == "event" and by_line[5].sender == ""
    assert by_line[6].kind == "attachment"
    assert by_line[6].text.endswith("\nthe view from the office")
    assert by_line[8].kind == "event"
    assert set(report.senders) == {"Sagar", "Priya"}
    # lower-case "pm" leans day-first but does not prove it: read as DMY, with a warning
    assert report.details["date_order"] == "DMY"
    assert 0.6 <= report.details["date_order_confidence"] < 0.9
    assert any("--date-order" in w for w in report.warnings)
    assert by_line[1].timestamp.isoformat() == "2022-02-05T20:06:00+05:30"


def test_whatsapp_date_order_option_overrides_and_silences():
    messages, report = _read(HERE / "android_enIN_multiline.txt", tz="UTC", date_order="MDY")
    assert messages[0].timestamp.strftime("%Y-%m-%d") == "2022-05-02"
    assert report.details["date_order_source"] == "--date-order"
    assert not any("day/month" in w for w in report.warnings)


def test_whatsapp_ambiguous_dates_take_the_likelier_order_with_a_warning():
    # nothing decides 05/06/2023 with a 24-hour clock: day first is likelier, and the person is
    # told how to choose the other order
    messages, report = _read(HERE / "ambiguous_dates.txt", tz="UTC")
    assert messages[0].timestamp.strftime("%Y-%m-%d") == "2023-06-05"
    assert any("--date-order MDY" in w for w in report.warnings)
    assert report.details["date_order_source"] == "inferred"
    messages, _ = _read(HERE / "ambiguous_dates.txt", tz="UTC", date_order="DMY")
    assert messages[0].timestamp.strftime("%Y-%m-%d") == "2023-06-05"
    messages, _ = _read(HERE / "ambiguous_dates.txt", tz="UTC", date_order="mdy")
    assert messages[0].timestamp.strftime("%Y-%m-%d") == "2023-05-06"
    with pytest.raises(OptionError):
        _read(HERE / "ambiguous_dates.txt", date_order="DDMM")


def test_whatsapp_contradicting_date_order_flags_impossible_dates(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("10/1/24, 10:00 - Ann: a\n11/1/24, 10:00 - Bob: b\n13/1/24, 10:00 - Ann: c\n")
    messages, report = _read(path, tz="UTC", date_order="MDY")
    assert any("contradicts" in w for w in report.warnings)
    assert [s.line for s in report.suspicious] == [3]
    assert messages[-1].text == "b\n13/1/24, 10:00 - Ann: c"


def test_whatsapp_out_of_order_and_preamble_are_reported():
    messages, report = _read(HERE / "android_es_outoforder.txt", tz="Europe/Madrid")
    assert [s.line for s in report.skipped] == [1]
    assert [s.line for s in report.suspicious] == [4]
    assert "out_of_order" in messages[2].source.flags
    assert [m.source.line for m in messages] == [2, 3, 4, 5]  # file order kept
    assert messages[0].timestamp.isoformat() == "2019-12-18T15:57:00+01:00"
    assert messages[-1].kind == "deleted"


def test_whatsapp_group_needs_pair():
    with pytest.raises(InputError) as err:
        _read(HERE / "group_three.txt", tz="UTC")
    assert err.value.code == "E014"
    messages, report = _read(HERE / "group_three.txt", tz="UTC", pair=("Ann", "Cat"))
    assert {m.sender for m in messages if m.is_human} == {"Ann", "Cat"}
    assert report.details["left_out_by_pair"] == 1
    assert [m.kind for m in messages[:2]] == ["event", "event"]


def test_whatsapp_me_must_be_a_sender():
    _read(HERE / "ios_de.txt", me="Lena")
    with pytest.raises(OptionError):
        _read(HERE / "ios_de.txt", me="Lenna")


def test_whatsapp_without_tz_warns_and_records_assumption():
    messages, report = _read(HERE / "ios_de.txt")
    assert messages[0].source.tz == "UTC (assumed)"
    assert any("--tz" in w for w in report.warnings)


def test_whatsapp_partner_from_file_name(tmp_path):
    path = tmp_path / "WhatsApp Chat with Malte Krüger (2).txt"
    path.write_bytes((HERE / "ios_de.txt").read_bytes())
    _, report = _read(path)
    assert report.details["chat_with"] == "Malte Krüger"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_whatsapp_zip_ios_and_android(tmp_path):
    ios = _zip(tmp_path / "WhatsApp Chat - Jo.zip", {
        "_chat.txt": (HERE / "ios_en_12h_crlf.txt").read_bytes(),
        "00000043-PHOTO-2024-03-14-07-06-00.jpg": b"\xff\xd8\xff\xe0fakejpeg"})
    assert detect_format(Input.open(ios))[0] == "whatsapp"
    messages, report = _read(ios, tz="UTC")
    assert report.details["container"] == "zip" and report.details["media_files"] == 1
    assert report.details["chat_with"] == "Jo"
    assert len(messages) == 17
    assert messages[0].source.path.endswith("WhatsApp Chat - Jo.zip:_chat.txt")
    assert messages[0].conversation_id == "WhatsApp Chat - Jo"

    android = _zip(tmp_path / "export.zip", {
        "WhatsApp Chat with Bob.txt": (SHARED / "B_android_enGB_24h.txt").read_bytes()
        if SHARED.exists() else (HERE / "android_nl_dashes.txt").read_bytes()})
    messages, report = _read(android, tz="UTC")
    assert report.details["chat_with"] == "Bob"
    assert len([m for m in messages if m.is_human]) >= 3


def test_whatsapp_folder(tmp_path):
    folder = tmp_path / "chat"
    folder.mkdir()
    (folder / "_chat.txt").write_bytes((HERE / "ios_de.txt").read_bytes())
    (folder / "00000009-PHOTO-2023-10-27-22-45-17.jpg").write_bytes(b"\xff\xd8")
    assert detect_format(Input.open(folder))[0] == "whatsapp"
    messages, report = _read(folder)
    assert len(messages) == 6 and report.details["container"] == "folder"


def test_whatsapp_truncated_zip_is_one_line_error(tmp_path):
    good = _zip(tmp_path / "good.zip", {"_chat.txt": (HERE / "ios_en_12h_crlf.txt").read_bytes()})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ExportFormatError) as err:
        _read(cut, format="whatsapp")
    assert "cut.zip" in str(err.value) and "\n" not in str(err.value)


def test_whatsapp_damaged_zip_member_names_member(tmp_path):
    body = "".join(f"1/{d}/24, 10:{m:02d} - {'Ann' if m % 2 else 'Bob'}: message {d} {m}\n"
                   for d in range(13, 28) for m in range(60)).encode()
    path = _zip(tmp_path / "dmg.zip", {"_chat.txt": body})
    data = bytearray(path.read_bytes())
    start = 30 + len("_chat.txt") + 200
    for i in range(start, start + 64):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(ExportFormatError) as err:
        _read(path, format="whatsapp", tz="UTC")
    assert err.value.code in ("E103", "E026")
    assert "dmg.zip" in str(err.value) and "\n" not in str(err.value)


def test_whatsapp_zip_without_chat(tmp_path):
    path = _zip(tmp_path / "photos.zip", {"a.jpg": b"x", "b.jpg": b"y"})
    with pytest.raises(ExportFormatError) as err:
        _read(path, format="whatsapp")
    assert err.value.code == "E102"


@pytest.mark.parametrize(("content", "code"), [
    (b"", "E002"),
    (b"hello there\nno headers here\n", "E101"),
    (b"1/4/23, 7:02 PM - Ann: hi\n1/14/23, 7:03 PM - Bob: caf\xe9 \xff\n", "E004"),
    (b"\x00\x01\x02\x03" * 100, "E003"),
])
def test_whatsapp_bad_input_errors(tmp_path, content, code):
    path = tmp_path / "chat.txt"
    path.write_bytes(content)
    with pytest.raises(HeardError) as err:
        _read(path, format="whatsapp")
    assert err.value.code == code
    assert "chat.txt" in str(err.value) and "\n" not in str(err.value)


def test_whatsapp_one_sender_is_refused(tmp_path):
    path = tmp_path / "solo.txt"
    path.write_text("1/14/23, 7:02 PM - Ann: hi\n1/14/23, 7:03 PM - Ann: anyone?\n")
    with pytest.raises(InputError) as err:
        _read(path)
    assert err.value.code == "E013"


def test_whatsapp_export_cap_warning(tmp_path):
    lines = [f"{1 + (i // 1440) % 12}/{13 + (i // 17280) % 15}/23, {(i // 60) % 24}:{i % 60:02d}"
             f" - {'Ann' if i % 2 else 'Bob'}: m{i}" for i in range(40_000)]
    path = tmp_path / "capped.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imp = read_export(path, options=ReadOptions(tz="UTC"))
    n = sum(1 for _ in imp)
    assert n == 40_000
    assert any("40,000" in w for w in imp.report.warnings)
    assert imp.report.details["export_cap"] == 40_000


def test_whatsapp_long_message_is_skipped_and_reported(tmp_path):
    path = tmp_path / "long.txt"
    body = "\n".join("x" * 100 for _ in range(30))
    path.write_text(f"1/14/23, 7:02 PM - Ann: hi\n1/14/23, 7:03 PM - Bob: {body}\n"
                    "1/14/23, 7:04 PM - Ann: ok\n1/14/23, 7:05 PM - Bob: sorry\n")
    messages, report = _read(path, max_chars=1000)
    assert [m.text for m in messages] == ["hi", "ok", "sorry"]
    assert [s.line for s in report.skipped] == [2]


def test_whatsapp_stdin_spool_is_read_twice(tmp_path, monkeypatch):
    data = (HERE / "ios_de.txt").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    messages, report = _read("-")
    assert report.format == "whatsapp" and len(messages) == 6


def test_whatsapp_does_not_steal_generic_formats(tmp_path):
    transcript = tmp_path / "talk.txt"
    transcript.write_text("[2024-03-02 21:14] Sam: are you coming?\n"
                          "[2024-03-02 21:15] Jo: yes\n")
    assert detect_format(Input.open(transcript))[0] == "transcript"
    plain = tmp_path / "plain.txt"
    plain.write_text("Sam: hi\nJo: hello\n")
    assert detect_format(Input.open(plain))[0] == "transcript"
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"sender": "Sam", "text": "1/4/23, 7:02 PM - x: y"}\n')
    assert detect_format(Input.open(jsonl))[0] == "jsonl"


@pytest.mark.parametrize(("line", "fields"), [
    ("1/29/18, 12:24 - Mallory: Hey! :)", ("1", "29", "18", 12, 24, 0, None)),
    (f"1/4/23, 7:02{NNBSP}PM - Person: x", ("1", "4", "23", 7, 2, 0, True)),
    ("05/02/22, 8:06 pm - Sagar: Hi", ("05", "02", "22", 8, 6, 0, True)),
    ("26/09/2019 à 22:39 - XXX: Salut :)", ("26", "09", "2019", 22, 39, 0, None)),
    ("18/12/19 15:57 - MARCELO gomez: x", ("18", "12", "19", 15, 57, 0, None)),
    (f"20/6/2017 8:28 p.{NBSP}m. - Michelle: test", ("20", "6", "2017", 8, 28, 0, True)),
    (f"21/6/2017 12:05 a.{NBSP}m. - Michelle: x", ("21", "6", "2017", 12, 5, 0, False)),
    ("26-04-2022 12:11 - name: msg", ("26", "04", "2022", 12, 11, 0, None)),
    ("30/08/25 18.00 - Dewi: x", ("30", "08", "25", 18, 0, 0, None)),
    ("13.6.2018 klo 21.25.15 - a: m", ("13", "6", "2018", 21, 25, 15, None)),
    ("13. 6. 2018. 21:25:15 a: m", ("13", "6", "2018", 21, 25, 15, None)),
    ("3/24/14, 1:59:59 PM: Sender Name: Message", ("3", "24", "14", 1, 59, 59, True)),
    ("[12/27/20, 18:51:14] My Group: hi", ("12", "27", "20", 18, 51, 14, None)),
    (f"[1/16/22, 12:12:45{NNBSP}PM] A: x", ("1", "16", "22", 12, 12, 45, True)),
    ("[31/12/2022 11:40:26] John Doe: x", ("31", "12", "2022", 11, 40, 26, None)),
    ("[05.08.23, 5:52:02 PM] Hana: x", ("05", "08", "23", 5, 52, 2, True)),
    ("[2023/5/4, 16:17:13] ~ Carolina: x", ("2023", "5", "4", 16, 17, 13, None)),
    ("[2020-01-01, 12:00:01] P: x", ("2020", "01", "01", 12, 0, 1, None)),
    ("[27-11-18 18:43:20] Tom Hanks: Message", ("27", "11", "18", 18, 43, 20, None)),
    (f"\ufeff{LRM}[27.10.23, 22:42:29] U: x", ("27", "10", "23", 22, 42, 29, None)),
])
def test_whatsapp_header_shapes(line, fields):
    h = parse_header(line)
    assert h is not None
    assert (h.d1, h.d2, h.d3, h.hour, h.minute, h.second, h.pm) == fields


@pytest.mark.parametrize("line", [
    "hello 1/2/23, 10:00 - x: y", "12:30 - Bob: x", "1/2, 10:00 - a: b", "", "[note] x",
    "2023 was a good year",
])
def test_whatsapp_non_headers(line):
    assert parse_header(line) is None


def test_whatsapp_date_order_voters():
    # a field over 12 decides
    assert infer_date_order([("13", "1", "24")]).order == "DMY"
    assert infer_date_order([("1", "13", "24")]).order == "MDY"
    # chronology: as MDY these dates go forward; as DMY they jump back
    dates = [("1", "2", "24"), ("1", "5", "24"), ("2", "1", "24"), ("2", "3", "24"),
             ("3", "1", "24")]
    res = infer_date_order(dates, signature=("-", "/", False, "", ":", "", True))
    assert res.order == "MDY" and res.confidence >= 0.9 and not res.decisive
    # dots are day-first locales
    res = infer_date_order([("05", "06", "23")], signature=("-", ".", False, "", ":", "", True))
    assert res.order == "DMY"
    # nothing to go on
    assert infer_date_order([("05", "06", "23")]).confidence == 0.5


# -- large files: decided on their first header lines, read once ---------------------------


def _android(days, start=0):
    """One Android line per (day, month) pair, alternating senders, a minute apart."""
    return [f"{d}/{mo}/24, 10:{(start + i) % 60:02d} - {'Ann' if i % 2 else 'Bob'}: m{start + i}"
            for i, (d, mo) in enumerate(days)]


def _shaped(report):
    return [s for s in report.suspicious if s.reason.startswith("shaped like a message header")]


def _settle_read(monkeypatch, path, settle, **opts):
    monkeypatch.setattr("heard.ingest._whatsapp.SETTLE_HEADERS", settle)
    monkeypatch.setattr("heard.ingest._text.BLOCK_SIZE", 256)
    messages, report = _read(path, tz="UTC", **opts)
    rows = [(m.message_id, m.sender, m.timestamp, m.text, m.kind, m.source.flags)
            for m in messages]
    return rows, report


def test_whatsapp_settled_on_first_lines_reads_like_a_full_scan(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    lines = _android([(13 + i % 15, 1 + i // 120 % 12) for i in range(600)])
    lines[300:300] = ["a second line", "", "[13/13/13, 10:00:00] pasted: x"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    once, settled = _settle_read(monkeypatch, path, 40)
    full, scanned = _settle_read(monkeypatch, path, 10**9)
    assert once == full
    assert settled.details.pop("settled_on_header_lines") >= 40
    assert "settled_on_header_lines" not in scanned.details
    assert settled.details == scanned.details
    assert settled.warnings == scanned.warnings
    assert settled.suspicious == scanned.suspicious
    assert len(_shaped(settled)) == 1


def test_whatsapp_undecided_first_lines_fall_back_to_a_full_scan(tmp_path, monkeypatch):
    # no day over 12 in the first lines: they settle nothing, so the whole file is scanned
    path = tmp_path / "late.txt"
    days = [(1 + i // 60 % 12, 1) for i in range(300)] + [(13 + i % 15, 2) for i in range(300)]
    path.write_text("\n".join(_android(days)) + "\n", encoding="utf-8")
    once, report = _settle_read(monkeypatch, path, 40)
    full, scanned = _settle_read(monkeypatch, path, 10**9)
    assert once == full
    assert "settled_on_header_lines" not in report.details
    assert report.details == scanned.details and report.details["date_order"] == "DMY"


def test_whatsapp_settled_order_contradicted_later_is_reported(tmp_path, monkeypatch):
    # day-first dates open the file, then many more month-first ones: the order settled on the
    # first lines is kept (messages already returned), and the report says how to fix it
    path = tmp_path / "flip.txt"
    days = [(13 + i % 10, 1) for i in range(100)] + [(1, 13 + i % 15) for i in range(400)]
    path.write_text("\n".join(_android(days)) + "\n", encoding="utf-8")
    rows, report = _settle_read(monkeypatch, path, 40)
    assert report.details["date_order"] == "DMY"
    assert report.details["date_order_confidence"] < 0.5
    assert any("--date-order MDY" in w and "whole file reads as MDY" in w
               for w in report.warnings)
    assert len(_shaped(report)) == 400
    assert sum(r[3].count("\n") for r in rows) == 400  # every line kept, as text


def test_whatsapp_settled_shape_contradicted_later_is_reported(tmp_path, monkeypatch):
    path = tmp_path / "two.txt"
    ios = [f"[{13 + i % 15}/02/2024, 11:{i % 60:02d}:00] {'Ann' if i % 2 else 'Bob'}: i{i}"
           for i in range(200)]
    path.write_text("\n".join(_android([(13 + i % 15, 1) for i in range(100)]) + ios) + "\n",
                    encoding="utf-8")
    _, report = _settle_read(monkeypatch, path, 40)
    assert any("shape of this file's message lines was settled" in w for w in report.warnings)
    assert len(_shaped(report)) == 200
    assert report.details["header_lines"] == 300


def test_whatsapp_settled_read_refuses_a_late_bad_byte_before_any_message(tmp_path,
                                                                          monkeypatch):
    path = tmp_path / "bad.txt"
    text = "\n".join(_android([(13 + i % 15, 1) for i in range(300)])) + "\n"
    path.write_bytes(text.encode() + b"13/1/24, 11:00 - Ann: caf\xe9\n")
    monkeypatch.setattr("heard.ingest._whatsapp.SETTLE_HEADERS", 40)
    monkeypatch.setattr("heard.ingest._text.BLOCK_SIZE", 256)
    stream = iter(read_export(path, options=ReadOptions(tz="UTC")))
    with pytest.raises(InputError) as err:
        next(stream)
    assert err.value.code == "E004" and "line 301" in str(err.value)


def test_model_trusted_constructors_build_the_same_objects():
    from datetime import UTC, datetime

    from heard.model import Message, Source
    from heard.model import trusted_message as _new_message
    from heard.model import trusted_source as _new_source

    stamp = datetime(2024, 3, 2, 21, 14, tzinfo=UTC)
    fast = _new_message("c", "c-1", "Sam", stamp, "hi", "text", True,
                        _new_source("whatsapp", "p.txt", 1, "wall_clock", "UTC"), {"a": 1})
    slow = Message("c", "c-1", "Sam", stamp, "hi", "text", None, (), True,
                   Source("whatsapp", "p.txt", 1, "wall_clock", "UTC"), {"a": 1})
    assert type(fast) is Message and type(fast.source) is Source
    assert fast == slow and fast.source == slow.source and hash(fast.source) == hash(slow.source)
    assert (fast.extra, fast.annotations, fast.reply_to, fast.reactions, fast.source.flags) == (
        slow.extra, slow.annotations, slow.reply_to, slow.reactions, slow.source.flags)
    assert fast.annotations is not _new_message("c", "c-2", "Jo", stamp, "x", "text", False,
                                                fast.source, {}).annotations
    with pytest.raises(AttributeError):
        fast.text = "changed"  # still frozen


# --- issue 12: the failure classes of the real-export corpus, each in a file written here


def test_whatsapp_ios_mixes_date_styles_marks_and_crlf(tmp_path):
    # one iOS export with ISO, dotted and slashed dates, LRM marks, U+202F and CRLF
    lrm, nnbsp = "\u200e", "\u202f"
    text = (f"[2020-03-01, 12:00:01] Ana: {lrm}Messages and calls are end-to-end encrypted.\r\n"
            f"[2020.04.01, 12:00:02] Ana: hi\r\n"
            f"{lrm}[01/07/2025, 9:00:03{nnbsp}PM] Ben: hey{lrm} <This message was edited>\r\n"
            "[2020/05/01, 12:00:04] Ana: two\r\nlines\r\n")
    path = tmp_path / "_chat.txt"
    path.write_bytes(text.encode("utf-8"))
    messages, _ = _read(path, tz="UTC", date_order="DMY")
    human = [m for m in messages if m.is_human]
    assert [(m.sender, m.text) for m in human] == [("Ana", "hi"), ("Ben", "hey"),
                                                   ("Ana", "two\nlines")]
    assert [m.timestamp.strftime("%Y-%m-%d %H:%M") for m in human] == [
        "2020-04-01 12:00", "2025-07-01 21:00", "2020-05-01 12:00"]
    assert human[1].edited and messages[0].kind == "event"


def test_whatsapp_senderless_ios_notices_are_events_not_a_third_person(tmp_path):
    path = tmp_path / "_chat.txt"
    path.write_text("[05/12/2024, 8:05:32 AM] Sarah created group \"Family\"\n"
                    "[05/12/2024, 8:06:45 AM] Sarah added you\n"
                    "[05/12/2024, 8:10:23 AM] Sarah: hi\n"
                    "[05/12/2024, 8:12:47 AM] Tom: hello\n"
                    "[05/12/2024, 8:13:00 AM] Tom: Tom left\n", encoding="utf-8")
    imp = read_export(path, options=ReadOptions(tz="UTC"))
    messages = list(imp)
    assert sorted(imp.report.senders) == ["Sarah", "Tom"]
    assert [m.kind for m in messages] == ["event", "event", "text", "text", "event"]
    assert messages[-1].extra["attributed_to"] == "Tom"


def test_whatsapp_undecided_order_reads_the_likelier_one_and_names_the_option(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("06/10/18, 10:56 - Me: a\n06/10/18, 11:05 - You: b\n", encoding="utf-8")
    messages, report = _read(path, tz="UTC")
    assert messages[0].timestamp.strftime("%Y-%m-%d") == "2018-10-06"
    assert any("--date-order MDY" in w for w in report.warnings)
    path.write_text("[7/11/2017, 8:20:41 PM] A: a\n[7/11/2017, 8:21:41 PM] B: b\n",
                    encoding="utf-8")
    messages, report = _read(path, tz="UTC")
    assert messages[0].timestamp.strftime("%Y-%m-%d") == "2017-07-11"  # AM/PM with slashes
    assert any("--date-order DMY" in w for w in report.warnings)


def test_whatsapp_name_then_punctuation_and_24h_with_am_pm(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("01/20/19, 11:23 - John Doe:.\n"
                    "04/15/2016 13:19:20 PM - Jane: hello\n"
                    "06/20/2020, 00:08 a. m. - John Doe: late\n", encoding="utf-8")
    messages, _ = _read(path, tz="UTC", date_order="MDY")
    assert [(m.sender, m.text) for m in messages if m.is_human] == [
        ("John Doe", "."), ("Jane", "hello"), ("John Doe", "late")]
    assert [m.timestamp.hour for m in messages] == [11, 13, 0]


def test_whatsapp_mixed_am_pm_spellings_are_one_header_shape(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("23/06/2018, 1:55 p.m. - Loris: one\n23/06/2018, 1:56 p. m. - Luke: two\n"
                    "23/06/2018, 1:57 PM - Loris: three\n23/06/2018, 1:58 am - Luke: four\n",
                    encoding="utf-8")
    messages, report = _read(path, tz="UTC")
    assert [m.text for m in messages] == ["one", "two", "three", "four"]
    assert not any("header" in s.reason for s in report.suspicious)


def test_whatsapp_turkish_notices_are_events(tmp_path):
    path = tmp_path / "_chat.txt"
    path.write_text("[5.05.2017 18:01:12] mezun A: Emirço sizi ekledi\n"
                    "[5.05.2017 18:01:28] mezun A: Mesajlar ve aramalar uçtan uca şifrelidir.\n"
                    "[5.05.2017 18:01:54] Bora: Selam\n"
                    "[5.05.2017 18:04:20] Emirço: Emirço bu grubun simgesini değiştirdi\n"
                    "[5.05.2017 18:09:07] Emirço: hayir\n", encoding="utf-8")
    imp = read_export(path, options=ReadOptions(tz="UTC"))
    list(imp)
    assert sorted(imp.report.senders) == ["Bora", "Emirço"]
    assert imp.report.kinds["event"] == 3


@pytest.mark.parametrize("lines", [
    # iOS and Android; older exports write a plain space after the tilde
    "[11/13/25, 3:19:03 PM] ~ Alice: Hola\n[11/13/25, 3:19:10 PM] Bob: hi\n"
    "[11/13/25, 3:20:00 PM] Alice: saved as a contact now\n",
    "13/11/2025, 15:19 - ~ Alice: Hola\n13/11/2025, 15:19 - Bob: hi\n"
    "13/11/2025, 15:20 - Alice: saved as a contact now\n",
])
def test_whatsapp_profile_name_tilde_is_dropped(tmp_path, lines) -> None:
    path = tmp_path / "WhatsApp Chat with Alice.txt"
    path.write_text(lines, encoding="utf-8")
    messages, report = _read(path, date_order="DMY" if "-" in lines else "MDY")
    assert [m.sender for m in messages] == ["Alice", "Bob", "Alice"]
    assert set(report.senders) == {"Alice", "Bob"}
