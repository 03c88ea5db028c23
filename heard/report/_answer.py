"""The report's first screen: why the two can't hear each other, and what could change.

Everything here is a selection from what the pattern layer already counted: who reached out and
what met it, how often the loop ran and whether that rose or fell, the moments it broke, and
what already worked between the two of them. Both partners get the same sentences, built the
same way; every number is a figure from :class:`~heard.report._evidence.EvidenceIndex`, so it
links to its messages, and every suggestion quotes the couple's own messages. Nothing here is
advice from outside their messages, and in safety mode none of it is shown.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from heard.report._evidence import EvidenceIndex, MessageIndex

if TYPE_CHECKING:
    from heard._analysis import Analysis
    from heard.patterns import LoopInstance, ReachOutcome

__all__ = ["answer"]

#: What met a reach, in the words of the first screen (the one who answered is {b}).
MET_WORDS: dict[str, str] = {
    "heard": "{b} held it",
    "defended": "{b} defended",
    "attacked": "{b} answered with an attack",
    "neutral": "{b} answered in another way",
    "ignored": "no answer came in time",
}
#: How a partial loop broke, when it broke for a good reason (the one who answered is {b}).
BROKE_WORDS: dict[str, str] = {
    "held": "{b} held it",
    "repair landed": "{a} tried to repair, and it was taken in",
    "repaired": "{b} tried to repair",
}
#: Reach codes in plain words, for comparing how each kind was met.
REACH_KIND_WORDS: dict[str, str] = {
    "emotional_truth": "named a feeling or a need",
    "complaint": "made a complaint",
    "bid": "asked for attention or connection (a bid)",
}


@cache
def _settings() -> dict[str, Any]:
    raw = (resources.files("heard.report") / "data" / "answer.json").read_text("utf-8")
    return json.loads(raw)


def _other(senders: list[str], s: str) -> str:
    return next((o for o in senders if o != s), "the other")


def _reaching(p: Any, ev: EvidenceIndex, s: str, other: str) -> dict[str, Any]:
    """What tended to meet one partner's reaches, most common first."""
    mine = [r for r in p.reaches if r.sender == s]
    met = []
    for outcome, words in MET_WORDS.items():
        hits = [r for r in mine if r.outcome == outcome]
        if hits:
            met.append({"outcome": outcome, "words": words.format(b=other),
                        "ref": ev.ref(f"{s}'s reaches: {words.format(b=other)}",
                                      [r.message_id for r in hits])})
    met.sort(key=lambda x: -x["ref"]["n"])
    started = [lp for lp in p.loops if lp.pursuer == s]
    full = [lp for lp in started if lp.full]
    return {
        "sender": s,
        "other": other,
        "reaches": ev.ref(f"{s}'s reaches", [r.message_id for r in mine]),
        "met": met,
        "loops": ev.ref(f"loops that started with {s}'s reach",
                        [lp.reach_id for lp in started], n=len(started)),
        "full": ev.ref(f"full loops that started with {s}'s reach",
                       [lp.reach_id for lp in full], n=len(full)),
        "hardened": ev.ref(f"loops started by {s} that ended with {s} giving up on being heard",
                           [i for lp in started for i in lp.steps.get("harden", ())],
                           n=sum(1 for lp in started if lp.steps.get("harden"))),
    }


def _trend(analysis: Analysis, ev: EvidenceIndex) -> dict[str, Any]:
    """Loops per stretch of conversation in the first and second half of the time covered."""
    p = analysis.patterns
    cfg = _settings()["trend"]
    dated = [e for e in p.episodes if e.start is not None]
    if not p.has_timestamps or len(dated) < 2:
        return {"known": False, "words": "The messages carry no dates, so heard can't say "
                "whether the loop became more or less frequent."}
    first, last = dated[0].start, dated[-1].start
    assert first is not None and last is not None
    middle = first + (last - first) / 2
    halves: list[list[LoopInstance]] = [[], []]
    stretches = [0, 0]
    for e in dated:
        assert e.start is not None
        stretches[e.start > middle] += 1
    for lp in p.loops:
        if lp.start is not None:
            halves[lp.start > middle].append(lp)
    refs = [ev.ref(f"loops in the {h} half of the time covered",
                   [lp.reach_id for lp in loops], n=len(loops))
            for h, loops in zip(("first", "second"), halves, strict=True)]
    total = len(halves[0]) + len(halves[1])
    rates = [len(h) / n if n else 0.0 for h, n in zip(halves, stretches, strict=True)]
    if total < cfg["min_loops"]:
        direction = "too few"
    elif rates[1] >= cfg["ratio"] * rates[0] and rates[1] > 0:
        direction = "rising"
    elif rates[0] >= cfg["ratio"] * rates[1] and rates[0] > 0:
        direction = "falling"
    else:
        direction = "steady"
    return {"known": True, "direction": direction, "halves": refs, "stretches": stretches,
            "middle": middle.strftime("%d %b %Y"), "min_loops": cfg["min_loops"]}


def _pair(idx: MessageIndex, first: str, second: str | None) -> list[dict]:
    cards = [idx.card(first), idx.card(second) if second else None]
    return [c for c in cards if c is not None]


def _breaks(analysis: Analysis, idx: MessageIndex) -> list[dict[str, Any]]:
    """Partial loops that something good broke, taking turns between who reached out."""
    p = analysis.patterns
    good = [lp for lp in p.partial_loops if lp.broke_how in BROKE_WORDS and lp.closed_by]
    by_sender: dict[str, list[LoopInstance]] = {}
    for lp in good:
        by_sender.setdefault(lp.pursuer, []).append(lp)
    picked: list[LoopInstance] = []
    queues = [list(v) for v in by_sender.values()]
    while len(picked) < _settings()["breaks_shown"] and any(queues):
        for q in queues:
            if q and len(picked) < _settings()["breaks_shown"]:
                picked.append(q.pop(0))
    picked.sort(key=lambda lp: idx.order.get(lp.reach_id, 0))
    return [{"words": BROKE_WORDS[lp.broke_how or ""].format(a=lp.pursuer, b=lp.partner),
             "pursuer": lp.pursuer, "partner": lp.partner,
             "messages": _pair(idx, lp.reach_id, lp.closed_by)} for lp in picked]


def _reach_kinds(reaches: list[ReachOutcome], ev: EvidenceIndex, s: str,
                 other: str) -> dict[str, Any] | None:
    """Which kind of reach of ``s`` was held most often, when there are enough to compare."""
    need = _settings()["reach_kinds"]["min_each"]
    rows = []
    for code, words in REACH_KIND_WORDS.items():
        kind = [r for r in reaches if code in r.codes]
        if len(kind) < need:
            continue
        held = [r for r in kind if r.outcome == "heard"]
        rows.append({"code": code, "words": words, "share": len(held) / len(kind),
                     "held": ev.ref(f"{s}'s reaches that {words}, held by {other}",
                                    [i for r in held for i in (r.message_id, *r.response_ids)],
                                    n=len(held)),
                     "all": ev.ref(f"{s}'s reaches that {words}",
                                   [r.message_id for r in kind])})
    if len(rows) < 2:
        return None
    rows.sort(key=lambda r: -r["share"])
    best, worst = rows[0], rows[-1]
    if best["share"] <= worst["share"]:
        return None
    return {"kind": "reach_kind", "best": best, "worst": worst}


def _example(pairs: list[tuple[str, str | None]], shown: set[str]) -> tuple[str, str | None]:
    """The most recent example whose messages are not already quoted on the first screen."""
    fresh = [x for x in pairs if not {i for i in x if i} & shown]
    pick = (fresh or pairs)[-1]
    shown.update(i for i in pick if i)
    return pick


def _worked(kind: str, ref: dict[str, Any], outcomes: list[Any], idx: MessageIndex,
            shown: set[str]) -> dict[str, Any]:
    """A thing that worked: its figure and the latest exchange not yet quoted."""
    first, reply = _example([(r.message_id, r.response_ids[0]) for r in outcomes], shown)
    return {"kind": kind, "ref": ref, "messages": _pair(idx, first, reply)}


def _tries(analysis: Analysis, idx: MessageIndex, ev: EvidenceIndex, mine: dict[str, Any],
           other: str, shown: set[str]) -> list[dict[str, Any]]:
    """What already worked, from one partner's side: each with a count and a quoted example.

    ``mine`` is that partner's row of the strengths section: its figures count the same
    exchanges, so the first screen links to the same lists of messages.
    """
    p = analysis.patterns
    s = mine["sender"]
    out: list[dict[str, Any]] = []
    # a reach that was heard, or a repair that landed, always has its answer
    held = [r for r in p.reaches if r.partner == s and r.outcome == "heard"]
    if held:
        out.append(_worked("held", mine["held"], held, idx, shown))
    landed = [r for r in p.repairs if r.sender == s and r.outcome == "landed"]
    if landed:
        out.append(_worked("repair", mine["repairs_landed"], landed, idx, shown))
    kinds = _reach_kinds([r for r in p.reaches if r.sender == s], ev, s, other)
    if kinds:
        out.append(kinds)
    answered = {i for r in held for i in r.response_ids}
    own = [m for m in analysis.corpus.iter_messages(
        lambda m: m.is_human and m.sender == s and m.message_id not in answered
        and any(c in ("validation", "ownership", "curiosity") for c in m.code_names))]
    if own:
        pick, _ = _example([(x.message_id, None) for x in own], shown)
        out.append({"kind": "hold",
                    "ref": ev.ref(f"{s}'s messages that owned a part, validated or asked",
                                  [x.message_id for x in own]),
                    "messages": _pair(idx, pick, None)})
    return out[: _settings()["tries_per_partner"]]


def answer(analysis: Analysis, idx: MessageIndex, ev: EvidenceIndex,
           strengths: dict[str, Any]) -> dict[str, Any]:
    """The first screen's data: the loop between the two, how often, what broke it, what to try.

    ``strengths`` is the strengths section's data (:func:`heard.report._sections.strengths`).
    """
    p = analysis.patterns
    senders = list(p.senders)
    people = [_reaching(p, ev, s, _other(senders, s)) for s in senders]
    breaks = _breaks(analysis, idx)
    shown = {m["id"] for b in breaks for m in b["messages"]}
    return {
        "people": people,
        "loops": ev.ref("every loop instance", [lp.reach_id for lp in p.loops],
                        n=len(p.loops)),
        "full": ev.ref("full loops", [lp.reach_id for lp in p.full_loops],
                       n=len(p.full_loops)),
        "episodes": len(p.episodes),
        "trend": _trend(analysis, ev),
        "breaks": breaks,
        "tries": [{"sender": mine["sender"], "other": _other(senders, mine["sender"]),
                   "found": _tries(analysis, idx, ev, mine, _other(senders, mine["sender"]),
                                   shown)}
                  for mine in strengths["people"]],
    }
