"""The pattern sections of the report: strengths, the loop, both partners, chasing, all codes.

Each function turns part of :class:`~heard.patterns.PatternResult` into plain data for the
templates. Figures come from the pattern layer's objects and are linked, through the evidence
index, to the messages they count; the same fields are built for every sender.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from heard.model import codebook
from heard.patterns import LOOP_STEPS, REACH_OUTCOMES, duration_words, summary_words
from heard.report._evidence import EvidenceIndex, MessageIndex, code_label

if TYPE_CHECKING:
    from heard._analysis import Analysis
    from heard.patterns import LoopInstance, Rate

__all__ = ["STEP_WORDS", "chasing", "codes_table", "loops", "partners", "strengths"]

#: Each loop step in plain words ({a}: who reached, {b}: who answered), in heard's own words
#: and the same for whoever is in either role.
STEP_WORDS: dict[str, str] = {
    "reach": "{a} reached out: a feeling, a need, a complaint or a bid",
    "defend": "{b} answered with defense or attack instead of holding it",
    "overfunction": "{a} carried the conversation: explained again, looked after {b}'s "
                    "feelings, checked the mood, tried to repair",
    "harden": "{a} gave up on being heard",
    "counter_blame": "{b} turned it around",
}
#: Each step's short name, for lists of steps.
STEP_SHORT: dict[str, str] = {
    "reach": "reached out", "defend": "defense or attack",
    "overfunction": "carried the conversation", "harden": "gave up on being heard",
    "counter_blame": "turned it around",
}
BROKE_WORDS: dict[str, str] = {
    "held": "{b} held it: the answer took the feeling in instead of defending",
    "repair landed": "a repair attempt landed",
    "repaired": "{b} tried to repair",
    "ended": "the conversation stopped here",
    "skipped": "this step did not happen, though later ones did",
}
#: What met a reach, after "reaches": "held" always names what the one answering did.
OUTCOME_WORDS: dict[str, str] = {
    "heard": "the other held",
    "defended": "met with defense",
    "attacked": "met with an attack",
    "neutral": "answered in another way",
    "ignored": "with no answer in time",
}
_LOOP_CONTEXT_MAX = 40
#: Most loop instances (full, and partial) and chasing runs shown with their messages; the
#: counts always cover all of them, and the JSON analysis lists every one.
SHOWN = 30
#: A silence shorter than this after a loop that stopped may be a night, not an ending.
_OVERNIGHT_HOURS = 24
#: Runs this long or longer are shown one by one; shorter ones are folded together.
_LONG_RUN = 3


def _fam_ids(analysis: Analysis, sender: str, family: str) -> dict[str, list[str]]:
    """Per code of ``family``: the sender's messages carrying it."""
    cb = codebook()
    out: dict[str, list[str]] = {c: [] for c in cb.codes_in(family)}
    for m in analysis.corpus.iter_messages(lambda m: m.is_human and m.sender == sender):
        for name in m.code_names:
            if name in out:
                out[name].append(m.message_id)
    return out


def _rate(r: Rate) -> dict[str, Any]:
    return {"count": r.count, "n": r.n, "enough": r.enough, "none": r.n == 0,
            "pct": round(100 * r.value) if r.value is not None else None, "note": r.note,
            "min_n": r.min_n}


def _pairs(idx: MessageIndex, first: str, replies: Iterable[str]) -> dict[str, Any]:
    return {"first": idx.card(first), "replies": [c for c in map(idx.card, replies) if c]}


def strengths(analysis: Analysis, idx: MessageIndex, ev: EvidenceIndex) -> dict[str, Any]:
    """What went well, for each partner: reaches held, repairs that landed, hold given."""
    p = analysis.patterns
    people = []
    for s in p.senders:
        held = [r for r in p.reaches if r.partner == s and r.outcome == "heard"]
        bids_toward = [r for r in p.reaches if r.partner == s and "bid" in r.codes
                       and r.turn == "toward"]
        landed = [r for r in p.repairs if r.sender == s and r.outcome == "landed"]
        hold_ids = _fam_ids(analysis, s, "hold")
        people.append({
            "sender": s,
            "held": ev.ref(f"the other's reaches {s} held (the reach, and {s}'s answer)",
                           [i for r in held for i in (r.message_id, *r.response_ids)],
                           n=len(held)),
            "bids_toward": ev.ref(f"bids {s} turned toward",
                                  [i for r in bids_toward for i in (r.message_id,
                                                                    *r.response_ids)],
                                  n=len(bids_toward)),
            "repairs_landed": ev.ref(f"{s}'s repair attempts the other took in (and the answer)",
                                     [i for r in landed for i in (r.message_id,
                                                                  *r.response_ids)],
                                     n=len(landed)),
            "hold": [{"code": c, "label": code_label(c),
                      "ref": ev.ref(f"{s}: {code_label(c)}", ids)}
                     for c, ids in hold_ids.items()],
            "hold_total": ev.ref(f"{s}: messages that held space",
                                 [i for ids in hold_ids.values() for i in ids]),
        })
    examples = [_pairs(idx, r.message_id, r.response_ids)
                for r in p.reaches if r.outcome == "heard"]
    repairs = [_pairs(idx, r.message_id, r.response_ids)
               for r in p.repairs if r.outcome == "landed"]
    # The table's rows, labelled once here for the HTML report and the PDF summary alike.
    rows = [{"label": label, "cells": [x[key] for x in people]}
            for label, key in (("The other's reaches they held", "held"),
                               ("Bids they turned toward", "bids_toward"),
                               ("Their repair attempts the other took in", "repairs_landed"),
                               ("Messages that held space", "hold_total"))]
    for i, h in enumerate(people[0]["hold"] if people else []):
        rows.append({"label": f"· {h['label']}", "cells": [x["hold"][i]["ref"] for x in people]})
    return {"people": people, "rows": rows, "heard_examples": examples,
            "repair_examples": repairs,
            "any": bool(examples or repairs or any(x["hold_total"]["n"] for x in people))}


def _loop(lp: LoopInstance, n: int, kind: str, idx: MessageIndex) -> dict[str, Any]:
    a, b = lp.pursuer, lp.partner
    role: dict[str, list[str]] = {}
    for step, ids in lp.steps.items():
        for i in ids:
            role.setdefault(i, []).append(step)
    for i in lp.further_defense_ids:
        role.setdefault(i, []).append("defend")
    if lp.closed_by:
        role.setdefault(lp.closed_by, []).append("closed")
    involved = idx.sort(role)
    messages = []
    if involved:
        first, last = idx.order[involved[0]], idx.order[involved[-1]]
        conv = idx.conversation[involved[0]]
        span = [m.message_id for m in conv if first <= idx.order[m.message_id] <= last]
        if len(span) > _LOOP_CONTEXT_MAX:
            span = involved
        previous: list[str] = []
        for i in span:
            card = idx.card(i)
            if card is None:
                continue
            steps = role.get(i, [])
            labels = []
            # A step that runs over several messages is labelled once, at its first message.
            for st in ([] if steps == previous else steps):
                if st == "closed":
                    labels.append({"step": st, "words": BROKE_WORDS.get(
                        lp.broke_how or "", "the loop broke here").format(a=a, b=b)})
                else:
                    labels.append({"step": st, "number": LOOP_STEPS.index(st) + 1,
                                   "words": STEP_WORDS[st].format(a=a, b=b)})
            if steps:
                previous = steps
            messages.append({**card, "steps": labels, "context": not steps})
    broke = None
    if not lp.full and lp.broke_at:
        broke = {"step": lp.broke_at,
                 "words": STEP_WORDS[lp.broke_at].format(a=a, b=b),
                 "how": BROKE_WORDS.get(lp.broke_how or "", lp.broke_how or "").format(a=a, b=b)}
    return {
        "anchor": f"loop-{kind}-{n}",
        "n": n,
        "full": lp.full,
        "pursuer": a,
        "partner": b,
        "day": lp.start.strftime("%a %d %b %Y") if lp.start else "",
        "steps_present": list(lp.steps_present),
        "steps_words": [STEP_SHORT[st] for st in lp.steps_present],
        "distance_blame": lp.distance_blame,
        "distance_terms": list(lp.distance_terms),
        "broke": broke,
        "messages": messages,
    }


def loops(analysis: Analysis, idx: MessageIndex, ev: EvidenceIndex) -> dict[str, Any]:
    """Every loop instance with its messages in order, and per-partner counts."""
    p = analysis.patterns
    full = [_loop(lp, i, "full", idx) for i, lp in enumerate(p.full_loops[:SHOWN], 1)]
    partial = [_loop(lp, i, "partial", idx)
               for i, lp in enumerate(p.partial_loops[:SHOWN], 1)]

    def ids(instances: Iterable[LoopInstance]) -> list[str]:
        return [i for lp in instances for ids in lp.steps.values() for i in ids]

    people = []
    for s in p.senders:
        mine_full = [lp for lp in p.full_loops if lp.pursuer == s]
        mine_part = [lp for lp in p.partial_loops if lp.pursuer == s]
        mine = [lp for lp in p.loops if lp.pursuer == s]
        funnel = [{"step": st, "short": STEP_SHORT[st],
                   "words": STEP_WORDS[st].format(a=s, b="the other"),
                   "ref": ev.ref(f"loops {s} started that reached step "
                                 f"{LOOP_STEPS.index(st) + 1} ({STEP_SHORT[st]})",
                                 [i for lp in mine for i in lp.steps.get(st, ())],
                                 n=sum(1 for lp in mine if lp.steps.get(st)))}
                  for st in LOOP_STEPS]
        people.append({
            "sender": s,
            "full": ev.ref(f"full loops that started with {s}'s reach", ids(mine_full),
                           n=len(mine_full)),
            "partial": ev.ref(f"partial loops that started with {s}'s reach", ids(mine_part),
                              n=len(mine_part)),
            "funnel": funnel,
        })
    # A loop cut off by a silence that a night's sleep explains may have gone on the next day:
    # say so, and name the setting that joins such stretches, rather than hide it.
    following = {}
    for prev, nxt in zip(p.episodes, p.episodes[1:], strict=False):
        if prev.conversation_id == nxt.conversation_id:
            following[prev.id] = nxt.gap_before_hours
    overnight = [lp for lp in p.partial_loops if lp.broke_how == "ended"
                 and (following.get(lp.episode_id) or math.inf) < _OVERNIGHT_HOURS]
    return {
        "overnight": ev.ref("partial loops that stopped at a silence of less than a day",
                            [lp.reach_id for lp in overnight], n=len(overnight)),
        "overnight_hours": _OVERNIGHT_HOURS,
        "gap_hours": (f"{p.settings.gap_hours:g}" if math.isfinite(p.settings.gap_hours)
                      else None),
        "instances": full + partial,
        "full": full,
        "partial": partial,
        "full_more": len(p.full_loops) - len(full),
        "partial_more": len(p.partial_loops) - len(partial),
        "partial_total": len(p.partial_loops),
        "total": ev.ref("every loop instance", ids(p.loops), n=len(p.loops)),
        "full_ref": ev.ref("full loops", ids(p.full_loops), n=len(p.full_loops)),
        "partial_ref": ev.ref("partial loops", ids(p.partial_loops), n=len(p.partial_loops)),
        "people": people,
        "episodes": len(p.episodes),
    }


def partners(analysis: Analysis, idx: MessageIndex, ev: EvidenceIndex) -> dict[str, Any]:
    """The same rows for each partner, side by side."""
    p = analysis.patterns
    cols = []
    for s in p.senders:
        summ = p.partners[s]
        reaches = [r for r in p.reaches if r.sender == s]
        bids = [r for r in reaches if "bid" in r.codes]
        fam = {f: _fam_ids(analysis, s, f)
               for f in ("defend", "attack", "overfunction", "harden", "hold")}

        def family(name: str, label: str, _s: str = s, _fam: dict = fam) -> dict[str, Any]:
            per = _fam[name]
            return {
                "total": ev.ref(f"{_s}: {label}", [i for v in per.values() for i in v]),
                "codes": [{"label": code_label(c), "ref": ev.ref(f"{_s}: {code_label(c)}", v)}
                          for c, v in per.items() if v],
            }

        repairs = [r for r in p.repairs if r.sender == s]
        chases = [c for c in p.chases if c.sender == s]
        lat = summ.latency
        cols.append({
            "sender": s,
            "messages": summ.messages,
            "reaches": ev.ref(f"{s}'s reaches", [r.message_id for r in reaches]),
            "outcomes": [{"outcome": o, "words": OUTCOME_WORDS[o],
                          "ref": ev.ref(f"{s}'s reaches {OUTCOME_WORDS[o]}",
                                        [r.message_id for r in reaches if r.outcome == o]),
                          "rate": _rate(summ.reach_outcomes[o])} for o in REACH_OUTCOMES],
            "bids": ev.ref(f"{s}'s bids", [r.message_id for r in bids]),
            "toward": ev.ref(f"{s}'s bids the other turned toward",
                             [r.message_id for r in bids if r.turn == "toward"]),
            "turn_toward": _rate(summ.turn_toward),
            "defend": family("defend", "defended"),
            "attack": family("attack", "attacked"),
            "overfunction": family("overfunction", "carried the conversation"),
            "harden": family("harden", "hardened"),
            "hold": family("hold", "held space"),
            "repairs": ev.ref(f"{s}'s repair attempts", [r.message_id for r in repairs]),
            "repairs_landed": ev.ref(f"{s}'s repair attempts the other took in",
                                     [r.message_id for r in repairs if r.outcome == "landed"]),
            "repairs_rate": _rate(summ.repairs_landed),
            "repairs_unclear": ev.ref(f"{s}'s repair attempts met with an answer that showed "
                                      "neither holding, repair nor refusal",
                                      [i for r in repairs if r.outcome == "unclear"
                                       for i in (r.message_id, *r.response_ids)],
                                      n=sum(1 for r in repairs if r.outcome == "unclear")),
            "chases": ev.ref(f"{s}'s runs of messages into silence",
                             [i for c in chases for i in c.message_ids], n=len(chases)),
            "followups": ev.ref(f"{s}'s messages sent into silence",
                                [i for c in chases for i in c.followup_ids]),
            "loops_pursuer": ev.ref(f"loops that started with {s}'s reach",
                                    [lp.reach_id for lp in p.loops if lp.pursuer == s]),
            "loops_partner": ev.ref(f"loops where {s} answered a reach with defense",
                                    [lp.reach_id for lp in p.loops if lp.partner == s]),
            "distance": ev.ref(f"{s}'s counter-blame naming the other's distance",
                               [i for lp in p.loops if lp.partner == s and lp.distance_blame
                                for i in lp.steps.get("counter_blame", ())]),
            "latency": {"enough": lat.enough, "note": lat.note, "n": lat.n,
                        "median": _duration(lat.median_seconds),
                        "q1": _duration(lat.q1_seconds), "q3": _duration(lat.q3_seconds)},
        })
    ref = p.reference.get("turn_toward") if p.reference else None
    words = summary_words()
    return {"title": words["partners_title"], "intro": words["partners_intro"], "columns": cols,
            "turn_toward_reference": dict(ref) if ref else None}


def _duration(seconds: float | None) -> str | None:
    return None if seconds is None else duration_words(seconds, short=True)


def chasing(analysis: Analysis, idx: MessageIndex, ev: EvidenceIndex) -> dict[str, Any]:
    """Runs of messages sent into silence, with their messages."""
    runs = []
    chases = analysis.patterns.chases
    numbered = list(enumerate(chases, 1))
    long_runs = [(n, c) for n, c in numbered if c.length >= _LONG_RUN]
    short_runs = [(n, c) for n, c in numbered if c.length < _LONG_RUN]
    for n, c in long_runs[:SHOWN] + short_runs[:SHOWN]:
        runs.append({
            "n": n,
            "sender": c.sender,
            "day": c.start.strftime("%a %d %b %Y") if c.start else "",
            "length": c.length,
            "followups": len(c.followup_ids),
            "span": _duration(c.span_seconds),
            "ended": "an answer" if c.ended == "reply" else "the end of the conversation",
            "messages": [x for x in map(idx.card, c.message_ids) if x],
            "reply": idx.card(c.reply_id) if c.reply_id else None,
            "ref": ev.ref(f"run {n}: {c.sender}'s messages into silence", c.message_ids),
        })
    return {"runs": runs, "long": [r for r in runs if r["length"] >= _LONG_RUN],
            "short": [r for r in runs if r["length"] < _LONG_RUN], "long_min": _LONG_RUN,
            "long_more": max(0, len(long_runs) - SHOWN),
            "short_more": max(0, len(short_runs) - SHOWN), "short_total": len(short_runs)}


#: A code's share of right answers is quoted only where the coder gave it this many times.
GIVEN_ENOUGH_CODE = 10

#: The column of the table of every code (report and app) that says how far to trust each.
TRUST_HEADING = "Right on real text heard never learned from"
TRUST_NOTE = ("The last column: of the times heard's coder gave that code to messages of real "
              "conversations it never learned from, how many a careful coder, reading with the "
              "codebook, also coded that way. Where that share is low, open the messages behind "
              "a count before you lean on it.")

#: Codes given as readily as heard can, to miss as little as it can: their share of right
#: answers is not what to weigh them by, so no share is quoted beside them.
RECALL_FIRST = ("safety_risk",)


def code_trust(name: str, measured: dict[str, Any] | None) -> tuple[str, int, int] | None:
    """What can be said of how often the coder was right with ``name`` on held-out real text:
    ``(kind, given, right)``, kind one of "recall_first", "never", "few" or "share"; None
    where its figures don't say (given codes, or a card without per-code figures)."""
    by_code = (measured or {}).get("codes_given_by_code")
    if not by_code:
        return None
    n, right = (int(v) for v in by_code.get(name, [0, 0]))
    if name in RECALL_FIRST:
        return "recall_first", n, right
    if not n:
        return "never", n, right
    return ("few" if n < GIVEN_ENOUGH_CODE else "share"), n, right


def _trust_cell(trust: tuple[str, int, int] | None) -> str | None:
    if trust is None:
        return None
    kind, n, right = trust
    return {"recall_first": "flagged readily, to miss as little danger as it can",
            "never": "never given there",
            "few": f"given there {n} time{'s' if n != 1 else ''}: too few to say",
            "share": f"{right} of {n:,} ({right / max(n, 1):.0%})"}[kind]


def codes_table(analysis: Analysis, ev: EvidenceIndex) -> dict[str, Any]:
    """Every code of the codebook, for both partners, linked to the messages, with how often
    the coder was right with each on real text it never learned from (where it says)."""
    cb = codebook()
    measured = analysis.settings.get("coder_measured")
    senders = list(analysis.patterns.senders)
    ids: dict[str, dict[str, list[str]]] = {s: {} for s in senders}
    for m in analysis.corpus.iter_messages(lambda m: m.is_human):
        for name in m.code_names:
            ids.setdefault(m.sender, {}).setdefault(name, []).append(m.message_id)
    rows = []
    for c in cb.codes:
        rows.append({
            "code": c.name, "label": code_label(c.name), "family": c.family,
            "family_label": cb.family(c.family).label, "plain": c.plain,
            "cells": [ev.ref(f"{s}: {code_label(c.name)}", ids.get(s, {}).get(c.name, []))
                      for s in senders],
            "trust": _trust_cell(code_trust(c.name, measured)),
        })
    return {"senders": senders, "rows": rows,
            "trust": any(r["trust"] is not None for r in rows),
            "trust_heading": TRUST_HEADING, "trust_note": TRUST_NOTE}
