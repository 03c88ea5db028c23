"""The store's file: where it lives, how it is opened, its schema and how an older one is updated.

* **One way in.** :func:`open_db` is the only place that opens the SQLite file, so how the
  store is opened (pragmas, file modes, encryption) is decided in one function.
* **Versioned schema.** ``meta.schema_version``; a store from a newer heard is refused (E509).
  An older store is brought up to date when it is opened (columns and tables are only ever
  added, so nothing stored is rewritten).
* **Real delete.** ``secure_delete`` is on, so SQLite overwrites deleted content;
  :func:`forget_all` removes the database file and everything heard wrote in the data
  directory (and only that).
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from heard.app import _vault as vault
from heard.app._vault import dbapi as sqlite3  # SQLCipher's drop-in for sqlite3 (see _vault)
from heard.errors import InputError

__all__ = ["DB_NAME", "SCHEMA_VERSION", "default_data_dir", "forget_all", "migrate", "open_db",
           "private_file"]

#: 1: chats, imports, messages, analyses. 2: chats.coder / chats.coder_measured (which engine
#: coded the chat) and safety_dismissals.
SCHEMA_VERSION = 2
DB_NAME = vault.DB_NAME
#: Everything heard may write in its data directory; forget_all removes exactly these.
#: The key file comes first, so the store is unreadable from the first file removed.
OWNED = (*vault.OWNED, DB_NAME, f"{DB_NAME}-journal", f"{DB_NAME}-wal", f"{DB_NAME}-shm",
         "uploads")

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
CREATE TABLE IF NOT EXISTS safety_dismissals (
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
"""
#: Columns added after version 1, as (table, column, declaration): added to an older store.
_ADDED_COLUMNS = (("chats", "coder", "TEXT"), ("chats", "coder_measured", "TEXT"))


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


def open_db(path: Path, *, autocommit: bool = False,
            key: bytes | bytearray | None = None) -> sqlite3.Connection:
    """Open the store's SQLite file (the one place that does).

    ``autocommit`` gives a connection outside any transaction (VACUUM needs one); ``key``
    opens an encrypted store (:func:`heard.app._vault.connect`).
    """
    private_file(path)
    db = (vault.connect(path, key, isolation_level=None) if autocommit
          else vault.connect(path, key))
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA secure_delete = ON")
    return db


def private_file(path: Path) -> None:
    """The store's file readable by its owner only (0600), made so before SQLite writes it.

    SQLite gives its journal, ``-wal`` and ``-shm`` files the database file's mode, so they
    are private too. A store made by an older heard (0644) is narrowed when it is opened.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # SQLite's own error says what is wrong with the path
    try:
        if os.fstat(fd).st_mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables, or bring an older store up to date; refuse a newer one (E509)."""
    db.executescript(_SCHEMA)
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is not None and int(row[0]) > SCHEMA_VERSION:
        raise InputError.from_code("E509", path=path, found=row[0], known=SCHEMA_VERSION)
    for table, column, decl in _ADDED_COLUMNS:
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
               (str(SCHEMA_VERSION),))


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
    for name in OWNED:
        p = folder / name
        if p.is_dir():
            shutil.rmtree(p)
            removed.append(p)
        elif p.exists() or p.is_symlink():
            vault.shred(p)  # overwritten first: the key file must not survive on the disk
            removed.append(p)
    waiting = vault.upload_path(folder)  # an encrypted store's uploads wait outside the folder
    if waiting.is_dir() and not waiting.is_symlink():
        shutil.rmtree(waiting)
        removed.append(waiting)
    with suppress(OSError):
        folder.rmdir()
    return removed
