"""Context: what the other sender's previous message means for this one.

All of the rule coder's context logic lives here, driven by ``coding/data/context.json``:

1. **The reply window.** A message answers the other sender's latest earlier message (its
   *turn*) when at most ``max_own_between`` of the sender's own messages came in between and,
   where both have timestamps, no more than ``max_gap_minutes`` passed. Otherwise it has no
   turn: a "fine." the next morning answers nothing.
2. **Rule conditions.** A rule's ``context`` names codes (or ``@groups``) of that turn:
   ``require`` fires the rule only after such a message (a bare "fine." is ``withdrawal`` only
   after a reach, a repair or tracking; after "are you coming?" it is no code), ``block`` never
   fires it there ("you're distant" opening a conversation is a ``complaint``, as a reply to a
   reach it is ``counter_blame`` instead), ``boost`` adds ``by`` to its score there (arguing
   facts in reply to a reach is ``proving_wrong``). ``unless_asked`` leaves a condition unmet
   when that message asked a question: "my phone was in my locker" answering "where were
   you?" is a plain fact given when asked, not an excuse.
3. **Ordinary talk** (:class:`OrdinaryTalk`, applied after the model-based coders): a reply
   that is only an acknowledgement ("sure", "no worries") carries no code unless the turn it
   answers carried a feeling, a complaint or a move of the fight; a logistics question is no
   ``bid`` or ``curiosity``; a plan said in passing ("back around 7:30") is no ``staying``,
   ``hardening`` or ``withdrawal``; as the codebook decides.
4. **Resolution.** After scoring, the ``resolve`` table drops a code when another is present in
   the same message: ``withdrawal`` yields to ``staying`` ("I need twenty minutes, then I want to
   finish this"), ``proving_wrong`` to ``validation`` (a correction that takes in the feeling).

The turn's codes are the codes the other message got at ``context_threshold``, whatever the
output threshold, so that changing ``threshold`` never changes what context means.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from heard.coding._rule_data import ContextSpec

__all__ = ["CONTEXT_OTHER", "CONTEXT_SELF", "NO_TURN", "ContextTracker", "OrdinaryTalk", "Turn",
           "context_factor", "resolve"]

#: Internal sender ids of plain-string context and of a lone text's writer (``code_text`` of
#: every coder): never a real sender, never in a text.
CONTEXT_OTHER, CONTEXT_SELF = "\x00other", "\x00self"


@dataclass(frozen=True, slots=True)
class Turn:
    """The other sender's message this one answers (``exists`` False when there is none)."""

    exists: bool = False
    codes: frozenset[str] = frozenset()
    gap_seconds: float | None = None
    asked: bool = False


NO_TURN = Turn()


class ContextTracker:
    """Walks one conversation in order and says, for each message, which turn it answers."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._max_gap = float(settings["max_gap_minutes"]) * 60.0
        self._max_own = int(settings["max_own_between"])
        # (sender, timestamp, codes, asked) of the human messages seen so far, newest last
        self._seen: list[tuple[str, datetime | None, frozenset[str], bool]] = []

    def turn_for(self, sender: str | None, timestamp: datetime | None) -> Turn:
        own = 0
        for other, when, codes, asked in reversed(self._seen):
            if sender is not None and other == sender:
                own += 1
                if own > self._max_own:
                    return NO_TURN
                continue
            gap = None
            if timestamp is not None and when is not None:
                gap = (timestamp - when).total_seconds()
                if gap > self._max_gap:
                    return NO_TURN
            return Turn(True, codes, gap, asked)
        return NO_TURN

    def add(self, sender: str | None, timestamp: datetime | None,
            codes: frozenset[str], asked: bool = False) -> None:
        """Record a message; ``asked``: it put a question to the other sender."""
        self._seen.append((sender or "", timestamp, codes, asked))
        if len(self._seen) > self._max_own + 2:
            del self._seen[0]


def context_factor(spec: ContextSpec | None, turn: Turn) -> float | None:
    """The score change a rule's context condition makes: ``None`` cancels the hit."""
    if spec is None:
        return 0.0
    met = turn.exists and not turn.codes.isdisjoint(spec.after) and not (
        spec.unless_asked and turn.asked)
    if spec.mode == "require":
        return 0.0 if met else None
    if spec.mode == "block":
        return None if met else 0.0
    return spec.by if met else 0.0


def resolve(present: set[str], table: list[Mapping[str, Any]]) -> set[str]:
    """Codes to drop because a code that outranks them is present in the same message."""
    return {row["drop"] for row in table
            if row["drop"] in present and not present.isdisjoint(row["if_present"])}


_TRAILING = re.compile(r"[\s.!,~]+$")
_SPACES = re.compile(r"\s+")


def _words(phrases: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


@dataclass(frozen=True, slots=True)
class OrdinaryTalk:
    """The codebook's "ordinary talk carries no code", from ``context.json``'s ``ordinary``.

    A model reads "Sure." the way its training fights used it; a person's chat is mostly "sure"
    to "can you grab milk?". Which replies and words count lives in the data file.
    """

    replies: frozenset[str]
    keep_after: frozenset[str]
    logistics: re.Pattern[str]
    reach: re.Pattern[str]
    logistics_drop: frozenset[str]
    never_drop: frozenset[str]
    plans: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = ()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OrdinaryTalk:
        spec = settings["ordinary"]
        return cls(replies=frozenset(_key(r) for r in spec["replies"]),
                   keep_after=frozenset(spec["keep_after"]),
                   logistics=_words(spec["logistics_words"]),
                   reach=_words(spec["reach_words"]),
                   logistics_drop=frozenset(spec["logistics_drop"]),
                   never_drop=frozenset(spec["never_drop"]),
                   plans=tuple((re.compile(p["pattern"], re.IGNORECASE), frozenset(p["drop"]))
                               for p in spec.get("plans", ())))

    def drops(self, text: str, turn: Turn) -> frozenset[str] | None:
        """Codes this message can't carry (``None``: any); ``never_drop`` codes are kept."""
        if _key(text) in self.replies and (not turn.exists or turn.codes.isdisjoint(
                self.keep_after)):
            return None  # every code but never_drop
        lower = text.lower()
        if "?" in lower and self.logistics.search(lower) and not self.reach.search(lower):
            return self.logistics_drop
        return frozenset()

    def apply(self, codes: tuple[Any, ...], text: str, turn: Turn) -> tuple[Any, ...]:
        """``codes`` (objects with a ``name``) without those ordinary talk can't carry."""
        if not codes:
            return codes
        drop = self.drops(text, turn)
        if drop is None:
            return tuple(c for c in codes if c.name in self.never_drop)
        if drop:
            codes = tuple(c for c in codes if c.name not in drop or c.name in self.never_drop)
        return self._without_plans(codes, text)

    def _without_plans(self, codes: tuple[Any, ...], text: str) -> tuple[Any, ...]:
        """Drop the codes whose every quote lies in a sentence that only states a plan."""
        for pattern, drop in self.plans:
            if not any(c.name in drop for c in codes):
                continue
            sentences = [_sentence(text, m.start(), m.end()) for m in pattern.finditer(text)]
            codes = tuple(c for c in codes
                          if c.name not in drop or not _quoted_within(c, sentences))
        return codes


def _quoted_within(code: Any, spans: list[tuple[int, int]]) -> bool:
    """Whether every quote of ``code`` lies inside one of ``spans`` (False with no quote)."""
    return bool(code.evidence) and all(any(a <= e.start and e.end <= b for a, b in spans)
                                       for e in code.evidence)


_SENTENCE_END = re.compile(r"[.!?\n]")


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence around ``text[start:end]``."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    right = _SENTENCE_END.search(text, end)
    return left, right.start() if right else len(text)


def _key(text: str) -> str:
    return _SPACES.sub(" ", _TRAILING.sub("", text.strip().lower().replace("\u2019", "'")))

