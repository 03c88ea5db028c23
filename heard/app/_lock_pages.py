"""The lock pages (``/unlock``, ``/unlock/setup``, ``/lock``, ...) and the gate in front of the app.

What they do and why is told in :mod:`heard.app._unlock`; this module is only the web side:
the gate sends every request but these pages and the static files to ``/unlock`` while the
store is locked (JSON requests get 423), and counts requests as activity for the idle lock.
The pages use the app's own CSRF check, so they are forms like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from heard._version import __version__
from heard.app import _vault as vault
from heard.app._failures import wants_json
from heard.app._unlock import Keyring, Locked
from heard.app._views import env
from heard.errors import E, InputError

__all__ = ["install"]

#: Requests that neither need the key nor count as someone using the app.
_QUIET = frozenset({"/unlock/state", "/unlock/lock.js", "/unlock/lock.css"})
#: ``/safety`` holds no one's data, only help: someone at risk can reach it while heard is locked.
_OPEN_PATHS = frozenset({"/unlock", "/unlock/setup", "/unlock/reset", "/safety"}) | _QUIET
_DELETED = ("Everything heard stored on this computer was deleted, its key too. Choose a "
            "passphrase to start again (it can be a new one).")


def _safe_next(target: str) -> str:
    """Only a path on this server (never ``//host`` or a scheme) is followed after unlocking."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target if not target.startswith("/unlock") else "/"
    return "/"


class _Gate:
    """ASGI: while locked, send every request but the lock pages to ``/unlock``."""

    def __init__(self, app: Any, keyring: Keyring) -> None:
        self.app, self.keyring = app, keyring

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        k = self.keyring
        k.check_idle()
        if path.startswith("/static/") or path in _OPEN_PATHS or k.unlocked:
            if path not in _QUIET and not path.startswith("/static/") and k.unlocked:
                k.touch()
            await self.app(scope, receive, send)
            return
        response: Any
        if wants_json(Request(scope)):
            response = JSONResponse({"error": E.E540, "locked": True}, status_code=423)
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            back = path + (f"?{query}" if query else "")
            where = "/unlock" + (f"?next={quote(back, safe='')}" if back != "/" else "")
            response = RedirectResponse(where, status_code=303)
        await response(scope, receive, send)


def install(app: FastAPI, keyring: Keyring, *, csrf_ok: Callable[[Any, str | None], bool]) -> None:
    """Add the lock pages and the gate to ``app`` (the gate runs inside the app's own guard,
    so the host check, access token, CSRF cookie and headers apply to the lock pages too)."""
    # innermost: after the app's guard has checked the host and set the CSRF token
    app.user_middleware.append(Middleware(_Gate, keyring=keyring))

    async def locked_meanwhile(request: Request, exc: Exception) -> Response:
        # the idle lock came between the gate and the route: the same answer as the gate's
        if request.url.path.startswith("/api/") or request.headers.get("x-heard-async"):
            return JSONResponse({"error": E.E540, "locked": True}, status_code=423)
        return RedirectResponse("/unlock", status_code=303)

    app.add_exception_handler(Locked, locked_meanwhile)

    def render(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
        state = keyring.state
        template = "unlock_setup.j2" if state in ("new",) or (
            state == "plaintext" and not keyring.vault.exists()) else "unlock.j2"
        ctx.setdefault("error", None)
        ctx.setdefault("notice", None)
        html = env().get_template(template).render(
            csrf=getattr(request.state, "csrf", ""), version=__version__, state=state,
            min_length=vault.MIN_PASSPHRASE, data_dir=str(keyring.data_dir),
            **({"next": _safe_next(request.query_params.get("next", "/"))} | ctx))
        return HTMLResponse(html, status_code=status)

    async def form_of(request: Request) -> tuple[Any, bool]:
        form = await request.form(max_files=0, max_fields=8)
        return form, csrf_ok(request, str(form.get("csrf") or ""))

    def refused(request: Request) -> HTMLResponse:
        return render(request, 403, error=E.E505)

    @app.get("/unlock", response_class=HTMLResponse)
    def unlock_page(request: Request) -> Response:
        if keyring.unlocked:
            return RedirectResponse(_safe_next(request.query_params.get("next", "/")), 303)
        error = notice = None
        if keyring.state == "missing-key":
            error = str(InputError.from_code("E533", path=keyring.data_dir / vault.DB_NAME))
        if request.query_params.get("deleted") == "1" and keyring.state == "new":
            notice = _DELETED
        return render(request, error=error, notice=notice)

    @app.post("/unlock", response_class=HTMLResponse)
    async def unlock_post(request: Request) -> Response:
        form, ok = await form_of(request)
        if not ok:
            return refused(request)
        target = _safe_next(str(form.get("next") or "/"))
        if keyring.unlocked:
            return RedirectResponse(target, 303)
        try:
            await run_in_threadpool(keyring.unlock, str(form.get("passphrase") or ""))
        except InputError as exc:
            status = {"E530": 401, "E536": 429}.get(exc.code, 409)
            return render(request, status, error=str(exc), next=target)
        return RedirectResponse(target, 303)

    @app.post("/unlock/setup", response_class=HTMLResponse)
    async def setup_post(request: Request) -> Response:
        form, ok = await form_of(request)
        if not ok:
            return refused(request)
        if keyring.unlocked:
            return RedirectResponse("/", 303)
        if keyring.state not in ("new", "plaintext") or keyring.vault.exists():
            return RedirectResponse("/unlock", 303)
        try:
            await run_in_threadpool(keyring.setup, str(form.get("passphrase") or ""),
                                    str(form.get("again") or ""))
        except InputError as exc:
            return render(request, 400, error=str(exc))
        return RedirectResponse("/", 303)

    @app.post("/unlock/reset", response_class=HTMLResponse)
    async def reset_post(request: Request) -> Response:
        form, ok = await form_of(request)
        if not ok:
            return refused(request)
        if keyring.unlocked or form.get("confirm") != "yes":
            return RedirectResponse("/unlock", 303)
        await run_in_threadpool(keyring.reset)
        return render(request, notice=_DELETED)

    @app.post("/lock")
    async def lock_now(request: Request) -> Response:
        _, ok = await form_of(request)
        if not ok:
            return refused(request)
        keyring.lock()
        return RedirectResponse("/unlock", 303)

    @app.get("/unlock/state")
    def lock_state() -> JSONResponse:
        return JSONResponse({"locked": not keyring.unlocked,
                             "encrypted": keyring.encrypt,
                             "idle_seconds": keyring.idle_seconds})

    @app.post("/unlock/alive")
    def alive(request: Request) -> Response:
        # the page reports that someone is reading or typing (the gate has touched the clock)
        if not csrf_ok(request, None):
            return Response(status_code=403)
        return Response(status_code=204)

    @app.get("/unlock/{name}")
    def asset(name: str) -> Response:
        types = {"lock.js": "text/javascript", "lock.css": "text/css"}
        if name not in types:
            return Response("not found", status_code=404, media_type="text/plain")
        body = (resources.files("heard.app") / "static" / name).read_bytes()
        return Response(body, media_type=types[name])
