"""Benchmark: the whole dynamics analysis on a two-year, 100,000-message synthetic couple.

Generates the couple with ``heard.dynamics.generate_couple`` (104 weeks, four crises, a planted
decaying pulse in the responder's holding space and over-functioning giving way to hardening),
then times ``fit_dynamics`` end to end and each of its parts separately, and prints the figures.
Target: ``fit_dynamics`` under 10 s.

    .venv/bin/python bench/bench_dynamics.py
    .venv/bin/python bench/bench_dynamics.py --messages 20000 --permutations 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

from heard.dynamics import (
    LONG_ARC_FAMILIES,
    CoupleParams,
    LongArcModel,
    build_series,
    build_turns,
    fit_dynamics,
    fit_gottman_murray,
    generate_couple,
    sequential_analysis,
    trend_test,
)
from heard.model import Corpus


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--permutations", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1, help="report the best of N runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-parts", action="store_true", help="skip the per-part timings")
    args = ap.parse_args()

    weeks = args.weeks
    params = CoupleParams(weeks=weeks, messages_per_week=args.messages / weeks,
                          crisis_weeks=tuple(int(weeks * f) for f in (0.15, 0.4, 0.6, 0.8)),
                          omega=1.1, tau=2.5, drift_overfunction=-0.6, drift_harden=0.6,
                          seed=args.seed)
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPU(s)")
    t_gen, msgs = timed(lambda: generate_couple(params), 1)
    corpus = Corpus.from_messages(msgs)
    print(f"generated {len(msgs):,} messages, {len(corpus.conversations):,} conversations, "
          f"{weeks} weeks in {t_gen:.2f} s")

    t_all, res = timed(lambda: fit_dynamics(corpus, n_permutations=args.permutations,
                                            seed=args.seed), args.repeat)
    print(f"\nfit_dynamics (n_permutations={args.permutations}): {t_all:.2f} s "
          f"({'meets' if t_all < 10 else 'misses'} the 10 s target)")

    if not args.no_parts:
        t_series, series = timed(lambda: build_series(corpus), args.repeat)
        model = LongArcModel()
        crises = series.crisis_bins()

        def arc() -> None:
            for who in series.senders:
                for fam in LONG_ARC_FAMILIES:
                    model.fit(series.count(who, fam), crises, exposure=series.exposure_of(who),
                              sender=who, family=fam)

        def trends() -> None:
            for who in series.senders:
                for fam in LONG_ARC_FAMILIES:
                    trend_test(series.count(who, fam), series.exposure_of(who), sender=who,
                               family=fam)

        t_arc, _ = timed(arc, args.repeat)
        t_trend, _ = timed(trends, args.repeat)
        t_turns, turns = timed(lambda: build_turns(corpus), args.repeat)
        t_seq, _ = timed(lambda: sequential_analysis(turns, n_permutations=args.permutations,
                                                     seed=args.seed), args.repeat)
        t_gm, _ = timed(lambda: fit_gottman_murray(turns, seed=args.seed), args.repeat)
        n_series = len(series.senders) * len(LONG_ARC_FAMILIES)
        print("parts:")
        for name, t in (("weekly series", t_series),
                        (f"long arc ({n_series} series)", t_arc),
                        (f"trends ({n_series} series)", t_trend),
                        (f"turns ({len(turns):,})", t_turns),
                        ("sequential tests", t_seq),
                        ("Gottman-Murray (overall + rolling windows + baseline)", t_gm)):
            print(f"  {name:<56}{t:7.2f} s")

    print("\nwhat it found:")
    for fams in res.long_arc.values():
        for r in fams.values():
            if r.model not in ("none", "insufficient_data"):
                print(f"  {r.verdict}")
    for verdict in res.shifts.values():
        print(f"  {verdict}")
    print(f"planted: pulse ×{2.718 ** params.omega:.1f}, half-life "
          f"{params.half_life_weeks:.2f} weeks in {params.names[1]}'s hold")


if __name__ == "__main__":
    main()
