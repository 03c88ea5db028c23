"""A conversation's pages: its overview, its messages, downloads, safety flags and delete.

Nothing is deleted by one click: deleting a conversation shows a page that says what will go
and asks again (a POST with the CSRF token and ``confirm=yes``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from heard.app._filter import MessageFilter
from heard.app._security import csrf_ok, msg
from heard.app._views import Views, context, day_groups, family_label, fmt_day_iso, zones
from heard.app._wording import safe_filename

__all__ = ["PER_PAGE", "add_chat_routes"]

#: Messages per page of the messages view (a 10,000-message chat was one 780,000 px page).
PER_PAGE = 200
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_chat_routes(app: FastAPI, views: Views) -> None:
    """Everything under ``/c/{chat_id}``."""
    store = views.store

    @app.get("/c/{chat_id}", response_class=HTMLResponse)
    def overview(request: Request, chat_id: int) -> HTMLResponse:
        chat = views.chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        r = context(store, chat_id)
        safety = r["safety"]
        dismissed = store.dismissed(chat_id)

        def is_dismissed(f: dict[str, Any]) -> bool:
            return bool(f["card"]) and f["card"]["id"] in dismissed

        # the report's safety panel, by what was found; a flag the person marked "not what
        # this means" moves to its own list (dated, restorable), never out of sight
        sections = [{**sec, "findings": [f for f in sec.get("findings", [])
                                         if not is_dismissed(f)]}
                    for sec in safety.get("sections", [])]
        gone = [f | {"dismissed_on": fmt_day_iso(dismissed[f["card"]["id"]])}
                for f in safety["findings"] if is_dismissed(f)]
        active = [f for f in safety["findings"] if not is_dismissed(f)]
        return views.page(request, "overview.j2", chat=chat, base=f"/c/{chat_id}", r=r,
                          sections=[sec for sec in sections if sec["findings"]],
                          flags_active=active, flags_dismissed=gone,
                          safety_mode=safety["triggered"] and bool(active))

    @app.get("/c/{chat_id}/messages", response_class=HTMLResponse)
    def messages(request: Request, chat_id: int, q: str = "", sender: str = "",
                 since: str = "", until: str = "", code: str = "", family: str = "",
                 ev: str = "", at: str = "", page_no: int = 1) -> HTMLResponse:
        from heard.coding import codebook

        chat = views.chat_or_404(request, chat_id)
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
            evidence = next((e for e in context(store, chat_id)["evidence"]
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
        return views.page(request, "messages.j2", chat=chat, base=f"/c/{chat_id}",
                          groups=day_groups(rows, senders), matched=matched, total=total,
                          first=(page_no - 1) * PER_PAGE + 1 if rows else 0,
                          last=(page_no - 1) * PER_PAGE + len(rows), page_no=page_no, pages=pages,
                          prev_link=link(page_no - 1) if page_no > 1 else None,
                          next_link=link(page_no + 1) if page_no < pages else None,
                          sel=kept, filtered=where.active, evidence=evidence, senders=senders,
                          codes=[{"name": c.name, "label": c.name.replace("_", " "),
                                  "family": family_label(c.family)} for c in cb.codes],
                          families=[{"name": f.name, "label": f.label} for f in cb.families])

    # ------------------------------------------------------------------ downloads

    def download(body: bytes, filename: str, media_type: str) -> Response:
        return Response(body, media_type=media_type, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})

    @app.get("/c/{chat_id}/report.html")
    def report_html(request: Request, chat_id: int) -> Response:
        from heard.report import render_html

        chat = views.chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        html = render_html(store.analysis(chat_id))
        return download(html.encode("utf-8"), safe_filename(
            chat["title"], prefix="heard-report", suffix=".html"), "text/html; charset=utf-8")

    @app.get("/c/{chat_id}/summary.pdf")
    def summary_pdf(request: Request, chat_id: int, redact: bool = False) -> Response:
        import heard.report

        chat = views.chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        render = getattr(heard.report, "render_summary_pdf", None)
        if render is None:
            return views.page(request, "message.j2", status=501, heading="Not available yet",
                              error="This version of heard cannot write the summary PDF yet. "
                                    "Download the report as a web page instead.")
        pdf = render(store.analysis(chat_id), redact=redact)
        prefix = "heard-summary-redacted" if redact else "heard-summary"
        name = (f"{prefix}.pdf" if redact
                else safe_filename(chat["title"], prefix=prefix, suffix=".pdf"))
        return download(pdf, name, "application/pdf")

    # ------------------------------------------------------------------ safety flags

    async def _flag(request: Request, chat_id: int, message_id: str, dismiss: bool) -> Response:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return views.forbidden(request)
        # the analysis may have to be made again (seconds): off the event loop
        return await run_in_threadpool(_set_flag, request, chat_id, message_id, dismiss)

    def _set_flag(request: Request, chat_id: int, message_id: str, dismiss: bool) -> Response:
        chat = views.chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        flagged = {f.message_id for f in store.analysis(chat_id).safety.findings}
        if message_id not in flagged:
            return views.page(request, "message.j2", status=404, heading="Not found",
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
        chat = views.chat_or_404(request, chat_id)
        if isinstance(chat, HTMLResponse):
            return chat
        return views.page(request, "confirm_delete.j2", chat=chat, everything=False)

    @app.post("/c/{chat_id}/delete", response_class=HTMLResponse)
    async def delete(request: Request, chat_id: int) -> Response:
        form = await request.form(max_files=0)
        if not csrf_ok(request, str(form.get("csrf") or "")):
            return views.forbidden(request)
        if form.get("confirm") != "yes":
            return await run_in_threadpool(delete_confirm, request, chat_id)
        return await run_in_threadpool(_delete, request, chat_id)

    def _delete(request: Request, chat_id: int) -> Response:
        if not store.delete(chat_id):  # VACUUM rewrites the file: off the event loop
            return views.page(request, "message.j2", status=404, heading="Not found",
                              error=msg("E507", key=chat_id))
        return views.page(request, "home.j2", chats=store.chats(), zones=zones(),
                          notice="The conversation and everything about it were deleted.")
