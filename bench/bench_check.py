"""How fast ``heard check`` answers: loading the coder once, then each check.

Each run is a fresh Python process (imports are part of the load). It prints:

- ``import``: importing spaCy (without torch, as the CLI does) and heard's check;
- ``coder``: loading the trained model and compiling the rules (``TrainedCoder().fit()``);
- ``first check`` and the median of ``--repeat`` later checks of a one-line draft;
- checks with 5, 20 and 60 earlier messages as context (lines of the demo sample), where the
  context is coded with the draft in one pass.

Target: every check within 1 s once the coder is loaded.

Run::

    python bench/bench_check.py
    python bench/bench_check.py --repeat 50 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_CHILD = r"""
import json, statistics, sys, time
T = time.perf_counter
t0 = T()
from heard._lean import import_spacy_without_torch
import_spacy_without_torch()
from heard.app import check_text
from heard.app._check import _coder
from heard.samples import demo_path
t1 = T()
_coder()
t2 = T()
check_text("You never listen to me, it's always about you.")
t3 = T()
repeat = int(sys.argv[1])
drafts = ["I felt alone at the party when you left without me.",
          "if you leave I don't know what I'll do to myself",
          "Give me your password or else."]
times = []
for i in range(repeat):
    s = T(); check_text(drafts[i % len(drafts)]); times.append(T() - s)
lines = [json.loads(x)["text"] for x in demo_path().read_text().splitlines()]
ctx = {}
for n in (5, 20, 60):
    s = T(); check_text("You're overreacting", lines[:n]); ctx[n] = T() - s
print(json.dumps({"import": t1 - t0, "coder": t2 - t1, "first": t3 - t2,
                  "median": statistics.median(times), "max": max(times), "context": ctx}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="checks after the first")
    parser.add_argument("--runs", type=int, default=1, help="fresh processes (best is shown)")
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(args.repeat)], check=True,
                             capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    best = min(results, key=lambda r: r["import"] + r["coder"])
    print(f"load: import {best['import']:.2f} s + coder {best['coder']:.2f} s "
          f"= {best['import'] + best['coder']:.2f} s")
    print(f"check: first {best['first'] * 1000:.0f} ms; then median "
          f"{statistics.median(r['median'] for r in results) * 1000:.0f} ms, "
          f"slowest {max(r['max'] for r in results) * 1000:.0f} ms ({args.repeat} checks)")
    print("with context: " + ", ".join(f"{n} messages {t * 1000:.0f} ms"
                                       for n, t in best["context"].items()))


if __name__ == "__main__":
    main()
