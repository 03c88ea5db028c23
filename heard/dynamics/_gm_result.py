"""What the Gottman–Murray fit returns: one couple's fitted model (:class:`GMResult`), its
baseline against shuffled-partner pseudo-couples, and the rolling-window fits
(:class:`GMAnalysis`). Estimation lives in ``_gottman``; these are the frozen results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from heard.dynamics._gm_core import FixedPoint, PersonFit
from heard.model import Result, Summary, Table, Text, json_field

__all__ = ["Baseline", "GMAnalysis", "GMResult", "GMWindow"]


@dataclass(frozen=True, slots=True)
class Baseline(Result):
    """How the observed BIC gain of influence compares with shuffled-partner pseudo-couples."""

    observed_gain: float = json_field(name="observed_bic_gain")
    null_gains: tuple[float, ...] = json_field(omit=True, repr=False)
    p_value: float

    json_extra: ClassVar[dict[str, str]] = {"n_surrogates": "n_surrogates",
                                            "null_bic_gain_q95": "null_bic_gain_q95"}

    @property
    def n_surrogates(self) -> int:
        return len(self.null_gains)

    @property
    def null_bic_gain_q95(self) -> float | None:
        """The 95th percentile of the pseudo-couples' gains: what chance alone reaches."""
        return float(np.quantile(np.asarray(self.null_gains), 0.95)) if self.null_gains else None

    def summary(self) -> Summary:
        return Summary("The partner's influence against chance", [Table(("", ""), [
            ("BIC gain of influence", f"{self.observed_gain:.2f}"),
            ("Pseudo-couples", str(self.n_surrogates)),
            ("p", f"{self.p_value:.3g}")])])


@dataclass(frozen=True)
class GMResult(Result):
    """A fitted Gottman–Murray model of one couple (frozen; statsmodels-style results).

    Attributes
    ----------
    names : (str, str)
        The partners; ``first`` is the one whose equation uses the other's previous turn.
    fits : dict
        ``fits[name][model]``: a :class:`PersonFit` for every shape that could be fitted.
    chosen : dict
        ``chosen[name]`` is the fit kept (smallest BIC, or the shape asked for).
    fixed_points : tuple of FixedPoint
        Influenced steady states within the observed score range, with stability.
    baseline : dict
        ``baseline[name]`` compares the influence gain with shuffled-partner pseudo-couples.
    """

    names: tuple[str, str]
    convention: str
    # the JSON gives each partner's chosen fit, BICs and baseline together ("people")
    fits: dict[str, dict[str, PersonFit]] = json_field(omit=True)
    chosen: dict[str, PersonFit] = json_field(omit=True)
    fixed_points: tuple[FixedPoint, ...]
    baseline: dict[str, Baseline] = json_field(omit=True)
    score_range: tuple[float, float]
    alpha: float = json_field(omit=True, default=0.05)

    json_extra: ClassVar[dict[str, str]] = {"people": "people"}

    def influence_beats_chance(self, name: str) -> bool | None:
        """True when the influence on ``name`` beats the pseudo-couples; None without baseline."""
        b = self.baseline.get(name)
        if b is None:
            return None
        return bool(b.observed_gain > 0 and b.p_value < self.alpha)

    @property
    def set_points(self) -> dict[str, float]:
        return {n: self.chosen[n].set_point for n in self.names}

    @property
    def inertia(self) -> dict[str, float]:
        return {n: self.chosen[n].r for n in self.names}

    def influence_function(self, name: str):
        """I(partner's score) acting on ``name``."""
        return self.chosen[name].influence

    @property
    def people(self) -> dict[str, dict[str, Any]]:
        """Per partner: the chosen fit, its BIC against the other shapes, the baseline."""
        out = {}
        for n in self.names:
            c = self.chosen[n]
            out[n] = {
                "model": c.model, "params": dict(c.params), "se": dict(c.se),
                "set_point": c.set_point, "inertia": c.r, "n_pairs": c.n, "sigma": c.sigma,
                "half_life_uninfluenced": (math.log(0.5) / math.log(abs(c.r))
                                           if 0 < abs(c.r) < 1 else None),
                "bic": {m: f.bic for m, f in self.fits[n].items()},
                "baseline": self.baseline[n].to_dict() if n in self.baseline else None,
                "influence_beats_chance": self.influence_beats_chance(n),
            }
        return out

    def summary(self) -> Summary:
        """The fit as a table per partner (descriptive of this couple, not a prediction)."""
        blocks: list[Text | Table] = []
        for n in self.names:
            c = self.chosen[n]
            verdict = {True: "beats chance", False: "not beyond chance",
                       None: "no baseline"}[self.influence_beats_chance(n)]
            rows = [("influence shape", f"{c.model} (BIC {c.bic:.1f})"),
                    ("turn pairs", str(c.n)), ("set point", f"{c.set_point:+.3f}"),
                    ("inertia r", f"{c.r:.3f}"), ("sigma", f"{c.sigma:.3f}")]
            rows += [(k, f"{v:+.4f}" + (f" (SE {c.se[k]:.4f})" if c.se.get(k) else ""))
                     for k, v in c.params.items() if k not in ("a", "r")]
            rows.append(("partner's influence", verdict))
            blocks.append(Table(("", n), rows))
        blocks.append(Text("Influenced steady states:", tone="strong"))
        if not self.fixed_points:
            blocks.append(Text("  none inside the observed score range"))
        blocks += [Text("  " + p.words()) for p in self.fixed_points]
        return Summary(f"Gottman-Murray model ({self.convention} convention)", blocks)


def _window_people(r: GMResult) -> dict[str, dict[str, Any]]:
    return {n: {"model": r.chosen[n].model, "set_point": r.chosen[n].set_point,
                "inertia": r.chosen[n].r,
                "bilinear": r.fits[n]["bilinear"].params if "bilinear" in r.fits[n] else None}
            for n in r.names}


@dataclass(frozen=True)
class GMWindow(Result):
    """One rolling window: its span, what it holds, and its fit (None with too little data)."""

    start: str
    end: str
    n_conversations: int
    n_pairs: dict[str, int]
    # a window's JSON keeps the trajectory's figures only ("people"; absent without a fit)
    result: GMResult | None = json_field(name="people", convert=_window_people, skip_none=True)

    json_extra: ClassVar[dict[str, str]] = {"enough_data": "enough_data"}

    @property
    def enough_data(self) -> bool:
        return self.result is not None

    def summary(self) -> Summary:
        if self.result is None:
            return Summary(f"{self.start[:10]} to {self.end[:10]}", [Text("not enough data")])
        r = self.result
        return Summary(f"{self.start[:10]} to {self.end[:10]}", [Table(
            ("", "shape", "set point", "inertia"),
            [(n, r.chosen[n].model, f"{r.chosen[n].set_point:+.3f}", f"{r.chosen[n].r:.3f}")
             for n in r.names])])


@dataclass(frozen=True)
class GMAnalysis(Result):
    """The whole-period fit plus rolling-window fits (parameter trajectories)."""

    overall: GMResult | None
    windows: tuple[GMWindow, ...]
    window_weeks: int
    step_weeks: int
    reason: str | None = None

    def summary(self) -> Summary:
        """The whole-period fit, then the windows' fits in order."""
        title = "How each turn answers the last"
        if self.overall is None:
            return Summary(title, [Text(f"Not enough data: {self.reason}.")])
        names = self.overall.names

        def cell(w: GMWindow, n: str) -> str:
            if w.result is None:
                return "not enough data"
            c = w.result.chosen[n]
            return f"{c.model}, set point {c.set_point:+.2f}"

        over_time = Table(("", *names), [(f"{w.start[:10]} to {w.end[:10]}",
                                          *(cell(w, n) for n in names)) for w in self.windows],
                          title=f"Over time ({self.window_weeks}-week windows)")
        return Summary(title, [self.overall.summary(), over_time])
