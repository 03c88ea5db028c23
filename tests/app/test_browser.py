"""End to end: the real server on 127.0.0.1, driven by headless Chromium, import → overview →
conversation → check. Screenshots go to the pytest tmp dir (and to $HEARD_SCREENSHOTS when
set). The same run proves that nothing connects anywhere but 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# headless Chromium: the slow tier (pytest -m slow)
pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
pytest.importorskip("fastapi", reason="the app extra is not installed (pip install 'heard[app]')")
pytest.importorskip("playwright",
                    reason="playwright is not installed (pip install -e '.[test-browser]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) - browser tests skipped",
                allow_module_level=True)

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from heard.app import create_app  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
        "--dns-prefetch-disable", "--disable-features=OptimizationHints,Translate,MediaRouter"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address this process connects to, recorded while the test runs."""
    seen: list[Any] = []
    real_connect, real_create = socket.socket.connect, socket.create_connection

    def connect(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        return real_connect(self, address)

    def create_connection(address: Any, *a: Any, **k: Any) -> Any:
        seen.append(address)
        return real_create(address, *a, **k)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return seen


@pytest.fixture
def app(tmp_path: Path) -> Any:
    app = create_app(data_dir=tmp_path / "data", max_upload_mb=1)
    app.state.keyring.setup("test passphrase for heard", "test passphrase for heard")
    return app


@pytest.fixture
def server(app: Any, connections: list[Any]) -> Iterator[str]:
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(5)


def test_browser_full_flow(server: str, app: Any, tmp_path: Path, chat_v1: Path,
                           connections: list[Any]) -> None:
    store = app.state.store
    real_import = store.import_export

    def slower(*a: Any, progress: Any = None, **k: Any) -> Any:
        # hold the first stage long enough to see the page while the import runs
        if progress is not None:
            progress("reading", 0, None)
        time.sleep(1.5)
        return real_import(*a, progress=progress, **k)

    store.import_export = slower
    shots = tmp_path / "screenshots"
    shots.mkdir()
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # phone width
        page.on("request", lambda r: requests.append(r.url))
        # every Content-Security-Policy violation: Chromium's own console error, and the
        # page's securitypolicyviolation event (an init script is not subject to the CSP)
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                             "console.error('Content Security Policy violation: ' + "
                             "e.violatedDirective + ' ' + e.blockedURI));")

        page.goto(server + "/")
        assert page.get_by_role("heading", name="Import a chat").is_visible()
        page.screenshot(path=str(shots / "1-home.png"), full_page=True)

        # a bad upload first: a clear message on the page
        bad = tmp_path / "photo.png"
        bad.write_bytes(bytes(range(256)) * 4)
        page.get_by_label("Chat export file").set_input_files(str(bad))
        page.get_by_role("button", name="Import").click()
        assert "binary file" in page.get_by_role("alert").inner_text()
        page.screenshot(path=str(shots / "2-bad-upload.png"), full_page=True)

        page.get_by_label("Chat export file").set_input_files(str(chat_v1))
        page.get_by_role("button", name="Import").click()
        # the button can't be pressed twice, the page says what is happening, and it answers
        assert page.locator("#import-button").is_disabled()
        page.wait_for_selector("#import-stage >> text=Reading the file", timeout=10_000)
        assert page.locator("#import-progress").is_visible()
        page.screenshot(path=str(shots / "2b-importing.png"), full_page=True)
        assert page.evaluate("1 + 1") == 2
        page.wait_for_url("**/c/1**", timeout=60_000)
        summary = page.locator("#import-summary").inner_text()
        assert "6 new messages" in summary and "whatsapp" in summary
        assert page.get_by_role("heading", name="Strengths first: what went well").is_visible()
        page.screenshot(path=str(shots / "3-overview.png"), full_page=True)

        page.get_by_role("link", name="Read every message with its codes").click()
        page.get_by_label("Code", exact=True).select_option("reframing")
        page.get_by_role("button", name="Show").click()
        assert "1 of 6 messages match" in page.locator("#showing").inner_text()
        mark = page.locator("mark").first
        assert "overreacting" in mark.inner_text()
        page.screenshot(path=str(shots / "4-conversation.png"), full_page=True)

        page.goto(server + "/check?chat=1")
        page.get_by_role("textbox", name="Message").fill("You always make everything about you.")
        page.wait_for_selector("text=Edits to consider, in your own words", timeout=10_000)
        result = page.locator("#result").inner_text()
        assert "criticism" in result and "Absolute words" in result
        page.screenshot(path=str(shots / "5-check.png"), full_page=True)

        page.get_by_role("textbox", name="Message").fill("Give me your password or else.")
        page.wait_for_selector("#result >> text=Safety first", timeout=10_000)
        assert "Edits to consider" not in page.locator("#result").inner_text()
        page.screenshot(path=str(shots / "6-check-safety.png"), full_page=True)

        for extra in ("/codebook", "/safety", "/c/1/delete", "/nowhere"):
            page.goto(server + extra)
            assert page.locator("h1").first.is_visible()

        page.get_by_text("Delete everything").first.click()
        assert "1 conversation (6 messages)" in page.locator("main").inner_text()
        page.get_by_role("button", name="Yes, delete everything now").click()
        assert "was deleted" in page.get_by_role("status").inner_text()
        browser.close()
    assert csp == [], csp  # no inline script or style anywhere: the policy blocks nothing

    if os.environ.get("HEARD_SCREENSHOTS"):
        out = Path(os.environ["HEARD_SCREENSHOTS"])
        out.mkdir(parents=True, exist_ok=True)
        for f in shots.iterdir():
            shutil.copy(f, out / f.name)
    assert len(list(shots.glob("*.png"))) == 7

    # no outbound network: the page asked only 127.0.0.1, the process connected only to loopback
    assert requests and all(u.startswith("http://127.0.0.1:") for u in requests), requests
    hosts = {a[0] if isinstance(a, tuple) else a for a in connections}
    assert hosts <= {"127.0.0.1", "::1", "localhost"}, hosts


#: Where the page-by-page screenshots go (git-ignored): tests/_output/app/.
OUTPUT = Path(__file__).resolve().parent.parent / "_output" / "app"

#: Every visible text's contrast against what is really behind it (backgrounds composited up
#: the tree, opacity applied), WCAG's formula. SVG figures are the report's, checked there.
_CONTRAST_JS = """() => {
  const parse = c => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (t, b) => [0, 1, 2].map(i => t[i] * t[3] + b[i] * (1 - t[3])).concat([1]);
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const behind = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let base = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const opacity = el => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o;
  };
  const bad = []; const seen = new Set(); let n = 0;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!walk.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (el.closest('svg, option, datalist, script, style, select')) continue;
    if (!el.getClientRects().length) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden') continue;
    const b = behind(el); const c = parse(cs.color);
    const fg = over([c[0], c[1], c[2], c[3] * opacity(el)], b);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    n++;
    if (ratio < 4.5) {
      bad.push([walk.currentNode.textContent.trim().slice(0, 40), Math.round(ratio * 100) / 100,
                cs.color, 'rgb(' + b.slice(0, 3).map(Math.round).join(',') + ')']);
    }
  }
  return {n: n, bad: bad};
}"""

_PAGES = [
    ("home", "/"),
    ("overview", "/c/1"),
    ("overview-open", "/c/2"),
    ("messages", "/c/1/messages"),
    ("messages-filtered", "/c/1/messages?q=you&sender=Jo&since=2024-03-02&until=2024-03-04"
                          "&family=defend"),
    ("codebook", "/codebook"),
    ("safety", "/safety"),
    ("check", "/check?chat=1"),
    ("confirm-delete", "/c/1/delete"),
    ("confirm-forget", "/forget"),
]


def test_browser_every_page_fits_a_phone_and_reads_in_both_modes(
        server: str, app: Any, chat_safety: Path, chat_v2: Path, tmp_path: Path) -> None:
    store = app.state.store
    store.import_export(chat_safety, filename=chat_safety.name)  # 1: a safety flag
    # 2: no flag, so every section of the overview is open (tables, loops, figures)
    # a phone's export name has no spaces to wrap at, and the overview shows it whole
    other = tmp_path / "other" / "WhatsApp_Chat_with_Lee_Featherstonehaugh_2026-11-30_export.txt"
    other.parent.mkdir()
    other.write_text(chat_v2.read_text("utf-8").replace("Sam:", "Ari:").replace("Jo:", "Lee:"),
                     encoding="utf-8")
    store.import_export(other, filename=other.name)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for scheme in ("light", "dark"):
            for width, height in ((1280, 900), (390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height},
                                        color_scheme=scheme)
                for name, path in _PAGES:
                    page.goto(server + path)
                    assert page.locator("main h1").count() == 1, (name, page.content()[:300])
                    wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
                    if wide[0] > wide[1]:
                        problems.append(f"{name} {width}px {scheme}: {wide[0]}px wide")
                    contrast = page.evaluate(_CONTRAST_JS)
                    assert contrast["n"] > 5, name  # the check really read the page
                    for text, ratio, fg, bg in contrast["bad"]:
                        problems.append(f"{name} {width}px {scheme}: '{text}' {ratio}:1 "
                                        f"({fg} on {bg})")
                    page.screenshot(path=str(OUTPUT / f"{name}-{width}-{scheme}.png"),
                                    full_page=True)
                page.close()
        browser.close()
    assert not problems, "\n".join(problems)
    assert len(list(OUTPUT.glob("*.png"))) >= len(_PAGES) * 4


def test_browser_server_answers_other_pages_while_an_import_runs(
        server: str, app: Any, chat_v1: Path) -> None:
    """The plain POST (no JavaScript) runs the import on a worker thread, not the event loop."""
    import httpx

    store = app.state.store
    real_import, started = store.import_export, threading.Event()

    def slow(*a: Any, **k: Any) -> Any:
        started.set()
        time.sleep(3)
        return real_import(*a, **k)

    store.import_export = slow
    client = httpx.Client(base_url=server, timeout=60, follow_redirects=True)
    client.get("/")
    result: dict[str, Any] = {}

    def post() -> None:
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text)
        assert token
        result["r"] = client.post("/import", data={"csrf": token.group(1)},
                                  files={"file": (chat_v1.name, chat_v1.read_bytes())})

    t = threading.Thread(target=post)
    t.start()
    assert started.wait(10)
    t0 = time.monotonic()
    other = httpx.get(server + "/codebook", timeout=60)
    assert other.status_code == 200 and time.monotonic() - t0 < 2.5  # not after the import
    t.join(60)
    assert result["r"].status_code == 200 and "6 new messages" in result["r"].text
