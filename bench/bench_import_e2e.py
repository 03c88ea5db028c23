"""End-to-end import benchmark: ``heard import FILE -o OUT`` against whatstk on the same file.

Issue 12 item 4 asks for the whole command, not the reader alone: start the interpreter, import
heard, read the export, and write the canonical JSON Lines. This script generates the synthetic
Android export of ``bench_import.py`` (500,000 messages by default, about 48 MB), then runs, each
in its own process and in turn:

* ``heard import FILE --tz Europe/London -o OUT`` from this checkout's ``.venv``;
* whatstk's ``df_from_whatsapp`` on the same file, from a separate interpreter that has whatstk
  (never a heard dependency), e.g. ``python3 -m venv /tmp/venv-bench &&
  /tmp/venv-bench/bin/pip install whatstk``.

For each it prints wall time, CPU time (user + system of the child, from ``wait4``: the figure
to trust on a shared machine, where wall time depends on what else runs), and peak resident
memory. ``--repeat N`` keeps each tool's fastest run. ``--check`` also writes the same import
message by message (``record_to_json(message_to_record(m))`` over ``read_export``, the path
``heard import`` took before it wrote WhatsApp's JSON Lines directly) and checks that the two
files are byte for byte the same.

    .venv/bin/python bench/bench_import_e2e.py --bench-python /tmp/venv-bench/bin/python
    .venv/bin/python bench/bench_import_e2e.py --messages 100000 --skip-others --check
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import generate  # noqa: E402  (the same generated export as bench_import.py)

_WHATSTK = """
import sys
from whatstk import df_from_whatsapp
hformat = "%d/%m/%Y, %H:%M - %name:"
try:  # whatstk 0.9 refuses files over 50 MB unless max_size is lifted
    df = df_from_whatsapp(sys.argv[1], hformat=hformat, max_size=None)
except TypeError:
    df = df_from_whatsapp(sys.argv[1], hformat=hformat)
print(len(df))
"""

_REFERENCE = """
import sys
from heard.ingest import ReadOptions, read_export
from heard.model import message_to_record, record_to_json
imp = read_export(sys.argv[1], options=ReadOptions(tz="Europe/London"))
with open(sys.argv[2], "w", encoding="utf-8", newline="\\n") as f:
    for m in imp:
        f.write(record_to_json(message_to_record(m)) + "\\n")
"""


def run(cmd: list[str]) -> tuple[float, float, float, str]:
    """(wall s, cpu s, peak MB, stdout) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.strip()[-400:]}")
    # ru_maxrss is in kilobytes on Linux
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--bench-python", default="/tmp/venv-bench/bin/python",
                    help="an interpreter with whatstk installed")
    ap.add_argument("--skip-others", action="store_true")
    ap.add_argument("--check", action="store_true",
                    help="check heard's output against the message-by-message path")
    args = ap.parse_args()

    heard = str(ROOT / ".venv" / "bin" / "heard")
    with tempfile.TemporaryDirectory() as tmp:
        chat = Path(tmp) / "WhatsApp Chat with Sam.txt"
        generate(chat, args.messages)
        size = chat.stat().st_size / 1e6
        out = Path(tmp) / "out.jsonl"
        tools = {"heard import": [heard, "import", str(chat), "--tz", "Europe/London",
                                  "-o", str(out)]}
        if not args.skip_others and Path(args.bench_python).exists():
            tools["whatstk df_from_whatsapp"] = [args.bench_python, "-c", _WHATSTK, str(chat)]
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(args.repeat):
            for name, cmd in tools.items():
                wall, cpu, peak, _ = run(cmd)
                if name not in best or cpu < best[name][1]:
                    best[name] = (wall, cpu, peak)
        print(f"{args.messages:,} messages, {size:.1f} MB; best of {args.repeat}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'tool':28} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
        for name, (wall, cpu, peak) in best.items():
            print(f"{name:28} {wall:8.2f} {cpu:8.2f} {peak:8.0f}")
        if len(best) == 2:
            (_, hc, _), (_, wc, _) = best.values()
            print(f"whatstk / heard CPU time: {wc / hc:.2f}x (above 1: heard is faster)")
        if args.check:
            reference = Path(tmp) / "reference.jsonl"
            run([sys.executable, "-c", _REFERENCE, str(chat), str(reference)])
            same = filecmp.cmp(out, reference, shallow=False)
            print(f"byte for byte the same as message by message: {'yes' if same else 'NO'}")
            if not same:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
