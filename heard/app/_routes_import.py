"""The home page and the import.

An upload is saved in a private temporary folder, read by heard's importers and stored; with
``X-Heard-Async: 1`` it runs as a job (:mod:`heard.app._jobs`) the page polls.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from heard.app._jobs import Job, Jobs
from heard.app._saving import recode
from heard.app._security import TooLarge, body_cap, csrf_ok, msg, too_large_text
from heard.app._views import Views, context, zones
from heard.app._wording import for_the_form
from heard.errors import HeardError
from heard.ingest import ReadOptions, zone

__all__ = ["add_import_routes"]


def add_import_routes(app: FastAPI, views: Views, jobs: Jobs, *, limit: int) -> None:
    """The home page (the list and the import form), ``POST /import`` and its job status."""
    store = views.store

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return views.page(request, "home.j2", chats=store.chats(), zones=zones(),
                          importing=jobs.running())

    @app.post("/import", response_class=HTMLResponse)
    async def import_(request: Request) -> Response:
        asynchronous = request.headers.get("x-heard-async") == "1"
        too_big = too_large_text("/import", limit)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > body_cap("/import", limit):
            return views.home_error(request, 413, too_big, asynchronous)
        try:
            form = await request.form(max_files=1, max_fields=10)
        except TooLarge:
            return views.home_error(request, 413, too_big, asynchronous)
        folder: Path | None = None
        handed_to_job = False
        try:
            if not csrf_ok(request, str(form.get("csrf") or "")):
                if asynchronous:
                    return JSONResponse({"error": msg("E505")}, status_code=403)
                return views.forbidden(request)
            upload = form.get("file")
            if upload is None or isinstance(upload, str) or not upload.filename:
                return views.home_error(request, 400, msg("E504"), asynchronous)
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
                # a reader that crashed on this file: said plainly, as a numbered error
                return msg("E522", name=safe, detail=type(exc).__name__)

            try:
                # copying and testing a zip are disk and CPU work: off the event loop
                size = await run_in_threadpool(save_upload, upload.file, target)
                if size > limit:
                    return views.home_error(request, 413, too_large_text("/import", limit, safe),
                                            asynchronous)
                await run_in_threadpool(check_zip, target, safe)
                options = read_options(form)
            except HeardError as exc:
                return views.home_error(request, 400, worded(exc), asynchronous)

            def work(job: Job | None = None) -> int:
                chat_id = store.import_export(target, filename=safe, options=options,
                                              progress=job.update if job else None).chat_id
                context(store, chat_id)  # the overview is ready when the job says "done"
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
            except Exception as exc:  # every failure is a numbered message on the page
                status = 400 if isinstance(exc, HeardError) else 422
                return views.home_error(request, status, worded(exc), asynchronous)
        finally:
            if folder is not None and not handed_to_job:
                shutil.rmtree(folder, ignore_errors=True)
            await form.close()
        return RedirectResponse(f"/c/{chat_id}#import-summary", status_code=303)

    # a killed server's half-done imports finish once the store can be read: now, or for an
    # encrypted store when it is unlocked
    app.state.keyring.on_unlock(lambda: resume_interrupted(store, jobs))

    @app.get("/import/jobs/{job_id}")
    def import_status(job_id: str) -> JSONResponse:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": "There is no such import. Please import again."},
                                status_code=404)
        return JSONResponse(job.to_dict())


def resume_interrupted(store: Any, jobs: Jobs) -> list[Job]:
    """Finish, on the import worker, every conversation a killed server left not ready.

    Its messages were saved (phase 1 of an import); its codes and analysis were not. A store
    that is still locked is left alone: importing the file again finishes it as well.
    """
    try:
        waiting = [c["id"] for c in store.chats() if not c["ready"]]
    except HeardError:
        return []

    def finish(chat_id: int) -> Any:
        def work(job: Job) -> int:
            recode(store, chat_id, job.update)
            return chat_id
        return work

    return [jobs.start(finish(chat_id), lambda exc: msg("E516", kind=type(exc).__name__),
                       lambda: None) for chat_id in waiting]


def save_upload(source: Any, target: Path) -> int:
    """Write the upload to ``target``, readable by this user only (0600); its size in bytes."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
        return out.tell()


def read_options(form: Any) -> ReadOptions:
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


def check_zip(path: Path, name: str) -> None:
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
