"""``heard serve``: a FastAPI app over :mod:`heard.api`, the store and the pre-send check.

The app is put together here; each concept lives in its own module:

* :mod:`heard.app._security`: host check, access token, origin, CSRF, body limit, headers;
* :mod:`heard.app._failures`: numbered error pages (404, 405, 413, 422, 500) with the headers;
* :mod:`heard.app._folder`: one server per data folder, and uploads a killed one left;
* :mod:`heard.app._views`: templates and what several pages show;
* :mod:`heard.app._routes_import`: the upload and its job;
* :mod:`heard.app._routes_chat`: a conversation's pages, downloads, flags and delete;
* :mod:`heard.app._routes_tools`: the check, codebook, safety, forget-all and static files.

Imports run on a worker thread (:mod:`heard.app._jobs`) so every page stays responsive.
"""

from __future__ import annotations

import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.formparsers import MultiPartParser

from heard.app._failures import add_error_pages
from heard.app._folder import clear_uploads, hold_folder
from heard.app._jobs import Jobs
from heard.app._lock_pages import install
from heard.app._routes_chat import add_chat_routes
from heard.app._routes_import import add_import_routes
from heard.app._routes_tools import add_tool_routes
from heard.app._security import add_body_limit, add_guard, body_cap, csrf_ok, is_loopback
from heard.app._store import Store, default_data_dir, load_coder
from heard.app._unlock import IDLE_SECONDS, Keyring, LockedStore
from heard.app._vault import upload_path
from heard.app._views import Views
from heard.report import forget_contexts

__all__ = ["create_app", "is_loopback", "serve"]


def create_app(*, data_dir: str | Path | None = None, max_upload_mb: float = 200,
               access_token: str | None = None,
               allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1",
                                                 "testserver"),
               encrypt: bool = True, idle_seconds: float = IDLE_SECONDS,
               clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """Build the app.

    Parameters
    ----------
    data_dir : path, optional
        The store's folder (default: the user data folder, or ``$HEARD_DATA_DIR``).
    max_upload_mb : float
        Largest upload accepted.
    access_token : str, optional
        When set, every request needs it (``?token=`` once, then a cookie).
    allowed_hosts : tuple of str
        Host header values served (others get 400).
    encrypt : bool
        Keep the store encrypted under a passphrase (:mod:`heard.app._unlock`); False is
        ``heard serve --no-encryption``.
    idle_seconds : float
        Lock (forget the key) after this long without a request; 0 never locks.
    clock : callable
        The idle lock's monotonic clock (tests pass their own).
    """
    limit = int(max_upload_mb * 1024 * 1024)
    # Starlette spools an upload over 1 MB to the system's temp folder, on disk and unencrypted,
    # while it arrives: keep it in memory up to the upload limit instead (the body limit refuses
    # anything larger), so an export never touches the disk outside the store's upload folder
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size,
                                         body_cap("/import", limit))
    app = FastAPI(title="heard", docs_url=None, redoc_url=None, openapi_url=None)
    jobs = Jobs()
    app.state.jobs = jobs
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    hold_folder(folder)  # one server per data folder (E520)
    clear_uploads(folder / "uploads", upload_path(folder))  # what a killed server left
    keyring = Keyring(folder, open_store=lambda d, key: Store(d, key=key), encrypt=encrypt,
                      idle_seconds=idle_seconds, clock=clock, busy=jobs.running)
    keyring.on_lock(forget_contexts)  # the report caches contexts: none outlives a lock
    app.state.keyring = keyring
    # the routes reach the store through this: the open one, or E540 while locked
    store = LockedStore(keyring)
    app.state.store = store
    views = Views(store, max_upload_mb)

    add_guard(app, allowed_hosts=allowed_hosts, access_token=access_token)
    install(app, keyring, csrf_ok=csrf_ok)
    add_import_routes(app, views, jobs, limit=limit)
    add_chat_routes(app, views)
    add_tool_routes(app, views)
    add_error_pages(app, limit)
    add_body_limit(app, limit)
    return app


def serve(*, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True,
          data_dir: str | Path | None = None, max_upload_mb: float = 200,
          encrypt: bool = True, lock_after_minutes: float = IDLE_SECONDS / 60) -> None:
    """Run the app with uvicorn until interrupted (``heard serve``)."""
    import uvicorn

    token = None
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")
    if not is_loopback(host):
        token = secrets.token_urlsafe(24)
        hosts = ("*",)
    app = create_app(data_dir=data_dir, max_upload_mb=max_upload_mb, access_token=token,
                     allowed_hosts=hosts if hosts != ("*",) else _AnyHost(), encrypt=encrypt,
                     idle_seconds=lock_after_minutes * 60)
    app.state.keyring.watch()  # the key goes on time even when no request comes
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    print(f"heard is running at {url}  (Ctrl+C to stop). Nothing leaves this computer.")
    if token:
        print("It listens beyond this computer, so it needs the access token in that address.")
    if encrypt:
        print("Your conversations are kept encrypted: the page asks for your passphrase.")
    else:
        print("The store is NOT encrypted (--no-encryption): anyone who can open your files "
              "can read every imported message.")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    # load the coder while the person picks a file: the first import then starts coding at once
    threading.Thread(target=load_coder, name="heard-load-coder", daemon=True).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")


class _AnyHost(tuple):
    """Every Host header (used only with an access token, when bound beyond loopback)."""

    def __contains__(self, item: object) -> bool:
        return True
