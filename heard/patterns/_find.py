"""``find_patterns``: episodes, reaches, repairs, chases, loops and summaries in one pass."""

from __future__ import annotations

from collections import defaultdict

from heard.model import Corpus
from heard.patterns._chase import find_chases
from heard.patterns._data import reference, resolve_settings
from heard.patterns._episodes import build_frames
from heard.patterns._loops import find_loops
from heard.patterns._outcomes import Chase, LoopInstance, ReachOutcome, RepairOutcome
from heard.patterns._reach import latencies, reach_outcomes, repair_outcomes
from heard.patterns._results import PatternResult
from heard.patterns._summary import Tally, tally
from heard.patterns._tallies import ConversationSummary

__all__ = ["find_patterns"]


def find_patterns(
    corpus: Corpus,
    *,
    gap_hours: float | None = None,
    reply_window_hours: float | None = None,
    min_n: int | None = None,
    burst_minutes: float | None = None,
) -> PatternResult:
    """Find the loop in a coded corpus, the same way for every sender.

    Reads the codes in ``message.annotations["codes"]`` (from the coder, or given with the
    input). Only human messages take part; events never split or join anything.

    Parameters
    ----------
    corpus : Corpus
    gap_hours : float, optional
        A silence this long starts a new episode (default in ``data/settings.json``: 6).
    reply_window_hours : float, optional
        A later reply counts as ignored (default 4).
    min_n : int, optional
        Minimum cases for a rate or a latency to be reported (default 5).
    burst_minutes : float, optional
        A pause this long between one sender's messages sends the next one "into silence"
        (default 10).

    Returns
    -------
    PatternResult

    Raises
    ------
    OptionError
        E350 when an option is not a positive number.

    Examples
    --------
    >>> from heard.model import Code, Corpus, Message
    >>> a = Message("c", "1", "Sam", None, "I felt alone at the party.")
    >>> b = Message("c", "2", "Alex", None, "That's not what happened.")
    >>> a.annotations["codes"] = (Code("emotional_truth", 1.0),)
    >>> b.annotations["codes"] = (Code("proving_wrong", 1.0),)
    >>> result = find_patterns(Corpus.from_messages([a, b]))
    >>> result.reaches[0].outcome, result.loops[0].broke_at
    ('defended', 'overfunction')
    """
    settings = resolve_settings(gap_hours=gap_hours, reply_window_hours=reply_window_hours,
                                min_n=min_n, burst_minutes=burst_minutes)
    window_s = settings.reply_window_hours * 3600
    frames = build_frames(corpus, gap_hours=settings.gap_hours,
                          burst_minutes=settings.burst_minutes)

    reaches: list[ReachOutcome] = []
    repairs: list[RepairOutcome] = []
    chases: list[Chase] = []
    loops: list[LoopInstance] = []
    # Per conversation: its episode ids and its objects, tallied once the conversation is done.
    by_conv: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    has_ts = False
    for frame in frames:
        fr_reaches = reach_outcomes(frame, window_s)
        fr_repairs = repair_outcomes(frame, window_s)
        fr_chases = find_chases(frame)
        fr_loops = find_loops(frame, fr_reaches, fr_repairs)
        has_ts = has_ts or any(v.timestamp is not None for v in frame.views)
        reaches += fr_reaches
        repairs += fr_repairs
        chases += fr_chases
        loops += fr_loops
        conv = by_conv[frame.conversation_id]
        conv["reaches"] += fr_reaches
        conv["repairs"] += fr_repairs
        conv["chases"] += fr_chases
        conv["loops"] += fr_loops
        conv["latencies"] += latencies(frame)
        conv["views"] += frame.views
        conv["episodes"].append(frame.id)

    # Human senders in order of first appearance (frames and their views are in corpus order).
    senders = tuple(dict.fromkeys(v.sender for f in frames for v in f.views))
    whole = Tally(senders)
    conversations: list[ConversationSummary] = []
    for c in corpus.conversations:
        if c.id not in by_conv:
            continue
        d = by_conv[c.id]
        # Two partners: both appear in every conversation's summary, zeros where silent.
        conv_senders = list(dict.fromkeys(v.sender for v in d["views"]))
        if len(senders) <= 2:
            conv_senders += [s for s in senders if s not in conv_senders]
        part = tally(conv_senders, d["views"], d["reaches"], d["repairs"], d["chases"],
                     d["loops"], d["latencies"])
        whole.add(part)
        conversations.append(ConversationSummary(
            conversation_id=c.id,
            episodes=len(d["episodes"]),
            partners=part.summaries(settings.min_n),
        ))

    return PatternResult(
        settings=settings,
        senders=senders,
        episodes=tuple(f.episode for f in frames),
        reaches=tuple(reaches),
        repairs=tuple(repairs),
        chases=tuple(chases),
        loops=tuple(loops),
        partners=whole.summaries(settings.min_n),
        conversations=tuple(conversations),
        reference=reference(),
        has_timestamps=has_ts,
    )
