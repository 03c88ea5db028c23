"""Evaluate a coder against gold labels: per-code and per-family precision, recall and F1.

Scores follow the usual multi-label conventions: a code's precision is ``tp / (tp + fp)`` and
its recall ``tp / (tp + fn)``, each 0.0 when its denominator is 0; F1 is their harmonic mean
(0.0 when both are 0). Macro-F1 averages F1 over the codes that occur in the gold labels or the
predictions (codes absent from both say nothing and are left out); micro-F1 pools the counts.
Family scores map each message's codes to their families first.

Cohen's kappa of a code compares gold and predicted presence over all messages:
``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of messages where both agree and ``p_e`` the
agreement expected from the two base rates (1.0 when both agree everywhere and ``p_e`` is 1).

Confidence intervals (:func:`bootstrap_intervals`) resample whole conversations with
replacement (a cluster bootstrap: messages of one conversation are not independent) and report
the percentile interval of macro-F1 over codes and over families and of micro-F1. On a small
gold set they are wide, and they should be read before any difference between two coders.

The family confusion matrix counts, per message, gold family (row) against predicted family
(column): a family in both is a hit on the diagonal; each gold family the prediction missed is
paired with each predicted family the gold lacks (a confusion), or with ``none`` when nothing
was predicted in its place; a predicted family with no missed gold family counts in row
``none``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from heard.errors import E, ExportFormatError, InputError
from heard.model import Message, codebook

__all__ = ["EvaluationResult", "LabelScore", "bootstrap_intervals", "evaluate",
           "family_confusion", "load_gold"]


@dataclass(frozen=True, slots=True)
class LabelScore:
    """Counts and scores of one code or family."""

    label: str
    tp: int
    fp: int
    fn: int
    tn: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def kappa(self) -> float:
        """Cohen's kappa of gold and predicted presence (needs ``tn``)."""
        n = self.tp + self.fp + self.fn + self.tn
        if not n:
            return 0.0
        p_o = (self.tp + self.tn) / n
        p_e = ((self.tp + self.fp) * (self.tp + self.fn)
               + (self.fn + self.tn) * (self.fp + self.tn)) / (n * n)
        if p_e >= 1.0:
            return 1.0 if p_o >= 1.0 else 0.0
        return (p_o - p_e) / (1.0 - p_e)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "kappa": round(self.kappa, 4),
                "support": self.support, "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "tn": self.tn}


def _scores(gold: Sequence[set[str]], predicted: Sequence[set[str]],
            order: Sequence[str]) -> tuple[LabelScore, ...]:
    labels = set().union(*gold, *predicted) if gold else set()
    rank = {name: i for i, name in enumerate(order)}
    out = []
    for label in sorted(labels, key=lambda x: (rank.get(x, len(rank)), x)):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if label in g and label in p)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if label not in g and label in p)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if label in g and label not in p)
        out.append(LabelScore(label, tp, fp, fn, len(gold) - tp - fp - fn))
    return tuple(out)


def _macro(scores: Sequence[LabelScore]) -> float:
    return sum(s.f1 for s in scores) / len(scores) if scores else 0.0


def _micro(scores: Sequence[LabelScore]) -> float:
    tp = sum(s.tp for s in scores)
    fp = sum(s.fp for s in scores)
    fn = sum(s.fn for s in scores)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """Per-code and per-family scores of predictions against gold labels.

    Examples
    --------
    >>> r = evaluate([{"criticism"}, set()], [{"criticism"}, {"contempt"}])
    >>> round(r.macro_f1, 3), r.codes[0].label
    (0.5, 'criticism')
    """

    codes: tuple[LabelScore, ...]
    families: tuple[LabelScore, ...]
    n_messages: int
    n_gold: int
    n_predicted: int
    exact_match: float
    extra: dict[str, Any] = field(default_factory=dict)
    #: ``family_confusion[gold][predicted]``: see the module docstring; ``none`` included.
    family_confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float:
        return _macro(self.codes)

    @property
    def micro_f1(self) -> float:
        return _micro(self.codes)

    @property
    def family_macro_f1(self) -> float:
        return _macro(self.families)

    def code(self, name: str) -> LabelScore:
        for s in (*self.codes, *self.families):
            if s.label == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_messages": self.n_messages, "n_gold_labels": self.n_gold,
            "n_predicted_labels": self.n_predicted, "exact_match": round(self.exact_match, 4),
            "macro_f1": round(self.macro_f1, 4), "micro_f1": round(self.micro_f1, 4),
            "family_macro_f1": round(self.family_macro_f1, 4),
            "codes": [s.to_dict() for s in self.codes],
            "families": [s.to_dict() for s in self.families],
            "family_confusion": self.family_confusion,
            **({"intervals": self.extra["intervals"]} if "intervals" in self.extra else {}),
        }

    def as_text(self) -> str:
        """A plain-text table: one row per code, then one per family."""
        lines = [
            f"{self.n_messages} messages, {self.n_gold} gold labels, "
            f"{self.n_predicted} predicted; exact match {self.exact_match:.1%}",
            f"macro-F1 (codes) {self.macro_f1:.3f}   micro-F1 {self.micro_f1:.3f}   "
            f"macro-F1 (families) {self.family_macro_f1:.3f}",
        ]
        ci = self.extra.get("intervals")
        if ci:
            lines.append(
                f"{ci['level']:.0%} intervals ({ci['n_resamples']} resamples of "
                f"{ci['n_groups']} conversations): codes {ci['macro_f1'][0]:.3f}-"
                f"{ci['macro_f1'][1]:.3f}   micro {ci['micro_f1'][0]:.3f}-{ci['micro_f1'][1]:.3f}"
                f"   families {ci['family_macro_f1'][0]:.3f}-{ci['family_macro_f1'][1]:.3f}")
        lines.append("")
        for title, rows in (("code", self.codes), ("family", self.families)):
            lines.append(f"{title:<18} {'prec':>6} {'rec':>6} {'f1':>6} {'kappa':>6} "
                         f"{'support':>8} {'pred':>5}")
            for s in rows:
                lines.append(f"{s.label:<18} {s.precision:6.2f} {s.recall:6.2f} {s.f1:6.2f} "
                             f"{s.kappa:6.2f} {s.support:8d} {s.tp + s.fp:5d}")
            lines.append("")
        if self.family_confusion:
            cols = list(self.family_confusion)
            lines.append("family confusion (rows: gold, columns: predicted)")
            lines.append(f"{'':<14}" + "".join(f"{c[:6]:>7}" for c in cols))
            for g in cols:
                lines.append(f"{g:<14}" + "".join(
                    f"{self.family_confusion[g].get(c, 0):7d}" for c in cols))
        return "\n".join(lines).rstrip() + "\n"


def evaluate(gold: Sequence[set[str]], predicted: Sequence[set[str]], *,
             groups: Sequence[Hashable] | None = None,
             n_resamples: int = 1000) -> EvaluationResult:
    """Compare predicted code sets with gold code sets, message by message.

    Parameters
    ----------
    gold, predicted : sequence of set of str
        One set of code names per message, in the same order.
    groups : sequence, optional
        The conversation of each message; when given, ``extra["intervals"]`` holds bootstrap
        intervals (:func:`bootstrap_intervals`, ``n_resamples`` resamples).
    n_resamples : int
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} messages but predicted has {len(predicted)}")
    cb = codebook()
    gold_l = [set(g) for g in gold]
    pred_l = [set(p) for p in predicted]

    def fam(codes: set[str]) -> set[str]:
        return {cb.family_of(c) if c in cb else c for c in codes}

    exact = sum(1 for g, p in zip(gold_l, pred_l, strict=True) if g == p)
    gold_f = [fam(g) for g in gold_l]
    pred_f = [fam(p) for p in pred_l]
    return EvaluationResult(
        codes=_scores(gold_l, pred_l, cb.names),
        families=_scores(gold_f, pred_f, [f.name for f in cb.families]),
        n_messages=len(gold_l),
        n_gold=sum(len(g) for g in gold_l),
        n_predicted=sum(len(p) for p in pred_l),
        exact_match=exact / len(gold_l) if gold_l else 0.0,
        family_confusion=family_confusion(gold_f, pred_f, [f.name for f in cb.families]),
        extra={} if groups is None or not gold_l else {"intervals": bootstrap_intervals(
            gold_l, pred_l, groups, n_resamples=n_resamples)},
    )


def _counts(gold: Sequence[set[str]], predicted: Sequence[set[str]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-message tp, fp, fn indicators, one column per label seen in either side."""
    labels = sorted(set().union(*gold, *predicted)) if gold else []
    col = {label: j for j, label in enumerate(labels)}
    tp = np.zeros((len(gold), len(labels)))
    fp = np.zeros_like(tp)
    fn = np.zeros_like(tp)
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        for label in g & p:
            tp[i, col[label]] = 1
        for label in p - g:
            fp[i, col[label]] = 1
        for label in g - p:
            fn[i, col[label]] = 1
    return tp, fp, fn


def _f1s(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Macro-F1 (over labels seen in each resample) and micro-F1, one value per row."""
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    seen = (denom > 0).sum(axis=1)
    macro = np.divide(f1.sum(axis=1), seen, out=np.zeros(len(tp)), where=seen > 0)
    pooled = denom.sum(axis=1)
    micro = np.divide(2 * tp.sum(axis=1), pooled, out=np.zeros(len(tp)), where=pooled > 0)
    return macro, micro


def bootstrap_intervals(gold: Sequence[set[str]], predicted: Sequence[set[str]],
                        groups: Sequence[Hashable], *, n_resamples: int = 1000,
                        level: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """Percentile intervals of macro-F1 (codes, families) and micro-F1, resampling ``groups``.

    Parameters
    ----------
    gold, predicted : sequence of set of str
        As for :func:`evaluate`.
    groups : sequence
        The conversation of each message: whole conversations are resampled.
    n_resamples, level, seed
        Bootstrap size, interval coverage and the generator's seed (deterministic).
    """
    if not (len(gold) == len(predicted) == len(groups)):
        raise ValueError("gold, predicted and groups must have one entry per message")
    if n_resamples < 1 or not 0 < level < 1:
        raise ValueError("n_resamples must be >= 1 and level in (0, 1)")
    cb = codebook()
    keys = list(dict.fromkeys(groups))
    index = {k: i for i, k in enumerate(keys)}
    member = np.zeros((len(keys), len(gold)))
    for m, g in enumerate(groups):
        member[index[g], m] = 1.0
    draws = np.random.default_rng(seed).integers(0, len(keys), (n_resamples, len(keys)))
    # how many times each message is in each resample
    weights = np.stack([np.bincount(d, minlength=len(keys)) for d in draws]) @ member

    def fam(codes: set[str]) -> set[str]:
        return {cb.family_of(c) if c in cb else c for c in codes}

    out: dict[str, Any] = {"level": level, "n_resamples": n_resamples, "n_groups": len(keys),
                           "seed": seed}
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    for name, (g, p) in (("codes", (gold, predicted)),
                         ("families", ([fam(x) for x in gold], [fam(x) for x in predicted]))):
        tp, fp, fn = _counts([set(x) for x in g], [set(x) for x in p])
        macro, micro = _f1s(weights @ tp, weights @ fp, weights @ fn)
        key = "macro_f1" if name == "codes" else "family_macro_f1"
        out[key] = [round(float(np.percentile(macro, lo)), 4),
                    round(float(np.percentile(macro, hi)), 4)]
        if name == "codes":
            out["micro_f1"] = [round(float(np.percentile(micro, lo)), 4),
                               round(float(np.percentile(micro, hi)), 4)]
    return out


def family_confusion(gold: Sequence[set[str]], predicted: Sequence[set[str]],
                     families: Sequence[str]) -> dict[str, dict[str, int]]:
    """Gold family x predicted family counts, ``none`` last (see the module docstring)."""
    labels = [*families, *sorted(set().union(*gold, *predicted) - set(families))] \
        if gold else list(families)
    labels.append("none")
    out = {g: dict.fromkeys(labels, 0) for g in labels}
    for g, p in zip(gold, predicted, strict=True):
        for f in g & p:
            out[f][f] += 1
        missed, extra = g - p, p - g
        for m in missed:
            for x in extra or {"none"}:
                out[m][x] += 1
        if not missed:
            for x in extra:
                out["none"][x] += 1
    return out


def load_gold(path: str | Path) -> tuple[list[Message], list[set[str]]]:
    """Read a gold JSONL file: messages in file order (so a coder sees context) and label sets.

    Each line is an object with ``text`` and ``gold`` (a list of code names); ``conversation_id``,
    ``message_id``, ``sender`` and ``timestamp`` are used when present.

    Raises
    ------
    InputError
        E001 when the file is missing; E303 for a bad line; E020 for an unknown code.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError.from_code("E001", path=p)
    names = set(codebook().names)
    messages: list[Message] = []
    labels: list[set[str]] = []
    for line_no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ExportFormatError.from_code("E303", path=p, line=line_no,
                                              detail=f"not valid JSON ({exc})") from exc
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) \
                or not isinstance(row.get("gold"), list):
            raise ExportFormatError.from_code("E303", path=p, line=line_no,
                                              detail="needs a string 'text' and a list 'gold'")
        for code in row["gold"]:
            if code not in names:
                raise ExportFormatError(E.E020.format(path=p, line=line_no, code=code),
                                        code="E020")
        ts = row.get("timestamp")
        try:
            when = datetime.fromisoformat(ts) if ts else None
        except (TypeError, ValueError) as exc:
            raise ExportFormatError.from_code("E303", path=p, line=line_no,
                                              detail=f"bad timestamp {ts!r}") from exc
        extra = {k: v for k, v in row.items() if k not in {
            "conversation_id", "message_id", "sender", "timestamp", "text", "gold"}}
        messages.append(Message(
            conversation_id=str(row.get("conversation_id", "gold")),
            message_id=str(row.get("message_id", f"gold-{line_no}")),
            sender=str(row.get("sender", "")) or f"speaker-{len(messages) % 2}",
            timestamp=when, text=row["text"], extra=extra,
        ))
        labels.append(set(row["gold"]))
    return messages, labels
