"""What every request meets before a page: host check, access token, origin, CSRF, body limit.

1. **Host check**: only the host names the server was started for (DNS-rebinding guard).
2. **Access token** when bound beyond loopback: ``?token=`` once (then a cookie), else 403.
3. **Origin**: every unsafe method (POST, PUT, PATCH, DELETE) must come from this server's own
   pages: a ``Sec-Fetch-Site`` other than ``same-origin``/``none``, or an ``Origin`` that is
   not this server, is refused (E512) before the route runs.
4. **CSRF**: the browser's cookie holds a random nonce; the token a page embeds is an HMAC of
   that nonce under a secret this process made at start, and every POST must echo it in the
   ``csrf`` form field or the ``X-CSRF-Token`` header. Cookies are shared between the ports
   of one host, so a page on another local port can plant a cookie; it still can't make the
   token that goes with it, because it never sees the secret.
5. **Body limit**: a request body is counted while it streams in and cut off at its route's
   limit (413), so a huge upload is never read in full; a Content-Length over it is refused
   before any byte is read.
6. **Headers**: a Content-Security-Policy with no inline script or style and no other origin,
   ``nosniff``, ``frame-ancestors 'none'``, no referrer, no caching, on every response,
   error pages included.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Container
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from heard._files import megabytes
from heard._net import is_loopback
from heard.errors import HeardError

__all__ = ["ACCESS_COOKIE", "API_BODY_LIMIT", "CSP", "CSRF_COOKIE", "FORM_BODY_LIMIT",
           "UNSAFE", "TooLarge", "add_body_limit", "add_guard", "body_cap", "csrf_ok", "csrf_token",
           "is_loopback", "msg", "same_origin", "secure"]

CSRF_COOKIE, ACCESS_COOKIE = "heard_csrf", "heard_access"
#: Methods that change something: they must come from this server's own pages.
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Body limits (bytes) of requests that are not uploads: the check's JSON, and plain forms.
API_BODY_LIMIT, FORM_BODY_LIMIT = 1024 * 1024, 256 * 1024
_NONCE = re.compile(r"[A-Za-z0-9_-]{32,128}")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")


def msg(number: str, **fields: Any) -> str:
    """A numbered message, filled in and numbered as a raised one reads (for a page)."""
    return str(HeardError.from_code(number, **fields))


class TooLarge(Exception):
    """The request body grew past the upload limit while it streamed in."""


def secure(response: Response) -> Response:
    """The headers every response carries."""
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cache-Control"] = "no-store"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def csrf_token(secret: bytes, nonce: str) -> str:
    """The token that goes with a browser's nonce: only this process can make it."""
    return hmac.new(secret, nonce.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, form_value: str | None) -> bool:
    """The form field (or ``X-CSRF-Token`` header) is the token of the browser's nonce."""
    expected = getattr(request.state, "csrf", None)
    given = form_value or request.headers.get("x-csrf-token")
    return bool(expected and given and request.cookies.get(CSRF_COOKIE)
                and secrets.compare_digest(expected.encode(), given.encode("utf-8", "replace")))


def same_origin(request: Request) -> bool:
    """The request comes from this server's own pages (or from no web page at all).

    ``Sec-Fetch-Site`` decides when the browser sends it (every current one does): only
    ``same-origin`` (or ``none``, typed by the person) passes; another port of this host is
    ``same-site`` and is refused. ``Origin`` must then be this server or ``null`` (the app's
    ``Referrer-Policy: no-referrer`` makes a browser send ``null`` with its own forms).
    Without ``Sec-Fetch-Site`` (an older browser) the ``Origin`` must be this server; a
    request with neither (a script, not a web page) still needs the CSRF token.
    """
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    own = origin in (f"http://{host}", f"https://{host}")
    if site is not None:
        return site in ("same-origin", "none") and (origin is None or origin == "null" or own)
    return origin is None or own


def add_guard(app: FastAPI, *, allowed_hosts: Container[str],
              access_token: str | None) -> None:
    """The host check, the access token, the origin and the CSRF nonce; the headers on the way
    out."""
    secret = secrets.token_bytes(32)  # per process: a restarted server asks for a new token

    class Guard:
        # Pure ASGI (not BaseHTTPMiddleware): the request body streams through untouched, so
        # the body limit's TooLarge reaches the route and the error pages as itself.
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.inner(scope, receive, send)
                return
            request = Request(scope)
            refused = refuse(request)
            if refused is not None:
                await secure(refused)(scope, receive, send)
                return
            nonce = request.cookies.get(CSRF_COOKIE) or ""
            new = not _NONCE.fullmatch(nonce)
            if new:
                nonce = secrets.token_urlsafe(32)
            scope.setdefault("state", {})["csrf"] = csrf_token(secret, nonce)
            extra = Response()
            secure(extra)
            if new:
                extra.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict")
            added = [(k, v) for k, v in extra.raw_headers if k != b"content-length"]
            names = {k for k, _ in added if k != b"set-cookie"}

            async def with_headers(message: dict) -> None:
                if message["type"] == "http.response.start":
                    kept = [(k, v) for k, v in message.get("headers", [])
                            if k.lower() not in names]
                    message = {**message, "headers": kept + added}
                await send(message)

            await self.inner(scope, receive, with_headers)

    def refuse(request: Request) -> Response | None:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in allowed_hosts:
            return Response("unknown host", status_code=400, media_type="text/plain")
        if access_token is not None:
            given = request.query_params.get("token")
            # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500)
            if given is not None and secrets.compare_digest(given.encode(), access_token.encode()):
                resp: Response = RedirectResponse(request.url.path, status_code=303)
                resp.set_cookie(ACCESS_COOKIE, access_token, httponly=True, samesite="strict")
                return resp
            cookie = request.cookies.get(ACCESS_COOKIE, "")
            if not secrets.compare_digest(cookie.encode(), access_token.encode()):
                return Response(msg("E506"), status_code=403, media_type="text/plain")
        if request.method in UNSAFE and not same_origin(request):
            return Response(msg("E512"), status_code=403, media_type="text/plain")
        return None

    app.add_middleware(Guard)


def body_cap(path: str, upload_limit: int) -> int:
    """The largest body a POST to ``path`` may send (the upload's limit plus its form fields)."""
    if path == "/import":
        return upload_limit + 64 * 1024
    return API_BODY_LIMIT if path.startswith("/api/") else FORM_BODY_LIMIT


def too_large_text(path: str, upload_limit: int, name: str = "your file") -> str:
    """E503 for an upload over the limit, E519 for any other body over its cap."""
    if path == "/import":
        return msg("E503", name=name, limit_mb=megabytes(upload_limit))
    return msg("E519", limit_kb=body_cap(path, upload_limit) // 1024)


def add_body_limit(app: FastAPI, limit: int) -> None:
    """Count every unsafe request's body as it streams in and stop at its route's limit."""

    def body_limit(inner: Any) -> Any:
        # Pure ASGI, outside everything else: a Content-Length over the limit is answered
        # before any byte is read; a body without one (chunked) is cut off when it passes the
        # limit (TooLarge, answered 413 by the app's handler, or here when nothing was sent).
        async def wrapped(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or scope.get("method") not in UNSAFE:
                await inner(scope, receive, send)
                return
            path = scope.get("path", "")
            cap = body_cap(path, limit)
            length = dict(scope.get("headers") or []).get(b"content-length", b"")
            # (the import's own page says it with the list of conversations beside it)
            if length.isdigit() and int(length) > cap and path != "/import":
                await _refuse(scope, receive, send, path)
                return
            seen, started = 0, False

            async def counted() -> dict:
                nonlocal seen
                message = await receive()
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise TooLarge
                return message

            async def watched(message: dict) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await inner(scope, counted, watched)
            except TooLarge:
                if started:
                    raise
                await _refuse(scope, receive, send, path)
        return wrapped

    async def _refuse(scope: dict, receive: Any, send: Any, path: str) -> None:
        from fastapi.responses import JSONResponse

        text = too_large_text(path, limit)
        response = (JSONResponse({"error": text}, status_code=413) if path.startswith("/api/")
                    else Response(text, status_code=413, media_type="text/plain"))
        # the connection closes after this answer: the rest of the body is not read
        response.headers["Connection"] = "close"
        await secure(response)(scope, receive, send)

    builder = app.build_middleware_stack

    def build() -> Any:
        return body_limit(builder())

    app.build_middleware_stack = build  # type: ignore[method-assign]
