"""Chasing: one sender's messages going out into silence, the second, third, fourth...

A chase is a run of one sender's consecutive messages (no reply from the other in between) with
at least one follow-up: a message sent ``burst_minutes`` or more after the previous one. Quick
lines typed in one go are one turn, not a chase. Without timestamps we cannot tell a pause from a
line break, so every message after the first counts as a follow-up. A run ends at the other's
reply or at the end of the episode.
"""

from __future__ import annotations

from heard.patterns._episodes import Frame
from heard.patterns._outcomes import Chase

__all__ = ["find_chases"]


def find_chases(frame: Frame) -> list[Chase]:
    """The chases of one episode, in order."""
    out: list[Chase] = []
    for r, (start, end) in enumerate(frame.runs):
        if end - start < 2:
            continue
        followups = tuple(
            frame.views[i].id for i in range(start + 1, end)
            if frame.burst_of[i] != frame.burst_of[i - 1]
        )
        if not followups:
            continue
        first, last = frame.views[start], frame.views[end - 1]
        span = None
        if first.timestamp is not None and last.timestamp is not None:
            span = (last.timestamp - first.timestamp).total_seconds()
        replied = r + 1 < len(frame.runs)
        out.append(Chase(
            conversation_id=frame.conversation_id,
            episode_id=frame.id,
            sender=first.sender,
            message_ids=tuple(v.id for v in frame.views[start:end]),
            followup_ids=followups,
            start=first.timestamp,
            end=last.timestamp,
            span_seconds=span,
            ended="reply" if replied else "episode_end",
            reply_id=frame.views[frame.runs[r + 1][0]].id if replied else None,
        ))
    return out
