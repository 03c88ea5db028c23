"""Encryption at rest: the app's passphrase, lock and idle lock, and what the data folder holds.

Every test runs the real app (FastAPI's TestClient) over a real SQLCipher file in a temporary
data folder; the "no message text on disk" test reads every byte of every file heard wrote.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed (pip install 'heard[app]')")
pytest.importorskip("sqlcipher3", reason="encryption needs sqlcipher3 (pip install 'heard[app]')")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from heard.app import Store, create_app
from heard.app import _vault as vault
from heard.cli import main
from heard.errors import InputError

PASS = "marmalade tugboat lantern"
WRONG = "marmalade tugboat lanterns"
A, B = "Oriane Vasquez-Thornbury", "Benedikt Achterberg"
#: Strings that appear only in the export: its senders' names and its messages' words.
SECRETS = (A, B, "Vasquez-Thornbury", "Achterberg", "periwinkle umbrella", "Quillfeather",
           "Grüße aus Zürich", "you never listen to me about the boathouse")
_LINES = [
    (A, "did you get the periwinkle umbrella back from Quillfeather station?"),
    (B, "no, I forgot again. sorry"),
    (A, "you never listen to me about the boathouse, it is always the same"),
    (B, "that's not fair, I was working late all week"),
    (A, "I felt alone at dinner when you didn't text"),
    (B, "I hear you. I'm sorry I didn't text, that's on me"),
    (A, "thank you. Grüße aus Zürich, by the way, my sister says hi"),
    (B, "tell her hi back. can we talk tonight about the weekend?"),
    (A, "yes, let's. I miss you"),
    (B, "I miss you too"),
]


def _export(folder: Path) -> Path:
    """A WhatsApp export (iOS style) of 40 messages between A and B."""
    lines = []
    for i in range(40):
        who, text = _LINES[i % len(_LINES)]
        day, minute = 3 + i // 10, 10 + i % 10
        lines.append(f"[{day}/2/24, 9:{minute:02d}:05 PM] {who}: {text}")
    p = folder / f"WhatsApp Chat with {B}.txt"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _client(data: Path, **kwargs: Any) -> TestClient:
    c = TestClient(create_app(data_dir=data, **kwargs))
    c.get("/unlock")  # the CSRF cookie
    return c


def _tok(c: TestClient) -> str:
    """The CSRF token a page embeds (an HMAC of the cookie's nonce, so read from the page)."""
    r = c.get("/unlock", follow_redirects=False)
    if r.status_code != 200:  # unlocked: any page carries it
        r = c.get("/codebook")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', r.text)
    assert found, r.text[:500]
    return found.group(1)


def _setup(c: TestClient, passphrase: str = PASS) -> Any:
    return c.post("/unlock/setup", data={"csrf": _tok(c), "passphrase": passphrase,
                                         "again": passphrase}, follow_redirects=False)


def _unlock(c: TestClient, passphrase: str = PASS, **extra: str) -> Any:
    return c.post("/unlock", data={"csrf": _tok(c), "passphrase": passphrase, **extra},
                  follow_redirects=False)


def _import(c: TestClient, export: Path) -> Any:
    with export.open("rb") as f:
        return c.post("/import", data={"csrf": _tok(c)}, files={"file": (export.name, f)},
                      follow_redirects=False)


def _found(folder: Path) -> dict[str, list[str]]:
    """Each file under ``folder`` whose bytes hold a secret, in UTF-8 or UTF-16 (LE or BE)."""
    hits: dict[str, list[str]] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        raw = p.read_bytes()
        for s in SECRETS:
            for enc in ("utf-8", "utf-16-le", "utf-16-be"):
                if s.encode(enc) in raw or s.lower().encode(enc) in raw:
                    hits.setdefault(p.name, []).append(f"{s} ({enc})")
    return hits


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# ---------------------------------------------------------------------- the folder's bytes


@pytest.mark.parametrize("asynchronous", [False, True], ids=["form", "job"])
def test_encryption_no_message_text_or_name_in_the_data_folder(tmp_path: Path,
                                                               asynchronous: bool) -> None:
    data = tmp_path / "data"
    c = _client(data)
    assert _setup(c).headers["location"] == "/"
    seen_during: dict[str, Any] = {}
    store = c.app.state.store
    keyring = c.app.state.keyring

    def spy(path: Any, **kwargs: Any) -> Any:
        # the upload is on disk now and the import is about to write: look at the folder
        seen_during["upload"] = Path(path)
        seen_during["hits"] = _found(data)
        seen_during["files"] = _files(data)
        stages: list[str] = []

        def progress(stage: str, done: Any, total: Any) -> None:
            # at every step of the import (the journal exists while a write is open)
            stages.append(stage)
            hits = _found(data)
            if hits:
                seen_during.setdefault("hits_at", []).append((stage, hits))

        job_progress = kwargs.get("progress")

        def both(stage: str, done: Any, total: Any) -> None:
            progress(stage, done, total)
            if job_progress is not None:
                job_progress(stage, done, total)

        kwargs["progress"] = both
        result = keyring.store.import_export(path, **kwargs)
        seen_during["stages"] = stages
        return result

    store.import_export = spy
    if asynchronous:  # as the page's script does it: a job on a worker thread
        export = _export(tmp_path / "in")
        r = c.post("/import", data={"csrf": _tok(c)}, headers={"X-Heard-Async": "1"},
                   files={"file": (export.name, export.read_bytes())})
        assert r.status_code == 202, r.text
        for _ in range(600):
            status = c.get(r.json()["status"]).json()
            if status["finished"]:
                break
            time.sleep(0.1)
        assert status["error"] is None and status["location"], status
    else:
        r = _import(c, _export(tmp_path / "in"))
        assert r.status_code == 303, r.text
    # the app shows the text: it was imported, and this test can find it when it is there
    page = c.get("/c/1/messages?q=periwinkle")
    assert "periwinkle umbrella" in page.text and "Oriane" in page.text
    # while the import ran, the plain upload waited outside the data folder
    assert data not in seen_during["upload"].parents
    assert seen_during["hits"] == {} and "hits_at" not in seen_during, seen_during
    assert {"reading", "saving", "coding"} <= set(seen_during["stages"])
    # afterwards: a database, its key file, and not one readable secret in any byte
    assert "heard.sqlite3" in _files(data) and "heard.key.json" in _files(data)
    assert _found(data) == {}
    assert not vault.is_plaintext(data / "heard.sqlite3")
    for _ in range(50):  # a job removes its upload right after it says "finished"
        if not seen_during["upload"].exists():
            break
        time.sleep(0.1)
    assert not seen_during["upload"].exists()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(data / "heard.sqlite3").execute("SELECT * FROM messages").fetchall()
    # the key file holds only the salt and settings
    key_file = (data / "heard.key.json").read_text("utf-8")
    assert PASS not in key_file and "argon2id" in key_file
    assert oct((data / "heard.key.json").stat().st_mode & 0o777) == "0o600"


def test_encryption_opt_out_stores_plain_text(tmp_path: Path) -> None:
    """--no-encryption: no lock at all, and the same search finds the text (the grep works)."""
    data = tmp_path / "data"
    c = _client(data, encrypt=False)
    assert c.get("/", follow_redirects=False).status_code == 200
    assert _import(c, _export(tmp_path / "in")).status_code == 303
    assert "periwinkle umbrella" in " ".join(_found(data).get("heard.sqlite3", []))
    assert vault.is_plaintext(data / "heard.sqlite3") and not (data / "heard.key.json").exists()
    assert c.get("/unlock/state").json()["encrypted"] is False
    # an encrypted folder is never opened without its passphrase
    enc = tmp_path / "enc"
    _setup(_client(enc))
    with pytest.raises(InputError, match="E538"):
        create_app(data_dir=enc, encrypt=False)


# ---------------------------------------------------------------------- passphrase and lock


def test_encryption_setup_asks_twice_and_says_it_cannot_be_recovered(tmp_path: Path) -> None:
    c = _client(tmp_path / "data")
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/unlock"
    page = c.get("/unlock").text
    assert "can't be opened again" in page and "no recovery" in page
    short = c.post("/unlock/setup", data={"csrf": _tok(c), "passphrase": "short",
                                          "again": "short"})
    assert short.status_code == 400 and "E534" in short.text
    differ = c.post("/unlock/setup", data={"csrf": _tok(c), "passphrase": PASS,
                                           "again": PASS + "!"})
    assert differ.status_code == 400 and "E535" in differ.text
    assert not (tmp_path / "data" / "heard.key.json").exists()
    forged = c.post("/unlock/setup", data={"csrf": "x" * 43, "passphrase": PASS,
                                           "again": PASS})
    assert forged.status_code == 403 and not (tmp_path / "data" / "heard.key.json").exists()
    assert _setup(c).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 200


def test_encryption_restart_needs_the_passphrase_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _client(data)
    _setup(first)
    assert _import(first, _export(tmp_path / "in")).status_code == 303

    again = _client(data)  # a new server process on the same folder
    assert again.get("/c/1", follow_redirects=False).headers["location"] == "/unlock?next=%2Fc%2F1"
    assert again.post("/api/check", json={"text": "hi"},
                      headers={"X-CSRF-Token": _tok(again)}).status_code == 423
    assert "heard is locked" in again.get("/unlock").text
    wrong = _unlock(again, WRONG)
    assert wrong.status_code == 401 and "E530" in wrong.text
    assert again.get("/", follow_redirects=False).status_code == 303
    assert _unlock(again, PASS, next="//evil.example/").headers["location"] == "/"
    assert B in again.get("/").text


def test_encryption_wrong_guesses_are_slowed(tmp_path: Path) -> None:
    now = [1000.0]
    data = tmp_path / "data"
    _setup(_client(data))
    c = _client(data, clock=lambda: now[0])
    for _ in range(3):  # typos: no wait
        assert _unlock(c, WRONG).status_code == 401
    assert _unlock(c, WRONG).status_code == 401  # the 4th starts a 2 s wait
    held = _unlock(c, PASS)
    assert held.status_code == 429 and "E536" in held.text
    now[0] += 2
    assert _unlock(c, WRONG).status_code == 401  # the 5th: 4 s
    now[0] += 3
    assert _unlock(c, PASS).status_code == 429  # still waiting, even with the right one
    now[0] += 1
    assert _unlock(c, PASS).status_code == 303


def test_encryption_locks_after_idle_time_and_forgets_the_key(tmp_path: Path) -> None:
    now = [0.0]
    c = _client(tmp_path / "data", idle_seconds=60, clock=lambda: now[0])
    _setup(c)
    keyring = c.app.state.keyring
    key = keyring._key
    assert key is not None and any(key)
    now[0] += 59
    assert c.get("/codebook", follow_redirects=False).status_code == 200  # activity
    now[0] += 59
    assert c.get("/unlock/state").json()["locked"] is False  # the page's poll isn't activity
    now[0] += 2
    assert c.get("/unlock/state").json()["locked"] is True
    assert keyring._key is None and keyring._store is None and not any(key)  # wiped
    assert c.get("/", follow_redirects=False).headers["location"] == "/unlock"
    assert _unlock(c).status_code == 303
    # locked between the gate and the route (the idle thread): the lock page, not an error
    store = c.app.state.store
    store.chats = lambda: keyring.lock() or keyring.store.chats()
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/unlock"
    del store.chats
    assert _unlock(c).status_code == 303
    # "Lock now" does the same at once; it is a CSRF-checked form
    assert c.post("/lock", data={"csrf": "nope"}).status_code == 403
    assert c.post("/lock", data={"csrf": _tok(c)}, follow_redirects=False).status_code == 303
    assert c.get("/unlock/state").json()["locked"] is True


def test_encryption_idle_lock_comes_on_time_without_a_request(tmp_path: Path) -> None:
    c = _client(tmp_path / "data", idle_seconds=0.2)
    _setup(c)
    keyring = c.app.state.keyring
    keyring.watch(every=0.05)
    deadline = time.monotonic() + 5
    while keyring._key is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keyring._key is None and keyring.state == "locked"


def test_encryption_idle_lock_waits_for_a_running_import(tmp_path: Path) -> None:
    now, busy = [0.0], [True]
    store = Store  # the real store class, opened by the keyring
    from heard.app._unlock import Keyring

    k = Keyring(tmp_path / "data", open_store=lambda d, key: store(d, key=key),
                idle_seconds=10, clock=lambda: now[0], busy=lambda: busy[0])
    k.setup(PASS, PASS)
    now[0] = 100
    assert k.check_idle() is False and k.unlocked
    busy[0] = False
    assert k.check_idle() is True and k.state == "locked"


# ---------------------------------------------------------------------- delete and convert


def test_encryption_forget_all_leaves_nothing(tmp_path: Path, capsys: Any) -> None:
    data = tmp_path / "data"
    c = _client(data)
    _setup(c)
    assert _import(c, _export(tmp_path / "in")).status_code == 303
    waiting = vault.upload_dir(data)  # as a crashed import would leave it
    (waiting / "left.txt").write_text(A)
    # the command line can't read an encrypted store without the passphrase (no terminal here)
    assert main(["forget", "--list", "--data-dir", str(data)]) == 2
    assert "E539" in capsys.readouterr().err
    assert main(["forget", "--all", "--data-dir", str(data)]) == 0
    assert not data.exists() and not waiting.exists()
    # the server that was running asks for a new passphrase; the old one opens nothing
    r = c.get("/", follow_redirects=False)
    assert r.headers["location"] == "/unlock" and "Choose a passphrase" in c.get("/unlock").text


def test_encryption_command_line_asks_for_the_passphrase(tmp_path: Path, capsys: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass
    import io

    data = tmp_path / "data"
    c = _client(data)
    _setup(c)
    assert _import(c, _export(tmp_path / "in")).status_code == 303

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = [WRONG]
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": typed[0])
    assert main(["forget", "--list", "--data-dir", str(data)]) == 2
    assert "E530" in capsys.readouterr().err
    typed[0] = PASS
    assert main(["forget", "--list", "--data-dir", str(data)]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("1\t") and "40 messages" in listed
    assert main(["forget", "1", "--data-dir", str(data)]) == 0
    assert "deleted conversation 1" in capsys.readouterr().out
    assert main(["forget", "--list", "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out == ""
    assert _found(data) == {} and not vault.is_plaintext(data / "heard.sqlite3")


def test_encryption_forgotten_passphrase_can_only_delete(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _setup(_client(data))
    c = _client(data)
    assert "Forgot the passphrase?" in c.get("/unlock").text
    r = c.post("/unlock/reset", data={"csrf": _tok(c), "confirm": "yes"})
    assert r.status_code == 200 and "Choose a passphrase" in r.text
    assert not (data / "heard.key.json").exists() and not (data / "heard.sqlite3").exists()


def test_encryption_plaintext_store_is_converted_without_loss(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = Store(data)  # a store from before encryption
    old.import_export(_export(tmp_path / "in"), filename="chat.txt")
    before = old.chats()
    left = old.upload_dir / "tmp1234"  # and an upload a crashed import left behind
    left.mkdir()
    _export(left)
    assert _found(data)  # readable on disk

    c = _client(data)
    page = c.get("/unlock").text
    assert "not encrypted yet" in page and "--no-encryption" in page
    assert _setup(c).status_code == 303
    assert [x["messages"] for x in c.app.state.store.chats()] == [x["messages"] for x in before]
    assert _found(data) == {} and sorted(os.listdir(data)) == ["heard.key.json", "heard.sqlite3"]
    assert "periwinkle" in c.get("/c/1/messages?q=periwinkle").text


def test_encryption_an_interrupted_conversion_is_finished_or_undone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store(data).import_export(_export(tmp_path / "in"), filename="chat.txt")
    key = vault.Vault(data).create(PASS)
    # a crash after the key file was written: the plaintext is still the store
    c = _client(data)
    assert "Type your passphrase to finish" in c.get("/unlock").text
    assert _unlock(c).status_code == 303 and _found(data) == {}
    # a crash between the two renames: the original comes back
    plain = tmp_path / "plain"
    Store(plain).import_export(_export(tmp_path / "in2"), filename="chat.txt")
    os.replace(plain / vault.DB_NAME, plain / vault.PLAINTEXT_OLD_NAME)
    (plain / vault.ENCRYPTING_NAME).write_bytes(b"half a copy")
    vault.recover(plain)
    assert vault.is_plaintext(plain / vault.DB_NAME) and sorted(os.listdir(plain)) == [
        vault.DB_NAME]
    assert Store(plain).chats()[0]["messages"] == 40
    # a crash after the copy was in place: the old plaintext is shredded
    vault.encrypt_plaintext(plain, vault.Vault(plain).create(PASS))
    (plain / vault.PLAINTEXT_OLD_NAME).write_text(A)
    vault.recover(plain)
    assert _found(plain) == {}
    del key


# ---------------------------------------------------------------------- errors


def test_encryption_wrong_passphrase_is_told_apart_from_damage(tmp_path: Path) -> None:
    data = tmp_path / "data"
    v = vault.Vault(data)
    key = v.create(PASS)
    Store(data, key=key).chats()
    with pytest.raises(InputError, match="E530"):
        v.open(WRONG)
    with pytest.raises(InputError, match="E539"):
        Store(data)  # no key: said plainly, not "file is not a database"
    raw = bytearray((data / "heard.sqlite3").read_bytes())
    raw[100:200] = bytes(100)  # damage the first page
    (data / "heard.sqlite3").write_bytes(bytes(raw))
    with pytest.raises(InputError, match="E531"):
        v.verify_store(v.open(PASS))
    (data / "heard.key.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="E532"):
        v.open(PASS)
    (data / "heard.key.json").unlink()
    c = _client(data)
    page = c.get("/unlock").text
    assert "E533" in page and "Forgot the passphrase?" in page
    with pytest.raises(InputError, match="E533"):
        from heard.app import open_store

        open_store(data, PASS)


def test_encryption_needs_sqlcipher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault, "ENCRYPTION_AVAILABLE", False)
    with pytest.raises(InputError, match="E537"):
        create_app(data_dir=tmp_path / "data")
    create_app(data_dir=tmp_path / "plain", encrypt=False)  # the opt-out still works


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_encryption_serve_lock_after_is_checked_first(value: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--lock-after", value, "--no-browser"])
    assert exc.value.code == 2 and "E031" in capsys.readouterr().err


def test_encryption_idle_time_is_checked_by_the_api(tmp_path: Path) -> None:
    for bad in (-60.0, float("nan")):
        with pytest.raises(InputError, match="E541"):
            create_app(data_dir=tmp_path / "data", idle_seconds=bad)


def test_encryption_key_derivation_is_argon2id_with_stated_settings() -> None:
    params = vault.KdfParams.new()
    assert (params.time_cost, params.memory_kib, params.parallelism) == (3, 65536, 4)
    import base64

    from argon2.low_level import Type, hash_secret_raw

    want = hash_secret_raw(PASS.encode(), base64.b64decode(params.salt), time_cost=3,
                           memory_cost=65536, parallelism=4, hash_len=32, type=Type.ID)
    assert bytes(vault.derive_key(PASS, params)) == want
    assert re.fullmatch(r"[A-Za-z0-9+/=]{24}", params.salt)


def test_encryption_unlock_finishes_an_interrupted_import(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from heard.app import _saving as saving

    data = tmp_path / "data"
    first = _client(data)
    _setup(first)
    store = first.app.state.store
    monkeypatch.setattr(saving, "recode", lambda *a, **k: (_ for _ in ()).throw(
        KeyboardInterrupt))  # as a kill between saving the messages and their codes
    with pytest.raises(KeyboardInterrupt):
        store.import_export(_export(tmp_path / "in"), filename="chat.txt")
    monkeypatch.undo()
    assert store.chats()[0]["ready"] is False

    again = _client(data)  # the next start: locked, so nothing can be finished yet
    assert not again.app.state.jobs.running()
    assert _unlock(again).status_code == 303  # unlocking starts the finishing job
    deadline = time.monotonic() + 120
    while again.app.state.jobs.running():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert again.app.state.store.chats()[0]["ready"] is True
    assert again.get("/c/1").status_code == 200


def test_encryption_an_upload_never_spools_to_the_system_temp_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from starlette import formparsers

    rolled: list[bool] = []  # per upload: was it written out to a file on disk?

    class Watched(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def close(self) -> None:
            rolled.append(self._rolled)
            super().close()

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", Watched)
    monkeypatch.setattr(formparsers.MultiPartParser, "spool_max_size", 1024 * 1024)
    c = _client(tmp_path / "data", max_upload_mb=5)
    _setup(c)
    big = tmp_path / "notes.txt"  # 3 MB, over Starlette's 1 MB spool; not an export at all
    big.write_text(f"{SECRETS[4]} and nothing else\n" * 110_000, encoding="utf-8")
    assert big.stat().st_size > 3_000_000
    r = _import(c, big)
    assert r.status_code == 400  # refused as no export, after the form was read whole
    assert rolled == [False]


def test_encryption_safety_help_is_open_while_locked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _setup(_client(data))
    locked = _client(data)  # a new start: locked until the passphrase is typed
    assert locked.get("/", follow_redirects=False).status_code == 303
    assert 'href="/safety"' in locked.get("/unlock").text
    page = locked.get("/safety", follow_redirects=False)
    assert page.status_code == 200 and "here whenever you need it" in page.text
    assert "Some messages here speak of" not in page.text  # nothing was found: no such claim
    assert locked.get("/codebook", follow_redirects=False).status_code == 303
