"""Import benchmark: heard's WhatsApp reader against chat-miner and whatstk on the same file.

Generates a synthetic Android WhatsApp export (en-GB, 24-hour clock; realistic mix of one-line and
multi-line messages, media placeholders, deletions, edit markers, emoji and system notices) in a
temporary folder, then runs each parser in its own subprocess and prints the CPU time of the
parse (user + system of that process, after its imports: on a shared machine wall time says more
about the other jobs than about the parser), messages per CPU second and peak resident memory
(``ru_maxrss`` of that subprocess). "heard" iterates the messages of ``read_export``; "heard
lines" makes the canonical JSON Lines as ``heard import`` does (``Import.json_lines``), without
writing them.

heard runs from this checkout's interpreter. chat-miner and whatstk are measured only when they
can be imported, by default from ``.venv-bench`` (a separate, git-ignored venv; they are never
heard dependencies)::

    python3 -m venv .venv-bench && .venv-bench/bin/pip install chat-miner whatstk
    .venv/bin/python bench/bench_import.py --messages 1000000

Options: ``--messages N`` (default 1,000,000), ``--repeat N`` (run the three parsers N times in
turn and keep each one's fastest run: the figures are noisy on a shared machine),
``--bench-python PATH`` (the interpreter that has chat-miner/whatstk), ``--skip-others``,
``--keep`` (leave the generated file and print its path).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_TEXT = ("ok so I was thinking about what you said yesterday and I still feel like you "
         "did not really hear me when I told you it hurt that we never plan anything together "
         "sorry love dinner home late tired work tonight why always never again fine whatever "
         "haha 😂 ❤️ 🙄 promise talk later can we please just")
_WORDS = tuple(_TEXT.split(" "))


def generate(path: Path, n: int, seed: int = 7) -> int:
    """Write an n-message export; returns the number of lines written."""
    rnd = random.Random(seed)
    t = datetime(2019, 1, 13, 8, 0)
    names = ("Alex Morgan", "Sam")
    lines = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(t.strftime("%d/%m/%Y, %H:%M") + " - Messages and calls are end-to-end encrypted. "
                "No one outside of this chat, not even WhatsApp, can read or listen to them. "
                "Tap to learn more.\n")
        lines += 1
        for i in range(n - 1):
            # ~230 s apart on average: a million messages cover about seven years
            t += timedelta(seconds=rnd.choice((5, 20, 60, 120, 300, 900)))
            who = names[(i + (rnd.random() < 0.3)) % 2]
            r = rnd.random()
            if r < 0.03:
                body = "<Media omitted>"
            elif r < 0.035:
                body = "This message was deleted"
            elif r < 0.04:
                body = " ".join(rnd.choices(_WORDS, k=6)) + " <This message was edited>"
            else:
                body = " ".join(rnd.choices(_WORDS, k=rnd.randint(1, 25)))
                if r > 0.95:
                    body += "\n" + " ".join(rnd.choices(_WORDS, k=rnd.randint(1, 12)))
                    lines += 1
            f.write(f"{t:%d/%m/%Y, %H:%M} - {who}: {body}\n")
            lines += 1
    return lines


_HEARD = """
import resource, sys, time, types
# Load heard.ingest without the package's top-level __init__ (which pulls in the analysis
# layers): this measures the importer alone, as the other two parsers are measured.
pkg = types.ModuleType("heard")
pkg.__path__ = [sys.argv[2]]
sys.modules["heard"] = pkg
from heard.ingest import ReadOptions, read_export
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.process_time()
imp = read_export(sys.argv[1], options=ReadOptions(tz="Europe/London"))
n = 0
for _ in imp:
    n += 1
dt = time.process_time() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, dt, peak, peak - base, imp.report.format)
"""

# The same, writing heard's JSON Lines as ``heard import`` does (the WhatsApp reader makes the
# lines itself, without a Message per message); nothing is written to disk.
_HEARD_LINES = _HEARD.replace("""n = 0
for _ in imp:
    n += 1""", """for _ in imp.json_lines():
    pass
n = imp.report.total""")

_CHATMINER = """
import resource, sys, time
from chatminer.chatparsers import WhatsAppParser
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.process_time()
p = WhatsAppParser(sys.argv[1])
p.parse_file()
df = p.parsed_messages.get_df()
dt = time.process_time() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(df), dt, peak, peak - base, "chat-miner")
"""

_WHATSTK = """
import resource, sys, time
import whatstk
from whatstk import df_from_whatsapp
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.process_time()
hformat = "%d/%m/%Y, %H:%M - %name:"
try:  # whatstk 0.9 refuses files over 50 MB unless max_size is lifted
    df = df_from_whatsapp(sys.argv[1], hformat=hformat, max_size=None)
except TypeError:
    df = df_from_whatsapp(sys.argv[1], hformat=hformat)
dt = time.process_time() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(df), dt, peak, peak - base, "whatstk " + getattr(whatstk, "__version__", "?"))
"""


def run(python: str, code: str, path: Path, timeout: int) -> dict | str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        proc = subprocess.run([python, "-c", code, str(path), str(ROOT / "heard")],
                              capture_output=True, text=True,
                              timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s"
    except OSError as exc:
        return f"could not start: {exc}"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed: {last[:160]}"
    n, dt, peak, delta, label = proc.stdout.strip().splitlines()[-1].split(" ", 4)
    return {"messages": int(n), "seconds": float(dt), "peak_rss_mb": int(peak) / 1024,
            "parse_rss_mb": int(delta) / 1024, "label": label}


def available(python: str, module: str) -> bool:
    if not Path(python).exists():
        return False
    proc = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return proc.returncode == 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--bench-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    ap.add_argument("--skip-others", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each parser N times (in turn) and keep its fastest run")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="heard-bench-"))
    path = tmp / "WhatsApp Chat with Sam.txt"
    t0 = time.perf_counter()
    lines = generate(path, args.messages)
    size = path.stat().st_size / 1e6
    print(f"generated {args.messages:,} messages ({lines:,} lines, {size:.1f} MB) "
          f"in {time.perf_counter() - t0:.1f} s: {path}")

    parsers: list[tuple[str, str, str]] = [("heard", sys.executable, _HEARD),
                                           ("heard lines", sys.executable, _HEARD_LINES)]
    results: dict[str, dict | str] = {}
    for name, module, code in (("chat-miner", "chatminer", _CHATMINER),
                               ("whatstk", "whatstk", _WHATSTK)):
        if args.skip_others:
            results[name] = "skipped (--skip-others)"
        elif not available(args.bench_python, module):
            results[name] = f"not installed in {args.bench_python}"
        else:
            parsers.append((name, args.bench_python, code))
    for _ in range(max(1, args.repeat)):
        for name, python, code in parsers:
            r = run(python, code, path, args.timeout)
            best = results.get(name)
            if not isinstance(best, dict) or (isinstance(r, dict)
                                              and r["seconds"] < best["seconds"]):
                results[name] = r
    results = {name: results[name]
               for name in ("heard", "heard lines", "chat-miner", "whatstk")}

    print(f"\n{'parser':<12} {'messages':>10} {'cpu s':>9} {'msg/s':>10} "
          f"{'peak RSS MB':>12} {'parse RSS MB':>13}")
    for name, r in results.items():
        if isinstance(r, str):
            print(f"{name:<12} {r}")
            continue
        rate = r["messages"] / r["seconds"] if r["seconds"] else float("inf")
        print(f"{name:<12} {r['messages']:>10,} {r['seconds']:>9.2f} {rate:>10,.0f} "
              f"{r['peak_rss_mb']:>12.0f} {r['parse_rss_mb']:>13.0f}")
    if args.json:
        print(json.dumps(results, indent=1))
    if args.keep:
        print(f"kept {path}")
    else:
        path.unlink()
        tmp.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
