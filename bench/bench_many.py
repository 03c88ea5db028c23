"""Many couples in one input: time and peak memory of ``heard code`` and ``heard analyze``.

Run: ``python bench/bench_many.py [--couples 10000] [--messages 100] [--dynamics]``.
``--couples`` takes a comma list (``--couples 200,800``) to show how time and memory change as
the corpus grows. For each size it writes a canonical JSONL of that many synthetic couples
(``heard.dynamics.generate_couple``: a week of about ``--messages`` messages each, its own seed,
names and start date; one ``conversation_id`` per couple, couples one after another), then runs
the real CLI in a fresh process, each measured on its own (wall time, and the process's peak
resident memory from ``wait4``'s ``ru_maxrss``):

- ``heard code FILE -o coded.jsonl``: every message coded, streamed conversation by
  conversation;
- ``heard analyze FILE --json per-couple.jsonl --table table.csv [--no-dynamics]``: one analysis
  per couple and the corpus table.

Dynamics (sequential tests with ``--permutations`` permutations, the Gottman–Murray fit, the
long arc) cost far more per couple than patterns; they are off unless ``--dynamics``. The
target is the issue's 10,000 couples and 1,000,000 messages; on a shared machine run a few
hundred couples and read the per-couple rate and the memory beside the size.

Measured (2 shared cores, other work running; 2026-12-03), about 100 messages per couple:

=================  =====================  =====================  ============================
run                code                   analyze                extrapolated to 10,000 / 1M
=================  =====================  =====================  ============================
250 couples        26.1 s, 259.2 MB       22.8 s, 261.2 MB
1,000 couples      122.3 s, 259.3 MB      95.6 s, 261.7 MB       code 21 min, analyze 16 min
50, dynamics       14.6 s, 257.5 MB       61.2 s, 262.8 MB
200, dynamics      34.7 s, 259.6 MB       298.6 s, 266.3 MB      analyze 4.4 h (1.6 s/couple)
=================  =====================  =====================  ============================

The issue's full size, run on the code of 2026-12-03 afternoon (the rules and model had grown
since the rows above, so every process starts about 45 MB larger), on the same machine with
one or two other jobs beside it:

=================  =====================  =====================  ============================
run                code                   analyze                messages
=================  =====================  =====================  ============================
1,000 couples      47.9 s, 306.4 MB       48.1 s, 308.9 MB       100,230
4,000 couples      212.1 s, 307.7 MB      263.5 s, 313.5 MB      400,380
10,000 couples     335.6 s, 309.9 MB      439.3 s, 314.3 MB      1,000,003 (all 10,000 analyses)
=================  =====================  =====================  ============================

Ten times the couples cost 3.5 MB more peak memory to code and 5.4 MB more to analyze (from
1,000 to 4,000 couples 1.3 and 4.6 MB, from 4,000 to 10,000 2.2 and 0.8 MB): memory does not
grow with the number of couples. The 10,000-couple run coded 2,980 messages/s and analyzed 22.8
couples/s (its machine was quieter than the 4,000-couple run's).

Peak memory is flat in the number of couples (+0.1 MB code, +0.5 MB analyze from 250 to
1,000); inside one process with dynamics, traced memory stayed at 104-106 MB from couple 40 to
couple 240. Analysis without dynamics costs about 0.1 s a couple with its coding; the dynamics
models (1,000 permutations) about 1.6 s, which is what a 10,000-couple run would spend its hours
on (issue 15's workers, or ``--permutations``, are the levers).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

NAMES = ["Maya", "Jon", "Sam", "Alex", "Ana", "Bo", "Chris", "Dana", "Eli", "Fatima", "Gus",
         "Hana", "Ivo", "Jade", "Kai", "Lena", "Malte", "Nia", "Omar", "Pia", "Quinn", "Rosa",
         "Sven", "Tariq", "Uma", "Vic", "Wen", "Xia", "Yusuf", "Zoe", "Aino", "Eero", "Lucía",
         "Mateo", "Noor", "Priya", "Ravi", "Sofia", "Tomás", "Yara"]


def write_corpus(path: Path, couples: int, messages: int, seed: int) -> int:
    """Write ``couples`` synthetic couples to ``path`` one after another; return messages."""
    from heard.dynamics import CoupleParams, generate_couple
    from heard.dynamics._synth import _default_rates
    from heard.model import message_to_record, record_to_json

    rates = _default_rates()
    total = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(couples):
            a = NAMES[i % len(NAMES)]
            b = NAMES[(i * 7 + 3) % len(NAMES)]
            if a == b:
                b = NAMES[(i * 7 + 4) % len(NAMES)]
            params = CoupleParams(
                weeks=1, messages_per_week=float(messages), crisis_weeks=(), names=(a, b),
                base_rates={a: rates["Maya"], b: rates["Jon"]}, seed=seed + i,
                start=date(2023, 1, 2) + timedelta(weeks=i % 150))
            cid = f"couple-{i:06d}"
            for m in generate_couple(params):
                record = message_to_record(m, with_codes=False)
                record["conversation_id"] = cid
                record["message_id"] = f"{cid}-{record['message_id']}"
                record.pop("source")
                f.write(record_to_json(record) + "\n")
                total += 1
    return total


def measure(argv: list[str]) -> dict[str, float]:
    """Run ``argv`` in a fresh process: wall seconds and its peak resident memory (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
    # ru_maxrss is in kilobytes on Linux
    return {"seconds": round(seconds, 1), "peak_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--couples", default="10000",
                    help="couples, or a comma list of sizes (default 10000)")
    ap.add_argument("--messages", type=int, default=100, help="mean messages per couple")
    ap.add_argument("--dynamics", action="store_true", help="also fit the dynamics models")
    ap.add_argument("--permutations", type=int, default=1000,
                    help="with --dynamics: permutations of the sequential tests")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    args = ap.parse_args()
    heard = [sys.executable, "-m", "heard"]
    results = []
    with tempfile.TemporaryDirectory(prefix="heard-bench-many-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in (int(s) for s in args.couples.split(",")):
            corpus = folder / f"couples-{size}.jsonl"
            t0 = time.perf_counter()
            n = write_corpus(corpus, size, args.messages, args.seed)
            made = time.perf_counter() - t0
            code = measure([*heard, "code", str(corpus), "-o", str(folder / "coded.jsonl")])
            analyze_argv = [*heard, "analyze", str(corpus), "--json",
                            str(folder / "per-couple.jsonl"), "--table",
                            str(folder / "table.csv"), "--permutations",
                            str(args.permutations)]
            if not args.dynamics:
                analyze_argv.append("--no-dynamics")
            analyze = measure(analyze_argv)
            lines = sum(1 for _ in (folder / "per-couple.jsonl").open(encoding="utf-8"))
            row = {"couples": size, "messages": n, "generated_s": round(made, 1),
                   "code": code, "analyze": analyze, "analyses_written": lines,
                   "code_msgs_per_s": round(n / code["seconds"]),
                   "analyze_couples_per_s": round(size / analyze["seconds"], 2)}
            results.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"dynamics": args.dynamics,
                      "extrapolated_10k_couples_1M_messages": extrapolate(results)}))


def extrapolate(results: list[dict]) -> dict[str, object]:
    """Minutes for 10,000 couples of 100 messages: from the marginal cost between the two
    largest sizes (start-up, the coder's loading, is paid once), else from the one size."""
    last = results[-1]
    out: dict[str, object] = {}
    for stage, unit in (("code", "messages"), ("analyze", "couples")):
        target = 1_000_000 if unit == "messages" else 10_000
        if len(results) > 1:
            prev = results[-2]
            per = ((last[stage]["seconds"] - prev[stage]["seconds"])
                   / max(1, last[unit] - prev[unit]))
            if per <= 0:  # a noisy machine: fall back on the plain rate
                per = last[stage]["seconds"] / last[unit]
            est = last[stage]["seconds"] + (target - last[unit]) * per
            growth = last[stage]["peak_mb"] - prev[stage]["peak_mb"]
            out[f"{stage}_peak_mb_growth_from_{prev['couples']}_to_{last['couples']}"] = (
                round(growth, 1))
        else:
            est = last[stage]["seconds"] * target / last[unit]
        out[f"{stage}_minutes"] = round(est / 60, 1)
    return out


if __name__ == "__main__":
    main()
