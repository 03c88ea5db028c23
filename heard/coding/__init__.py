"""Coding: assign the codebook's codes to every message, with scores and evidence spans."""

from heard.coding._codebook import CodeInfo, Codebook, FamilyInfo, codebook, explain

__all__ = ["CodeInfo", "Codebook", "FamilyInfo", "codebook", "explain"]
