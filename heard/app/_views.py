"""How the app's pages are rendered: the templates, their filters, and what several pages show.

Chat text only ever reaches a page through Jinja2 autoescaping (or ``highlight``, which
escapes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from heard._version import __version__
from heard.app._store import Store
from heard.app._unlock import Locked
from heard.app._wording import for_the_form
from heard.errors import InputError

__all__ = ["Views", "context", "day_groups", "env", "family_label", "fmt_day_iso",
           "highlight", "replies", "static_file", "zones"]


@cache
def env() -> Environment:
    """The Jinja2 environment: the app's templates, then the report's shared partials."""
    e = Environment(
        # the app's templates first; then the report's partials that both show ("In short")
        loader=ChoiceLoader([PackageLoader("heard.app", "templates"),
                             PackageLoader("heard.report", "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters["for_the_form"] = for_the_form
    e.filters["day"] = fmt_day_iso
    e.filters["family_label"] = family_label
    return e


def family_label(name: str) -> str:
    """A code family's words ("Hearing a threat"), not its identifier ("defend")."""
    from heard.coding import codebook

    return {f.name: f.label for f in codebook().families}.get(name, name)


def fmt_day_iso(iso: str | None) -> str:
    from datetime import datetime

    from heard.report import fmt_day

    return fmt_day(datetime.fromisoformat(iso)) if iso else ""


@cache
def zones() -> tuple[str, ...]:
    import zoneinfo

    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z
                        and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))))


@cache
def static_file(name: str) -> bytes:
    if name == "report.css":
        return (resources.files("heard.report") / "templates" / "report.css").read_bytes()
    return (resources.files("heard.app") / "static" / name).read_bytes()


def safety_any(store: Store) -> bool:
    """A stored conversation holds a safety flag the person has not marked "not what this means".

    False while heard is locked: the pages open then (the safety help) show no stored data.
    """
    try:
        chats = store.chats()
    except Locked:
        return False
    for c in chats:
        data = store.stored_analysis(c["id"])
        safety = (data or {}).get("safety", {})
        if safety.get("triggered"):
            dismissed = store.dismissed(c["id"])
            if any(f.get("message_id") not in dismissed for f in safety.get("findings", [])):
                return True
    return False


def context(store: Store, chat_id: int) -> dict[str, Any]:
    """What the report shows: built once per analysis by the report (the store caches the
    analysis, the report its context)."""
    from heard.report import build_context

    return build_context(store.analysis(chat_id))


def day_groups(messages: list[Any], senders: list[str]) -> list[dict[str, Any]]:
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


def replies(store: Store, chat: str) -> list[dict[str, Any]]:
    """The last messages of a stored conversation, to pick one as "replying to"."""
    # isdigit() also takes "²", which int() refuses: ASCII digits only
    if not (chat.isascii() and chat.isdecimal()):
        return []
    try:
        corpus = store.analysis(int(chat)).corpus
    except InputError:
        return []
    msgs = [m for m in corpus.iter_messages(lambda m: m.is_human)][-30:]
    return [{"id": m.message_id, "sender": m.sender, "text": m.text} for m in msgs]


def highlight(result: Any) -> Any:
    from heard.report import highlight as marked

    return marked(result.text, result.codes)


@dataclass
class Views:
    """What every route renders with: the store and the page shell."""

    store: Store
    max_upload_mb: float

    def page(self, request: Request, template: str, status: int = 200,
             **ctx: Any) -> HTMLResponse:
        ctx.setdefault("error", None)
        ctx.setdefault("notice", None)
        html = env().get_template(template).render(
            csrf=request.state.csrf, version=__version__, safety_any=safety_any(self.store),
            max_upload_mb=f"{self.max_upload_mb:g}", **ctx)
        return HTMLResponse(html, status_code=status)

    def forbidden(self, request: Request) -> HTMLResponse:
        from heard.app._security import msg

        return self.page(request, "message.j2", status=403, heading="Please try again",
                         error=msg("E505"))

    def chat_or_404(self, request: Request, chat_id: int) -> dict[str, Any] | HTMLResponse:
        try:
            return self.store.chat(chat_id)
        except InputError as exc:
            return self.page(request, "message.j2", status=404, heading="Not found",
                             error=str(exc))

    def home_error(self, request: Request, status: int, text: str,
                   asynchronous: bool) -> Response:
        if asynchronous:
            return JSONResponse({"error": text}, status_code=status)
        return self.page(request, "home.j2", status=status, chats=self.store.chats(),
                         zones=zones(), error=text)
