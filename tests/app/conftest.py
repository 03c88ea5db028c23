from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

V1 = """[3/2/24, 9:14:05 PM] Sam: hey, are you coming home tonight?
[3/2/24, 9:20:41 PM] Jo: I said I'd be late. Why do you always do this
[3/2/24, 9:21:10 PM] Sam: I felt alone at dinner when you didn't text. Can we talk tonight?
[3/2/24, 9:25:00 PM] Jo: You're overreacting, it's not a big deal
[3/2/24, 9:26:00 PM] Sam: I'm not trying to attack you, I just mean I miss you
[3/2/24, 9:40:00 PM] Jo: ok
"""
V2_EXTRA = """[3/3/24, 8:00:00 AM] Jo: I was short with you last night, that's on me
[3/3/24, 8:05:00 AM] Sam: thank you. that means a lot
[3/3/24, 8:06:00 AM] Jo: ok
"""


@pytest.fixture
def chat_v1(tmp_path: Path) -> Path:
    p = tmp_path / "v1" / "WhatsApp Chat with Jo.txt"
    p.parent.mkdir()
    p.write_text(V1, encoding="utf-8")
    return p


@pytest.fixture
def chat_v2(tmp_path: Path) -> Path:
    p = tmp_path / "v2" / "WhatsApp Chat with Jo.txt"
    p.parent.mkdir()
    p.write_text(V1 + V2_EXTRA, encoding="utf-8")
    return p


SAFETY = """[3/4/24, 7:00:00 PM] Sam: can we talk about the weekend?
[3/4/24, 7:05:00 PM] Jo: if you leave I don't know what I'll do to myself
[3/4/24, 7:06:00 PM] Sam: I'm here. I'm not going anywhere tonight
"""


@pytest.fixture
def chat_safety(tmp_path: Path) -> Path:
    p = tmp_path / "v3" / "WhatsApp Chat with Jo.txt"
    p.parent.mkdir()
    p.write_text(V1 + V2_EXTRA + SAFETY, encoding="utf-8")
    return p


#: The passphrase the app tests' stores are encrypted with (tests/app/test_encryption.py
#: covers the pages that set and ask for it).
PASSPHRASE = "test passphrase for heard"


@pytest.fixture
def client(tmp_path: Path) -> Any:
    """The app through FastAPI's TestClient, on a fresh data folder, with its CSRF cookie."""
    pytest.importorskip("fastapi",
                        reason="the app extra is not installed (pip install 'heard[app]')")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from heard.app import create_app

    c = TestClient(create_app(data_dir=tmp_path / "data", max_upload_mb=0.05))
    # the app's default: an encrypted store, set up as on the first-start page
    c.app.state.keyring.setup(PASSPHRASE, PASSPHRASE)
    c.get("/")
    return c
