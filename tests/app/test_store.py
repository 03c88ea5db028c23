"""The SQLite store: idempotent re-import, cascade delete, forget all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from heard.app import Store, forget_all
from heard.errors import InputError


def test_store_import_is_idempotent(tmp_path: Path, chat_v1: Path, chat_v2: Path) -> None:
    store = Store(tmp_path / "data")
    r1 = store.import_export(chat_v1, filename=chat_v1.name)
    assert (r1.added, r1.already, r1.created) == (6, 0, True)
    r_again = store.import_export(chat_v1, filename=chat_v1.name)
    assert (r_again.added, r_again.already, r_again.chat_id) == (0, 6, r1.chat_id)
    r2 = store.import_export(chat_v2, filename=chat_v2.name)
    assert (r2.added, r2.already, r2.chat_id, r2.created) == (3, 6, r1.chat_id, False)
    corpus = store.corpus(r1.chat_id)
    assert len(list(corpus.iter_messages())) == 9
    # the two identical "ok" lines at different times are both kept
    assert sum(m.text == "ok" for m in corpus.iter_messages()) == 2
    assert all("codes" in m.annotations for m in corpus.iter_messages())
    assert store.stored_analysis(r1.chat_id)["overview"]["messages"] == 9
    # a new process sees the same data (a real file, not memory)
    assert Store(tmp_path / "data").chats()[0]["messages"] == 9


def test_store_delete_cascades(tmp_path: Path, chat_v1: Path) -> None:
    store = Store(tmp_path / "data")
    r = store.import_export(chat_v1, filename=chat_v1.name)
    assert store.counts() == {"chats": 1, "imports": 1, "messages": 6, "analyses": 1}
    assert store.delete(r.chat_id)
    assert store.counts() == {"chats": 0, "imports": 0, "messages": 0, "analyses": 0}
    raw = (tmp_path / "data" / "heard.sqlite3").read_bytes()
    assert b"I felt alone at dinner" not in raw  # secure_delete + VACUUM: really gone
    assert not store.delete(r.chat_id)
    with pytest.raises(InputError, match="E507"):
        store.chat(r.chat_id)


def test_store_forget_all_removes_only_heards_files(tmp_path: Path, chat_v1: Path) -> None:
    data = tmp_path / "data"
    Store(data).import_export(chat_v1, filename=chat_v1.name)
    other = data / "not-heards.txt"
    other.write_text("keep me")
    removed = forget_all(data)
    assert data / "heard.sqlite3" in removed
    assert not (data / "heard.sqlite3").exists() and other.exists()
    other.unlink()
    Store(data)
    forget_all(data)
    assert not data.exists()


def test_store_refuses_newer_schema(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(InputError, match="E509"):
        Store(tmp_path)
