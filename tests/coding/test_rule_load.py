"""The compiled form of the packaged rules: current, equal to compiling, and never served stale."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from heard.coding import _rule_load
from heard.coding._matching import TriggeredMatcher, pattern_triggers
from heard.coding._rule_load import (
    COMPILED,
    compiled_text,
    load_rule_set,
    main,
    packaged_fingerprint,
)
from heard.coding._rules import RuleCoder

RULES = Path(str(resources.files("heard.coding").joinpath("data", "rules")))
SHIPPED = resources.files("heard.coding").joinpath("data", COMPILED)
REBUILD = "run `python -m heard.coding._rule_load` after editing rules or lexicons"


@pytest.fixture
def fresh_packaged() -> Iterator[None]:
    """Forget the packaged rule set this process loaded, before and after the test."""
    _rule_load._packaged_rule_set.cache_clear()
    yield
    _rule_load._packaged_rule_set.cache_clear()


def test_shipped_compiled_rules_are_current() -> None:
    """The shipped file is exactly what compiling the packaged rules gives now."""
    assert _rule_load._read_compiled(packaged_fingerprint()) is not None, REBUILD
    fresh = load_rule_set(RULES)
    assert SHIPPED.read_text("utf-8") == compiled_text(fresh, packaged_fingerprint()), REBUILD


def test_packaged_rules_from_the_compiled_file_equal_compiling_them() -> None:
    """Patterns, triggers, words and every other field are the same either way."""
    stored = load_rule_set()
    fresh = load_rule_set(RULES)
    assert stored.rules == fresh.rules
    assert dict(stored.words) == dict(fresh.words)
    assert sum(len(r.patterns) for r in stored.rules) > 5000
    assert all(len(r.triggers) == len(r.patterns) for r in stored.rules)


def test_a_stale_compiled_file_is_ignored(monkeypatch: pytest.MonkeyPatch,
                                          fresh_packaged: None) -> None:
    """A fingerprint from other rules (here: another format) means compiling again."""
    expected = load_rule_set(RULES).rules
    monkeypatch.setattr(_rule_load, "FORMAT", _rule_load.FORMAT + 1)
    assert _rule_load._read_compiled(packaged_fingerprint()) is None
    assert load_rule_set().rules == expected


def test_a_missing_compiled_file_only_costs_compiling(monkeypatch: pytest.MonkeyPatch,
                                                      fresh_packaged: None) -> None:
    monkeypatch.setattr(_rule_load, "COMPILED", "no_such_file.json")
    assert _rule_load._read_compiled(packaged_fingerprint()) is None
    coder = RuleCoder().fit()
    assert [c.name for c in coder.code_text("You always make everything about you.")] \
        == ["criticism"]


def test_main_writes_the_shipped_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compiled.json"
    assert main([str(out)]) == 0
    assert out.read_text("utf-8") == SHIPPED.read_text("utf-8")
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}: ") and " patterns, " in printed


def test_a_pattern_the_regexes_cannot_express_runs_on_spacy_matcher() -> None:
    """A bucket is built when a message first needs it, as spaCy's Matcher where it must be."""
    row = {"id": "bid.look", "code": "bid", "score": 0.9, "note": "test",
           "pattern": [{"LOWER": "look"}, {"LOWER": {"REGEX": "^at+$"}}, {"NORM": "this"}]}
    coder = RuleCoder(rules=[row]).fit()
    assert [c.name for c in coder.code_text("oh look attt this!")] == ["bid"]
    assert coder.code_text("look over there") == ()
    rule = coder.rule_set_.rules[0]
    assert rule.triggers == (pattern_triggers(rule.patterns[0]),)


def test_triggers_are_worked_out_when_a_rule_has_none() -> None:
    """Rules built elsewhere (no ``triggers``) are bucketed all the same."""
    rules = [replace(r, triggers=()) for r in load_rule_set().rules]
    with_none = TriggeredMatcher(rules)
    with_some = TriggeredMatcher(load_rule_set().rules)
    assert set(with_none._by_word) == set(with_some._by_word)
