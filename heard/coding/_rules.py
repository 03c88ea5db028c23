"""The rule coder: explainable, data-driven coding of every message with spaCy matchers.

How a message is coded
----------------------
1. The text is tokenized by a blank English spaCy pipeline and its token norms normalized for
   texting ("u" -> you, "im" -> i am; see ``lexicons/norms.json``).
2. Token patterns (phrase templates and patterns, spaCy ``Matcher`` syntax) and a
   ``PhraseMatcher`` on ``NORM`` (lexicon rules) find every rule hit, see
   :mod:`heard.coding._rule_data` for the rule schema. Patterns are bucketed by the words they
   need and run as regular expressions over the token norms (:mod:`heard.coding._matching`:
   the same hits as spaCy's ``Matcher``, about twice as fast; a test checks both agree).
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

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

from spacy.matcher import PhraseMatcher
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
from heard.coding._matching import TriggeredMatcher
from heard.coding._negation import TokenView, token_view
from heard.coding._rule_data import Rule, RuleSet, norm_overrides, normalize, shared_nlp
from heard.coding._rule_load import load_rule_set
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
        self._matcher = TriggeredMatcher(rule_set.rules)
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
