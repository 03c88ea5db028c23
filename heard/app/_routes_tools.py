"""The pages outside one conversation: the check before sending (and its JSON API), the
codebook, safety and help, deleting everything, and the static files.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from heard.app._check import check_text
from heard.app._db import forget_all
from heard.app._security import csrf_ok, msg
from heard.app._views import Views, env, highlight, replies, static_file, zones
from heard.errors import HeardError, OptionError

__all__ = ["MAX_CONTEXT", "MAX_CONTEXT_CHARS", "add_tool_routes", "parse_check"]

_STATIC = {"app.css": "text/css", "app.js": "text/javascript"}
#: The most earlier messages /api/check reads, and their characters in all: the coder looks
#: back a few turns, and 800 context lines once held the server for 192 s.
MAX_CONTEXT, MAX_CONTEXT_CHARS = 20, 20_000


def parse_check(raw: bytes) -> tuple[dict[str, Any], str, list[str]]:
    """``/api/check``'s body: an object with ``text`` and an optional ``context`` (E517/E518)."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise OptionError.from_code("E517", detail="nested too deeply") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise OptionError.from_code("E517", detail=str(exc).split(":")[0]) from None
    text = body.get("text") if isinstance(body, dict) else None
    context = (body.get("context") or []) if isinstance(body, dict) else None
    if not isinstance(text, str) or not isinstance(context, list) or \
            not all(isinstance(c, str) for c in context):
        raise OptionError.from_code("E517", detail="'text' must be a string and 'context' a "
                                                   "list of strings, oldest first")
    chars = sum(len(c) for c in context)
    if len(context) > MAX_CONTEXT or chars > MAX_CONTEXT_CHARS:
        raise OptionError.from_code("E518", n=len(context), chars=chars, max_n=MAX_CONTEXT,
                                    max_chars=MAX_CONTEXT_CHARS)
    for s in (text, *context):
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            # JSON allows "\ud800" alone; no text holds it, and nothing downstream can write it
            raise OptionError.from_code("E517", detail="a string holds half of a character "
                                                       "(a lone surrogate)") from None
    return body, text, context


def add_tool_routes(app: FastAPI, views: Views) -> None:
    """``/check``, ``/api/check``, ``/codebook``, ``/safety``, ``/forget`` and ``/static``."""
    store = views.store

    @app.get("/forget", response_class=HTMLResponse)
    def forget_confirm(request: Request) -> HTMLResponse:
        chats = store.chats()
        return views.page(request, "confirm_delete.j2", chats=chats, everything=True,
                          n_messages=sum(c["messages"] for c in chats))

    def _delete_all() -> None:
        for c in store.chats():
            store.delete(c["id"])
        forget_all(store.data_dir)

    @app.post("/forget", response_class=HTMLResponse)
    async def forget(request: Request) -> Response:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return views.forbidden(request)
        if form.get("confirm") != "yes":
            return forget_confirm(request)
        await run_in_threadpool(_delete_all)
        keyring = request.app.state.keyring
        keyring.forgotten()  # an empty store; an encrypted one asks for a new passphrase first
        if not keyring.unlocked:
            return RedirectResponse("/unlock?deleted=1", status_code=303)
        return views.page(request, "home.j2", chats=[], zones=zones(),
                          notice="Everything heard stored on this computer was deleted.")

    @app.get("/codebook", response_class=HTMLResponse)
    def codebook_page(request: Request) -> HTMLResponse:
        from heard.report import glossary

        return views.page(request, "codebook.j2", glossary=glossary())

    @app.get("/safety", response_class=HTMLResponse)
    def safety_page(request: Request) -> HTMLResponse:
        from heard.patterns import safety_data

        explanation, _, _, res = safety_data()
        return views.page(request, "safety.j2",
                          explanation=[p for p in explanation.split("\n\n") if p.strip()],
                          resources=res)

    def _check_page(request: Request, text: str = "", mode: str = "send",
                    chat: str = "", reply_to: str = "", status: int = 200,
                    with_result: bool = False) -> HTMLResponse:
        earlier, context = replies(store, chat), []
        if reply_to:
            ids = [m["id"] for m in earlier]
            if reply_to in ids:
                context = [m["text"] for m in earlier[: ids.index(reply_to) + 1]][-6:]
        result = check_text(text, context, mode="received" if mode == "received" else "send") \
            if with_result else None
        return views.page(request, "check.j2", status=status, text=text, mode=mode,
                          replies=earlier, reply_to=reply_to, chat_id=chat, result=result,
                          highlighted=highlight(result) if result else "")

    @app.get("/check", response_class=HTMLResponse)
    def check_get(request: Request, chat: str = "", reply_to: str = "") -> HTMLResponse:
        return _check_page(request, chat=chat, reply_to=reply_to)

    @app.post("/check", response_class=HTMLResponse)
    async def check_post(request: Request) -> HTMLResponse:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return views.forbidden(request)
        try:
            # coding is CPU work: off the event loop, so other pages keep answering
            return await run_in_threadpool(
                _check_page, request, text=str(form.get("text") or ""),
                mode=str(form.get("mode") or "send"), chat=str(form.get("chat") or ""),
                reply_to=str(form.get("reply_to") or ""), with_result=True)
        except HeardError as exc:
            return views.page(request, "message.j2", status=400, heading="Check", error=str(exc))

    @app.post("/api/check")
    async def api_check(request: Request) -> JSONResponse:
        if not csrf_ok(request, None):
            return JSONResponse({"error": msg("E505")}, status_code=403)
        # the body limit cut the stream off at API_BODY_LIMIT already; parse off the loop
        try:
            body, text, context = await run_in_threadpool(parse_check, await request.body())
        except HeardError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            result = await run_in_threadpool(check_text, text, context,
                                             mode=body.get("mode") or "send")
        except HeardError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        data = result.to_dict()
        if body.get("html"):
            data["html"] = env().get_template("check_result.j2").render(
                result=result, highlighted=highlight(result))
        return JSONResponse(data)

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name == "report.css":
            return Response(static_file(name), media_type="text/css")
        if name not in _STATIC:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(static_file(name), media_type=_STATIC[name])
