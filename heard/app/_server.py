"""``heard serve``: a FastAPI app over :mod:`heard.api`, the store and the pre-send check.

Security, in the order a request meets it:

1. **Host check**: only the host names the server was started for (DNS-rebinding guard).
2. **Access token** when bound beyond loopback: ``?token=`` once (then a cookie), else 403.
3. **Body limit**: uploads over ``max_upload_mb`` are cut off while they stream in.
4. **CSRF**: a random per-browser token in a SameSite=Strict cookie; every POST must echo it
   in the ``csrf`` form field or the ``X-CSRF-Token`` header.
5. **Headers**: a Content-Security-Policy with no inline script or style and no other origin,
   ``nosniff``, ``frame-ancestors 'none'``, no referrer, no caching.

Chat text only ever reaches a page through Jinja2 autoescaping (or ``highlight``, which
escapes), and the upload is read by heard's importers from a temporary file deleted afterwards.

Nothing is deleted by one click: deleting a conversation, and deleting everything, each show
a page that says what will go and ask again (a POST with the CSRF token and ``confirm=yes``).
Imports run on a worker thread (:mod:`heard.app._jobs`) so every page stays responsive.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import shutil
import tempfile
import threading
import webbrowser
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware

from heard._version import __version__
from heard.app._check import check_text
from heard.app._jobs import Job, Jobs
from heard.app._store import MessageFilter, Store, load_coder
from heard.app._wording import for_the_form, safe_filename
from heard.errors import E, HeardError, InputError
from heard.ingest import ReadOptions, zone

__all__ = ["create_app", "is_loopback", "serve"]

CSRF_COOKIE, ACCESS_COOKIE = "heard_csrf", "heard_access"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")
_STATIC = {"app.css": "text/css", "app.js": "text/javascript"}
#: Messages per page of the messages view (a 10,000-message chat was one 780,000 px page).
PER_PAGE = 200
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _msg(number: str, **fields: Any) -> str:
    return getattr(E, number).format(**fields)


class _TooLarge(Exception):
    pass


@cache
def _env() -> Environment:
    env = Environment(
        # the app's templates first; then the report's partials that both show ("In short")
        loader=ChoiceLoader([PackageLoader("heard.app", "templates"),
                             PackageLoader("heard.report", "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["for_the_form"] = for_the_form
    env.filters["day"] = _fmt_day_iso
    env.filters["family_label"] = _family_label
    return env


def _family_label(name: str) -> str:
    """A code family's words ("Hearing a threat"), not its identifier ("defend")."""
    from heard.coding import codebook

    return {f.name: f.label for f in codebook().families}.get(name, name)


def _fmt_day_iso(iso: str | None) -> str:
    from datetime import datetime

    from heard.report import fmt_day

    return fmt_day(datetime.fromisoformat(iso)) if iso else ""


@cache
def _zones() -> tuple[str, ...]:
    import zoneinfo

    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z
                        and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))))


@cache
def _static(name: str) -> bytes:
    if name == "report.css":
        return (resources.files("heard.report") / "templates" / "report.css").read_bytes()
    return (resources.files("heard.app") / "static" / name).read_bytes()


def create_app(*, data_dir: str | Path | None = None, max_upload_mb: float = 200,
               access_token: str | None = None,
               allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1",
                                                 "testserver")) -> FastAPI:
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
    """
    store = Store(data_dir)
    limit = int(max_upload_mb * 1024 * 1024)
    app = FastAPI(title="heard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store

    # ------------------------------------------------------------------ middleware

    class Guard(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Response:
            host = (request.headers.get("host") or "").rsplit(":", 1)[0]
            if host not in allowed_hosts:
                return Response("unknown host", status_code=400, media_type="text/plain")
            if access_token is not None:
                given = request.query_params.get("token")
                if given is not None and secrets.compare_digest(given, access_token):
                    resp: Response = RedirectResponse(request.url.path, status_code=303)
                    resp.set_cookie(ACCESS_COOKIE, access_token, httponly=True,
                                    samesite="strict")
                    return _secure(resp)
                cookie = request.cookies.get(ACCESS_COOKIE, "")
                if not secrets.compare_digest(cookie, access_token):
                    return _secure(Response(_msg("E506"), status_code=403,
                                            media_type="text/plain"))
            token = request.cookies.get(CSRF_COOKIE)
            new = token is None or len(token) < 32
            request.state.csrf = secrets.token_urlsafe(32) if new else token
            response = await call_next(request)
            if new:
                response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True,
                                    samesite="strict")
            return _secure(response)

    app.add_middleware(Guard)

    def body_limit(inner: Any) -> Any:
        # Pure ASGI: count the bytes as they stream in and stop at the limit, so a huge
        # upload is never written to disk in full (a Content-Length is checked first).
        async def wrapped(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or scope.get("method") != "POST":
                await inner(scope, receive, send)
                return
            seen = 0

            async def counted() -> dict:
                nonlocal seen
                message = await receive()
                seen += len(message.get("body", b""))
                if seen > limit + 64 * 1024:
                    raise _TooLarge
                return message

            await inner(scope, counted, send)
        return wrapped

    # ------------------------------------------------------------------ helpers

    def page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("error", None)
        ctx.setdefault("notice", None)
        html = _env().get_template(template).render(
            csrf=request.state.csrf, version=__version__, safety_any=_safety_any(store),
            max_upload_mb=f"{max_upload_mb:g}", **ctx)
        return HTMLResponse(html, status_code=status)

    def csrf_ok(request: Request, form_value: str | None) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE)
        given = form_value or request.headers.get("x-csrf-token")
        return bool(cookie and given and secrets.compare_digest(cookie, given))

    def forbidden(request: Request) -> HTMLResponse:
        return page(request, "message.j2", status=403, heading="Please try again",
                    error=_msg("E505"))

    def chat_or_404(request: Request, chat_id: int) -> dict[str, Any] | HTMLResponse:
        try:
            return store.chat(chat_id)
        except InputError as exc:
            return page(request, "message.j2", status=404, heading="Not found",
                        error=str(exc))

    # ------------------------------------------------------------------ pages

    jobs = Jobs()
    app.state.jobs = jobs

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return page(request, "home.j2", chats=store.chats(), zones=_zones())

    def home_error(request: Request, status: int, text: str, asynchronous: bool) -> Response:
        if asynchronous:
            return JSONResponse({"error": text}, status_code=status)
        return page(request, "home.j2", status=status, chats=store.chats(), zones=_zones(),
                    error=text)

    @app.post("/import", response_class=HTMLResponse)
    async def import_(request: Request) -> Response:
        asynchronous = request.headers.get("x-heard-async") == "1"
        too_big = _msg("E503", name="your file", limit_mb=f"{max_upload_mb:g}")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit + 64 * 1024:
            return home_error(request, 413, too_big, asynchronous)
        try:
            form = await request.form(max_files=1, max_fields=10)
        except _TooLarge:
            return home_error(request, 413, too_big, asynchronous)
        folder: Path | None = None
        handed_to_job = False
        try:
            if not csrf_ok(request, str(form.get("csrf") or "")):
                if asynchronous:
                    return JSONResponse({"error": _msg("E505")}, status_code=403)
                return forbidden(request)
            upload = form.get("file")
            if upload is None or isinstance(upload, str) or not upload.filename:
                return home_error(request, 400, _msg("E504"), asynchronous)
            name = Path(upload.filename.replace("\\", "/")).name or "upload"
            safe = "".join(ch if ch.isalnum() or ch in "._- ()" else "_" for ch in name)[:120]
            workdir = folder = Path(tempfile.mkdtemp(dir=store.upload_dir))
            target = workdir / safe

            def worded(exc: BaseException) -> str:
                # The importers' messages name the temp path; show the user's file name, and
                # the form's fields where they name a command-line option.
                if isinstance(exc, HeardError):
                    text = str(exc).replace(str(target), safe).replace(str(workdir), "")
                    return for_the_form(text)
                return f"heard could not finish the import ({type(exc).__name__}: {exc})."

            try:
                with target.open("wb") as out:
                    shutil.copyfileobj(upload.file, out)
                if target.stat().st_size > limit:
                    return home_error(request, 413, _msg("E503", name=safe,
                                                         limit_mb=f"{max_upload_mb:g}"),
                                      asynchronous)
                _check_zip(target, safe)
                options = _read_options(form)
            except HeardError as exc:
                return home_error(request, 400, worded(exc), asynchronous)

            def work(job: Job | None = None) -> int:
                chat_id = store.import_export(target, filename=safe, options=options,
                                              progress=job.update if job else None).chat_id
                _context(store, chat_id)  # the overview is ready when the job says "done"
                return chat_id

            def cleanup() -> None:
                shutil.rmtree(workdir, ignore_errors=True)

            if asynchronous:
                job = jobs.start(work, worded, cleanup)
                handed_to_job = True  # the job removes the folder when it is done
                return JSONResponse(job.to_dict() | {"status": f"/import/jobs/{job.id}"},
                                    status_code=202)
            try:
                chat_id = await run_in_threadpool(work)
            except HeardError as exc:
                return home_error(request, 400, worded(exc), asynchronous)
        finally:
            if folder is not None and not handed_to_job:
                shutil.rmtree(folder, ignore_errors=True)
            await form.close()
        return RedirectResponse(f"/c/{chat_id}#import-summary", status_code=303)

    @app.get("/import/jobs/{job_id}")
    def import_status(job_id: str) -> JSONResponse:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": "There is no such import. Please import again."},
                                status_code=404)
        return JSONResponse(job.to_dict())

    def _read_options(form: Any) -> ReadOptions:
        """The upload form's optional import settings, as the CLI's --tz/--date-order/..."""
        def text(name: str) -> str | None:
            value = str(form.get(name) or "").strip()
            return value or None

        tz = text("tz")
        if tz:
            zone(tz)  # an unknown zone is the user's error (E016), shown on the page
        order = text("date_order")
        pair = (text("pair_a"), text("pair_b"))
        return ReadOptions(
            tz=tz,
            date_order=order if order in ("DMY", "MDY", "YMD") else None,
            chat=text("chat"),
            pair=(pair[0], pair[1]) if pair[0] and pair[1] else None,
        )

    @app.get("/c/{chat_id}", response_class=HTMLResponse)
    def overview(request: Request, chat_id: int) -> HTMLResponse:
        chat = chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        r = _context(store, chat_id)
        safety = r["safety"]
        dismissed = store.dismissed(chat_id)

        def is_dismissed(f: dict[str, Any]) -> bool:
            return bool(f["card"]) and f["card"]["id"] in dismissed

        # the report's safety panel, by what was found; a flag the person marked "not what
        # this means" moves to its own list (dated, restorable), never out of sight
        sections = [{**sec, "findings": [f for f in sec.get("findings", [])
                                         if not is_dismissed(f)]}
                    for sec in safety.get("sections", [])]
        gone = [f | {"dismissed_on": _fmt_day_iso(dismissed[f["card"]["id"]])}
                for f in safety["findings"] if is_dismissed(f)]
        active = [f for f in safety["findings"] if not is_dismissed(f)]
        return page(request, "overview.j2", chat=chat, base=f"/c/{chat_id}", r=r,
                    sections=[sec for sec in sections if sec["findings"]],
                    flags_active=active, flags_dismissed=gone,
                    safety_mode=safety["triggered"] and bool(active))

    @app.get("/c/{chat_id}/messages", response_class=HTMLResponse)
    def messages(request: Request, chat_id: int, q: str = "", sender: str = "",
                 since: str = "", until: str = "", code: str = "", family: str = "",
                 ev: str = "", at: str = "", page_no: int = 1) -> HTMLResponse:
        from heard.coding import codebook

        chat = chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        cb = codebook()
        q, sender = q.strip()[:200], sender.strip()
        since = since if _DATE.fullmatch(since) else ""
        until = until if _DATE.fullmatch(until) else ""
        codes: set[str] | None = None
        if code in cb:
            codes = {code}
        if family in {f.name for f in cb.families}:
            members = {c.name for c in cb.codes if c.family == family}
            codes = members if codes is None else codes & members
        evidence = None
        ids: tuple[str, ...] | None = None
        if ev:
            evidence = next((e for e in _context(store, chat_id)["evidence"]
                             if e["anchor"] == ev), None)
            ids = tuple(link["id"] for link in evidence["links"]) if evidence else ()
        where = MessageFilter(text=q, sender=sender, since=since, until=until,
                              codes=tuple(sorted(codes)) if codes is not None else (),
                              ids=ids)
        if codes is not None and not codes:
            where = replace(where, ids=())  # a code outside the chosen family: nothing matches
        if at:
            pos = store.position(chat_id, at, where)
            if pos is not None:
                page_no = pos // PER_PAGE + 1
        page_no = max(1, page_no)
        rows, matched, total = store.messages(chat_id, where, limit=PER_PAGE,
                                              offset=(page_no - 1) * PER_PAGE)
        pages = max(1, -(-matched // PER_PAGE))
        kept = {k: v for k, v in (("q", q), ("sender", sender), ("since", since),
                                  ("until", until), ("code", code if code in cb else ""),
                                  ("family", family if codes is not None else ""),
                                  ("ev", ev)) if v}

        def link(n: int) -> str:
            return f"/c/{chat_id}/messages?" + urlencode({**kept, "page_no": n})

        senders = store.senders(chat_id)
        return page(request, "messages.j2", chat=chat, base=f"/c/{chat_id}",
                    groups=_day_groups(rows, senders), matched=matched, total=total,
                    first=(page_no - 1) * PER_PAGE + 1 if rows else 0,
                    last=(page_no - 1) * PER_PAGE + len(rows), page_no=page_no, pages=pages,
                    prev_link=link(page_no - 1) if page_no > 1 else None,
                    next_link=link(page_no + 1) if page_no < pages else None,
                    sel=kept, filtered=where.active, evidence=evidence, senders=senders,
                    codes=[{"name": c.name, "label": c.name.replace("_", " "),
                            "family": _family_label(c.family)} for c in cb.codes],
                    families=[{"name": f.name, "label": f.label} for f in cb.families])

    # ------------------------------------------------------------------ downloads

    def _download(body: bytes, filename: str, media_type: str) -> Response:
        return Response(body, media_type=media_type, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})

    @app.get("/c/{chat_id}/report.html")
    def report_html(request: Request, chat_id: int) -> Response:
        from heard.report import render_html

        chat = chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        html = render_html(store.analysis(chat_id))
        return _download(html.encode("utf-8"), safe_filename(
            chat["title"], prefix="heard-report", suffix=".html"), "text/html; charset=utf-8")

    @app.get("/c/{chat_id}/summary.pdf")
    def summary_pdf(request: Request, chat_id: int, redact: bool = False) -> Response:
        import heard.report

        chat = chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        render = getattr(heard.report, "render_summary_pdf", None)
        if render is None:
            return page(request, "message.j2", status=501, heading="Not available yet",
                        error="This version of heard cannot write the summary PDF yet. "
                              "Download the report as a web page instead.")
        pdf = render(store.analysis(chat_id), redact=redact)
        prefix = "heard-summary-redacted" if redact else "heard-summary"
        name = (f"{prefix}.pdf" if redact
                else safe_filename(chat["title"], prefix=prefix, suffix=".pdf"))
        return _download(pdf, name, "application/pdf")

    # ------------------------------------------------------------------ safety flags

    async def _flag(request: Request, chat_id: int, message_id: str, dismiss: bool) -> Response:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return forbidden(request)
        chat = chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        flagged = {f.message_id for f in store.analysis(chat_id).safety.findings}
        if message_id not in flagged:
            return page(request, "message.j2", status=404, heading="Not found",
                        error="That message carries no safety flag in this conversation.")
        if dismiss:
            store.dismiss_flag(chat_id, message_id)
        else:
            store.restore_flag(chat_id, message_id)
        return RedirectResponse(f"/c/{chat_id}#safety", status_code=303)

    @app.post("/c/{chat_id}/flags/{message_id}/dismiss", response_class=HTMLResponse)
    async def flag_dismiss(request: Request, chat_id: int, message_id: str) -> Response:
        return await _flag(request, chat_id, message_id, True)

    @app.post("/c/{chat_id}/flags/{message_id}/restore", response_class=HTMLResponse)
    async def flag_restore(request: Request, chat_id: int, message_id: str) -> Response:
        return await _flag(request, chat_id, message_id, False)

    # ------------------------------------------------------------------ delete (confirmed)

    @app.get("/c/{chat_id}/delete", response_class=HTMLResponse)
    def delete_confirm(request: Request, chat_id: int) -> HTMLResponse:
        chat = chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        return page(request, "confirm_delete.j2", chat=chat, everything=False)

    @app.post("/c/{chat_id}/delete", response_class=HTMLResponse)
    async def delete(request: Request, chat_id: int) -> Response:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return forbidden(request)
        if form.get("confirm") != "yes":
            return delete_confirm(request, chat_id)
        if not store.delete(chat_id):
            return page(request, "message.j2", status=404, heading="Not found",
                        error=_msg("E507", key=chat_id))
        return page(request, "home.j2", chats=store.chats(), zones=_zones(),
                    notice="The conversation and everything about it were deleted.")

    @app.get("/forget", response_class=HTMLResponse)
    def forget_confirm(request: Request) -> HTMLResponse:
        chats = store.chats()
        return page(request, "confirm_delete.j2", chats=chats, everything=True,
                    n_messages=sum(c["messages"] for c in chats))

    @app.post("/forget", response_class=HTMLResponse)
    async def forget(request: Request) -> Response:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return forbidden(request)
        if form.get("confirm") != "yes":
            return forget_confirm(request)
        for c in store.chats():
            store.delete(c["id"])
        from heard.app._store import forget_all

        forget_all(store.data_dir)
        store.__init__(store.data_dir)  # an empty store, ready for the next import
        return page(request, "home.j2", chats=[], zones=_zones(),
                    notice="Everything heard stored on this computer was deleted.")

    @app.get("/codebook", response_class=HTMLResponse)
    def codebook_page(request: Request) -> HTMLResponse:
        from heard.report import glossary

        return page(request, "codebook.j2", glossary=glossary())

    @app.get("/safety", response_class=HTMLResponse)
    def safety_page(request: Request) -> HTMLResponse:
        from heard.patterns import safety_data

        explanation, _, _, res = safety_data()
        return page(request, "safety.j2",
                    explanation=[p for p in explanation.split("\n\n") if p.strip()],
                    resources=res)

    def _check_page(request: Request, text: str = "", mode: str = "send",
                    chat: str = "", reply_to: str = "", status: int = 200,
                    with_result: bool = False) -> HTMLResponse:
        replies, context = _replies(store, chat), []
        if reply_to:
            ids = [m["id"] for m in replies]
            if reply_to in ids:
                context = [m["text"] for m in replies[: ids.index(reply_to) + 1]][-6:]
        result = check_text(text, context, mode="received" if mode == "received" else "send") \
            if with_result else None
        return page(request, "check.j2", status=status, text=text, mode=mode,
                    replies=replies, reply_to=reply_to, chat_id=chat, result=result,
                    highlighted=_highlight(result) if result else "")

    @app.get("/check", response_class=HTMLResponse)
    def check_get(request: Request, chat: str = "", reply_to: str = "") -> HTMLResponse:
        return _check_page(request, chat=chat, reply_to=reply_to)

    @app.post("/check", response_class=HTMLResponse)
    async def check_post(request: Request) -> HTMLResponse:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return forbidden(request)
        try:
            # coding is CPU work: off the event loop, so other pages keep answering
            return await run_in_threadpool(
                _check_page, request, text=str(form.get("text") or ""),
                mode=str(form.get("mode") or "send"), chat=str(form.get("chat") or ""),
                reply_to=str(form.get("reply_to") or ""), with_result=True)
        except HeardError as exc:
            return page(request, "message.j2", status=400, heading="Check", error=str(exc))

    @app.post("/api/check")
    async def api_check(request: Request) -> JSONResponse:
        if not csrf_ok(request, None):
            return JSONResponse({"error": _msg("E505")}, status_code=403)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body must be JSON: {\"text\": ...}"},
                                status_code=400)
        text = body.get("text") if isinstance(body, dict) else None
        context = body.get("context") or [] if isinstance(body, dict) else []
        if not isinstance(text, str) or not isinstance(context, list) or \
                not all(isinstance(c, str) for c in context):
            return JSONResponse({"error": "expected {\"text\": string, \"context\": "
                                          "[strings, oldest first]}"}, status_code=400)
        try:
            result = await run_in_threadpool(check_text, text, context,
                                             mode=body.get("mode") or "send")
        except HeardError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        data = result.to_dict()
        if body.get("html"):
            data["html"] = _env().get_template("check_result.j2").render(
                result=result, highlighted=_highlight(result))
        return JSONResponse(data)

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name == "report.css":
            return Response(_static(name), media_type="text/css")
        if name not in _STATIC:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(_static(name), media_type=_STATIC[name])

    app.build_middleware_stack = _wrap(app.build_middleware_stack, body_limit)  # type: ignore
    return app


def _check_zip(path: Path, name: str) -> None:
    """A file that starts like a zip but can't be opened gets the importers' corrupt-zip error."""
    import zipfile

    from heard.errors import ExportFormatError

    with path.open("rb") as f:
        if f.read(4) != b"PK\x03\x04":
            return
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportFormatError.from_code("E026", path=name, detail=exc) from exc
    if bad is not None:
        raise ExportFormatError.from_code("E026", path=name, detail=f"'{bad}' is damaged")


def _wrap(builder: Any, wrapper: Any) -> Any:
    def build() -> Any:
        return wrapper(builder())
    return build


def _secure(response: Response) -> Response:
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cache-Control"] = "no-store"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _safety_any(store: Store) -> bool:
    """A stored conversation holds a safety flag the person has not marked "not what this means"."""
    for c in store.chats():
        data = store.stored_analysis(c["id"])
        safety = (data or {}).get("safety", {})
        if safety.get("triggered"):
            dismissed = store.dismissed(c["id"])
            if any(f.get("message_id") not in dismissed for f in safety.get("findings", [])):
                return True
    return False


_CONTEXTS: dict[tuple[str, int], tuple[Any, dict[str, Any]]] = {}


def _context(store: Store, chat_id: int) -> dict[str, Any]:
    """What the report shows, built once per analysis (the store caches the analysis)."""
    from heard.report import build_context

    analysis = store.analysis(chat_id)
    key = (str(store.path), chat_id)
    cached = _CONTEXTS.get(key)
    if cached is None or cached[0] is not analysis:
        cached = _CONTEXTS[key] = (analysis, build_context(analysis))
    return cached[1]


def _day_groups(messages: list[Any], senders: list[str]) -> list[dict[str, Any]]:
    """Cards under a heading for each calendar day, by each message's own date."""
    from heard.model import Corpus
    from heard.report import MessageIndex, fmt_day

    idx = MessageIndex(Corpus.from_messages(messages))
    # the same side (colour) for each person on every page, whoever writes first on it
    idx.side = {s: ("a" if i % 2 == 0 else "b") for i, s in enumerate(senders)}
    groups: list[dict[str, Any]] = []
    for m in messages:
        day = fmt_day(m.timestamp)
        if not groups or groups[-1]["day"] != day:
            groups.append({"day": day, "iso": m.timestamp.date().isoformat()
                           if m.timestamp else "", "messages": []})
        card = idx.card(m.message_id)
        if card is not None:
            groups[-1]["messages"].append(card)
    return groups


def _replies(store: Store, chat: str) -> list[dict[str, Any]]:
    """The last messages of a stored conversation, to pick one as "replying to"."""
    if not chat.isdigit():
        return []
    try:
        corpus = store.analysis(int(chat)).corpus
    except InputError:
        return []
    msgs = [m for m in corpus.iter_messages(lambda m: m.is_human)][-30:]
    return [{"id": m.message_id, "sender": m.sender, "text": m.text} for m in msgs]


def _highlight(result: Any) -> Any:
    from heard.report import highlight

    return highlight(result.text, result.codes)


def serve(*, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True,
          data_dir: str | Path | None = None, max_upload_mb: float = 200) -> None:
    """Run the app with uvicorn until interrupted (``heard serve``)."""
    import uvicorn

    token = None
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")
    if not is_loopback(host):
        token = secrets.token_urlsafe(24)
        hosts = ("*",)
    app = create_app(data_dir=data_dir, max_upload_mb=max_upload_mb, access_token=token,
                     allowed_hosts=hosts if hosts != ("*",) else _AnyHost())
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    print(f"heard is running at {url}  (Ctrl+C to stop). Nothing leaves this computer.")
    if token:
        print("It listens beyond this computer, so it needs the access token in that address.")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    # load the coder while the person picks a file: the first import then starts coding at once
    threading.Thread(target=load_coder, name="heard-load-coder", daemon=True).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")


class _AnyHost(tuple):
    """Every Host header (used only with an access token, when bound beyond loopback)."""

    def __contains__(self, item: object) -> bool:
        return True
