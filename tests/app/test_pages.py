"""The app's pages through FastAPI's TestClient: the messages view (days, search, filters,
pages), confirmation before deleting, downloads, import jobs and their progress, warnings
worded for the form, the coder named in the caveats, and safety flags a person can mark."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed (pip install 'heard[app]')")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import heard.report
from heard._files import megabytes
from heard.app._wording import for_the_form, safe_filename


def _tok(c: TestClient) -> str:
    """The CSRF token the pages embed for this client (an HMAC of its cookie's nonce)."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/check").text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _import(c: TestClient, path: Path, **fields: str) -> int:
    r = c.post("/import", data={"csrf": _tok(c), **fields},
               files={"file": (path.name, path.read_bytes())}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return int(r.headers["location"].split("/")[2].split("#")[0])


def _text(html: str) -> str:
    """The page's words, tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


# ---------------------------------------------------------------------- messages


def test_pages_messages_have_a_heading_for_each_day(client: TestClient, chat_v2: Path) -> None:
    cid = _import(client, chat_v2)
    html = client.get(f"/c/{cid}/messages").text
    days = re.findall(r'<h2 class="day"><time datetime="([\d-]+)">([^<]+)</time>', html)
    assert days == [("2024-03-02", "Sat 02 Mar 2024"), ("2024-03-03", "Sun 03 Mar 2024")]
    # the morning's messages sit under the second day, not the first
    second = html[html.index('datetime="2024-03-03"'):]
    assert "that&#39;s on me" in second and "I felt alone at dinner" not in second


def test_pages_messages_search_and_filters(client: TestClient, chat_v2: Path) -> None:
    cid = _import(client, chat_v2)

    def showing(query: str) -> str:
        html = client.get(f"/c/{cid}/messages?{query}").text
        i = html.index('id="showing"')
        return _text(html[i:html.index("</p>", i)])

    assert "All 9 messages" in showing("")
    assert "1 of 9 messages match" in showing("q=dinner")
    assert "5 of 9 messages match" in showing("sender=Jo")
    assert "3 of 9 messages match" in showing("since=2024-03-03")
    assert "1 of 9 messages match" in showing("since=2024-03-03&until=2024-03-03&sender=Sam")
    assert "1 of 9 messages match" in showing("code=reframing")
    assert "0 of 9 messages match" in showing("code=reframing&sender=Sam")
    assert "All 9 messages" in showing("since=not-a-date")  # ignored, never an error
    html = client.get(f"/c/{cid}/messages?q=dinner&sender=Sam").text
    assert 'value="dinner"' in html and '<option value="Sam" selected>' in html
    assert "I felt alone at <mark" in html or "dinner" in html
    none = client.get(f"/c/{cid}/messages?q=zebra").text
    assert "No message matches" in none


def test_pages_messages_are_paged_and_keep_the_filter(client: TestClient, chat_v2: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import heard.app._routes_chat as server

    monkeypatch.setattr(server, "PER_PAGE", 2)
    cid = _import(client, chat_v2)
    first = client.get(f"/c/{cid}/messages?sender=Jo").text
    assert "Page 1 of 3" in _text(first) and "Showing 1 to 2" in _text(first)
    nxt = re.search(r'href="([^"]+)" rel="next"', first)
    assert nxt and "sender=Jo" in nxt.group(1) and "page_no=2" in nxt.group(1)
    last = client.get(f"/c/{cid}/messages?sender=Jo&page_no=3").text
    assert "Showing 5 to 5" in _text(last) and 'rel="next"' not in last
    prev = re.search(r'href="([^"]+)" rel="prev"', last)
    assert prev and "sender=Jo" in prev.group(1).replace("&amp;", "&")
    assert last.count('class="msg ') == 1
    # a link to one message opens the page that holds it
    store = client.app.state.store
    ok = store.corpus(cid).conversations[0].messages[-1].message_id
    at = client.get(f"/c/{cid}/messages?at={ok}").text
    assert "Page 5 of 5" in _text(at) and f'id="m-{ok}"' in at


def test_pages_messages_do_not_load_the_whole_chat(client: TestClient, chat_v2: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _import(client, chat_v2)
    store = client.app.state.store

    def whole(*a: Any, **k: Any) -> Any:
        raise AssertionError("the messages page read the whole conversation")

    monkeypatch.setattr(store, "_read_corpus", whole)
    monkeypatch.setattr(store, "analysis", whole)
    r = client.get(f"/c/{cid}/messages?q=dinner&family=reach")
    assert r.status_code == 200 and "messages match" in r.text


# ---------------------------------------------------------------------- confirm before delete


def test_pages_delete_asks_first(client: TestClient, chat_v1: Path) -> None:
    cid = _import(client, chat_v1)
    overview = client.get(f"/c/{cid}").text
    assert f'action="/c/{cid}/delete"' not in overview  # no one-click delete anywhere
    assert f'action="/c/{cid}/delete"' not in client.get("/").text
    ask = client.get(f"/c/{cid}/delete")
    assert ask.status_code == 200
    words = _text(ask.text)
    assert "Delete “Jo and Sam”?" in words and "6 messages" in words and "can't be undone" in words
    assert 'name="confirm" value="yes"' in ask.text and "No, keep it" in words
    # a POST without the confirmation shows the question again and deletes nothing
    r = client.post(f"/c/{cid}/delete", data={"csrf": _tok(client)})
    assert "Yes, delete this conversation" in r.text and client.get(f"/c/{cid}").status_code == 200
    bad = client.post(f"/c/{cid}/delete", data={"csrf": "wrong", "confirm": "yes"})
    assert bad.status_code == 403 and client.get(f"/c/{cid}").status_code == 200
    done = client.post(f"/c/{cid}/delete", data={"csrf": _tok(client), "confirm": "yes"})
    assert "were deleted" in done.text and client.get(f"/c/{cid}").status_code == 404
    assert client.get(f"/c/{cid}/delete").status_code == 404


def test_pages_forget_everything_asks_first(client: TestClient, chat_v1: Path) -> None:
    _import(client, chat_v1)
    assert 'action="/forget"' not in client.get("/").text
    ask = _text(client.get("/forget").text)
    assert "1 conversation (6 messages)" in ask and "Yes, delete everything now" in ask
    kept = client.post("/forget", data={"csrf": _tok(client)})
    assert "Yes, delete everything now" in kept.text and client.app.state.store.chats()
    done = client.post("/forget", data={"csrf": _tok(client), "confirm": "yes"})
    # the key went too: an encrypted app asks for a passphrase for the new, empty store
    assert "Everything heard stored" in done.text and "Choose a passphrase" in done.text
    assert client.app.state.keyring.state == "new"


# ---------------------------------------------------------------------- downloads


def test_pages_download_report_html(client: TestClient, chat_v1: Path) -> None:
    cid = _import(client, chat_v1)
    assert f"/c/{cid}/report.html" in client.get(f"/c/{cid}").text
    r = client.get(f"/c/{cid}/report.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-disposition"] == (
        'attachment; filename="heard-report-Jo-and-Sam.html"')
    assert r.text.lstrip().lower().startswith("<!doctype html>") and "Jo" in r.text
    assert client.get("/c/99/report.html").status_code == 404


def test_pages_download_summary_pdf(client: TestClient, chat_v1: Path) -> None:
    if not hasattr(heard.report, "render_summary_pdf"):
        pytest.skip("heard.report.render_summary_pdf is not written yet")
    cid = _import(client, chat_v1)
    r = client.get(f"/c/{cid}/summary.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert r.headers["content-disposition"] == 'attachment; filename="heard-summary-Jo-and-Sam.pdf"'
    red = client.get(f"/c/{cid}/summary.pdf?redact=true")
    assert red.content.startswith(b"%PDF")
    # a redacted summary's file name doesn't carry the names either
    assert red.headers["content-disposition"] == (
        'attachment; filename="heard-summary-redacted.pdf"')


def test_pages_summary_pdf_says_when_it_is_missing(client: TestClient, chat_v1: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _import(client, chat_v1)
    monkeypatch.delattr(heard.report, "render_summary_pdf", raising=False)
    r = client.get(f"/c/{cid}/summary.pdf")
    assert r.status_code == 501 and "cannot write the summary PDF yet" in r.text


@pytest.mark.parametrize(("title", "name"), [
    ("Maya and Dan", "heard-report-Maya-and-Dan.html"),
    ('../../etc/"passwd"\r\n', "heard-report-etc-passwd.html"),
    ("Zoë and Łukasz", "heard-report-Zoe-and-ukasz.html"),
    ("😂😂", "heard-report.html"),
])
def test_pages_download_names_are_safe(title: str, name: str) -> None:
    assert safe_filename(title, prefix="heard-report", suffix=".html") == name


@pytest.mark.parametrize(("size", "words"), [
    (512 * 1024, "0.5"), (200 * 2**20, "200"), (1500 * 2**20, "1,500")])
def test_pages_upload_limit_is_written_as_a_person_would(size: int, words: str) -> None:
    assert megabytes(size) == words


# ---------------------------------------------------------------------- import jobs


def _wait(client: TestClient, url: str) -> tuple[dict[str, Any], list[str]]:
    stages: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        data = client.get(url).json()
        stages.append(data["stage"])
        if data["finished"]:
            return data, stages
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_pages_import_runs_as_a_job_with_progress(client: TestClient, chat_v1: Path) -> None:
    r = client.post("/import", data={"csrf": _tok(client)},
                    files={"file": (chat_v1.name, chat_v1.read_bytes())},
                    headers={"X-Heard-Async": "1"})
    assert r.status_code == 202
    start = r.json()
    assert start["status"].startswith("/import/jobs/") and start["finished"] is False
    data, stages = _wait(client, start["status"])
    assert data["error"] is None and data["location"] == "/c/1#import-summary"
    assert data["stage"] == "done" and stages[-1] == "done"
    assert "6 new messages" in client.get("/c/1").text
    assert not list(Path(client.app.state.store.upload_dir).iterdir())  # temp file gone
    assert client.get("/import/jobs/nope").status_code == 404


def test_pages_import_job_stage_words() -> None:
    from heard.app._jobs import Job

    job = Job(id="x")
    job.update("coding", 0, 10_000)
    d = job.to_dict()
    assert (d["step"], d["steps"]) == (3, 4)
    assert d["label"] == "Reading what each message does: 10,000 messages"
    job.update("coding", 4000, 10_000)
    assert job.to_dict()["label"] == "Reading what each message does: 4,000 of 10,000 messages"
    job.update("reading", 4000, None)
    assert job.to_dict()["label"] == "Reading the file: 4,000 messages so far"


def test_pages_import_job_errors_are_worded(client: TestClient) -> None:
    headers = {"X-Heard-Async": "1"}
    bad = client.post("/import", data={"csrf": "wrong"}, headers=headers,
                      files={"file": ("a.txt", b"x")})
    assert bad.status_code == 403 and "security token" in bad.json()["error"]
    big = client.post("/import", data={"csrf": _tok(client)}, headers=headers,
                      files={"file": ("huge.txt", b"a" * 200_000)})
    assert big.status_code == 413 and "upload limit" in big.json()["error"]
    tz = client.post("/import", data={"csrf": _tok(client), "tz": "Mars/Base"},
                     headers=headers, files={"file": ("a.txt", b"x")})
    assert tz.status_code == 400 and "Mars/Base" in tz.json()["error"]
    r = client.post("/import", data={"csrf": _tok(client)}, headers=headers,
                    files={"file": ("notes.txt", b"just some words\nwith no chat in them\n")})
    data, _ = _wait(client, r.json()["status"])
    assert data["stage"] == "failed" and "what kind of export" in data["error"]
    assert "uploads" not in data["error"] and data["location"] is None
    assert not list(Path(client.app.state.store.upload_dir).iterdir())


# ---------------------------------------------------------------------- words


def test_pages_import_warnings_name_the_forms_fields(client: TestClient, chat_v1: Path) -> None:
    from heard.ingest import read_export

    # the CLI keeps its own words ...
    cli = read_export(str(chat_v1))
    list(cli)
    assert any("Pass --tz" in w for w in cli.report.warnings)
    # ... and the app words the same warning for its form
    cid = _import(client, chat_v1)
    page = _text(client.get(f"/c/{cid}").text)
    summary = page[page.index("Import summary"):page.index("Strengths first")]
    assert "--tz" not in summary and "“Your time zone” chosen under Options" in summary
    assert "Your time zone" in _text(client.get("/").text)  # the field it names exists


@pytest.mark.parametrize("cli", [
    "WhatsApp records the phone's local clock time without a zone; times were placed in UTC. "
    "Pass --tz (for example Europe/Berlin) to place them in your zone.",
    "timestamps without a time zone were read as UTC; pass --tz to place them in your zone",
    "times are the exporting PC's clock, placed in UTC; pass --tz",
    "the day/month order is uncertain: dates were read as DMY (confidence 0.80); if that is "
    "wrong, import again with --date-order MDY",
    "--date-order DMY contradicts the dates in the file, which read as MDY",
    "'chat.txt': can't tell whether dates such as '03/04/24' are day/month or month/day "
    "(x). Pass --date-order DMY or --date-order MDY.",
    "'chat.json' has 4 senders (A, B, C, D), which makes it a group chat. "
    "Pass --pair A B to analyze two of them.",
    "--pair names 'Zed', who is not in 'chat.txt'. Senders there: A, B.",
    "'x.zip' holds 3 chats: a, b, c. Pass --chat with a name, handle or number from this list.",
    "--chat 'q' matches no chat in 'x.zip'. Chats there: a, b.",
    "--chat 'q' matches 2 chats in 'x.zip': a, b. Pass a fuller name, a handle, or the number "
    "from this list.",
    "E003: 'photo.png' looks like a binary file, not a chat export (it contains NUL bytes). "
    "Pass the exported .txt/.json/.csv/.jsonl file.",
])
def test_pages_form_wording_leaves_no_cli_option(cli: str) -> None:
    worded = for_the_form(cli)
    assert not re.search(r"--[a-z]|\bPass\b", worded), worded
    assert "Options" in worded or "“" in worded or "Choose" in worded


def test_pages_caveat_names_the_coder_used(client: TestClient, chat_v1: Path) -> None:
    cid = _import(client, chat_v1)
    page = _text(client.get(f"/c/{cid}").text)
    caveats = page[page.index("What this can't tell you"):]
    assert "The codes were made by heard's trained model" in caveats
    assert "codes given with the input" not in page
    assert "How far to trust the codes" in caveats  # its measured accuracy, quoted
    # and code by code, beside the counts of every code found
    table = page[page.index("Every code found, for both partners"):page.index("The last column")]
    assert "Right on real text heard never learned from" in table
    assert re.search(r"\d+ of [\d,]+ \(\d+%\)|too few to say|never given there", table)


# ---------------------------------------------------------------------- safety flags


def test_pages_safety_flag_can_be_dismissed_and_restored(client: TestClient,
                                                         chat_safety: Path) -> None:
    assert "Some messages here speak of" not in client.get("/safety").text  # nothing found yet
    cid = _import(client, chat_safety)
    store = client.app.state.store
    flag = store.analysis(cid).safety.findings[0].message_id
    assert "Some messages here speak of" in client.get("/safety").text
    page = client.get(f"/c/{cid}").text
    assert "Safety first" in page and "Not what this means" in page
    assert 'class="safety-banner"' in page and "collapsed-analysis" in page
    url = f"/c/{cid}/flags/{flag}/dismiss"
    assert client.post(url, data={"csrf": "wrong"}).status_code == 403
    assert store.dismissed(cid) == {}
    r = client.post(url, data={"csrf": _tok(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/c/{cid}#safety"
    page = client.get(f"/c/{cid}").text
    words = _text(page)
    # still listed, marked, dated; the patterns open; nothing silently removed
    assert "Marked “not what this means”" in words and "I don't know what I'll do" in words
    assert re.search(r"You marked this “not what this means” on \w{3} \d\d \w{3} \d{4}", words)
    assert "Restore the flag" in words and "collapsed-analysis" not in page
    assert "People who can help" in words
    assert 'class="safety-banner"' not in client.get("/").text
    assert client.post(f"/c/{cid}/flags/nothere/dismiss",
                       data={"csrf": _tok(client)}).status_code == 404
    client.post(f"/c/{cid}/flags/{flag}/restore", data={"csrf": _tok(client)})
    page = client.get(f"/c/{cid}").text
    assert "Marked “not what this means”" not in _text(page) and "collapsed-analysis" in page
    assert 'class="safety-banner"' in page


# ---------------------------------------------------------------------- the short answer

def test_pages_overview_opens_with_the_reports_short_answer(client, tmp_path) -> None:
    """The app answers the same question as the report, from the same template and data."""
    from heard.samples import demo_path

    chat_id = _import(client, demo_path())
    page = client.get(f"/c/{chat_id}").text
    assert 'id="answer"' in page
    assert page.index('id="answer"') < page.index('id="strengths"')
    words = _text(page)
    for who in ("Dan", "Maya"):
        assert f"When {who} reached out" in words
    assert "What could change: what already worked between you" in words
    # figures link to the app's own message list, quotes to the message in the conversation
    answer = page[page.index('id="answer"'):page.index('id="strengths"')]
    assert f'href="/c/{chat_id}/messages?ev=' in answer
    assert 'href="#ev-' not in answer
    ev = re.search(r'href="(/c/\d+/messages\?ev=[^"]+)"', answer).group(1)
    assert client.get(ev.replace("&amp;", "&")).status_code == 200
