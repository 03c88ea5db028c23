"""The embedding coder's classifier head: its features, fitting, and files on disk.

The head is a :class:`~heard.coding._calibrated.MultiLabelCodeClassifier` over one row per
message: its embedding; ``context_weight`` x the embedding of the other partner's previous
message (zeros, and a ``first_turn`` flag, when there is none); ``prev_codes_weight`` x the
rule-coded codes of that previous message; ``rule_weight`` x the rule coder's scores. On disk
it is ``embed_head.npz`` (arrays) and ``embed_head.json`` (settings, thresholds, and the
embedding model's name, dimension and fingerprint). No pickle anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from heard.coding._calibrated import MultiLabelCodeClassifier
from heard.coding._combine import ALWAYS_AUTHORITATIVE, choose_authority
from heard.coding._embed_model import SentenceEmbedder
from heard.coding._features import MessageInput
from heard.coding._train import SETTINGS as TRAINED_SETTINGS
from heard.coding._train import code_classifier
from heard.errors import DataFileError, InputError
from heard.model import codebook

__all__ = ["SETTINGS", "EmbeddingHead", "fit_head", "load_head", "save_head"]

HEAD_FORMAT = 1
HEAD_JSON, HEAD_NPZ = "embed_head.json", "embed_head.npz"
#: Head settings: chosen once on grouped cross-validation of the corpus, never on the reference
#: sample. The rule settings are the trained coder's, so both combine rules the same way.
SETTINGS: dict[str, Any] = {
    "C": 16.0,
    "context_weight": 0.5,
    "prev_codes_weight": 0.5,
    "rule_weight": 1.0,
    "calibration_folds": 3,
    # how rules and model combine: the trained coder's settings, so both engines do it alike
    **{k: TRAINED_SETTINGS[k] for k in (
        "recall_floor", "precision_beta", "rule_threshold", "rule_feature_threshold",
        "authoritative_margin", "rule_precision", "rule_min_hits", "codebook_examples")},
}


@dataclass
class EmbeddingHead:
    """The classifier head and everything needed to use it (plain arrays and settings)."""

    codes: tuple[str, ...]
    classifier: MultiLabelCodeClassifier
    embed_model: dict[str, Any]
    authoritative: tuple[str, ...] = ALWAYS_AUTHORITATIVE
    authoritative_rules: tuple[str, ...] = ()
    rule_threshold: float = 0.5
    rule_feature_threshold: float = 0.05
    context_weight: float = 0.5
    prev_codes_weight: float = 0.5
    rule_weight: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        dim = int(self.embed_model["dim"])
        return 2 * dim + 1 + 2 * len(self.codes)

    def features(self, inputs: Sequence[MessageInput], text_vectors: np.ndarray,
                 prev_vectors: np.ndarray) -> np.ndarray:
        """The head's input rows: see the module docstring, step 2."""
        codes = self.codes
        index = {c: j for j, c in enumerate(codes)}
        n = len(inputs)
        first = np.array([i.prev_text is None for i in inputs], dtype=np.float32).reshape(-1, 1)
        prev_codes = np.zeros((n, len(codes)), dtype=np.float32)
        rules = np.zeros((n, len(codes)), dtype=np.float32)
        for row, item in enumerate(inputs):
            for c in item.prev_codes:
                if c in index:
                    prev_codes[row, index[c]] = 1.0
            for c, s in item.rule_scores.items():
                if c in index:
                    rules[row, index[c]] = s
        return np.hstack([text_vectors, prev_vectors * self.context_weight, first,
                          prev_codes * self.prev_codes_weight, rules * self.rule_weight]
                         ).astype(np.float32)


def _vectors(embedder: SentenceEmbedder, inputs: Sequence[MessageInput]
             ) -> tuple[np.ndarray, np.ndarray]:
    texts = [i.text for i in inputs]
    prev = [i.prev_text for i in inputs if i.prev_text is not None]
    table = embedder.encode(list(dict.fromkeys([*texts, *prev])))
    row = {t: k for k, t in enumerate(dict.fromkeys([*texts, *prev]))}
    text_vectors = table[[row[t] for t in texts]] if texts \
        else np.zeros((0, embedder.dim), np.float32)
    prev_vectors = np.zeros((len(inputs), embedder.dim), dtype=np.float32)
    for k, item in enumerate(inputs):
        if item.prev_text is not None:
            prev_vectors[k] = table[row[item.prev_text]]
    return text_vectors, prev_vectors


def save_head(head: EmbeddingHead, out_dir: str | Path) -> list[Path]:
    """Write ``embed_head.npz`` and ``embed_head.json`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clf = head.classifier
    npz = out / HEAD_NPZ
    with npz.open("wb") as f:
        np.savez_compressed(f, **clf.fitted_arrays())
    meta = {
        "format": HEAD_FORMAT,
        "codes": list(head.codes),
        "embed_model": head.embed_model,
        "authoritative": list(head.authoritative),
        "authoritative_rules": list(head.authoritative_rules),
        "rule_threshold": head.rule_threshold,
        "rule_feature_threshold": head.rule_feature_threshold,
        "context_weight": head.context_weight,
        "prev_codes_weight": head.prev_codes_weight,
        "rule_weight": head.rule_weight,
        "classifier": {k: v for k, v in clf.get_params().items()
                       if k not in ("recall_floor", "threshold_beta")},
        "meta": head.meta,
    }
    js = out / HEAD_JSON
    js.write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                  encoding="utf-8")
    return [npz, js]


def _packaged_head() -> Any:
    return resources.files("heard.coding").joinpath("data", "embed")


def load_head(path: str | Path | None = None) -> EmbeddingHead:
    """Read a head written by :func:`save_head` (``None``: the packaged one, for MiniLM-L6-v2)."""
    folder: Any = _packaged_head() if path is None else Path(path)
    where = "heard's packaged embedding head" if path is None else folder
    if path is not None and not (folder / HEAD_JSON).is_file():
        raise InputError.from_code("E474", path=folder)
    try:
        meta = json.loads(folder.joinpath(HEAD_JSON).read_text(encoding="utf-8"))
        with folder.joinpath(HEAD_NPZ).open("rb") as f:
            arrays = dict(np.load(f, allow_pickle=False))
        if meta.get("format") != HEAD_FORMAT:
            raise ValueError(f"head format {meta.get('format')!r}, this heard reads "
                             f"{HEAD_FORMAT}")
        codes = tuple(meta["codes"])
        clf = MultiLabelCodeClassifier.from_arrays(meta["classifier"], arrays)
        head = EmbeddingHead(
            codes=codes, classifier=clf, embed_model=dict(meta["embed_model"]),
            authoritative=tuple(meta["authoritative"]),
            authoritative_rules=tuple(meta.get("authoritative_rules", ())),
            rule_threshold=float(meta["rule_threshold"]),
            rule_feature_threshold=float(meta["rule_feature_threshold"]),
            context_weight=float(meta["context_weight"]),
            prev_codes_weight=float(meta["prev_codes_weight"]),
            rule_weight=float(meta["rule_weight"]), meta=meta.get("meta", {}))
        expected = head.n_features
        if clf.coef_.shape != (len(codes), expected):
            raise ValueError(f"coefficients of shape {clf.coef_.shape}, expected "
                             f"{(len(codes), expected)}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if path is None:
            raise DataFileError.from_code("E475", path=where, detail=exc) from exc
        raise InputError.from_code("E475", path=where, detail=exc) from exc
    return head


def fit_head(inputs: Sequence[MessageInput], gold: Sequence[set[str]], groups: Sequence[str],
             embedder: SentenceEmbedder, *, seed: int = 0,
             settings: Mapping[str, Any] | None = None) -> EmbeddingHead:
    """Fit the head on embedded messages; choose the authoritative codes on out-of-fold scores.

    Parameters
    ----------
    inputs : sequence of MessageInput
        From :func:`heard.coding._features.collect_inputs` with a rule coder at
        ``settings["rule_feature_threshold"]``.
    gold : sequence of set of str
    groups : sequence of str
        The couple of each message: calibration folds never split a couple.
    embedder : SentenceEmbedder
    seed : int
    settings : mapping, optional
        Overrides of :data:`SETTINGS`.
    """
    s = {**SETTINGS, **(settings or {})}
    codes = codebook().names
    Y = np.array([[c in g for c in codes] for g in gold], dtype=np.int8)
    head = EmbeddingHead(codes=tuple(codes), classifier=MultiLabelCodeClassifier(),
                         embed_model=embedder.describe(),
                         rule_threshold=s["rule_threshold"],
                         rule_feature_threshold=s["rule_feature_threshold"],
                         context_weight=s["context_weight"],
                         prev_codes_weight=s["prev_codes_weight"],
                         rule_weight=s["rule_weight"])
    X = head.features(inputs, *_vectors(embedder, inputs))
    clf = code_classifier(codes, s, seed).fit(X, Y, groups=list(groups))
    head.classifier = clf
    if clf.oof_proba_ is not None:
        head.authoritative, head.authoritative_rules = choose_authority(
            clf.oof_proba_ >= clf.thresholds_, Y, inputs, codes, s)
    return head
