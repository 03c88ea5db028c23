"""Line reading: blocks of lines read the same lines, numbers and errors as line by line."""

from __future__ import annotations

import pytest

from heard.errors import InputError
from heard.ingest import Input
from heard.ingest._text import iter_blocks, iter_lines

CONTENTS = [
    b"a\nb\nc\n",
    b"a\nb\nc",
    b"a\r\nb\r\n\r\nc\r\n",
    b"old\rmac\rfile\r",
    b"mixed\r\r\nends\rhere\n\n\nx\r\r",
    b"\n\n\nblank first\n",
    "\ufeffbom first line\nz\u00e9\u202fx\n".encode(),
    "wide \u00e9 text\r\nsecond\rthird\n".encode("utf-16"),
    b"tab\tand\x0bvertical\x0cfeed\x1cseparators\n\xc2\x85next\n",
]


def _blocks_as_lines(source, encoding="utf-8", size=None):
    out = []
    for start, text in iter_blocks(source, encoding, size):
        assert text.endswith("\n")
        out.extend(enumerate(text.split("\n")[:-1], start))
    return out


@pytest.mark.parametrize("content", CONTENTS)
@pytest.mark.parametrize("size", [1, 3, 7, None])
def test_text_blocks_match_lines(tmp_path, content, size):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    source = Input.open(path)
    assert _blocks_as_lines(source, size=size) == list(iter_lines(source))


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8-sig", "mac-roman"])
def test_text_blocks_match_lines_other_encodings(tmp_path, encoding):
    path = tmp_path / "t.txt"
    path.write_bytes("caf\u00e9\r\nna\u00efve\rend".encode(encoding))
    source = Input.open(path)
    assert _blocks_as_lines(source, encoding, 4) == list(iter_lines(source, encoding))


@pytest.mark.parametrize("size", [2, 16, None])
def test_text_blocks_name_the_line_of_a_bad_byte(tmp_path, size):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"one\r\ntwo\rthree\nfour \xff\nfive\n")
    with pytest.raises(InputError) as by_line:
        list(iter_lines(Input.open(path)))
    with pytest.raises(InputError) as by_block:
        list(iter_blocks(Input.open(path), size=size))
    assert by_block.value.code == by_line.value.code == "E004"
    assert str(by_block.value) == str(by_line.value)
    assert "line 4" in str(by_block.value)


def test_text_blocks_unknown_encoding_is_an_option_error(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"x\n")
    with pytest.raises(InputError) as err:
        list(iter_blocks(Input.open(path), "no-such-codec"))
    assert err.value.code == "E030"
