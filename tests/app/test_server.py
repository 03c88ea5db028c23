"""The app through FastAPI's TestClient: CSRF, /api/check contract, uploads, pages, delete."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed (pip install 'heard[app]')")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from heard.app import create_app


def _tok(c: TestClient) -> str:
    """The CSRF token the pages embed for this client (an HMAC of its cookie's nonce)."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/check").text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _alert(html: str) -> str:
    i = html.find('role="alert"')
    return html[i:i + 400] if i >= 0 else ""


def test_server_security_headers(client: TestClient) -> None:
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in r.text and "https://" not in r.text
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400


@pytest.mark.parametrize("path", ["/import", "/forget", "/check", "/c/1/delete"])
def test_server_csrf_enforced_on_forms(client: TestClient, path: str) -> None:
    r = client.post(path, data={"csrf": "wrong", "text": "hi"})
    assert r.status_code == 403 and "security token" in r.text


def test_server_api_check_contract(client: TestClient) -> None:
    body = {"text": "You always make everything about you.", "context": ["I felt alone"]}
    assert client.post("/api/check", json=body).status_code == 403
    r = client.post("/api/check", json=body, headers={"X-CSRF-Token": _tok(client)})
    assert r.status_code == 200
    data = r.json()
    assert data["codes"][0]["code"] == "criticism" and data["codes"][0]["evidence"]
    assert {"code", "span", "advice"} == set(data["suggestions"][0])
    assert "absolutes" in {s["code"] for s in data["suggestions"]}
    bad = client.post("/api/check", json={"text": 3}, headers={"X-CSRF-Token": _tok(client)})
    assert bad.status_code == 400


def test_server_api_check_escapes_html(client: TestClient) -> None:
    text = "<script>alert(1)</script> You never listen"
    r = client.post("/api/check", json={"text": text, "html": True},
                    headers={"X-CSRF-Token": _tok(client)})
    assert "<script>" not in r.json()["html"] and "&lt;script&gt;" in r.json()["html"]


@pytest.mark.parametrize(("name", "content", "status", "words"), [
    ("photo.png", bytes(range(256)) * 4, 400, "binary file"),
    ("notes.txt", b"just some words\nwith no chat in them\n", 400, "what kind of export"),
    ("chat.zip", b"PK\x03\x04" + b"\x00" * 200, 400, "not a readable zip"),
    ("huge.txt", b"a" * 200_000, 413, "upload limit"),
])
def test_server_bad_uploads_show_clear_message(client: TestClient, name: str, content: bytes,
                                               status: int, words: str) -> None:
    r = client.post("/import", data={"csrf": _tok(client)}, files={"file": (name, content)})
    assert r.status_code == status
    assert words in _alert(r.text).replace("&#39;", "'"), _alert(r.text)
    assert not list((Path(client.app.state.store.upload_dir)).iterdir())  # temp files gone


def test_server_import_pages_and_delete(client: TestClient, chat_v1: Path) -> None:
    tok = _tok(client)
    up = client.post("/import", data={"csrf": tok},
                     files={"file": (chat_v1.name, chat_v1.read_bytes())},
                     follow_redirects=False)
    assert up.status_code == 303
    page = client.get(up.headers["location"]).text
    assert "Import summary" in page and "6 new messages" in page and "whatsapp" in page
    assert "Strengths first" in page
    again = client.post("/import", data={"csrf": tok},
                        files={"file": (chat_v1.name, chat_v1.read_bytes())})
    assert "0 new messages" in again.text and "6 already stored" in again.text
    msgs = client.get("/c/1/messages?code=reframing").text
    assert "overreacting" in msgs and "1 of 6 messages match" in msgs
    assert "<mark" in msgs
    fam = client.get("/c/1/messages?family=hold").text
    assert "match" in fam
    assert client.get("/codebook").status_code == 200
    assert client.get("/check?chat=1").status_code == 200
    gone = client.post("/c/1/delete", data={"csrf": tok, "confirm": "yes"})
    assert "deleted" in gone.text and client.get("/c/1").status_code == 404


def test_server_access_token_beyond_loopback(tmp_path: Path) -> None:
    c = TestClient(create_app(data_dir=tmp_path, access_token="s3cret"))
    c.app.state.keyring.setup("test passphrase for heard", "test passphrase for heard")
    assert c.get("/").status_code == 403
    r = c.get("/?token=s3cret", follow_redirects=True)
    assert r.status_code == 200 and "Import a chat" in r.text
    assert c.get("/codebook").status_code == 200


def test_server_import_options_time_zone_and_date_order(client: TestClient,
                                                        chat_v1: Path) -> None:
    tok = _tok(client)
    bad = client.post("/import", data={"csrf": tok, "tz": "Mars/Base"},
                      files={"file": (chat_v1.name, chat_v1.read_bytes())})
    assert bad.status_code == 400 and "E016" in _alert(bad.text) and "Mars/Base" in bad.text
    up = client.post("/import", data={"csrf": tok, "tz": "America/New_York",
                                      "date_order": "MDY"},
                     files={"file": (chat_v1.name, chat_v1.read_bytes())},
                     follow_redirects=False)
    assert up.status_code == 303
    page = client.get(up.headers["location"]).text
    assert "placed in UTC" not in page  # the zone was given, so no warning about assuming one
    first = client.app.state.store.corpus(1).conversations[0].messages[0]
    assert first.timestamp.isoformat() == "2024-03-02T21:14:05-05:00"
