"""Error pages: every failure a request can meet answers with a numbered message, never a bare
"Internal Server Error", and with the same security headers as every other page.

* 404 and 405 (E513, E514), a value the address or form can't hold (E515, 422);
* a :class:`~heard.errors.HeardError` a route did not catch: its own message (E507 is 404,
  E521 a conversation still being finished is 409, anything else 400);
* a body over its limit (413, see :mod:`heard.app._security`);
* anything else (E516, 500): a bug, said plainly. Its page is drawn without the store, which
  may be what failed.

JSON callers (``/api/...``, ``/import/jobs/...``, the page's own fetches) get ``{"error": ...}``.
"""

from __future__ import annotations

import sys
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from heard._version import __version__
from heard.app._security import TooLarge, msg, secure, too_large_text
from heard.app._views import env
from heard.errors import HeardError

__all__ = ["add_error_pages", "error_response", "wants_json"]

_HEADINGS = {400: "That didn't work", 403: "Please try again", 404: "Not found",
             405: "Not found", 409: "Not ready yet", 413: "Too large",
             422: "That didn't work", 500: "Something went wrong"}
_STATUS = {"E507": 404, "E521": 409, "E540": 423}


def wants_json(request: Request) -> bool:
    """The caller is a script or the page's own fetch: it gets ``{"error": ...}``."""
    path = request.url.path
    return (path.startswith(("/api/", "/import/jobs/"))
            or request.headers.get("x-heard-async") == "1"
            or "application/json" in request.headers.get("accept", ""))


def error_response(request: Request, status: int, text: str) -> Response:
    """The page (or JSON) for one numbered message; it reads nothing from the store."""
    if wants_json(request):
        return secure(JSONResponse({"error": text}, status_code=status))
    html = env().get_template("message.j2").render(
        csrf=getattr(request.state, "csrf", ""), version=__version__, safety_any=False,
        max_upload_mb="", heading=_HEADINGS.get(status, "That didn't work"), error=text,
        notice=None)
    return secure(HTMLResponse(html, status_code=status))


def add_error_pages(app: FastAPI, upload_limit: int) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        path = request.url.path[:200]
        if exc.status_code == 404:
            text = msg("E513", path=path)
        elif exc.status_code == 405:
            text = msg("E514", path=path, method=request.method)
        else:  # the form could not be parsed (starlette says 400 with its reason)
            text = msg("E515", detail=str(exc.detail)[:200])
        return error_response(request, exc.status_code, text)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("path", "query"))
        detail = f"{where}: {first.get('msg', 'not valid')}" if where else "not valid"
        return error_response(request, 422, msg("E515", detail=detail[:200]))

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, exc: TooLarge) -> Response:
        response = error_response(request, 413, too_large_text(request.url.path,
                                                               upload_limit))
        response.headers["Connection"] = "close"
        return response

    @app.exception_handler(HeardError)
    async def heard_error(request: Request, exc: HeardError) -> Response:
        return error_response(request, _STATUS.get(exc.code, 400), str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # the server's own log keeps the traceback; the page says what happened in words
        traceback.print_exception(exc, file=sys.stderr)
        return error_response(request, 500, msg("E516", kind=type(exc).__name__))
