"""Dynamics sections of the report: well-formed SVG, escaped text, caveats."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from heard.dynamics import CoupleParams, fit_dynamics, generate_couple
from heard.report._dynamics_html import (
    render_dynamics_sections,
    render_long_arc_chart,
    render_loop_diagram,
)

SVG = re.compile(r"<svg.*?</svg>", re.S)
NASTY = "<b>Al&ex</b>"


@pytest.fixture(scope="module")
def result():
    p = CoupleParams(weeks=30, messages_per_week=200, names=(NASTY, "Sam"),
                     base_rates={NASTY: CoupleParams().base_rates["Maya"],
                                 "Sam": CoupleParams().base_rates["Jon"]},
                     crisis_weeks=(5, 15), seed=2)
    return fit_dynamics(generate_couple(p), n_permutations=10)


def test_dynamics_html_svgs_are_well_formed_xml(result):
    html = render_dynamics_sections(result)
    svgs = SVG.findall(html)
    assert len(svgs) >= 2 + 12  # two loop diagrams, twelve long-arc charts
    for s in svgs:
        root = ET.fromstring(s)
        assert root.tag.endswith("svg")


def test_dynamics_html_escapes_every_name(result):
    html = render_dynamics_sections(result)
    assert NASTY not in html
    assert "&lt;b&gt;Al&amp;ex&lt;/b&gt;" in html


def test_dynamics_html_has_caveats_and_no_scripts(result):
    html = render_dynamics_sections(result)
    assert html.count('class="caveat"') == 3
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_dynamics_html_loop_labels_show_measured_strengths(result):
    svg = render_loop_diagram(result.sequential, "Sam")
    ET.fromstring(svg)
    assert "Q=" in svg or "not enough data" in svg
    assert "not measured" in svg  # over-functioning -> hardening has no lag-1 test


def test_dynamics_html_long_arc_chart_marks_crises(result):
    res = result.long_arc["Sam"]["hold"]
    svg = render_long_arc_chart(res, crisis_bins=[5, 15], promise_bins=[5])
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert titles.count("crisis") == 2 and titles.count("promise") == 1


def test_dynamics_html_tiny_result_renders_without_figures_failing():
    res = fit_dynamics([], n_permutations=0)
    html = render_dynamics_sections(res)
    for s in SVG.findall(html):
        ET.fromstring(s)
    assert "Not enough" in html
