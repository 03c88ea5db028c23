"""Binned counts per partner and code family, with message-volume exposure, and the crisis dates.

The long-arc models work on counts per calendar bin (a week by default): how many of a sender's
messages carried a family (or a code) that week, out of how many messages the sender wrote that
week (the exposure, used as a log offset). Crises are clusters of ``breaking_point`` messages a
few days apart; promises are clusters of ``promise`` messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import ClassVar

import numpy as np

from heard.errors import E, OptionError
from heard.model import Corpus, Message, Result, Summary, Text, codebook, json_field

__all__ = ["Event", "WeeklySeries", "build_series", "find_events"]


@dataclass(frozen=True, slots=True)
class Event(Result):
    """A crisis or a promise: one or more coded messages within a few days of each other.

    Attributes
    ----------
    kind : {"crisis", "promise"}
    start : datetime
        Time of the first message of the cluster.
    sender : str
        Whose event it is: the sender of most of its messages (the earliest on a tie).
    senders : tuple of str
        Everyone who wrote one of its messages, in order of first message.
    message_ids : tuple of str
        The coded messages, the evidence for the event.
    """

    kind: str = json_field(omit=True)  # the list it is in says the kind
    start: datetime = json_field(omit=True)  # the JSON gives the day
    sender: str
    senders: tuple[str, ...]
    message_ids: tuple[str, ...]

    json_extra: ClassVar[dict[str, str]] = {"date": "day"}

    @property
    def day(self) -> date:
        return self.start.date()

    def summary(self) -> Summary:
        return Summary(f"A {self.kind}, {self.day.isoformat()}", [
            Text(f"{self.sender}'s, in {len(self.message_ids)} messages "
                 f"({', '.join(self.message_ids)}).")])


def _timed(messages: Iterable[Message]) -> list[Message]:
    return sorted((m for m in messages if m.is_human and m.timestamp is not None),
                  key=lambda m: m.timestamp)


def find_events(messages: Iterable[Message], code: str, *, kind: str,
                cluster_days: float = 3.0) -> tuple[Event, ...]:
    """Cluster the messages coded ``code`` into events.

    A message more than ``cluster_days`` after the first message of the current cluster starts
    a new event, so a long quarrel counts once but separate crises weeks apart stay separate.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from heard.model import Code, Message
    >>> def msg(i, day):
    ...     m = Message("c", f"m{i}", "Ana", datetime(2024, 1, day, tzinfo=timezone.utc), "x")
    ...     m.annotations["codes"] = (Code("breaking_point", 1.0),)
    ...     return m
    >>> [e.day.day for e in find_events([msg(1, 1), msg(2, 2), msg(3, 20)], "breaking_point",
    ...                                 kind="crisis")]
    [1, 20]
    """
    hits = [m for m in _timed(messages) if code in m.code_names]
    clusters: list[list[Message]] = []
    for m in hits:
        if clusters and (m.timestamp - clusters[-1][0].timestamp) <= timedelta(days=cluster_days):
            clusters[-1].append(m)
        else:
            clusters.append([m])
    events = []
    for cl in clusters:
        tally: dict[str, int] = {}
        for m in cl:
            tally[m.sender] = tally.get(m.sender, 0) + 1
        owner = max(tally, key=lambda s: tally[s])  # first-seen order: the earliest wins ties
        events.append(Event(kind, cl[0].timestamp, owner, tuple(tally),
                            tuple(m.message_id for m in cl)))
    return tuple(events)


@dataclass(frozen=True, eq=False)
class WeeklySeries:
    """Counts per sender × family (and × code) per calendar bin, with exposure.

    Attributes
    ----------
    start : date
        First day of bin 0 (a Monday when ``bin_days`` is 7).
    bin_days : int
    senders, families, codes : tuple of str
    family_counts : ndarray, shape (senders, families, bins)
        Messages of the sender in the bin carrying at least one code of the family.
    code_counts : ndarray, shape (senders, codes, bins)
    exposure : ndarray, shape (senders, bins)
        All human messages of the sender in the bin: the offset of every model.
    crises, promises : tuple of Event
    n_untimed : int
        Human messages left out because they have no timestamp.
    """

    start: date
    bin_days: int
    senders: tuple[str, ...]
    families: tuple[str, ...]
    codes: tuple[str, ...]
    family_counts: np.ndarray
    code_counts: np.ndarray
    exposure: np.ndarray
    crises: tuple[Event, ...] = ()
    promises: tuple[Event, ...] = ()
    n_untimed: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def n_bins(self) -> int:
        return int(self.exposure.shape[1])

    @property
    def bin_label(self) -> str:
        return "week" if self.bin_days == 7 else f"{self.bin_days} days"

    def bin_start(self, i: int) -> date:
        return self.start + timedelta(days=i * self.bin_days)

    @property
    def bin_starts(self) -> list[date]:
        return [self.bin_start(i) for i in range(self.n_bins)]

    def bin_of(self, when: datetime | date) -> int:
        """Index of the bin holding ``when`` (may fall outside ``range(n_bins)``)."""
        day = when.date() if isinstance(when, datetime) else when
        return (day - self.start).days // self.bin_days

    def count(self, sender: str, family: str) -> np.ndarray:
        return self.family_counts[self.senders.index(sender), self.families.index(family)]

    def code_count(self, sender: str, code: str) -> np.ndarray:
        return self.code_counts[self.senders.index(sender), self.codes.index(code)]

    def exposure_of(self, sender: str) -> np.ndarray:
        return self.exposure[self.senders.index(sender)]

    def crisis_bins(self, senders: Sequence[str] | None = None) -> list[int]:
        """Bins of the crises, optionally only those owned by ``senders``."""
        return [self.bin_of(e.start) for e in self.crises
                if senders is None or e.sender in senders]

    def promise_bins(self) -> list[int]:
        return [self.bin_of(e.start) for e in self.promises]


def build_series(data: Corpus | Iterable[Message], *, bin_days: int = 7,
                 cluster_days: float = 3.0) -> WeeklySeries:
    """Bin a corpus into counts per sender × family/code with message-volume exposure.

    Parameters
    ----------
    data : Corpus or iterable of Message
        Coded messages (codes in ``annotations["codes"]``); uncoded messages count as exposure.
    bin_days : int
        Bin width in days; 7 gives weeks starting on Monday, 3 or 4 suit very active chats.
    cluster_days : float
        ``breaking_point`` (or ``promise``) messages within this many days of a cluster's first
        message form one crisis (promise).

    Returns
    -------
    WeeklySeries
        With zero bins when no message has a timestamp.
    """
    if not isinstance(bin_days, int) or isinstance(bin_days, bool) or bin_days < 1:
        raise OptionError(E.E225.format(value=bin_days), code="E225")
    messages = list(data.iter_messages() if isinstance(data, Corpus) else data)
    cb = codebook()
    families = tuple(f.name for f in cb.families)
    codes = cb.names
    fam_idx = {c.name: families.index(c.family) for c in cb.codes}
    code_idx = {name: i for i, name in enumerate(codes)}
    humans = [m for m in messages if m.is_human]
    timed = _timed(humans)
    senders = tuple(dict.fromkeys(m.sender for m in humans))
    n_untimed = len(humans) - len(timed)
    notes = ()
    if n_untimed:
        notes = (f"{n_untimed} message(s) without a timestamp left out of the time series",)
    if not timed:
        empty = np.zeros((len(senders), 0), dtype=np.int64)
        return WeeklySeries(date(1970, 1, 5), bin_days, senders, families, codes,
                            np.zeros((len(senders), len(families), 0), dtype=np.int64),
                            np.zeros((len(senders), len(codes), 0), dtype=np.int64), empty,
                            n_untimed=n_untimed, notes=notes)
    first = timed[0].timestamp.date()
    start = first - timedelta(days=first.weekday()) if bin_days == 7 else first
    n_bins = (timed[-1].timestamp.date() - start).days // bin_days + 1
    s_idx = {s: i for i, s in enumerate(senders)}
    fam = np.zeros((len(senders), len(families), n_bins), dtype=np.int64)
    cod = np.zeros((len(senders), len(codes), n_bins), dtype=np.int64)
    expo = np.zeros((len(senders), n_bins), dtype=np.int64)
    for m in timed:
        b = (m.timestamp.date() - start).days // bin_days
        s = s_idx[m.sender]
        expo[s, b] += 1
        names = m.code_names
        if not names:
            continue
        for f in {fam_idx[n] for n in names if n in fam_idx}:
            fam[s, f, b] += 1
        for n in names:
            if n in code_idx:
                cod[s, code_idx[n], b] += 1
    crises = find_events(timed, "breaking_point", kind="crisis", cluster_days=cluster_days)
    promises = find_events(timed, "promise", kind="promise", cluster_days=cluster_days)
    return WeeklySeries(start, bin_days, senders, families, codes, fam, cod, expo,
                        crises, promises, n_untimed, notes)
