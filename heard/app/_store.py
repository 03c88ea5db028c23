"""The local store: imported conversations, their coded messages and analyses, in one SQLite file.

It lives in the user's data directory (platformdirs; ``HEARD_DATA_DIR`` or ``--data-dir``
override it) and nowhere else. The file, its schema and how it is opened are in
:mod:`heard.app._db`; writing an import in :mod:`heard.app._saving`; this module reads.

* **Real delete.** Deleting a conversation cascades to its messages, imports and analyses,
  and the file is vacuumed so the text is gone from it.
* **Filtered reads in SQL** (:class:`~heard.app._filter.MessageFilter`): the messages page
  asks for one page of matches.
* **Safety flags are never dropped.** A person may mark a flag "not what this means"
  (:meth:`Store.dismiss_flag`); it is kept with the date and can be restored.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.app._db import DB_NAME, SCHEMA_VERSION, default_data_dir, forget_all, migrate, open_db
from heard.app._filter import MessageFilter
from heard.app._folder import relock
from heard.app._saving import ImportResult, Progress, id_range, import_export, load_coder, utc_now
from heard.app._unlock import needs_passphrase
from heard.app._vault import dbapi as sqlite3  # SQLCipher's drop-in for sqlite3 (see _vault)
from heard.app._vault import upload_dir
from heard.errors import InputError
from heard.model import Corpus, Message, record_to_json

if TYPE_CHECKING:
    from heard.api import Analysis
    from heard.ingest import ReadOptions

__all__ = ["DB_NAME", "SCHEMA_VERSION", "ImportResult", "MessageFilter", "Progress", "Store",
           "default_data_dir", "forget_all", "load_coder"]

#: Permutations of the sequential tests when a stored chat is analyzed (the CLI's default is
#: 1000; 200 keeps a page view fast and the baseline still stable to about a percent).
APP_PERMUTATIONS = 200


class Store:
    """heard's SQLite store in ``data_dir`` (created on first use).

    Parameters
    ----------
    data_dir : path, optional
        Default: :func:`default_data_dir`.
    key : bytearray, optional
        The store's key when it is encrypted (:mod:`heard.app._vault`); held, never written.
    """

    def __init__(self, data_dir: str | Path | None = None, *,
                 key: bytearray | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.path = self.data_dir / DB_NAME
        self._key = key
        self._cache: dict[int, tuple[int, Analysis]] = {}
        if key is None and needs_passphrase(self.data_dir):
            raise InputError.from_code("E539", path=self.data_dir)  # not "file is not a db"
        self._open()

    def _open(self) -> None:
        """Create the folder and the tables, or bring an older store up to date."""
        self._cache.clear()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            relock(self.data_dir)  # a server keeps its folder locked when the store is new
            db = open_db(self.path, key=self._key)
            try:
                with db:
                    migrate(db, self.path)
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise InputError.from_code("E510", path=self.path, detail=exc) from exc
        except PermissionError as exc:
            raise InputError.from_code("E510", path=self.path, detail=exc.strerror) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self._key is None and not self.path.exists():
            # `heard forget --all` ran while this server did: start a fresh, empty store
            # rather than fail on a file without tables (an encrypted one locks instead)
            self._open()
        db = open_db(self.path, key=self._key)
        try:
            with db:
                yield db
        finally:
            db.close()

    @property
    def upload_dir(self) -> Path:
        """Where uploads wait while they are read (each is deleted right after)."""
        if self._key is not None:  # never in an encrypted store's folder: see upload_path
            return upload_dir(self.data_dir)
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
        return import_export(self, path, filename=filename, options=options, format=format,
                             progress=progress)

    # ------------------------------------------------------------------ read

    def chats(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Every stored conversation (or the one ``chat_id``): id, title, format, senders,
        counts, dates."""
        if chat_id is not None and not -(2**63) <= chat_id < 2**63:
            return []  # no row has an id SQLite can't even hold
        where, args = ("WHERE c.id=? ", (chat_id,)) if chat_id is not None else ("", ())
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.format, c.senders, c.created, c.updated, c.revision, "
                "(SELECT COUNT(*) FROM messages m WHERE m.chat_id=c.id), "
                "EXISTS (SELECT 1 FROM analyses a WHERE a.chat_id=c.id "
                "AND a.revision=c.revision) "
                f"FROM chats c {where}ORDER BY c.updated DESC, c.id DESC", args).fetchall()
        # ready: its codes and analysis are of its current messages (an import that was
        # killed before it finished leaves it not ready until it is imported again)
        return [{"id": r[0], "title": r[1], "format": r[2], "senders": json.loads(r[3]),
                 "created": r[4], "updated": r[5], "revision": r[6], "messages": r[7],
                 "ready": bool(r[8])} for r in rows]

    def chat(self, chat_id: int) -> dict[str, Any]:
        """One conversation's summary and its imports (E507 when there is none)."""
        found = self.chats(chat_id)
        if not found:
            raise InputError.from_code("E507", key=chat_id)
        with self._connect() as db:
            imps = db.execute(
                "SELECT at, filename, format, added, already, report FROM imports "
                "WHERE chat_id=? ORDER BY id", (chat_id,)).fetchall()
        found[0]["imports"] = [{"at": r[0], "filename": r[1], "format": r[2], "added": r[3],
                                "already": r[4], "report": json.loads(r[5])} for r in imps]
        return found[0]

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
        if not info["ready"]:
            raise InputError.from_code("E521", title=info["title"])
        cached = self._cache.get(chat_id)
        if cached is not None and cached[0] == info["revision"]:
            return cached[1]
        return self._analyze(chat_id, self.corpus(chat_id), info)

    def _analyze(self, chat_id: int, corpus: Corpus, info: dict[str, Any] | None = None,
                 coder: tuple[str, Any] | None = None) -> Analysis:
        from heard.api import analyze, coder_settings

        info = info or self.chat(chat_id)
        corpus.meta["imports"] = [i["report"] for i in info["imports"]]
        result = analyze(corpus, given_codes=True, n_permutations=APP_PERMUTATIONS,
                         generated_at=datetime.fromisoformat(info["updated"]))
        name, measured = coder or self._coder(chat_id)
        if name:
            # the codes were stored by heard's own coder at import, not given by the person
            result = replace(result, coder=name,
                             settings={**result.settings, "coder_measured": measured,
                                       **coder_settings(name)})
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
                             [*args, *id_range(message_id)]).fetchone()
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
                       (chat_id, message_id, utc_now()))

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
        if not 0 < chat_id < 2**63:  # SQLite's integers: a larger id can't be stored
            return False
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
        db = open_db(self.path, autocommit=True, key=self._key)
        try:
            yield db
        finally:
            db.close()
