"""One contract for every result type (scikit-learn's ``parametrize_with_checks``, for results).

Every :class:`heard.model.Result` in ``patterns``, ``dynamics`` and :class:`heard.Analysis` is
built for real from the demo conversation with two hostile sender names, then checked: its
``to_dict()`` is JSON and names exactly its declared fields, its ``summary()`` is a Summary
with text and HTML, and the HTML escapes the names (no script, no handler, no other tag).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _summary_html import ATTRS, TAGS, html_tags

import heard
from heard import dynamics as D
from heard import patterns as P  # noqa: F401  (its result types must be defined to be listed)
from heard._analysis import Analysis
from heard.model import Corpus, Message, Result, Summary, to_jsonable

REFERENCE = Path(__file__).parent / "model" / "reference"
DYAD = Path(__file__).parent / "dynamics" / "reference" / "dyad_couple.csv"
#: Two senders whose names try to run code in a page.
SCRIPT = "<script>alert(1)</script>"
BOLD = 'Jo <b onmouseover="x()">'


def _hostile_corpus() -> Corpus:
    text = (REFERENCE / "demo-safety-coded.jsonl").read_text(encoding="utf-8")
    text = text.replace('"sender": "Dan"', f'"sender": {json.dumps(SCRIPT)}')
    text = text.replace('"sender": "Maya"', f'"sender": {json.dumps(BOLD)}')
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    path = Path(__file__).parent / "_output" / "hostile-demo.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return heard.load(path)


def _walk(obj: Any, seen: set[int]) -> Iterator[Result]:
    """Every Result reachable from ``obj`` through fields, mappings and sequences."""
    if id(obj) in seen or isinstance(obj, (str, bytes, Message, Corpus, np.ndarray)):
        return
    seen.add(id(obj))
    if isinstance(obj, Result):
        yield obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _walk(getattr(obj, f.name), seen)
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from _walk(v, seen)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _walk(v, seen)


@pytest.fixture(scope="module")
def instances() -> dict[type, list[Result]]:
    corpus = _hostile_corpus()
    analysis = heard.analyze(corpus, given_codes=True, n_permutations=20)
    gm = analysis.dynamics.gottman_murray.overall
    couple = np.loadtxt(DYAD, delimiter=",", skiprows=1)
    roots: list[Any] = [
        analysis,
        D.what_if_model(corpus, [D.AddRepair(SCRIPT, 0.5)], n_runs=40, n_turns=20, me=BOLD),
        D.what_if_model(corpus, [D.LastingChange(BOLD, 0.5)], n_runs=20, n_turns=10,
                        suggest=False),
        D.WhatIfResult("insufficient_data", reason="too few turns to fit the model"),
        D.basins(gm, grid=9),
        D.smallest_change(gm, (-3.0, -3.0), partner=SCRIPT),
        D.fit_original(couple[:, 0], couple[:, 1], influence="bilinear"),
        D.CoupleParams(weeks=3, crisis_weeks=(), seed=2),
        D.build_turns(corpus)[:3],
    ]
    found: dict[type, list[Result]] = {}
    seen: set[int] = set()
    for root in roots:
        for r in _walk(root, seen):
            found.setdefault(type(r), []).append(r)
    return found


def _result_types() -> list[type]:
    out, todo = [], list(Result.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        # a slots dataclass replaces its class: keep the one its module holds
        if cls.__module__.startswith(("heard.patterns", "heard.dynamics", "heard._analysis")) \
                and getattr(sys.modules[cls.__module__], cls.__name__, None) is cls:
            out.append(cls)
    return sorted(set(out), key=lambda c: c.__name__)


RESULT_TYPES = _result_types()


def test_results_every_result_type_is_covered(instances) -> None:
    names = {c.__name__ for c in RESULT_TYPES}
    # the ones the issue names, so a type that stops deriving from Result is noticed here
    assert {"Analysis", "PatternResult", "SafetyResult", "DynamicsResult", "WhatIfResult",
            "LongArcResult", "GMResult", "GMAnalysis", "SequentialResult", "TrendResult",
            "OriginalResult", "SimulationResult", "Suggestion"} <= names
    missing = [c.__name__ for c in RESULT_TYPES if c not in instances]
    assert not missing, f"no instance built for {missing}"
    assert Analysis is heard.Analysis


def _expected_keys(obj: Result) -> set[str]:
    keys: set[str] = set()
    for f in dataclasses.fields(obj):
        spec = f.metadata.get("json")
        value = getattr(obj, f.name)
        if spec is None:
            keys.add(f.name)
        elif spec.omit or (spec.skip_none and value is None):
            continue
        elif spec.inline:
            keys |= set(to_jsonable(value) or {})
        else:
            keys.add(spec.name or f.name)
    return keys | set(type(obj).json_extra)


@pytest.mark.parametrize("cls", RESULT_TYPES, ids=lambda c: c.__name__)
def test_results_to_dict_is_json_of_the_declared_fields(cls, instances) -> None:
    for obj in instances[cls][:5]:
        d = obj.to_dict()
        back = json.loads(json.dumps(d))
        assert back.keys() == d.keys()
        if isinstance(obj, D.WhatIfResult) and obj.status != "ok":
            assert d == {"status": obj.status, "reason": obj.reason}
            continue
        assert set(d) == _expected_keys(obj), cls.__name__


@pytest.mark.parametrize("cls", RESULT_TYPES, ids=lambda c: c.__name__)
def test_results_summary_has_text_and_escaped_html(cls, instances) -> None:
    for obj in instances[cls][:5]:
        s = obj.summary()
        assert isinstance(s, Summary)
        text, html = s.as_text(), s.as_html()
        assert text.strip() and str(s) == text
        for tag, attrs in html_tags(html):
            assert tag in TAGS, (cls.__name__, tag)
            assert {a for a, _ in attrs} <= ATTRS, (cls.__name__, attrs)
        for name in (SCRIPT, BOLD):
            if name in text:
                assert name not in html
                assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
                    in html.replace("&quot;", '"')


def test_results_analysis_summary_opens_with_safety_and_names_both(instances) -> None:
    (analysis,) = instances[Analysis]
    text = analysis.summary().as_text()
    assert analysis.safety.triggered
    assert text.index("Safety first") < text.index("What was analyzed")
    assert SCRIPT in text and BOLD in text
    assert "not a diagnosis" in text
