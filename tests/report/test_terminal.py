"""The terminal summary: same figures as the HTML report, safety first, deterministic."""

from __future__ import annotations

import pytest
from rich.console import Console

from heard.report import print_summary
from heard.report._view import build_context


def _text(analysis, width: int = 100, **kw) -> str:
    console = Console(width=width, record=True, color_system=None, force_terminal=False)
    print_summary(analysis, console, **kw)
    return console.export_text()


def test_terminal_summary_shows_both_partners_and_the_report_path(plain_analysis):
    out = _text(plain_analysis, report_path="report.html")
    assert "What was analyzed" in out
    assert "Ana" in out and "Jo<i>" in out
    assert out.index("Strengths first") < out.index("The loop") < out.index("Both partners")
    assert "Safety first" not in out
    assert out.rstrip().endswith("Report: report.html")
    assert "not a diagnosis" in out


def test_terminal_summary_figures_match_the_html_context(plain_analysis):
    out = _text(plain_analysis)
    ctx = build_context(plain_analysis)
    full = ctx["loops"]["full_ref"]["n"]
    partial = ctx["loops"]["partial_ref"]["n"]
    times = {n: f"{n} time" if n == 1 else f"{n} times" for n in (full, partial)}
    assert f"ran in full {times[full]} and in part {times[partial]}" in out


def test_terminal_summary_opens_with_safety(safety_analysis):
    out = _text(safety_analysis, width=400)  # wide enough that no quote wraps
    assert out.index("Safety first") < out.index("What was analyzed")
    for f in safety_analysis.safety.findings:
        assert f"“{f.text}”" in out
    for r in safety_analysis.safety.resources:
        assert r.contact in out
    assert "findahelpline.com" in out and "988" in out
    assert "not an explanation of the safety concern" in out


@pytest.mark.parametrize("which", ["plain_analysis", "safety_analysis"])
def test_terminal_summary_is_deterministic(which, request):
    analysis = request.getfixturevalue(which)
    assert _text(analysis) == _text(analysis)
    for line in _text(analysis).splitlines():
        assert len(line) <= 100
