"""The encoder's network: its inputs, the module, fine-tuning and the int8 export.

It imports nothing else of heard, and torch, transformers and ONNX only when a function needs
them, so that the fine-tuning step can run alone on a machine that has torch and little else (a
lent GPU, say): :func:`fit_to_onnx` takes the message pairs and label matrices that
:mod:`heard.coding._encoder_train` prepares and writes the int8 model that it then calibrates.
At run time :mod:`heard.coding._encoder` needs :func:`pad_encodings` and the tokenizer file's name.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["fit_to_onnx", "load_tokenizer", "masked_loss", "pad_encodings"]

TOKENIZER_JSON = "tokenizer.json"


def pad_encodings(encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, attention mask and token types of tokenizer encodings, padded to the longest."""
    width = max(len(enc.ids) for enc in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for r, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[r, :n], mask[r, :n], types[r, :n] = enc.ids, 1, enc.type_ids
    return ids, mask, types


def load_tokenizer(folder: str | Path, max_length: int) -> Any:
    """The base model's tokenizer, truncating pairs to ``max_length`` tokens, unpadded."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(folder) / TOKENIZER_JSON))
    tok.enable_truncation(max_length, strategy="longest_first")
    tok.no_padding()
    return tok


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
            # float32 whatever the stored weights are (a copy carried to a GPU may be float16)
            self.encoder = transformers.AutoModel.from_pretrained(
                str(folder), local_files_only=True, dtype=torch.float32)
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


def fit_to_onnx(pairs: Sequence[tuple[str, str]], Y: np.ndarray, known: np.ndarray,
                folder: str | Path, out_onnx: str | Path, settings: dict[str, Any], *,
                seed: int = 0, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Fine-tune the base model in ``folder`` on ``pairs`` and write it as int8 ONNX.

    ``Y`` holds one row of 0/1 labels per pair and ``known`` 1 where that label is known: a 0
    there (a code presumed neither present nor absent) leaves the label out of the loss.
    With ``settings["members"]`` above 1, that many fine-tunings (one head initialisation, each
    its own batch order) are averaged into the one model exported. Deterministic for a seed,
    torch build, device and thread count. Returns what the card records of the run.
    """
    cuda = str(settings.get("device", "cpu")).startswith("cuda")
    if cuda:
        # cuBLAS is deterministic only with a fixed workspace, set before CUDA starts
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch
    import transformers

    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(settings["threads"]))
    # a GPU lacks a deterministic kernel for a few operations: there, warn rather than stop
    torch.use_deterministic_algorithms(True, warn_only=cuda)
    try:
        return _fit(torch, transformers, pairs, Y, known, Path(folder), Path(out_onnx),
                    settings, seed, log)
    finally:  # leave the caller's torch as it was
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])


def _fit(torch: Any, transformers: Any, pairs: Sequence[tuple[str, str]], Y: np.ndarray,
         known: np.ndarray, folder: Path, out_onnx: Path, s: dict[str, Any], seed: int,
         log: Callable[[str], Any]) -> dict[str, Any]:
    device = torch.device(s.get("device", "cpu"))
    tok = load_tokenizer(folder, int(s["max_length"]))
    encs = tok.encode_batch(list(pairs))
    members = int(s.get("members", 1))
    started = time.perf_counter()
    states = []
    for k in range(members):
        # every member starts from the same head (the seed) and sees the batches in its own
        # order: their weights stay close enough to average (a uniform soup)
        torch.manual_seed(seed)
        model = _build_module(torch, transformers, folder, Y.shape[1]).to(device)
        tag = f"member {k + 1}/{members}, " if members > 1 else ""
        _train(torch, model, encs, pairs, Y, known, s, random.Random(seed + k),
               lambda msg, tag=tag: log(tag + msg), started)
        if members > 1:
            states.append({n: t.detach().to("cpu").clone() for n, t in model.state_dict().items()})
    if members > 1:
        model = _build_module(torch, transformers, folder, Y.shape[1])
        model.load_state_dict({n: sum(st[n].float() for st in states) / members
                               for n in states[0]})
    seconds = round(time.perf_counter() - started, 1)
    _export_int8(torch, model.to("cpu").eval(), _batches(encs, [0, 1], 2)[0][1:], out_onnx)
    return {"train_seconds": seconds, "torch": torch.__version__, "device": str(device),
            "members": members}


def _train(torch: Any, model: Any, encs: Sequence[Any], pairs: Sequence[tuple[str, str]],
           Y: np.ndarray, known: np.ndarray, s: dict[str, Any], rng: random.Random,
           log: Callable[[str], Any], started: float) -> None:
    device = next(model.parameters()).device
    Y = Y.astype(np.float32)
    known = known.astype(np.float32)
    pos = (Y * known).sum(0)
    neg = ((1 - Y) * known).sum(0)
    pos_weight = torch.tensor(np.minimum(neg / np.maximum(pos, 1.0), s["pos_weight_cap"]),
                              dtype=torch.float32, device=device)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
    # the head starts from random weights: it needs a far larger step than the encoder
    opt = torch.optim.AdamW(
        [{"params": model.encoder.parameters(), "lr": s["lr"]},
         {"params": model.head.parameters(), "lr": s["head_lr"]}],
        weight_decay=s["weight_decay"])
    size = int(s["batch_size"])
    steps = s["epochs"] * ((len(pairs) + size - 1) // size)
    warm = max(1, int(s["warmup"] * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min((k + 1) / warm, max(0.0, (steps - k) / max(1, steps - warm))))
    for epoch in range(s["epochs"]):
        model.train()
        order = list(range(len(pairs)))
        rng.shuffle(order)
        # batches of similar length (less padding), in a shuffled order
        chunks = [sorted(order[i:i + 50 * size], key=lambda k: len(pairs[k][0]))
                  for i in range(0, len(order), 50 * size)]
        batches = [b for chunk in chunks for b in _batches(encs, chunk, size)]
        rng.shuffle(batches)
        total = 0.0
        for idx, ids, mask, types in batches:
            logits = model.logits(*(torch.from_numpy(a).to(device) for a in (ids, mask, types)))
            loss = masked_loss(loss_fn, logits, torch.from_numpy(Y[idx]).to(device),
                               torch.from_numpy(known[idx]).to(device))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        log(f"epoch {epoch + 1}/{s['epochs']}: loss {total / len(pairs):.4f} "
            f"({time.perf_counter() - started:.0f} s)")


def masked_loss(loss_fn: Any, logits: Any, Y: Any, known: Any) -> Any:
    """The mean of ``loss_fn`` (reduction "none") over the labels that are known.

    With every label known it is the plain mean, so rows with no unknown label train exactly as
    they did before partial labels.
    """
    return (loss_fn(logits, Y) * known).sum() / known.sum().clamp(min=1.0)


def _export_int8(torch: Any, model: Any, sample: Sequence[np.ndarray], out_onnx: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_onnx.parent.mkdir(parents=True, exist_ok=True)
    fp32 = out_onnx.with_suffix(".fp32.onnx")
    names = ("input_ids", "attention_mask", "token_type_ids")
    torch.onnx.export(
        model, tuple(torch.from_numpy(a) for a in sample), str(fp32),
        input_names=list(names), output_names=["proba"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names} | {"proba": {0: "batch"}},
        opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(out_onnx), weight_type=QuantType.QInt8)
    fp32.unlink()
