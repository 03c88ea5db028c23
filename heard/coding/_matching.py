"""How the rule coder finds rule hits fast: patterns bucketed by the words they need.

A message runs only the buckets whose key words it contains (:class:`TriggeredMatcher`), and
a bucket runs its patterns as regular expressions over the token norms (:class:`_RegexBucket`)
where they allow it, else as a spaCy ``Matcher``. Which words a pattern needs
(:func:`pattern_triggers`) is worked out when rules are compiled; a bucket's regexes are
built the first time a message needs it, since a message runs only a few of thousands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from spacy.matcher import Matcher
from spacy.tokens import Doc

from heard.coding._negation import TokenView
from heard.coding._rule_data import Rule, shared_nlp

__all__ = ["TriggeredMatcher", "pattern_triggers"]


#: How many required words key a pattern's bucket: more keys, fewer buckets run per message.
TRIGGER_WORDS = 3

#: Whole-message patterns this short or shorter run only on messages with at most this many
#: content tokens (a whole-message match covers every content token).
SHORT_TOKENS = 6

#: Words so frequent that a pattern keyed on them would run on nearly every message.
_COMMON = frozenset(
    [
        "i", "you", "a", "an", "the", "is", "am", "are", "was", "were", "be", "been", "to",
        "it", "that", "this", "do", "not", "no", "me", "my", "we", "us", "our", "your", "and",
        "of", "in", "on", "so", "what", "will", "would", "can", "could", "have", "has", "had",
        "just", "for", "with", "at", "he", "she", "they", "them", "if", "but", "or", "why",
        "how",
    ]
)


class _RegexBucket:
    """Token patterns compiled to regular expressions over a message's token string.

    spaCy's ``Matcher`` builds a Python ``Token`` for every token at every call, which costs
    more than the matching when a message runs a few one-pattern buckets. A pattern of ``NORM``
    (a word or ``IN``/``NOT_IN`` lists), ``LIKE_NUM`` and the ``?`` / ``{0,n}`` operators is
    the same thing as a regular expression over the token norms written as `` norm`` each (a
    number's norm carries a ``\x01`` mark), and Python's ``re`` runs it in C. A lookahead
    finds a match at every token where one starts, like the Matcher; where the Matcher also
    reports shorter matches from the same start, the regex reports its greedy one, the longest
    for these patterns, which passes every hit filter whenever a shorter one does (anchors and
    negation look at the start, the "but" check and "whole" anchor at what follows the end).
    A test compares the two on every message of a corpus batch.
    """

    __slots__ = ("_compiled",)

    def __init__(self, sources: list[tuple[int, str]]) -> None:
        # built only when a message first needs the bucket (:class:`_Bucket`), so compile now
        self._compiled = [(key, re.compile(src)) for key, src in sources]

    @staticmethod
    def source(pattern: Sequence[Mapping[str, Any]]) -> str | None:
        """The regex of one Matcher pattern, or None when it uses anything else."""
        parts = []
        for token in pattern:
            op = token.get("OP")
            rest = set(token) - {"OP"}
            if rest == {"LIKE_NUM"} and token["LIKE_NUM"] is True:
                body = " [^ ]*\x01(?= )"
            elif rest == {"NORM"} and isinstance(token["NORM"], str):
                body = f" {re.escape(token['NORM'])}\x01?(?= )"
            elif rest == {"NORM"} and isinstance(token["NORM"], dict) \
                    and set(token["NORM"]) in ({"IN"}, {"NOT_IN"}):
                (kind, words), = token["NORM"].items()
                alts = _alternation(tuple(words))
                body = f" (?:{alts})\x01?(?= )" if kind == "IN" \
                    else f" (?!(?:{alts})\x01?(?= ))[^ ]+(?= )"
            else:
                return None
            if op is None:
                parts.append(body)
            elif op == "?":
                parts.append(f"(?:{body})?")
            elif isinstance(op, str) and re.fullmatch(r"\{0,\d+\}", op):
                parts.append(f"(?:{body}){op}")
            else:
                return None
        return "(?=(" + "".join(parts) + "))"

    def __call__(self, encoded: str, at: Mapping[int, int]) -> list[tuple[int, int, int]]:
        out: list[tuple[int, int, int]] = []
        for key, regex in self._compiled:
            for m in regex.finditer(encoded):
                a, b = m.span(1)
                if b > a:
                    out.append((key, at[a], at[b]))
        return out


def _encode(doc: Doc, view: TokenView) -> tuple[str, dict[int, int]]:
    """The message as `` norm`` per token (numbers marked), and char offset -> token index."""
    strings = doc.vocab.strings
    parts: list[str] = []
    at: dict[int, int] = {}
    pos = 0
    for i, (norm, num) in enumerate(zip(view.norms, view.numbers, strict=True)):
        text = strings[norm].replace(" ", "\x02").replace("\n", "\x02") or "\x02"
        piece = f" {text}\x01" if num else f" {text}"
        at[pos] = i
        parts.append(piece)
        pos += len(piece)
    at[pos] = len(parts)
    return "".join(parts) + " ", at


class TriggeredMatcher:
    """Token patterns split into buckets keyed by words every pattern in them needs.

    A single Matcher tries each of its thousands of patterns at every token. Here each pattern
    goes into the bucket of its ``TRIGGER_WORDS`` most selective required tokens (rare words
    first), and a message runs only the buckets whose key words it contains: the same matches
    at a fraction of the cost. A bucket is a :class:`_RegexBucket` where its patterns allow it,
    else a spaCy ``Matcher``. ``Rule.triggers`` gives each pattern's key words when the rules
    were loaded with them (the packaged rules are); otherwise they are worked out here.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        vocab = shared_nlp().vocab
        strings = vocab.strings
        grouped: dict[tuple[frozenset[str], ...], dict[str, list[list[dict[str, Any]]]]] = {}
        short: dict[str, list[list[dict[str, Any]]]] = {}
        for rule in rules:
            triggers = rule.triggers or tuple(pattern_triggers(p) for p in rule.patterns)
            for pattern, key in zip(rule.patterns, triggers, strict=True):
                if rule.anchor == "whole" and len(pattern) <= SHORT_TOKENS:
                    # whole-message rules can only match short messages: run them only there
                    short.setdefault(rule.id, []).append(list(pattern))
                    continue
                grouped.setdefault(key, {}).setdefault(rule.id, []).append(list(pattern))
        self._short = Matcher(vocab)
        for rule_id, patterns in short.items():
            self._short.add(rule_id, patterns)
        self._always: list[_Bucket] = []
        self._by_word: dict[int, list[tuple[tuple[frozenset[int], ...], _Bucket]]] = {}
        ids: dict[frozenset[str], frozenset[int]] = {}  # buckets share most word sets
        for key, by_rule in grouped.items():
            bucket = _Bucket(by_rule)
            if not key:
                self._always.append(bucket)
                continue
            hashed = tuple(ids.get(words) or ids.setdefault(
                words, frozenset(strings.add(w) for w in words)) for words in key)
            for word in hashed[0]:
                self._by_word.setdefault(word, []).append((hashed[1:], bucket))

    def __call__(self, doc: Doc, view: TokenView) -> list[tuple[int, int, int]]:
        present = set(view.norms)
        run: dict[int, Matcher | _RegexBucket] = {id(b): b.matcher() for b in self._always}
        if sum(view.content) <= SHORT_TOKENS and len(self._short):
            run[id(self._short)] = self._short
        by_word = self._by_word
        for norm in present:
            for rest, bucket in by_word.get(norm, ()):
                for words in rest:
                    if words.isdisjoint(present):
                        break
                else:
                    run[id(bucket)] = bucket.matcher()
        out: list[tuple[int, int, int]] = []
        encoded: tuple[str, dict[int, int]] | None = None
        for matcher in run.values():
            if isinstance(matcher, _RegexBucket):
                if encoded is None:
                    encoded = _encode(doc, view)
                out.extend(matcher(*encoded))
            else:
                out.extend(matcher(doc))
        return out


class _Bucket:
    """One bucket's patterns by rule id; its matcher is built the first time it runs."""

    __slots__ = ("_by_rule", "_matcher")

    def __init__(self, by_rule: dict[str, list[list[dict[str, Any]]]]) -> None:
        self._by_rule = by_rule
        self._matcher: Matcher | _RegexBucket | None = None

    def matcher(self) -> Matcher | _RegexBucket:
        if self._matcher is None:
            vocab = shared_nlp().vocab
            sources = [(vocab.strings.add(rule_id), _RegexBucket.source(p))
                       for rule_id, patterns in self._by_rule.items() for p in patterns]
            if all(src is not None for _, src in sources):
                self._matcher = _RegexBucket([(k, s) for k, s in sources if s is not None])
            else:
                matcher = Matcher(vocab)
                for rule_id, patterns in self._by_rule.items():
                    matcher.add(rule_id, patterns)
                self._matcher = matcher
        return self._matcher


def pattern_triggers(pattern: Sequence[Mapping[str, Any]]) -> tuple[frozenset[str], ...]:
    """The ``TRIGGER_WORDS`` most selective word sets of which ``pattern`` needs one word each,
    rarest first."""
    options: list[tuple[int, frozenset[str]]] = []
    for token in pattern:
        if token.get("OP") not in (None, "+") or set(token) - {"NORM", "OP"}:
            continue
        value = token.get("NORM")
        cost, words = _word_set((value,)) if isinstance(value, str) else (
            _word_set(tuple(value["IN"])) if isinstance(value, dict) and set(value) == {"IN"}
            else (0, frozenset()))
        if words and words not in (o[1] for o in options):
            options.append((cost, words))
    options.sort(key=lambda o: (o[0], sorted(o[1])))
    return tuple(o[1] for o in options[:TRIGGER_WORDS])


# The two below are cached because the packaged rules' ~6,500 patterns reuse the same few
# hundred word lists (lexicon slots): computing each once takes a third off every start.
@cache
def _alternation(words: tuple[str, ...]) -> str:
    """A regex alternation of ``words``, longest first (so "you are" wins over "you")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _word_set(words: tuple[str, ...]) -> tuple[int, frozenset[str]]:
    """How common a token needing one of ``words`` is (lower is rarer), and the words."""
    unique = frozenset(words)
    return sum(50 if w in _COMMON else 1 for w in unique), unique
