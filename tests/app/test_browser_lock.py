"""The lock in a real browser: the first-start page, the lock screen replacing a page left open,
and unlocking, in headless Chromium against the real server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
pytest.importorskip("fastapi", reason="the app extra is not installed (pip install 'heard[app]')")
pytest.importorskip("sqlcipher3", reason="encryption needs sqlcipher3 (pip install 'heard[app]')")
pytest.importorskip("playwright",
                    reason="playwright is not installed (pip install -e '.[test-browser]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) - browser tests skipped",
                allow_module_level=True)

import socket  # noqa: E402

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from heard.app import create_app  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASS = "marmalade tugboat lantern"
OUTPUT = Path(__file__).resolve().parent.parent / "_output" / "app"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(data_dir=tmp_path / "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    t.join(5)


def test_browser_lock_first_start_lock_screen_and_unlock(served: tuple[str, Any]) -> None:
    server, app = served
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(server + "/codebook")
        assert page.url.endswith("/unlock?next=%2Fcodebook") or page.url.endswith("/unlock")
        assert page.get_by_role("heading", name="Choose a passphrase").is_visible()
        assert "can't be opened again" in page.locator("main").inner_text()
        wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert wide[0] <= wide[1], wide
        page.screenshot(path=str(OUTPUT / "lock-setup-390.png"), full_page=True)
        page.get_by_label("Passphrase", exact=True).fill(PASS)
        page.get_by_label("The same passphrase again").fill(PASS)
        page.get_by_role("button", name="Set the passphrase").click()
        page.wait_for_url(server + "/")
        assert page.get_by_role("heading", name="Import a chat").is_visible()
        # the page's script shows "Lock now" once it knows the store is encrypted
        page.wait_for_selector("#lock-now", state="visible", timeout=10_000)

        # heard locks (idle or another tab): the open page gives way to the lock screen
        app.state.keyring.lock()
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        page.wait_for_url("**/unlock", timeout=10_000)
        assert page.get_by_role("heading", name="heard is locked").is_visible()
        assert "Import a chat" not in page.content()
        page.screenshot(path=str(OUTPUT / "lock-locked-390.png"), full_page=True)

        page.get_by_label("Passphrase", exact=True).fill(PASS + "x")
        page.get_by_role("button", name="Unlock").click()
        assert "E530" in page.get_by_role("alert").inner_text()
        page.get_by_label("Passphrase", exact=True).fill(PASS)
        page.get_by_role("button", name="Unlock").click()
        page.wait_for_url(server + "/")

        # "Lock now" locks at once
        page.get_by_role("button", name="Lock now").click()
        page.wait_for_url("**/unlock")
        assert app.state.keyring.state == "locked"
        browser.close()
