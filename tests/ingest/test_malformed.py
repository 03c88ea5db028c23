"""The malformed-input set (issue 14): every bad input ends in its own numbered one-line error
that names the file, never in "internal error"; inputs that are odd but readable are read."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import malformed_cases
import pytest
from malformed_cases import CASES, SURROGATE_CASES, bomb

from heard.errors import HeardError, InputError
from heard.ingest import folder_entries, is_folder_of_exports, read_export
from heard.model import message_to_record, record_to_json


def _records(path: Path) -> list[str]:
    """The JSONL lines an import of ``path`` writes (a folder: every entry's)."""
    if is_folder_of_exports(path):
        out = []
        for entry in folder_entries(path):
            assert entry.error is None, entry.error
            out += [record_to_json(r) for r in entry.records(message_to_record)]
        return out
    return [record_to_json(message_to_record(m)) for m in read_export(path)]


@pytest.fixture
def small_line_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1 MB line limit, so that the over-long-line case writes 2 MB, not 65."""
    from heard.ingest import _text

    monkeypatch.setattr(_text, "MAX_LINE_BYTES", 1 << 20)


@pytest.mark.parametrize("name", sorted(n for n, b in CASES.items()))
def test_malformed_input_ends_in_its_numbered_error(name: str, tmp_path: Path,
                                                     small_line_limit: None) -> None:
    path, code, names = CASES[name](tmp_path)
    if not code:  # odd but readable: read, and written back as valid UTF-8
        lines = _records(path)
        assert len(lines) >= 2
        for line in lines:
            json.loads(line.encode("utf-8"))
        return
    with pytest.raises(InputError) as info:
        _records(path)
    message = str(info.value)
    assert info.value.code == code, message
    assert message.startswith(f"{code}: ")
    assert names in message
    assert "\n" not in message


@pytest.mark.parametrize("name", SURROGATE_CASES)
def test_malformed_lone_surrogate_is_kept_as_replacement_character(name: str,
                                                                    tmp_path: Path) -> None:
    path = getattr(malformed_cases, name)(tmp_path)
    with pytest.warns(UserWarning, match="lone UTF-16 surrogate"):
        imp = read_export(path)
        lines = [record_to_json(message_to_record(m)) for m in imp]
    text = "\n".join(lines)
    text.encode("utf-8")  # no surrogate left: this would raise
    assert "\ufffd" in text and "half" in text
    assert any("surrogate" in w for w in imp.report.warnings)


def test_malformed_zip_bomb_is_refused_fast_and_small(tmp_path: Path) -> None:
    """The issue's target: a 1 MB zip holding a 1 GiB line, refused within 2 s at < 100 MB."""
    path = bomb(tmp_path / "WhatsApp Chat with Sam.zip", "_chat.txt",
                b"[01/02/2024, 10:00:00] Alex: ", b"a", 1 << 30)
    assert path.stat().st_size < 2 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(InputError, match="E043"):
        list(read_export(path))
    assert time.perf_counter() - start < 2
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100 * 1024


def test_malformed_imessage_zip_writes_nothing_big(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path, code, _ = CASES["zip_bomb_imessage"](tmp_path)
    with pytest.raises(InputError, match=code):
        list(read_export(path))
    written = sum(f.stat().st_size for f in (tmp_path / "tmp").rglob("*") if f.is_file())
    assert written < 1 << 20


def test_malformed_long_line_is_read_in_linear_time(tmp_path: Path) -> None:
    """Reading a line costs its length: 8 MB may take at most ~4 times as long as 2 MB (the
    old reader, re-searching the whole line per block, took 16 times as long)."""
    from heard.ingest import Input
    from heard.ingest._text import iter_blocks

    def took(mb: int) -> float:
        path = tmp_path / f"{mb}.txt"
        path.write_bytes(b"x" * (mb << 20) + b"\nend\n")
        start = time.perf_counter()
        blocks = list(iter_blocks(Input.open(path), size=1 << 16))
        assert blocks[0][1].count("\n") >= 1
        return time.perf_counter() - start

    took(1)
    small, big = min(took(2) for _ in range(3)), min(took(8) for _ in range(3))
    assert big < 8 * max(small, 0.005)


def test_malformed_every_error_is_an_input_error(tmp_path: Path) -> None:
    """The CLI exits 2 for InputError: every code the set expects is one."""
    codes = set()
    for name, build in CASES.items():
        if name in ("jsonl_very_long_line", "zip_bomb_chat", "zip_bomb_imessage"):
            continue
        folder = tmp_path / name
        folder.mkdir()
        path, code, _ = build(folder)
        if not code:
            continue
        try:
            _records(path)
        except HeardError as exc:
            assert isinstance(exc, InputError), exc
            codes.add(exc.code)
    assert {"E040", "E041", "E042", "E045", "E046", "E047"} <= codes


def test_malformed_cli_exits_2_with_one_line(tmp_path: Path, cli) -> None:
    path, code, _ = CASES["jsonl_source_string"](tmp_path)
    status, _, err = cli("import", str(path), "-o", str(tmp_path / "out.jsonl"))
    assert status == 2
    assert err.strip().count("\n") == 0 and code in err and "internal error" not in err


def _imessage_zip(tmp_path: Path) -> Path:
    import zipfile

    db = Path(__file__).parent / "fixtures" / "real" / "imessage-conversation-analyzer" / "chat.db"
    path = tmp_path / "messages.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(db, "chat.db")
    return path


def test_malformed_imessage_zip_within_limits_is_read(tmp_path: Path) -> None:
    from heard.ingest import ReadOptions

    imp = read_export(_imessage_zip(tmp_path), options=ReadOptions(chat="1"))
    assert imp.reader.name == "imessage"
    assert len(list(imp)) == 23


def test_malformed_imessage_zip_needs_room_to_unpack(tmp_path: Path, monkeypatch) -> None:
    from collections import namedtuple

    from heard.ingest import _zip

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(_zip.shutil, "disk_usage", lambda _: usage(1 << 30, 1 << 30, 4096))
    with pytest.raises(InputError, match="E048") as info:
        list(read_export(_imessage_zip(tmp_path)))
    assert "messages.zip" in str(info.value) and "chat.db" in str(info.value)


def test_malformed_data_quoted_in_an_error_stays_on_one_line(tmp_path: Path) -> None:
    """A CSV header with a line break and a terminal escape: the error quotes it escaped."""
    path = tmp_path / "x.csv"
    path.write_bytes(b'"who\nis\x1b[31m",words\n"a",b\n')
    with pytest.raises(InputError, match="E010") as info:
        list(read_export(path))
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message
    assert "who\\nis\\x1b[31m" in message
