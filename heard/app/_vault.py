"""The store's encryption at rest: a key from a passphrase, and encrypted SQLite connections.

heard keeps every imported message in one SQLite file. With a passphrase set (the app's
default) that file is a SQLCipher database: every page of it, and of its journal and
write-ahead log, is AES-256 encrypted and authenticated (HMAC-SHA512), so nothing in the data
folder can be read without the passphrase. Design points:

* **The key comes from the passphrase through Argon2id** (``argon2-cffi``'s ``hash_secret_raw``;
  RFC 9106's second recommended setting: 3 passes over 64 MiB, 4 lanes, a 16-byte random salt,
  a 32-byte key; about 0.2 s on a laptop core). It is handed to SQLCipher as a *raw* key
  (``PRAGMA key = "x'…'"``), so SQLCipher skips its own PBKDF2 and each connection opens in
  microseconds; the memory-hard work is done once, at unlock.
* **Only non-secret material is written**: the salt, the KDF's settings and a check value
  (HMAC-SHA256 of a fixed label under the key) in ``heard.key.json``. The check tells a wrong
  passphrase (E530) from a damaged store (E531): with SQLCipher both read as "not a database".
  It gives a guesser nothing the encrypted file does not already give (SQLCipher's page HMAC
  checks a guess just as well). The passphrase and key are never written anywhere.
* **No recovery**: there is no second copy of the key. A forgotten passphrase means the store
  can only be deleted (``heard forget --all``, which destroys the key file too).
* **A plaintext store is converted, never lost** (:func:`encrypt_plaintext`): SQLCipher's
  ``sqlcipher_export`` copies it into a new encrypted file, which is checked table by table
  before the old file is overwritten and removed. Each step leaves either the old file or the
  new one in place, and :func:`recover` finishes or undoes a conversion a crash interrupted.

SQLCipher comes from ``sqlcipher3-binary`` (Linux) or ``sqlcipher3-wheels`` (macOS, Windows);
its ``dbapi2`` is a drop-in for :mod:`sqlite3` and also opens plain SQLite files when no key is
given, so the store always uses :data:`dbapi`. Without it (an install without the ``app``
extra), :data:`dbapi` is the standard library's :mod:`sqlite3` and encryption is unavailable
(E537).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
import unicodedata
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from heard.errors import InputError, OptionError

__all__ = ["DB_NAME", "ENCRYPTION_AVAILABLE", "KEY_NAME", "MIN_PASSPHRASE", "OWNED",
           "KdfParams", "Vault", "connect", "dbapi", "derive_key", "encrypt_plaintext",
           "is_plaintext", "recover", "shred", "shred_tree", "store_state", "upload_dir",
           "upload_path", "wipe"]

try:
    from sqlcipher3 import dbapi2 as _sqlcipher
except ImportError:  # pragma: no cover - the app extra brings it
    _sqlcipher = None

import sqlite3 as _sqlite3

#: The DB-API module every store connection comes from (SQLCipher's when installed).
dbapi: ModuleType = _sqlcipher if _sqlcipher is not None else _sqlite3
ENCRYPTION_AVAILABLE = _sqlcipher is not None

DB_NAME = "heard.sqlite3"
#: The non-secret key file: salt, KDF settings, check value.
KEY_NAME = "heard.key.json"
#: Where a conversion writes the encrypted copy, and where the old plaintext waits to be shredded.
ENCRYPTING_NAME, PLAINTEXT_OLD_NAME = f"{DB_NAME}.encrypting", f"{DB_NAME}.plaintext-old"
#: Shortest passphrase accepted: long enough that a few words are needed, short enough to type.
MIN_PASSPHRASE = 10
_FORMAT = "heard.vault.v1"
_CHECK_LABEL = b"heard: this key opens this store"
_SQLITE_HEADER = b"SQLite format 3\x00"
_JOURNALS = ("-journal", "-wal", "-shm")
#: What encryption may add to the data folder (``forget_all`` removes these too; the key first).
OWNED = (KEY_NAME, f"{KEY_NAME}.tmp", ENCRYPTING_NAME, PLAINTEXT_OLD_NAME,
         *(f"{n}{s}" for n in (ENCRYPTING_NAME, PLAINTEXT_OLD_NAME) for s in _JOURNALS))


@dataclass(frozen=True)
class KdfParams:
    """Argon2id's settings (RFC 9106, second recommended option) and the store's salt."""

    salt: str  # base64
    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4
    hash_len: int = 32

    @classmethod
    def new(cls) -> KdfParams:
        return cls(salt=base64.b64encode(secrets.token_bytes(16)).decode("ascii"))


def _need_crypto() -> None:
    if not ENCRYPTION_AVAILABLE:
        raise OptionError.from_code("E537", missing="sqlcipher3")
    try:
        import argon2  # noqa: F401
    except ImportError:
        raise OptionError.from_code("E537", missing="argon2-cffi") from None


def derive_key(passphrase: str, params: KdfParams) -> bytearray:
    """The 32-byte store key for ``passphrase`` (a bytearray, so :meth:`Vault.lock` can wipe it)."""
    _need_crypto()
    from argon2.low_level import Type, hash_secret_raw

    # NFC: the same passphrase typed on another system (macOS sends NFD) gives the same key
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    raw = hash_secret_raw(secret, base64.b64decode(params.salt),
                          time_cost=params.time_cost, memory_cost=params.memory_kib,
                          parallelism=params.parallelism, hash_len=params.hash_len,
                          type=Type.ID)
    return bytearray(raw)


def _check(key: bytes | bytearray) -> str:
    return hmac.new(bytes(key), _CHECK_LABEL, hashlib.sha256).hexdigest()


def _key_pragma(key: bytes | bytearray) -> str:
    return f"PRAGMA key = \"x'{bytes(key).hex()}'\""


def connect(path: str | Path, key: bytes | bytearray | None = None, **kwargs: Any) -> Any:
    """A connection to the store at ``path``, encrypted with ``key`` when one is given.

    Temporary tables and sorts stay in memory, so nothing of the store is ever written outside
    its own (encrypted) file, journal and log.
    """
    if key is not None:
        _need_crypto()
    db = dbapi.connect(path, **kwargs)
    try:
        if key is not None:
            db.execute(_key_pragma(key))
            # SQLCipher logs a failed page check to stderr; the errors below say it better
            db.execute("PRAGMA cipher_log_level = NONE")
        db.execute("PRAGMA temp_store = MEMORY")
        if key is not None:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails on a wrong key
    except BaseException:
        db.close()
        raise
    return db


def is_plaintext(path: str | Path) -> bool:
    """True when ``path`` is an unencrypted SQLite file (SQLCipher's files have no header)."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == _SQLITE_HEADER
    except OSError:
        return False


def store_state(data_dir: str | Path) -> str:
    """What is in ``data_dir``: "new", "plaintext", "encrypted", or "missing-key".

    "plaintext" is also returned while a key file exists next to a plaintext store: a
    conversion that had written its key file but not yet its copy.
    """
    folder = Path(data_dir)
    db, key = folder / DB_NAME, folder / KEY_NAME
    if not db.exists() or db.stat().st_size == 0:
        return "encrypted" if key.exists() else "new"
    if is_plaintext(db):
        return "plaintext"
    return "encrypted" if key.exists() else "missing-key"


class Vault:
    """The key file of one data folder, and the key it opens (while unlocked).

    Parameters
    ----------
    data_dir : path
        heard's data folder.
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / KEY_NAME

    def exists(self) -> bool:
        return self.path.exists()

    def params(self) -> tuple[KdfParams, str]:
        """The stored KDF settings and check value (E532 when the file is unreadable)."""
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if data.get("format") != _FORMAT or data.get("kdf") != "argon2id":
                raise ValueError(f"format {data.get('format')!r}")
            fields = {k: data[k] for k in ("salt", "time_cost", "memory_kib", "parallelism",
                                          "hash_len")}
            params = KdfParams(**fields)
            base64.b64decode(params.salt, validate=True)
            return params, str(data["check"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError.from_code("E532", path=self.path, detail=exc) from exc

    def create(self, passphrase: str) -> bytearray:
        """Make a new key file for ``passphrase`` and return the key (E534 when too short)."""
        if len(passphrase) < MIN_PASSPHRASE:
            raise InputError.from_code("E534", n=MIN_PASSPHRASE)
        params = KdfParams.new()
        key = derive_key(passphrase, params)
        body = {"format": _FORMAT, "kdf": "argon2id", "argon2_version": 19, **asdict(params),
                "cipher": "sqlcipher4", "check": _check(key),
                "note": "Not secret: the salt and settings that turn your passphrase into the "
                        "key. Without your passphrase they open nothing."}
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.data_dir)
        return key

    def open(self, passphrase: str) -> bytearray:
        """The key for ``passphrase``; E530 when it is not the one this store was locked with."""
        params, check = self.params()
        key = derive_key(passphrase, params)
        if not hmac.compare_digest(_check(key), check):
            wipe(key)
            raise InputError.from_code("E530")
        return key

    def verify_store(self, key: bytes | bytearray) -> None:
        """Open the store with ``key`` once: E531 when the key is right but the file won't open."""
        db_path = self.data_dir / DB_NAME
        if not db_path.exists():
            return
        try:
            db = connect(db_path, key)
            try:
                db.execute("PRAGMA quick_check").fetchone()
            finally:
                db.close()
        except dbapi.DatabaseError as exc:
            raise InputError.from_code("E531", path=db_path, detail=exc) from exc

    def destroy(self) -> bool:
        """Overwrite and remove the key file (the store can't be opened afterwards)."""
        return shred(self.path)


def wipe(key: bytearray | None) -> None:
    """Overwrite a key in place (Python may still hold short-lived copies; this drops ours)."""
    if key is not None:
        for i in range(len(key)):
            key[i] = 0


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows can't open a folder
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def shred(path: str | Path) -> bool:
    """Overwrite a file with random bytes, flush it to disk, then delete it.

    On an SSD or a copy-on-write file system the old blocks may survive elsewhere on the disk;
    that is why the store is encrypted in the first place. Returns whether a file was removed.
    """
    p = Path(path)
    if not p.is_file() or p.is_symlink():
        if p.is_symlink():
            p.unlink()
            return True
        return False
    size = p.stat().st_size
    try:
        with open(p, "r+b") as f:
            left = size
            while left > 0:
                n = min(left, 1 << 20)
                f.write(secrets.token_bytes(n))
                left -= n
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass  # removing it still matters more than overwriting it
    p.unlink()
    return True


def shred_tree(folder: str | Path) -> None:
    """:func:`shred` every file under ``folder``, then remove it (symlinks are not followed)."""
    root = Path(folder)
    if root.is_symlink():
        root.unlink()
        return
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            shred(Path(dirpath) / name)
        for name in dirnames:
            p = Path(dirpath) / name
            if p.is_symlink():
                p.unlink()
            else:
                p.rmdir()
    root.rmdir()


def _tables(db: Any) -> dict[str, int]:
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def encrypt_plaintext(data_dir: str | Path, key: bytes | bytearray) -> dict[str, int]:
    """Convert the plaintext store in ``data_dir`` into an encrypted one under ``key``.

    The key file must already exist (so an interrupted conversion can be finished with the
    same passphrase). Steps, each leaving a complete store in place: copy with
    ``sqlcipher_export`` into ``heard.sqlite3.encrypting``; compare every table's row count;
    rename the plaintext aside; rename the copy into place; overwrite and delete the plaintext
    and its journals. Returns the rows per table that were carried over.
    """
    _need_crypto()
    folder = Path(data_dir)
    plain, new = folder / DB_NAME, folder / ENCRYPTING_NAME
    shred(new)  # a copy left by an interrupted conversion: start it again
    src = dbapi.connect(plain, isolation_level=None)
    try:
        src.execute("PRAGMA temp_store = MEMORY")
        # everything in the write-ahead log goes into the file first (a no-op in rollback mode)
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        rows = _tables(src)
        version = src.execute("PRAGMA user_version").fetchone()[0]
        src.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{bytes(key).hex()}'\"",
                    (str(new),))
        src.execute("SELECT sqlcipher_export('encrypted')").fetchone()
        src.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        src.execute("DETACH DATABASE encrypted")
    finally:
        src.close()
    check = connect(new, key)
    try:
        copied = _tables(check)
    finally:
        check.close()
    if copied != rows:  # pragma: no cover - sqlcipher_export copies everything or raises
        shred(new)
        raise InputError.from_code("E531", path=plain,
                                   detail=f"the encrypted copy holds {copied}, not {rows}")
    with open(new, "rb") as f:
        os.fsync(f.fileno())
    for suffix in _JOURNALS:
        # the plaintext's own journal and log, empty by now (checkpointed, connection closed)
        shred(folder / (DB_NAME + suffix))
    os.replace(plain, folder / PLAINTEXT_OLD_NAME)
    os.replace(new, plain)
    _fsync_dir(folder)
    _shred_plaintext(folder)
    return rows


def _shred_plaintext(folder: Path) -> None:
    for name in (PLAINTEXT_OLD_NAME, *(PLAINTEXT_OLD_NAME + s for s in _JOURNALS)):
        shred(folder / name)


def upload_path(data_dir: str | Path) -> Path:
    """Where uploads wait while an encrypted store imports them: outside the data folder.

    An upload is the plain export itself, so it never waits in the data folder of an encrypted
    store. On Linux it waits in ``/dev/shm`` (memory, never written to disk); elsewhere in the
    system's temporary folder. The folder is per user and per data folder, so a crashed
    server's leftovers are found and removed at the next start and by ``forget_all``.
    """
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    tag = hashlib.sha256(str(Path(data_dir).resolve()).encode("utf-8")).hexdigest()[:16]
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return base / f"heard-uploads-{user}-{tag}"


def upload_dir(data_dir: str | Path) -> Path:
    """:func:`upload_path`, created private to this user (refused if someone else made it)."""
    p = upload_path(data_dir)
    with suppress(FileExistsError):
        p.mkdir(mode=0o700)
    st = os.lstat(p)
    mine = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    if not stat.S_ISDIR(st.st_mode) or not mine or st.st_mode & 0o077:
        raise InputError.from_code("E510", path=p, detail="a folder heard didn't make is in "
                                   "its place")
    return p


def recover(data_dir: str | Path) -> None:
    """Finish or undo a conversion that a crash interrupted (run before the store is opened)."""
    folder = Path(data_dir)
    plain, old, new = folder / DB_NAME, folder / PLAINTEXT_OLD_NAME, folder / ENCRYPTING_NAME
    if old.exists():
        if plain.exists() and not is_plaintext(plain):
            _shred_plaintext(folder)  # the encrypted copy is in place: finish removing the old
        elif not plain.exists():
            os.replace(old, plain)  # the copy never got there: put the original back
    if new.exists() and (is_plaintext(plain) or not plain.exists()):
        shred(new)
