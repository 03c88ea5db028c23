"""Coding: assign the codebook's codes to every message, with scores and evidence spans."""

from heard.coding._evaluate import (
    EvaluationResult,
    bootstrap_intervals,
    evaluate,
    family_confusion,
    load_gold,
)
from heard.coding._registry import (
    EngineInfo,
    default_engine,
    engine_info,
    engines,
    make_engine,
)
from heard.model import Codebook, CodeInfo, FamilyInfo, codebook, explain

__all__ = [
    "CodeInfo",
    "Codebook",
    "CrossValidation",
    "EmbeddingCoder",
    "EmbeddingCrossValidation",
    "EmbeddingHead",
    "EncoderCoder",
    "EngineInfo",
    "EvaluationResult",
    "FamilyInfo",
    "LLMCoder",
    "MultiLabelCodeClassifier",
    "RuleCoder",
    "SentenceEmbedder",
    "TrainedCoder",
    "bootstrap_intervals",
    "codebook",
    "cross_validate",
    "cross_validate_embed",
    "default_engine",
    "engine_info",
    "engines",
    "evaluate",
    "evaluate_real",
    "explain",
    "family_confusion",
    "load_gold",
    "load_head",
    "load_model",
    "make_engine",
    "save_head",
    "save_model",
    "text_in_context",
    "train",
    "train_embed",
    "train_encoder",
    "write_measured",
]

_LAZY = {
    "RuleCoder": "heard.coding._rules",
    "LLMCoder": "heard.coding._llm",
    "MultiLabelCodeClassifier": "heard.coding._calibrated",
    "TrainedCoder": "heard.coding._classifier",
    "load_model": "heard.coding._classifier",
    "save_model": "heard.coding._classifier",
    "CrossValidation": "heard.coding._train",
    "cross_validate": "heard.coding._train",
    "train": "heard.coding._train",
    "EmbeddingCoder": "heard.coding._embed",
    "EmbeddingCrossValidation": "heard.coding._embed_train",
    "EmbeddingHead": "heard.coding._embed_head",
    "SentenceEmbedder": "heard.coding._embed_model",
    "cross_validate_embed": "heard.coding._embed_train",
    "load_head": "heard.coding._embed_head",
    "save_head": "heard.coding._embed_head",
    "train_embed": "heard.coding._embed_train",
    "EncoderCoder": "heard.coding._encoder",
    "train_encoder": "heard.coding._encoder_train",
    "text_in_context": "heard.coding._features",
    "evaluate_real": "heard.coding._real",
    "write_measured": "heard.coding._real",
}


def __getattr__(name: str) -> object:
    # spaCy and scikit-learn take a while to import; only commands that code should pay it.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'heard.coding' has no attribute {name!r}")
