"""Coding: assign the codebook's codes to every message, with scores and evidence spans."""

from heard.coding._codebook import Codebook, CodeInfo, FamilyInfo, codebook, explain
from heard.coding._evaluate import EvaluationResult, evaluate, family_confusion, load_gold

__all__ = [
    "CodeInfo",
    "Codebook",
    "CrossValidation",
    "EvaluationResult",
    "FamilyInfo",
    "LLMCoder",
    "MultiLabelCodeClassifier",
    "RuleCoder",
    "TrainedCoder",
    "codebook",
    "cross_validate",
    "evaluate",
    "explain",
    "family_confusion",
    "load_gold",
    "load_model",
    "save_model",
    "train",
]

_LAZY = {
    "RuleCoder": "heard.coding._rules",
    "LLMCoder": "heard.coding._llm",
    "MultiLabelCodeClassifier": "heard.coding._classifier",
    "TrainedCoder": "heard.coding._classifier",
    "load_model": "heard.coding._classifier",
    "save_model": "heard.coding._classifier",
    "CrossValidation": "heard.coding._train",
    "cross_validate": "heard.coding._train",
    "train": "heard.coding._train",
}


def __getattr__(name: str) -> object:
    # spaCy and scikit-learn take a while to import; only commands that code should pay it.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'heard.coding' has no attribute {name!r}")
