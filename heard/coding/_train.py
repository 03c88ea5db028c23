"""Training the trained coder from the labeled corpus, and its grouped cross-validation.

Everything is deterministic for a given ``seed``: the folds (grouped by couple, the sorted pair
of sender names, so that a couple's follow-up conversations never sit on both sides of a
split), liblinear's coordinate order, the calibration folds inside each training set.

The reference sample (``../shared/gold/reference.jsonl``) is never read here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from heard.coding._classifier import (
    MultiLabelCodeClassifier,
    TrainedCoder,
    TrainedModel,
    save_model,
)
from heard.coding._combine import ALWAYS_AUTHORITATIVE, choose_authority
from heard.coding._evaluate import EvaluationResult, evaluate, load_gold
from heard.coding._features import MessageFeaturizer, MessageInput, collect_inputs
from heard.errors import InputError
from heard.model import Corpus, Message, codebook

__all__ = ["CrossValidation", "RealRows", "code_classifier", "codebook_examples",
           "conflict_free_specs", "corpus_inputs", "cross_validate", "fit_model", "load_corpus",
           "raise_to_everyday_budget", "real_rows", "train", "training_card",
           "with_codebook_examples", "with_real_rows", "write_trained"]

#: Model settings: chosen once on grouped cross-validation of the corpus, never on the
#: reference sample.
SETTINGS: dict[str, Any] = {
    "C": 30.0,
    "prev_word_weight": 1.0,
    "calibration_folds": 3,
    # no recall floor for the model: with real everyday text in training, a floor of 0.98 put
    # the model's safety_risk threshold near 0.02 ("I'll watch it" was flagged); the rules keep
    # safety_risk recall-first on their own (0.988 in grouped CV of the corpus)
    "recall_floor": {},
    # thresholds of these families' codes weigh precision over recall (F-beta): a false
    # "defensive" or "contemptuous" label costs more than a miss (issue 4); 0.7 lifted their
    # grouped-CV precision by 0.03-0.12 at no cost to macro-F1 (0.5 cost 0.007)
    "precision_beta": {"families": ["attack", "defend"], "beta": 0.7},
    "rule_threshold": 0.5,
    "rule_feature_threshold": 0.05,
    "authoritative_margin": 0.005,
    # a single rule raises its code by itself where its hits were right this often on the
    # training corpus (see heard.coding._combine)
    "rule_precision": 0.8,
    "rule_min_hits": 5,
    # the codebook's own examples join every training set (never a test set): the codebook is
    # the contract, so its plain examples should be coded as it says
    "codebook_examples": True,
    # real text (data/real, train sources only) joins every training set too, with this many
    # unlabeled everyday messages as negatives: the corpus alone taught "sure" = contempt
    "real_text": True,
    # 20,000 presumed negatives (with the everyday budget below) cut false alarms on held-out
    # everyday talk (any code 4.4% -> 1.2%, conflict 0.49% -> 0.17%) but cost held-out macro-F1
    # over families (0.196 -> 0.178, counsel questions 0.203 -> 0.173), past the 0.01 decided
    # before that run, so the shipped model keeps 3,000 (data/DATASHEET.md)
    "presumed_negatives": 3000,
    "presumed_negative_source": "chitchat",
    # strangers' online arguments (Reddit sarcasm) teach the model that disputing facts is
    # contempt. Tried again with 20,000 presumed negatives and the everyday budget: the fight
    # moves were learned (held-out Twitter replies: contempt F1 0.08 -> 0.33, proving_wrong
    # 0.00 -> 0.26), but 9.1% of held-out everyday talk about facts got a conflict code. They
    # come back only with everyday negatives that talk about facts. Film dialogue (labeled
    # 2026-12-04) taught the fight moves a little (held-back films: contempt F1 0.00 -> 0.16)
    # and raised conflict codes on held-back everyday talk by 0.3 points, past the rule
    # decided before (data/real/PREREGISTRATION.md): it stays a dev set (dev_check.py, F)
    "real_sources_left_out": ["reddit_sarcasm", "movie_dialogs"],
    # label files of data/real/labels read for training (None: all of them). The shipped model
    # was trained before wave 6: naming its files lets a later wave land without changing
    # what ``heard train`` rebuilds
    "label_files": ["pass1.jsonl", "pass1_wave3.jsonl", "pass1_wave4.jsonl",
                    "pass1_wave5.jsonl"],
    # per source, codes whose labels are not learned there (unknown, neither yes nor no): where
    # a source carries a code in something words cannot show (a film line's sarcasm is in its
    # delivery), a model over words would learn the words. Empty in the shipped model
    "codes_unknown_in": {},
    # when set ({"share", "messages", "source", "families", "codes"}), conflict codes'
    # thresholds are raised so that at most ``share`` of everyday messages no model saw
    # (``messages`` from ``source``, conversations apart from the presumed negatives) carry
    # each: training mixes fights at rates real chats never have. Off in the shipped model,
    # which was trained without it; both tries above used {"share": 0.002, "messages": 6000,
    # "source": "chitchat", "families": ["attack", "defend", "harden"],
    # "codes": ["breaking_point"]}, and it moved one or two thresholds
    "everyday_budget": None,
    # this many messages of an everyday source join training as negatives for the conflict
    # codes alone, every other code unknown there (``presumed_conflict_free``): praise and
    # sympathy between friends is where the corpus's fights taught contempt ("That's so
    # wonderful"), while their feelings and bids are real. Held-back friends' talk: conflict
    # codes 1.1% -> 0.35%; held-out everyday talk 0.46% -> 0.35%, macro-F1 0.098 / 0.196 ->
    # 0.096 / 0.193, within the rule decided before that run (data/DATASHEET.md). A list
    # draws from several sources; None: off
    "conflict_free": {"source": "commonsense_dialogues", "messages": 8000},
    # how much each message of the project's corpus counts against one real row (fit_model's
    # ``corpus_rows``): real text (about 18,000 rows to 2,500 of the corpus) lowered grouped
    # CV on the corpus from 0.737 / 0.784 to 0.701 / 0.754. A weight of 3 won back 0.009 of
    # it (0.02 was asked) and gave half as many conflict codes again to held-back student
    # chit-chat (0.39% -> 0.59%), so it stays 1 (data/real/PREREGISTRATION.md)
    "corpus_weight": 1.0,
}
CV_FOLDS = 5


def load_corpus(corpus_dir: str | Path) -> tuple[list[Message], list[set[str]], list[str]]:
    """Messages, gold code sets and couple keys of every ``batch_*.jsonl`` in ``corpus_dir``."""
    folder = Path(corpus_dir)
    files = sorted(folder.glob("batch_*.jsonl")) if folder.is_dir() else []
    messages: list[Message] = []
    gold: list[set[str]] = []
    for f in files:
        m, g = load_gold(f)
        messages.extend(m)
        gold.extend(g)
    if not messages:
        raise InputError.from_code("E453", path=folder)
    return messages, gold, _couples(messages)


def _couples(messages: Sequence[Message]) -> list[str]:
    """Each message's couple: the sorted pair of its conversation's senders."""
    senders: dict[str, set[str]] = {}
    for m in messages:
        senders.setdefault(m.conversation_id, set()).add(m.sender)
    return ["|".join(sorted(senders[m.conversation_id])) for m in messages]


def codebook_examples() -> tuple[list[Message], list[set[str]], list[str]]:
    """The codebook's examples as one-message conversations labeled with their code.

    Examples that need context to read (written with a note in parentheses, such as
    "k (as shutdown)") are left out. Each example is its own group.
    """
    messages: list[Message] = []
    gold: list[set[str]] = []
    for info in codebook().codes:
        for k, text in enumerate(info.examples):
            if "(" in text:
                continue
            key = f"codebook-{info.name}-{k}"
            messages.append(Message(key, key, "codebook", None, text))
            gold.append({info.name})
    return messages, gold, [m.conversation_id for m in messages]


def with_codebook_examples(messages: list[Message], gold: list[set[str]], couples: list[str],
                           settings: dict[str, Any]
                           ) -> tuple[list[Message], list[set[str]], list[str]]:
    """The corpus plus the codebook's examples at its end, where ``codebook_examples`` is on."""
    if not settings["codebook_examples"]:
        return messages, gold, couples
    em, eg, ec = codebook_examples()
    return messages + em, gold + eg, couples + ec


def corpus_inputs(messages: Sequence[Message], rule_feature_threshold: float
                  ) -> list[MessageInput]:
    """Each message's :class:`MessageInput` (rule scores at ``rule_feature_threshold``)."""
    from heard.coding._rules import RuleCoder

    copies = [Message(m.conversation_id, m.message_id, m.sender, m.timestamp, m.text,
                      kind=m.kind) for m in messages]
    rules = RuleCoder(threshold=rule_feature_threshold).fit()
    pairs = collect_inputs(Corpus.from_messages(copies), rules)
    by_id = {m.message_id: i for m, i in pairs}
    return [by_id[m.message_id] for m in copies]


def real_inputs(items: Sequence[Any], rule_feature_threshold: float
                ) -> tuple[list[MessageInput], list[set[str]], list[str]]:
    """Inputs, labels and groups of real utterances, each with the turns before it as context."""
    from heard.coding._real import real_corpus
    from heard.coding._rules import RuleCoder

    if not items:
        return [], [], []
    corpus, targets = real_corpus(items)
    rules = RuleCoder(threshold=rule_feature_threshold).fit()
    by_message = {id(m): inp for m, inp in collect_inputs(corpus, rules)}
    return ([by_message[id(t)] for t in targets], [set(i.gold) for i in items],
            [f"real:{i.source}:{i.conversation}" for i in items])


@dataclass(frozen=True)
class RealRows:
    """Real text for training: labeled rows, and everyday rows for the thresholds alone."""

    inputs: list[MessageInput]
    gold: list[set[str]]
    groups: list[str]
    by_source: dict[str, int]
    everyday: list[MessageInput]
    #: per row, the codes whose label is unknown (empty for labeled and presumed-negative rows)
    unknown: list[frozenset[str]]


def _real_rows(real: str | Path | None, s: dict[str, Any], log: Any) -> RealRows:
    from heard.coding._real import calibration_pool, presumed_conflict_free, training_items

    if not s["real_text"]:
        return RealRows([], [], [], {}, [], [])
    items = training_items(real, presumed=int(s["presumed_negatives"]),
                           source=s["presumed_negative_source"], log=log,
                           label_files=s["label_files"])
    items = unknown_where_set([i for i in items if i.source not in s["real_sources_left_out"]],
                              s)
    for spec in conflict_free_specs(s) if items else ():
        items += presumed_conflict_free(items, spec["source"], int(spec["messages"]), real)
    everyday: list[MessageInput] = []
    budget = s["everyday_budget"]
    if items and budget:
        pool = calibration_pool(items, budget["source"], int(budget["messages"]), real)
        everyday = real_inputs(pool, s["rule_feature_threshold"])[0]
    return real_rows(items, s, everyday)


def unknown_where_set(items: Sequence[Any], settings: dict[str, Any]) -> list[Any]:
    """``items`` with the codes ``codes_unknown_in`` names for their source made unknown."""
    by_source = {k: frozenset(v) for k, v in settings.get("codes_unknown_in", {}).items()}
    return [replace(i, gold=i.gold - by_source[i.source], unknown=i.unknown | by_source[i.source])
            if i.source in by_source else i for i in items]


def conflict_free_specs(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``conflict_free`` setting as a list of ``{"source", "messages"}`` (none when off)."""
    spec = settings.get("conflict_free")
    return [] if not spec else [spec] if isinstance(spec, dict) else list(spec)


def real_rows(items: Sequence[Any], settings: dict[str, Any],
              everyday: Sequence[MessageInput] = ()) -> RealRows:
    """Training rows of real utterances (:class:`~heard.coding._real.RealItem`)."""
    from collections import Counter

    inputs, gold, groups = real_inputs(items, settings["rule_feature_threshold"])
    return RealRows(inputs, gold, groups, dict(sorted(Counter(i.source for i in items).items())),
                    list(everyday), [i.unknown for i in items])


def with_real_rows(inputs: list[MessageInput], gold: list[set[str]], groups: list[str],
                   r: RealRows) -> tuple[list[MessageInput], list[set[str]], list[str],
                                         list[frozenset[str]]]:
    """Corpus rows then real rows, with each row's unknown codes (none for the corpus)."""
    return (inputs + r.inputs, gold + r.gold, groups + r.groups,
            [frozenset[str]()] * len(inputs) + r.unknown)


def _indicator(gold: Sequence[set[str]], codes: Sequence[str],
               unknown: Sequence[frozenset[str]] | None = None) -> np.ndarray:
    """0/1 per (row, code), -1 where ``unknown`` says the row's label of that code is unknown."""
    Y = np.array([[c in g for c in codes] for g in gold], dtype=np.int8)
    for row, names in enumerate(unknown or ()):
        for j, c in enumerate(codes):
            if c in names:
                Y[row, j] = -1
    return Y


def code_classifier(codes: Sequence[str], settings: dict[str, Any],
                    seed: int) -> MultiLabelCodeClassifier:
    """An unfitted classifier with the settings' regularization, recall floors and F-betas."""
    cb = codebook()
    beta = settings["precision_beta"]
    return MultiLabelCodeClassifier(
        C=settings["C"], calibration_folds=settings["calibration_folds"],
        recall_floor={codes.index(c): v for c, v in settings["recall_floor"].items()},
        threshold_beta={j: float(beta["beta"]) for j, c in enumerate(codes)
                        if cb.family_of(c) in beta["families"]},
        random_state=seed)


def raise_to_everyday_budget(clf: MultiLabelCodeClassifier, X_everyday: Any,
                             codes: Sequence[str], budget: dict[str, Any] | None
                             ) -> dict[str, tuple[float, float]]:
    """Raise the budgeted codes' thresholds so at most ``share`` of everyday rows pass each.

    Returns the codes whose threshold moved, with (before, after). Nothing moves without rows.
    """
    if not budget or X_everyday.shape[0] == 0:
        return {}
    cb = codebook()
    proba = clf.predict_proba(X_everyday)
    thresholds = clf.thresholds_.copy()
    moved: dict[str, tuple[float, float]] = {}
    allowed = int(float(budget["share"]) * proba.shape[0])
    for j, code in enumerate(codes):
        if cb.family_of(code) not in budget["families"] and code not in budget["codes"]:
            continue
        # just above the (allowed+1)-th highest score: ties there stay out with it
        ranked = np.sort(proba[:, j])[::-1]
        ceiling = float(np.nextafter(ranked[min(allowed, len(ranked) - 1)], np.inf))
        if ceiling > thresholds[j]:
            moved[code] = (float(thresholds[j]), ceiling)
            thresholds[j] = ceiling
    clf.thresholds_ = thresholds
    return moved


def fit_model(inputs: Sequence[MessageInput], gold: Sequence[set[str]], groups: Sequence[str],
              *, seed: int = 0, settings: dict[str, Any] | None = None,
              everyday: Sequence[MessageInput] = (),
              unknown: Sequence[frozenset[str]] | None = None,
              corpus_rows: int = 0) -> TrainedModel:
    """Fit featurizer and classifier; choose the authoritative codes on out-of-fold scores.

    ``everyday``: unlabeled everyday rows no model trains on, for ``everyday_budget``.
    ``unknown``: per row of ``gold``, the codes whose label that row does not know.
    ``corpus_rows``: the first this many rows are the project's corpus, weighted by the
    settings' ``corpus_weight`` (every other row weighs 1).
    """
    s = {**SETTINGS, **(settings or {})}
    codes = codebook().names
    Y = _indicator(gold, codes, unknown)
    featurizer = MessageFeaturizer(prev_word_weight=s["prev_word_weight"]).fit(inputs)
    X = featurizer.transform(inputs)
    weight = float(s["corpus_weight"])
    sample_weight = None
    if corpus_rows and weight != 1.0:
        sample_weight = np.ones(len(inputs))
        sample_weight[:corpus_rows] = weight
    clf = code_classifier(codes, s, seed).fit(X, Y, groups=list(groups),
                                              sample_weight=sample_weight)
    raised: dict[str, tuple[float, float]] = {}
    if everyday:
        raised = raise_to_everyday_budget(clf, featurizer.transform(list(everyday)), codes,
                                          s["everyday_budget"])
    authoritative: tuple[str, ...] = ALWAYS_AUTHORITATIVE
    rules: tuple[str, ...] = ()
    if clf.oof_proba_ is not None:
        authoritative, rules = choose_authority(clf.oof_proba_ >= clf.thresholds_, Y, inputs,
                                                codes, s)
    return TrainedModel(codes=tuple(codes), featurizer=featurizer, classifier=clf,
                        authoritative=authoritative, authoritative_rules=rules,
                        rule_threshold=s["rule_threshold"],
                        rule_feature_threshold=s["rule_feature_threshold"],
                        meta={"raised_to_everyday_budget": {
                            c: [round(a, 4), round(b, 4)] for c, (a, b) in raised.items()}})


@dataclass(frozen=True)
class CrossValidation:
    """Grouped cross-validation of the trained coder, with the rule coder on the same messages."""

    trained: EvaluationResult
    rules: EvaluationResult
    n_folds: int
    n_couples: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"n_folds": self.n_folds, "n_couples": self.n_couples,
                "grouped_by": "couple (sorted pair of sender names)",
                "trained": self.trained.to_dict(), "rules": self.rules.to_dict()}

    def as_text(self) -> str:
        head = (f"grouped {self.n_folds}-fold cross-validation by couple ({self.n_couples} "
                f"couples), {self.seconds:.0f} s\n")
        return (head + "\n== trained engine ==\n" + self.trained.as_text()
                + "\n== rules engine (same messages, not trained) ==\n" + self.rules.as_text())


def cross_validate(corpus_dir: str | Path, *, n_folds: int = CV_FOLDS, seed: int = 0,
                   settings: dict[str, Any] | None = None, real: str | Path | None = None,
                   log: Any = None) -> CrossValidation:
    """Out-of-fold predictions for every corpus message, folds grouped by couple.

    Real text (``settings["real_text"]``) and the codebook's examples join every training
    fold and are never scored: this measures the corpus, as before they were added.
    """
    from sklearn.model_selection import GroupKFold

    t0 = time.perf_counter()
    s = {**SETTINGS, **(settings or {})}
    messages, gold, couples = load_corpus(corpus_dir)
    n = len(messages)
    messages, gold, couples = with_codebook_examples(messages, gold, couples, s)
    inputs = corpus_inputs(messages, s["rule_feature_threshold"])
    r = _real_rows(real, s, log)
    inputs, gold, couples, unknown = with_real_rows(inputs, gold, couples, r)
    extra = list(range(n, len(inputs)))  # codebook examples and real text: in every training set
    predicted: list[set[str]] = [set() for _ in range(n)]
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(n), groups=couples[:n]):
        corpus_rows = len(train_idx)
        train_idx = [*train_idx.tolist(), *extra]
        model = fit_model([inputs[i] for i in train_idx], [gold[i] for i in train_idx],
                          [couples[i] for i in train_idx], seed=seed, settings=s,
                          everyday=r.everyday, unknown=[unknown[i] for i in train_idx],
                          corpus_rows=corpus_rows)
        coder = TrainedCoder(model=model).fit()
        for i, codes in zip(test_idx, coder.code_inputs([inputs[i] for i in test_idx]),
                            strict=True):
            predicted[i] = {c.name for c in codes}
    rules = [{c for c, v in i.rule_scores.items() if v >= s["rule_threshold"]}
             for i in inputs[:n]]
    convs = [m.conversation_id for m in messages[:n]]
    return CrossValidation(trained=evaluate(gold[:n], predicted, groups=convs),
                           rules=evaluate(gold[:n], rules),
                           n_folds=n_folds, n_couples=len(set(couples[:n])),
                           seconds=time.perf_counter() - t0)


def training_card(engine: str, seed: int, settings: dict[str, Any], corpus_dir: str | Path,
                  corpus_messages: Sequence[Message], n_examples: int, model: Any
                  ) -> dict[str, Any]:
    """What a trained model was built from and chose (``model_card.json``, before any CV).

    ``model`` is a :class:`TrainedModel` or an embedding head: anything with ``codes``,
    ``classifier``, ``authoritative`` and ``authoritative_rules``.
    """
    couples = set(_couples(corpus_messages))
    clf = model.classifier
    return {
        "engine": engine,
        "seed": seed,
        "settings": settings,
        "training_data": {"messages": len(corpus_messages), "couples": len(couples),
                          "conversations": len({m.conversation_id for m in corpus_messages}),
                          "codebook_examples": n_examples,
                          "files": sorted(p.name for p in Path(corpus_dir).glob("batch_*.jsonl"))},
        "n_features": int(clf.coef_.shape[1]),
        "authoritative_codes": list(model.authoritative),
        "authoritative_rules": list(model.authoritative_rules),
        "thresholds": {c: round(float(t), 4)
                       for c, t in zip(model.codes, clf.thresholds_, strict=True)},
        "never_trained_on": "../shared/gold/reference.jsonl",
    }


def train(corpus_dir: str | Path, out_dir: str | Path, *, seed: int = 0,
          cv: bool = True, real: str | Path | None = None, use_real: bool = True,
          log: Any = None) -> dict[str, Any]:
    """Rebuild the model from the corpus (and real text), write it and ``model_card.json``.

    ``real`` is the ``data/real`` folder (default: the checkout's); without its fetched text
    ``log`` hears why and the model learns from the corpus alone (``log=None``: E484).
    ``use_real=False`` leaves real text out on purpose.
    """
    s = {**SETTINGS, "real_text": SETTINGS["real_text"] and use_real}
    corpus_messages, corpus_gold, corpus_couples = load_corpus(corpus_dir)
    messages, gold, couples = with_codebook_examples(corpus_messages, corpus_gold,
                                                     corpus_couples, SETTINGS)
    inputs = corpus_inputs(messages, SETTINGS["rule_feature_threshold"])
    r = _real_rows(real, s, log)
    inputs, gold, couples, unknown = with_real_rows(inputs, gold, couples, r)
    model = fit_model(inputs, gold, couples, seed=seed, settings=s, everyday=r.everyday,
                      unknown=unknown, corpus_rows=len(corpus_messages))
    card = training_card(
        "heard trained coder (one-vs-rest logistic regression, Platt-calibrated)", seed,
        s, corpus_dir, corpus_messages, len(messages) - len(corpus_messages), model)
    card["training_data"]["real_text"] = {"utterances": len(r.inputs), "by_source": r.by_source,
                                          "everyday_for_thresholds": len(r.everyday)}
    card["raised_to_everyday_budget"] = model.meta["raised_to_everyday_budget"]
    if cv:
        result = cross_validate(corpus_dir, seed=seed, settings=s, real=real, log=log)
        card["grouped_cv"] = result.to_dict()
    write_trained(model, card, out_dir, save_model)
    return card


def write_trained(model: Any, card: dict[str, Any], out_dir: str | Path,
                  save: Callable[[Any, Path], Any]) -> None:
    """Write a trained model (with ``save``) and its ``model_card.json`` into ``out_dir``."""
    model.meta = {k: card[k] for k in ("seed", "training_data", "n_features")}
    out = Path(out_dir)
    save(model, out)
    (out / "model_card.json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n",
                                         encoding="utf-8")
