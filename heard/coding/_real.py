"""Real, human-written utterances with their codebook labels (``data/real/``).

The text lives in ``data/real/cache/utterances.jsonl`` (rebuilt from public sources by
``data/real/real_data.py``, never committed); the labels in ``data/real/labels/*.jsonl`` are
keyed by utterance id. This module joins the two.

A source's ``role`` (``sources.json``) says what it may be used for: ``train`` sources are
trained and tuned on; ``test`` sources are held out, only ever evaluated.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heard.errors import InputError
from heard.model import Conversation, Corpus, Message

__all__ = ["MEASURED_JSON", "RealEvaluation", "RealItem", "calibration_pool", "evaluate_real",
           "everyday_corpus", "load_real", "presumed_conflict_free", "presumed_negatives",
           "read_measured", "real_corpus", "real_dir", "training_items", "write_measured"]

#: Beside a model's files: its held-out figures (``heard eval --real --update-card``).
MEASURED_JSON = "real_evaluation.json"


@dataclass(frozen=True, slots=True)
class RealItem:
    """One labeled utterance in its context (``context``: earlier turns, oldest first)."""

    id: str
    source: str
    conversation: str
    role: str
    speaker: str
    text: str
    context: tuple[tuple[str, str], ...]
    gold: frozenset[str]
    #: codes whose label is not known here (text presumed free of some codes only)
    unknown: frozenset[str] = frozenset()

    @property
    def prev_text(self) -> str | None:
        """The other person's latest message before this one, if any."""
        return next((t for s, t in reversed(self.context) if s != self.speaker), None)


def real_dir() -> Path:
    """``data/real`` of a source checkout (heard's training data is not installed with heard)."""
    return Path(__file__).resolve().parents[2] / "data" / "real"


def _labels(folder: Path, pass_name: str,
            files: Iterable[str] | None = None) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    wanted = None if files is None else set(files)
    if wanted and folder.is_dir() and not wanted <= {p.name for p in folder.glob("*.jsonl")}:
        # a misspelt name would otherwise train on no real text at all, silently
        raise ValueError(f"label files not in {folder}: {sorted(wanted)}")
    for path in sorted(folder.glob(f"{pass_name}*.jsonl")):
        if wanted is not None and path.name not in wanted:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out[row["id"]] = frozenset(row["codes"])
    return out


def _base(folder: str | Path | None) -> Path:
    """``folder``, or the repository's ``data/real`` when none is given."""
    return Path(folder) if folder is not None else real_dir()


def _utterances(base: Path) -> Iterator[dict[str, Any]]:
    """The rows of ``base/cache/utterances.jsonl``, or E484 when they were never built."""
    path = base / "cache" / "utterances.jsonl"
    if not path.is_file():
        raise InputError.from_code("E484", path=path)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def load_real(folder: str | Path | None = None, *, roles: Iterable[str] = ("train", "test"),
              pass_name: str = "pass1", files: Iterable[str] | None = None) -> list[RealItem]:
    """Every labeled utterance of the given roles, in file order.

    ``files``: read only these label files (names in ``labels/``), to rebuild what a model was
    trained on before later waves were labeled; ``None``: all of them.

    Raises
    ------
    InputError
        E484 when the utterances have not been built on this computer.
    """
    base = _base(folder)
    labels = _labels(base / "labels", pass_name, files)
    wanted = set(roles)
    items: list[RealItem] = []
    for row in _utterances(base):
        gold = labels.get(row["id"])
        if gold is None or row["role"] not in wanted:
            continue
        items.append(RealItem(
            row["id"], row["source"], row["conversation"], row["role"], row["speaker"],
            row["text"], tuple((c["speaker"], c["text"]) for c in row["context"]), gold))
    return items


def real_corpus(items: Sequence[RealItem]) -> tuple[Corpus, list[Message]]:
    """One conversation per item (its context, then the item) and each item's own message.

    Any engine can then code the corpus as it would a chat, context included.
    """
    conversations = []
    targets = []
    for item in items:
        messages = [Message(item.id, f"{item.id}#{k}", speaker, None, text)
                    for k, (speaker, text) in enumerate(item.context)]
        target = Message(item.id, item.id, item.speaker, None, item.text)
        messages.append(target)
        targets.append(target)
        conversations.append(Conversation(item.id, messages))
    return Corpus(conversations), targets


#: What counts as a conflict code in the false-alarm rate on everyday text.
CONFLICT_FAMILIES = ("attack", "defend", "harden")
CONFLICT_CODES = ("breaking_point", "safety_risk")


@dataclass(frozen=True)
class RealEvaluation:
    """A coder scored on held-out real sources, one by one, and its false alarms on everyday text.

    ``per_source`` maps a source id to its :class:`~heard.coding.EvaluationResult` (with
    intervals that resample whole conversations); ``pooled`` is all held-out sources together;
    ``false_alarms`` maps an everyday source to the share of its messages given a conflict code,
    ``safety_risk``, and any code.
    """

    engine: str
    per_source: dict[str, Any]
    pooled: Any
    false_alarms: dict[str, dict[str, float]]
    #: each held-out source in a person's words (``plain`` in ``sources.json``), for reports
    plain: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine,
                "per_source": {k: v.to_dict() for k, v in self.per_source.items()},
                "pooled": self.pooled.to_dict(), "false_alarms": self.false_alarms}

    def summary(self) -> dict[str, Any]:
        """The few figures a report quotes: held-out macro-F1 and everyday false alarms."""
        return {
            "held_out_messages": self.pooled.n_messages,
            "held_out_sources": sorted(self.per_source),
            # two digits finer than a report shows them: rounding twice had moved a conflict
            # share of 6.352%, kept as 0.0635, to "6.3%"
            "macro_f1_codes": round(self.pooled.macro_f1, 4),
            "macro_f1_families": round(self.pooled.family_macro_f1, 4),
            "everyday": {k: {m: round(v, 5) for m, v in fa.items()}
                         for k, fa in self.false_alarms.items()},
            # how many codes it gave, and how many of them the careful coding also has: a
            # person reads the codes it gives, so this is the share of them to trust
            "codes_given": {name: [r.n_predicted, sum(c.tp for c in r.codes)]
                            for name, r in [*self.per_source.items(), ("all", self.pooled)]},
            # the same, code by code over every held-out source: how far to trust each code
            "codes_given_by_code": {c.label: [c.tp + c.fp, c.tp] for c in self.pooled.codes},
            "source_words": {k: v for k, v in self.plain.items() if k in self.per_source},
        }

    def as_text(self) -> str:
        lines = [f"held-out real sources, engine {self.engine} (never trained or tuned on):"]
        w = max(16, *map(len, self.per_source), *map(len, self.false_alarms))
        for name, r in [*self.per_source.items(), ("all held-out", self.pooled)]:
            if not r.n_gold:
                lines.append(f"  {name:<{w}} {r.n_messages:5d} msgs  no codes in the labels: "
                             f"{r.n_predicted} predicted (see false alarms)")
                continue
            ci = r.extra.get("intervals")
            span = (f"  [{ci['macro_f1'][0]:.3f}-{ci['macro_f1'][1]:.3f} / "
                    f"{ci['family_macro_f1'][0]:.3f}-{ci['family_macro_f1'][1]:.3f}]") if ci else ""
            lines.append(f"  {name:<{w}} {r.n_messages:5d} msgs  macro-F1 codes "
                         f"{r.macro_f1:.3f}  families {r.family_macro_f1:.3f}{span}")
        lines.append("false alarms on everyday text (share of messages):")
        for name, fa in self.false_alarms.items():
            lines.append(f"  {name:<{w}} {int(fa['messages']):5d} msgs  conflict code "
                         f"{fa['conflict']:.2%}  safety_risk {fa['safety_risk']:.3%}  any code "
                         f"{fa['any']:.2%}")
        return "\n".join(lines) + "\n"


def _conflict(names: Iterable[str]) -> bool:
    from heard.model import codebook

    cb = codebook()
    return any(n in CONFLICT_CODES or cb.family_of(n) in CONFLICT_FAMILIES for n in names)


def everyday_corpus(source: str, folder: str | Path | None = None, *,
                    limit: int | None = None) -> Corpus:
    """Every utterance of one source (labeled or not) as the conversations they came from."""
    base = _base(folder)
    messages = []
    for row in _utterances(base):
        if row["source"] != source:
            continue
        messages.append(Message(row["conversation"], row["id"], row["speaker"], None,
                                row["text"]))
        if limit is not None and len(messages) >= limit:
            break
    return Corpus.from_messages(messages)


def presumed_negatives(labeled: Sequence[RealItem], source: str, n: int,
                       folder: str | Path | None = None) -> list[RealItem]:
    """``n`` unlabeled messages of ``source``, from conversations with no labeled message.

    Everyday talk carries no code at real chats' base rates; these stand for it as negatives
    (the labeled sample of the same source checks that presumption).
    """
    return _everyday_sample(source, {i.conversation for i in labeled}, n, seed=17,
                            label=f"{source}_unlabeled", folder=folder)


def calibration_pool(taken: Sequence[RealItem], source: str, n: int,
                     folder: str | Path | None = None) -> list[RealItem]:
    """``n`` unlabeled messages of ``source`` from conversations none of ``taken`` came from.

    Thresholds are set on these for real chats' base rates (see ``everyday_budget`` in
    :mod:`heard.coding._train`), so they must be messages no model was trained on.
    """
    return _everyday_sample(source, {i.conversation for i in taken}, n, seed=29,
                            label=f"{source}_calibration", folder=folder)


def presumed_conflict_free(taken: Sequence[RealItem], source: str, n: int,
                           folder: str | Path | None = None) -> list[RealItem]:
    """``n`` messages of ``source`` (outside ``taken``'s conversations) presumed free of conflict.

    Friends talking over their day praise, tease and sympathize; little of it is a conflict move
    (3.8% in a blind check, ``data/real/labels/presumption_commonsense.jsonl``), but feelings,
    bids and questions are there to code, so every code outside :data:`CONFLICT_FAMILIES` and
    :data:`CONFLICT_CODES` is left unknown rather than negative.
    """
    from heard.model import codebook

    unknown = frozenset(c for c in codebook().names if not _conflict((c,)))
    return _everyday_sample(source, {i.conversation for i in taken}, n, seed=41,
                            label=f"{source}_conflict_free", folder=folder, unknown=unknown)


def _everyday_sample(source: str, skip: set[str], n: int, *, seed: int, label: str,
                     folder: str | Path | None, unknown: frozenset[str] = frozenset(),
                     keep: Callable[[str], bool] | None = None) -> list[RealItem]:
    """``n`` messages of ``source`` outside the ``skip`` conversations (and inside ``keep``'s,
    when given), each with the one before."""
    corpus = everyday_corpus(source, folder)
    pool = [(conv.id, m, prev) for conv in corpus.conversations
            if conv.id not in skip and (keep is None or keep(conv.id))
            for prev, m in zip([None, *conv.messages[:-1]], conv.messages, strict=True)]
    pool = random.Random(seed).sample(pool, min(n, len(pool)))
    return [RealItem(m.message_id, label, conv, "train", m.sender, m.text,
                     ((prev.sender, prev.text),) if prev is not None else (), frozenset(),
                     unknown)
            for conv, m, prev in pool]


def training_items(folder: str | Path | None = None, *, presumed: int = 0,
                   source: str = "chitchat", log: Any = None,
                   label_files: Iterable[str] | None = None) -> list[RealItem]:
    """What a coder learns from real text: the labeled ``train`` sources and presumed negatives.

    Without the real sources on this computer, ``log`` gets the E484 message and the list is
    empty (training goes on with the corpus alone); with ``log=None`` E484 is raised.
    """
    try:
        items = load_real(folder, roles=("train",), files=label_files)
    except InputError as exc:
        if log is None:
            raise
        log(f"{exc} Training on the corpus and the codebook's examples alone.")
        return []
    if items and presumed:
        items += presumed_negatives(items, source, presumed, folder)
    return items


def evaluate_real(coder: Any, *, folder: str | Path | None = None,
                  everyday: Sequence[str] = ("topical_chat", "sbcsae_dyads"),
                  everyday_limit: int | None = None) -> RealEvaluation:
    """Score ``coder`` (a fitted or unfitted step) on the held-out ``test`` sources, and count
    its false alarms on every message of each ``everyday`` source this folder holds (everyday
    written talk, and recorded talk between two people, labeled but mostly calm)."""
    from heard.coding._evaluate import evaluate

    items = load_real(folder, roles=("test",))
    corpus, targets = real_corpus(items)
    coder.fit_transform(corpus)
    predicted = [set(m.code_names) for m in targets]
    per_source: dict[str, Any] = {}
    for source in dict.fromkeys(i.source for i in items):
        rows = [k for k, i in enumerate(items) if i.source == source]
        per_source[source] = evaluate([set(items[k].gold) for k in rows],
                                      [predicted[k] for k in rows],
                                      groups=[items[k].conversation for k in rows])
    pooled = evaluate([set(i.gold) for i in items], predicted,
                      groups=[i.conversation for i in items])
    false_alarms: dict[str, dict[str, float]] = {}
    for source in everyday:
        text = everyday_corpus(source, folder, limit=everyday_limit)
        coder.transform(text)
        coded = [m.code_names for m in text.iter_messages()]
        if not coded:  # a folder built without this source
            continue
        n = len(coded)
        false_alarms[source] = {
            "messages": float(len(coded)),
            "conflict": sum(_conflict(c) for c in coded) / n,
            "safety_risk": sum("safety_risk" in c for c in coded) / n,
            "any": sum(bool(c) for c in coded) / n,
        }
    return RealEvaluation(type(coder).__name__, per_source, pooled, false_alarms,
                          _plain_words(folder))


def _plain_words(folder: str | Path | None) -> dict[str, str]:
    """``plain`` of each source in the folder's ``sources.json`` (none without the file)."""
    path = _base(folder) / "sources.json"
    if not path.is_file():
        return {}
    sources = json.loads(path.read_text(encoding="utf-8"))["sources"]
    return {s["id"]: s["plain"] for s in sources if s.get("plain")}


def write_measured(folder: str | Path, summary: dict[str, Any]) -> Path:
    """Store a held-out evaluation's summary beside a model, where reports quote it."""
    path = Path(str(folder)) / MEASURED_JSON
    path.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_measured(folder: Any) -> dict[str, Any] | None:
    """The summary :func:`write_measured` stored in ``folder`` (a path or a resource), if any."""
    path = folder / MEASURED_JSON
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
