"""``heard batch`` on Dask: messages per second with 1 and 2 workers, memory per worker, scaling.

Run: ``python bench/bench_batch.py [--couples 10000] [--messages 100] [--workers 1,2]``.
``--couples`` takes a comma list (``--couples 200,2000``) to show whether a worker's memory
stays flat as the corpus grows. For each size it writes a canonical JSONL of synthetic couples
(``bench_many.write_corpus``: ``heard.dynamics.generate_couple``, one ``conversation_id`` per
couple), then for each worker count starts a fresh ``LocalCluster`` (one thread per worker
process), loads the coding engine on every worker (once per worker in a real run too), and times
``heard.batch.run_batch`` against that cluster: planning on the client, every part coded,
analyzed and written to Parquet, the errors and summary tables.

Printed for each run: wall seconds, messages per second, the client's planning seconds, each
worker's peak resident memory (``ru_maxrss`` read inside the worker after the run), and for
more than one worker the speed-up over one worker and the scaling efficiency
(speed-up / workers). The issue's target: 2 workers at least 1.7x one worker (85%), memory per
worker flat as the corpus grows 10x.

Dynamics (sequential tests with ``--permutations``, the Gottman–Murray fit, the long arc) cost
most of the time per couple; ``--no-dynamics`` measures coding and patterns alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_many import write_corpus


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _warm(engine: str | None) -> str:
    """Load the engine in this worker (what its first part would do), so that the timing is
    the steady work a long batch does."""
    import heard.batch._part as part  # the worker process's engine cache
    from heard.batch import Settings

    settings = Settings(engine=engine)
    if not settings.given_codes:
        part._engine(settings.engine)
    return "ok"


def run_one(corpus: Path, out: Path, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    from heard.batch import Settings, make_plan, run_batch

    settings = Settings(engine=args.engine, dynamics=not args.no_dynamics,
                        n_permutations=args.permutations, seed=args.seed)
    t0 = time.perf_counter()
    plan = make_plan(corpus, part_messages=args.part_messages)
    planning = time.perf_counter() - t0
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        client.run(_warm, args.engine)
        warm = time.perf_counter() - t0
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        result = run_batch(corpus, out, scheduler=cluster.scheduler_address,
                           part_messages=args.part_messages, settings=settings)
        seconds = time.perf_counter() - t0
        peaks = client.run(_peak_mb)
    return {"workers": workers, "couples": result.couples, "messages": result.messages,
            "parts": len(plan.parts), "seconds": round(seconds, 1),
            "msgs_per_s": round(result.messages / seconds, 1),
            "planning_s": round(planning, 2), "engine_load_s": round(warm, 1),
            "peak_mb_per_worker": sorted(round(v, 1) for v in peaks.values()),
            "failed": result.failed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--couples", default="10000",
                    help="couples, or a comma list of sizes (default 10000)")
    ap.add_argument("--messages", type=int, default=100, help="mean messages per couple")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    ap.add_argument("--part-messages", type=int, default=5000,
                    help="messages per part (default 5000)")
    ap.add_argument("--engine", default=None, help="coding engine (default: heard's default)")
    ap.add_argument("--no-dynamics", action="store_true", help="skip the dynamics models")
    ap.add_argument("--permutations", type=int, default=1000,
                    help="permutations of the sequential tests (default 1000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="heard-bench-batch-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in (int(s) for s in args.couples.split(",")):
            corpus = folder / f"couples-{size}.jsonl"
            n = write_corpus(corpus, size, args.messages, args.seed)
            print(json.dumps({"corpus": str(corpus), "couples": size, "messages": n}),
                  flush=True)
            base = None
            for w in counts:
                row = run_one(corpus, folder / f"out-{size}-{w}", w, args)
                if w == 1:
                    base = row["msgs_per_s"]
                if base and w > 1:
                    row["speedup"] = round(row["msgs_per_s"] / base, 2)
                    row["efficiency"] = round(row["speedup"] / w, 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print("\n| couples | messages | workers | parts | seconds | msg/s | speed-up | efficiency "
          "| peak MB per worker | planning s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['couples']:,} | {r['messages']:,} | {r['workers']} | {r['parts']} "
              f"| {r['seconds']} | {r['msgs_per_s']:,} | {r.get('speedup', '')} "
              f"| {r.get('efficiency', '')} | {', '.join(map(str, r['peak_mb_per_worker']))} "
              f"| {r['planning_s']} |")


if __name__ == "__main__":
    main()
