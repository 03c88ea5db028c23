"""The safety gate: any ``safety_risk`` code, from either partner, switches heard to safety mode.

In safety mode the report shows what was found (the messages, with the words that raised each
flag quoted and the reason), says in plain words what it is and why better wording is not the
answer, and lists where to get help, the resources that fit what was found first. It shows no
loop analysis as the explanation and no coaching: never advice to soften, appease, stay, leave or
confront. The words, the resources and their order per category live in ``data/safety.json``.

The gate trusts the codes: every ``safety_risk`` counts, whatever its score, because missing one
costs far more than showing resources once too often. The category (self-harm, violence, threat,
coercive control) only labels a finding: from a small lexicon applied to the evidence, and from
the ids of the rules that fired; when neither says, the finding is a "safety concern", never
dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from heard.errors import DataFileError
from heard.model import Corpus, Evidence, Message
from heard.patterns._data import load_json, safety_data
from heard.patterns._safety_result import Resource, SafetyFinding, SafetyResult

__all__ = ["categorize", "guidance", "phrases", "scan_safety"]

_CODE = "safety_risk"
# A phrase ends at a sentence's end or a line break; spans inside one sentence are quoted as one.
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")


@cache
def _guidance_data() -> dict[str, Any]:
    """The per-category words of ``safety.json``, checked once."""
    data = load_json("safety.json")
    try:
        names = [str(c["name"]) for c in data["categories"]] + [str(data["fallback_category"])]
        ids = [str(r["id"]) for r in data["resources"]]
        text = data["guidance"]
        for name in names:
            entry = text[name]
            for key in ("noun", "heading", "why"):
                if not isinstance(entry[key], str) or not entry[key]:
                    raise ValueError(f"guidance '{name}': '{key}' must be words")
            if not entry["paragraphs"]:
                raise ValueError(f"guidance '{name}': no paragraphs")
            unknown = set(entry["resources"]) - set(ids)
            if unknown:
                raise ValueError(f"guidance '{name}': unknown resources {sorted(unknown)}")
            if "shared" in entry and entry["shared"] not in data["shared_paragraphs"]:
                raise ValueError(f"guidance '{name}': unknown shared block {entry['shared']}")
        for mode in data["check"].values():
            for key in mode:
                if key not in text and key not in data["shared_paragraphs"]:
                    raise ValueError(f"check: unknown category or block '{key}'")
        prefixes = {str(k): str(v) for k, v in data["rule_categories"]["prefixes"].items()}
        if set(prefixes.values()) - set(names):
            raise ValueError("rule_categories: unknown category")
        str(data["closing"]), str(data["device"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise DataFileError.from_code("E051", file="safety.json", detail=exc) from exc
    return {"order": names, "prefixes": prefixes, **data}


def _rule_categories(rule_ids: Iterable[str]) -> set[str]:
    prefixes = _guidance_data()["prefixes"]
    return {cat for rid in rule_ids for p, cat in prefixes.items() if rid.startswith(p)}


def categorize(texts: list[str], rule_ids: Iterable[str] = ()) -> tuple[str, ...]:
    """The categories whose terms occur in the texts, or whose rules fired, in priority order.

    A term inside a span that an earlier category already matched does not count again, so
    "I'll kill myself" is self-harm and not also violence. ``rule_ids`` are the ids of the
    ``safety_risk`` rules that fired (``Code.rule_ids``); a rule's category counts even when
    the lexicon misses its words.
    """
    _, categories, _, _ = safety_data()
    from_rules = _rule_categories(rule_ids)
    found: list[str] = []
    taken: list[list[tuple[int, int]]] = [[] for _ in texts]
    for name, lexicon in categories:
        hit = name in from_rules
        for k, text in enumerate(texts):
            for start, end, _ in lexicon.find(text):
                if any(start < e and s < end for s, e in taken[k]):
                    continue
                taken[k].append((start, end))
                hit = True
        if hit:
            found.append(name)
    return tuple(found)


def phrases(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The phrases that carry the spans: spans in one sentence become one phrase, from the
    first span's start to the last one's end.

    The coder's evidence can be pieces ("if you leave", "what I'll do to myself"); quoted or
    highlighted alone they hide what the words say together.

    >>> t = "if you leave I don't know what I'll do to myself"
    >>> [t[a:b] for a, b in phrases(t, [(0, 12), (26, 48)])]
    ["if you leave I don't know what I'll do to myself"]
    """
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text) + 1]
    merged: dict[int, list[int]] = {}
    for start, end in sorted(spans):
        if end <= start:
            continue
        k = next(i for i in range(len(bounds) - 1) if start < bounds[i + 1])
        if k in merged:
            merged[k][1] = max(merged[k][1], end)
        else:
            merged[k] = [start, end]
    return [(a, b) for a, b in sorted(merged.values())]


def guidance(categories: Iterable[str], *, mode: str | None = None) -> dict[str, Any]:
    """What to say about findings of these categories, and which resources fit them first.

    Parameters
    ----------
    categories : iterable of str
        Categories found (any order); unknown names count as the fallback category.
    mode : {"send", "received"}, optional
        For ``heard check``: speak to the person who wrote the text (``"send"``) or received
        it, where ``safety.json`` has words for that (``check``); otherwise the report's words.

    Returns
    -------
    dict
        ``sections`` (``{"category", "noun", "heading", "why", "paragraphs"}`` in priority
        order),
        ``paragraphs`` (all of it, in order, each shared block once), ``closing``, ``device``
        and ``resources`` (dicts ``{"id", "name", "contact", "detail"}``, the fitting ones
        first).
    """
    data = _guidance_data()
    order = data["order"]
    fallback = data["fallback_category"]
    found = {c if c in order else fallback for c in categories} or {fallback}
    ranked = sorted(found, key=order.index)
    check = data["check"].get(mode or "", {})
    sections: list[dict[str, Any]] = []
    paragraphs: list[str] = []
    said: set[str] = set()
    shared_after: list[str] = []
    for name in ranked:
        entry = data["guidance"][name]
        block = entry.get("shared")
        if name in check:
            paras = list(check[name])
        elif block is not None and block in check:
            # the check's words for the whole block, said once
            paras = [] if block in said else list(check[block])
            said.add(block)
        else:
            paras = list(entry["paragraphs"])
            if block is not None and block not in said and block not in shared_after:
                shared_after.append(block)
        sections.append({"category": name, "noun": entry["noun"], "heading": entry["heading"],
                         "why": entry["why"], "paragraphs": paras})
        paragraphs += paras
    shared = [p for b in shared_after for p in data["shared_paragraphs"][b]]
    paragraphs += shared
    wanted: list[str] = []
    for name in ranked:
        wanted += [r for r in data["guidance"][name]["resources"] if r not in wanted]
    resources = sorted(data["resources"], key=lambda r: (
        wanted.index(r["id"]) if r["id"] in wanted else len(wanted)))
    return {
        "sections": sections,
        "paragraphs": paragraphs,
        "shared": shared,
        "closing": data["closing"],
        "device": data["device"],
        "resources": [{"id": str(r["id"]), "name": str(r["name"]), "contact": str(r["contact"]),
                       "detail": str(r.get("detail", ""))} for r in resources],
    }


def _finding(m: Message) -> SafetyFinding | None:
    codes = [c for c in m.codes if c.name == _CODE]
    if not codes:
        return None
    evidence: list[Evidence] = []
    for c in codes:
        for e in c.evidence:
            if e not in evidence:
                evidence.append(e)
    if not evidence:
        evidence = [Evidence(0, len(m.text), m.text)]
    texts = [e.text or m.text[e.start:e.end] for e in evidence]
    categories = categorize(texts, [r for c in codes for r in c.rule_ids])
    _, _, fallback, _ = safety_data()
    return SafetyFinding(
        message_id=m.message_id,
        conversation_id=m.conversation_id,
        sender=m.sender,
        timestamp=m.timestamp,
        text=m.text,
        evidence=tuple(evidence),
        category=categories[0] if categories else fallback,
        categories=categories,
        score=max(c.score for c in codes),
    )


def scan_safety(corpus: Corpus) -> SafetyResult:
    """Look for ``safety_risk`` in every human message, from either partner.

    Parameters
    ----------
    corpus : Corpus
        Coded messages (``annotations["codes"]``).

    Returns
    -------
    SafetyResult
        ``triggered`` when anything was found. The explanation speaks of the categories found
        (the general one when nothing was), and the resources that fit them come first; both
        are always filled in, so a report can show them whenever it needs to.

    Examples
    --------
    >>> from heard.model import Code, Corpus, Message
    >>> m = Message("c", "1", "Alex", None, "Give me your password or else.")
    >>> m.annotations["codes"] = (Code("safety_risk", 1.0),)
    >>> result = scan_safety(Corpus.from_messages([m]))
    >>> result.triggered, result.findings[0].category
    (True, 'threat')
    """
    general, _, _, _ = safety_data()
    findings = tuple(
        f for f in (_finding(m) for m in corpus.iter_messages(lambda m: m.is_human))
        if f is not None
    )
    if findings:
        said = guidance(f.category for f in findings)
        explanation = "\n\n".join([*said["paragraphs"], said["closing"]])
        resources = said["resources"]
    else:
        explanation = general
        resources = guidance(())["resources"]
    return SafetyResult(
        triggered=bool(findings),
        findings=findings,
        explanation=explanation,
        resources=tuple(Resource(r["name"], r["contact"], r["detail"]) for r in resources),
    )
