"""Property tests for the chat readers: round trips, and no crash or lost line on mangled input."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heard.errors import HeardError
from heard.ingest import ReadOptions, read_export
from heard.ingest._whatsapp import _patterns, classify, parse_header

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

_line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Co", "Cn")),
    max_size=40)


@st.composite
def bodies(draw):
    lines = draw(st.lists(_line_text, min_size=1, max_size=4))
    text = "\n".join(lines)
    # What a person types: not empty, no blank last line, no line shaped like a header
    if not text.strip() or not lines[-1].strip() or lines[0] != lines[0].lstrip("\u200e"):
        text = "x" + text.strip() + "y"
    if any(parse_header(ln) for ln in text.split("\n")[1:]):
        text = text.replace("/", "|").replace(".", ",")
    if classify(text, authorless=False) != ("text", None):
        text = "said: " + text
    return text


@st.composite
def chats(draw):
    names = ("Sam Rivera", "Jo")
    n = draw(st.integers(2, 12))
    start = datetime(2023, 1, 13, 8, 0)
    steps = draw(st.lists(st.integers(0, 50_000), min_size=n, max_size=n))
    rows = []
    t = start
    for i in range(n):
        t += timedelta(seconds=steps[i])
        rows.append((t.replace(microsecond=0), names[i % 2], draw(bodies())))
    return rows


_STYLES = {
    "android_us": lambda t: t.strftime("%-m/%-d/%y, %-I:%M\u202f%p - "),
    "android_gb": lambda t: t.strftime("%d/%m/%Y, %H:%M - "),
    "android_de": lambda t: t.strftime("%d.%m.%y, %H:%M - "),
    "android_fr": lambda t: t.strftime("%d/%m/%Y à %H:%M - "),
    "ios_us": lambda t: t.strftime("[%-m/%-d/%y, %-I:%M:%S\u202f%p] "),
    "ios_de": lambda t: t.strftime("[%d.%m.%y, %H:%M:%S] "),
}


@SETTINGS
@given(rows=chats(), style=st.sampled_from(sorted(_STYLES)), crlf=st.booleans())
def test_properties_whatsapp_round_trip(tmp_path_factory, rows, style, crlf):
    render = _STYLES[style]
    lines = [f"{render(t)}{who}: {text}" for t, who, text in rows]
    path = tmp_path_factory.mktemp("rt") / "chat.txt"
    path.write_bytes(("\r\n" if crlf else "\n").join(lines).encode("utf-8") + b"\n")
    imp = read_export(path, format="whatsapp", options=ReadOptions(tz="UTC"))
    got = list(imp)
    seconds = style.startswith("ios")
    want = [(t if seconds else t.replace(second=0), who, text) for t, who, text in rows]
    assert [(m.timestamp.replace(tzinfo=None), m.sender, m.text) for m in got] == want


def _mangle(data: bytes, rnd: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 12)):
        op = rnd.random()
        pos = rnd.randrange(len(out) + 1)
        if op < 0.3 and out:
            del out[pos:pos + rnd.randint(1, 5)]
        elif op < 0.6:
            out[pos:pos] = rnd.choice([b"\n", b"\r", b"\xe2\x80\x8e", b"\xef\xbb\xbf", b": ",
                                       b"[", b"]", b" - ", b"13/13/13, 25:61 - ", b"\xc2\xa0",
                                       b"1/2/23, 10:00 - Zed: ", b"\xff"])
        elif out:
            out[min(pos, len(out) - 1)] = rnd.randrange(32, 127)
    if rnd.random() < 0.2:
        out = out[: rnd.randrange(len(out) + 1)]
    return bytes(out)


@SETTINGS
@given(seed=st.integers(0, 10**9),
       name=st.sampled_from(sorted(p.name for p in FIXTURES.glob("*.txt"))))
def test_properties_whatsapp_never_crashes_never_loses_a_line(tmp_path_factory, seed, name):
    data = _mangle((FIXTURES / name).read_bytes(), random.Random(seed))
    path = tmp_path_factory.mktemp("mg") / "chat.txt"
    path.write_bytes(data)
    imp = read_export(path, format="whatsapp",
                      options=ReadOptions(tz="UTC", date_order="DMY", max_chars=10**6))
    got = []
    try:
        for m in imp:
            got.append(m)
    except HeardError as exc:  # a clean, one-line refusal is fine; a traceback is not
        assert "\n" not in str(exc)
        if not got:
            return
    text = data.decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [m.source.line for m in got]
    skipped = {s.line for s in imp.report.skipped}
    for n, line in enumerate(lines, 1):
        if not line.strip() or n in starts:
            continue
        before = [m for m in got if m.source.line < n]
        if not before:
            assert n in skipped, f"line {n} neither read nor reported"
            continue
        owner = before[-1]
        if owner.kind in ("text", "attachment", "event", "deleted"):
            # the edit marker is WhatsApp's annotation, removed from the text by design
            core = _patterns().edited.sub("", line).strip("\u200e\ufeff ")
            assert core in owner.text or n in skipped, (
                f"line {n} {line!r} lost")


@st.composite
def telegram_chats(draw):
    n = draw(st.integers(2, 10))
    msgs = []
    for i in range(n):
        sender = ("Ana", "user1") if i % 2 else ("Ben", "user2")
        pieces = draw(st.lists(st.one_of(
            st.text(max_size=20),
            st.builds(lambda t, k: {"type": k, "text": t}, st.text(max_size=20),
                      st.sampled_from(["bold", "italic", "link", "mention"]))), max_size=4))
        msgs.append({"id": i + 1, "type": "message", "date": "2024-01-01T10:00:00",
                     "date_unixtime": str(1704103200 + i * 61), "from": sender[0],
                     "from_id": sender[1], "text": pieces if draw(st.booleans()) else
                     "".join(p if isinstance(p, str) else p["text"] for p in pieces)})
    return {"name": "Ben", "type": "personal_chat", "id": 2, "messages": msgs}


def _expected_text(value):
    if isinstance(value, str):
        return value
    return "".join(p if isinstance(p, str) else p["text"] for p in value)


@SETTINGS
@given(chat=telegram_chats(), indent=st.sampled_from([None, 1]))
def test_properties_telegram_round_trip(tmp_path_factory, chat, indent):
    path = tmp_path_factory.mktemp("tg") / "result.json"
    path.write_text(json.dumps(chat, ensure_ascii=bool(indent), indent=indent), encoding="utf-8")
    got = list(read_export(path, format="telegram"))
    want = [(m["from"], _expected_text(m["text"]).replace("\r\n", "\n").replace("\r", "\n"),
             int(m["date_unixtime"])) for m in chat["messages"]]
    assert [(m.sender, m.text, int(m.timestamp.timestamp())) for m in got] == want


@SETTINGS
@given(chat=telegram_chats(), seed=st.integers(0, 10**9))
def test_properties_telegram_mangled_never_crashes(tmp_path_factory, chat, seed):
    data = _mangle(json.dumps(chat, indent=1).encode(), random.Random(seed))
    path = tmp_path_factory.mktemp("tgm") / "result.json"
    path.write_bytes(data)
    try:
        list(read_export(path, format="telegram"))
    except HeardError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(rows=st.lists(st.tuples(st.sampled_from(["Me", "Alex"]), _line_text), min_size=2,
                     max_size=8))
def test_properties_signal_data_json_round_trip(tmp_path_factory, rows):
    rows = [("Me", "a"), ("Alex", "b"), *rows]
    path = tmp_path_factory.mktemp("sg") / "data.json"
    with path.open("w", encoding="utf-8") as f:
        for i, (who, body) in enumerate(rows):
            f.write(json.dumps({"date": f"2024-05-01T10:{i:02d}:00", "sender": who, "body": body,
                                "quote": "", "sticker": None, "reactions": [],
                                "attachments": [], "deleted": False, "call": False,
                                "missed": False}) + "\n")
    got = list(read_export(path, format="signal", options=ReadOptions(tz="UTC")))
    assert [(m.sender, m.text) for m in got] == rows
