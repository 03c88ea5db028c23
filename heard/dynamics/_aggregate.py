"""``fit_dynamics``: every dynamics analysis of a corpus in one call, with one JSON shape.

``to_dict()`` has exactly four keys: ``long_arc`` (crisis-intervention models per sender ×
family), ``sequential`` (the loop's transition tests), ``gottman_murray`` (the turn-level
model) and ``trends`` (is each family rising or falling over the months, per sender).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from heard.dynamics._gottman import fit_gottman_murray
from heard.dynamics._longarc import LongArcModel, LongArcResult
from heard.dynamics._nbglm import TrendResult, trend_test
from heard.dynamics._sequential import sequential_analysis
from heard.dynamics._series import WeeklySeries, build_series
from heard.dynamics._simulate import simulate
from heard.dynamics._turns import build_turns
from heard.dynamics._whatif import describe_change, suggest_changes, typical_opening
from heard.errors import ConvergenceWarning, E, HeardError, OptionError
from heard.model import Corpus, Message, Result, Summary, Text, json_field

__all__ = ["LONG_ARC_FAMILIES", "DynamicsResult", "fit_dynamics"]

#: Families modelled over the months. ``arc`` holds the crisis and promise markers themselves
#: (modelling them against crises would be circular); ``safety`` is never a trend to model.
LONG_ARC_FAMILIES: tuple[str, ...] = ("reach", "attack", "defend", "overfunction", "harden",
                                      "hold")


@dataclass(frozen=True, eq=False)
class DynamicsResult(Result):
    """Results of :func:`fit_dynamics`; ``to_dict()`` is the ``dynamics`` part of the JSON.

    Its four keys are parts, not fields: ``long_arc`` and ``trends`` gather the per-sender
    results with the series they came from (the fields behind them are left out of the JSON as
    they are), ``sequential`` and ``gottman_murray`` say ``insufficient_data`` when missing.
    """

    series: WeeklySeries = json_field(omit=True)
    long_arc: dict[str, dict[str, LongArcResult]] = json_field(omit=True)
    trends: dict[str, dict[str, TrendResult]] = json_field(omit=True)
    reaching_partner: str | None = json_field(omit=True)
    shifts: dict[str, str] = json_field(omit=True)
    sequential: Any = json_field(default=None, convert=lambda p: _part_dict(p))
    gottman_murray: Any = json_field(default=None, convert=lambda p: _part_dict(p))
    #: What-if runs of the turn-level model from a typical opening: ("as it is now", result),
    #: then each partner's smallest repair that visibly moves the outcome, labelled in words.
    simulation: tuple[tuple[str, Any], ...] = json_field(omit=True, default=())
    notes: tuple[str, ...] = json_field(omit=True, default=())

    json_extra: ClassVar[dict[str, str]] = {"long_arc": "_long_arc_json",
                                            "trends": "_trends_json"}
    json_order: ClassVar[tuple[str, ...]] = ("long_arc", "sequential", "gottman_murray",
                                             "trends")

    def _long_arc_json(self) -> dict[str, Any]:
        s = self.series
        return {
            "bin": s.bin_label,
            "crises": [e.day.isoformat() for e in s.crises],
            "promises": [e.day.isoformat() for e in s.promises],
            "crisis_events": [e.to_dict() for e in s.crises],
            "promise_events": [e.to_dict() for e in s.promises],
            "families": list(LONG_ARC_FAMILIES),
            "partners": {who: {f: r.to_dict() for f, r in fams.items()}
                         for who, fams in self.long_arc.items()},
            # the series behind every verdict, for anyone who wants each code family
            # week by week (the report draws only what changed)
            "weekly": {
                "starts": [d.isoformat() for d in s.bin_starts],
                "messages": {who: [int(x) for x in s.exposure_of(who)]
                             for who in self.long_arc},
                "counts": {who: {f: [int(x) for x in r.observed]
                                 for f, r in fams.items()}
                           for who, fams in self.long_arc.items()},
            },
            "notes": list(self.notes) + list(s.notes),
        }

    def _trends_json(self) -> dict[str, Any]:
        return {
            "bin": self.series.bin_label,
            "reaching_partner": self.reaching_partner,
            "partners": {who: {f: t.to_dict() for f, t in fams.items()}
                         for who, fams in self.trends.items()},
            "verdicts": dict(self.shifts),
        }

    def summary(self) -> Summary:
        """The long arc's verdicts, the trends, and the turn-level model when it was fitted."""
        arc = [Text(r.verdict) for fams in self.long_arc.values() for r in fams.values()
               if r.model != "insufficient_data"]
        if not arc:
            arc = [Text("not enough data (at least 2 crises and 8 weeks after the first)")]
        blocks: list[Any] = [
            Text(f"Long arc ({len(self.series.crises)} crises, {self.series.n_bins} "
                 f"{self.series.bin_label} bins):", tone="strong"), *arc,
            Text("", lead="Trends:"), *(Text(v) for v in self.shifts.values())]
        blocks += [Text(n, lead="note: ", tone="note") for n in self.notes]
        parts = [p.summary() for p in (self.sequential, self.gottman_murray) if p is not None]
        return Summary("Dynamics", [*blocks, *parts])


def _part_dict(part: Any) -> dict[str, Any]:
    if part is None:
        return {"status": "insufficient_data"}
    return part.to_dict()


def _shift_verdict(who: str, trends: dict[str, TrendResult]) -> str:
    of, hd = trends.get("overfunction"), trends.get("harden")
    if of is None or hd is None or "insufficient_data" in (of.status, hd.status):
        return f"Not enough data to tell whether {who}'s over-functioning gave way to hardening."
    falling, rising = of.direction == "falling", hd.direction == "rising"
    if falling and rising:
        return (f"Over-functioning giving way to hardening in {who}'s messages: over-functioning "
                f"fell about {(1 - of.rate_ratio_per_month) * 100:.1f}% a month (p = "
                f"{of.p_value:.2g}) while hardening rose about "
                f"{(hd.rate_ratio_per_month - 1) * 100:.1f}% a month (p = {hd.p_value:.2g}).")
    parts = [f"over-functioning {of.direction} (p = {of.p_value:.2g})",
             f"hardening {hd.direction} (p = {hd.p_value:.2g})"]
    return f"No shift from over-functioning to hardening in {who}'s messages: " + \
        ", ".join(parts) + "."


def _guarded(func: Any, notes: list[str], *args: Any, **kwargs: Any) -> Any:
    """Run one of the turn-level analyses; a data problem (HeardError) becomes a note."""
    try:
        return func(*args, **kwargs)
    except HeardError as exc:
        notes.append(f"{func.__name__}: {exc}")
        return None


def _what_if(gm: Any, turns: Any, notes: list[str], seed: int,
             ) -> tuple[tuple[str, Any], ...]:
    """As fitted, and for each partner the smallest repair that visibly moves how a typical
    hard conversation ends (see :mod:`heard.dynamics._whatif`); labels are plain words."""
    overall = getattr(gm, "overall", None)
    if overall is None:
        return ()
    opening = typical_opening(turns, overall.names)
    base = _guarded(simulate, notes, overall, None, seed=seed, opening=opening)
    if base is None:
        return ()
    runs = [("as it is now", base)]
    found = _guarded(suggest_changes, notes, overall, opening, knobs=("repair",), seed=seed,
                     baseline=base) or ()
    for s in found:
        if s.status == "found":
            runs.append((describe_change(s.change(), overall.names),
                         simulate(overall, s.change(), seed=seed, opening=opening)))
    return tuple(runs)


def fit_dynamics(corpus: Corpus | Iterable[Message], *, n_permutations: int = 1000,
                 seed: int = 0, bin_days: int = 7,
                 long_arc: LongArcModel | None = None) -> DynamicsResult:
    """Fit the long arc, the trends, the loop's sequential tests and the Gottman–Murray model.

    Parameters
    ----------
    corpus : Corpus or iterable of Message
        Coded messages.
    n_permutations : int
        Permutations of the sequential tests.
    seed : int
        Seed of every random step (permutations, simulation).
    bin_days : int
        Bin width of the long-arc series (7 = weeks).
    long_arc : LongArcModel, optional
        Settings of the long-arc model (defaults otherwise).

    Returns
    -------
    DynamicsResult
        Never raises on a small corpus: what cannot be estimated is ``insufficient_data``.

    Examples
    --------
    >>> from heard.dynamics import CoupleParams, generate_couple
    >>> msgs = generate_couple(CoupleParams(weeks=3, crisis_weeks=(), seed=2))
    >>> sorted(fit_dynamics(msgs, n_permutations=10).to_dict())
    ['gottman_murray', 'long_arc', 'sequential', 'trends']
    """
    if not isinstance(n_permutations, int) or n_permutations < 0:
        raise OptionError(E.E226.format(option="n_permutations", value=n_permutations,
                                        detail="a whole number >= 0"), code="E226")
    if not isinstance(corpus, Corpus):
        corpus = Corpus.from_messages(corpus)
    model = long_arc or LongArcModel()
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always", ConvergenceWarning)
        series = build_series(corpus, bin_days=bin_days)
        crisis_bins = series.crisis_bins()
        arc: dict[str, dict[str, LongArcResult]] = {}
        trends: dict[str, dict[str, TrendResult]] = {}
        for who in series.senders:
            expo = series.exposure_of(who)
            arc[who] = {f: model.fit(series.count(who, f), crisis_bins, exposure=expo,
                                     sender=who, family=f, start=series.start,
                                     bin_days=bin_days) for f in LONG_ARC_FAMILIES}
            trends[who] = {f: trend_test(series.count(who, f), expo, sender=who, family=f,
                                         bin_days=bin_days) for f in LONG_ARC_FAMILIES}
        turns = build_turns(corpus)
        seq = _guarded(sequential_analysis, notes, turns, n_permutations=n_permutations,
                       seed=seed)
        gm = _guarded(fit_gottman_murray, notes, turns, seed=seed)
        sims = _what_if(gm, turns, notes, seed)
    for w in caught:  # convergence trouble becomes notes in the output, once each
        if issubclass(w.category, ConvergenceWarning):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    rates = {who: series.count(who, "reach").sum() / max(series.exposure_of(who).sum(), 1)
             for who in series.senders}
    reacher = max(rates, key=lambda w: rates[w]) if rates and max(rates.values()) > 0 else None
    shifts = {who: _shift_verdict(who, trends[who]) for who in series.senders}
    return DynamicsResult(series, arc, trends, reacher, shifts, seq, gm, sims, tuple(notes))
