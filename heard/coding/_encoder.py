"""The encoder coder: a fine-tuned sentence encoder served with ONNX Runtime, behind a screen.

``--engine encoder``. It was trained on real, human-written dialogue labeled with the codebook
(``data/real/``, ``data/DATASHEET.md``) plus the project's corpus, and it reads each message
together with the message it answers. At run time it needs only ``onnxruntime``, ``tokenizers``
and numpy: no torch, no network.

How a message is coded
----------------------
1. **Safety rules first.** The rule coder's ``safety_risk`` rules run on every message (recall
   first); where they fire, ``safety_risk`` is raised with the rule's words as evidence,
   whatever the model says.
2. **The screen** settles the messages that plainly carry no code, which is most of everyday
   talk: a logistic regression over hashed character n-grams of the message and the message it
   answers, with a threshold chosen on held-out data for high recall of coded messages. A
   message the screen passes, or where a safety rule fired, goes to the encoder.
3. **The encoder** (all-MiniLM-L6-v2 fine-tuned for the 24 codes, int8) reads the pair
   (message, the other person's previous message) and gives one probability per code. A code is
   present when its probability reaches its threshold, chosen per code on held-out real and
   corpus data; codes it could not learn well have thresholds near 1, so it abstains rather
   than guesses.
4. **Evidence** is found by occlusion: the message is cut into clauses
   (:func:`heard.coding._spans.clauses`); each clause is removed in turn and the message coded
   again; the clause whose removal lowers the code's probability most is quoted, with any other
   clause that lowers it at least half as much. Whole clauses only, never a stock word.

The model folder (``coding/data/encoder/``) holds ``model.onnx``, ``tokenizer.json``,
``screen.npz`` and ``encoder.json`` (codes, thresholds, screen settings, and the training card).
``heard train --engine encoder`` rebuilds it (``pip install 'heard[train]'``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from heard.coding._combine import ALWAYS_AUTHORITATIVE, InputCoder, combined_code, rule_raises
from heard.coding._encoder_net import TOKENIZER_JSON, pad_encodings
from heard.coding._features import MessageInput
from heard.coding._spans import clauses
from heard.errors import DataFileError, InputError
from heard.model import Code, Corpus, codebook

__all__ = ["EncoderCoder", "EncoderModel", "context_text", "load_encoder", "pair_text",
           "screen_features"]

ENCODER_JSON, ENCODER_ONNX, SCREEN_NPZ = "encoder.json", "model.onnx", "screen.npz"
#: What the other person's previous message is prefixed with, so the model can tell the two apart.
CONTEXT_MARK = "they said: "
EVIDENCE_SHARE = 0.5


def context_text(prev_text: str | None) -> str:
    """What the encoder and the screen read of the message answered: marked, at most 400 chars."""
    return CONTEXT_MARK + (prev_text or "")[:400]


def pair_text(item: MessageInput) -> tuple[str, str]:
    """The (message, context) pair the encoder and the screen read."""
    return item.text, context_text(item.prev_text)


def _hasher(settings: dict[str, Any]) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb", ngram_range=tuple(settings["ngram_range"]),
        n_features=int(settings["n_features"]), alternate_sign=False, norm="l2",
        lowercase=True)


def screen_features(texts: Sequence[str], contexts: Sequence[str],
                    settings: dict[str, Any]) -> Any:
    """Hashed character n-grams of each message, and of its context at ``context_weight``."""
    import scipy.sparse as sp

    hasher = _hasher(settings)
    own = hasher.transform(list(texts))
    ctx = hasher.transform(list(contexts)) * float(settings["context_weight"])
    return sp.hstack([own, ctx], format="csr")


@dataclass(frozen=True)
class EncoderModel:
    """A loaded encoder bundle: the ONNX session, its tokenizer, screen and thresholds."""

    path: Path
    session: Any
    tokenizer: Any
    codes: tuple[str, ...]
    thresholds: np.ndarray
    screen_coef: np.ndarray
    screen_intercept: float
    screen: dict[str, Any]
    max_length: int
    card: dict[str, Any]

    def proba(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Per-code probabilities, shape (len(pairs), len(codes)), one message at a time.

        The int8 model quantizes its activations with one scale per run, so in a batch a
        message's scores moved with its neighbours (up to 0.21; 4 of 600 messages changed
        codes). Alone, a message's codes depend only on it and what it answers; it costs
        speed (bench_encoder: about 910 -> 630 msg/s on short messages, 547 -> 519 on
        talk about films, where a batch pads to its longest message).
        """
        out = np.zeros((len(pairs), len(self.codes)), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(pairs))):
            ids, mask, types = pad_encodings([encoding])
            (probs,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                               "token_type_ids": types})
            out[row] = probs[0]
        return out

    def screen_pass(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """True where the screen cannot rule out a code."""
        if not pairs:
            return np.zeros(0, dtype=bool)
        X = screen_features([p[0] for p in pairs], [p[1] for p in pairs], self.screen)
        z = X @ self.screen_coef + self.screen_intercept
        return np.asarray(z >= float(self.screen["threshold_logit"])).ravel()


def _packaged_dir() -> Path:
    return Path(str(resources.files("heard.coding") / "data" / "encoder"))


def load_encoder(path: str | Path | None = None, *, threads: int = 0) -> EncoderModel:
    """Load an encoder bundle: the packaged one (``None``) or a folder ``heard train`` wrote.

    ``threads`` is ONNX Runtime's intra-op thread count (0: its default, all cores).
    """
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise InputError.from_code("E480", missing=exc.name or "onnxruntime") from exc
    folder = _packaged_dir() if path is None else Path(path)
    meta_path = folder / ENCODER_JSON
    if not meta_path.is_file():
        raise InputError.from_code("E481", path=str(folder))
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(str(folder / ENCODER_ONNX), options,
                                       providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_JSON))
        max_length = int(meta["max_length"])
        tokenizer.enable_truncation(max_length, strategy="longest_first")
        tokenizer.no_padding()
        with np.load(folder / SCREEN_NPZ, allow_pickle=False) as screen:
            coef = screen["coef"].astype(np.float32)
            intercept = float(screen["intercept"])
        codes = tuple(meta["codes"])
        thresholds = np.array([float(meta["thresholds"][c]) for c in codes])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError.from_code("E482", path=str(folder), detail=str(exc)) from exc
    except Exception as exc:  # onnxruntime raises its own exception types for a bad graph
        raise DataFileError.from_code("E482", path=str(folder),
                                       detail=str(exc).splitlines()[0]) from exc
    return EncoderModel(folder, session, tokenizer, codes, thresholds, coef, intercept,
                        meta["screen"], max_length, meta.get("card", {}))


def _safety_rules() -> Any:
    from heard.coding._rules import RuleCoder

    # only the safety rules: the other rules' surface cues were what raised false alarms
    return RuleCoder(rules=Path(str(resources.files("heard.coding") / "data" / "rules"
                                    / "safety.jsonl"))).fit()


class EncoderCoder(InputCoder):
    """Code every message with the fine-tuned encoder (and the safety rules).

    Parameters
    ----------
    model : None or path
        ``None`` for the packaged model (``heard train --engine encoder`` rebuilds it), or a
        folder that command wrote.
    output_field : str
        The ``message.annotations`` key written by :meth:`transform`.
    max_evidence : int
        At most this many clauses quoted as evidence per code.
    use_screen : bool
        Let the cheap screen settle messages that plainly carry no code (the default). Off,
        every message goes through the encoder: slower, and the same codes on almost every
        message (the screen is calibrated for high recall).
    threads : int
        ONNX Runtime intra-op threads (0: its default).

    Attributes
    ----------
    model_ : EncoderModel

    Examples
    --------
    >>> coder = EncoderCoder().fit()                                   # doctest: +SKIP
    >>> [c.name for c in coder.code_text("You're overreacting, it was one text.")]  # doctest: +SKIP
    ['reframing']
    """

    requires: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, *, model: str | Path | None = None, output_field: str = "codes",
                 max_evidence: int = 2, use_screen: bool = True, threads: int = 0) -> None:
        self.model = model
        self.output_field = output_field
        self.max_evidence = max_evidence
        self.use_screen = use_screen
        self.threads = threads

    def fit(self, corpus: Corpus | None = None) -> Self:
        """Load the model, its screen and the safety rules; return ``self``."""
        self.model_ = load_encoder(self.model, threads=self.threads)
        self._rules = _safety_rules()
        self._mark_fitted()
        return self

    def _ready(self) -> None:
        self.check_fitted()

    @property
    def measured(self) -> dict[str, Any] | None:
        """How this model did on held-out real text (``heard eval --real --update-card``)."""
        from heard.coding._real import read_measured

        return read_measured(self.model_folder)

    @property
    def model_folder(self) -> Path:
        """Where the model's files are (the packaged folder for ``model=None``); needs no fit."""
        return _packaged_dir() if self.model is None else Path(self.model)

    def code_inputs(self, inputs: Sequence[MessageInput]) -> list[tuple[Code, ...]]:
        """Codes of prepared rows (see :func:`heard.coding._features.collect_inputs`)."""
        self._ready()
        model = self.model_
        names = [n for n in codebook().names if n in model.codes]
        cols = np.array([model.codes.index(n) for n in names], dtype=np.intp)
        rule_threshold = self._rules.threshold
        pairs = [pair_text(item) for item in inputs]
        # the safety rules raise safety_risk by themselves, as in every model-based engine
        rule, rule_used = rule_raises(inputs, names, ALWAYS_AUTHORITATIVE, (), rule_threshold)
        todo = model.screen_pass(pairs) if self.use_screen else np.ones(len(inputs), bool)
        todo |= rule_used.any(axis=1)
        rows = np.flatnonzero(todo).tolist()
        proba = np.zeros((len(inputs), len(names)), dtype=np.float32)
        if rows:
            proba[rows] = model.proba([pairs[r] for r in rows])[:, cols]
        present = (proba >= model.thresholds[cols]) | rule_used
        out: list[tuple[Code, ...]] = [() for _ in inputs]
        coded = np.flatnonzero(present.any(axis=1)).tolist()
        spans = self._evidence([inputs[r] for r in coded], [pairs[r] for r in coded],
                               proba[coded], present[coded], cols)
        for row, found in zip(coded, spans, strict=True):
            item = inputs[row]
            codes = []
            for k in np.flatnonzero(present[row]).tolist():
                codes.append(combined_code(
                    names[k], float(max(proba[row, k], rule[row, k])), item, found.get(k, []),
                    ["model:encoder"] if k in found else [],
                    rule_used=bool(rule_used[row, k]), rule_threshold=rule_threshold))
            out[row] = tuple(codes)
        return out

    def _evidence(self, items: Sequence[MessageInput], pairs: Sequence[tuple[str, str]],
                  proba: np.ndarray, present: np.ndarray, cols: np.ndarray
                  ) -> list[dict[int, list[tuple[int, int]]]]:
        """For each coded row, the clauses that carry each present code."""
        cut = [clauses(item.text) for item in items]
        occluded: list[tuple[str, str]] = []
        where: list[tuple[int, int]] = []  # (row, first occlusion index)
        for r, spans in enumerate(cut):
            where.append((r, len(occluded)))
            if len(spans) < 2:
                continue
            text = items[r].text
            for a, b in spans:
                occluded.append(((text[:a] + text[b:]).strip() or ".", pairs[r][1]))
        occ = self.model_.proba(occluded)[:, cols] if occluded else np.zeros((0, len(cols)))
        out: list[dict[int, list[tuple[int, int]]]] = []
        for r, start in where:
            spans = cut[r]
            found: dict[int, list[tuple[int, int]]] = {}
            for k in np.flatnonzero(present[r]).tolist():
                if len(spans) < 2:
                    found[k] = list(spans)
                    continue
                drops = proba[r, k] - occ[start:start + len(spans), k]
                top = float(drops.max())
                if top <= 0:
                    continue  # no one clause carries it: the whole message is quoted
                order = np.argsort(-drops, kind="stable")
                found[k] = [spans[j] for j in order[:self.max_evidence].tolist()
                            if drops[j] >= EVIDENCE_SHARE * top]
            out.append(found)
        return out
