"""The WhatsApp reader's fast paths give exactly what the plain ones give (issue 12's speed).

* the one-shape header pattern finds the lines the every-shape pattern reads with that shape,
  with the same groups, and no other line;
* a notice table asked "does one match?" answers as its one alternation does;
* ``Import.json_lines`` (the reader writes the JSON Lines itself) equals the records of the
  messages an Import yields, with the same report, on mangled exports in several shapes and
  zones (clock changes, an offset that moves by half an hour), with ``--max-chars``,
  ``--pair`` and ``--date-order``.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heard.errors import HeardError
from heard.ingest import ReadOptions, read_export
from heard.ingest._wa_shapes import _data, _patterns, _shape, line_header
from heard.model import message_to_record, record_to_json

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

_MARK = st.sampled_from(["", "", "", "\u200e", "\u200f\u200e", "\ufeff"])
_SP = st.sampled_from([" ", " ", "\u00a0", "\u202f", "\u2009", "  ", ""])
_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=5)


@st.composite
def header_like(draw) -> str:
    """A line that is, or almost is, a WhatsApp header of some shape."""
    d = _data()
    sep = draw(st.sampled_from(["/", ".", "-", "/", ","]))
    sp1 = draw(st.sampled_from(["", "", " "]))
    parts = [draw(_MARK), draw(st.sampled_from(["", "", "", "["])), draw(_MARK),
             draw(_DIGITS), sep, sp1, draw(_DIGITS), sep, sp1, draw(_DIGITS),
             draw(st.sampled_from(["", "", ".", ","])), draw(st.sampled_from([",", "", ", "])),
             draw(_SP)]
    if draw(st.booleans()) and draw(st.booleans()):
        parts += [draw(st.sampled_from(d["header_words"])), draw(_SP)]
    parts += [draw(_DIGITS), draw(st.sampled_from([":", ":", "."])), draw(_DIGITS)]
    if draw(st.booleans()):
        parts += [draw(st.sampled_from([":", "."])), draw(_DIGITS)]
    if draw(st.booleans()):
        parts += [draw(_SP), draw(st.sampled_from([*d["am"], *d["pm"]]))]
    parts += [draw(_MARK),
              draw(st.sampled_from([" - ", " – ", ": ", " ", "] ", "]", " -", "\u202f-\u202f",
                                    " - - ", " :", ""])),
              draw(st.sampled_from(["Sam: hi", "", "- x", ":", "Jo: a: b", "12:30 - x"]))]
    return "".join(parts)


def _signatures() -> list[tuple]:
    d = _data()
    sigs = set()
    for term in ("-", ":", " "):
        for sep in "/.-":
            for seconds in (False, True):
                for style in ("", "A", "a", "."):
                    for tsep in ":.":
                        for word in ("", d["header_words"][0], "à", "a"):
                            sigs.add((term, sep, seconds, style, tsep, word))
    return sorted(sigs)


SIGNATURES = _signatures()


@SETTINGS
@given(line=header_like(), other=st.sampled_from(SIGNATURES), own=st.booleans())
def test_one_shape_pattern_finds_exactly_that_shape(line, other, own):
    every = _patterns().header.match(line)
    shape = None
    if every is not None:
        g = every.groupdict()
        shape = _shape(g["br"], g["sep"], g["s"] is not None, g["ampm"], g["tsep"], g["word"],
                       g["term"])[0]
    # half the time the line's own shape (when it has one), else any shape
    sig = shape if own and shape is not None and shape[0] != "]" else other
    one = line_header(sig)
    assert one is not None
    m = one.match("\n" + line)
    assert (m is not None) == (shape == sig), (line, sig, shape)
    if m is not None:
        assert every is not None
        for name in ("d1", "d2", "d3", "h", "mi", "s", "ampm", "word", "term", "sep", "comma"):
            if name in one.groupindex:
                assert m.group(name) == every.group(name), name
        assert m.group("rest") == line[every.end():]


def test_one_shape_pattern_of_every_fixture_shape():
    # every shape the fixtures have, against every line of every fixture
    here = Path(__file__).parent / "fixtures"
    lines = [ln for p in [*here.glob("whatsapp/*.txt"), *here.glob("real/*/*.txt")]
             for ln in p.read_text(encoding="utf-8", errors="replace").splitlines()]
    every = _patterns().header.match
    shapes: dict[tuple, list[str]] = {}
    for ln in lines:
        m = every(ln)
        if m is not None:
            g = m.groupdict()
            sig = _shape(g["br"], g["sep"], g["s"] is not None, g["ampm"], g["tsep"],
                         g["word"], g["term"])[0]
            shapes.setdefault(sig, []).append(ln)
    assert len(shapes) > 8
    for sig in shapes:
        one = line_header(sig)
        if one is None:
            assert sig[0] == "]"
            continue
        found = [ln for ln in lines if one.match("\n" + ln)]
        assert found == shapes[sig], sig


def _tables():
    p = _patterns()
    return {"calls_or_strict": p.calls_or_strict, "calls": p.calls,
            "system_strict": p.system_strict}


@SETTINGS
@given(text=st.one_of(
    st.text(max_size=60),
    st.sampled_from(["Missed voice call", "Messages and calls are end-to-end encrypted.",
                     "Ana's security code changed.", "x's security code changed",
                     "'s security code changed", "Your security code with Ana changed.",
                     "Waiting for this message", "Videollamada perdida", "Call ended"]),
    st.builds(lambda a, b: a + b, st.text(max_size=10),
              st.sampled_from(["'s security code changed", " changed", "Missed video call"]))))
def test_notice_tables_answer_as_their_alternation(text):
    for name, table in _tables().items():
        assert table.match(text) == (re.compile(table.pattern).match(text) is not None), name


# -- the JSON Lines path ----------------------------------------------------------------------

_STYLES = {
    "gb": lambda t: t.strftime("%d/%m/%Y, %H:%M - "),
    "us": lambda t: t.strftime("%-m/%-d/%y, %-I:%M\u202f%p - "),
    "de": lambda t: t.strftime("%d.%m.%y, %H:%M - "),
    "fr": lambda t: t.strftime("%d/%m/%Y à %H:%M - "),
    "colon": lambda t: t.strftime("%d/%m/%Y %H:%M: "),
    "ios": lambda t: t.strftime("[%d.%m.%y, %H:%M:%S] "),
    "ios_us": lambda t: t.strftime("[%-m/%-d/%y, %-I:%M:%S\u202f%p] "),
}
_BODIES = ["hi", "ok so", "<Media omitted>", "This message was deleted", "Missed voice call",
           "fine <This message was edited>", "Location: https://maps.google.com/?q=1,2",
           "POLL:\nwhat\nOPTION: a", "a: b", "😂 ❤️", "x" * 90, "", "  ", "tab\there", "quote \" \\",
           "Ana changed the subject to \"x\"", "line\nmore\n\n", "\u200eimage omitted"]
_ODD = ["32/13/2023, 10:00 - Sam: impossible date", "01/01/2023, 25:61 - Sam: impossible time",
        "[01.02.23, 10:00:00] Jo: other shape", "1/2/23, 9:05 PM - Jo: other shape",
        "2023-01-02 10:00 - Jo: year first", "not a header", ""]


def _chat(rnd: random.Random) -> tuple[str, str]:
    style = rnd.choice(sorted(_STYLES))
    # around the clock changes of 2023 in Europe and in the United States
    t = rnd.choice([datetime(2023, 3, 26, 0, 20), datetime(2023, 10, 29, 0, 20),
                    datetime(2023, 3, 12, 1, 20), datetime(2023, 4, 2, 1, 20),
                    datetime(2023, 1, 13, 8, 0)])
    names = rnd.choice([("Sam Rivera", "Jo"), ("Sam Rivera", "Jo", "Ana"), ("A" * 70, "Jo")])
    lines = []
    for _ in range(rnd.randint(1, 40)):
        t += timedelta(seconds=rnd.choice([0, 7, 60, 300, 1800, 3600, -600]))
        head = _STYLES[style](t)
        r = rnd.random()
        if r < 0.1:
            lines.append(rnd.choice(_ODD))
        elif r < 0.15:
            lines.append(head + rnd.choice(_BODIES))  # no author: a notice
        else:
            lines.append(head + f"{rnd.choice(names)}: {rnd.choice(_BODIES)}")
    return style, "\n".join(lines) + rnd.choice(["\n", "", "\n\n", "\ntrailing"])


def _both(path, opts):
    out = {}
    for fast in (True, False):
        imp = read_export(path, format="whatsapp", options=ReadOptions(**opts))
        try:
            if fast:
                text = "".join(imp.json_lines())
            else:
                text = "".join(record_to_json(message_to_record(m)) + "\n" for m in imp)
        except HeardError as exc:
            text = f"error {exc.code}: {exc}"
        out[fast] = (text, json.dumps(imp.report.to_dict(), sort_keys=True, default=str))
    return out


@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_json_lines_equal_the_messages_records(tmp_path_factory, seed):
    rnd = random.Random(seed)
    _style, text = _chat(rnd)
    path = tmp_path_factory.mktemp("wa") / "WhatsApp Chat with Jo.txt"
    path.write_text(text, encoding="utf-8")
    opts = {"tz": rnd.choice([None, "Europe/London", "America/New_York",
                              "Australia/Lord_Howe"])}
    if rnd.random() < 0.3:
        opts["max_chars"] = rnd.choice([5, 40, 100])
    if rnd.random() < 0.3:
        opts["pair"] = ("Sam Rivera", "Jo")
    if rnd.random() < 0.2:
        opts["date_order"] = rnd.choice(["DMY", "MDY"])
    got = _both(path, opts)
    assert got[True] == got[False]


@pytest.mark.parametrize("tz", ["Europe/London", "Australia/Lord_Howe"])
def test_json_lines_across_clock_changes(tmp_path, tz):
    # every minute through the nights the clocks change, in a zone that moves by an hour and
    # in one that moves by half an hour
    rows = []
    for night in (datetime(2023, 3, 26), datetime(2023, 10, 29), datetime(2023, 4, 2),
                  datetime(2023, 10, 1)):
        t = night
        for i in range(240):
            rows.append(f"{t:%d/%m/%Y, %H:%M} - {('Sam', 'Jo')[i % 2]}: m{i}")
            t += timedelta(minutes=1)
    path = tmp_path / "chat.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = _both(path, {"tz": tz})
    assert got[True] == got[False]
    assert got[True][0].count("\n") == len(rows)


def test_json_lines_of_a_reader_without_its_own_are_its_messages_records():
    # Telegram has no json_lines of its own: Import.json_lines writes its messages' records
    path = Path(__file__).parent / "fixtures" / "telegram" / "personal_chat_result.json"
    got = {}
    for fast in (True, False):
        imp = read_export(path, options=ReadOptions(tz="UTC"))
        got[fast] = ("".join(imp.json_lines()) if fast else
                     "".join(record_to_json(message_to_record(m)) + "\n" for m in imp))
    assert got[True] == got[False] and got[True].count("\n") > 3
    imp = read_export(path, options=ReadOptions(tz="UTC"))
    list(imp)
    with pytest.raises(RuntimeError):
        list(imp.json_lines())
