"""`heard demo` (sample data, said so; the safety gate only with --safety) and progress bars."""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import heard
from heard.samples import SAMPLE_NOTE, demo_path


def _section(page: str, start: str, end: str) -> str:
    a = page.index(start)
    return page[a:page.index(end, a)]


def test_demo_default_sample_has_no_safety_content_and_says_it_is_a_sample(
        tmp_path: Path, monkeypatch, cli) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = cli("demo", "--json", "demo.json", "--permutations", "20")
    assert status == 0
    assert "sample data" in out and "invented couple" in out
    data = json.loads((tmp_path / "demo.json").read_text())
    assert data["safety"]["triggered"] is False
    page = (tmp_path / "heard-report.html").read_text()
    assert 'class="sample-note"' in page and "invented couple" in page
    assert 'id="safety"' not in page and "`" not in page


def test_demo_default_sample_still_shows_the_loop_repairs_and_strengths() -> None:
    analysis = heard.analyze(heard.load(demo_path()), dynamics=False)
    p = analysis.patterns
    assert not analysis.safety.triggered
    assert len(p.full_loops) >= 2
    assert any(r.outcome == "heard" for r in p.reaches)
    assert any(r.outcome == "landed" for r in p.repairs)
    assert any(c.length >= 3 for c in p.chases)
    counts = analysis.code_counts()
    assert all(counts[s].get("validation", 0) + counts[s].get("staying", 0) >= 1
               for s in ("Dan", "Maya"))


def test_demo_samples_differ_only_in_the_safety_night() -> None:
    rows = [json.loads(x) for x in demo_path().read_text().splitlines()]
    safety = [json.loads(x) for x in demo_path("safety").read_text().splitlines()]
    assert [r["message_id"] for r in rows] == [r["message_id"] for r in safety]
    changed = {a["message_id"] for a, b in zip(rows, safety, strict=True) if a != b}
    assert changed and changed <= {"demo-159", "demo-160", "demo-161"}
    assert "Maya" in SAMPLE_NOTE and "Dan" in SAMPLE_NOTE


def test_demo_safety_shows_the_gate_worded_for_self_harm(tmp_path: Path, monkeypatch,
                                                         cli) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = cli("demo", "--safety", "--permutations", "20", "-o", "s.html")
    assert status == 0 and "sample data" in out and "Safety first" in out
    page = (tmp_path / "s.html").read_text()
    assert "`" not in page
    section = _section(page, 'id="safety"', "</section>")
    assert "Words about self-harm" in section
    assert section.index("988") < section.index("799-7233")  # the crisis line first
    assert "Why heard flagged it" in section
    assert re.search(r"<mark class=\"f-safety\">[^<]*point of being here", section)
    assert "<code>heard forget --all</code>" in section
    assert "may be able to see" in section
    assert "Your partner may have access" not in section
    # the patterns stay available below, folded, and not as the explanation
    assert 'class="collapsed-analysis"' in page
    assert page.index('id="safety"') < page.index('class="collapsed-analysis"')


@pytest.mark.slow
def test_demo_long_arc_says_it_is_simulated(tmp_path: Path, monkeypatch, cli) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = cli("demo", "--long-arc", "--permutations", "20", "-o", "l.html")
    assert status == 0 and "sample data" in out and "simulated" in out
    assert "simulated by heard" in (tmp_path / "l.html").read_text()


def test_progress_is_silent_when_stderr_is_not_a_terminal(tmp_path: Path, cli) -> None:
    from heard.cli import _progress

    assert _progress.PROGRESS_DELAY > 0
    status, _, err = cli("code", str(demo_path()), "-o", str(tmp_path / "c.jsonl"))
    assert status == 0 and err == ""


def _run_on_a_terminal(code: str, tmp_path: Path) -> str:
    """Run ``code`` in a fresh Python with stderr on a pseudo-terminal; what the terminal got."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc = subprocess.run([sys.executable, "-c", code], stderr=slave, stdout=subprocess.PIPE,
                          cwd=tmp_path, env=env, timeout=300, check=False)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8", errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "stage"), [
    (["code", "{demo}", "-o", "c.jsonl"], "coder|Coding messages"),
    (["analyze", "{demo}", "--no-dynamics", "-o", "r.html"], "coder|Coding messages"),
])
def test_progress_bar_on_a_terminal(argv: list[str], stage: str, tmp_path: Path) -> None:
    args = [a.replace("{demo}", str(demo_path())) for a in argv]
    code = ("import sys, heard.cli as c, heard.cli._progress as p\n"
            "p.PROGRESS_DELAY = 0\n"
            f"sys.exit(c.main({args!r}))\n")
    shown = _run_on_a_terminal(code, tmp_path)
    assert re.search(stage, shown), shown[-2000:]
    assert "\x1b[" in shown  # drawn (and then cleared: transient), not printed as lines


@pytest.mark.parametrize("engine", ["rules", "trained"])
def test_progress_callback_hears_every_stage_in_order(engine: str) -> None:
    from heard.coding import RuleCoder, TrainedCoder

    coder = RuleCoder() if engine == "rules" else TrainedCoder()
    calls: list[tuple[str, int, int | None]] = []
    corpus = heard.load(demo_path())
    heard.analyze(corpus, coder=coder, dynamics=False,
                  progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = list(dict.fromkeys(s for s, _, _ in calls))
    assert stages == ["coder", "code", "patterns"]
    coding = [(d, t) for s, d, t in calls if s == "code"]
    assert len(coding) > 3  # it moves while coding, not only at the start and the end
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(coding))
    assert coding[-1][0] == coding[-1][1]
    # the codes are the same with and without a progress callback
    again = heard.load(demo_path())
    heard.code(again, coder=RuleCoder() if engine == "rules" else TrainedCoder())
    assert [m.codes for m in corpus.iter_messages()] == [m.codes for m in again.iter_messages()]
