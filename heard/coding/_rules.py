"""The rule coder: explainable, data-driven coding of every message with spaCy matchers.

How a message is coded
----------------------
1. The text is tokenized by a blank English spaCy pipeline and its token norms normalized for
   texting ("u" -> you, "im" -> i am; see ``lexicons/norms.json``).
2. Token patterns (phrase templates and patterns, spaCy ``Matcher`` syntax) and a
   ``PhraseMatcher`` on ``NORM`` (lexicon rules) find every rule hit, see
   :mod:`heard.coding._rule_data` for the rule schema. Patterns are bucketed by the words they
   need and run as regular expressions over the token norms (``_RegexBucket``: the same hits
   as spaCy's ``Matcher``, about twice as fast; a test checks both agree).
3. Each hit is checked (:mod:`heard.coding._negation`, :mod:`heard.coding._context`): its
   anchor, negation (``negatable`` rules), a later "but" (``contrast`` rules) and the rule's
   condition on the other sender's previous message. Surviving hits of rules with
   ``suppresses`` then remove the hits of the codes they name in the same sentence (or message).
4. **Score combination**, the one rule: a code's score is the noisy-OR of the scores of the
   distinct rules that fired for it, each rule's score first shifted by its context boost and
   clipped to [0, 1]::

       score(code) = 1 - prod over fired rules r of (1 - clip(score_r + boost_r))

   A rule that matches twice counts once; two weak cues (0.35 each) together pass 0.5.
5. The ``resolve`` table of ``context.json`` drops codes outranked by another code present at
   ``context_threshold``; codes with score >= ``threshold`` are returned, in codebook order,
   with their evidence spans (merged, exact character offsets) and the ids of the rules fired.

``safety_risk`` rules favor recall: they are high-scoring and mostly not negatable, because a
missed threat costs far more than a second look at a false alarm.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from heard.coding._context import (
    CONTEXT_OTHER,
    CONTEXT_SELF,
    NO_TURN,
    ContextTracker,
    Turn,
    context_factor,
    resolve,
)
from heard.coding._negation import TokenView, token_view
from heard.coding._rule_data import (
    Rule,
    RuleSet,
    load_rule_set,
    norm_overrides,
    normalize,
    shared_nlp,
)
from heard.coding._spans import merge_spans
from heard.model import Code, Corpus, Evidence, Message, Step, codebook

__all__ = ["RuleCoder"]

_CODED_KINDS = frozenset({"text"})
#: ``transform`` reports progress once per this many messages.
_PROGRESS_EVERY = 64



class RuleCoder(Step):
    """Code every message with the packaged (or given) rules.

    Parameters
    ----------
    threshold : float
        Codes scoring at least this are returned.
    rules : None, path or list of dict
        ``None`` for the packaged rules; a ``.jsonl`` file or folder of them; or row dicts.
    output_field : str
        The ``message.annotations`` key written by :meth:`transform`.
    use_context : bool
        Whether the other sender's previous message is taken into account.

    Attributes
    ----------
    rule_set_ : RuleSet
        The validated rules, after :meth:`fit`.

    Examples
    --------
    >>> coder = RuleCoder().fit(Corpus())
    >>> [c.name for c in coder.code_text("You always make everything about you.")]
    ['criticism']
    """

    requires: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, *, threshold: float = 0.5,
                 rules: str | Path | Sequence[Mapping[str, Any]] | None = None,
                 output_field: str = "codes", use_context: bool = True) -> None:
        self.threshold = threshold
        self.rules = rules
        self.output_field = output_field
        self.use_context = use_context

    # -- fitting -------------------------------------------------------------------------
    def fit(self, corpus: Corpus | None = None) -> Self:
        """Load, validate and compile the rules; return ``self``."""
        nlp = shared_nlp()
        rule_set = load_rule_set(self.rules)
        phrase_matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        for rule in rule_set.rules:
            if rule.phrases:
                phrase_matcher.add(rule.id, [normalize(nlp.make_doc(p)) for p in rule.phrases])
        self.rule_set_: RuleSet = rule_set
        self._by_key = {nlp.vocab.strings[r.id]: r for r in rule_set.rules}
        self._matcher = _TriggeredMatcher(rule_set.rules)
        self._phrase_matcher = phrase_matcher
        words, strings = rule_set.words, nlp.vocab.strings
        self._negators = frozenset(strings.add(w) for w in words["negators"])
        # a comma ends a clause for negation scope, like the conjunctions
        self._breaks = frozenset(strings.add(w) for w in (*words["clause_breaks"], ","))
        self._contrast = frozenset(strings.add(w) for w in words["contrast"])
        self._overrides = {strings.add(a): strings.add(b) for a, b in norm_overrides().items()}
        self._order = {name: i for i, name in enumerate(codebook().names)}
        self._mark_fitted()
        return self

    # -- coding --------------------------------------------------------------------------
    def transform(self, corpus: Corpus, *,
                  progress: Callable[[int, int], None] | None = None) -> Corpus:
        """Write ``annotations[output_field]`` for every message, walking conversations in order.

        Events, attachments and deleted messages get ``()``. ``progress(done, total)``, when
        given, is called now and then with the number of messages coded so far.
        """
        for m, codes in self.score(corpus, progress=progress):
            m.annotations[self.output_field] = codes
        return corpus

    def score(self, corpus: Corpus, *, progress: Callable[[int, int], None] | None = None
              ) -> Iterator[tuple[Message, tuple[Code, ...]]]:
        """Each message with its codes, in corpus order, writing nothing.

        The model-based coders read the rules' scores as features through this, so one rule
        coder can serve several of them at once (the app's check runs in a thread pool).
        """
        self.check_fitted()
        settings = self.rule_set_.settings
        tokenizer = shared_nlp().tokenizer
        total, done = len(corpus), 0
        for conv in corpus.conversations:
            coded = [m for m in conv.messages if m.kind in _CODED_KINDS and m.is_human]
            docs = iter(tokenizer.pipe((m.text for m in coded), batch_size=256))
            tracker = ContextTracker(settings)
            for m in conv.messages:
                done += 1
                if progress is not None and done % _PROGRESS_EVERY == 0:
                    progress(done, total)
                if m.kind not in _CODED_KINDS or not m.is_human:
                    yield m, ()
                    continue
                turn = tracker.turn_for(m.sender, m.timestamp) if self.use_context else NO_TURN
                codes, context_codes = self._code_doc(next(docs), turn)
                yield m, codes
                tracker.add(m.sender, m.timestamp, context_codes, asked="?" in m.text)
        if progress is not None:
            progress(total, total)

    def code_text(self, text: str, *, context: Sequence[Message | str] | None = None,
                  sender: str | None = None) -> tuple[Code, ...]:
        """Code one string, given the earlier messages of its conversation.

        Parameters
        ----------
        text : str
        context : sequence of Message or str, optional
            Earlier messages, oldest first. Plain strings are taken as the other person's.
            A message that already carries codes under ``output_field`` is not recoded.
        sender : str, optional
            Who writes ``text``; context messages by this sender are the writer's own.
        """
        self.check_fitted()
        tracker = ContextTracker(self.rule_set_.settings)
        if context and self.use_context:
            for item in context:
                if isinstance(item, str):
                    who, when, msg_text, known = CONTEXT_OTHER, None, item, None
                else:
                    who, when, msg_text = item.sender, item.timestamp, item.text
                    known = item.annotations.get(self.output_field)
                    if item.kind not in _CODED_KINDS:
                        continue
                if known is not None:
                    names = frozenset(c.name for c in known)
                else:
                    doc = shared_nlp().make_doc(msg_text)
                    names = self._code_doc(doc, tracker.turn_for(who, when))[1]
                tracker.add(who, when, names, asked="?" in msg_text)
        turn = tracker.turn_for(sender if sender is not None else CONTEXT_SELF, None) \
            if self.use_context else NO_TURN
        return self._code_doc(shared_nlp().make_doc(text), turn)[0]

    def _hits(self, doc: Doc, view: TokenView, turn: Turn) -> list[tuple[Rule, int, int, float]]:
        matches = self._matcher(doc, view) + self._phrase_matcher(doc)
        hits: list[tuple[Rule, int, int, float]] = []
        for key, start, end in matches:
            rule = self._by_key[key]
            if not view.anchored(start, end, rule.anchor):
                continue
            if rule.negatable and view.is_negated(start, self._negators, self._breaks):
                continue
            if rule.contrast and view.contrast_after(end, self._contrast):
                continue
            shift = context_factor(rule.context, turn)
            if shift is None:
                continue
            hits.append((rule, start, end, shift))
        suppressors = [h for h in hits if h[0].suppresses]
        if not suppressors:
            return hits
        kept = []
        for hit in hits:
            rule, start = hit[0], hit[1]
            if any(rule.code in s.suppresses and s is not rule and (
                    s.scope == "message" or view.sentence[start] == view.sentence[s_start])
                   for s, s_start, _, _ in suppressors):
                continue
            kept.append(hit)
        return kept

    def _code_doc(self, doc: Doc, turn: Turn) -> tuple[tuple[Code, ...], frozenset[str]]:
        """Codes at ``threshold`` and the code names at ``context_threshold`` of one doc."""
        if not len(doc):
            return (), frozenset()
        view = token_view(doc, self._overrides)
        by_code: dict[str, dict[str, float]] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        for rule, start, end, shift in self._hits(doc, view, turn):
            score = min(1.0, max(0.0, rule.score + shift))
            fired = by_code.setdefault(rule.code, {})
            fired[rule.id] = max(score, fired.get(rule.id, 0.0))
            spans.setdefault(rule.code, []).append((doc[start].idx, view.ends[end - 1]))
        scores: dict[str, float] = {}
        for code, fired in by_code.items():
            miss = 1.0
            for s in fired.values():
                miss *= 1.0 - s
            scores[code] = 1.0 - miss
        settings = self.rule_set_.settings
        floor = float(settings["context_threshold"])
        present = {c for c, s in scores.items() if s >= floor}
        for dropped in resolve(present, settings["resolve"]):
            del scores[dropped]
        text = doc.text
        codes = tuple(
            Code(name=code, score=round(scores[code], 4),
                 evidence=tuple(Evidence(a, b, text[a:b]) for a, b in merge_spans(spans[code])),
                 rule_ids=tuple(sorted(by_code[code])))
            for code in sorted(scores, key=self._order.__getitem__)
            if scores[code] >= self.threshold
        )
        return codes, frozenset(c for c, s in scores.items() if s >= floor)


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

    __slots__ = ("_compiled", "sources")

    def __init__(self, sources: list[tuple[int, str]]) -> None:
        self.sources = sources
        # compiled on first use: a message runs a few of the thousands of buckets, and compiling
        # them all would add a second to every start
        self._compiled: list[tuple[int, re.Pattern[str]]] | None = None

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
                alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
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
        if self._compiled is None:
            self._compiled = [(key, re.compile(src)) for key, src in self.sources]
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


class _TriggeredMatcher:
    """Token patterns split into buckets keyed by words every pattern in them needs.

    A single Matcher tries each of its thousands of patterns at every token. Here each pattern
    goes into the bucket of its two most selective required tokens (rare words first), and a
    message runs only the buckets whose key words it contains: the same matches at a fraction
    of the cost. A bucket is a :class:`_RegexBucket` where its patterns allow it, else a spaCy
    ``Matcher``.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        vocab = shared_nlp().vocab
        strings = vocab.strings
        grouped: dict[tuple[frozenset[str], ...], dict[str, list[list[dict[str, Any]]]]] = {}
        short: dict[str, list[list[dict[str, Any]]]] = {}
        for rule in rules:
            for pattern in rule.patterns:
                if rule.anchor == "whole" and len(pattern) <= SHORT_TOKENS:
                    # whole-message rules can only match short messages: run them only there
                    short.setdefault(rule.id, []).append(list(pattern))
                    continue
                key = _trigger(pattern)
                grouped.setdefault(key, {}).setdefault(rule.id, []).append(list(pattern))
        self._short = Matcher(vocab)
        for rule_id, patterns in short.items():
            self._short.add(rule_id, patterns)
        self._always: list[Matcher | _RegexBucket] = []
        self._by_word: dict[int, list[tuple[tuple[frozenset[int], ...],
                                            Matcher | _RegexBucket]]] = {}
        for key, by_rule in grouped.items():
            sources = [(strings.add(rule_id), _RegexBucket.source(p))
                       for rule_id, patterns in by_rule.items() for p in patterns]
            matcher: Matcher | _RegexBucket
            if all(src is not None for _, src in sources):
                matcher = _RegexBucket([(k, src) for k, src in sources if src is not None])
            else:
                matcher = Matcher(vocab)
                for rule_id, patterns in by_rule.items():
                    matcher.add(rule_id, patterns)
            if not key:
                self._always.append(matcher)
                continue
            hashed = tuple(frozenset(strings.add(w) for w in words) for words in key)
            for word in hashed[0]:
                self._by_word.setdefault(word, []).append((hashed[1:], matcher))

    def __call__(self, doc: Doc, view: TokenView) -> list[tuple[int, int, int]]:
        present = set(view.norms)
        run: dict[int, Matcher | _RegexBucket] = {id(m): m for m in self._always}
        if sum(view.content) <= SHORT_TOKENS and len(self._short):
            run[id(self._short)] = self._short
        by_word = self._by_word
        for norm in present:
            for rest, matcher in by_word.get(norm, ()):
                for words in rest:
                    if words.isdisjoint(present):
                        break
                else:
                    run[id(matcher)] = matcher
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


def _trigger(pattern: Sequence[Mapping[str, Any]]) -> tuple[frozenset[str], ...]:
    """The two most selective word sets of which ``pattern`` needs one word each, rarest first."""
    options: list[tuple[int, frozenset[str]]] = []
    for token in pattern:
        if token.get("OP") not in (None, "+") or set(token) - {"NORM", "OP"}:
            continue
        value = token.get("NORM")
        words = frozenset([value]) if isinstance(value, str) else (
            frozenset(value.get("IN", ())) if isinstance(value, dict) and set(value) == {"IN"}
            else frozenset())
        if words and words not in (o[1] for o in options):
            options.append((sum(50 if w in _COMMON else 1 for w in words), words))
    options.sort(key=lambda o: (o[0], sorted(o[1])))
    return tuple(o[1] for o in options[:TRIGGER_WORDS])

