"""Android 'SMS Backup & Restore' XML backups."""

from __future__ import annotations

import base64
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from heard.errors import ExportFormatError, InputError, OptionError
from heard.ingest import Input, ReadOptions, detect_format, read_export
from heard.ingest._sms import _Filter, _Repairs, normalize_phone, phone_key, repair_references

FIX = Path(__file__).parent / "fixtures" / "sms"
BACKUP = FIX / "sms-20240512183000.xml"
HEAD = ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        '<smses count="{n}" backup_set="x" backup_date="1715531400000" type="full">\n')


def _read(target: Path, fmt: str | None = None, **opts: object) -> tuple[list, dict]:
    imp = read_export(target, format=fmt, options=ReadOptions(**opts))  # type: ignore[arg-type]
    messages = list(imp)
    return messages, imp.report.to_dict()


def _sms(address: str, ms: int, typ: int, body: str, name: str = "Jamie Chen") -> str:
    return (f'  <sms protocol="0" address="{address}" date="{ms}" type="{typ}" subject="null" '
            f'body="{body}" toa="null" sc_toa="null" service_center="null" read="1" '
            f'status="-1" locked="0" date_sent="0" sub_id="1" contact_name="{name}" />\n')


def test_sms_detected(tmp_path: Path) -> None:
    assert detect_format(Input.open(BACKUP))[0] == "sms"
    assert detect_format(Input.open(FIX))[0] == "sms"


def test_sms_lists_conversations() -> None:
    with pytest.raises(InputError, match=r"E153.*3 chats: 1\) Jamie Chen \(\+15550102233\)"
                                         r" — 10 messages; 2\) Mom"):
        _read(BACKUP)


@pytest.mark.parametrize("chat", ["Jamie Chen", "jamie chen", "555-010-2233", "+1 555 010 2233",
                                  "1"])
def test_sms_conversation(chat: str) -> None:
    messages, report = _read(BACKUP, chat=chat, me="Robin")
    assert [m.sender for m in messages] == ["Jamie Chen", "Robin", "Jamie Chen", "Robin",
                                            "Jamie Chen", "Robin", "Jamie Chen", "Jamie Chen"]
    first = messages[0]
    assert first.text == "Are you still at work? I made soup 😊"
    assert first.timestamp == datetime(2024, 4, 30, 18, 35, tzinfo=UTC)
    assert first.source.line == 5 and first.source.time_basis == "instant"
    assert messages[2].text == ("It's fine. It's just the third time this week.\n"
                                "I miss you, that's all.")
    reaction = messages[4]
    assert reaction.kind == "event" and reaction.extra["reaction"] == "❤️"
    assert reaction.extra["target_text"] == "I know. I’m doing my best here"
    mms = messages[5]
    assert mms.kind == "attachment" and mms.text == "On my way, picked up flowers 🌹"
    assert mms.extra["attachments"] == [{"ct": "image/jpeg", "name": "PXL_0430.jpg"}]
    assert messages[6].text == "ok. thank you.\ndrive safe" and messages[6].extra["mms"]
    assert messages[7].text == "💔 sorry about last night"
    assert [(s["line"], s["reason"].split()[0]) for s in report["skipped"]] == [
        (9, "draft"), (32, "failed")]
    assert report["details"]["repaired"] == {"surrogate_pairs_joined": 2,
                                             "control_characters_dropped": 1}
    assert len({m.message_id for m in messages}) == len(messages)


def test_sms_group_mms_needs_pair() -> None:
    with pytest.raises(InputError, match=r"E014.*3 senders \(me, Jamie Chen, Mom\)"):
        _read(BACKUP, chat="3")
    with pytest.raises(InputError, match="E023.*Jamie Chen.*Senders there: Mom"):
        _read(BACKUP, chat="3", pair=("Mom", "Jamie Chen"))


def test_sms_unknown_and_ambiguous_chat() -> None:
    with pytest.raises(OptionError, match="E154.*Pat"):
        _read(BACKUP, chat="Pat")


def test_sms_zip_and_folder_of_backups(tmp_path: Path) -> None:
    archive = tmp_path / "backup.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(BACKUP, "SMSBackupRestore/sms-20240512183000.xml")
    messages, report = _read(archive, chat="Mom")
    assert [m.text for m in messages] == ["Call me when you can, sweetheart",
                                          "Will do tomorrow, love you"]
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "sms-20240101000000.xml").write_text(
        HEAD.format(n=0) + "</smses>\n", encoding="utf-8")
    (folder / "sms-20240512183000.xml").write_bytes(BACKUP.read_bytes())
    messages, report = _read(folder, chat="Mom")
    assert len(messages) == 2
    assert any("found 2 backups" in w for w in report["warnings"])


def test_sms_big_inline_media_streams(tmp_path: Path) -> None:
    blob = base64.b64encode(bytes(range(256)) * 4000).decode()  # ~1.4 MB of base64
    body = HEAD.format(n=3)
    body += _sms("+15550102233", 1714502100000, 1, "hi")
    body += (f'  <mms date="1714502200000" msg_box="2" address="+15550102233" m_type="128" '
             f'contact_name="Jamie Chen">\n    <parts>\n'
             f'      <part seq="0" ct="video/mp4" name="clip.mp4" text="null" data="{blob}" />\n'
             f'      <part seq="0" ct="text/plain" text="look &#55357;&#56832;" />\n'
             f'    </parts>\n    <addrs><addr address="+15550102233" type="151" /></addrs>\n'
             f'  </mms>\n')
    body += _sms("+15550102233", 1714502300000, 1, "wow")
    path = tmp_path / "sms.xml"
    path.write_text(body + "</smses>\n", encoding="utf-8")
    messages, _ = _read(path)
    assert [m.text for m in messages] == ["hi", "look 😀", "wow"]
    assert messages[1].extra["attachments"] == [{"ct": "video/mp4", "name": "clip.mp4"}]
    assert messages[2].source.line == 11


def test_sms_truncated_and_malformed(tmp_path: Path) -> None:
    raw = BACKUP.read_bytes()
    path = tmp_path / "sms.xml"
    path.write_bytes(raw[:2500])
    with pytest.raises(InputError, match=r"E158: '.*sms.xml' line \d+, column \d+"):
        _read(path, chat="1")
    path.write_bytes(raw.replace(b'body="Leaving now.', b'body="Leaving <now.'))
    with pytest.raises(InputError, match=r"E158: .* line 6, column \d+: .*not well-formed"):
        _read(path, chat="1")


def test_sms_wrong_root_and_empty(tmp_path: Path) -> None:
    calls = tmp_path / "calls.xml"
    calls.write_text("<?xml version='1.0'?>\n<calls count=\"1\">\n"
                     '<call number="+15550102233" duration="60" date="1714502100000" type="1"/>'
                     "\n</calls>\n")
    with pytest.raises(ExportFormatError, match="E152.*call log"):
        _read(calls, "sms")
    empty = tmp_path / "sms.xml"
    empty.write_text(HEAD.format(n=0) + "</smses>\n")
    with pytest.raises(InputError, match="E015"):
        _read(empty)
    nothing = tmp_path / "blank.xml"
    nothing.write_text("")
    with pytest.raises(InputError, match="E002"):
        _read(nothing, "sms")


def test_sms_bad_dates_skipped_with_lines(tmp_path: Path) -> None:
    body = HEAD.format(n=3) + _sms("+15550102233", 1714502100000, 1, "one")
    body += _sms("+15550102233", 0, 2, "two").replace('date="0"', 'date="soon"')
    body += _sms("+15550102233", 1714502300000, 2, "three")
    path = tmp_path / "sms.xml"
    path.write_text(body + "</smses>\n")
    messages, report = _read(path)
    assert [m.text for m in messages] == ["one", "three"]
    assert report["skipped"][0]["line"] == 4


@pytest.mark.parametrize(("raw", "fixed"), [
    (b"&#55357;&#56838;", b"&#128518;"),
    (b"&#xD83D;&#xDE06;", b"&#128518;"),
    (b"a&#233;&#55357;&#56838;b", b"a&#233;&#128518;b"),
    (b"&#55357;x", b"&#65533;x"),
    (b"&#56838;", b"&#65533;"),
    (b"&#1;&#x1F;&#9;&#10;", b"&#9;&#10;"),
    (b"raw\x01\x0bbytes\ttab", b"rawbytes\ttab"),
    (b"&amp;&lt;", b"&amp;&lt;"),
])
def test_sms_repair_references(raw: bytes, fixed: bytes) -> None:
    assert repair_references(raw) == fixed


def test_sms_filter_never_splits_a_pair() -> None:
    data = b"<a b='" + b"&#55357;&#56838;" * 200 + b"'/>"
    for size in (1, 3, 7, 8, 9, 16, 31, 64):
        filt = _Filter(_Repairs())
        out = b"".join(filt.feed(data[i:i + size], final=False)
                       for i in range(0, len(data), size))
        out += filt.feed(b"", final=True)
        assert out == b"<a b='" + b"&#128518;" * 200 + b"'/>"
        assert filt.repairs.pairs == 200


@pytest.mark.parametrize(("raw", "norm"), [
    ("+1 (555) 010-2233", "+15550102233"),
    ("555.010.2233", "5550102233"),
    ("0044 20 7946 0958", "+442079460958"),
    ("Jamie@Example.com", "jamie@example.com"),
    ("VERIZON", "VERIZON"),
    ("22395", "22395"),
])
def test_sms_normalize_phone(raw: str, norm: str) -> None:
    assert normalize_phone(raw) == norm


def test_sms_phone_key_matches_forms() -> None:
    assert phone_key("+1 555 010 2233") == phone_key("5550102233") == phone_key("15550102233")
    assert phone_key("22395") != phone_key("5550102233")


def test_sms_mms_without_address_is_filed_by_its_addrs(tmp_path: Path) -> None:
    # Some backups leave an MMS's ``address`` attribute out; its <addrs> still say who it is
    # with: the sender (137) of a received one, the recipients (151) of a sent one.
    def mms(ms: int, box: int, frm: str, to: str, text: str) -> str:
        return (f'  <mms date="{ms}" msg_box="{box}" m_type="132" read="1">\n'
                f'    <parts><part seq="0" ct="text/plain" text="{text}" /></parts>\n'
                f'    <addrs><addr address="{frm}" type="137" charset="106" />\n'
                f'      <addr address="{to}" type="151" charset="106" /></addrs>\n  </mms>\n')
    backup = tmp_path / "sms-20240601120000.xml"
    backup.write_text(HEAD.format(n=3)
                      + _sms("+15550102233", 1717243200000, 1, "hi")
                      + mms(1717243260000, 1, "+15550102233", "+15559990000", "photo from me")
                      + mms(1717243320000, 2, "+15559990000", "+15550102233", "thanks")
                      + "</smses>\n", encoding="utf-8")
    messages, _ = _read(backup, chat="+1 555 010 2233")
    assert [(m.sender, m.text) for m in messages] == [
        ("Jamie Chen", "hi"), ("Jamie Chen", "photo from me"), ("me", "thanks")]
    # one chat, not a second one with no name: no --chat needed
    assert [m.text for m in _read(backup)[0]] == ["hi", "photo from me", "thanks"]
