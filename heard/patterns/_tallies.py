"""What each partner did and what met it, counted the same way for both: rates with their
sample sizes, reply times, and the per-partner and per-conversation summaries.

The JSON field names are a contract read by the report layer: keep them stable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from heard.model import Result, Summary, Table, json_field
from heard.patterns._outcomes import LOOP_STEPS, REACH_OUTCOMES, TURN_KINDS

__all__ = ["ConversationSummary", "Latency", "PartnerSummary", "Rate", "duration_words",
           "partners_table", "summary_words"]


def _counts(d: Mapping[str, int]) -> dict[str, int]:
    return {k: d[k] for k in sorted(d)}


def _in_order(keys: tuple[str, ...]) -> Any:
    """A converter listing ``keys`` in order, zero where a key is missing (a reader never
    misses a key)."""
    return lambda d: {k: d.get(k, 0) for k in keys}


def _pick(keys: tuple[str, ...]) -> Any:
    return lambda d: {k: d[k] for k in keys}


@cache
def summary_words() -> dict[str, Any]:
    """The summary's words (``data/summary_words.json``), the report's vocabulary."""
    from heard.patterns._data import load_json  # _data reads settings defined above us

    return load_json("summary_words.json")


@dataclass(frozen=True, slots=True)
class Rate(Result):
    """``count`` out of ``n``, reported as a rate only when ``n >= min_n``.

    ``value`` is None (and ``note`` says "not enough data") below the minimum sample.
    """

    count: int
    n: int
    min_n: int = json_field(omit=True)

    json_digits: ClassVar[int | None] = 4
    json_extra: ClassVar[Mapping[str, str]] = {"rate": "value", "note": "note"}

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

    def words(self) -> str:
        """The rate as the report says it: "67% (2 of 3)", or why there is no rate."""
        if self.n == 0:
            return "none to count"
        if self.value is None:
            return f"not enough data ({self.count} of {self.n})"
        return f"{round(100 * self.value)}% ({self.count} of {self.n})"

    def summary(self) -> Summary:
        return Summary("", [Table(("", ""), [("Rate", self.words())])])


@dataclass(frozen=True, slots=True)
class Latency(Result):
    """Response latency in seconds: the time from the other's last message to one's first reply.

    Quartiles are None (and ``note`` says "not enough data") when ``n < min_n``.
    """

    n: int
    min_n: int = json_field(omit=True)
    median_seconds: float | None = None
    q1_seconds: float | None = None
    q3_seconds: float | None = None

    json_digits: ClassVar[int | None] = 1
    json_extra: ClassVar[Mapping[str, str]] = {"note": "note"}

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

    def words(self) -> str:
        """The typical reply time in plain words ("about 12 minutes"), or why there is none."""
        if not self.enough or self.median_seconds is None:
            return "not enough data"
        return duration_words(self.median_seconds)

    def summary(self) -> Summary:
        return Summary("", [Table(("", ""), [("Typical reply time", self.words())])])


#: (below this many seconds, unit size, word, short word, decimals)
_UNITS = ((90, 1, "seconds", "s", 0), (90 * 60, 60, "minutes", "min", 0),
          (36 * 3600, 3600, "hours", "h", 1), (math.inf, 86400, "days", "days", 1))


def duration_words(seconds: float, *, short: bool = False) -> str:
    """A length of time in plain words, "about 5 minutes", or for a table cell "5 min".

    >>> duration_words(5400), duration_words(5400, short=True)
    ('about 1.5 hours', '1.5 h')
    """
    _, size, word, short_word, decimals = next(u for u in _UNITS if seconds < u[0])
    number = f"{round(seconds / size, decimals):g}"
    return f"{number} {short_word}" if short else f"about {number} {word}"


@dataclass(frozen=True, slots=True)
class PartnerSummary(Result):
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
    reaches_by_code: Mapping[str, int] = json_field(convert=_counts)
    reach_outcomes: Mapping[str, Rate] = json_field(convert=_pick(REACH_OUTCOMES))
    bids: int
    bids_turned: Mapping[str, int] = json_field(convert=_in_order(TURN_KINDS))
    turn_toward: Rate
    defenses: Mapping[str, int] = json_field(convert=_counts)
    attacks: Mapping[str, int] = json_field(convert=_counts)
    holds: Mapping[str, int] = json_field(convert=_counts)
    overfunctioning: Mapping[str, int] = json_field(convert=_counts)
    hardening: int
    repairs: int
    repairs_landed: Rate
    repairs_ignored: Mapping[str, int] = json_field(convert=_counts)
    repairs_unclear: int
    chases: int
    chase_followups: int
    longest_chase: int
    loops_as_pursuer: Mapping[str, int]
    loops_as_partner: Mapping[str, int]
    loop_steps_as_pursuer: Mapping[str, int] = json_field(convert=_in_order(LOOP_STEPS))
    distance_blames: int
    latency: Latency

    def summary(self) -> Summary:
        return Summary(f"What {self.sender} did and what met it",
                       [partners_table({self.sender: self})])


@dataclass(frozen=True, slots=True)
class ConversationSummary(Result):
    """The per-partner summaries of one conversation."""

    conversation_id: str
    episodes: int
    partners: Mapping[str, PartnerSummary]

    def summary(self) -> Summary:
        return Summary(f"Conversation {self.conversation_id}: {self.episodes} stretches",
                       [partners_table(self.partners)])


def partners_table(partners: Mapping[str, PartnerSummary]) -> Table:
    """One column per partner, one row per figure, in the report's words."""
    w = summary_words()
    rows_w = w["rows"]
    people = list(partners.values())

    def row(label: str, fn: Any) -> tuple[str, ...]:
        return (label, *(fn(p) for p in people))

    rows = [row(rows_w["messages"], lambda p: str(p.messages)),
            row(rows_w["reaches"], lambda p: str(p.reaches))]
    rows += [row(f"  reaches {w['outcomes'][o]}", lambda p, o=o: p.reach_outcomes[o].words())
             for o in REACH_OUTCOMES]
    rows += [row(rows_w["turn_toward"], lambda p: p.turn_toward.words()),
             row(rows_w["defenses"], lambda p: str(sum(p.defenses.values()))),
             row(rows_w["attacks"], lambda p: str(sum(p.attacks.values()))),
             row(rows_w["overfunctioning"], lambda p: str(sum(p.overfunctioning.values()))),
             row(rows_w["hardening"], lambda p: str(p.hardening)),
             row(rows_w["holds"], lambda p: str(sum(p.holds.values()))),
             row(rows_w["repairs_landed"], lambda p: p.repairs_landed.words()),
             row(rows_w["chase_followups"], lambda p: str(p.chase_followups)),
             row(rows_w["latency"], lambda p: p.latency.words())]
    return Table(("", *(p.sender for p in people)), rows, title=w["partners_title"])
