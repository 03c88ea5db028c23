"""End to end: the real server on 127.0.0.1, driven by headless Chromium, import → overview →
conversation → check. Screenshots go to the pytest tmp dir (and to $HEARD_SCREENSHOTS when
set). The same run proves that nothing connects anywhere but 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
pytest.importorskip("fastapi", reason="the app extra is not installed (pip install 'heard[app]')")
pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")
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
def server(tmp_path: Path, connections: list[Any]) -> Iterator[str]:
    port = _free_port()
    app = create_app(data_dir=tmp_path / "data", max_upload_mb=1)
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


def test_browser_full_flow(server: str, tmp_path: Path, chat_v1: Path,
                           connections: list[Any]) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # phone width
        page.on("request", lambda r: requests.append(r.url))

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
        page.wait_for_url("**/c/1**")
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

        page.get_by_text("Delete everything").first.click()
        page.get_by_role("button", name="Yes, delete everything now").click()
        assert "was deleted" in page.get_by_role("status").inner_text()
        browser.close()

    if os.environ.get("HEARD_SCREENSHOTS"):
        out = Path(os.environ["HEARD_SCREENSHOTS"])
        out.mkdir(parents=True, exist_ok=True)
        for f in shots.iterdir():
            shutil.copy(f, out / f.name)
    assert len(list(shots.glob("*.png"))) == 6

    # no outbound network: the page asked only 127.0.0.1, the process connected only to loopback
    assert requests and all(u.startswith("http://127.0.0.1:") for u in requests), requests
    hosts = {a[0] if isinstance(a, tuple) else a for a in connections}
    assert hosts <= {"127.0.0.1", "::1", "localhost"}, hosts
