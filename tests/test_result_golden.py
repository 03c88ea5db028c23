"""The JSON that ``heard analyze --json``, the report and the app read does not change by accident.

``tests/model/reference/demo-analysis.json`` and ``demo-whatif.json`` were written by the
hand-written ``to_dict``s, before every result derived its JSON from its fields; the analysis
of the demo conversation (its codes fixed in ``demo-safety-coded.jsonl``, so a coder's change
does not move them) must still give the same data, key for key. Floats are compared to 1e-9
(optimizers may differ in the last digits between machines); everything else exactly.

A deliberate change to the JSON regenerates the files: ``HEARD_REGENERATE_GOLDEN=1 pytest
tests/test_result_golden.py``, and the change is listed where it is committed.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import heard
from heard import dynamics as D

REFERENCE = Path(__file__).parent / "model" / "reference"
FIXED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _differences(want: Any, got: Any, path: str = "$") -> list[str]:
    if isinstance(want, float) or isinstance(got, float):
        if isinstance(want, (int, float)) and isinstance(got, (int, float)) \
                and not isinstance(want, bool) and not isinstance(got, bool) \
                and (math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-12)
                     or (math.isnan(want) and math.isnan(got))):
            return []
        return [f"{path}: {want!r} != {got!r}"]
    if type(want) is not type(got):
        return [f"{path}: {type(want).__name__} {want!r:.60} != {type(got).__name__} {got!r:.60}"]
    if isinstance(want, dict):
        out = [f"{path}.{k}: missing" for k in want.keys() - got.keys()]
        out += [f"{path}.{k}: added" for k in got.keys() - want.keys()]
        for k in want.keys() & got.keys():
            out += _differences(want[k], got[k], f"{path}.{k}")
        return out
    if isinstance(want, list):
        if len(want) != len(got):
            return [f"{path}: {len(want)} items != {len(got)}"]
        return [d for i, (a, b) in enumerate(zip(want, got, strict=True))
                for d in _differences(a, b, f"{path}[{i}]")]
    return [] if want == got else [f"{path}: {want!r:.80} != {got!r:.80}"]


def _check(name: str, got: dict[str, Any]) -> None:
    got = json.loads(json.dumps(got))  # what a reader of the file sees
    path = REFERENCE / name
    if os.environ.get("HEARD_REGENERATE_GOLDEN"):
        path.write_text(json.dumps(got, sort_keys=True, separators=(",", ":")) + "\n",
                        encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    diffs = _differences(want, got)
    assert not diffs, f"{len(diffs)} differences from {name}:\n" + "\n".join(diffs[:20])


@pytest.fixture(scope="module")
def corpus() -> heard.Corpus:
    return heard.load(REFERENCE / "demo-safety-coded.jsonl")


def test_results_golden_demo_analysis_json_is_unchanged(corpus) -> None:
    d = heard.analyze(corpus, given_codes=True, n_permutations=50, generated_at=FIXED).to_dict()
    assert d.pop("heard_version") == heard.__version__
    for imp in d["overview"]["imports"]:  # where the test runs from is not part of the data
        imp["path"] = Path(imp["path"]).name
    _check("demo-analysis.json", d)


def test_results_golden_demo_what_if_json_is_unchanged(corpus) -> None:
    res = D.what_if_model(corpus, [D.AddRepair("Dan", 0.5)], n_runs=60, seed=1, me="Maya")
    _check("demo-whatif.json", res.to_dict())


def test_results_golden_differences_are_found() -> None:
    """The comparison itself can fail: a changed, missing or retyped value is reported."""
    want = {"a": [1, 2.0, {"b": "x"}], "c": None}
    assert _differences(want, want) == []
    assert _differences(want, {"a": [1, 2.0 + 1e-6, {"b": "x"}], "c": None})
    assert _differences(want, {"a": [1, 2.0, {"b": "y"}], "c": None})
    assert _differences(want, {"a": [1, 2.0, {}], "c": None}) == ["$.a[2].b: missing"]
    assert _differences(want, {"a": [1, 2.0, {"b": "x"}], "c": 0})
    assert _differences({"n": 1}, {"n": True})
