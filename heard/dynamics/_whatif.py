"""What if one thing changed? The turn-level model run as fitted, after a change, and searched
for the smallest change that visibly moves a typical hard conversation.

The outcome a person can picture is how many of the simulated conversations *end on a hard
note* (:data:`~heard.dynamics._simulate.HARD_END_ROUNDS`). Each knob (repair, soften, starting
mood) is searched on a grid (by bisection: the outcome moves one way as a knob grows) for the first
value after which at least ``min_drop`` (10 of 100) fewer conversations end on a hard note
than as fitted. Every
candidate is simulated with the same seed (common random numbers), so the answer is the same
on every run with that seed and the comparison between values is not blurred by noise.

The knobs' plain words live in ``data/what_if.json``. Simulated numbers describe this model of
these messages under an assumed change; they are not predictions about the people.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import pairwise
from statistics import median
from typing import Any, ClassVar

from heard.dynamics._gottman import GMResult, fit_gottman_murray, score_turn
from heard.dynamics._simulate import (
    HARD_END_ROUNDS,
    AddRepair,
    LastingChange,
    ShiftSetPoint,
    SimulationResult,
    SmallestChange,
    SoftenResponse,
    _params,
    _who,
    simulate,
    simulate_months,
    smallest_change,
)
from heard.dynamics._turns import Turn, build_turns
from heard.errors import OptionError
from heard.model import Corpus, Result, Summary, Table, Text, codebook, json_field

__all__ = ["KNOBS", "Suggestion", "WhatIfResult", "describe_change", "knob_help",
           "suggest_changes", "typical_opening", "what_if_model"]

#: The knobs a person can turn, in the order they are suggested.
KNOBS: tuple[str, ...] = ("repair", "soften", "set-point")


@cache
def _words() -> dict[str, Any]:
    path = resources.files("heard.dynamics") / "data" / "what_if.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _fill(template: str, name: str, other: str, me: str | None = None, *, cap: bool = False,
          **kw: Any) -> str:
    """Fill a wording with the partners' names, as "you"/"your" for ``me``."""
    def who(n: str) -> str:
        return "you" if n == me else n

    def pos(n: str) -> str:
        return "your" if n == me else f"{n}'s"

    s = template.format(name=who(name), other=who(other), name_pos=pos(name),
                        other_pos=pos(other), **kw)
    return s[:1].upper() + s[1:] if cap else s


def knob_help(knob: str, name: str = "NAME", other: str = "the other",
              me: str | None = None) -> str:
    """The plain-words explanation of one knob (``repair``, ``soften``, ``set-point``,
    ``lasting``), with the partners' names filled in."""
    return _fill(_words()["knobs"][knob]["plain"], name, other, me, cap=True)


def _other(names: Sequence[str], name: str) -> str:
    return next((n for n in names if n != name), "the other")


def _value_words(factor: float) -> str:
    if factor <= 0:
        return "not at all"
    if math.isclose(factor, 0.5):
        return "only half as far as now"
    return f"only {factor * 100:.0f}% as far as now"


def describe_change(change: Any, names: Sequence[str], me: str | None = None) -> str:
    """One change in plain words, from ``me``'s side when ``me`` is that partner."""
    knob = {SoftenResponse: "soften", AddRepair: "repair", ShiftSetPoint: "set-point",
            LastingChange: "lasting"}[type(change)]
    value = {"soften": getattr(change, "factor", None), "repair": getattr(change, "c", None),
             "set-point": getattr(change, "delta", None),
             "lasting": getattr(change, "fraction", None)}[knob]
    return _fill(_words()["knobs"][knob]["change"], change.partner,
                 _other(names, change.partner), me, value=f"{value:g}",
                 value_words=_value_words(float(value)), value_pct=f"{float(value):.0%}")


def _make(knob: str, name: str, value: float) -> Any:
    if knob == "repair":
        return AddRepair(name, round(value, 2))
    if knob == "soften":
        return SoftenResponse(name, round(value, 2))
    return ShiftSetPoint(name, round(value, 2))


def _has_pull(result: GMResult, name: str) -> bool:
    """Does the fitted model let the other's hard turns move ``name`` at all?"""
    p = _params(result)
    infl = p.infl[_who(p, name)]
    return any(abs(v) > 1e-9 for v in infl([p.lo, -1.0, -0.5]))


@dataclass(frozen=True)
class Suggestion(Result):
    """The smallest value of one knob, for one partner, that visibly moves the outcome.

    ``status`` is ``"found"``, ``"no_pull"`` (softening cannot act: the model found no pull),
    ``"out_of_range"`` (no value in the searched range moves it enough) or ``"not_needed"``
    (as fitted, few conversations end on a hard note).
    """

    partner: str
    knob: str
    status: str
    value: float | None = None
    before: float = json_field(default=math.nan, name="share_ending_hard_before", digits=4)
    after: float | None = json_field(default=None, name="share_ending_hard_after", digits=4)

    json_extra: ClassVar[dict[str, str]] = {"flag": "_flag_or_none"}

    @property
    def flag(self) -> str:
        """The command-line option that runs this change, e.g. ``--repair Maya=0.8``."""
        if self.value is None:
            return ""
        return f"{_words()['knobs'][self.knob]['flag']} {self.partner}={self.value:g}"

    def change(self) -> Any:
        return None if self.value is None else _make(self.knob, self.partner, self.value)

    def _flag_or_none(self) -> str | None:
        return self.flag or None

    def summary(self) -> Summary:
        title = _words()["knobs"][self.knob]["title"]
        if self.status != "found":
            return Summary(f"{title}, {self.partner}", [Text(self.status.replace("_", " "))])
        return Summary(f"{title}, {self.partner}", [Text(
            f"{self.flag}: {round(self.before * 100)} -> {round((self.after or 0) * 100)} of 100 "
            "end on a hard note")])


def suggest_changes(result: GMResult, opening: tuple[float, float], *,
                    knobs: Sequence[str] = KNOBS, n_runs: int = 500, n_turns: int = 40,
                    seed: int = 0, min_drop: float | None = None,
                    baseline: SimulationResult | None = None) -> tuple[Suggestion, ...]:
    """For each partner and knob, the smallest value after which at least ``min_drop`` fewer
    of the simulated conversations end on a hard note than as fitted (a search over the knob's
    grid in ``data/what_if.json``, every candidate simulated with the same ``seed``)."""
    if min_drop is None:
        min_drop = float(_words()["min_drop"])
    if not 0 < min_drop < 1:
        raise OptionError.from_code("E206", option="min_drop", detail="between 0 and 1",
                                    value=min_drop)
    base = baseline or simulate(result, None, n_runs=n_runs, n_turns=n_turns, seed=seed,
                                opening=opening)
    before = base.share_hard_end
    out: list[Suggestion] = []
    for name in result.names:
        for knob in knobs:
            if knob not in KNOBS:
                raise OptionError.from_code("E206", option="knob",
                                            detail=" or ".join(KNOBS), value=knob)
            if before < min_drop:
                out.append(Suggestion(name, knob, "not_needed", before=before))
                continue
            if knob == "soften" and not _has_pull(result, name):
                out.append(Suggestion(name, knob, "no_pull", before=before))
                continue
            lo, hi = _words()["knobs"][knob]["range"]
            step = _words()["knobs"][knob]["step"]
            k = round((hi - lo) / step)
            # soften goes down from "almost as now" (0.9) to 0; the others go up from a step
            grid = ([round(hi - i * step, 2) for i in range(k + 1)] if knob == "soften"
                    else [round(lo + i * step, 2) for i in range(k + 1)])
            found = _first_on_grid(result, knob, name, grid, before, min_drop, opening,
                                   n_runs=n_runs, n_turns=n_turns, seed=seed)
            out.append(found or Suggestion(name, knob, "out_of_range", before=before))
    return tuple(out)


def _first_on_grid(result: GMResult, knob: str, name: str, grid: list[float], before: float,
                   min_drop: float, opening: tuple[float, float], *, n_runs: int, n_turns: int,
                   seed: int) -> Suggestion | None:
    """Bisection over the grid for the first value that moves the outcome by ``min_drop``.

    The outcome grows with the knob's strength (with the same seed for every value), so
    bisection finds the grid's first such value in about log2(len(grid)) simulations instead
    of one per value.
    """
    seen: dict[int, float] = {}

    def after(i: int) -> float:
        if i not in seen:
            seen[i] = simulate(result, _make(knob, name, grid[i]), n_runs=n_runs,
                               n_turns=n_turns, seed=seed, opening=opening).share_hard_end
        return seen[i]

    def moves(i: int) -> bool:
        return before - after(i) >= min_drop - 1e-12

    if not moves(len(grid) - 1):
        return None
    lo, hi = -1, len(grid) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if moves(mid):
            hi = mid
        else:
            lo = mid
    return Suggestion(name, knob, "found", grid[hi], before, after(hi))


def typical_opening(turns: Sequence[Turn], names: Sequence[str]) -> tuple[float, float]:
    """Median scores of a reaching turn and the other's answer to it: how a typical hard
    conversation between these two opens, as the model scores turns."""
    reach_codes = set(codebook().codes_in("reach"))
    scores: dict[str, list[float]] = {n: [] for n in names}
    for turn, answer in pairwise(turns):
        if (turn.codes & reach_codes and answer.conversation_id == turn.conversation_id
                and answer.sender != turn.sender and {turn.sender, answer.sender} <= set(names)):
            scores[turn.sender].append(score_turn(turn.codes))
            scores[answer.sender].append(score_turn(answer.codes))
    return tuple(median(scores[n]) if scores[n] else 0.0 for n in names)  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class WhatIfResult(Result):
    """The fitted model run as fitted and after a change, with suggested changes (frozen).

    ``to_dict()`` is the JSON of ``heard simulate --json``; ``summary().as_text()`` the text it
    prints. With ``safety_concern`` no change is suggested.
    """

    status: str
    names: tuple[str, ...] = json_field(omit=True, default=())
    reason: str | None = json_field(omit=True, default=None)  # only without a fit (to_dict)
    model: GMResult | None = None
    opening: dict[str, float] = field(default_factory=dict)
    as_fitted: SimulationResult | None = None
    changed: SimulationResult | None = json_field(default=None, skip_none=True)
    # the changes in words, as the summary says them
    changes: tuple[Any, ...] = json_field(omit=True, default=())
    suggestions: tuple[Suggestion, ...] = ()
    smallest: SmallestChange | None = json_field(default=None, name="smallest_change")
    months: dict[str, Any] | None = json_field(default=None, skip_none=True)
    safety_concern: bool = False
    me: str | None = None

    json_extra: ClassVar[dict[str, str]] = {"changes": "_changes_words",
                                            "outcome": "_outcome_words"}

    # Callers written for the dict this used to be keep working: result["status"] etc.
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``heard simulate --json``: without a fit, only the status and why."""
        if self.status != "ok":
            return {"status": self.status, "reason": self.reason}
        return super().to_dict()

    def _changes_words(self) -> list[str]:
        return [describe_change(c, self.names) for c in self.changes]

    def _outcome_words(self) -> str:
        n = self.as_fitted.n_runs if self.as_fitted else 0
        return _words()["outcome"].format(n=n, rounds=HARD_END_ROUNDS)

    def _who(self, name: str, *, cap: bool = False) -> str:
        if name == self.me:
            return "You" if cap else "you"
        return name

    def _ordered(self) -> list[str]:
        # from the side of --me: that person first
        return sorted(self.names, key=lambda n: n != self.me)

    def summary(self) -> Summary:
        """What was simulated, the outcome before and after, what to try, in plain words."""
        if self.status != "ok" or self.as_fitted is None:
            return Summary("What if?", [Text(f"Not enough data to simulate: {self.reason}.")])
        fitted, changed = self.as_fitted, self.changed
        n = fitted.n_runs
        a, b = self._ordered()
        intro = [f"What if? heard ran {n} simulated conversations of {fitted.n_turns} turns, "
                 f"each starting like a typical hard one between {self._who(a)} and "
                 f"{self._who(b)}.", "", self._outcome_words(), _words()["scale"], ""]

        def of(x: float) -> str:
            return f"{round(x * 100):d} of 100"

        rows = [("Conversations that end on a hard note", fitted.share_hard_end,
                 changed.share_hard_end if changed else None)]
        for name in self._ordered():
            whose = "Your" if name == self.me else f"{name}'s"
            rows.append((f"{whose} turns that are hard", fitted.share_hard_turns[name],
                         changed.share_hard_turns[name] if changed else None))
        head = ("", "as it is now", *(("with the change",) if changed else ()))
        table = Table(head, [(label, of(x), *((of(y),) if changed else ()))
                             for label, x, y in rows])
        lines: list[str] = []
        if self.changes:
            lines.append("")
            for c in self.changes:
                if isinstance(c, LastingChange):
                    lines.append("The change: " + describe_change(c, self.names, self.me)
                                 + ". Its week-by-week effect is in --json (months).")
                    continue
                lines.append("The change: " + describe_change(c, self.names, self.me) + ".")
                if isinstance(c, SoftenResponse) and self.model is not None \
                        and not _has_pull(self.model, c.partner):
                    lines.append("  " + _fill(_words()["no_pull"], c.partner,
                                              _other(self.names, c.partner), self.me))
            if changed is not None:
                x, y = round(fitted.share_hard_end * 100), round(changed.share_hard_end * 100)
                if abs(x - y) < round(_words()["min_drop"] * 100) / 2:
                    lines.append(f"That is about the same ({x} and {y} of 100 end on a hard "
                                 "note): a difference this small is within the simulation's "
                                 "noise.")
                else:
                    lines.append(f"With it, {y} of 100 conversations end on a hard note "
                                 f"instead of {x}.")
        lines.extend(["", *self._suggestion_lines(), "", *self._knob_lines()])
        lines.extend(["", "A model of these messages, not a prediction about the people: turn "
                      "scores come from the codes, and text is only a proxy for tone."])
        return Summary("", [*map(Text, intro), table, *map(Text, lines)])

    def _knob_lines(self) -> list[str]:
        lines = ["What each change means (NAME is either partner):"]
        for knob in (*KNOBS, "lasting"):
            w = _words()["knobs"][knob]
            lines.append(f"  {w['flag']} {w['metavar']}: {knob_help(knob)}")
        return lines

    def _suggestion_lines(self) -> list[str]:
        if self.safety_concern:
            return ["heard found messages that raise a safety concern, so it suggests no "
                    "changes here. Nothing in this is advice to soften, give way or stay; "
                    "the report's 'Safety first' part lists people who can help."]
        if not self.suggestions:
            return []
        if all(s.status == "not_needed" for s in self.suggestions):
            return ["As it is now, few of these conversations end on a hard note "
                    f"(fewer than {round(_words()['min_drop'] * 100)} of 100), so there is "
                    "nothing here for a change to move."]
        drop = round(_words()["min_drop"] * 100)
        lines = [f"What to try: the smallest change of each kind after which at least {drop} "
                 "fewer of 100 conversations end on a hard note (add it to the command to see "
                 "the difference):"]
        for name in self._ordered():
            lines.append(f"  {'You' if name == self.me else name}:")
            for s in (x for x in self.suggestions if x.partner == name):
                title = _words()["knobs"][s.knob]["title"]
                if s.status == "found":
                    lines.append(f"    {title}: {s.flag}  ({round(s.before * 100)} -> "
                                 f"{round((s.after or 0) * 100)} of 100 end on a hard note)")
                elif s.status == "no_pull":
                    lines.append(f"    {title}: changes nothing here (no measurable pull to "
                                 "soften)")
                else:
                    lines.append(f"    {title}: no value in the range tried moves it enough")
        return lines


def what_if_model(corpus: Corpus, changes: Sequence[Any] = (), *, n_runs: int = 500,
                  n_turns: int = 40, seed: int = 0, me: str | None = None,
                  safety_concern: bool = False, suggest: bool = True) -> WhatIfResult:
    """Fit the Gottman–Murray model to a coded corpus and simulate it as fitted, after
    ``changes``, and for the suggested smallest changes.

    Parameters
    ----------
    corpus : Corpus
        Coded messages.
    changes : sequence of interventions
        :class:`SoftenResponse`, :class:`AddRepair`, :class:`ShiftSetPoint` (turn level) and
        at most one :class:`LastingChange` (months after each crisis).
    n_runs, n_turns, seed : int
    me : str, optional
        The partner whose side the summary speaks from ("you").
    safety_concern : bool
        Messages raised a safety concern: no change is suggested.
    suggest : bool
        Search for the smallest change of each kind.
    """
    fit = fit_gottman_murray(corpus, seed=seed)
    result = fit.overall
    if result is None:
        return WhatIfResult("insufficient_data",
                            reason=fit.reason or "too few turns to fit the model")
    names = tuple(result.names)
    if me is not None:
        _who(_params(result), me)
    for c in changes:
        _who(_params(result), c.partner)
    opening = typical_opening(build_turns(corpus), names)
    lasting = [c for c in changes if isinstance(c, LastingChange)]
    turn_level = [c for c in changes if not isinstance(c, LastingChange)]
    fitted = simulate(result, None, n_runs=n_runs, n_turns=n_turns, seed=seed, opening=opening)
    changed = (simulate(result, turn_level, n_runs=n_runs, n_turns=n_turns, seed=seed,
                        opening=opening) if turn_level else None)
    sugg = (suggest_changes(result, opening, n_runs=n_runs, n_turns=n_turns, seed=seed,
                            baseline=fitted) if suggest and not safety_concern else ())
    return WhatIfResult(
        "ok", names, model=result, opening=dict(zip(names, opening, strict=True)),
        as_fitted=fitted, changed=changed, changes=tuple(changes), suggestions=sugg,
        smallest=smallest_change(result, opening),
        months=simulate_months(result, lasting[0], seed=seed) if lasting else None,
        safety_concern=safety_concern, me=me)
