"""The report as a person sees it, in headless Chromium at a laptop's and a phone's width.

Every report must fit the screen's width (no sideways scrolling), open on the short answer
(above the fold, unless the safety panel comes first), and open a folded list when a figure's
link points into it. Screenshots go to the pytest tmp dir (and to $HEARD_SCREENSHOTS when set).

Its Content-Security-Policy: the report's own style and script run (folds and links work) with
no violation, a hostile message never runs, and markup smuggled past the escaping is refused.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import heard
from heard.model import Corpus
from heard.report import render_html, write_html

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


@pytest.fixture
def imported_analysis(rkit):
    """As a real import leaves it: the export's whole path, which has no spaces to break at."""
    corpus = rkit.demo_gold_corpus()
    messages = [m for m in corpus.iter_messages() if "safety_risk" not in m.code_names]
    corpus = Corpus.from_messages(messages)
    corpus.meta["imports"] = [{
        "path": "/home/someone/Downloads/WhatsApp_Chat_with_Alexandra_Featherstonehaugh/"
                "WhatsApp_Chat_with_Alexandra_Featherstonehaugh_2026-11-30.txt",
        "format": "whatsapp", "notes": []}]
    return heard.analyze(corpus, given_codes=True, dynamics=False, generated_at=rkit.FIXED)


@pytest.mark.parametrize("which", ["demo_analysis", "safety_analysis", "imported_analysis"])
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


# -- the Content-Security-Policy: hashes, no violation, nothing hostile runs ---------------

#: Runs before the page's own script: every CSP violation the page causes is kept.
LISTEN = """window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
  {directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample}));"""
HOSTILE = ['<script>window.__pwned = "text script"</script> hi',
           '<img src=x onerror="window.__pwned = \'text img\'"> look',
           '"><svg onload="window.__pwned = \'svg\'"> and </details><script>window.__pwned=1'
           '</script>']
HOSTILE_SENDER = '<img src=x onerror="window.__pwned = \'sender\'">'


class _Watched:
    """A page that records CSP violations, console errors, page errors and dialogs."""

    def __init__(self, browser: Any, width: str) -> None:
        w, h = WIDTHS[width]
        self.page = browser.new_page(viewport={"width": w, "height": h})
        self.errors: list[str] = []
        self.page.add_init_script(LISTEN)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.errors.append("dialog: " + d.message),
                                          d.dismiss()))

    def open(self, path: Path, fragment: str = "") -> Any:
        self.page.goto(path.as_uri() + fragment)
        self.page.wait_for_load_state("load")
        return self.page

    def violations(self) -> list[dict]:
        return self.page.evaluate("window.__violations")


@pytest.fixture(scope="module")
def long_arc_analysis() -> Any:
    """A report with every part: the sample couple of ``heard demo --long-arc`` (dynamics,
    figures, what-if), as the CLI analyzes it."""
    from heard.dynamics import CoupleParams, generate_couple

    return heard.analyze(Corpus.from_messages(generate_couple(CoupleParams.long_arc_demo())),
                         given_codes=True,
                         n_permutations=20)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("which", ["demo_analysis", "safety_analysis", "long_arc_analysis"])
def test_csp_report_runs_its_own_script_and_style_with_no_violation(which, width, request,
                                                                     browser, tmp_path):
    path = write_html(request.getfixturevalue(which), tmp_path / "report.html")
    watched = _Watched(browser, width)
    page = watched.open(path)
    # the stylesheet applied (a styled page, not the browser's defaults) ...
    assert page.evaluate("getComputedStyle(document.querySelector('a.skip')).position") \
        == "absolute"
    # ... and the script ran: a link into a folded part opens it
    folded = page.evaluate("""() => Array.from(document.querySelectorAll('details:not([open])'))
        .map(d => d.id).filter(Boolean)""")
    assert "messages" in folded
    link = page.locator("a.count").first
    if link.count():
        link.scroll_into_view_if_needed()
        link.click()
        target = page.evaluate("location.hash.slice(1)")
        assert page.locator(f"[id='{target}']").is_visible()
    # a fold opens and closes by hand, and a link from outside opens the fold it points into
    summary = page.locator("details#messages > summary")
    summary.scroll_into_view_if_needed()
    summary.click()
    assert page.evaluate("document.getElementById('messages').open")
    summary.click()
    assert not page.evaluate("document.getElementById('messages').open")
    first_message = page.evaluate(
        "document.querySelector('#messages [id^=\"m-\"], #messages li[id]')?.id || ''")
    if first_message:
        page = watched.open(path, f"#{first_message}")
        assert page.evaluate("document.getElementById('messages').open")
        assert page.locator(f"[id='{first_message}']").is_visible()
    # navigation: every in-page link points at something that exists
    missing = page.evaluate("""() => Array.from(document.querySelectorAll('a[href^="#"]'))
        .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
        .filter(id => id && !document.getElementById(id))""")
    assert not missing
    assert watched.violations() == []
    assert watched.errors == []
    page.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_csp_hostile_message_text_and_sender_never_run(width, rkit, browser, tmp_path):
    # coded, so that the evidence marks cut through the hostile markup too
    chat = [(HOSTILE_SENDER if i % 2 else "Sam", text, {"bid": [text[5:30]]})
            for i, text in enumerate(HOSTILE)]
    analysis = rkit.analyze(rkit.build([chat, rkit.LOOP_CHAT]))
    path = write_html(analysis, tmp_path / "report.html", transcript=True)
    watched = _Watched(browser, width)
    page = watched.open(path)
    page.locator("details#messages > summary").click()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    shown = page.evaluate("document.getElementById('messages').textContent")
    for text in HOSTILE:
        assert text.split(">")[0] in shown  # the words themselves, shown as text
    assert HOSTILE_SENDER in shown
    assert page.evaluate("document.querySelectorAll('img, main script, svg[onload]').length") \
        == 0
    assert watched.violations() == []
    assert watched.errors == []
    page.close()


def test_csp_refuses_markup_that_escaping_let_through(plain_analysis, browser, tmp_path):
    """Escaping is the first defence; if it ever failed, the policy still refuses to run or
    style anything the report did not ship."""
    html = render_html(plain_analysis)
    smuggled = ('<script>window.__pwned = "inline"</script>'
                '<img id="smug" src="x" onerror="window.__pwned = \'onerror\'">'
                '<p id="styled" style="color: rgb(255, 0, 0)">red?</p>'
                '<style>body { background: rgb(255, 0, 0) }</style>'
                '<a id="js" href="javascript:window.__pwned=\'href\'">link</a>')
    path = tmp_path / "report.html"
    path.write_text(html.replace("<main", smuggled + "<main", 1), encoding="utf-8")
    watched = _Watched(browser, "desktop")
    page = watched.open(path)
    page.locator("#js").click()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") \
        != "rgb(255, 0, 0)"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") \
        != "rgb(255, 0, 0)"
    refused = {v["directive"] for v in watched.violations()}
    assert {"script-src-elem", "script-src-attr", "style-src-attr", "style-src-elem",
            "img-src"} <= refused
    page.close()
