"""Synthetic multi-month couples with known dynamics, for tests, benchmarks and demos.

The generator plants exactly the effects the long-arc model looks for, so a test can check that
they are found (and that nothing is found where nothing was planted):

* Each message of a sender carries a code family with probability ``base_rates[sender][family]``
  (times the multipliers below, capped at 0.9), independently per family; the code inside the
  family is drawn uniformly, and the text is a phrase from ``data/synth_phrases.json`` that reads
  like that code, with the code's evidence span pointing at it. Uncoded messages get a neutral
  phrase.
* Weekly noise: every (sender, family, week) rate is multiplied by a Gamma(1/alpha, alpha) draw
  (mean 1, variance ``nb_alpha``), which makes weekly counts negative-binomial (NB2) with
  dispersion ``nb_alpha``.
* Crises: in each of ``crisis_weeks`` the crisis sender writes a ``breaking_point`` message on
  the week's first day at 21:00, and the responding sender a ``promise`` ``promise_lag_days``
  later. The responding sender's ``response_family`` rate is multiplied, in week t, by
  ``exp(step * K_t + sum_k omega * gamma^(k-1) * exp(-(t - t_k) / tau))`` over crises k with
  t_k <= t (K_t of them): a decaying pulse of peak ``exp(omega)`` and half-life ``tau * ln 2``
  weeks, each crisis buying ``gamma`` times the one before, plus a lasting ``step`` per crisis.
* Drift: the crisis sender's ``overfunction`` rate is multiplied by ``exp(drift_overfunction *
  years)`` and ``harden`` by ``exp(drift_harden * years)`` (over-functioning giving way to
  hardening when the first is negative and the second positive).
* The loop within conversations: after the other's message carried family G, the families in
  ``LOOP`` after G are ``loop_strength`` times as likely (reach -> defend, defend or attack ->
  overfunction, overfunction -> defend, harden -> counter_blame).

Conversations: a week's messages (Poisson, mean ``messages_per_week``) come in conversations of
about ``messages_per_conversation`` messages on random days, minutes apart; the sender
alternates with probability 0.8. Everything is drawn from ``numpy.random.default_rng(seed)``:
the same parameters give the same messages.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import ClassVar

import numpy as np

from heard.errors import E, OptionError
from heard.model import Code, Evidence, Message, Result, Source, codebook

__all__ = ["LOOP", "CoupleParams", "generate_couple"]

#: Given the other's last message family, which families (and which code, or None for any)
#: become ``loop_strength`` times as likely in the reply.
LOOP: dict[str, tuple[tuple[str, str | None], ...]] = {
    "reach": (("defend", None),),
    "attack": (("overfunction", None),),
    "defend": (("overfunction", None),),
    "overfunction": (("defend", None),),
    "harden": (("defend", "counter_blame"),),
}
_SAMPLED = ("reach", "attack", "defend", "overfunction", "harden", "hold", "arc", "safety")
_EVENT_ONLY = frozenset({"breaking_point", "promise"})


def _default_rates() -> dict[str, dict[str, float]]:
    return {
        "Maya": {"reach": 0.22, "attack": 0.02, "defend": 0.04, "overfunction": 0.16,
                 "harden": 0.04, "hold": 0.06, "arc": 0.005, "safety": 0.0},
        "Jon": {"reach": 0.05, "attack": 0.04, "defend": 0.20, "overfunction": 0.03,
                "harden": 0.02, "hold": 0.05, "arc": 0.002, "safety": 0.0},
    }


@dataclass(frozen=True)
class CoupleParams(Result):
    """Parameters of a synthetic couple (see the module docstring for the model).

    Parameters
    ----------
    weeks : int
        Length of the record.
    messages_per_week : float
        Mean messages per week, both senders together (crisis messages come on top).
    names : (str, str)
        The two senders; the first is the crisis sender unless ``crisis_sender`` says otherwise.
    base_rates : dict
        Per sender, per family: probability that a message carries the family.
    crisis_weeks : tuple of int
        Weeks (0-based) with a crisis.
    crisis_sender, response_sender : str or None
        Who writes the ``breaking_point`` (default: first name) and who responds with the
        ``promise`` and the pulse (default: second name).
    response_family : str
        The family whose rate responds to crises.
    omega : float
        Log peak of each crisis pulse (1.1 = 3×).
    tau : float
        Decay time of the pulse in weeks (half-life tau * ln 2).
    step : float
        Lasting log change per crisis (0 = none).
    gamma : float
        Habituation: each crisis's pulse is gamma times the previous one's (1 = none).
    drift_overfunction, drift_harden : float
        Log change per year of the crisis sender's overfunction and harden rates.
    nb_alpha : float
        Weekly rate noise: NB2 dispersion of the weekly counts (0 = Poisson).
    loop_strength : float
        Multiplier of the loop's next family (1 = no loop).
    messages_per_conversation : float
    promise_lag_days : int
    start : date
        Monday of week 0.
    seed : int
    """

    weeks: int = 52
    messages_per_week: float = 120.0
    names: tuple[str, str] = ("Maya", "Jon")
    base_rates: dict[str, dict[str, float]] = field(default_factory=_default_rates)
    crisis_weeks: tuple[int, ...] = (8, 20, 32, 44)
    crisis_sender: str | None = None
    response_sender: str | None = None
    response_family: str = "hold"
    omega: float = 1.1
    tau: float = 2.5
    step: float = 0.0
    gamma: float = 1.0
    drift_overfunction: float = 0.0
    drift_harden: float = 0.0
    nb_alpha: float = 0.1
    loop_strength: float = 2.5
    messages_per_conversation: float = 12.0
    promise_lag_days: int = 1
    start: date = date(2023, 1, 2)
    seed: int = 0

    @classmethod
    def long_arc_demo(cls) -> CoupleParams:
        """The couple ``heard demo --long-arc`` shows: a year and a half with four crises, each
        followed by a 3x rise in the other's holding space that decays with a half-life of ~1.7
        weeks and leaves nothing lasting, while the one who reaches over-functions less and
        hardens more."""
        return cls(weeks=78, crisis_weeks=(8, 24, 40, 56), drift_overfunction=-0.6,
                   drift_harden=0.8, seed=11)

    @property
    def half_life_weeks(self) -> float:
        """The planted half-life of each pulse: tau * ln 2."""
        return self.tau * math.log(2)

    def validate(self) -> None:
        """Raise :class:`~heard.errors.OptionError` (E228) on a parameter that cannot work."""
        def bad(name: str, detail: str) -> OptionError:
            return OptionError(E.E228.format(field=name, detail=detail), code="E228")

        if self.weeks < 1:
            raise bad("weeks", "must be at least 1")
        if self.messages_per_week <= 0 or self.messages_per_conversation < 2:
            raise bad("messages_per_week", "needs a positive rate and conversations of >= 2")
        if len(self.names) != 2 or self.names[0] == self.names[1] or not all(self.names):
            raise bad("names", "must be two different non-empty names")
        families = {f.name for f in codebook().families}
        for who in self.names:
            rates = self.base_rates.get(who)
            if rates is None:
                raise bad("base_rates", f"has no rates for {who!r}")
            for fam, p in rates.items():
                if fam not in families or not 0 <= p <= 1:
                    raise bad("base_rates", f"{who}/{fam}: a family name and a rate in [0, 1]")
        if any(not 0 <= w < self.weeks for w in self.crisis_weeks):
            raise bad("crisis_weeks", f"must lie in 0..{self.weeks - 1}")
        if self.response_family not in families:
            raise bad("response_family", f"unknown family {self.response_family!r}")
        for name in ("crisis_sender", "response_sender"):
            v = getattr(self, name)
            if v is not None and v not in self.names:
                raise bad(name, f"{v!r} is not one of {self.names}")
        if self.tau <= 0 or self.gamma <= 0 or self.nb_alpha < 0 or self.loop_strength <= 0:
            raise bad("tau/gamma/nb_alpha/loop_strength", "tau, gamma, loop_strength > 0; "
                      "nb_alpha >= 0")

    summary_title: ClassVar[str] = "A simulated couple's settings"


@cache
def _phrases() -> dict:
    path = resources.files("heard.dynamics") / "data" / "synth_phrases.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _multipliers(p: CoupleParams, rng: np.random.Generator) -> np.ndarray:
    """Rate multipliers, shape (2 senders, families, weeks)."""
    crisis_s = p.crisis_sender or p.names[0]
    resp_s = p.response_sender or p.names[1]
    fams = list(_SAMPLED)
    mult = np.ones((2, len(fams), p.weeks))
    t = np.arange(p.weeks, dtype=float)
    eff = np.zeros(p.weeks)
    for k, c in enumerate(sorted(p.crisis_weeks)):
        after = t >= c
        eff[after] += p.step + p.omega * p.gamma ** k * np.exp(-(t[after] - c) / p.tau)
    r = p.names.index(resp_s)
    mult[r, fams.index(p.response_family)] *= np.exp(eff)
    c = p.names.index(crisis_s)
    years = t * 7 / 365.25
    mult[c, fams.index("overfunction")] *= np.exp(p.drift_overfunction * years)
    mult[c, fams.index("harden")] *= np.exp(p.drift_harden * years)
    if p.nb_alpha > 0:
        mult *= rng.gamma(1 / p.nb_alpha, p.nb_alpha, size=mult.shape)
    return mult


def _message(p: CoupleParams, rng: np.random.Generator, conv: str, i: int, sender: str,
             when: datetime, codes: list[str]) -> Message:
    bank = _phrases()
    parts: list[str] = []
    spans: list[tuple[str, int, int]] = []
    pos = 0
    for code in codes:
        options = bank["codes"][code]
        phrase = options[int(rng.integers(len(options)))]
        if parts:
            pos += 1  # the joining space
        spans.append((code, pos, pos + len(phrase)))
        parts.append(phrase)
        pos += len(phrase)
    if not parts:
        parts.append(bank["neutral"][int(rng.integers(len(bank["neutral"])))])
    text = " ".join(parts)
    m = Message(conv, f"{conv}-{i:03d}", sender, when, text,
                source=Source(format="synthetic", time_basis="instant"))
    m.annotations["codes"] = tuple(
        Code(code, round(float(0.6 + 0.4 * rng.random()), 3), (Evidence(a, b, text[a:b]),),
             ("synthetic",))
        for code, a, b in spans)
    return m


def generate_couple(params: CoupleParams | None = None) -> list[Message]:
    """Generate a synthetic couple's messages, in time order.

    Examples
    --------
    >>> msgs = generate_couple(CoupleParams(weeks=4, crisis_weeks=(1,), seed=1))
    >>> sorted({m.sender for m in msgs})
    ['Jon', 'Maya']
    >>> any("breaking_point" in m.code_names for m in msgs)
    True
    """
    p = params or CoupleParams()
    p.validate()
    rng = np.random.default_rng(p.seed)
    cb = codebook()
    in_family = {f: [c for c in cb.codes_in(f) if c not in _EVENT_ONLY] for f in _SAMPLED}
    fams = list(_SAMPLED)
    rates = np.array([[p.base_rates[s].get(f, 0.0) for f in fams] for s in p.names])
    mult = _multipliers(p, rng)
    crisis_s = p.crisis_sender or p.names[0]
    resp_s = p.response_sender or p.names[1]
    loop_idx = {fams.index(g): [(fams.index(f), c) for f, c in v] for g, v in LOOP.items()}
    tz = UTC
    out: list[Message] = []
    crisis_set = set(p.crisis_weeks)
    for week in range(p.weeks):
        monday = datetime.combine(p.start + timedelta(weeks=week), time(), tz)
        n_msgs = int(rng.poisson(p.messages_per_week))
        sizes: list[int] = []
        while n_msgs > 0:
            size = min(n_msgs, 1 + int(rng.poisson(p.messages_per_conversation - 1)))
            sizes.append(size)
            n_msgs -= size
        starts = sorted(float(rng.uniform(0, 7 * 24 * 60 - 240)) for _ in sizes)
        if week in crisis_set:
            out.extend(_event_conv(p, rng, f"w{week:03d}-crisis", crisis_s, "breaking_point",
                                   monday + timedelta(hours=21)))
            out.extend(_event_conv(p, rng, f"w{week:03d}-promise", resp_s, "promise",
                                   monday + timedelta(days=p.promise_lag_days, hours=21)))
        for k, (size, minute) in enumerate(zip(sizes, starts, strict=True)):
            conv = f"w{week:03d}-c{k:02d}"
            when = monday + timedelta(minutes=minute)
            s = int(rng.integers(2))
            prev_fams: set[int] = set()
            for i in range(size):
                if i and rng.random() < 0.8:
                    s = 1 - s
                elif i:
                    prev_fams = set()  # a double text answers nobody: no loop boost
                prob = rates[s] * mult[s, :, week]
                forced: list[str] = []
                for g in prev_fams:
                    for f, code in loop_idx.get(g, ()):
                        prob[f] *= p.loop_strength
                        if code:
                            forced.append(code)
                hits = np.flatnonzero(rng.random(len(fams)) < np.minimum(prob, 0.9))
                codes = []
                for f in hits:
                    pool = in_family[fams[f]]
                    if not pool:
                        continue
                    fc = [c for c in forced if c in pool]
                    codes.append(fc[0] if fc else pool[int(rng.integers(len(pool)))])
                out.append(_message(p, rng, conv, i, p.names[s], when, codes))
                prev_fams = set(hits.tolist()) if hits.size else set()
                when += timedelta(minutes=float(rng.exponential(4.0)) + 0.2)
    out.sort(key=lambda m: m.timestamp)
    return out


def _event_conv(p: CoupleParams, rng: np.random.Generator, conv: str, who: str, code: str,
                when: datetime) -> list[Message]:
    """A short conversation in which ``who`` writes the crisis (or promise) message."""
    other = p.names[1 - p.names.index(who)]
    opener = ["emotional_truth"] if code == "breaking_point" else []
    return [_message(p, rng, conv, 0, who, when, opener),
            _message(p, rng, conv, 1, other, when + timedelta(minutes=3), []),
            _message(p, rng, conv, 2, who, when + timedelta(minutes=6), [code])]
