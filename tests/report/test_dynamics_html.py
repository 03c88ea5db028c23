"""Dynamics sections of the report: plain words in the main text, one figure per partner for
the months at most, figures that fit a phone and read in dark mode, statistics only in the
collapsed "How these numbers were computed" part."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from heard.dynamics import CoupleParams, fit_dynamics, generate_couple
from heard.report._dynamics_html import render_dynamics_sections
from heard.report._dynamics_svg import render_long_arc_figure, render_what_if
from heard.report._dynamics_words import long_arc_findings

SVG = re.compile(r"<svg.*?</svg>", re.S)
HOW = re.compile(r'<details class="dyn-how".*?</details>', re.S)
NASTY = "<b>Al&ex</b>"
#: What the main text must never show: statistics notation, model names, identifiers.
JARGON = [r"\bp\s?=", r"\bQ\s?=", r"\bAIC\b", r"\b[a-z]+_[a-z_]+\b", "`", r"\bbasin\b",
          r"SoftenResponse\(", r"\bp-value", r"Yule", r"\bpulse\b", r"insufficient"]
BAD_PLURALS = re.compile(r"\b1 (crises|weeks|changes|promises|times|messages)\b|"
                         r"\b(?:[02-9]|\d\d+) (crisis|week|change|promise|time|message)\b")


def _demo_long_arc():
    # the couple `heard demo --long-arc` shows (heard/cli/_demo.py)
    return fit_dynamics(generate_couple(CoupleParams.long_arc_demo()), n_permutations=20)


@pytest.fixture(scope="module")
def long_arc():
    return _demo_long_arc()


@pytest.fixture(scope="module")
def nasty():
    p = CoupleParams(weeks=30, messages_per_week=200, names=(NASTY, "Sam"),
                     base_rates={NASTY: CoupleParams().base_rates["Maya"],
                                 "Sam": CoupleParams().base_rates["Jon"]},
                     crisis_weeks=(5, 15), seed=2)
    return fit_dynamics(generate_couple(p), n_permutations=10)


def _main_text(html: str) -> str:
    return HOW.sub("", html)


def _visible(html: str) -> str:
    text = re.sub(r"<title>.*?</title>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))


def test_dynamics_html_long_arc_demo_has_at_most_one_figure_per_partner(long_arc) -> None:
    html = render_dynamics_sections(long_arc)
    main = _main_text(html)
    months = main[main.index('id="dyn-months-h"'):main.index('id="dyn-whatif-h"')]
    assert 1 <= len(SVG.findall(months)) <= len(long_arc.long_arc)
    # and the whole main text: the months plus one what-if figure
    assert len(SVG.findall(main)) <= len(long_arc.long_arc) + 1
    assert "no lasting or passing change" not in html


def test_dynamics_html_main_text_has_no_jargon(long_arc, nasty) -> None:
    for res in (long_arc, nasty):
        visible = _visible(_main_text(render_dynamics_sections(res)))
        for pattern in JARGON:
            assert not re.search(pattern, visible), (pattern, re.search(pattern, visible))
        assert not BAD_PLURALS.search(visible), BAD_PLURALS.search(visible)


def test_dynamics_html_statistics_live_in_the_collapsed_part(long_arc) -> None:
    html = render_dynamics_sections(long_arc)
    how = HOW.search(html)
    assert how and "<summary>How these numbers were computed</summary>" in how.group(0)
    assert "Yule" in how.group(0) and "AIC" in how.group(0)
    assert 'href="#dynamics-how"' in _main_text(html)


def test_dynamics_html_says_what_the_demo_planted(long_arc) -> None:
    found = long_arc_findings(long_arc)
    jon = " ".join(found["Jon"].clear)
    assert "held space" in jon and "nothing of it lasted" in jon  # the planted pulse
    maya = " ".join(found["Maya"].clear)
    assert "hardened steadily more often" in maya  # the planted drift
    assert "carried the conversation alone steadily less often" in maya


def test_dynamics_html_svgs_fit_a_phone(long_arc, nasty) -> None:
    for res in (long_arc, nasty):
        for s in SVG.findall(render_dynamics_sections(res)):
            root = ET.fromstring(s)
            assert root.get("viewBox"), s[:80]
            vb = [float(x) for x in root.get("viewBox").split()]
            assert vb[2] <= 390
            width = root.get("width")
            assert width is None or float(width.rstrip("px")) <= 390
            sizes = [float(t.get("font-size")) for t in root.iter("{http://www.w3.org/2000/svg}text")]
            assert sizes and min(sizes) >= 11  # about 11 px or more at 390 px wide


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_dynamics_html_labels_meet_contrast_in_light_and_dark(long_arc) -> None:
    html = render_dynamics_sections(long_arc)
    fills = set(re.findall(r'<text [^>]*fill="(#[0-9a-f]{6})"', html))
    assert fills
    for f in fills:
        assert _contrast(f, "#ffffff") >= 4.5, f
    # bars and dots carry meaning too: 3:1 for graphics
    for f in set(re.findall(r'<(?:rect|circle) [^>]*fill="(#[0-9a-f]{6})"', html)):
        assert _contrast(f, "#ffffff") >= 3.0, f
    css = (Path(__file__).resolve().parents[2] / "heard" / "report" / "templates"
           / "report.css").read_text(encoding="utf-8")
    dark = css[css.index("---- dynamics figures"):css.index("---- end of dynamics figures")]
    assert "prefers-color-scheme: dark" in dark
    # every text class drawn in a figure has a dark-mode colour, readable on dark paper
    for cls in set(re.findall(r'<text class="(\w+)"', html)):
        m = re.search(rf"svg\.dyn-fig \.{cls} {{ fill: (?:var\(--[a-z]+, )?(#[0-9a-f]{{6}})",
                      dark)
        assert m, cls
        assert _contrast(m.group(1), "#17171a") >= 4.5, (cls, m.group(1))


def test_dynamics_html_escapes_every_name(nasty) -> None:
    html = render_dynamics_sections(nasty)
    assert NASTY not in html
    assert "&lt;b&gt;Al&amp;ex&lt;/b&gt;" in html
    for s in SVG.findall(html):
        ET.fromstring(s)


def test_dynamics_html_has_no_scripts(long_arc) -> None:
    html = render_dynamics_sections(long_arc)
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_dynamics_html_what_if_shows_a_visible_difference_or_says_none(long_arc) -> None:
    runs = list(long_arc.simulation)
    html = render_dynamics_sections(long_arc)
    if len(runs) > 1:
        ends = [round(sim.share_hard_end * 100) for _, sim in runs]
        assert all(ends[0] - e >= 5 for e in ends[1:])
        svg = render_what_if(runs)
        widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
        assert len(widths) == len(runs) and all(widths[0] - w > 10 for w in widths[1:])
        assert f"{ends[0]} of 100" in svg
    else:
        assert "No small repair" in html or "nothing here for a small change" in html


def test_dynamics_html_safety_shows_no_what_if(long_arc) -> None:
    html = render_dynamics_sections(long_arc, safety=True)
    part = html[html.index('id="dyn-whatif-h"'):]
    assert "<svg" not in _main_text(part) and "safety concern" in part
    assert "repair" not in _main_text(part).lower()


def test_dynamics_html_long_arc_figure_marks_crises(long_arc) -> None:
    res = long_arc.long_arc["Jon"]["hold"]
    svg = render_long_arc_figure("Jon", [("hold", res)], crisis_bins=[8, 24])
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert titles.count("crisis") == 2


def test_dynamics_html_tiny_result_renders_without_figures_failing() -> None:
    res = fit_dynamics([], n_permutations=0)
    html = render_dynamics_sections(res)
    for s in SVG.findall(html):
        ET.fromstring(s)
    assert "Not enough" in html and "not enough weeks" in html


@pytest.mark.slow
def test_dynamics_html_browser_fits_390_and_1280(long_arc, tmp_path) -> None:
    sync_playwright = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is not installed (pip install -e '.[test-browser]')").sync_playwright
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no Chromium")
    css = (Path(__file__).resolve().parents[2] / "heard" / "report" / "templates"
           / "report.css").read_text(encoding="utf-8")
    page_html = (f'<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width,'
                 f' initial-scale=1"><style>{css}</style></head><body><main>'
                 f"{render_dynamics_sections(long_arc)}</main></body></html>")
    path = tmp_path / "dynamics.html"
    path.write_text(page_html, encoding="utf-8")
    out = tmp_path  # screenshots for a look by hand: pytest --basetemp=DIR keeps them
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            for width in (390, 1280):
                for scheme in ("light", "dark"):
                    page = browser.new_page(viewport={"width": width, "height": 800},
                                            color_scheme=scheme)
                    page.goto(path.as_uri())
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    boxes = page.evaluate("Array.from(document.querySelectorAll('svg'))"
                                          ".map(s => s.getBoundingClientRect().right)")
                    assert boxes and max(boxes) <= width
                    page.screenshot(path=str(out / f"dynamics-{width}-{scheme}.png"),
                                    full_page=True)
                    page.close()
        finally:
            browser.close()


def test_dynamics_html_every_series_is_in_the_json_not_drawn(long_arc) -> None:
    weekly = long_arc.to_dict()["long_arc"]["weekly"]
    assert len(weekly["starts"]) == long_arc.series.n_bins
    for who, fams in long_arc.long_arc.items():
        assert set(weekly["counts"][who]) == set(fams)
        assert weekly["counts"][who]["hold"] == [int(x) for x in fams["hold"].observed]
    # drawn: only the families with a clear finding
    found = long_arc_findings(long_arc)
    html = _main_text(render_dynamics_sections(long_arc))
    drawn = re.findall(r'aria-label="[^"]* over the months: ([^"]*)"', html)
    assert len(drawn) == sum(1 for f in found.values() if f.rows)
    assert sum(len(d.split(", ")) for d in drawn) == sum(len(f.rows) for f in found.values())
