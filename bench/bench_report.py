"""How long the report is, as a person sees it: screens, words, bytes and printed pages.

Issue 11's targets: the default report for a 1,000-message chat fits in about 15 screens, and
the long-arc demo shows one figure per partner. This script builds

- ``chat1000``: a generated couple of 1,000 messages over half a year (the same generator as
  ``bench_pipeline.py``; its texts read like real texting), coded by the default coder;
- ``demo``: ``heard demo``'s sample couple;
- ``long-arc``: ``heard demo --long-arc``'s year and a half,

renders each report and measures it in headless Chromium at 1280 × 900 (a laptop) and
390 × 844 (a phone): page height in screens, widest element (sideways scrolling), words of
visible text, file size, and pages when printed to A4. Needs playwright and a Chromium
(``--chromium PATH``, default ``/usr/bin/chromium``).

Run::

    python bench/bench_report.py
    python bench/bench_report.py --only chat1000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


def chat1000(folder: Path) -> Path:
    """A generated couple of 1,000 messages, written uncoded as canonical JSONL."""
    from heard.dynamics._synth import CoupleParams, generate_couple
    from heard.model import message_to_record, record_to_json

    params = CoupleParams(weeks=26, messages_per_week=42, seed=11, crisis_weeks=(6, 18))
    messages = generate_couple(params)[:1000]
    path = folder / "chat1000.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for m in messages:
            f.write(record_to_json(message_to_record(m, with_codes=False)) + "\n")
    return path


def render(name: str, folder: Path) -> Path:
    """Write the report the way a person would, with the CLI."""
    out = folder / f"{name}.html"
    if name == "chat1000":
        argv = ["analyze", str(chat1000(folder)), "-o", str(out)]
    else:
        argv = ["demo", "-o", str(out), *(["--long-arc"] if name == "long-arc" else [])]
    subprocess.run([sys.executable, "-m", "heard", *argv], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def measure(path: Path, chromium: str) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, object] = {"bytes": path.stat().st_size}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for label, (w, h) in VIEWPORTS.items():
            page = browser.new_page(viewport={"width": w, "height": h})
            page.goto(path.as_uri())
            height = page.evaluate("document.documentElement.scrollHeight")
            figures[f"{label}_screens"] = round(height / h, 1)
            figures[f"{label}_overflow_px"] = max(
                0, page.evaluate("document.documentElement.scrollWidth") - w)
            if label == "desktop":
                figures["words"] = page.evaluate("document.body.innerText.split(/\\s+/).length")
                pdf = page.pdf(format="A4")
                figures["printed_pages"] = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
            page.close()
        browser.close()
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["chat1000", "demo", "long-arc"], action="append")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", type=Path, help="write the reports into this folder")
    args = ap.parse_args()
    names = args.only or ["chat1000", "demo", "long-arc"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            figures = measure(render(name, folder), args.chromium)
            print(json.dumps({"report": name, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
