"""The local store: imported conversations, their coded messages and analyses, in one SQLite file.

It lives in the user's data directory (platformdirs; ``HEARD_DATA_DIR`` or ``--data-dir``
override it) and nowhere else. Design points:

* **Idempotent import.** A message's identity is a hash of (conversation key, sender, time,
  kind, text, and how many identical messages came before it in the same export), so a newer
  export of the same chat adds only the messages that are new, whatever ids the export gives.
  A chat's key is its format and its two senders.
* **Real delete.** ``secure_delete`` is on, so SQLite overwrites deleted content; deleting a
  conversation cascades to its messages, imports and analyses; :func:`forget_all` removes the
  database file and everything heard wrote in the data directory (and only that).
* **Versioned schema.** ``meta.schema_version``; a store from a newer heard is refused (E509).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.errors import EmptyInputError, InputError
from heard.model import Corpus, Message, message_to_record, record_to_json

if TYPE_CHECKING:
    from heard._analysis import Analysis
    from heard.ingest import ReadOptions

__all__ = ["DB_NAME", "SCHEMA_VERSION", "ImportResult", "Store", "default_data_dir",
           "forget_all"]

SCHEMA_VERSION = 1
DB_NAME = "heard.sqlite3"
#: Everything heard may write in its data directory; forget_all removes exactly these.
_OWNED = (DB_NAME, f"{DB_NAME}-journal", f"{DB_NAME}-wal", f"{DB_NAME}-shm", "uploads")
#: Permutations of the sequential tests when a stored chat is analyzed (the CLI's default is
#: 1000; 200 keeps a page view fast and the baseline still stable to about a percent).
APP_PERMUTATIONS = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chats (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    senders TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    filename TEXT NOT NULL,
    format TEXT NOT NULL,
    added INTEGER NOT NULL,
    already INTEGER NOT NULL,
    report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    identity TEXT NOT NULL,
    ts REAL,
    seq INTEGER NOT NULL,
    record TEXT NOT NULL,
    UNIQUE (chat_id, identity)
);
CREATE INDEX IF NOT EXISTS messages_order ON messages (chat_id, ts, seq);
CREATE TABLE IF NOT EXISTS analyses (
    chat_id INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    created TEXT NOT NULL,
    data TEXT NOT NULL
);
"""


def default_data_dir() -> Path:
    """``$HEARD_DATA_DIR`` when set, else the platform's user data directory for heard."""
    env = os.environ.get("HEARD_DATA_DIR")
    if env:
        return Path(env)
    try:
        from platformdirs import user_data_dir
    except ModuleNotFoundError:
        from heard.errors import OptionError

        raise OptionError.from_code("E500", missing="platformdirs") from None
    return Path(user_data_dir("heard", appauthor=False))


def forget_all(data_dir: str | Path | None = None) -> list[Path]:
    """Delete everything heard stored: the database (and its journals) and the upload folder.

    Only heard's own files are touched, so a ``--data-dir`` pointing at a shared folder loses
    nothing else; the folder itself is removed when that leaves it empty.

    Returns
    -------
    list of Path
        What was removed.
    """
    import shutil

    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    removed: list[Path] = []
    for name in _OWNED:
        p = folder / name
        if p.is_dir():
            shutil.rmtree(p)
            removed.append(p)
        elif p.exists():
            p.unlink()
            removed.append(p)
    with suppress(OSError):
        folder.rmdir()
    return removed


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _chat_key(fmt: str, senders: Sequence[str]) -> str:
    return f"{fmt}:" + "\x1f".join(sorted(senders))


def _identity(key: str, m: Message, occurrence: int) -> str:
    ts = m.timestamp.isoformat() if m.timestamp else ""
    raw = "\x00".join((key, m.sender, ts, m.kind, m.text, str(occurrence)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    """What one import did: the conversation, how many messages were new, the import report."""

    chat_id: int
    title: str
    format: str
    added: int
    already: int
    report: dict[str, Any]
    created: bool


class Store:
    """heard's SQLite store in ``data_dir`` (created on first use).

    Parameters
    ----------
    data_dir : path, optional
        Default: :func:`default_data_dir`.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.path = self.data_dir / DB_NAME
        self._cache: dict[int, tuple[int, Analysis]] = {}
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            with self._connect() as db:
                db.executescript(_SCHEMA)
                row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None:
                    db.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise InputError.from_code("E509", path=self.path, found=row[0],
                                               known=SCHEMA_VERSION)
        except sqlite3.Error as exc:
            raise InputError.from_code("E510", path=self.path, detail=exc) from exc
        except PermissionError as exc:
            raise InputError.from_code("E510", path=self.path, detail=exc.strerror) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA secure_delete = ON")
            with db:
                yield db
        finally:
            db.close()

    @property
    def upload_dir(self) -> Path:
        """Where uploads wait while they are read (each is deleted right after)."""
        p = self.data_dir / "uploads"
        p.mkdir(exist_ok=True, mode=0o700)
        return p

    # ------------------------------------------------------------------ import

    def import_export(self, path: str | Path, *, filename: str | None = None,
                      options: ReadOptions | None = None,
                      format: str | None = None) -> ImportResult:
        """Read an export and add its messages that are not stored yet, then re-analyze.

        Raises the importers' :class:`~heard.errors.InputError` for an unreadable export.
        """
        from heard.ingest import read_export

        imp = read_export(str(path), format=format, options=options)
        messages = list(imp)
        report = imp.report.to_dict()
        report["path"] = filename or report["path"]
        fmt = imp.report.format
        senders = sorted({m.sender for m in messages if m.is_human})
        if not messages:
            raise EmptyInputError.from_code("E002", path=filename or path)
        key = _chat_key(fmt, senders)
        now = _now()
        with self._connect() as db:
            row = db.execute("SELECT id FROM chats WHERE key=?", (key,)).fetchone()
            created = row is None
            if created:
                title = " and ".join(senders) if senders else (filename or "conversation")
                cur = db.execute(
                    "INSERT INTO chats (key, title, format, senders, created, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (key, title, fmt, json.dumps(senders), now, now))
                chat_id = int(cur.lastrowid or 0)
            else:
                chat_id = int(row[0])
            seq0 = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE chat_id=?",
                              (chat_id,)).fetchone()[0]
            seen: Counter[tuple[str, str, str, str]] = Counter()
            ids: dict[str, str] = {}
            rows = []
            for m in messages:
                ts_key = m.timestamp.isoformat() if m.timestamp else ""
                tup = (m.sender, ts_key, m.kind, m.text)
                identity = _identity(key, m, seen[tup])
                seen[tup] += 1
                ids[m.message_id] = identity[:20]
                rows.append((identity, m))
            added = 0
            for i, (identity, m) in enumerate(rows):
                record = message_to_record(m, with_codes=False)
                record["message_id"] = identity[:20]
                if m.reply_to is not None:
                    record["reply_to"] = ids.get(m.reply_to, m.reply_to)
                ts = m.timestamp.timestamp() if m.timestamp else None
                cur = db.execute(
                    "INSERT OR IGNORE INTO messages (chat_id, identity, ts, seq, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (chat_id, identity, ts, seq0 + i, record_to_json(record)))
                added += cur.rowcount
            already = len(rows) - added
            db.execute("INSERT INTO imports (chat_id, at, filename, format, added, already, "
                       "report) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (chat_id, now, filename or str(path), fmt, added, already,
                        json.dumps(report, ensure_ascii=False)))
            if added:
                db.execute("UPDATE chats SET updated=?, revision=revision+1 WHERE id=?",
                           (now, chat_id))
            title = db.execute("SELECT title FROM chats WHERE id=?", (chat_id,)).fetchone()[0]
        if added or created:
            self._recode(chat_id)
        return ImportResult(chat_id=chat_id, title=title, format=fmt, added=added,
                            already=already, report=report, created=created)

    def _recode(self, chat_id: int) -> None:
        """Code the whole chat (codes depend on the messages before) and store its analysis."""
        from heard.api import code

        corpus = self._read_corpus(chat_id, with_codes=False)
        code(corpus)
        with self._connect() as db:
            for m in corpus.iter_messages():
                rec = record_to_json(message_to_record(m))
                db.execute("UPDATE messages SET record=? "
                           "WHERE chat_id=? AND substr(identity, 1, 20)=?",
                           (rec, chat_id, m.message_id))
        analysis = self.analysis(chat_id)
        with self._connect() as db:
            rev = db.execute("SELECT revision FROM chats WHERE id=?", (chat_id,)).fetchone()[0]
            db.execute("INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?)",
                       (chat_id, rev, _now(), json.dumps(analysis.to_dict(), ensure_ascii=False,
                                                         default=str)))

    # ------------------------------------------------------------------ read

    def chats(self) -> list[dict[str, Any]]:
        """Every stored conversation: id, title, format, senders, counts, dates."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.format, c.senders, c.created, c.updated, c.revision, "
                "(SELECT COUNT(*) FROM messages m WHERE m.chat_id=c.id) "
                "FROM chats c ORDER BY c.updated DESC, c.id DESC").fetchall()
        return [{"id": r[0], "title": r[1], "format": r[2], "senders": json.loads(r[3]),
                 "created": r[4], "updated": r[5], "revision": r[6], "messages": r[7]}
                for r in rows]

    def chat(self, chat_id: int) -> dict[str, Any]:
        """One conversation's summary and its imports (E507 when there is none)."""
        for c in self.chats():
            if c["id"] == chat_id:
                with self._connect() as db:
                    imps = db.execute(
                        "SELECT at, filename, format, added, already, report FROM imports "
                        "WHERE chat_id=? ORDER BY id", (chat_id,)).fetchall()
                c["imports"] = [{"at": r[0], "filename": r[1], "format": r[2], "added": r[3],
                                 "already": r[4], "report": json.loads(r[5])} for r in imps]
                return c
        raise InputError.from_code("E507", key=chat_id)

    def _read_corpus(self, chat_id: int, *, with_codes: bool = True) -> Corpus:
        from heard.ingest import Input, read_export

        with self._connect() as db:
            rows = db.execute("SELECT record FROM messages WHERE chat_id=? "
                              "ORDER BY ts IS NULL, ts, seq", (chat_id,)).fetchall()
        if not rows:
            raise InputError.from_code("E507", key=chat_id)
        lines = []
        for (rec,) in rows:
            if not with_codes:
                obj = json.loads(rec)
                obj.pop("codes", None)
                rec = record_to_json(obj)
            lines.append(rec)
        spool = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))
        imp = read_export(Input(None, name=f"store:{chat_id}", spool=spool), format="jsonl")
        return Corpus.from_messages(list(imp))

    def corpus(self, chat_id: int) -> Corpus:
        """The stored, coded messages of one conversation."""
        return self._read_corpus(chat_id)

    def analysis(self, chat_id: int) -> Analysis:
        """The analysis of one conversation (kept in memory per revision of the messages)."""
        from heard.api import analyze

        info = self.chat(chat_id)
        cached = self._cache.get(chat_id)
        if cached is not None and cached[0] == info["revision"]:
            return cached[1]
        corpus = self.corpus(chat_id)
        corpus.meta["imports"] = [i["report"] for i in info["imports"]]
        result = analyze(corpus, given_codes=True, n_permutations=APP_PERMUTATIONS,
                         generated_at=datetime.fromisoformat(info["updated"]))
        self._cache[chat_id] = (info["revision"], result)
        return result

    def stored_analysis(self, chat_id: int) -> dict[str, Any] | None:
        """The analysis JSON saved at the last import (what ``heard analyze --json`` writes)."""
        with self._connect() as db:
            row = db.execute("SELECT data FROM analyses WHERE chat_id=?", (chat_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def counts(self) -> dict[str, int]:
        """Rows per table (tests and the delete confirmation use it)."""
        with self._connect() as db:
            return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("chats", "imports", "messages", "analyses")}

    # ------------------------------------------------------------------ delete

    def delete(self, chat_id: int) -> bool:
        """Delete one conversation and everything about it. False when there was none."""
        with self._connect() as db:
            n = db.execute("DELETE FROM chats WHERE id=?", (chat_id,)).rowcount
        self._cache.pop(chat_id, None)
        if n:
            with self._vacuum() as db:
                db.execute("VACUUM")
        return bool(n)

    @contextmanager
    def _vacuum(self) -> Iterator[sqlite3.Connection]:
        # VACUUM can't run inside a transaction: autocommit connection.
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            yield db
        finally:
            db.close()
