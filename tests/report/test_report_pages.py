"""The report as a person sees it, in headless Chromium at a laptop's and a phone's width.

Every report must fit the screen's width (no sideways scrolling), open on the short answer
(above the fold, unless the safety panel comes first), and open a folded list when a figure's
link points into it. Screenshots go to the pytest tmp dir (and to $HEARD_SCREENSHOTS when set).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heard.report import write_html

# headless Chromium: the slow tier (pytest -m slow)
pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
pytest.importorskip("playwright",
                    reason="playwright is not installed (pip install -e '.[test-browser]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) - browser tests skipped",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    keep = os.environ.get("HEARD_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


@pytest.fixture
def demo_analysis(rkit):
    corpus = rkit.demo_gold_corpus()
    return rkit.analyze([m for m in corpus.iter_messages() if "safety_risk" not in m.code_names])


@pytest.mark.parametrize("which", ["demo_analysis", "safety_analysis"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_browser_report_fits_the_screen_and_opens_on_the_answer(which, width, request, browser,
                                                                tmp_path):
    analysis = request.getfixturevalue(which)
    path = write_html(analysis, tmp_path / "report.html")
    w, h = WIDTHS[width]
    page = browser.new_page(viewport={"width": w, "height": h})
    page.goto(path.as_uri())
    wide = page.evaluate("""() => { const W = document.documentElement.clientWidth;
        return Array.from(document.querySelectorAll('body *'))
          .filter(e => e.getBoundingClientRect().right > W + 1)
          .map(e => e.tagName + '.' + e.getAttribute('class')).slice(0, 5); }""")
    assert page.evaluate("document.documentElement.scrollWidth") <= w, wide
    first = "#safety" if which == "safety_analysis" else "#answer"
    top = page.locator(first).bounding_box()
    assert top is not None and top["y"] < h * 0.8, "the answer must start on the first screen"
    _shot(page, tmp_path, f"report-{which}-{width}")
    page.close()


def test_browser_a_figure_opens_the_folded_list_it_links_to(demo_analysis, browser, tmp_path):
    path = write_html(demo_analysis, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    assert not page.evaluate("document.getElementById('numbers').open")
    page.locator("#answer a.count").first.click()
    assert page.evaluate("document.getElementById('numbers').open")
    target = page.evaluate("location.hash.slice(1)")
    assert page.locator(f"[id='{target}']").is_visible()
    # and a message link inside the list opens the folded messages
    page.locator(f"[id='{target}'] ul.refs a").first.click()
    assert page.evaluate("document.getElementById('messages').open")
    assert page.locator(":target").is_visible()
    page.close()
