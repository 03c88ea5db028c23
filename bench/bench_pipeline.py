"""End-to-end throughput and peak memory of heard's core on a generated 100,000-message couple.

Stages, each timed on the same corpus:

- ``load``: read heard's canonical JSONL (``heard.load``);
- ``code``: the default coder (``heard.code``);
- ``patterns``: the loop detector and the safety gate;
- ``analyze``: load + code + patterns + safety (``--dynamics`` adds the dynamics models);
- ``report``: render the HTML report.

Peak memory is measured per stage in a fresh subprocess (``ru_maxrss``), so stages don't inflate
each other's figures. The couple comes from :func:`heard.dynamics._synth.generate_couple`
(documented parameters; its texts read like real texting), written to a temporary JSONL file
without its codes.

Run::

    python bench/bench_pipeline.py               # 100,000 messages
    python bench/bench_pipeline.py --messages 20000 --dynamics
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(path: Path, n_messages: int) -> int:
    """Write a synthetic couple of about ``n_messages`` messages as canonical JSONL, uncoded."""
    from heard.dynamics._synth import CoupleParams, generate_couple
    from heard.model import message_to_record, record_to_json

    weeks = 104
    params = CoupleParams(weeks=weeks, messages_per_week=n_messages / weeks, seed=7,
                          crisis_weeks=(10, 30, 50, 70, 90))
    messages = generate_couple(params)[:n_messages]
    with path.open("w", encoding="utf-8") as f:
        for m in messages:
            f.write(record_to_json(message_to_record(m, with_codes=False)) + "\n")
    return len(messages)


def stage(name: str, path: str, dynamics: bool) -> dict[str, float]:
    """Run one stage in this process and return its figures."""
    import heard
    from heard.patterns import find_patterns, scan_safety

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    corpus = heard.load(path)
    timings["load"] = time.perf_counter() - t0
    n = len(corpus)
    if name == "load":
        pass
    elif name == "code":
        t0 = time.perf_counter()
        heard.code(corpus)
        timings["code"] = time.perf_counter() - t0
    elif name == "patterns":
        heard.code(corpus)
        t0 = time.perf_counter()
        find_patterns(corpus)
        scan_safety(corpus)
        timings["patterns"] = time.perf_counter() - t0
    elif name in ("analyze", "report"):
        t0 = time.perf_counter()
        analysis = heard.analyze(corpus, dynamics=dynamics)
        timings["analyze"] = time.perf_counter() - t0 + timings["load"]
        if name == "report":
            from heard.report import render_html

            t0 = time.perf_counter()
            html = render_html(analysis)
            timings["report"] = time.perf_counter() - t0
            timings["report_mb"] = len(html.encode()) / 1e6
    timings["messages"] = n
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--dynamics", action="store_true", help="include the dynamics models")
    parser.add_argument("--_stage", help=argparse.SUPPRESS)
    parser.add_argument("--_path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._stage:
        print(json.dumps(stage(args._stage, args._path, args.dynamics)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "couple.jsonl"
        t0 = time.perf_counter()
        n = generate(path, args.messages)
        print(f"generated {n:,} messages ({path.stat().st_size / 1e6:.1f} MB JSONL) "
              f"in {time.perf_counter() - t0:.1f} s")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; one process per stage")
        baseline = None
        for name in ("load", "code", "patterns", "analyze", "report"):
            cmd = [sys.executable, __file__, "--_stage", name, "--_path", str(path)]
            if args.dynamics:
                cmd.append("--dynamics")
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                sys.exit(f"stage {name} failed:\n{proc.stderr[-3000:]}")
            fig = json.loads(proc.stdout.strip().splitlines()[-1])
            secs = fig.get(name, fig.get("analyze", fig["load"]))
            rate = fig["messages"] / secs if secs else float("nan")
            extra = f", report {fig['report_mb']:.1f} MB" if name == "report" else ""
            if baseline is None:
                baseline = fig["peak_rss_mb"]
            print(f"{name:>9}: {secs:7.2f} s  {rate:10,.0f} messages/s  "
                  f"peak RSS {fig['peak_rss_mb']:7.1f} MB{extra}")
        print(f"(peak RSS includes the Python interpreter and libraries: "
              f"{baseline:.0f} MB after loading alone)")


if __name__ == "__main__":
    main()
