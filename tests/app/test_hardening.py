"""The app under hostile and unlucky requests (issue 14): forged requests, error pages, limits,
interrupted imports, two servers on one folder, a store deleted under a running server."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed (pip install 'heard[app]')")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import heard.app._saving as saving
from heard.app import Store, create_app, forget_all

HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options",
           "referrer-policy", "cache-control")


def _tok(c: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/check").text)
    assert found
    return found.group(1)


def _open_client(data: Path, **kw: Any) -> TestClient:
    """An app on an unencrypted store (the lock screen is tested in test_encryption.py)."""
    return TestClient(create_app(data_dir=data, max_upload_mb=0.05, encrypt=False), **kw)


def _import(c: TestClient, chat: Path) -> Any:
    return c.post("/import", data={"csrf": _tok(c)}, files={"file": (chat.name,
                                                                      chat.read_bytes())},
                  follow_redirects=False)


def _secured(r: Any) -> bool:
    return all(h in r.headers for h in HEADERS) and "unsafe-inline" not in \
        r.headers["content-security-policy"]


# ---------------------------------------------------------------------- forged requests


def test_hardening_foreign_origin_is_refused_even_with_a_valid_token(tmp_path: Path) -> None:
    c = _open_client(tmp_path / "data")
    tok = _tok(c)
    body = {"text": "hi"}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "http://127.0.0.1:9999"},
                    {"Origin": "null"}, {"Sec-Fetch-Site": "same-site"},
                    {"Sec-Fetch-Site": "same-site", "Origin": "null"},
                    {"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example"},
                    {"Sec-Fetch-Site": "cross-site"}):
        r = c.post("/api/check", json=body, headers={"X-CSRF-Token": tok, **headers})
        assert r.status_code == 403 and "E512" in r.text and _secured(r), headers
    ok = c.post("/api/check", json=body, headers={"X-CSRF-Token": tok,
                                                   "Origin": "http://testserver",
                                                   "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200
    # a browser's own form under Referrer-Policy: no-referrer sends Origin: null
    own = c.post("/api/check", json=body, headers={"X-CSRF-Token": tok, "Origin": "null",
                                                    "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 200


def test_hardening_planted_cookie_cannot_forge_a_form(tmp_path: Path, chat_v1: Path) -> None:
    c = _open_client(tmp_path / "data")
    assert _import(c, chat_v1).status_code == 303
    # the token a page embeds is not the cookie: it is an HMAC only this process can make
    assert _tok(c) != c.cookies["heard_csrf"]
    # a page on another local port plants its own cookie and posts the same value
    attacker = TestClient(c.app)
    planted = "A" * 43
    attacker.cookies.set("heard_csrf", planted)
    for path in ("/forget", "/c/1/delete"):
        r = attacker.post(path, data={"csrf": planted, "confirm": "yes"})
        assert r.status_code == 403 and "E505" in r.text
    assert c.app.state.store.counts()["chats"] == 1  # nothing was deleted
    # a token made by another server process (another secret) is refused too
    other = _open_client(tmp_path / "other")
    other.cookies.set("heard_csrf", c.cookies["heard_csrf"])
    assert other.post("/forget", data={"csrf": _tok(c), "confirm": "yes"}).status_code == 403


# ---------------------------------------------------------------------- error pages


@pytest.mark.parametrize(("method", "path", "kw", "status", "code"), [
    ("get", "/check?chat=%C2%B2", {}, 200, None),
    ("post", "/c/99999999999999999999999/delete", {"confirm": "yes"}, 404, "E507"),
    ("post", "/c/99999999999999999999999/flags/x/dismiss", {}, 404, "E507"),
    ("get", "/nowhere", None, 404, "E513"),
    ("put", "/", None, 405, "E514"),
    ("get", "/c/abc", None, 422, "E515"),
    ("get", "/c/1/messages?page_no=x", None, 422, "E515"),
])
def test_hardening_bad_requests_get_numbered_pages_with_headers(
        tmp_path: Path, method: str, path: str, kw: dict | None, status: int,
        code: str | None) -> None:
    c = _open_client(tmp_path / "data")
    if kw is not None and method == "post":
        r = c.post(path, data={"csrf": _tok(c), **kw})
    else:
        r = getattr(c, method)(path)
    assert r.status_code == status and _secured(r)
    if code:
        assert code in r.text and "<!DOCTYPE html>" in r.text


@pytest.mark.parametrize(("body", "code"), [
    (b"[" * 100_000, "E517"),
    (b'{"text": "a", "context": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "E517"),
    (b'{"text": "\\ud800 lone"}', "E517"),
    (b'{"text": "ok", "context": ["\\udfff"]}', "E517"),
    (b"\xff\xfe not utf-8", "E517"),
    (b'{"text": "ok", "context": "not a list"}', "E517"),
    (b'{"text": "ok", "context": ' + b'["a", ' * 800 + b'"a"' + b"]" * 1 + b"}", "E517"),
])
def test_hardening_api_check_refuses_unusable_json(tmp_path: Path, body: bytes,
                                                   code: str) -> None:
    c = _open_client(tmp_path / "data")
    r = c.post("/api/check", content=body, headers={"X-CSRF-Token": _tok(c),
                                                   "content-type": "application/json"})
    assert r.status_code == 400 and code in r.json()["error"] and _secured(r)


def test_hardening_api_check_limits_the_context(tmp_path: Path) -> None:
    c = _open_client(tmp_path / "data")
    tok = _tok(c)
    many = c.post("/api/check", json={"text": "hi", "context": ["ok"] * 800},
                  headers={"X-CSRF-Token": tok})
    assert many.status_code == 400 and "E518" in many.json()["error"]
    long = c.post("/api/check", json={"text": "hi", "context": ["a" * 15_000] * 2},
                  headers={"X-CSRF-Token": tok})
    assert long.status_code == 400 and "E518" in long.json()["error"]
    fine = c.post("/api/check", json={"text": "hi", "context": ["ok"] * 20},
                  headers={"X-CSRF-Token": tok})
    assert fine.status_code == 200


def test_hardening_bodies_over_the_limit_are_413_while_streaming(tmp_path: Path) -> None:
    c = _open_client(tmp_path / "data")
    tok = _tok(c)
    sent = [0]

    def chunks(n: int) -> Any:
        for _ in range(n):
            sent[0] += 1
            yield b"x" * 65536

    # chunked (no Content-Length): cut off while it streams, never a 500
    up = c.post("/import", content=chunks(40),
                headers={"content-type": "multipart/form-data; boundary=zz"})
    assert up.status_code == 413 and "E503" in up.text and _secured(up)
    api = c.post("/api/check", content=chunks(40), headers={
        "X-CSRF-Token": tok, "content-type": "application/json"})
    assert api.status_code == 413 and "E519" in api.json()["error"] and _secured(api)
    # a Content-Length over the limit is answered before the body is read
    r = c.post("/api/check", content=b"{}", headers={
        "X-CSRF-Token": tok, "content-type": "application/json",
        "content-length": str(150 * 1024 * 1024)})
    assert r.status_code == 413 and "E519" in r.text


def test_hardening_an_unexpected_failure_is_a_numbered_page(tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    c = _open_client(tmp_path / "data", raise_server_exceptions=False)

    def broken(*a: Any, **k: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(c.app.state.store, "chats", broken)
    r = c.get("/")
    assert r.status_code == 500 and "E516" in r.text and "RuntimeError" in r.text
    assert _secured(r)


def test_hardening_a_reader_that_crashes_is_a_numbered_4xx(tmp_path: Path, chat_v1: Path,
                                                           monkeypatch: Any) -> None:
    c = _open_client(tmp_path / "data")
    modes: list[int] = []

    def crash(path: Any, **k: Any) -> Any:
        modes.append(stat.S_IMODE(os.stat(path).st_mode))
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(c.app.state.store, "import_export", crash)
    r = _import(c, chat_v1)
    assert r.status_code == 422 and "E522" in r.text and chat_v1.name in r.text
    assert modes == [0o600]  # the upload waits readable by its owner only
    assert not list(c.app.state.store.upload_dir.iterdir())  # and is gone afterwards


# ---------------------------------------------------------------------- the store


def test_hardening_store_files_are_private(tmp_path: Path, chat_v1: Path) -> None:
    data = tmp_path / "data"
    Store(data).import_export(chat_v1, filename=chat_v1.name)
    assert stat.S_IMODE((data / "heard.sqlite3").stat().st_mode) == 0o600
    os.chmod(data / "heard.sqlite3", 0o644)  # a store from an older heard
    Store(data)
    assert stat.S_IMODE((data / "heard.sqlite3").stat().st_mode) == 0o600


def test_hardening_interrupted_import_is_marked_and_repaired(tmp_path: Path, chat_v1: Path,
                                                             monkeypatch: Any) -> None:
    c = _open_client(tmp_path / "data")

    def killed(*a: Any, **k: Any) -> None:
        raise KeyboardInterrupt  # as a kill between saving the messages and their codes

    store = c.app.state.store
    monkeypatch.setattr(saving, "recode", killed)
    with pytest.raises(KeyboardInterrupt):
        store.import_export(chat_v1, filename=chat_v1.name)
    monkeypatch.undo()
    assert store.counts()["messages"] == 6 and store.counts()["analyses"] == 0
    assert store.chats()[0]["ready"] is False
    page = c.get("/c/1")
    assert page.status_code == 409 and "E521" in page.text and _secured(page)
    home = c.get("/")
    assert home.status_code == 200 and "its last import has not finished" in home.text
    assert c.get("/c/1/messages").status_code == 200
    assert c.get("/check?chat=1").status_code == 200
    # importing the same file again finishes it: nothing new, yet coded and analyzed
    again = _import(c, chat_v1)
    assert again.status_code == 303
    assert store.chats()[0]["ready"] is True and store.counts()["analyses"] == 1
    assert c.get("/c/1").status_code == 200


def test_hardening_one_new_conversation_from_two_imports_at_once(tmp_path: Path,
                                                                 chat_v1: Path) -> None:
    data = tmp_path / "data"
    Store(data)
    errors: list[BaseException] = []
    results: list[Any] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            results.append(Store(data).import_export(chat_v1, filename=chat_v1.name))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.added for r in results) == [0, 6]
    assert Store(data).counts()["chats"] == 1 and Store(data).counts()["messages"] == 6


def test_hardening_server_reopens_the_store_after_forget_all(tmp_path: Path,
                                                             chat_v1: Path) -> None:
    data = tmp_path / "data"
    c = _open_client(data)
    assert _import(c, chat_v1).status_code == 303
    forget_all(data)  # `heard forget --all` in another terminal, while the server runs
    assert not (data / "heard.sqlite3").exists()
    home = c.get("/")
    assert home.status_code == 200 and "Jo" not in re.sub(r"<[^>]+>", "", home.text
                                                          ).split("Import a chat")[0][-200:]
    assert c.get("/c/1").status_code == 404
    assert _import(c, chat_v1).status_code == 303
    assert c.get("/c/1").status_code == 200


def test_hardening_uploads_left_by_a_killed_server_go_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    left = data / "uploads" / "tmpabc"
    left.mkdir(parents=True)
    (left / "WhatsApp Chat.txt").write_text("private words")
    _open_client(data)
    assert not list((data / "uploads").iterdir())


def test_hardening_a_second_server_on_one_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _open_client(data)  # this process serves the folder
    code = ("import sys\nfrom heard.app import create_app\nfrom heard.errors import InputError\n"
            "try:\n    create_app(data_dir=sys.argv[1], encrypt=False)\n"
            "except InputError as exc:\n    print(exc); sys.exit(2)\n")
    other = subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True,
                           text=True, timeout=120)
    assert other.returncode == 2 and "E520" in other.stdout
    # another folder is fine
    free = subprocess.run([sys.executable, "-c", code, str(tmp_path / "elsewhere")],
                          capture_output=True, text=True, timeout=120)
    assert free.returncode == 0, free.stdout + free.stderr


def test_hardening_next_start_finishes_an_interrupted_import(tmp_path: Path, chat_v1: Path,
                                                             monkeypatch: Any) -> None:
    import time

    data = tmp_path / "data"
    monkeypatch.setattr(saving, "recode", lambda *a, **k: (_ for _ in ()).throw(
        KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        Store(data).import_export(chat_v1, filename=chat_v1.name)
    monkeypatch.undo()
    assert Store(data).chats()[0]["ready"] is False
    c = _open_client(data)  # the server started again: its import worker finishes the chat
    deadline = time.monotonic() + 120
    while c.app.state.jobs.running():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert Store(data).chats()[0]["ready"] is True
    assert c.get("/c/1").status_code == 200


def test_hardening_access_token_with_odd_characters_is_403_not_500(tmp_path: Path) -> None:
    c = TestClient(create_app(data_dir=tmp_path / "data", access_token="s3cret", encrypt=False))
    assert c.get("/?token=%C3%A9t%C3%A9").status_code == 403
    r = c.get("/", headers={b"cookie": "heard_access=\u00e9t\u00e9".encode()})
    assert r.status_code == 403 and "E506" in r.text and _secured(r)
