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
  An older store is brought up to date when it is opened (columns and tables are only ever
  added, so nothing stored is rewritten).
* **Filtered reads in SQL.** The messages page asks for one page of matches
  (:meth:`Store.messages`): text, sender, dates and codes are filtered by SQLite's JSON
  functions, so a 100,000-message chat is never loaded to show 200 of them.
* **Safety flags are never dropped.** A person may mark a flag "not what this means"
  (:meth:`Store.dismiss_flag`); it is kept with the date and can be restored.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.errors import EmptyInputError, InputError
from heard.model import Corpus, Message, codes_from_list, message_to_record, record_to_json

if TYPE_CHECKING:
    from heard.api import Analysis
    from heard.ingest import ReadOptions

__all__ = ["DB_NAME", "SCHEMA_VERSION", "ImportResult", "MessageFilter", "Progress", "Store",
           "default_data_dir", "forget_all", "load_coder"]

#: 1: chats, imports, messages, analyses. 2: chats.coder / chats.coder_measured (which engine
#: coded the chat) and safety_dismissals.
SCHEMA_VERSION = 2
#: Called with (stage, done, total) while an import runs; stage is "reading", "saving",
#: "coding" or "analyzing", and done/total are message counts where they are known.
Progress = Callable[[str, int | None, int | None], None]
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
CREATE TABLE IF NOT EXISTS safety_dismissals (
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
"""
#: Columns added after version 1, as (table, column, declaration): added to an older store.
_ADDED_COLUMNS = (("chats", "coder", "TEXT"), ("chats", "coder_measured", "TEXT"))


@dataclass(frozen=True)
class MessageFilter:
    """What the messages page asks for; every field is optional and they combine with AND.

    Attributes
    ----------
    text : str
        Words the message's text contains (case-insensitive for ASCII letters).
    sender : str
        Exactly this sender.
    since, until : str
        ISO dates (``YYYY-MM-DD``), inclusive, in the message's own time zone.
    codes : tuple of str
        At least one of these codes (a code, or the codes of a family).
    ids : tuple of str, optional
        Only these message ids (the messages behind one figure); None means no such limit.
    """

    text: str = ""
    sender: str = ""
    since: str = ""
    until: str = ""
    codes: tuple[str, ...] = ()
    ids: tuple[str, ...] | None = None

    @property
    def active(self) -> bool:
        return bool(self.text or self.sender or self.since or self.until or self.codes
                    or self.ids is not None)

    def where(self, chat_id: int) -> tuple[str, list[Any]]:
        """The SQL condition over one chat's ``messages`` rows, and its parameters."""
        sql, args = ["chat_id=?"], [chat_id]
        if self.text:
            # LIKE with escapes: a % or _ the person typed is matched literally
            pattern = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            sql.append("json_extract(record, '$.text') LIKE ? ESCAPE '\\'")
            args.append(f"%{pattern}%")
        if self.sender:
            sql.append("json_extract(record, '$.sender') = ?")
            args.append(self.sender)
        # dates compare on the message's own calendar day (the first 10 characters of its
        # ISO timestamp), the same day its heading shows
        if self.since:
            sql.append("substr(json_extract(record, '$.timestamp'), 1, 10) >= ?")
            args.append(self.since)
        if self.until:
            sql.append("substr(json_extract(record, '$.timestamp'), 1, 10) <= ?")
            args.append(self.until)
        if self.codes:
            marks = ", ".join("?" * len(self.codes))
            sql.append("EXISTS (SELECT 1 FROM json_each(record, '$.codes') AS c "
                       f"WHERE json_extract(c.value, '$.code') IN ({marks}))")
            args.extend(self.codes)
        if self.ids is not None:
            marks = ", ".join("?" * len(self.ids)) or "NULL"
            sql.append(f"substr(identity, 1, 20) IN ({marks})")
            args.extend(self.ids)
        return " AND ".join(sql), args


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


_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()


def load_coder() -> Any:
    """The default coding engine, loaded once per process and shared by every import.

    Loading it (the model and the compiled rules) takes seconds and does not depend on the
    messages, so ``heard serve`` loads it while the person picks a file.
    """
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from heard.api import default_coder

            _ENGINE = default_coder().fit()
        return _ENGINE


def _code(corpus: Corpus, progress: Callable[[int, int], None]) -> Any:
    """Code ``corpus`` with the shared engine (one import at a time uses it)."""
    import inspect

    engine = load_coder()
    with _ENGINE_LOCK:
        if "progress" in inspect.signature(engine.transform).parameters:
            engine.transform(corpus, progress=progress)
        else:
            engine.transform(corpus)
    return engine


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _chat_key(fmt: str, senders: Sequence[str]) -> str:
    return f"{fmt}:" + "\x1f".join(sorted(senders))


def _id_range(message_id: str) -> tuple[str, str]:
    """The identities that start with a message id (hex digits sort below "g")."""
    return message_id, message_id + "g"


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
                if row is not None and int(row[0]) > SCHEMA_VERSION:
                    raise InputError.from_code("E509", path=self.path, found=row[0],
                                               known=SCHEMA_VERSION)
                for table, column, decl in _ADDED_COLUMNS:
                    have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
                    if column not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                           (str(SCHEMA_VERSION),))
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
                      format: str | None = None,
                      progress: Progress | None = None) -> ImportResult:
        """Read an export and add its messages that are not stored yet, then re-analyze.

        Raises the importers' :class:`~heard.errors.InputError` for an unreadable export.
        ``progress`` is told each stage as it starts (see :data:`Progress`).
        """
        from heard.ingest import read_export

        say = progress or (lambda stage, done, total: None)
        say("reading", 0, None)
        imp = read_export(str(path), format=format, options=options)
        messages = []
        for m in imp:
            messages.append(m)
            if len(messages) % 2000 == 0:
                say("reading", len(messages), None)
        say("saving", 0, len(messages))
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
            self._recode(chat_id, say)
        return ImportResult(chat_id=chat_id, title=title, format=fmt, added=added,
                            already=already, report=report, created=created)

    def _recode(self, chat_id: int, say: Progress) -> None:
        """Code the whole chat (codes depend on the messages before) and store its analysis.

        The engine is recorded with the chat, so the analysis (which reads the stored codes)
        names the coder that made them and quotes its measured accuracy.
        """
        corpus = self._read_corpus(chat_id, with_codes=False)
        n = len(corpus)
        say("coding", 0, n)
        engine = _code(corpus, lambda done, total: say("coding", min(n, done * n // max(
            total, 1)), n))
        measured = getattr(engine, "measured", None)
        rows = []
        for m in corpus.iter_messages():
            record = message_to_record(m)
            # keep in memory exactly what is stored (scores rounded as in the file), so this
            # analysis and one made later from the file are the same
            m.annotations["codes"] = codes_from_list(record.get("codes", []))
            rows.append((record_to_json(record), chat_id, *_id_range(m.message_id)))
        with self._connect() as db:
            # a message id is the first 20 hex digits of its identity: a range on the
            # (chat_id, identity) index finds the row without scanning the chat each time
            db.executemany("UPDATE messages SET record=? WHERE chat_id=? "
                           "AND identity BETWEEN ? AND ?", rows)
            db.execute("UPDATE chats SET coder=?, coder_measured=? WHERE id=?",
                       (type(engine).__name__,
                        json.dumps(measured) if measured is not None else None, chat_id))
        say("analyzing", n, n)
        # analyze the coded messages in memory: reading them back from the file would give
        # the same messages, seconds later
        analysis = self._analyze(chat_id, corpus)
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
        info = self.chat(chat_id)
        cached = self._cache.get(chat_id)
        if cached is not None and cached[0] == info["revision"]:
            return cached[1]
        return self._analyze(chat_id, self.corpus(chat_id), info)

    def _analyze(self, chat_id: int, corpus: Corpus,
                 info: dict[str, Any] | None = None) -> Analysis:
        from heard.api import analyze, coder_settings

        info = info or self.chat(chat_id)
        corpus.meta["imports"] = [i["report"] for i in info["imports"]]
        result = analyze(corpus, given_codes=True, n_permutations=APP_PERMUTATIONS,
                         generated_at=datetime.fromisoformat(info["updated"]))
        coder, measured = self._coder(chat_id)
        if coder:
            # the codes were stored by heard's own coder at import, not given by the person
            result = replace(result, coder=coder,
                             settings={**result.settings, "coder_measured": measured,
                                       **coder_settings(coder)})
        self._cache[chat_id] = (info["revision"], result)
        return result

    def _coder(self, chat_id: int) -> tuple[str | None, dict[str, Any] | None]:
        with self._connect() as db:
            row = db.execute("SELECT coder, coder_measured FROM chats WHERE id=?",
                             (chat_id,)).fetchone()
        if row is None or not row[0]:
            # a version-1 store did not record it: the app has always coded with the default
            # engine, so name that one rather than claim the codes were "given"
            if row is None:
                return None, None
            from heard.api import default_coder

            engine = default_coder()
            return type(engine).__name__, getattr(engine, "measured", None)
        return row[0], json.loads(row[1]) if row[1] else None

    def senders(self, chat_id: int) -> list[str]:
        """The people of one conversation, in the order they first write (as the analysis)."""
        people = set(self.chat(chat_id)["senders"])
        with self._connect() as db:
            rows = db.execute(
                "SELECT json_extract(record, '$.sender') AS s FROM messages WHERE chat_id=? "
                "GROUP BY s ORDER BY MIN(COALESCE(ts, 9e18)), MIN(seq)", (chat_id,)).fetchall()
        return [r[0] for r in rows if r[0] in people]

    def messages(self, chat_id: int, where: MessageFilter | None = None, *,
                 limit: int = 200, offset: int = 0) -> tuple[list[Message], int, int]:
        """One page of a conversation's messages that match ``where``, in time order.

        Returns
        -------
        (messages, matched, total)
            The page (coded :class:`Message` objects), how many messages match, and how many
            the conversation holds.
        """
        where = where or MessageFilter()
        cond, args = where.where(chat_id)
        order = "ORDER BY ts IS NULL, ts, seq"
        with self._connect() as db:
            total = db.execute("SELECT COUNT(*) FROM messages WHERE chat_id=?",
                               (chat_id,)).fetchone()[0]
            matched = total if not where.active else db.execute(
                f"SELECT COUNT(*) FROM messages WHERE {cond}", args).fetchone()[0]
            rows = db.execute(f"SELECT record FROM messages WHERE {cond} {order} "
                              "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return self._to_messages(chat_id, [r[0] for r in rows]), matched, total

    def position(self, chat_id: int, message_id: str,
                 where: MessageFilter | None = None) -> int | None:
        """How many matching messages come before this one (None when it doesn't match)."""
        where = where or MessageFilter()
        cond, args = where.where(chat_id)
        with self._connect() as db:
            row = db.execute(f"SELECT ts, seq FROM messages WHERE {cond} "
                             "AND identity BETWEEN ? AND ?",
                             [*args, *_id_range(message_id)]).fetchone()
            if row is None:
                return None
            ts, seq = row
            if ts is None:
                before = ("(ts IS NOT NULL OR seq < ?)", [seq])
            else:
                before = ("(ts IS NOT NULL AND (ts < ? OR (ts = ? AND seq < ?)))", [ts, ts, seq])
            return int(db.execute(f"SELECT COUNT(*) FROM messages WHERE {cond} AND {before[0]}",
                                  [*args, *before[1]]).fetchone()[0])

    def _to_messages(self, chat_id: int, records: list[str]) -> list[Message]:
        # The canonical JSONL reader turns stored records back into messages, codes included.
        # Its reader is used alone: a page may hold one sender only, which a whole import
        # (read_export) would rightly refuse.
        from heard.ingest import ImportReport, Input, ReadOptions, readers

        if not records:
            return []
        spool = io.BytesIO(("\n".join(records) + "\n").encode("utf-8"))
        source = Input(None, name=f"store:{chat_id}", spool=spool)
        reader = readers()["jsonl"]
        return list(reader.read(source, ReadOptions(), ImportReport(path=source.name)))

    # ------------------------------------------------------------------ safety flags

    def dismiss_flag(self, chat_id: int, message_id: str) -> None:
        """Mark a safety flag "not what this means" (kept, dated, and listed as dismissed)."""
        self.chat(chat_id)
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO safety_dismissals VALUES (?, ?, ?)",
                       (chat_id, message_id, _now()))

    def restore_flag(self, chat_id: int, message_id: str) -> bool:
        """Undo :meth:`dismiss_flag`. False when the flag was not dismissed."""
        with self._connect() as db:
            n = db.execute("DELETE FROM safety_dismissals WHERE chat_id=? AND message_id=?",
                           (chat_id, message_id)).rowcount
        return bool(n)

    def dismissed(self, chat_id: int) -> dict[str, str]:
        """message_id → when its flag was marked "not what this means" (ISO time, UTC)."""
        with self._connect() as db:
            rows = db.execute("SELECT message_id, at FROM safety_dismissals WHERE chat_id=?",
                              (chat_id,)).fetchall()
        return dict(rows)

    def stored_analysis(self, chat_id: int) -> dict[str, Any] | None:
        """The analysis JSON saved at the last import (what ``heard analyze --json`` writes)."""
        with self._connect() as db:
            row = db.execute("SELECT data FROM analyses WHERE chat_id=?", (chat_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def counts(self) -> dict[str, int]:
        """Rows per table (tests and the delete confirmation use it)."""
        with self._connect() as db:
            return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("chats", "imports", "messages", "analyses",
                              "safety_dismissals")}

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
