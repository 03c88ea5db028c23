"""Rule data: validate and compile the rule coder's rules, lexicons and context settings.

Reading them, and the compiled form the packaged rules ship in, is :mod:`heard.coding._rule_load`.

Everything that decides what the rule coder finds lives in data files under ``coding/data``:

- ``rules/<family>.jsonl``: one rule per line (schema below);
- ``lexicons/<name>.json``: ``{"name", "note", "words": [...]}`` word and phrase lists;
- ``lexicons/norms.json``: spelling normalization for texting (``u`` -> ``you``, ``ur`` ->
  ``you are``), so one rule covers "you're", "youre", "ur" and "your";
- ``context.json``: code groups, reply-window limits and the code-level resolution table that
  :mod:`heard.coding._context` applies.

Rule schema (one JSON object per line)::

    id          str, "<code>.<name>", unique              required
    code        one of the codebook's 24 codes              required
    phrases     list of phrase templates (see below)        one of phrases/pattern/lexicon
    pattern     a spaCy Matcher token pattern (list of dicts, matched on NORM/LOWER/...)
    lexicon     name of a phrase lexicon, matched whole (PhraseMatcher on NORM)
    score       number in (0, 1]: how sure this cue alone makes the code   required
    note        str: why the rule exists                                     required
    negatable   bool (false): a negator shortly before the match, same clause, cancels it
    contrast    bool (false): a "but"/"though" later in the same sentence cancels it
    anchor      "start" | "whole" (none): match must open the message / be all of it
    suppresses  list of codes: hits of these codes in the same ``scope`` are dropped
    scope       "sentence" (default) | "message": where ``suppresses`` reaches
    context     {"after": [code or "@group", ...], "mode": "require"|"boost"|"block",
                 "by": number (boost only), "unless_asked": bool (false)}: conditions on the
                other sender's previous message; ``unless_asked`` leaves the condition unmet
                when that message asked a question (an answer to a question is not a defense)

Phrase templates are whitespace-separated tokens matched on the token's normalized form:
``(a b|c)`` expands to alternatives (``(...)?`` adds the empty one), ``{lexicon}`` is any
single-token word of a lexicon (``{lexicon?}`` optional), ``{~N}`` skips 0..N tokens within
the sentence, ``{NUM}`` is a number. Every bad row is reported at once, with its file and line,
as one :class:`~heard.errors.RuleSyntaxError` (E300).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import spacy
from spacy.errors import MatchPatternError
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from heard.coding._codebook import packaged_json
from heard.errors import DataFileError, E, RuleSyntaxError
from heard.model import codebook

__all__ = [
    "ContextSpec",
    "Rule",
    "RuleSet",
    "build_rule_set",
    "context_settings",
    "lexicon_norms",
    "lexicons",
    "norm_overrides",
    "normalize",
    "shared_nlp",
    "token_flags",
]

_KEYS = {"id", "code", "phrases", "pattern", "lexicon", "score", "note", "negatable",
         "contrast", "anchor", "suppresses", "scope", "context"}
_ID = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")
_MAX_EXPANSIONS = 400
SENTENCE_END = (".", "!", "?", ";", "\n", "...", "..", "?!", "!?")


@dataclass(frozen=True, slots=True)
class ContextSpec:
    """A rule's condition on the other sender's previous message."""

    after: frozenset[str]
    mode: str
    by: float = 0.0
    unless_asked: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule. ``patterns`` are Matcher token patterns; ``phrases`` go to a
    PhraseMatcher (a lexicon rule). ``triggers``, when set, has one entry per pattern: the
    word sets of which the pattern needs one word each (see :mod:`heard.coding._matching`)."""

    id: str
    code: str
    score: float
    note: str
    patterns: tuple[tuple[dict[str, Any], ...], ...] = ()
    phrases: tuple[str, ...] = ()
    negatable: bool = False
    contrast: bool = False
    anchor: str | None = None
    suppresses: frozenset[str] = frozenset()
    scope: str = "sentence"
    context: ContextSpec | None = None
    file: str = "<rules>"
    line: int = 0
    triggers: tuple[tuple[frozenset[str], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Validated rules plus the word lists and context settings they rely on."""

    rules: tuple[Rule, ...]
    words: Mapping[str, frozenset[str]]
    settings: Mapping[str, Any]


@cache
def lexicons() -> dict[str, tuple[str, ...]]:
    """Every packaged lexicon: name -> words/phrases (lower-case, as written)."""
    folder = resources.files("heard.coding").joinpath("data", "lexicons")
    out: dict[str, tuple[str, ...]] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json") or entry.name == "norms.json":
            continue
        data = packaged_json("lexicons", entry.name, error="E302")
        try:
            words = tuple(str(w).lower() for w in data["words"])
            out[str(data["name"])] = words
        except (KeyError, TypeError) as exc:
            raise DataFileError.from_code("E302", file=entry.name, detail=exc) from exc
    return out


@cache
def _norms() -> dict[str, Any]:
    return packaged_json("lexicons", "norms.json", error="E302")


@cache
def shared_nlp() -> Language:
    """One blank English pipeline (tokenizer only), created once per process.

    Two lexeme flags are registered on its vocabulary (see :func:`token_flags`).
    """
    nlp = spacy.blank("en")
    _FLAGS.append(nlp.vocab.add_flag(lambda s: _ALNUM.search(s) is not None))
    _FLAGS.append(nlp.vocab.add_flag(
        lambda s: s in SENTENCE_END or "\n" in s or (bool(s) and not s.strip(".!?…"))))
    return nlp


_ALNUM = re.compile(r"[^\W_]")
_FLAGS: list[int] = []


def token_flags() -> tuple[int, int]:
    """Attribute ids of two lexeme flags: *has a letter or digit*, *ends a sentence*."""
    shared_nlp()
    return _FLAGS[0], _FLAGS[1]


def norm_overrides() -> dict[str, str]:
    """Texting spellings -> the norm rules are written in (``lexicons/norms.json``)."""
    return _norms()["overrides"]


def normalize(doc: Doc) -> Doc:
    """Rewrite token norms for texting spellings ("u", "im", "'s") in place; return ``doc``."""
    overrides = norm_overrides()
    for tok in doc:
        new = overrides.get(tok.norm_)
        if new is not None:
            tok.norm_ = new
    return doc


@cache
def _norm_tokens(text: str) -> tuple[str, ...]:
    # cached: the packaged templates tokenize the same few thousand chunks ~28,000 times
    return tuple(t.norm_ for t in normalize(shared_nlp().make_doc(text)) if not t.is_space)


def _split_groups(template: str) -> list[tuple[str, list[str] | None, bool]]:
    """Cut a template into literal text and top-level ``(a|b)`` groups (which may nest)."""
    parts: list[tuple[str, list[str] | None, bool]] = []
    depth, pos, group_start, alts, alt_start = 0, 0, 0, [], 0
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "(":
            if depth == 0:
                parts.append((template[pos:i], None, False))
                group_start, alts, alt_start = i, [], i + 1
            depth += 1
        elif ch == "|" and depth == 1:
            alts.append(template[alt_start:i])
            alt_start = i + 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced parentheses in {template!r}")
            if depth == 0:
                alts.append(template[alt_start:i])
                optional = template[i + 1:i + 2] == "?"
                parts.append((template[group_start:i + 1], alts, optional))
                i += 1 if optional else 0
                pos = i + 1
        i += 1
    if depth:
        raise ValueError(f"unbalanced parentheses in {template!r}")
    parts.append((template[pos:], None, False))
    return parts


def _expand(template: str) -> list[str]:
    """Expand ``(a|b c)`` groups (nested too) into every combination of alternatives."""
    choices: list[list[str]] = []
    for text, alts, optional in _split_groups(template):
        if alts is None:
            choices.append([text])
            continue
        simple = all("(" not in a and "{" not in a for a in alts)
        norms = [_norm_tokens(a) for a in alts] if simple else []
        if simple and all(len(n) == 1 for n in norms):
            # one-token alternatives stay one pattern token: far fewer patterns to match
            choice = "|".join(sorted({n[0] for n in norms}))
            choices.append([f" {{={choice}{'?' if optional else ''}}} "])
            continue
        expanded = [e for a in alts for e in _expand(a)]
        choices.append([*expanded, ""] if optional else expanded)
    combos = 1
    for c in choices:
        combos *= len(c)
    if combos > _MAX_EXPANSIONS:
        raise ValueError(
            f"template {template!r} expands to {combos} phrases (max {_MAX_EXPANSIONS})")
    return [" ".join(" ".join(c).split()) for c in itertools.product(*choices)]


def _compile_template(template: str, words: Mapping[str, frozenset[str]]) -> list[list[dict]]:
    """One template -> Matcher patterns (several when joined spellings add variants)."""
    out: list[list[dict]] = []
    for phrase in _expand(template):
        tokens: list[dict[str, Any]] = []
        for chunk in phrase.split():
            if chunk.startswith("{") and chunk.endswith("}"):
                tokens.append(_slot(chunk[1:-1], words))
            else:
                tokens.extend({"NORM": n} for n in _norm_tokens(chunk))
        if not any("OP" not in t for t in tokens):
            raise ValueError(f"template {template!r} has an empty or all-optional phrase")
        out.extend(_joined_variants(tokens))
    return out


def _slot(name: str, words: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    optional = name.endswith("?")
    name = name.rstrip("?")
    if name.startswith("~") and name[1:].isdigit():
        return {"NORM": {"NOT_IN": list(SENTENCE_END)}, "OP": f"{{0,{int(name[1:])}}}"}
    if name.startswith("="):
        token: dict[str, Any] = {"NORM": {"IN": name[1:].split("|")}}
    elif name == "NUM":
        token = {"LIKE_NUM": True}
    elif name in words:
        multi = sorted(w for w in words[name] if " " in w)
        if multi:
            raise ValueError(f"lexicon '{name}' used as a slot has multi-word entries {multi[:3]}")
        token = {"NORM": {"IN": sorted(words[name])}}
    else:
        raise ValueError(f"unknown lexicon or slot '{{{name}}}'; lexicons: {sorted(words)}")
    if optional:
        token["OP"] = "?"
    return token


def _joined_variants(tokens: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Add variants where a two-word sequence ("you are") is typed as one word ("ur")."""
    joined = _joined_pairs()
    found: list[tuple[int, int, list[str]]] = []
    for i in range(len(tokens) - 1):
        a, b = tokens[i].get("NORM"), tokens[i + 1].get("NORM")
        if isinstance(a, str) and isinstance(b, str) and "OP" not in tokens[i]:
            hit = joined.get((a, b))
            if hit is not None:
                found.append((hit[0], i, hit[1]))
    # in the order of norms.json, then of position: the patterns come out as they always have
    return [tokens, *([*tokens[:i], {"NORM": {"IN": singles}}, *tokens[i + 2:]]
                      for _, i, singles in sorted(found, key=lambda f: f[:2]))]


@cache
def _joined_pairs() -> dict[tuple[str, str], tuple[int, list[str]]]:
    """("you", "are") -> (its place in ``norms.json``, the one-word spellings ["ur", ...])."""
    out: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for n, (pair, singles) in enumerate(_norms()["joined"].items()):
        first, second = pair.split()
        out[(first, second)] = (n, singles)
    return out


def _groups() -> dict[str, list[str]]:
    return _context_settings()["groups"]


@cache
def _context_settings() -> dict[str, Any]:
    return packaged_json("context.json", error="E302")


def context_settings() -> dict[str, Any]:
    """``coding/data/context.json``: code groups, the reply window, resolution, ordinary talk."""
    return _context_settings()


def _check_codes(values: Any, field: str, names: set[str], allow_groups: bool) -> list[str]:
    if not isinstance(values, list) or not values:
        raise ValueError(f"'{field}' must be a non-empty list of codes")
    out: list[str] = []
    for v in values:
        if allow_groups and isinstance(v, str) and v.startswith("@"):
            if v[1:] not in _groups():
                raise ValueError(
                    f"unknown code group '{v}' in '{field}'; groups: {sorted(_groups())}")
            out.extend(_groups()[v[1:]])
        elif v in names:
            out.append(v)
        else:
            raise ValueError(f"unknown code {v!r} in '{field}'")
    return out


def _build(row: Any, file: str, line: int, words: Mapping[str, frozenset[str]],
           phrase_lexicons: Mapping[str, tuple[str, ...]],
           compiled: Sequence[Sequence[dict[str, Any]]] | None = None) -> Rule:
    """Validate one row and compile it; raise ValueError naming the first problem.

    ``compiled``: the patterns its phrase templates compile to, when already known.
    """
    if not isinstance(row, dict):
        raise ValueError("a rule row must be a JSON object")
    unknown = sorted(set(row) - _KEYS)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; allowed: {sorted(_KEYS)}")
    names = set(codebook().names)
    rid, code = row.get("id"), row.get("code")
    if code not in names:
        raise ValueError(f"'code' must be one of the codebook's codes, not {code!r}")
    if not isinstance(rid, str) or not _ID.match(rid) or not rid.startswith(code + "."):
        raise ValueError(f"'id' must look like '{code}.some_name', not {rid!r}")
    score = row.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 < score <= 1:
        raise ValueError(f"'score' must be a number in (0, 1], not {score!r}")
    note = row.get("note")
    if not isinstance(note, str) or not note.strip():
        raise ValueError("'note' must say why the rule exists")
    for flag in ("negatable", "contrast"):
        if not isinstance(row.get(flag, False), bool):
            raise ValueError(f"'{flag}' must be true or false")
    if row.get("anchor") not in (None, "start", "whole"):
        raise ValueError("'anchor' must be \"start\" or \"whole\"")
    if row.get("scope", "sentence") not in ("sentence", "message"):
        raise ValueError("'scope' must be \"sentence\" or \"message\"")
    suppresses = _check_codes(row["suppresses"], "suppresses", names, False) \
        if "suppresses" in row else []
    context = _context_spec(row["context"], names) if "context" in row else None
    kinds = [k for k in ("phrases", "pattern", "lexicon") if k in row]
    if len(kinds) != 1:
        raise ValueError("a rule needs exactly one of 'phrases', 'pattern' or 'lexicon'")
    patterns: list[list[dict]] = []
    phrases: tuple[str, ...] = ()
    if "phrases" in row:
        items = row["phrases"]
        if not isinstance(items, list) or not items or not all(
                isinstance(p, str) and p.strip() for p in items):
            raise ValueError("'phrases' must be a non-empty list of non-empty strings")
        if compiled is not None:
            patterns = [list(p) for p in compiled]
        else:
            for template in items:
                patterns.extend(_compile_template(template, words))
    elif "pattern" in row:
        pattern = row["pattern"]
        if not isinstance(pattern, list) or not pattern or not all(
                isinstance(t, dict) for t in pattern):
            raise ValueError("'pattern' must be a non-empty list of token objects")
        try:
            Matcher(shared_nlp().vocab, validate=True).add(rid, [pattern])
        except (MatchPatternError, ValueError, TypeError) as exc:
            raise ValueError("invalid spaCy token pattern: " + " ".join(str(exc).split())) from exc
        patterns.append(pattern)
    else:
        if row["lexicon"] not in phrase_lexicons:
            raise ValueError(
                f"unknown lexicon {row['lexicon']!r}; lexicons: {sorted(phrase_lexicons)}")
        phrases = phrase_lexicons[row["lexicon"]]
    return Rule(
        id=rid, code=code, score=float(score), note=note,
        patterns=tuple(tuple(p) for p in patterns), phrases=phrases,
        negatable=row.get("negatable", False), contrast=row.get("contrast", False),
        anchor=row.get("anchor"), suppresses=frozenset(suppresses),
        scope=row.get("scope", "sentence"), context=context, file=file, line=line,
    )


def _context_spec(spec: Any, names: set[str]) -> ContextSpec:
    if not isinstance(spec, dict) or set(spec) - {"after", "mode", "by", "unless_asked"}:
        raise ValueError("'context' must be an object with 'after', 'mode' and optional 'by' "
                         "and 'unless_asked'")
    mode = spec.get("mode", "require")
    if mode not in ("require", "boost", "block"):
        raise ValueError("context 'mode' must be require, boost or block")
    by = spec.get("by", 0.0)
    if not isinstance(by, int | float) or not -1 <= by <= 1 or (mode == "boost" and by == 0):
        raise ValueError("context 'by' must be a number in [-1, 1], non-zero for boost")
    after = _check_codes(spec.get("after"), "context.after", names, True)
    unless_asked = spec.get("unless_asked", False)
    if not isinstance(unless_asked, bool):
        raise ValueError("context 'unless_asked' must be true or false")
    return ContextSpec(after=frozenset(after), mode=mode, by=float(by),
                       unless_asked=unless_asked)


def lexicon_norms() -> dict[str, frozenset[str]]:
    """Every lexicon's entries as the token norms rules are matched on ("you're" -> "you are")."""
    return {name: frozenset(" ".join(_norm_tokens(w)) for w in ws)
            for name, ws in lexicons().items()}


def build_rule_set(rows: Iterable[tuple[str, int, Any]], *,
                   words: Mapping[str, frozenset[str]] | None = None,
                   compiled: Mapping[str, Sequence[Sequence[dict[str, Any]]]] | None = None,
                   ) -> RuleSet:
    """Validate and compile ``(file, line, JSON text or row dict)`` rows into a :class:`RuleSet`.

    ``words`` (:func:`lexicon_norms`) and ``compiled`` (rule id -> patterns of its phrase
    templates) skip the compiling where they are known to be current.

    Raises
    ------
    RuleSyntaxError
        E300, listing every bad row with its file and line.
    """
    raw = lexicons()
    if words is None:
        words = lexicon_norms()
    problems: list[str] = []
    built: list[Rule] = []
    seen: dict[str, str] = {}
    for file, line, item in rows:
        if isinstance(item, str):
            if not item.strip():
                continue
            try:
                item = json.loads(item)
            except ValueError as exc:
                problems.append(E.E301.format(file=file, line=line, detail=f"not JSON ({exc})"))
                continue
        try:
            rid = item.get("id") if isinstance(item, dict) else None
            known = compiled.get(rid) if compiled and isinstance(rid, str) else None
            rule = _build(item, file, line, words, raw, known)
        except ValueError as exc:
            problems.append(E.E301.format(file=file, line=line, detail=exc))
            continue
        if rule.id in seen:
            detail = f"duplicate id {rule.id!r} (first at {seen[rule.id]})"
            problems.append(E.E301.format(file=file, line=line, detail=detail))
            continue
        seen[rule.id] = f"{file} line {line}"
        built.append(rule)
    if problems:
        raise RuleSyntaxError.from_code("E300", count=len(problems), problems="; ".join(problems))
    return RuleSet(rules=tuple(built), words=words, settings=_context_settings())
