"""What the report shows, as plain data: built once from an :class:`~heard.Analysis`.

The HTML template and the terminal summary both read this context, so the two never disagree,
and nothing in a template computes a figure. Every figure is a dict ``{"n", "anchor", "label"}``
from :class:`~heard.report._evidence.EvidenceIndex`, so it links to the messages behind it.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from heard._version import __version__
from heard.model import codebook
from heard.report._answer import answer
from heard.report._evidence import KIND_NOUNS, EvidenceIndex, MessageIndex, code_label
from heard.report._sections import (
    chasing,
    code_trust,
    codes_table,
    loops,
    partners,
    strengths,
)

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["build_context", "fmt_day", "forget_contexts", "glossary"]

def _commands_html(text: str) -> Any:
    """Escaped text with each `command` of the safety data file as <code>."""
    from markupsafe import Markup, escape

    parts = str(text).split("`")
    return Markup("").join(escape(p) if i % 2 == 0 else Markup("<code>%s</code>") % p
                           for i, p in enumerate(parts))


def _plain(text: str) -> str:
    """The safety data's `command` marks, as plain text (terminal, tests): quoted instead."""
    parts = str(text).split("`")
    return "".join(p if i % 2 == 0 else f"“{p}”" for i, p in enumerate(parts))


def fmt_day(ts: datetime | None) -> str:
    return ts.strftime("%a %d %b %Y") if ts else "no date"


def _parse(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _header(analysis: Analysis) -> dict[str, Any]:
    gen = analysis.generated_at
    return {
        "title": "heard: what your messages show",
        "generated": gen.strftime("%d %b %Y, %H:%M %Z").strip() if gen.tzinfo
        else gen.strftime("%d %b %Y, %H:%M"),
        "generated_iso": gen.isoformat(),
        "version": __version__,
        # the registry's name for the engine, recorded by the API with the analysis
        "coder": analysis.settings.get("coder_label") or analysis.coder,
        "senders": list(analysis.senders),
        # set by `heard demo`: a sample is said to be one, so nobody takes it for theirs
        "sample": analysis.corpus.meta.get("sample"),
    }


def _overview(analysis: Analysis) -> dict[str, Any]:
    ov = analysis.overview()
    first, last = _parse(ov["first"]), _parse(ov["last"])
    days = (last.date() - first.date()).days + 1 if first and last else None
    imports = []
    for imp in ov["imports"]:
        notes = [*imp.get("warnings", [])]
        notes += [f"line {s['line']}: skipped, {s['reason']}" for s in imp.get("skipped", [])]
        notes += [f"line {s['line']}: {s['reason']}" for s in imp.get("suspicious", [])]
        imports.append({"path": imp.get("path", ""), "format": imp.get("format", ""),
                        "notes": notes})
    patterns = analysis.patterns
    return {
        "first": fmt_day(first),
        "last": fmt_day(last),
        "days": days,
        "conversations": ov["conversations"],
        "episodes": len(patterns.episodes),
        "gap_hours": (f"{patterns.settings.gap_hours:g}"
                      if math.isfinite(patterns.settings.gap_hours) else None),
        "messages": ov["messages"],
        "by_kind": {KIND_NOUNS.get(k, (k, k))[v != 1]: v for k, v in ov["by_kind"].items()},
        "by_sender": [{"sender": s, "n": ov["by_sender"].get(s, 0)} for s in analysis.senders],
        "imports": imports,
        "has_timestamps": patterns.has_timestamps,
    }


def _safety(analysis: Analysis, idx: MessageIndex) -> dict[str, Any]:
    """The safety panel: per category what it is, the messages with the words that raised each
    flag and why, then the resources that fit first (words from ``patterns/data/safety.json``)."""
    from heard.patterns import categorize, guidance, phrases

    safety = analysis.safety
    said = guidance(f.category for f in safety.findings)
    why = {s["category"]: s["why"] for s in said["sections"]}
    findings = []
    for f in safety.findings:
        quotes = []
        for a, b in phrases(f.text, [(e.start, e.end) for e in f.evidence]):
            words = f.text[a:b]
            cats = categorize([words])
            category = cats[0] if cats and cats[0] in why else f.category
            quotes.append({"text": words, "why": why.get(category, why[f.category]),
                           "category": category})
        findings.append({
            "category": f.category,
            "categories": list(f.categories),
            "sender": f.sender,
            "card": idx.card(f.message_id),
            "text": f.text,
            "quotes": quotes,
        })
    sections = [{**s, "findings": [f for f in findings if f["category"] == s["category"]]}
                for s in said["sections"]]
    return {
        "triggered": safety.triggered,
        "findings": findings,
        "sections": sections,
        "shared": said["shared"],
        "closing": said["closing"],
        "categories": [{"name": s["category"], "n": len(s["findings"])} for s in sections],
        "explanation": [p.strip() for p in safety.explanation.split("\n\n") if p.strip()],
        "notes": [],
        "resources": [r.to_dict() for r in safety.resources],
        "device_note": _plain(said["device"]),
        "device_html": _commands_html(said["device"]),
    }


def _caveats(analysis: Analysis) -> list[str]:
    p = analysis.patterns
    n_msgs = sum(1 for _ in analysis.corpus.iter_messages(lambda m: m.is_human))
    out = [
        "Text is a proxy for tone. Couples researchers code faces and voices too; a message can "
        "read harsher or softer than it was meant. Read the quoted messages, not only the counts.",
        f"This report covers {n_msgs} messages in {len(p.episodes)} stretches of conversation. "
        f"Rates based on fewer than {p.settings.min_n} cases say \"not enough data\" instead of "
        "a number; small counts can change a lot with a few more messages.",
        "This is not a diagnosis and not a prediction. It describes what happened in these "
        "messages, not who anyone is, and it says nothing about what will happen next.",
        "Published figures quoted here (such as how often couples turn toward bids) are "
        "descriptive results from one lab's studies. They are not norms, not a target, and not "
        "heard's predictive power.",
        "The codes come from " + ("the codes given with the input." if analysis.coder == "given"
                                  else "a coder that reads words, not intent: it misses some "
                                  "messages and mislabels others (see the coder named above and "
                                  "its measured accuracy in heard's README).")
        + " What happens in person, by phone or in other apps is not here.",
    ]
    measured = analysis.settings.get("coder_measured")
    if measured and analysis.coder != "given":
        out.append(_measured_caveat(measured))
    if not p.has_timestamps:
        out.append("The messages carry no times, so reply times and spans are not shown.")
    return out


#: A held-out source's share of right codes is quoted only where the coder gave this many.
_GIVEN_ENOUGH = 50


def _measured_caveat(m: dict[str, Any]) -> str:
    """How the coder did on real conversations nobody at heard wrote, in plain words."""
    # the highest share over the everyday sources measured (written text and recorded talk):
    # the reader should expect the worse of them, not whichever sorts first
    shares = list(m.get("everyday", {}).values())
    everyday = {k: max(s[k] for s in shares) for k in ("conflict", "any")} if shares else None
    text = (f"How far to trust the codes: on {m['held_out_messages']:,} messages from real "
            "conversations that heard's coder never learned from, it agreed only in part with "
            "careful coding from heard's codebook: on a scale where 1 is full agreement and 0 "
            f"none, {m['macro_f1_codes']:.2f} for the codes and "
            f"{m['macro_f1_families']:.2f} for their families (macro-F1).")
    given = m.get("codes_given", {})
    if given.get("all", [0])[0]:
        # the source it read worst, among those where it gave enough codes to count
        worst = min(((right / n, name) for name, (n, right) in given.items()
                     if name != "all" and n >= _GIVEN_ENOUGH), default=None)
        n, right = given["all"]
        text += f" Of the codes it gave there, {right / n:.0%} matched the careful coding"
        if worst is not None and worst[0] < right / n - 0.05:
            where = m.get("source_words", {}).get(worst[1], "the kind of conversation it read "
                                                  "worst")
            text += f", and only {worst[0]:.0%} in {where}"
        text += "."
    if everyday:
        up_to = "up to " if len(shares) > 1 else ""
        text += (" On everyday talk it gave a conflict code to "
                 f"{up_to}{everyday['conflict']:.1%} of messages and some code to "
                 f"{up_to}{everyday['any']:.1%}, so expect codes that don't fit; open the "
                 "messages behind any number before you lean on it.")
    return text


def _code_trust(name: str, measured: dict[str, Any] | None) -> str | None:
    """How often the coder was right when it gave this code on held-out real text, in words."""
    trust = code_trust(name, measured)
    if trust is None:
        return None
    kind, n, right = trust
    where = "On real conversations heard's coder never learned from"
    return {
        "recall_first": "heard gives this code as readily as it can, to miss as little danger "
                        "as it can: some messages it flags are not dangerous, and a message it "
                        "does not flag is no proof of safety.",
        "never": f"{where}, it never gave this code.",
        "few": f"{where}, it gave this code only {'once' if n == 1 else f'{n} times'}: too "
               "few to say how often it is right.",
        "share": f"{where}, {right} of the {n:,} times it gave this code matched careful "
                 f"coding ({right / max(n, 1):.0%}).",
    }[kind]


def glossary(measured: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The codebook by family, in the words the report and the app show.

    ``measured``: the coder's held-out figures (its ``real_evaluation.json``); with them each
    code says how often the coder was right when it gave it.
    """
    cb = codebook()
    fams = []
    for fam in cb.families:
        fams.append({
            "name": fam.name,
            "label": fam.label,
            "plain": fam.plain,
            "seed": fam.seed,
            "codes": [{"name": c.name, "label": code_label(c.name), "plain": c.plain,
                       "definition": c.definition, "examples": list(c.examples),
                       "trust": _code_trust(c.name, measured)}
                      for c in cb.codes if c.family == fam.name],
        })
    return fams


def _appendix(analysis: Analysis, idx: MessageIndex, ev: EvidenceIndex,
              extra: set[str]) -> list[dict[str, Any]]:
    """The messages the report refers to, grouped by conversation, each with its anchor."""
    wanted = ev.referenced | extra
    groups: list[dict[str, Any]] = []
    for conv in analysis.corpus.conversations:
        cards = [idx.card(m.message_id) for m in conv.messages if m.message_id in wanted]
        cards = [c for c in cards if c is not None and c["id"] in wanted]
        if cards:
            groups.append({"id": conv.id, "day": fmt_day(conv.start), "messages": cards})
    return groups


def _dynamics_html(analysis: Analysis) -> Any:
    if analysis.dynamics is None:
        return None
    try:
        from heard.report._dynamics_html import render_dynamics_sections
    except ModuleNotFoundError as exc:
        # Only a missing module is skipped; a broken one should fail loudly.
        if exc.name != "heard.report._dynamics_html":
            raise
        return None
    from markupsafe import Markup

    return Markup(render_dynamics_sections(analysis.dynamics,
                                           safety=bool(analysis.safety.triggered)))


#: Examples (moments held, repairs, full loops) shown before a "show more" fold.
SHOWN_FIRST = 3


def build_context(analysis: Analysis, *, transcript: bool = False) -> dict[str, Any]:
    """Everything the report shows, in the order it shows it.

    ``transcript`` adds every message of the corpus to the appendix (and puts the appendix on
    paper); by default it holds only the messages the report's figures and quotes refer to.

    Built once per analysis: ``heard analyze`` prints the terminal summary, writes the HTML and
    the summary PDF from one analysis, and each asks for the context; the second and third get
    the first one's (treat it as read-only). An analysis is frozen, so its context can't go
    stale; the cache holds it only as long as the analysis lives.
    """
    key = id(analysis)
    with _LOCK:
        entry = _BUILT.get(key)
    if entry is None or entry.analysis() is not analysis:
        entry = _Built(weakref.ref(analysis), *_core(analysis))
        with _LOCK:
            _BUILT[key] = entry
        weakref.finalize(analysis, _forget, key, entry)
    found = entry.contexts.get(transcript)
    if found is None:
        found = entry.contexts[transcript] = entry.with_appendix(analysis, transcript)
    return found


@dataclass(eq=False)
class _Built:
    """One analysis's context, less the appendix (which depends on ``transcript``)."""

    analysis: weakref.ref[Analysis]
    ctx: dict[str, Any]
    idx: MessageIndex
    ev: EvidenceIndex
    #: Messages the report shows outside the figures (loops, safety, the first screen, the
    #: answers that ended runs into silence): the appendix always holds them.
    quoted: set[str]
    contexts: dict[bool, dict[str, Any]] = field(default_factory=dict)

    def with_appendix(self, analysis: Analysis, transcript: bool) -> dict[str, Any]:
        everything = ({m.message_id for m in analysis.corpus.iter_messages()} if transcript
                      else set())
        return {**self.ctx, "transcript": transcript,
                "appendix": _appendix(analysis, self.idx, self.ev, self.quoted | everything)}


_BUILT: dict[int, _Built] = {}
_LOCK = threading.Lock()


def forget_contexts() -> None:
    """Drop every cached context now, not when the analyses are collected (the app locking:
    nothing decrypted stays in memory)."""
    with _LOCK:
        _BUILT.clear()


def _forget(key: int, entry: _Built) -> None:
    with _LOCK:
        if _BUILT.get(key) is entry:
            del _BUILT[key]


def _core(analysis: Analysis) -> tuple[dict[str, Any], MessageIndex, EvidenceIndex, set[str]]:
    idx = MessageIndex(analysis.corpus)
    ev = EvidenceIndex(idx)
    safety = _safety(analysis, idx)
    went_well = strengths(analysis, idx, ev)
    ctx: dict[str, Any] = {
        "header": _header(analysis),
        "overview": _overview(analysis),
        "safety": safety,
        "strengths": went_well,
        "summary": answer(analysis, idx, ev, went_well),
        "loops": loops(analysis, idx, ev),
        "partners": partners(analysis, idx, ev),
        "chasing": chasing(analysis, idx, ev),
        "codes_table": codes_table(analysis, ev),
        "dynamics_html": _dynamics_html(analysis),
        "caveats": _caveats(analysis),
        "glossary": glossary(analysis.settings.get("coder_measured")),
        "min_n": analysis.patterns.settings.min_n,
        "shown_first": SHOWN_FIRST,
    }
    safety_ids = {f["card"]["id"] for f in safety["findings"] if f["card"]}
    if safety_ids:
        safety["ref"] = ev.ref("messages that raised the safety concern", safety_ids)
    loop_ids = {m["id"] for lp in ctx["loops"]["instances"] for m in lp["messages"]}
    ctx["evidence"] = ev.entries
    quoted = {m["id"] for b in ctx["summary"]["breaks"] for m in b["messages"]}
    quoted |= {m["id"] for t in ctx["summary"]["tries"] for it in t["found"]
               for m in it.get("messages", ())}
    # the answer that ended a run into silence is shown with it, and its time links to it
    quoted |= {r["reply"]["id"] for r in ctx["chasing"]["runs"] if r["reply"]}
    return ctx, idx, ev, loop_ids | safety_ids | quoted
