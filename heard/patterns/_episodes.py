"""Episodes: a long chat split at long silences, and the turn structure inside each episode.

A silence is measured between human messages only: a system event in the middle of a night's
silence does not end the silence. Without timestamps a conversation is one episode.

Inside an episode, consecutive messages of one sender form a *run* (a turn); a run is cut into
*bursts* where the sender paused ``burst_minutes`` or longer (without timestamps on both sides we
cannot tell a pause from a line break, so every message is its own burst).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from heard.model import Corpus, Message
from heard.patterns._data import MessageView, resolve_settings, view
from heard.patterns._outcomes import Episode

__all__ = ["Frame", "build_frames", "split_episodes"]


def _episodes_of(conversation_id: str, messages: list[Message], gap_s: float) -> list[Episode]:
    """Cut before a human message that follows the previous human message by ``gap_s`` or more.

    Events stay with the episode they follow (leading events with the first episode).
    """
    cuts: list[tuple[int, float | None]] = []  # (position of the episode's first message, gap)
    bounds: list[list[datetime | None]] = []  # [start, end] per episode
    last: datetime | None = None
    for pos, m in enumerate(messages):
        if not m.is_human:
            continue
        ts = m.timestamp
        if not cuts:
            cuts.append((0, None))
            bounds.append([None, None])
        elif ts is not None and last is not None and (ts - last).total_seconds() >= gap_s:
            cuts.append((pos, (ts - last).total_seconds() / 3600))
            bounds.append([None, None])
        if ts is not None:
            b = bounds[-1]
            b[0] = b[0] or ts
            # Out-of-order timestamps never move the clock back: a silence is measured forward.
            if last is None or ts > last:
                last = ts
            if b[1] is None or ts > b[1]:
                b[1] = ts
    out: list[Episode] = []
    for n, ((pos, gap), (start, end)) in enumerate(zip(cuts, bounds, strict=True), start=1):
        stop = cuts[n][0] if n < len(cuts) else len(messages)
        out.append(Episode(f"{conversation_id}#{n}", conversation_id, n,
                           tuple(messages[pos:stop]), start, end, gap))
    return out


def split_episodes(corpus: Corpus, *, gap_hours: float | None = None) -> list[Episode]:
    """Split every conversation into episodes at silences of ``gap_hours`` or longer.

    Parameters
    ----------
    corpus : Corpus
    gap_hours : float, optional
        Default from ``patterns/data/settings.json``; ``math.inf`` never splits.

    Returns
    -------
    list of Episode
        In corpus order; ids are ``"<conversation_id>#<n>"``. Conversations without human
        messages have no episode.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from heard.model import Corpus, Message
    >>> t = lambda h: datetime(2026, 1, 1, h, tzinfo=UTC)
    >>> c = Corpus.from_messages([Message("c", "1", "A", t(8), "hi"),
    ...                           Message("c", "2", "B", t(9), "hey"),
    ...                           Message("c", "3", "A", t(20), "home?")])
    >>> [e.id for e in split_episodes(c, gap_hours=6)]
    ['c#1', 'c#2']
    """
    gap_s = resolve_settings(gap_hours=gap_hours).gap_hours * 3600
    out: list[Episode] = []
    for conv in corpus.conversations:
        out.extend(_episodes_of(conv.id, conv.messages, gap_s))
    return out


@dataclass(slots=True)
class Frame:
    """An episode's human messages with their runs and bursts (internal working structure).

    ``run_of[i]`` / ``burst_of[i]`` give the run and burst of ``views[i]``; ``runs[r]`` is the
    half-open index range ``(start, end)`` of run ``r``. Burst numbers increase through the episode.
    """

    episode: Episode
    views: list[MessageView]
    runs: list[tuple[int, int]] = field(default_factory=list)
    run_of: list[int] = field(default_factory=list)
    burst_of: list[int] = field(default_factory=list)
    #: For each sender, the other senders' first message after this episode (same conversation).
    after: dict[str, MessageView] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.episode.id

    @property
    def conversation_id(self) -> str:
        return self.episode.conversation_id

    def run_views(self, r: int) -> list[MessageView]:
        s, e = self.runs[r]
        return self.views[s:e]

    def later_reply(self, sender: str, run: int) -> MessageView | None:
        """The first message not from ``sender`` after run ``run``, in this or a later episode."""
        if run + 1 < len(self.runs):
            return self.views[self.runs[run + 1][0]]
        return self.after.get(sender)


def _frame(episode: Episode, burst_s: float) -> Frame:
    views = [view(m, i) for i, m in enumerate(m for m in episode.messages if m.is_human)]
    frame = Frame(episode, views)
    burst = -1
    prev: MessageView | None = None
    for i, v in enumerate(views):
        if prev is None or v.sender != prev.sender:
            frame.runs.append((i, i + 1))
            burst += 1
        else:
            s, _ = frame.runs[-1]
            frame.runs[-1] = (s, i + 1)
            if (v.timestamp is None or prev.timestamp is None
                    or (v.timestamp - prev.timestamp).total_seconds() >= burst_s):
                burst += 1
        frame.run_of.append(len(frame.runs) - 1)
        frame.burst_of.append(burst)
        prev = v
    return frame


def build_frames(corpus: Corpus, *, gap_hours: float, burst_minutes: float) -> list[Frame]:
    """Episodes with their turn structure, and for each the partner's next message after it."""
    frames = [_frame(e, burst_minutes * 60) for e in split_episodes(corpus, gap_hours=gap_hours)]
    # Walk backwards so each frame learns, per sender, the next message from someone else.
    following: dict[str, tuple[int, int, MessageView]] = {}  # sender -> first later message
    conv: str | None = None
    for k in range(len(frames) - 1, -1, -1):
        frame = frames[k]
        if frame.conversation_id != conv:
            conv, following = frame.conversation_id, {}
        for s in {v.sender for v in frame.views}:
            others = [f for o, f in following.items() if o != s]
            if others:
                frame.after[s] = min(others, key=lambda f: (f[0], f[1]))[2]
        for v in reversed(frame.views):
            following[v.sender] = (k, v.index, v)
    return frames
