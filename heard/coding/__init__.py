"""Coding: assign the codebook's codes to every message, with scores and evidence spans."""

from heard.coding._codebook import Codebook, CodeInfo, FamilyInfo, codebook, explain
from heard.coding._evaluate import EvaluationResult, evaluate, load_gold

__all__ = [
    "CodeInfo",
    "Codebook",
    "EvaluationResult",
    "FamilyInfo",
    "RuleCoder",
    "codebook",
    "evaluate",
    "explain",
    "load_gold",
]


def __getattr__(name: str) -> object:
    # spaCy takes about a second to import; only commands that code messages should pay it.
    if name == "RuleCoder":
        from heard.coding._rules import RuleCoder

        return RuleCoder
    raise AttributeError(f"module 'heard.coding' has no attribute {name!r}")
