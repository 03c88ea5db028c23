"""One contract, checked on every registered reader (issue 13): the way scikit-learn's
``check_estimator`` runs one suite over every estimator.

For each reader, on a sample of its format:

* ``sniff`` decides from the head alone (the file is not opened again) and scores in [0, 1];
* every timestamp is timezone-aware;
* the report counts exactly the messages the import yields;
* every message survives the canonical JSON Lines round trip unchanged;
* input it cannot read is refused with one numbered, one-line error, never a traceback.

A reader registered without a sample here fails ``test_every_reader_has_a_sample``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heard.errors import HeardError
from heard.ingest import Input, ReadOptions, read_export, readers
from heard.model import message_to_record, record_to_json

FIX = Path(__file__).parent / "fixtures"

# reader -> (sample path, or a file written into tmp_path: (name, text)), read options
SAMPLES: dict[str, tuple[Path | tuple[str, str], dict]] = {
    "whatsapp": (FIX / "whatsapp" / "ios_de.txt", {}),
    "telegram": (FIX / "telegram" / "personal_chat_result.json", {}),
    "messenger": (FIX / "messenger" / "e2ee" / "Alex Rivera_40.json", {}),
    "instagram": (FIX / "instagram", {}),
    "discord": (FIX / "discord" / "dm_mira_dev.json", {}),
    "sms": (FIX / "sms" / "sms-20240512183000.xml", {"chat": "1"}),
    "imessage": (FIX / "real" / "imessage-conversation-analyzer" / "chat.db",
                 {"chat": "+12234567890"}),
    "signal": (FIX / "signal" / "signal-export" / "Alex Kim", {}),
    "csv": (("chat.csv", "timestamp,sender,text\n2024-03-02T21:14:00+01:00,Sam,hi\n"
                         "2024-03-02T21:15:00+01:00,Alex,\"hey, you\"\n"), {}),
    "jsonl": (("chat.jsonl",
               '{"sender": "Sam", "text": "hi", "timestamp": "2024-03-02T21:14:00+01:00"}\n'
               '{"sender": "Alex", "text": "hey", "timestamp": "2024-03-02T21:15:00+01:00"}\n'),
              {}),
    "transcript": (("talk.txt", "Sam: hi there\nAlex: hey\nSam: how was it?\n"), {}),
}

#: Bytes no reader can take (after --format forces it): a numbered error, not a traceback.
GARBAGE = b"\x00\x01\x02 this is not an export \xff\xfe\x00"


def _sample(name: str, tmp_path: Path) -> tuple[Path, ReadOptions]:
    target, opts = SAMPLES[name]
    if isinstance(target, tuple):
        path = tmp_path / target[0]
        path.write_text(target[1], encoding="utf-8")
        target = path
    return target, ReadOptions(**opts)


def test_every_reader_has_a_sample() -> None:
    assert sorted(readers()) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_reader_sniffs_the_head_only(name: str, tmp_path: Path) -> None:
    path, _ = _sample(name, tmp_path)
    source = Input.open(path)
    source.head  # noqa: B018  (the head is read once, before any reader sniffs)

    def refuse() -> None:
        raise AssertionError(f"{name}.sniff reopened the file instead of using its head")

    if not source.is_dir and not source.is_zip:
        source.open_binary = refuse  # type: ignore[method-assign]
    for reader in readers().values():
        score = reader.sniff(source)
        assert 0.0 <= score <= 1.0
    assert readers()[name].sniff(Input.open(path)) >= 0.3


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_reader_contract_holds_on_its_sample(name: str, tmp_path: Path) -> None:
    path, options = _sample(name, tmp_path)
    imp = read_export(path, format=name, options=options)
    messages = list(imp)
    assert messages
    # every time is an instant: aware, never naive
    assert all(m.timestamp is None or m.timestamp.tzinfo is not None for m in messages)
    # the report counts what was yielded, no more, no less
    assert imp.report.total == len(messages)
    assert sum(imp.report.senders.values()) == sum(m.is_human for m in messages)
    # the canonical JSON Lines round trip keeps every field
    out = tmp_path / "out.jsonl"
    out.write_text("".join(record_to_json(message_to_record(m)) + "\n" for m in messages),
                   encoding="utf-8")
    again = list(read_export(out, format="jsonl"))
    assert [message_to_record(m) for m in again] == [message_to_record(m) for m in messages]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_reader_refuses_garbage_with_one_numbered_line(name: str, tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(GARBAGE)
    with pytest.raises(HeardError) as err:
        list(read_export(path, format=name))
    assert err.value.code.startswith("E") and err.value.code[1:].isdigit()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_reader_refuses_a_cut_off_file_with_a_numbered_error(name: str, tmp_path: Path) -> None:
    source, options = _sample(name, tmp_path)
    if source.is_dir() or source.suffix == ".db":
        pytest.skip("a folder or a database is not cut off like a file")
    data = source.read_bytes()
    cut = tmp_path / ("cut" + source.suffix)
    cut.write_bytes(data[: len(data) // 2])
    try:
        list(read_export(cut, format=name, options=options))
    except HeardError as exc:  # refusing is fine; a traceback is not
        assert exc.code and "\n" not in str(exc)


def test_jsonl_round_trip_is_byte_stable(tmp_path: Path) -> None:
    path, options = _sample("whatsapp", tmp_path)
    lines = [record_to_json(message_to_record(m)) for m in read_export(path, options=options)]
    out = tmp_path / "a.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    again = [record_to_json(message_to_record(m)) for m in read_export(out, format="jsonl")]
    assert again == lines
    assert all(isinstance(json.loads(line), dict) for line in lines)
