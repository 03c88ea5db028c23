"""Check before you send: how a draft may land, and what a reply that holds space could contain.

This module imports nothing from FastAPI, so ``heard check`` works without the app's extras.
The words of every piece of advice live in ``data/advice.json``; the code only decides which
apply. Two rules are not negotiable:

* Advice is an edit the writer makes in their own words. heard never writes the message.
* When the draft, or any message it answers, carries ``safety_risk``, there is no advice to
  soften, appease or stay: the result carries the safety information instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from heard.coding import codebook
from heard.errors import DataFileError, OptionError
from heard.model import Code, Corpus, Message

__all__ = ["CheckResult", "Suggestion", "advice_data", "check_text"]

Mode = Literal["send", "received"]
_SAFETY = "safety_risk"
# Codes whose evidence is highlighted as "may land as a threat" / "carries it alone".
_FLAG_GROUPS = ("threat", "overfunction", "harden", "arc")
_GOOD_GROUPS = ("truth", "hold")
#: The longest text checked (characters); longer drafts are refused with E502.
MAX_CHARS = 20_000


@cache
def advice_data() -> dict[str, Any]:
    """The advice file, validated: every code of the codebook has an entry with a known group."""
    try:
        raw = (resources.files("heard.app") / "data" / "advice.json").read_text("utf-8")
        data = json.loads(raw)
        groups = data["groups"]
        for name in codebook().names:
            if name == _SAFETY:
                continue
            entry = data["codes"][name]
            if entry["group"] not in groups or not entry["advice"]:
                raise ValueError(f"code {name}: bad group or empty advice")
        missing = [k for k in ("absolutes", "requests", "in_person", "length", "holding_space")
                   if k not in data]
        if missing:
            raise KeyError(", ".join(missing))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise DataFileError.from_code("E051", file="heard/app/data/advice.json",
                                      detail=exc) from exc
    return data


@cache
def _coder() -> Any:
    from heard.api import default_coder

    return default_coder().fit(Corpus())


def _terms_regex(terms: Sequence[str]) -> re.Pattern[str]:
    alts = sorted((re.escape(t) for t in terms), key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(alts) + r")(?![\w'])", re.IGNORECASE)


@cache
def _absolutes() -> re.Pattern[str]:
    return _terms_regex(advice_data()["absolutes"]["terms"])


@cache
def _requests() -> re.Pattern[str]:
    return _terms_regex(advice_data()["requests"]["terms"])


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One edit to consider: which code or check raised it, the words it is about, the advice.

    ``code`` is a codebook code, or one of the checks ``absolutes``, ``one_request``,
    ``name_the_feeling``, ``length``, ``in_person``. ``span`` is ``{"start", "end", "text"}``
    in the checked text, or None when the advice is about the whole message.
    """

    code: str
    span: dict[str, Any] | None
    advice: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "span": self.span, "advice": self.advice}


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_text` found.

    Attributes
    ----------
    text : str
    mode : {"send", "received"}
        A draft to send, or a message received.
    codes : tuple of Code
        The codes with their evidence, as ``heard code`` gives them.
    flagged : list of dict
        Codes that may land as a threat or carry the loop: ``{"code", "group", "label",
        "evidence"}``.
    truths : list of dict
        What already speaks from emotional truth or holds space (same shape).
    suggestions : list of Suggestion
        Edits to consider (empty in safety mode).
    holding_space : list of dict
        For a received message: what a reply that holds space could contain
        (``{"code", "label", "prompt", "because"}``); empty in send mode and in safety mode.
    safety : dict or None
        In safety mode: ``explanation`` (paragraphs), ``resources``, ``findings`` (where
        ``safety_risk`` was found: ``"text"`` or ``"context"`` with the evidence).
    """

    text: str
    mode: Mode
    codes: tuple[Code, ...]
    flagged: list[dict[str, Any]] = field(default_factory=list)
    truths: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    holding_space: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    safety: dict[str, Any] | None = None

    @property
    def safety_mode(self) -> bool:
        return self.safety is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``codes`` as in ``heard code``'s records, ``suggestions`` as
        ``{"code", "span", "advice"}``."""
        return {
            "text": self.text,
            "mode": self.mode,
            "codes": [c.to_dict() for c in self.codes],
            "flagged": self.flagged,
            "truths": self.truths,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "holding_space": self.holding_space,
            "notes": self.notes,
            "safety_mode": self.safety_mode,
            "safety": self.safety,
        }


def _span(start: int, end: int, text: str) -> dict[str, Any]:
    return {"start": start, "end": end, "text": text[start:end]}


def _code_entry(c: Code, group: str, label: str) -> dict[str, Any]:
    return {"code": c.name, "group": group, "label": label,
            "evidence": [{"start": e.start, "end": e.end, "text": e.text} for e in c.evidence]}


def _context_messages(context: Sequence[Message | str] | None) -> list[Message | str]:
    return [c for c in (context or ()) if isinstance(c, Message) or (isinstance(c, str) and
                                                                      c.strip())]


def _phrase_entries(text: str, spans: Sequence[tuple[int, int]],
                    why: dict[str, str], default: str) -> list[dict[str, Any]]:
    """The phrases that carry the spans (see :func:`heard.patterns._safety.phrases`), each with
    the category its words speak of and why heard flagged it."""
    from heard.patterns import categorize, phrases

    out = []
    for a, b in phrases(text, spans):
        cats = [c for c in categorize([text[a:b]]) if c in why]
        category = cats[0] if cats else default
        out.append({"start": a, "end": b, "text": text[a:b], "category": category,
                    "why": why.get(category, "")})
    return out


def _safety_info(text: str, text_codes: Sequence[Code], context_hits: list[dict[str, Any]],
                 mode: Mode) -> dict[str, Any] | None:
    from heard.patterns import categorize, guidance

    own = [c for c in text_codes if c.name == _SAFETY]
    if not own and not context_hits:
        return None
    own_spans = [(e.start, e.end) for c in own for e in c.evidence] or (
        [(0, len(text))] if own else [])
    own_cats = categorize([text[a:b] for a, b in own_spans],
                          [r for c in own for r in c.rule_ids]) if own else ()
    cats = list(own_cats)
    for hit in context_hits:
        cats += [c for c in hit.pop("categories") if c not in cats]
    # Self-harm in the writer's own draft: care for the writer comes first and alone.
    if mode == "send" and "self-harm" in own_cats:
        said = guidance(["self-harm"], mode=mode)
    else:
        said = guidance(cats, mode=mode if own else "received")
    why = {s["category"]: s["why"] for s in said["sections"]}
    all_why = {s["category"]: s["why"] for s in guidance(cats)["sections"]}
    findings: list[dict[str, Any]] = []
    if own:
        findings.append({
            "where": "text",
            "evidence": [{"start": e.start, "end": e.end, "text": e.text}
                         for c in own for e in c.evidence],
            "phrases": _phrase_entries(text, own_spans, {**all_why, **why},
                                       said["sections"][0]["category"]),
        })
    findings += context_hits
    return {
        "explanation": [*said["paragraphs"]],
        "categories": [s["category"] for s in said["sections"]],
        "found": [s["noun"] for s in said["sections"]],
        "all_categories": cats,
        "resources": said["resources"],
        "device": said["device"],
        "findings": findings,
    }


def _context_safety(context: list[Message | str], coded: list[tuple[Code, ...]]
                    ) -> list[dict[str, Any]]:
    """``safety_risk`` in the messages the text answers (``coded``: their codes, in order)."""
    from heard.patterns import categorize, guidance

    hits: list[dict[str, Any]] = []
    for i, (item, codes) in enumerate(zip(context, coded, strict=True)):
        text = item.text if isinstance(item, Message) else item
        own = [c for c in codes if c.name == _SAFETY]
        if not own:
            continue
        spans = [(e.start, e.end) for c in own for e in c.evidence] or [(0, len(text))]
        cats = categorize([text[a:b] for a, b in spans], [r for c in own for r in c.rule_ids])
        why = {s["category"]: s["why"] for s in guidance(cats)["sections"]}
        hits.append({"where": "context", "index": i, "categories": list(cats),
                     "evidence": [{"start": a, "end": b, "text": text[a:b]} for a, b in spans],
                     "phrases": _phrase_entries(text, spans, why, next(iter(why)))})
    return hits


def _code_all(text: str, context: list[Message | str],
              sender: str | None) -> tuple[tuple[Code, ...], list[tuple[Code, ...]]]:
    """The draft's codes and each context message's, from one pass of the coder.

    Each message is coded after the ones before it, as ``code_text`` would code it alone, but
    the conversation is coded once rather than once per message (that made a long context
    cost quadratic time). Context Messages that already carry codes keep them.
    """
    from heard.coding import text_in_context

    coder = _coder()
    corpus, target = text_in_context(text, context or None, sender)
    coder.transform(corpus)
    copies = {m.message_id: m for m in corpus.iter_messages()}
    coded: list[tuple[Code, ...]] = []
    for i, item in enumerate(context):
        copy = copies[f"ctx-{i}"]
        known = item.annotations.get("codes") if isinstance(item, Message) else None
        coded.append(tuple(known) if known is not None
                     else tuple(copy.annotations.get(coder.output_field, ())))
    return tuple(target.annotations[coder.output_field]), coded


def check_text(text: str, context: Sequence[Message | str] | None = None, *,
               mode: Mode = "send", sender: str | None = None) -> CheckResult:
    """Check a draft before sending it (``mode="send"``), or read a message received.

    Parameters
    ----------
    text : str
        The draft, or the message received.
    context : sequence of Message or str, optional
        Earlier messages of the conversation, oldest first (plain strings are the other
        person's). The draft is coded in this context, and ``safety_risk`` in any of them
        switches to safety mode.
    mode : {"send", "received"}
    sender : str, optional
        Who writes ``text`` when ``context`` holds Messages.

    Returns
    -------
    CheckResult

    Raises
    ------
    OptionError
        E501 for an unknown mode, E502 for a text over :data:`MAX_CHARS` characters.

    Examples
    --------
    >>> r = check_text("You never listen to me.")                  # doctest: +SKIP
    >>> [s.code for s in r.suggestions]                            # doctest: +SKIP
    ['criticism', 'absolutes', 'name_the_feeling']
    """
    if mode not in ("send", "received"):
        raise OptionError.from_code("E501", value=mode)
    if len(text) > MAX_CHARS:
        raise OptionError.from_code("E502", n=len(text), limit=MAX_CHARS)
    ctx = _context_messages(context)
    if not text.strip():
        return CheckResult(text=text, mode=mode, codes=())
    data = advice_data()
    codes, context_codes = _code_all(text, ctx, sender)
    groups = data["groups"]
    flagged, truths = [], []
    for c in codes:
        entry = data["codes"].get(c.name)
        if entry is None:
            continue
        item = _code_entry(c, entry["group"], groups[entry["group"]])
        (flagged if entry["group"] in _FLAG_GROUPS else truths).append(item)
    safety = _safety_info(text, codes, _context_safety(ctx, context_codes), mode)
    result = CheckResult(text=text, mode=mode, codes=codes, flagged=flagged, truths=truths,
                         safety=safety)
    if safety is not None:
        # Safety mode: no coaching at all, in either direction.
        result.notes.append("heard shows no advice on wording here: what it found comes "
                            "before how a message lands. See the safety information above.")
        return result
    if mode == "send":
        result.suggestions.extend(_send_suggestions(text, codes, data))
    else:
        result.holding_space.extend(_holding_space(codes, data))
        result.notes.append(data["holding_space"]["not_this"])
        if any(c.name in ("criticism", "contempt") for c in codes):
            result.notes.append(data["holding_space"]["under_attack"])
    return result


def _send_suggestions(text: str, codes: Sequence[Code],
                      data: dict[str, Any]) -> list[Suggestion]:
    names = {c.name for c in codes}
    out: list[Suggestion] = []
    for c in codes:
        entry = data["codes"].get(c.name)
        if entry is None or entry["group"] not in _FLAG_GROUPS or c.name == "breaking_point":
            continue
        ev = c.evidence[0] if c.evidence else None
        span = _span(ev.start, ev.end, text) if ev else None
        out.append(Suggestion(c.name, span, entry["advice"]))
    for m in _absolutes().finditer(text):
        out.append(Suggestion("absolutes", _span(m.start(), m.end(), text),
                              data["absolutes"]["advice"].format(term=m.group(0))))
    reach = names & {"emotional_truth", "complaint"}
    if names & {"criticism", "contempt", "counter_blame"} and "emotional_truth" not in names:
        out.append(Suggestion("name_the_feeling", None, data["feeling_advice"]))
    requests = list(_requests().finditer(text))
    if len(requests) > 1:
        out.append(Suggestion("one_request", _span(requests[1].start(), requests[1].end(), text),
                              data["requests"]["many_advice"].format(n=len(requests))))
    elif not requests and reach and "bid" not in names:
        out.append(Suggestion("one_request", None, data["requests"]["none_advice"]))
    n_words = len(text.split())
    if n_words > data["length"]["words"] and "over_explaining" not in names:
        out.append(Suggestion("length", None, data["length"]["advice"].format(n=n_words)))
    why = _in_person_reason(names, n_words, codes, data)
    if why is not None:
        reason = data["in_person"]["reasons"][why]
        advice = data["in_person"]["advice"].format(why=reason)
        if why == "breaking_point":
            advice = data["codes"]["breaking_point"]["advice"] + " " + advice
        out.append(Suggestion("in_person", None, advice))
    return out


def _in_person_reason(names: set[str], n_words: int, codes: Sequence[Code],
                      data: dict[str, Any]) -> str | None:
    rules = data["in_person"]
    if "breaking_point" in names:
        return "breaking_point"
    if {"criticism", "contempt"} <= names:
        return "attack_pair"
    if n_words > rules["long_words"]:
        return "length"
    threats = [c for c in codes if data["codes"].get(c.name, {}).get("group") == "threat"]
    if len(threats) >= rules["many_threats"]:
        return "many_threats"
    return None


def _holding_space(codes: Sequence[Code], data: dict[str, Any]) -> list[dict[str, Any]]:
    names = {c.name for c in codes}
    hs = data["holding_space"]
    out = []
    for key in ("validation", "ownership", "curiosity", "staying"):
        entry = hs[key]
        because = [n for n in entry["emphasis"] if n in names]
        out.append({"code": key, "label": entry["label"], "prompt": entry["prompt"],
                    "because": because})
    # What the message itself asks for comes first; the order is otherwise the codebook's.
    out.sort(key=lambda e: not e["because"])
    return out
