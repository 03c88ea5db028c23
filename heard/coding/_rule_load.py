"""Loading rules, and the compiled form of the packaged ones that makes every start faster.

Compiling the packaged rules (about 900 phrase templates into 6,500 token patterns, and the
words each pattern needs) took most of a second at every start of every command. The result
ships as ``data/rules_compiled.json``, with a fingerprint of what it was compiled from: the
rule and lexicon files, spaCy's minor version (its tokenizer splits the templates) and this
module's format. :func:`load_rule_set` uses it only when the fingerprint matches and compiles
otherwise, so an edited rule is never served stale, only slower. After editing rules or
lexicons, write it again with ``python -m heard.coding._rule_load`` (a test fails until then).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import spacy

from heard.coding._matching import pattern_triggers
from heard.coding._rule_data import Rule, RuleSet, build_rule_set

__all__ = ["COMPILED", "compiled_text", "load_rule_set", "main", "packaged_fingerprint"]

#: Bumped whenever the compiled file's layout or what compiling produces changes.
FORMAT = 1
COMPILED = "rules_compiled.json"

Triggers = tuple[tuple[frozenset[str], ...], ...]


def load_rule_set(rules: str | Path | Sequence[Mapping[str, Any]] | None = None) -> RuleSet:
    """Read, validate and compile rules: the packaged ones (``None``), a ``.jsonl`` file or a
    folder of them, or a list of row dicts.

    Raises
    ------
    RuleSyntaxError
        E300, listing every bad row with its file and line.
    """
    if rules is None:
        return _packaged_rule_set()
    if isinstance(rules, str | Path):
        rows: Iterable[tuple[str, int, Any]] = _path_rows(Path(rules))
    else:
        rows = (("<rules>", i, row) for i, row in enumerate(rules, 1))
    return _with_triggers(build_rule_set(rows))


@cache
def _packaged_rule_set() -> RuleSet:
    files = _packaged_files()
    stored = _read_compiled(_fingerprint(files))
    if stored is None:
        return _with_triggers(build_rule_set(_packaged_rows(files)))
    words, patterns, triggers = stored
    rule_set = build_rule_set(_packaged_rows(files), words=words, compiled=patterns)
    return _with_triggers(rule_set, triggers)


def _with_triggers(rule_set: RuleSet, known: Mapping[str, Triggers] | None = None) -> RuleSet:
    def one(rule: Rule) -> Rule:
        triggers = (known or {}).get(rule.id)
        if triggers is None or len(triggers) != len(rule.patterns):
            triggers = tuple(pattern_triggers(p) for p in rule.patterns)
        return replace(rule, triggers=triggers)

    return replace(rule_set, rules=tuple(one(r) for r in rule_set.rules))


def _packaged_files() -> list[tuple[str, bytes]]:
    """``("rules/attack.jsonl", bytes)`` for every file the packaged rules compile from."""
    data = resources.files("heard.coding").joinpath("data")
    out: list[tuple[str, bytes]] = []
    for folder, suffix in (("rules", ".jsonl"), ("lexicons", ".json")):
        for entry in sorted(data.joinpath(folder).iterdir(), key=lambda p: p.name):
            if entry.name.endswith(suffix):
                out.append((f"{folder}/{entry.name}", entry.read_bytes()))
    return out


def _packaged_rows(files: Sequence[tuple[str, bytes]]) -> Iterable[tuple[str, int, str]]:
    for name, data in files:
        folder, _, file = name.partition("/")
        if folder == "rules":
            for i, text in enumerate(data.decode("utf-8").splitlines(), 1):
                yield file, i, text


def _path_rows(path: Path) -> Iterable[tuple[str, int, str]]:
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    for f in files:
        for i, text in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            yield f.name, i, text


def _fingerprint(files: Sequence[tuple[str, bytes]]) -> str:
    minor = ".".join(spacy.__version__.split(".")[:2])
    h = hashlib.sha256(f"heard rules format {FORMAT}; spaCy {minor}\n".encode())
    for name, data in files:
        # line endings normalized: a checkout that writes CRLF holds the same rules
        data = data.replace(b"\r\n", b"\n")
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def packaged_fingerprint() -> str:
    """The fingerprint the packaged rules have now (what ``rules_compiled.json`` must carry)."""
    return _fingerprint(_packaged_files())


def compiled_text(rule_set: RuleSet, fingerprint: str) -> str:
    """The compiled file for ``rule_set``: patterns and triggers, each word list stored once."""
    lists: dict[tuple[str, ...], int] = {}

    def ref(words: Iterable[str]) -> int:
        return lists.setdefault(tuple(words), len(lists))

    def token(t: Mapping[str, Any]) -> dict[str, Any] | str:
        norm = t.get("NORM")
        if isinstance(norm, str) and len(t) == 1:
            return norm  # most tokens are one word: {"NORM": "you"} is stored as "you"
        if not isinstance(norm, dict):
            return dict(t)
        return {**t, "NORM": {k: ref(v) if isinstance(v, list) else v for k, v in norm.items()}}

    with_patterns = [r for r in rule_set.rules if r.patterns]
    payload = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "note": "generated by `python -m heard.coding._rule_load`; do not edit",
        "words": {name: sorted(ws) for name, ws in sorted(rule_set.words.items())},
        "patterns": {r.id: [[token(t) for t in p] for p in r.patterns] for r in with_patterns},
        "triggers": {r.id: [[ref(sorted(ws)) for ws in key] for key in r.triggers]
                     for r in with_patterns},
    }
    payload["lists"] = [list(words) for words in lists]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n"


def _read_compiled(fingerprint: str) -> tuple[dict[str, frozenset[str]],
                                               dict[str, list[list[dict[str, Any]]]],
                                               dict[str, Triggers]] | None:
    """Words, patterns and triggers from the compiled file, or None unless it is current."""
    try:
        text = resources.files("heard.coding").joinpath("data", COMPILED).read_text("utf-8")
        data = json.loads(text)
        if data["format"] != FORMAT or data["fingerprint"] != fingerprint:
            return None
        lists = [list(words) for words in data["lists"]]
        sets = [frozenset(words) for words in lists]

        def token(t: str | dict[str, Any]) -> dict[str, Any]:
            if isinstance(t, str):
                return {"NORM": t}
            if isinstance(t.get("NORM"), dict):
                t["NORM"] = {k: lists[v] if isinstance(v, int) else v
                             for k, v in t["NORM"].items()}
            return t

        patterns = {rid: [[token(t) for t in p] for p in ps]
                    for rid, ps in data["patterns"].items()}
        words = {name: frozenset(ws) for name, ws in data["words"].items()}
        triggers = {rid: tuple(tuple(sets[i] for i in key) for key in keys)
                    for rid, keys in data["triggers"].items()}
        return words, patterns, triggers
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        # a missing or damaged file only costs the time to compile
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Write the compiled form of the packaged rules (to the package, or the path given)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else Path(__file__).parent / "data" / COMPILED
    files = _packaged_files()
    rule_set = _with_triggers(build_rule_set(_packaged_rows(files)))
    text = compiled_text(rule_set, _fingerprint(files))
    out.write_text(text, encoding="utf-8")
    n = sum(len(r.patterns) for r in rule_set.rules)
    print(f"wrote {out}: {len(rule_set.rules)} rules, {n:,} patterns, {len(text):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
