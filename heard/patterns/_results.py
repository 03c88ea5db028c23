"""The results of the pattern layer: plain frozen dataclasses, each with a JSON-ready ``to_dict``.

Every object names messages by ``message_id`` and says where it happened (``conversation_id``,
``episode_id``). Everything is keyed by sender name and computed the same way for both partners.
The field names here are a contract read by the report layer: keep them stable.

Result tree::

    PatternResult                   find_patterns(corpus)
    ├── episodes: Episode           a conversation split at long silences
    ├── reaches: ReachOutcome       each reach message and what met it
    ├── repairs: RepairOutcome      each repair attempt: landed or ignored
    ├── chases: Chase               runs of messages into silence
    ├── loops: LoopInstance         reach → defend/attack → overfunction → harden → counter_blame
    ├── partners: PartnerSummary    per sender, whole corpus (Rate, Latency inside)
    └── conversations: ConversationSummary   per conversation, the same summaries

    SafetyResult                    scan_safety(corpus)
    ├── findings: SafetyFinding     each message coded ``safety_risk``
    └── resources: Resource         where to get help
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from heard.model import Evidence, Message, codebook

__all__ = [
    "LOOP_STEPS",
    "REACH_OUTCOMES",
    "TURN_KINDS",
    "Chase",
    "ConversationSummary",
    "Episode",
    "Latency",
    "LoopInstance",
    "PartnerSummary",
    "PatternResult",
    "PatternSettings",
    "Rate",
    "ReachOutcome",
    "RepairOutcome",
    "Resource",
    "SafetyFinding",
    "SafetyResult",
]

#: The five steps of the loop, in order, as the codebook defines them.
LOOP_STEPS: tuple[str, ...] = codebook().loop_steps
#: What can meet a reach.
REACH_OUTCOMES: tuple[str, ...] = ("heard", "defended", "attacked", "neutral", "ignored")
#: How a bid was met (Gottman's three ways of answering a bid).
TURN_KINDS: tuple[str, ...] = ("toward", "away", "against")


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts is not None else None


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)



def _fields_dict(obj: Any, *, digits: int) -> dict[str, Any]:
    """A dataclass's fields in order, JSON-ready: times as ISO strings, tuples as lists, floats
    rounded to ``digits``."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, float):
            value = _r(value, digits)
        out[f.name] = value
    return out

@dataclass(frozen=True, slots=True)
class PatternSettings:
    """The thresholds an analysis ran with (defaults from ``patterns/data/settings.json``).

    Attributes
    ----------
    gap_hours : float
        A silence this long (between human messages) starts a new episode.
    reply_window_hours : float
        A reply later than this after a reach or repair counts as ignored.
    min_n : int
        Below this many cases a rate or a latency says "not enough data" instead of a number.
    burst_minutes : float
        Messages from one sender less than this many minutes apart are one turn; a later one
        went out into silence (a chase follow-up, and a new attempt that leaves the earlier
        reach unanswered).
    """

    gap_hours: float
    reply_window_hours: float
    min_n: int
    burst_minutes: float

    def to_dict(self) -> dict[str, Any]:
        return {"gap_hours": self.gap_hours, "reply_window_hours": self.reply_window_hours,
                "min_n": self.min_n, "burst_minutes": self.burst_minutes}


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` out of ``n``, reported as a rate only when ``n >= min_n``.

    ``value`` is None (and ``note`` says "not enough data") below the minimum sample.
    """

    count: int
    n: int
    min_n: int

    @property
    def enough(self) -> bool:
        return self.n >= self.min_n and self.n > 0

    @property
    def value(self) -> float | None:
        return self.count / self.n if self.enough else None

    @property
    def note(self) -> str | None:
        if self.enough:
            return None
        return f"not enough data (n={self.n}, needs {self.min_n})"

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "n": self.n, "rate": _r(self.value), "note": self.note}


@dataclass(frozen=True, slots=True)
class Latency:
    """Response latency in seconds: the time from the other's last message to one's first reply.

    Quartiles are None (and ``note`` says "not enough data") when ``n < min_n``.
    """

    n: int
    min_n: int
    median_seconds: float | None = None
    q1_seconds: float | None = None
    q3_seconds: float | None = None

    @property
    def enough(self) -> bool:
        return self.n >= self.min_n and self.n > 0

    @property
    def note(self) -> str | None:
        if self.enough:
            return None
        if self.n == 0:
            return "no timed replies"
        return f"not enough data (n={self.n}, needs {self.min_n})"

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "median_seconds": _r(self.median_seconds, 1),
                "q1_seconds": _r(self.q1_seconds, 1), "q3_seconds": _r(self.q3_seconds, 1),
                "note": self.note}


@dataclass(frozen=True, slots=True)
class Episode:
    """One stretch of a conversation without a long silence.

    Attributes
    ----------
    id : str
        ``"<conversation_id>#<n>"``, n counting from 1 within the conversation.
    conversation_id : str
    index : int
        n above.
    messages : tuple of Message
        The episode's messages in order, events included (they never split or join episodes).
    start, end : datetime or None
        First and last timestamp of a human message in the episode.
    gap_before_hours : float or None
        The silence that opened this episode (None for a conversation's first episode).
    """

    id: str
    conversation_id: str
    index: int
    messages: tuple[Message, ...]
    start: datetime | None = None
    end: datetime | None = None
    gap_before_hours: float | None = None

    @property
    def human_messages(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_human)

    def to_dict(self) -> dict[str, Any]:
        human = self.human_messages
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "index": self.index,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "gap_before_hours": _r(self.gap_before_hours, 2),
            "messages": len(human),
            "first_message_id": human[0].message_id if human else None,
            "last_message_id": human[-1].message_id if human else None,
        }


@dataclass(frozen=True, slots=True)
class ReachOutcome:
    """A message with a ``reach`` code (emotional truth, complaint, bid) and what met it.

    Attributes
    ----------
    message_id, conversation_id, episode_id, sender : str
    partner : str or None
        Who answered, or who was expected to (the conversation's other sender).
    timestamp : datetime or None
    codes : tuple of str
        The reach codes the message carries.
    outcome : {"heard", "defended", "attacked", "neutral", "ignored"}
        ``heard``: the reply holds (``hold`` family) with no defend/attack; ``defended``: the
        reply defends; ``attacked``: the reply criticizes or shows contempt (it may defend too:
        both are recorded); ``neutral``: a reply with none of these; ``ignored``: no reply in time.
    turn : {"toward", "away", "against"}
        Gottman's reading of a bid: toward (any engagement but defend/attack/withdrawal), away
        (ignored or withdrawal), against (attack or defense).
    response_ids : tuple of str
        The reply turn: the partner's consecutive messages right after the reach.
    response_codes, defense_codes, attack_codes, hold_codes : tuple of str
        Codes of the reply turn (all of them, and those of each family), sorted.
    ignored_why : {"episode_end", "late", "reached_again"} or None
        Why an ignored reach counts as ignored: the episode ended, the reply came after the
        reply window, or the sender reached again (after a pause) before any reply.
    later_reply_id : str or None
        For an ignored reach: the partner's next message in the conversation, if any.
    latency_seconds : float or None
        Time to the first reply message (also for a late reply), where both have timestamps.
    """

    message_id: str
    conversation_id: str
    episode_id: str
    sender: str
    partner: str | None
    timestamp: datetime | None
    codes: tuple[str, ...]
    outcome: str
    turn: str
    response_ids: tuple[str, ...] = ()
    response_codes: tuple[str, ...] = ()
    defense_codes: tuple[str, ...] = ()
    attack_codes: tuple[str, ...] = ()
    hold_codes: tuple[str, ...] = ()
    ignored_why: str | None = None
    later_reply_id: str | None = None
    latency_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self, digits=1)


@dataclass(frozen=True, slots=True)
class RepairOutcome:
    """A ``repair_attempt`` and whether it landed.

    Attributes
    ----------
    outcome : {"landed", "ignored", "unclear"}
    how : str
        For landed: ``"held"`` (met with hold) or ``"repaired"`` (met with a repair attempt).
        For ignored: ``"unanswered"`` (see ``ignored_why``), ``"defended"`` or ``"attacked"``
        (codes in ``defense_codes``/``attack_codes``). For unclear, an answer that shows
        neither: ``"uncoded"`` (the answer carries no code) or ``"other"`` (other codes only).
        An unclear answer never counts as landed.
    ignored_why : {"episode_end", "late", "reached_again"} or None
        For an unanswered repair, as in :class:`ReachOutcome` ("reached_again": the sender tried
        another repair after a pause before any reply).

    The other fields are as in :class:`ReachOutcome`.
    """

    message_id: str
    conversation_id: str
    episode_id: str
    sender: str
    partner: str | None
    timestamp: datetime | None
    outcome: str
    how: str
    response_ids: tuple[str, ...] = ()
    response_codes: tuple[str, ...] = ()
    defense_codes: tuple[str, ...] = ()
    attack_codes: tuple[str, ...] = ()
    ignored_why: str | None = None
    later_reply_id: str | None = None
    latency_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self, digits=1)


@dataclass(frozen=True, slots=True)
class Chase:
    """A run of one sender's consecutive messages with no reply, with at least one follow-up.

    Attributes
    ----------
    sender : str
    message_ids : tuple of str
        Every message of the run, the first included.
    followup_ids : tuple of str
        The messages sent into silence: each came ``burst_minutes`` or more after the previous
        one (without timestamps, every message after the first).
    start, end : datetime or None
        Timestamps of the first and last message of the run.
    span_seconds : float or None
        ``end - start``.
    ended : {"reply", "episode_end"}
    reply_id : str or None
        The other's message that ended the run.
    """

    conversation_id: str
    episode_id: str
    sender: str
    message_ids: tuple[str, ...]
    followup_ids: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    span_seconds: float | None
    ended: str
    reply_id: str | None = None

    @property
    def length(self) -> int:
        return len(self.message_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "episode_id": self.episode_id,
            "sender": self.sender,
            "message_ids": list(self.message_ids),
            "followup_ids": list(self.followup_ids),
            "length": self.length,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "span_seconds": _r(self.span_seconds, 1),
            "ended": self.ended,
            "reply_id": self.reply_id,
        }


@dataclass(frozen=True, slots=True)
class LoopInstance:
    """One run of the loop, started by a reach that met defense or attack.

    Attributes
    ----------
    pursuer : str
        Who reached (whoever it was: the loop is the same for both partners).
    partner : str
        Who defended or attacked.
    reach_id : str
        The reach that started the instance (each reach starts at most one instance).
    steps : dict of str to tuple of str
        For each of :data:`LOOP_STEPS`, the message ids that make the step (empty when absent).
        ``overfunction`` and ``harden`` may span several messages.
    further_defense_ids : tuple of str
        The partner's defenses or attacks after the first reply, before the loop closed.
    full : bool
        All five steps are present, in order.
    broke_at : str or None
        The first missing step (None for a full loop).
    broke_how : str or None
        ``"held"`` (the partner answered with hold instead), ``"repair landed"`` (the pursuer's
        repair attempt met hold or a repair), ``"repaired"`` (the partner made a repair attempt),
        ``"ended"`` (the episode ended), or ``"skipped"`` (later steps happened without this one).
    closed_by : str or None
        The message that broke the loop ("held", "repair landed", "repaired").
    distance_blame : bool or None
        Whether the counter-blame speaks of the pursuer's distance (None without counter-blame).
    distance_terms : tuple of str
        The distance words found in the counter-blame.
    """

    conversation_id: str
    episode_id: str
    pursuer: str
    partner: str
    reach_id: str
    steps: Mapping[str, tuple[str, ...]]
    further_defense_ids: tuple[str, ...] = ()
    full: bool = False
    broke_at: str | None = None
    broke_how: str | None = None
    closed_by: str | None = None
    distance_blame: bool | None = None
    distance_terms: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    @property
    def steps_present(self) -> tuple[str, ...]:
        return tuple(s for s in LOOP_STEPS if self.steps.get(s))

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "episode_id": self.episode_id,
            "pursuer": self.pursuer,
            "partner": self.partner,
            "reach_id": self.reach_id,
            "steps": {s: list(self.steps.get(s, ())) for s in LOOP_STEPS},
            "steps_present": list(self.steps_present),
            "further_defense_ids": list(self.further_defense_ids),
            "full": self.full,
            "broke_at": self.broke_at,
            "broke_how": self.broke_how,
            "closed_by": self.closed_by,
            "distance_blame": self.distance_blame,
            "distance_terms": list(self.distance_terms),
            "start": _iso(self.start),
            "end": _iso(self.end),
        }


def _counts(d: Mapping[str, int]) -> dict[str, int]:
    return {k: d[k] for k in sorted(d)}


@dataclass(frozen=True, slots=True)
class PartnerSummary:
    """What one sender did and what met it, counted the same way for every sender.

    Attributes
    ----------
    sender : str
    messages : int
        Human messages sent.
    reaches : int
        Messages with a ``reach`` code; ``reaches_by_code`` counts each code.
    reach_outcomes : dict of str to Rate
        For each of :data:`REACH_OUTCOMES`, how many of this sender's reaches met it (n = reaches).
    bids : int
        Messages coded ``bid``; ``bids_turned`` counts toward/away/against.
    turn_toward : Rate
        Bids turned toward, out of all bids.
    defenses, attacks, holds, overfunctioning : dict of str to int
        Messages carrying each code of the family ``defend``, ``attack``, ``hold``,
        ``overfunction`` (codes with zero messages left out).
    hardening : int
        Messages coded ``hardening``.
    repairs : int
        Repair attempts made; ``repairs_landed`` is landed out of all; ``repairs_ignored`` counts
        the ignored ones by how (unanswered/defended/attacked); ``repairs_unclear`` counts those
        whose answer showed neither (often an answer the coder left uncoded).
    chases, chase_followups, longest_chase : int
        Chase runs, messages sent into silence in them, and the longest run (messages).
    loops_as_pursuer, loops_as_partner : dict
        ``{"full": n, "partial": n}``.
    loop_steps_as_pursuer : dict of str to int
        How many of this sender's loop instances reached each step (a funnel over LOOP_STEPS).
    distance_blames : int
        This sender's counter-blames (as the loop's partner) that speak of the other's distance.
    latency : Latency
        This sender's reply latency.
    """

    sender: str
    messages: int
    reaches: int
    reaches_by_code: Mapping[str, int]
    reach_outcomes: Mapping[str, Rate]
    bids: int
    bids_turned: Mapping[str, int]
    turn_toward: Rate
    defenses: Mapping[str, int]
    attacks: Mapping[str, int]
    holds: Mapping[str, int]
    overfunctioning: Mapping[str, int]
    hardening: int
    repairs: int
    repairs_landed: Rate
    repairs_ignored: Mapping[str, int]
    repairs_unclear: int
    chases: int
    chase_followups: int
    longest_chase: int
    loops_as_pursuer: Mapping[str, int]
    loops_as_partner: Mapping[str, int]
    loop_steps_as_pursuer: Mapping[str, int]
    distance_blames: int
    latency: Latency

    def to_dict(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "messages": self.messages,
            "reaches": self.reaches,
            "reaches_by_code": _counts(self.reaches_by_code),
            "reach_outcomes": {k: self.reach_outcomes[k].to_dict() for k in REACH_OUTCOMES},
            "bids": self.bids,
            "bids_turned": {k: self.bids_turned.get(k, 0) for k in TURN_KINDS},
            "turn_toward": self.turn_toward.to_dict(),
            "defenses": _counts(self.defenses),
            "attacks": _counts(self.attacks),
            "holds": _counts(self.holds),
            "overfunctioning": _counts(self.overfunctioning),
            "hardening": self.hardening,
            "repairs": self.repairs,
            "repairs_landed": self.repairs_landed.to_dict(),
            "repairs_ignored": _counts(self.repairs_ignored),
            "repairs_unclear": self.repairs_unclear,
            "chases": self.chases,
            "chase_followups": self.chase_followups,
            "longest_chase": self.longest_chase,
            "loops_as_pursuer": dict(self.loops_as_pursuer),
            "loops_as_partner": dict(self.loops_as_partner),
            "loop_steps_as_pursuer": {s: self.loop_steps_as_pursuer.get(s, 0)
                                      for s in LOOP_STEPS},
            "distance_blames": self.distance_blames,
            "latency": self.latency.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """The per-partner summaries of one conversation."""

    conversation_id: str
    episodes: int
    partners: Mapping[str, PartnerSummary]

    def to_dict(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "episodes": self.episodes,
                "partners": {s: p.to_dict() for s, p in self.partners.items()}}


@dataclass(frozen=True)
class PatternResult:
    """Everything the loop detector found. Build it with :func:`heard.patterns.find_patterns`.

    Attributes
    ----------
    settings : PatternSettings
    senders : tuple of str
        Human senders in order of first appearance.
    episodes : tuple of Episode
    reaches : tuple of ReachOutcome
    repairs : tuple of RepairOutcome
    chases : tuple of Chase
    loops : tuple of LoopInstance
    partners : dict of str to PartnerSummary
        Whole-corpus summaries, one per sender.
    conversations : tuple of ConversationSummary
        The same summaries per conversation.
    reference : dict
        Published figures quoted for context, each with its label (e.g. ``turn_toward``:
        Gottman's 86% vs 33%, descriptive figures from one lab's newlywed study, not norms).
    has_timestamps : bool
        Whether any human message had a timestamp (latency, windows and spans need them).
    """

    settings: PatternSettings
    senders: tuple[str, ...]
    episodes: tuple[Episode, ...]
    reaches: tuple[ReachOutcome, ...]
    repairs: tuple[RepairOutcome, ...]
    chases: tuple[Chase, ...]
    loops: tuple[LoopInstance, ...]
    partners: Mapping[str, PartnerSummary]
    conversations: tuple[ConversationSummary, ...]
    reference: Mapping[str, Any] = field(default_factory=dict)
    has_timestamps: bool = False

    @property
    def full_loops(self) -> tuple[LoopInstance, ...]:
        return tuple(lp for lp in self.loops if lp.full)

    @property
    def partial_loops(self) -> tuple[LoopInstance, ...]:
        return tuple(lp for lp in self.loops if not lp.full)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in a deterministic order (input order for lists, sorted code counts)."""
        return {
            "settings": self.settings.to_dict(),
            "senders": list(self.senders),
            "has_timestamps": self.has_timestamps,
            "counts": {
                "episodes": len(self.episodes),
                "reaches": len(self.reaches),
                "repairs": len(self.repairs),
                "chases": len(self.chases),
                "loops_full": len(self.full_loops),
                "loops_partial": len(self.partial_loops),
            },
            "partners": {s: p.to_dict() for s, p in self.partners.items()},
            "conversations": [c.to_dict() for c in self.conversations],
            "episodes": [e.to_dict() for e in self.episodes],
            "reaches": [r.to_dict() for r in self.reaches],
            "repairs": [r.to_dict() for r in self.repairs],
            "chases": [c.to_dict() for c in self.chases],
            "loops": [lp.to_dict() for lp in self.loops],
            "reference": dict(self.reference),
        }


@dataclass(frozen=True, slots=True)
class Resource:
    """Where to get help: a name, how to reach it, and for whom or where."""

    name: str
    contact: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "contact": self.contact, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class SafetyFinding:
    """A message coded ``safety_risk``, quoted with its evidence.

    Attributes
    ----------
    category : str
        ``"threat"``, ``"coercive control"``, ``"violence"``, ``"self-harm"`` from the safety
        lexicon applied to the evidence, or ``"safety concern"`` when no term matched.
    categories : tuple of str
        Every category that matched (``category`` is the first by the lexicon's priority).
    evidence : tuple of Evidence
        The spans that carry the code (the whole text when the coder gave none).
    score : float
        The coder's score for ``safety_risk`` (1.0 for given codes).
    """

    message_id: str
    conversation_id: str
    sender: str
    timestamp: datetime | None
    text: str
    evidence: tuple[Evidence, ...]
    category: str
    categories: tuple[str, ...] = ()
    score: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "conversation_id": self.conversation_id,
            "sender": self.sender,
            "timestamp": _iso(self.timestamp),
            "text": self.text,
            "evidence": [e.to_dict() for e in self.evidence],
            "category": self.category,
            "categories": list(self.categories),
            "score": _r(self.score),
        }


@dataclass(frozen=True, slots=True)
class SafetyResult:
    """The safety gate. When ``triggered``, reports switch to safety mode.

    Attributes
    ----------
    triggered : bool
        Any message, from either partner, coded ``safety_risk``.
    findings : tuple of SafetyFinding
        In corpus order.
    explanation : str
        Plain words on why this is not a communication problem (from ``data/safety.json``).
    resources : tuple of Resource
    """

    triggered: bool
    findings: tuple[SafetyFinding, ...] = ()
    explanation: str = ""
    resources: tuple[Resource, ...] = ()

    @property
    def categories(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.category] = out.get(f.category, 0) + 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "triggered": self.triggered,
            "categories": self.categories,
            "findings": [f.to_dict() for f in self.findings],
            "explanation": self.explanation,
            "resources": [r.to_dict() for r in self.resources],
        }
