"""App import benchmark: a synthetic 10,000-message WhatsApp export through ``heard serve``.

Starts the real app (uvicorn on 127.0.0.1, a temporary data folder), imports the export the
way the page does, and prints: how soon the POST answers, when each stage starts (the status
that app.js polls), when the import is done, how fast another page answers while it runs, and
how long the overview and the messages page then take. ``--sync`` posts as a browser without
JavaScript does (the POST returns when the import is done); ``--warm`` loads the coder first,
as ``heard serve`` does while the person picks a file.

    .venv/bin/python bench/bench_app_import.py [--messages 10000] [--sync] [--warm]

Figures are wall-clock seconds on this machine; on a shared machine they vary a lot.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--sync", action="store_true", help="post without JavaScript")
    ap.add_argument("--warm", action="store_true", help="load the coder before importing")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import httpx
    import uvicorn

    from heard.app import create_app
    from heard.app._store import load_coder

    tmp = Path(tempfile.mkdtemp())
    chat = tmp / "WhatsApp Chat with Sam.txt"
    generate(chat, args.messages)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(data_dir=tmp / "data", max_upload_mb=200)
    if args.warm:
        t = time.perf_counter()
        load_coder()
        print(f"coder loaded beforehand: {time.perf_counter() - t:.1f} s")
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=base, timeout=3600)
    client.get("/")
    form = {"csrf": client.cookies["heard_csrf"], "tz": "Europe/London"}
    files = {"file": (chat.name, chat.read_bytes())}

    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        other = httpx.Client(base_url=base, timeout=3600)
        while not stop.is_set():
            t = time.perf_counter()
            other.get("/codebook")
            latencies.append(time.perf_counter() - t)
            time.sleep(0.25)

    t0 = time.perf_counter()
    prober = threading.Thread(target=probe)
    prober.start()
    if args.sync:
        r = client.post("/import", data=form, files=files, follow_redirects=False)
        took = time.perf_counter() - t0
        print(f"POST /import (no JavaScript): {r.status_code} after {took:.1f} s")
        location = r.headers["location"]
    else:
        r = client.post("/import", data=form, files=files, headers={"X-Heard-Async": "1"})
        print(f"POST /import: {r.status_code} after {time.perf_counter() - t0:.2f} s")
        status, last = r.json()["status"], None
        while True:
            d = client.get(status).json()
            if d["stage"] != last:
                print(f"  {time.perf_counter() - t0:6.1f} s  {d['label']}")
                last = d["stage"]
            if d["finished"]:
                break
            time.sleep(0.5)
        print(f"import done: {time.perf_counter() - t0:.1f} s", d["error"] or "")
        location = d["location"]
    stop.set()
    prober.join()
    lat = sorted(latencies)
    print(f"another page during the import: {len(lat)} requests, median {lat[len(lat) // 2]:.2f} s,"
          f" slowest {lat[-1]:.2f} s")
    for name, path in (("overview", location.split("#")[0]), ("messages", "/c/1/messages"),
                       ("messages, searched", "/c/1/messages?q=hurt&sender=Sam&page_no=3")):
        t = time.perf_counter()
        page = client.get(path)
        print(f"{name}: {page.status_code} in {time.perf_counter() - t:.2f} s, "
              f"{len(page.content):,} bytes")
    srv.should_exit = True
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
