"""Patterns: the loop, per conversation and across conversations, the same for both partners.

:func:`find_patterns` reads coded messages and finds what met each reach (heard, defended,
attacked, ignored), repairs that landed, chasing into silence, loop instances
(reach → defend/attack → overfunction → harden → counter_blame) and per-partner summaries.
:func:`scan_safety` is the safety gate that runs before any of it is shown.
"""

from heard.patterns._data import safety_data
from heard.patterns._episodes import split_episodes
from heard.patterns._find import find_patterns
from heard.patterns._outcomes import (
    LOOP_STEPS,
    REACH_OUTCOMES,
    TURN_KINDS,
    Chase,
    Episode,
    LoopInstance,
    ReachOutcome,
    RepairOutcome,
)
from heard.patterns._results import PatternResult, PatternSettings
from heard.patterns._safety import categorize, guidance, phrases, scan_safety
from heard.patterns._safety_result import Resource, SafetyFinding, SafetyResult
from heard.patterns._tallies import (
    ConversationSummary,
    Latency,
    PartnerSummary,
    Rate,
    duration_words,
    summary_words,
)

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
    "categorize",
    "duration_words",
    "find_patterns",
    "guidance",
    "phrases",
    "safety_data",
    "scan_safety",
    "split_episodes",
    "summary_words",
]
