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
    first = store.corpus(r.chat_id).conversations[0].messages[0].message_id
    store.dismiss_flag(r.chat_id, first)
    assert store.counts() == {"chats": 1, "imports": 1, "messages": 6, "analyses": 1,
                              "safety_dismissals": 1}
    assert store.delete(r.chat_id)
    assert store.counts() == {"chats": 0, "imports": 0, "messages": 0, "analyses": 0,
                              "safety_dismissals": 0}
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


def test_store_reports_each_import_stage(tmp_path: Path, chat_v1: Path) -> None:
    seen: list[tuple[str, int | None, int | None]] = []
    Store(tmp_path).import_export(chat_v1, filename=chat_v1.name,
                                  progress=lambda *a: seen.append(a))
    stages = [s for i, (s, _, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != s]
    assert stages == ["reading", "saving", "coding", "analyzing"]  # each once, in order
    assert ("saving", 0, 6) in seen and ("coding", 0, 6) in seen
    coding = [done for s, done, total in seen if s == "coding"]
    assert coding == sorted(coding) and all(0 <= d <= 6 for d in coding)  # counts only grow


def test_store_records_the_coder_it_used(tmp_path: Path, chat_v1: Path) -> None:
    store = Store(tmp_path)
    r = store.import_export(chat_v1, filename=chat_v1.name)
    analysis = store.analysis(r.chat_id)
    assert analysis.coder == "TrainedCoder"  # not "given": heard's own coder made the codes
    assert store.stored_analysis(r.chat_id)["coder"] == "TrainedCoder"


def test_store_filters_messages_in_sql(tmp_path: Path, chat_v2: Path) -> None:
    from heard.app._store import MessageFilter

    store = Store(tmp_path)
    cid = store.import_export(chat_v2, filename=chat_v2.name).chat_id
    page, matched, total = store.messages(cid, limit=4, offset=0)
    assert (len(page), matched, total) == (4, 9, 9)
    assert [m.text for m in store.messages(cid, limit=4, offset=8)[0]] == ["ok"]
    assert page[0].codes is not None and page[0].timestamp.day == 2
    cases = {
        MessageFilter(text="DINNER"): 1,                     # case-insensitive
        MessageFilter(text="100%"): 0,                       # % is literal, not a wildcard
        MessageFilter(text="o_"): 0,                         # so is _
        MessageFilter(sender="Jo"): 5,
        MessageFilter(since="2024-03-03"): 3,
        MessageFilter(until="2024-03-02"): 6,
        MessageFilter(since="2024-03-03", until="2024-03-03", sender="Sam"): 1,
        MessageFilter(codes=("reframing",)): 1,
        MessageFilter(ids=()): 0,
    }
    for where, n in cases.items():
        assert store.messages(cid, where)[1] == n, where
    jo = store.messages(cid, MessageFilter(sender="Jo"))[0]
    assert all(m.sender == "Jo" for m in jo)
    assert store.position(cid, jo[-1].message_id, MessageFilter(sender="Jo")) == 4
    assert store.position(cid, jo[-1].message_id, MessageFilter(sender="Sam")) is None
    assert store.senders(cid) == ["Sam", "Jo"]  # in the order they first write


def test_store_safety_dismissals_are_kept_and_restorable(tmp_path: Path,
                                                         chat_safety: Path) -> None:
    store = Store(tmp_path)
    cid = store.import_export(chat_safety, filename=chat_safety.name).chat_id
    flag = store.analysis(cid).safety.findings[0].message_id
    store.dismiss_flag(cid, flag)
    store.dismiss_flag(cid, flag)  # twice is once, and keeps the first date
    again = Store(tmp_path)
    assert list(again.dismissed(cid)) == [flag]
    assert again.dismissed(cid)[flag][:4].isdigit()
    # the analysis itself is untouched: the flag is still found, only marked
    assert flag in {f.message_id for f in again.analysis(cid).safety.findings}
    assert again.restore_flag(cid, flag) and not again.restore_flag(cid, flag)
    assert again.dismissed(cid) == {}


def test_store_opens_a_version_1_store(tmp_path: Path, chat_v1: Path) -> None:
    """A database written before coder and dismissals were stored keeps working."""
    store = Store(tmp_path)
    cid = store.import_export(chat_v1, filename=chat_v1.name).chat_id
    with sqlite3.connect(store.path) as db:  # take it back to version 1's schema
        db.execute("DROP TABLE safety_dismissals")
        db.execute("ALTER TABLE chats DROP COLUMN coder")
        db.execute("ALTER TABLE chats DROP COLUMN coder_measured")
        db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    old = Store(tmp_path)
    with sqlite3.connect(old.path) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            "2",)
        cols = {r[1] for r in db.execute("PRAGMA table_info(chats)")}
    assert {"coder", "coder_measured"} <= cols
    assert old.chats()[0]["messages"] == 6 and old.dismissed(cid) == {}
    # the app always coded with the default engine: say so, never "codes given with the input"
    assert old.analysis(cid).coder == "TrainedCoder"
