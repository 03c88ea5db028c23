"""Writing to the store: an import's messages, then their codes and the analysis.

* **Idempotent import.** A message's identity is a hash of (conversation key, sender, time,
  kind, text, and how many identical messages came before it in the same export), so a newer
  export of the same chat adds only the messages that are new, whatever ids the export gives.
  A chat's key is its format and its two senders.
* **One engine per process.** The default coder is loaded once (:func:`load_coder`) and
  shared by every import.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.errors import EmptyInputError
from heard.model import Corpus, Message, codes_from_list, message_to_record, record_to_json

if TYPE_CHECKING:
    from heard.app._store import Store
    from heard.ingest import ReadOptions

__all__ = ["ImportResult", "Progress", "id_range", "import_export", "load_coder",
           "recode", "utc_now"]

#: Called with (stage, done, total) while an import runs; stage is "reading", "saving",
#: "coding" or "analyzing", and done/total are message counts where they are known.
Progress = Callable[[str, int | None, int | None], None]


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


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _chat_key(fmt: str, senders: Sequence[str]) -> str:
    return f"{fmt}:" + "\x1f".join(sorted(senders))


def id_range(message_id: str) -> tuple[str, str]:
    """The identities that start with a message id (hex digits sort below "g")."""
    return message_id, message_id + "g"


def _identity(key: str, m: Message, ts: str, occurrence: int) -> str:
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


def import_export(store: Store, path: str | Path, *, filename: str | None = None,
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
    now = utc_now()
    seen: Counter[tuple[str, str, str, str]] = Counter()
    ids: dict[str, str] = {}
    identities = []
    for m in messages:
        ts_key = m.timestamp.isoformat() if m.timestamp else ""
        tup = (m.sender, ts_key, m.kind, m.text)
        identity = _identity(key, m, ts_key, seen[tup])
        seen[tup] += 1
        ids[m.message_id] = identity[:20]
        identities.append(identity)
    records = []
    for identity, m in zip(identities, messages, strict=True):
        record = message_to_record(m, with_codes=False)
        record["message_id"] = identity[:20]
        if m.reply_to is not None:
            record["reply_to"] = ids.get(m.reply_to, m.reply_to)
        records.append((identity, m.timestamp.timestamp() if m.timestamp else None,
                        record_to_json(record)))
    title = " and ".join(senders) if senders else (filename or "conversation")
    # Phase 1, one transaction: the conversation, its new messages and the import's record
    # are stored together or not at all. IMMEDIATE takes the write lock first, so two imports
    # of one new conversation can't both create it, nor both number their messages from the
    # same seq.
    with store._connect() as db:
        db.execute("BEGIN IMMEDIATE")
        created = db.execute(
            "INSERT INTO chats (key, title, format, senders, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
            (key, title, fmt, json.dumps(senders), now, now)).rowcount == 1
        chat_id, title = db.execute("SELECT id, title FROM chats WHERE key=?", (key,)).fetchone()
        seq0 = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE chat_id=?",
                          (chat_id,)).fetchone()[0]
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO messages (chat_id, identity, ts, seq, record) "
                       "VALUES (?, ?, ?, ?, ?)",
                       ((chat_id, identity, ts, seq0 + i, rec)
                        for i, (identity, ts, rec) in enumerate(records)))
        added = db.total_changes - before
        already = len(records) - added
        db.execute("INSERT INTO imports (chat_id, at, filename, format, added, already, "
                   "report) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (chat_id, now, filename or str(path), fmt, added, already,
                    json.dumps(report, ensure_ascii=False)))
        if added:
            db.execute("UPDATE chats SET updated=?, revision=revision+1 WHERE id=?",
                       (now, chat_id))
        ready = _ready(db, chat_id)
    # Phase 2 (recode) stores the codes and the analysis in one more transaction. A kill
    # between the two leaves the messages without an analysis of their revision: the chat is
    # marked not ready (E521, never an error page), and importing the same file again, or
    # the next server start, finishes it here.
    if added or created or not ready:
        recode(store, chat_id, say)
    return ImportResult(chat_id=chat_id, title=title, format=fmt, added=added,
                        already=already, report=report, created=created)

def _ready(db: Any, chat_id: int) -> bool:
    """The chat's analysis is of its current messages (False after an interrupted import)."""
    return bool(db.execute(
        "SELECT EXISTS (SELECT 1 FROM analyses a JOIN chats c ON c.id = a.chat_id "
        "WHERE c.id=? AND a.revision = c.revision)", (chat_id,)).fetchone()[0])


def recode(store: Store, chat_id: int, say: Progress) -> None:
    """Code the whole chat (codes depend on the messages before) and store its analysis.

    The codes, the engine and the analysis are written in one transaction, so a chat has
    either all three of its current revision or none. The engine is recorded with the chat,
    so the analysis (which reads the stored codes) names the coder that made them and quotes
    its measured accuracy.
    """
    with store._connect() as db:
        rev = db.execute("SELECT revision FROM chats WHERE id=?", (chat_id,)).fetchone()[0]
    corpus = store._read_corpus(chat_id, with_codes=False)
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
        rows.append((record_to_json(record), chat_id, *id_range(m.message_id)))
    say("analyzing", n, n)
    # analyze the coded messages in memory: reading them back from the file would give
    # the same messages, seconds later
    analysis = store._analyze(chat_id, corpus, coder=(type(engine).__name__, measured))
    data = json.dumps(analysis.to_dict(), ensure_ascii=False, default=str)
    with store._connect() as db:
        db.execute("BEGIN IMMEDIATE")
        # a message id is the first 20 hex digits of its identity: a range on the
        # (chat_id, identity) index finds the row without scanning the chat each time
        db.executemany("UPDATE messages SET record=? WHERE chat_id=? "
                       "AND identity BETWEEN ? AND ?", rows)
        db.execute("UPDATE chats SET coder=?, coder_measured=? WHERE id=?",
                   (type(engine).__name__,
                    json.dumps(measured) if measured is not None else None, chat_id))
        db.execute("INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?)",
                   (chat_id, rev, utc_now(), data))
