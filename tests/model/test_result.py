"""The result base: one field dump for to_dict, declared renames/omissions, Summary rendering."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import numpy as np
import pytest
from _summary_html import ATTRS, TAGS, html_tags

from heard.model import Result, Section, Summary, Table, Text, dump_fields, json_field, to_jsonable


@dataclass(frozen=True, slots=True)
class _Part(Result):
    share: float

    json_digits: ClassVar[int | None] = 2


@dataclass(frozen=True)
class _Whole(Result):
    sender: str
    when: datetime
    ratio: float = json_field(default=0.0, digits=3, name="rate")
    hidden: np.ndarray = json_field(omit=True, default_factory=lambda: np.zeros(3))
    parts: tuple[_Part, ...] = ()
    codes: frozenset[str] = frozenset()
    maybe: str | None = json_field(default=None, skip_none=True)
    inner: dict[str, Any] | None = json_field(default=None, inline=True)
    counts: dict[str, int] = field(default_factory=dict)

    json_extra: ClassVar[dict[str, str]] = {"n_parts": "n_parts", "shout": "_shout"}

    @property
    def n_parts(self) -> int:
        return len(self.parts)

    def _shout(self) -> str:
        return self.sender.upper()


WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_result_to_dict_follows_the_declarations() -> None:
    w = _Whole("Ana", WHEN, 2 / 3, parts=(_Part(0.123456),), codes=frozenset({"b", "a"}),
               counts={"x": np.int64(2)})
    assert w.to_dict() == {"sender": "Ana", "when": "2026-03-01T09:30:00+00:00", "rate": 0.667,
                           "parts": [{"share": 0.12}], "codes": ["a", "b"], "counts": {"x": 2},
                           "n_parts": 1, "shout": "ANA"}
    assert type(w.to_dict()["counts"]["x"]) is int


def test_result_to_dict_inline_and_skip_none() -> None:
    w = _Whole("Ana", WHEN, maybe="yes", inner={"top": 1})
    d = w.to_dict()
    assert d["maybe"] == "yes" and d["top"] == 1 and "inner" not in d


@pytest.mark.parametrize("value, digits, expected", [
    (np.float64(1.23456), 2, 1.23),
    (math.nan, 2, None),
    (math.inf, None, math.inf),
    (np.array([[1, 2], [3, 4]]), None, [[1, 2], [3, 4]]),
    (np.bool_(True), None, True),
    (complex(1, -2), None, [1.0, -2.0]),
    (date(2026, 1, 2), None, "2026-01-02"),
    ((1.234, {"a": 2.345}), 1, [1.2, {"a": 2.3}]),
])
def test_result_to_jsonable_converts(value: Any, digits: int | None, expected: Any) -> None:
    assert to_jsonable(value, digits) == expected


def test_result_to_jsonable_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError, match="object is not JSON-ready"):
        to_jsonable(object())


def test_result_dump_fields_is_the_default_to_dict() -> None:
    p = _Part(0.5)
    assert dump_fields(p) == p.to_dict() == {"share": 0.5}
    json.dumps(p.to_dict())


def test_result_default_summary_lists_plain_values() -> None:
    s = _Whole("Ana", WHEN, 0.5).summary()
    assert isinstance(s, Summary)
    text = s.as_text()
    assert "sender" in text and "Ana" in text and "0.5" in text


def _hostile() -> Summary:
    name = "<script>alert(1)</script>"
    return Summary("Both <b>partners</b>", [
        Text("sent & received", lead=f"{name}: "),
        Table(("", name, "Jo"), [("Messages sent", 3, None)], title="A <table>"),
        Section("Safety first", [Text('"quoted" <img src=x onerror=alert(1)>')], alert=True),
    ])


def test_summary_as_text_aligns_tables_and_marks_sections() -> None:
    text = _hostile().as_text()
    lines = text.splitlines()
    assert lines[0] == "Both <b>partners</b>" and set(lines[1]) == {"="}
    row = next(ln for ln in lines if ln.startswith("Messages sent"))
    head = next(ln for ln in lines if ln.rstrip().endswith("Jo"))
    assert len(row.rstrip()) <= len(head.rstrip())
    assert "Safety first" in text
    assert str(_hostile()) == text


def test_summary_as_html_escapes_everything_and_has_no_script() -> None:
    html = _hostile().as_html()
    for tag, attrs in html_tags(html):
        assert tag in TAGS, tag
        assert {a for a, _ in attrs} <= ATTRS, attrs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<caption>A &lt;table&gt;</caption>" in html
    assert '<section class="alert" role="alert">' in html
    for bad in ("style=", "onload", "onclick", "<style", "javascript:"):
        assert bad not in html
    assert _hostile()._repr_html_() == html


def test_summary_nests_a_part_summary_as_a_section() -> None:
    part = Summary("Patterns", [Text("a line")])
    whole = Summary("All", [Text("first"), part])
    assert isinstance(whole.blocks[1], Section) and whole.blocks[1].title == "Patterns"
    assert "Patterns\n--------\na line" in whole.as_text()
    assert "<h4>Patterns</h4>" in whole.as_html()


def test_summary_prints_as_its_text_in_rich() -> None:
    from rich.console import Console

    console = Console(width=80, record=True, color_system=None)
    console.print(Summary("T", [Text("[b]not markup[/b]")]), markup=False)
    assert "[b]not markup[/b]" in console.export_text()


def test_result_json_order_puts_named_keys_first() -> None:
    @dataclass(frozen=True)
    class Ordered(Result):
        a: int
        b: int
        c: int

        json_order: ClassVar[tuple[str, ...]] = ("c", "a")

    assert list(Ordered(1, 2, 3).to_dict()) == ["c", "a", "b"]
