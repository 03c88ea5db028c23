"""The codebook as data: 24 codes in 8 families and the loop they make, read from
``model/data/codebook.json``.

It sits in the model layer because every layer reads it: the coders assign its codes, the
pattern layer finds its loop, the reports and the app explain it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from heard.errors import DataFileError

__all__ = ["CodeInfo", "Codebook", "FamilyInfo", "LoopStep", "codebook", "explain"]


@dataclass(frozen=True, slots=True)
class FamilyInfo:
    name: str
    label: str
    plain: str
    loop_role: str
    seed: str


@dataclass(frozen=True, slots=True)
class CodeInfo:
    name: str
    family: str
    definition: str
    examples: tuple[str, ...]
    not_this: tuple[str, ...]
    plain: str
    seed: str


@dataclass(frozen=True, slots=True)
class LoopStep:
    """One step of the loop: its name and the families or codes that make it."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Codebook:
    """The codes and families, in codebook order.

    Examples
    --------
    >>> cb = codebook()
    >>> cb.family_of("counter_blame")
    'defend'
    >>> len(cb.codes), len(cb.families)
    (24, 8)
    """

    version: str
    codes: tuple[CodeInfo, ...]
    families: tuple[FamilyInfo, ...]
    loop: tuple[LoopStep, ...] = ()

    @property
    def loop_steps(self) -> tuple[str, ...]:
        """The loop's steps by name, in order ("reach", "defend", ...)."""
        return tuple(s.name for s in self.loop)

    def to_dict(self) -> dict[str, Any]:
        """The codebook as JSON-ready data (families, codes, the loop), in codebook order."""
        return {
            "version": self.version,
            "families": [{"name": f.name, "label": f.label, "plain": f.plain,
                          "loop_role": f.loop_role, "seed": f.seed} for f in self.families],
            "codes": [{"name": c.name, "family": c.family, "definition": c.definition,
                       "examples": list(c.examples), "not_this": list(c.not_this),
                       "plain": c.plain, "seed": c.seed} for c in self.codes],
            "loop": [{"step": s.name, "members": list(s.members)} for s in self.loop],
        }

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.codes)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.codes)

    def code(self, name: str) -> CodeInfo:
        for c in self.codes:
            if c.name == name:
                return c
        raise KeyError(f"unknown code {name!r}; codes are: {', '.join(self.names)}")

    def family(self, name: str) -> FamilyInfo:
        for f in self.families:
            if f.name == name:
                return f
        raise KeyError(f"unknown family {name!r}")

    def family_of(self, code: str) -> str:
        return self.code(code).family

    def codes_in(self, family: str) -> tuple[str, ...]:
        return tuple(c.name for c in self.codes if c.family == family)


def _packaged() -> Any:
    path = resources.files("heard.model").joinpath("data", "codebook.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError.from_code("E051", file="codebook.json", detail=exc) from exc


def _load() -> Codebook:
    data = _packaged()
    try:
        families = tuple(FamilyInfo(**f) for f in data["families"])
        codes = tuple(
            CodeInfo(
                name=c["name"],
                family=c["family"],
                definition=c["definition"],
                examples=tuple(c["examples"]),
                not_this=tuple(c["not_this"]),
                plain=c["plain"],
                seed=c["seed"],
            )
            for c in data["codes"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError.from_code("E051", file="codebook.json", detail=exc) from exc
    family_names = {f.name for f in families}
    bad = [c.name for c in codes if c.family not in family_names]
    if bad:
        raise DataFileError.from_code("E051", file="codebook.json",
                                      detail=f"codes with unknown family: {bad}")
    # "defend|attack": a step made by either family; the step is named by the first.
    loop = tuple(LoopStep(spec.split("|")[0], tuple(spec.split("|")))
                 for spec in data.get("loop", ()))
    known = family_names | {c.name for c in codes}
    unknown = [m for s in loop for m in s.members if m not in known]
    if unknown:
        raise DataFileError.from_code("E051", file="codebook.json",
                                      detail=f"loop steps name no family or code: {unknown}")
    return Codebook(version=str(data["version"]), codes=codes, families=families, loop=loop)


@cache
def codebook() -> Codebook:
    """The packaged codebook (loaded once)."""
    return _load()


def explain(name: str) -> str:
    """One paragraph on a code or a family, in plain words.

    >>> explain("withdrawal").splitlines()[0]
    'withdrawal (defend): shut down or leave the exchange'
    """
    cb = codebook()
    if name in cb:
        c = cb.code(name)
        lines = [f"{c.name} ({c.family}): {c.definition}", f"In plain words: {c.plain}"]
        lines.append("Examples: " + " / ".join(c.examples))
        if c.not_this:
            lines.append("Not this: " + " / ".join(c.not_this))
        return "\n".join(lines)
    f = cb.family(name)
    return f"{f.name}: {f.label}. {f.plain} {f.loop_role}"
