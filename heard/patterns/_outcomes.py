"""What the pattern layer finds in the messages: stretches of conversation, reaches and
repairs with what met them, chasing into silence, and runs of the loop.

Every object names messages by ``message_id`` and says where it happened (``conversation_id``,
``episode_id``), keyed by sender name and computed the same way for both partners. The JSON
field names are a contract read by the report layer: keep them stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from heard.model import Message, Result, Summary, Table, Text, codebook, json_field

__all__ = ["LOOP_STEPS", "REACH_OUTCOMES", "TURN_KINDS", "Chase", "Episode", "LoopInstance",
           "ReachOutcome", "RepairOutcome"]

#: The five steps of the loop, in order, as the codebook defines them.
LOOP_STEPS: tuple[str, ...] = codebook().loop_steps
#: What can meet a reach.
REACH_OUTCOMES: tuple[str, ...] = ("heard", "defended", "attacked", "neutral", "ignored")
#: How a bid was met (Gottman's three ways of answering a bid).
TURN_KINDS: tuple[str, ...] = ("toward", "away", "against")


def _human_count(messages: tuple[Message, ...]) -> int:
    return sum(1 for m in messages if m.is_human)


def _steps_json(steps: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    # every step present, in the loop's order, so a reader never misses a key
    return {s: list(steps.get(s, ())) for s in LOOP_STEPS}


def _outcome_summary(what: str, message_id: str, sender: str, outcome: str,
                     response_ids: Sequence[str]) -> Summary:
    answer = ", ".join(response_ids) or "no answer"
    return Summary(f"{what} {message_id}", [Table(("", ""), [
        ("From", sender), ("What met it", outcome), ("The answer", answer)])])


@dataclass(frozen=True, slots=True)
class Episode(Result):
    """One stretch of a conversation without a long silence.

    ``to_dict()`` counts the human messages (``messages``) instead of listing them.

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
    messages: tuple[Message, ...] = json_field(convert=_human_count)
    start: datetime | None = None
    end: datetime | None = None
    gap_before_hours: float | None = json_field(default=None, digits=2)

    # the JSON counts the human messages and names the first and last (not every message)
    json_extra: ClassVar[Mapping[str, str]] = {"first_message_id": "first_message_id",
                                               "last_message_id": "last_message_id"}

    @property
    def human_messages(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_human)

    @property
    def first_message_id(self) -> str | None:
        human = self.human_messages
        return human[0].message_id if human else None

    @property
    def last_message_id(self) -> str | None:
        human = self.human_messages
        return human[-1].message_id if human else None

    def summary(self) -> Summary:
        when = (f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"
                if self.start and self.end else "no times")
        return Summary(f"Stretch of conversation {self.id}", [
            Text(f"{len(self.human_messages)} messages, {when}.")])


@dataclass(frozen=True, slots=True)
class ReachOutcome(Result):
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

    json_digits: ClassVar[int | None] = 1

    def summary(self) -> Summary:
        return _outcome_summary("Reach", self.message_id, self.sender, self.outcome,
                                self.response_ids)


@dataclass(frozen=True, slots=True)
class RepairOutcome(Result):
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

    json_digits: ClassVar[int | None] = 1

    def summary(self) -> Summary:
        return _outcome_summary("Repair attempt", self.message_id, self.sender,
                                f"{self.outcome} ({self.how})", self.response_ids)


@dataclass(frozen=True, slots=True)
class Chase(Result):
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

    json_digits: ClassVar[int | None] = 1
    json_extra: ClassVar[Mapping[str, str]] = {"length": "length"}

    @property
    def length(self) -> int:
        return len(self.message_ids)

    def summary(self) -> Summary:
        end = "an answer" if self.ended == "reply" else "the end of the conversation"
        return Summary(f"Messages into silence: {self.sender}", [Text(
            f"{self.sender} sent {self.length} messages in a row, {len(self.followup_ids)} of "
            f"them after a pause, until {end} ({', '.join(self.message_ids)}).")])


@dataclass(frozen=True, slots=True)
class LoopInstance(Result):
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
    steps: Mapping[str, tuple[str, ...]] = json_field(convert=_steps_json)
    further_defense_ids: tuple[str, ...] = ()
    full: bool = False
    broke_at: str | None = None
    broke_how: str | None = None
    closed_by: str | None = None
    distance_blame: bool | None = None
    distance_terms: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    json_extra: ClassVar[Mapping[str, str]] = {"steps_present": "steps_present"}

    @property
    def steps_present(self) -> tuple[str, ...]:
        return tuple(s for s in LOOP_STEPS if self.steps.get(s))

    def summary(self) -> Summary:
        rows = [(s, ", ".join(self.steps.get(s, ())) or "-") for s in LOOP_STEPS]
        how = "ran in full" if self.full else f"stopped at {self.broke_at} ({self.broke_how})"
        return Summary(f"The loop, {self.pursuer} and {self.partner}", [
            Text(f"Started by {self.pursuer}'s reach {self.reach_id}; it {how}."),
            Table(("Step", "Messages"), rows)])
