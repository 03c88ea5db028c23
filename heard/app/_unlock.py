"""The app's lock: set a passphrase at first start, unlock at later starts, lock when idle.

:class:`Keyring` holds the one thing that opens the store, the key, and only in this process's
memory; :mod:`heard.app._lock_pages` adds its pages and a gate to the app. A data folder is:

``new``        no store yet: the first page asks for a passphrase, twice (:data:`MIN_PASSPHRASE`)
``plaintext``  a store from before encryption: the page offers to encrypt it (nothing is lost)
``locked``     an encrypted store: the page asks for the passphrase
``unlocked``   the key is in memory; every page works
``missing-key`` an encrypted store without its key file (E533): it can only be deleted
``open``       started with ``--no-encryption``: no lock at all

Until the store is unlocked, every page but the lock pages and the static files answers with a
redirect to ``/unlock`` (JSON requests get 423). After ``idle_seconds`` with no request, or on
"Lock now", the key is overwritten and dropped with the store object and its caches; a small
script (``/unlock/lock.js``) then swaps any open page for the lock screen. Wrong guesses are
slowed: one at a time (Argon2id takes about 0.2 s and 64 MiB), free for the first three, then
a wait that doubles from 2 s up to 5 minutes. The waits live in this process only: someone
who can copy the files can guess offline anyway, which is why the passphrase's length matters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from heard.app import _vault as vault
from heard.errors import HeardError, InputError, OptionError

__all__ = ["IDLE_SECONDS", "Keyring", "Locked", "LockedStore", "needs_passphrase", "open_store"]

#: Default idle time before the lock screen (``heard serve --lock-after`` changes it).
IDLE_SECONDS = 15 * 60
#: Wrong guesses allowed before waits begin, the first wait, and the longest.
_FREE_GUESSES, _FIRST_WAIT_S, _MAX_WAIT_S = 3, 2.0, 300.0


class Locked(InputError):
    """The store was asked for while the app is locked (the app answers with the lock page)."""


class Keyring:
    """The key of one data folder while the app runs, and when to forget it.

    Parameters
    ----------
    data_dir : path
        heard's data folder.
    open_store : callable
        ``open_store(data_dir, key)`` returns the store (``key`` is None without encryption).
    encrypt : bool
        False for ``--no-encryption``: the store is opened unencrypted at once (E538 when the
        folder holds an encrypted store).
    idle_seconds : float
        Seconds without a request before the key is forgotten; 0 never locks.
    clock : callable
        Seconds from a monotonic clock (tests pass their own).
    busy : callable
        True while an import runs: the idle lock waits for it rather than break it.
    """

    def __init__(self, data_dir: str | Path, *, open_store: Callable[[Path, Any], Any],
                 encrypt: bool = True, idle_seconds: float = IDLE_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 busy: Callable[[], bool] = lambda: False) -> None:
        if not 0 <= idle_seconds < float("inf"):  # nan too
            raise OptionError.from_code("E541", value=idle_seconds / 60)
        self.data_dir = Path(data_dir)
        self.encrypt = encrypt
        self.idle_seconds = idle_seconds
        self.vault = vault.Vault(self.data_dir)
        self._open_store, self._clock, self._busy = open_store, clock, busy
        self._store: Any = None
        self._key: bytearray | None = None
        self._on_lock: list[Callable[[], None]] = []
        self._on_unlock: list[Callable[[], None]] = []
        self._last = clock()
        self._failures, self._not_before = 0, 0.0
        self._guess = threading.Lock()
        self._state_lock = threading.RLock()
        if not encrypt:
            if needs_passphrase(self.data_dir):
                raise InputError.from_code("E538", path=self.data_dir)
            self._store = open_store(self.data_dir, None)
            return
        if not vault.ENCRYPTION_AVAILABLE:
            raise InputError.from_code("E537", missing="sqlcipher3")
        vault.recover(self.data_dir)

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> str:
        """One of "open", "unlocked", "new", "plaintext", "locked", "missing-key"."""
        if not self.encrypt:
            return "open"
        with self._state_lock:
            if self._store is not None:
                if self.vault.exists():
                    return "unlocked"
                self.lock()  # the key file went (`heard forget --all` while running)
            found = vault.store_state(self.data_dir)
            return "locked" if found == "encrypted" else found

    @property
    def unlocked(self) -> bool:
        return self.state in ("open", "unlocked")

    @property
    def store(self) -> Any:
        """The open store; E540 while locked."""
        store = self._store
        if store is None:
            raise Locked.from_code("E540")
        return store

    def on_lock(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the key is forgotten (to drop caches of decrypted data)."""
        self._on_lock.append(callback)

    def on_unlock(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time the store opens (an unencrypted one: at once)."""
        self._on_unlock.append(callback)
        if self._store is not None:
            callback()

    # ------------------------------------------------------------------ activity

    def touch(self) -> None:
        """Someone used the app: the idle time starts again."""
        self._last = self._clock()

    def check_idle(self) -> bool:
        """Lock when idle long enough (and no import runs); True when this call locked."""
        if (self.encrypt and self._store is not None and self.idle_seconds > 0
                and self._clock() - self._last >= self.idle_seconds and not self._busy()):
            self.lock()
            return True
        return False

    def watch(self, every: float = 10.0) -> threading.Thread:
        """Check for idleness in the background, so the key goes on time without a request."""
        def loop() -> None:
            while True:
                time.sleep(every)
                self.check_idle()

        thread = threading.Thread(target=loop, name="heard-idle-lock", daemon=True)
        thread.start()
        return thread

    def lock(self) -> None:
        """Forget the key: overwrite it, drop the store and everything cached from it."""
        if not self.encrypt:
            return
        with self._state_lock:
            key, self._key, self._store = self._key, None, None
            vault.wipe(key)
            for callback in self._on_lock:
                callback()

    def forgotten(self) -> None:
        """Everything was deleted (``forget_all``): start over as a new folder."""
        if self.encrypt:
            self.lock()
        else:
            self._store = self._open_store(self.data_dir, None)

    # ------------------------------------------------------------------ passphrases

    def wait_seconds(self) -> int:
        """Seconds before the next guess is taken (0: now)."""
        left = self._not_before - self._clock()
        return max(0, int(left + 0.999))

    def setup(self, passphrase: str, again: str) -> None:
        """Set the first passphrase; encrypts a plaintext store when there is one."""
        with self._state_lock:
            state = self.state
            if state not in ("new", "plaintext") or self.vault.exists():
                raise InputError.from_code("E530")  # pragma: no cover - the page never offers
            if passphrase != again:
                raise InputError.from_code("E535")
            key = self.vault.create(passphrase)
            if state == "plaintext":
                vault.encrypt_plaintext(self.data_dir, key)
            self._opened(key)

    def unlock(self, passphrase: str) -> None:
        """Open the store with ``passphrase``: E530 when wrong, E536 when guessing too fast."""
        wait = self.wait_seconds()
        if wait or not self._guess.acquire(blocking=False):
            raise InputError.from_code("E536", seconds=max(wait, 1))
        try:
            try:
                key = self.vault.open(passphrase)
            except InputError as exc:
                if exc.code == "E530":
                    self._failed()
                raise
            self._failures, self._not_before = 0, 0.0
            with self._state_lock:
                if vault.store_state(self.data_dir) == "plaintext":
                    vault.encrypt_plaintext(self.data_dir, key)  # finish an interrupted one
                try:
                    self.vault.verify_store(key)
                except HeardError:
                    vault.wipe(key)
                    raise
                self._opened(key)
        finally:
            self._guess.release()

    def _failed(self) -> None:
        self._failures += 1
        over = self._failures - _FREE_GUESSES
        if over > 0:
            wait = min(_FIRST_WAIT_S * 2 ** (over - 1), _MAX_WAIT_S)
            self._not_before = self._clock() + wait

    def _opened(self, key: bytearray) -> None:
        try:
            self._store = self._open_store(self.data_dir, key)
        except BaseException:
            vault.wipe(key)
            raise
        self._key = key
        # plain uploads an unencrypted heard left in the folder (a crashed import) go now
        vault.shred_tree(self.data_dir / "uploads")
        self.touch()
        for callback in self._on_unlock:
            callback()

    def reset(self) -> list[Path]:
        """Delete everything in the data folder (a forgotten passphrase); returns what went."""
        from heard.app import forget_all

        self.lock()
        return forget_all(self.data_dir)


class LockedStore:
    """Stands where the app's routes expect the store: forwards to the open one (E540 if none)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def __getattr__(self, name: str) -> Any:
        return getattr(self._keyring.store, name)

    @property
    def data_dir(self) -> Path:
        return self._keyring.data_dir


# ---------------------------------------------------------------------- command line


def needs_passphrase(data_dir: str | Path) -> bool:
    """True when the store in ``data_dir`` is encrypted (the command line must ask)."""
    return vault.store_state(data_dir) in ("encrypted", "missing-key")


def open_store(data_dir: str | Path, passphrase: str | None = None) -> Any:
    """The store in ``data_dir`` for the command line (``heard forget``), unlocked with
    ``passphrase`` when it is encrypted (E539 without one, E530 when wrong, E533 keyless)."""
    from heard.app._store import Store

    folder = Path(data_dir)
    state = vault.store_state(folder)
    if state == "missing-key":
        raise InputError.from_code("E533", path=folder / vault.DB_NAME)
    if state != "encrypted":
        return Store(folder)
    if passphrase is None:
        raise InputError.from_code("E539", path=folder)
    v = vault.Vault(folder)
    key = v.open(passphrase)
    v.verify_store(key)
    return Store(folder, key=key)
