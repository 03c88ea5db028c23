"""Features of the trained coder: what a message says, how, and what it answers.

One row per human text message, the columns in this order:

1. **word 1–2-grams** (tf-idf, sublinear tf, a vocabulary fitted on the training corpus). Tokens
   are runs of letters, digits and apostrophes, plus ``?`` and ``!``, on the lowercased text with
   curly apostrophes straightened; :func:`word_grams` gives each gram's exact character span, so
   the model's weights can point back at the words that carried a code (evidence).
2. **character 2–5-grams** inside word boundaries (tf-idf): spelling variants, texting, emoji.
3. **hand features** from the word lists of ``coding/data/features.json``: pronoun patterns
   (I-/you-/we-statements, which comes first), negation, absolutes, question forms, hedges,
   apologies ("sorry, but", "sorry you feel"), promises, shutdown words, length and style.
4. **rule scores**: the rule coder's score for each of the 24 codes on this message. This is how
   rules and model are combined inside the model (stacking); the other half of the combination,
   codes where rules are authoritative, is in :mod:`heard.coding._classifier`.
5. **context** from the other partner's previous message: its rule-coded codes and families, a
   few of its hand features (was it a question, a feeling, an apology), the time gap, and the
   families the writer's own previous message was coded with.
6. **what it answers** (when ``prev_word_weight`` > 0): the other partner's previous message as
   word 1–2-grams (the same vocabulary and idf), scaled by ``prev_word_weight``. A defense, a
   validation or a counter-blame is often told apart only by what it replies to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from heard.coding._codebook import packaged_json
from heard.coding._context import CONTEXT_OTHER, CONTEXT_SELF
from heard.model import Code, Corpus, Message, codebook

__all__ = [
    "MessageFeaturizer",
    "MessageInput",
    "collect_inputs",
    "evidence_function_words",
    "hand_feature_names",
    "text_in_context",
    "word_grams",
]

_TOKEN = re.compile(r"[\w']+|[?!]")
_GAP_BINS = (("gap_none", None), ("gap_5min", 300.0), ("gap_1h", 3600.0),
             ("gap_1day", 86400.0), ("gap_more", math.inf))


@cache
def _lexicon() -> dict[str, frozenset[str]]:
    raw = packaged_json("features.json")
    return {k: frozenset(v) for k, v in raw.items() if isinstance(v, list)}


def evidence_function_words() -> frozenset[str]:
    """Words that alone never make a quotable piece of evidence (``features.json``)."""
    return _lexicon()["evidence_function_words"]


def _normalize(text: str) -> str:
    """Lowercase and straighten apostrophes, keeping every character at its offset."""
    low = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    if len(low) != len(text):  # a few characters lowercase to two (e.g. "İ"): map one by one
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        low = low.replace("\u2019", "'").replace("\u2018", "'")
    return low


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(_normalize(text)))


def word_grams(text: str, ngram_range: tuple[int, int] = (1, 2)) -> list[tuple[str, int, int]]:
    """Word n-grams of ``text`` with their character spans: ``(gram, start, end)``.

    Examples
    --------
    >>> [g for g, _, _ in word_grams("You NEVER listen")]
    ['you', 'never', 'listen', 'you never', 'never listen']
    """
    toks = _tokens(text)
    words = [t.group() for t in toks]
    starts = [t.start() for t in toks]
    ends = [t.end() for t in toks]
    out: list[tuple[str, int, int]] = []
    lo, hi = ngram_range
    for n in range(lo, hi + 1):
        if n == 1:
            out.extend(zip(words, starts, ends, strict=True))
            continue
        for i in range(len(toks) - n + 1):
            out.append((" ".join(words[i:i + n]), starts[i], ends[i + n - 1]))
    return out


@dataclass(frozen=True, slots=True)
class MessageInput:
    """What the featurizer sees of one message: its text, rule scores and context."""

    text: str
    rule_scores: Mapping[str, float] = field(default_factory=dict)
    rule_codes: tuple[Code, ...] = ()
    prev_text: str | None = None
    prev_codes: frozenset[str] = frozenset()
    own_prev_codes: frozenset[str] = frozenset()
    gap_seconds: float | None = None


def text_in_context(text: str, context: Sequence[Message | str] | None,
                    sender: str | None) -> tuple[Corpus, Message]:
    """A one-conversation corpus of ``context`` (oldest first) then ``text``, and its last message.

    Plain-string context items are taken as the other person's messages; ``sender`` is who
    writes ``text`` (context messages by them are the writer's own).
    """
    me = sender if sender is not None else CONTEXT_SELF
    messages: list[Message] = []
    for i, item in enumerate(context or ()):
        if isinstance(item, str):
            messages.append(Message("\x00ctx", f"ctx-{i}", CONTEXT_OTHER, None, item))
        else:
            messages.append(Message("\x00ctx", f"ctx-{i}", item.sender, item.timestamp,
                                    item.text, kind=item.kind))
    last_ts = next((m.timestamp for m in reversed(messages) if m.timestamp), None)
    target = Message("\x00ctx", "ctx-target", me, last_ts, text)
    return Corpus.from_messages([*messages, target]), target


def collect_inputs(corpus: Corpus, rules: Any | None, *,
                   progress: Any | None = None) -> list[tuple[Message, MessageInput]]:
    """Each human text message of ``corpus`` with its :class:`MessageInput`, in order.

    ``rules`` is a fitted :class:`~heard.coding.RuleCoder` (its ``threshold`` should be low, so
    that weak rule scores reach the model too) or ``None`` for no rule features;
    ``progress(done, total)`` is handed to its ``transform``.
    """
    scores: dict[int, tuple[Code, ...]] = {}
    if rules is not None:
        scores = {id(m): codes for m, codes in rules.score(corpus, progress=progress)}
    out: list[tuple[Message, MessageInput]] = []
    for conv in corpus.conversations:
        last: dict[str, tuple[Message, frozenset[str]]] = {}
        previous: Message | None = None
        for m in conv.messages:
            if m.kind != "text" or not m.is_human:
                continue
            codes = scores.get(id(m), ())
            names = frozenset(c.name for c in codes if c.score >= 0.5)
            other = next(((pm, pc) for s, (pm, pc) in reversed(last.items()) if s != m.sender),
                         None)
            own_prev = last.get(m.sender) if previous is not None \
                and previous.sender == m.sender else None
            gap = None
            if other is not None and other[0].timestamp and m.timestamp:
                gap = max(0.0, (m.timestamp - other[0].timestamp).total_seconds())
            out.append((m, MessageInput(
                text=m.text,
                rule_scores={c.name: c.score for c in codes},
                rule_codes=codes,
                prev_text=other[0].text if other else None,
                prev_codes=other[1] if other else frozenset(),
                own_prev_codes=own_prev[1] if own_prev else frozenset(),
                gap_seconds=gap,
            )))
            last.pop(m.sender, None)
            last[m.sender] = (m, names)  # newest last, so reversed() finds the latest other
            previous = m
    return out


_HAND = (
    "starts_i", "starts_you", "starts_we", "n_i", "n_you", "n_we", "i_before_you",
    "i_feel", "i_feel_like_you", "feel_word", "you_are", "n_neg", "neg_near_you",
    "n_absolute", "you_absolute", "has_q", "ends_q", "q_opener", "n_hedge", "apology",
    "sorry_but", "sorry_you_feel", "im_sorry", "future_self", "contrast", "shutdown_short",
    "n_tokens", "short", "lowercase", "exclaim", "ellipsis", "non_ascii",
)
_PREV_HAND = ("has_q", "feel_word", "i_feel", "apology", "you_absolute", "short")


def hand_feature_names() -> tuple[str, ...]:
    """Names of the hand features, in column order."""
    return _HAND


_SORRY_BUT = re.compile(r"\bsorry\b[^.?!]{0,20}\bbut\b")
_SORRY_YOU_FEEL = re.compile(r"\bsorry (that )?(you|u) (feel|felt)")


def _hand(text: str) -> dict[str, float]:
    lex = _lexicon()
    norm = _normalize(text)
    toks = _TOKEN.findall(norm)
    words = [t for t in toks if t not in ("?", "!")]
    n = len(words)
    first = words[0] if words else ""
    selfp, otherp, wep = lex["self_pronouns"], lex["other_pronouns"], lex["we_pronouns"]
    negators, absolutes_lex, hedges = lex["negators"], lex["absolutes"], lex["hedges"]
    n_i = n_you = n_we = n_hedge = 0
    i_pos = you_pos = None
    neg: list[int] = []
    absolutes: list[int] = []
    for k, w in enumerate(words):
        if w in selfp:
            n_i += 1
            if i_pos is None:
                i_pos = k
        if w in otherp:
            n_you += 1
            if you_pos is None:
                you_pos = k
        if w in wep:
            n_we += 1
        if w in negators or w.endswith("n't"):
            neg.append(k)
        if w in absolutes_lex:
            absolutes.append(k)
        if w in hedges:
            n_hedge += 1
    joined = " " + " ".join(words) + " "
    f = {
        "starts_i": float(first in selfp),
        "starts_you": float(first in otherp),
        "starts_we": float(first in wep),
        "n_i": math.log1p(n_i),
        "n_you": math.log1p(n_you),
        "n_we": math.log1p(n_we),
        "i_before_you": float(i_pos is not None and (you_pos is None or i_pos < you_pos)),
        "i_feel": float(" i feel " in joined or " i felt " in joined or " i'm feeling " in joined),
        "i_feel_like_you": float(" feel like you " in joined or " feel like u " in joined
                                 or " felt like you " in joined),
        "feel_word": float(not lex["feel_verbs"].isdisjoint(words)),
        "you_are": float(" you're " in joined or " you are " in joined or " ur " in joined
                         or " youre " in joined),
        "n_neg": math.log1p(len(neg)),
        "neg_near_you": float(any(you_pos is not None and abs(k - you_pos) <= 3 for k in neg)),
        "n_absolute": math.log1p(len(absolutes)),
        "you_absolute": float(you_pos is not None and bool(absolutes)),
        "has_q": float("?" in toks),
        "ends_q": float(norm.rstrip().endswith("?")),
        "q_opener": float(first in lex["question_openers"]),
        "n_hedge": math.log1p(n_hedge),
        "apology": float(not lex["apologies"].isdisjoint(words)),
        "sorry_but": float(_SORRY_BUT.search(norm) is not None),
        "sorry_you_feel": float(_SORRY_YOU_FEEL.search(norm) is not None),
        "im_sorry": float(" i'm sorry " in joined or " im sorry " in joined
                          or " i am sorry " in joined),
        "future_self": float(any(f" {p} " in joined for p in lex["future_self"])),
        "contrast": float(not lex["contrast"].isdisjoint(words)),
        "shutdown_short": float(n <= 3 and not lex["shutdown"].isdisjoint(words)),
        "n_tokens": math.log1p(n) / 4.0,
        "short": float(n <= 3),
        "lowercase": float(text == text.lower() and any(c.isalpha() for c in text)),
        "exclaim": float("!" in text),
        "ellipsis": float("..." in text or "\u2026" in text),
        "non_ascii": float(not text.isascii()),
    }
    return f


def _context_names() -> tuple[str, ...]:
    cb = codebook()
    fams = [f.name for f in cb.families]
    return (
        *(f"rule:{c}" for c in cb.names),
        *(f"prev:{c}" for c in cb.names),
        *(f"prev_family:{f}" for f in fams),
        *(f"prev_hand:{h}" for h in _PREV_HAND),
        *(name for name, _ in _GAP_BINS),
        "first_turn",
        *(f"own_prev_family:{f}" for f in fams),
    )


class MessageFeaturizer:
    """Turn :class:`MessageInput` rows into one sparse feature matrix.

    Parameters
    ----------
    word_ngram_range, char_ngram_range : tuple of int
    min_df : int
        Drop n-grams seen in fewer training messages than this.
    max_word_features, max_char_features : int
        Keep at most this many of the most frequent n-grams of each kind (model size).
    hand_weight, context_weight : float
        Scale of the hand and context columns next to the l2-normalized n-gram blocks.
    prev_word_weight : float
        Scale of the previous message's word n-grams (0: no such block; models written before
        it existed load with 0).

    Attributes
    ----------
    word_vectorizer_, char_vectorizer_ : TfidfVectorizer
    feature_names_ : list of str
    """

    def __init__(self, *, word_ngram_range: tuple[int, int] = (1, 2),
                 char_ngram_range: tuple[int, int] = (2, 5), min_df: int = 2,
                 max_word_features: int = 8000, max_char_features: int = 20000,
                 hand_weight: float = 0.5, context_weight: float = 0.5,
                 prev_word_weight: float = 0.0) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.hand_weight = hand_weight
        self.context_weight = context_weight
        self.prev_word_weight = prev_word_weight

    def settings(self) -> dict[str, Any]:
        return {"word_ngram_range": list(self.word_ngram_range),
                "char_ngram_range": list(self.char_ngram_range), "min_df": self.min_df,
                "max_word_features": self.max_word_features,
                "max_char_features": self.max_char_features,
                "hand_weight": self.hand_weight, "context_weight": self.context_weight,
                "prev_word_weight": self.prev_word_weight}

    def _word_analyzer(self, text: str) -> list[str]:
        return [g for g, _, _ in word_grams(text, self.word_ngram_range)]

    def _vectorizers(self, word_vocab: Sequence[str] | None = None,
                     char_vocab: Sequence[str] | None = None
                     ) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        word = TfidfVectorizer(analyzer=self._word_analyzer, min_df=self.min_df,
                               max_features=self.max_word_features, sublinear_tf=True,
                               dtype=np.float32,
                               vocabulary=None if word_vocab is None
                               else {w: i for i, w in enumerate(word_vocab)})
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range),
                               min_df=self.min_df, max_features=self.max_char_features,
                               sublinear_tf=True, lowercase=True, dtype=np.float32,
                               preprocessor=_normalize,
                               vocabulary=None if char_vocab is None
                               else {w: i for i, w in enumerate(char_vocab)})
        return word, char

    def fit(self, inputs: Sequence[MessageInput]) -> MessageFeaturizer:
        texts = [i.text for i in inputs]
        word, char = self._vectorizers()
        word.fit(texts)
        char.fit(texts)
        self.word_vectorizer_, self.char_vectorizer_ = word, char
        self._finish()
        return self

    def _finish(self) -> None:
        word_names = self.word_vectorizer_.get_feature_names_out()
        char_names = self.char_vectorizer_.get_feature_names_out()
        self.feature_names_ = [*(f"word:{w}" for w in word_names),
                               *(f"char:{c}" for c in char_names),
                               *(f"hand:{h}" for h in _HAND), *_context_names(),
                               *(f"prev_word:{w}" for w in word_names
                                 if self.prev_word_weight)]
        self.n_word_ = len(word_names)
        self.word_index_ = {w: i for i, w in enumerate(word_names)}
        self._context_index = {n: i for i, n in enumerate(_context_names())}

    @classmethod
    def from_state(cls, settings: Mapping[str, Any], word_vocab: Sequence[str],
                   word_idf: np.ndarray, char_vocab: Sequence[str],
                   char_idf: np.ndarray) -> MessageFeaturizer:
        """Rebuild a fitted featurizer from stored vocabularies and idf weights (no pickle)."""
        self = cls(word_ngram_range=tuple(settings["word_ngram_range"]),
                   char_ngram_range=tuple(settings["char_ngram_range"]),
                   min_df=int(settings["min_df"]),
                   max_word_features=int(settings["max_word_features"]),
                   max_char_features=int(settings["max_char_features"]),
                   hand_weight=float(settings["hand_weight"]),
                   context_weight=float(settings["context_weight"]),
                   prev_word_weight=float(settings.get("prev_word_weight", 0.0)))
        word, char = self._vectorizers(word_vocab, char_vocab)
        word.idf_ = np.asarray(word_idf, dtype=np.float64)
        char.idf_ = np.asarray(char_idf, dtype=np.float64)
        self.word_vectorizer_, self.char_vectorizer_ = word, char
        self._finish()
        return self

    def state(self) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
        """Vocabularies (in column order) and idf weights of both n-gram blocks."""
        return (list(self.word_vectorizer_.get_feature_names_out()),
                self.word_vectorizer_.idf_.astype(np.float64),
                list(self.char_vectorizer_.get_feature_names_out()),
                self.char_vectorizer_.idf_.astype(np.float64))

    def transform(self, inputs: Sequence[MessageInput]) -> sp.csr_matrix:
        texts = [i.text for i in inputs]
        word = self.word_vectorizer_.transform(texts)
        char = self.char_vectorizer_.transform(texts)
        # a message's hand features are needed again as the next turn's context
        cache = {t: _hand(t) for t in texts}
        hand = np.array([list(cache[t].values()) for t in texts],
                        dtype=np.float32).reshape(len(texts), len(_HAND))
        ctx = self._context(inputs, cache)
        blocks = [word, char, sp.csr_matrix(hand * self.hand_weight),
                  sp.csr_matrix(ctx * self.context_weight)]
        if self.prev_word_weight:
            blocks.append(self._prev_words(inputs, texts, word) * self.prev_word_weight)
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def _prev_words(self, inputs: Sequence[MessageInput], texts: Sequence[str],
                    word: sp.csr_matrix) -> sp.csr_matrix:
        """The other partner's previous message as word n-grams: what this message answers."""
        # the previous message is usually in the same batch: reuse its row
        row_of = {t: i for i, t in enumerate(texts)}
        missing = sorted({i.prev_text for i in inputs
                          if i.prev_text is not None and i.prev_text not in row_of})
        extra = self.word_vectorizer_.transform(missing) if missing else None
        stacked = sp.vstack([word, extra, sp.csr_matrix((1, word.shape[1]))], format="csr") \
            if extra is not None else sp.vstack([word, sp.csr_matrix((1, word.shape[1]))],
                                                format="csr")
        row_of.update({t: len(texts) + k for k, t in enumerate(missing)})
        empty = stacked.shape[0] - 1
        rows = [empty if i.prev_text is None else row_of[i.prev_text] for i in inputs]
        return stacked[rows]

    def _context(self, inputs: Sequence[MessageInput],
                 cache: dict[str, dict[str, float]]) -> np.ndarray:
        cb = codebook()
        index = self._context_index
        out = np.zeros((len(inputs), len(index)), dtype=np.float32)
        for row, item in enumerate(inputs):
            for code, score in item.rule_scores.items():
                out[row, index[f"rule:{code}"]] = score
            if item.prev_text is None:
                out[row, index["first_turn"]] = 1.0
            else:
                for code in item.prev_codes:
                    out[row, index[f"prev:{code}"]] = 1.0
                    out[row, index[f"prev_family:{cb.family_of(code)}"]] = 1.0
                prev = cache.get(item.prev_text) or _hand(item.prev_text)
                for h in _PREV_HAND:
                    out[row, index[f"prev_hand:{h}"]] = prev[h]
            for code in item.own_prev_codes:
                out[row, index[f"own_prev_family:{cb.family_of(code)}"]] = 1.0
            out[row, index[_gap_bin(item.gap_seconds)]] = 1.0
        return out

    def word_columns(self, text: str) -> list[tuple[int, int, int]]:
        """``(column, start, end)`` of every in-vocabulary word n-gram of ``text``."""
        index = self.word_index_
        return [(index[g], a, b) for g, a, b in word_grams(text, self.word_ngram_range)
                if g in index]


def _gap_bin(gap: float | None) -> str:
    if gap is None:
        return "gap_none"
    for name, limit in _GAP_BINS[1:]:
        if limit is not None and gap < limit:
            return name
    return "gap_more"

