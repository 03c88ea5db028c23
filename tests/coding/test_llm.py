"""The LLM coder against a real OpenAI-compatible HTTP server on 127.0.0.1 (a small fake model).

The fake server is a real ``ThreadingHTTPServer``: it records every request as received and
answers either with a toy "model" (keyword triggers quoted from the message it was asked to
code) or with a canned reply. Nothing leaves this computer.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from heard.coding import LLMCoder, codebook
from heard.coding._llm_http import chat_url, is_loopback
from heard.errors import InputError, OptionError
from heard.model import Corpus, Message

TARGET_HEADER = "Message to code, written by "

#: The toy model: (words in the message, code, score). It quotes the words it saw.
TRIGGERS = [
    ("you always", "criticism", 0.9),
    ("I felt", "emotional_truth", 0.8),
    ("not what happened", "proving_wrong", 0.85),
    ("Are you mad", "tracking", 0.7),
    ("maybe", "bid", 0.3),
]

Reply = tuple[int, Any, float]  # status, JSON body (or raw bytes), delay in seconds


def toy_model(body: dict[str, Any]) -> Reply:
    """Code the target message of a request by keyword, quoting it verbatim."""
    content = body["messages"][1]["content"]
    lines = content.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(TARGET_HEADER))
    target = "\n".join(lines[start + 1:])
    codes = []
    for words, code, score in TRIGGERS:
        at = target.find(words)
        if at >= 0:
            # quote a little more than the trigger, up to the end of its clause
            end = min([i for i in (target.find(c, at) for c in ",.?!") if i >= 0] or
                      [len(target)])
            codes.append({"code": code, "score": score, "evidence": [target[at:end]]})
    return 200, completion(json.dumps({"codes": codes})), 0.0


def completion(content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "toy",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}]}


class FakeServer:
    """A real HTTP server on 127.0.0.1 that records requests and answers with ``reply``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: Callable[[dict[str, Any]], Reply] = toy_model
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                record = {"path": self.path, "raw": raw, "headers": dict(self.headers)}
                fake.requests.append(record)
                if self.path == "/elsewhere":
                    self._send(200, completion('{"codes": []}'))
                    return
                body = json.loads(raw)
                record["body"] = body
                status, answer, delay = fake.reply(body)
                if delay:
                    time.sleep(delay)
                self._send(status, answer)

            def _send(self, status: int, answer: Any, headers: dict[str, str] | None = None
                      ) -> None:
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.Handler = Handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def sent_text(self) -> str:
        return "\n".join(r["raw"].decode("utf-8") for r in self.requests)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def coder(server: FakeServer, **kw: Any) -> LLMCoder:
    return LLMCoder(endpoint=kw.pop("endpoint", server.url), model="toy", **kw).fit()


def couple() -> Corpus:
    texts = [
        ("Maya", "Theo, I felt really alone at the party last night."),
        ("Theo", "that's not what happened, Maya. I was right there"),
        ("Maya", "Are you mad at me? maya is just tired, Theo"),
        ("Theo", "you always do this, Maya."),
    ]
    return Corpus.from_messages(Message("c1", f"m{i}", s, None, t)
                                for i, (s, t) in enumerate(texts))


def canned(codes: Any) -> Callable[[dict[str, Any]], Reply]:
    content = codes if isinstance(codes, str) else json.dumps(codes)
    return lambda body: (200, completion(content), 0.0)


# ------------------------------------------------------------------------- the request


def test_llm_request_carries_codebook_schema_and_message(server: FakeServer) -> None:
    coder(server).code_text("I felt alone at the party.")
    assert len(server.requests) == 1
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Content-Type"] == "application/json"
    body = req["body"]
    assert body["model"] == "toy" and body["temperature"] == 0.0 and body["stream"] is False
    system, user = body["messages"][0], body["messages"][1]
    assert system["role"] == "system" and user["role"] == "user"
    cb = codebook()
    for c in cb.codes:
        assert f"- {c.name}: {c.definition}." in system["content"]
        for note in c.not_this:
            assert note in system["content"]
    assert user["content"].endswith("I felt alone at the party.")
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    schema = fmt["json_schema"]["schema"]
    item = schema["properties"]["codes"]["items"]
    assert item["properties"]["code"]["enum"] == list(cb.names)
    assert item["properties"]["score"] == {"type": "number", "minimum": 0, "maximum": 1}
    assert item["properties"]["evidence"] == {"type": "array", "items": {"type": "string"}}
    assert schema["required"] == ["codes"]


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/chat/completions"])
def test_llm_endpoint_with_or_without_v1(server: FakeServer, suffix: str) -> None:
    coder(server, endpoint=server.url + suffix).code_text("hello")
    assert [r["path"] for r in server.requests] == ["/v1/chat/completions"]
    assert chat_url(server.url + suffix) == server.url + "/v1/chat/completions"


def test_llm_context_is_the_last_earlier_messages(server: FakeServer) -> None:
    coder(server, context_messages=2).fit_transform(couple())
    users = [r["body"]["messages"][1]["content"] for r in server.requests]
    assert len(users) == 4
    assert "there are no earlier messages" in users[0]
    last = users[3]
    # two earlier messages, oldest first; the first message is out of the window
    assert "alone at the party" not in last
    assert last.index("not what happened") < last.index("Are you mad at me?")
    none = LLMCoder(endpoint=server.url, model="toy", context_messages=0)
    assert "there are no earlier messages" in none.preview("x", ["y"])["messages"][1]["content"]


def test_llm_preview_is_exactly_what_is_sent(server: FakeServer) -> None:
    corpus = couple()
    c = coder(server)
    c.fit_transform(corpus)
    conv = corpus.conversations[0]
    for i, m in enumerate(conv.messages):
        assert c.preview(m, conv.messages[:i], names=conv.senders) == server.requests[i]["body"]


# ------------------------------------------------------------------------- names


def test_llm_names_are_replaced_in_what_is_sent_and_mapped_back(server: FakeServer) -> None:
    corpus = coder(server).fit_transform(couple())
    sent = server.sent_text()
    for name in ("Maya", "maya", "Theo"):
        assert name not in sent
    assert "Partner A" in sent and "Partner B" in sent
    first = server.requests[0]["body"]["messages"][1]["content"]
    assert first.endswith("written by Partner A:\nPartner B, I felt really alone at the party "
                          "last night.")
    m3 = corpus.conversations[0].messages[3]
    (crit,) = m3.codes
    assert crit.name == "criticism"
    # the model quoted "you always do this, Partner A" ... up to the comma: mapped back
    assert [e.text for e in crit.evidence] == ["you always do this"]
    m1 = corpus.conversations[0].messages[1]
    (pw,) = m1.codes
    assert pw.evidence[0].text == "not what happened"


def test_llm_evidence_spanning_a_name_maps_to_the_original(server: FakeServer) -> None:
    server.reply = canned({"codes": [{"code": "counter_blame", "score": 0.9,
                                      "evidence": ["Partner A, you started it"]}]})
    text = "Theo Brown, you started it"
    (code,) = coder(server).code_text(text, context=[Message("c", "1", "Theo Brown", None,
                                                             "hi")], sender="Maya")
    (ev,) = code.evidence
    assert (ev.start, ev.end, ev.text) == (0, len(text), text)


def test_llm_names_that_are_words_only_as_written(server: FakeServer) -> None:
    c = LLMCoder(endpoint=server.url, model="toy")
    body = c.preview("Will, I will be there. will?", sender="May", names=["May", "Will"])
    assert body["messages"][1]["content"].endswith("Partner B, I will be there. will?")
    off = LLMCoder(endpoint=server.url, model="toy", redact_names=False)
    body = off.preview("Will, hi", sender="May", names=["May", "Will"])
    assert body["messages"][1]["content"].endswith("written by May:\nWill, hi")


# ------------------------------------------------------------------------- checking answers


def test_llm_evidence_gets_exact_offsets(server: FakeServer) -> None:
    corpus = coder(server).fit_transform(couple())
    n = 0
    for m in corpus.iter_messages():
        for c in m.codes:
            assert c.rule_ids == ("llm:toy",)
            for e in c.evidence:
                assert m.text[e.start:e.end] == e.text and e.text
                n += 1
    assert n == 4


def test_llm_drops_and_counts_what_is_not_verbatim_or_unknown(server: FakeServer) -> None:
    server.reply = canned({"codes": [
        {"code": "criticism", "score": 0.9, "evidence": ["you always", "you ALWAYS", "never"]},
        {"code": "made_up_code", "score": 0.9, "evidence": ["you always"]},
        {"code": "contempt", "score": 0.8, "evidence": ["a paraphrase of it"]},
        {"code": "withdrawal", "score": 0.8, "evidence": []},
        "not an object",
        {"code": "bid", "score": "high", "evidence": ["you"]},
        {"code": "criticism", "score": 0.95, "evidence": ["do this"]},
        {"code": "tracking", "score": 0.2, "evidence": ["you"]},
    ]})
    c = coder(server)
    codes = c.code_text("you always do this")
    assert [x.name for x in codes] == ["criticism"]
    assert codes[0].score == 0.95
    assert [(e.start, e.end, e.text) for e in codes[0].evidence] == [(0, 10, "you always"),
                                                                      (11, 18, "do this")]
    assert c.dropped_evidence_ == 3
    assert c.unknown_codes_ == 1
    assert c.dropped_codes_ == 2
    assert c.malformed_items_ == 2
    assert c.stats == {"requests": 1, "dropped_evidence": 3, "unknown_codes": 1,
                       "dropped_codes": 2, "malformed_items": 2}


@pytest.mark.parametrize("content", [
    'Sure! Here is the JSON:\n```json\n{"codes": [{"code": "criticism", "score": 0.9, '
    '"evidence": ["you always"]}]}\n```',
    '<think>{"codes": []} is wrong</think>{"codes": [{"code": "criticism", "score": 0.9, '
    '"evidence": ["you always"]}]}',
    '[{"code": "criticism", "score": 0.9, "evidence": "you always"}]',
])
def test_llm_accepts_plain_json_from_servers_without_schema(server: FakeServer,
                                                           content: str) -> None:
    server.reply = canned(content)
    (code,) = coder(server).code_text("you always do this")
    assert code.name == "criticism" and code.evidence[0].text == "you always"


def test_llm_batches_give_the_same_codes(server: FakeServer) -> None:
    one = coder(server).fit_transform(couple())
    many = coder(server, batch_size=3).fit_transform(couple())
    assert [m.codes for m in one.iter_messages()] == [m.codes for m in many.iter_messages()]
    assert len(server.requests) == 8


def test_llm_non_text_messages_are_not_sent(server: FakeServer) -> None:
    corpus = Corpus.from_messages([
        Message("c", "1", "Maya", None, "I felt alone"),
        Message("c", "2", "Theo", None, "photo.jpg", kind="attachment"),
        Message("c", "3", "", None, "Theo joined", kind="event"),
    ])
    coder(server).fit_transform(corpus)
    assert len(server.requests) == 1
    assert [len(m.codes) for m in corpus.iter_messages()] == [1, 0, 0]


# ------------------------------------------------------------------------- failures


def _raises(fn: Callable[[], Any], number: str, endpoint: str) -> str:
    with pytest.raises(InputError) as info:
        fn()
    text = str(info.value)
    assert text.startswith(f"{number}: ") and "\n" not in text and endpoint in text
    return text


@pytest.mark.parametrize(("reply", "number", "tries"), [
    (canned("this is not json at all"), "E462", 2),
    (canned('{"labels": []}'), "E462", 2),
    (lambda body: (500, {"error": {"message": "model crashed"}}, 0.0), "E460", 2),
    (lambda body: (404, {"error": {"message": "model 'toy' not found"}}, 0.0), "E460", 1),
    (lambda body: (200, b"<html>hello</html>", 0.0), "E461", 1),
    (lambda body: (200, {"object": "list", "data": []}, 0.0), "E461", 1),
])
def test_llm_bad_answers_give_numbered_one_line_errors(server: FakeServer, reply: Any,
                                                       number: str, tries: int) -> None:
    server.reply = reply
    c = coder(server, max_retries=1)
    text = _raises(lambda: c.code_text("you always"), number, server.url)
    assert len(server.requests) == tries
    if number == "E460":
        assert "HTTP" in text and "model" in text


def test_llm_connection_refused(server: FakeServer) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    c = LLMCoder(endpoint=url, model="toy", max_retries=0).fit()
    text = _raises(lambda: c.code_text("hi"), "E458", url)
    assert "tried 1 time" in text


def test_llm_timeout(server: FakeServer) -> None:
    server.reply = lambda body: (200, completion('{"codes": []}'), 1.0)
    c = coder(server, timeout=0.2, max_retries=0)
    started = time.monotonic()
    _raises(lambda: c.code_text("hi"), "E459", server.url)
    assert time.monotonic() - started < 0.9


def test_llm_redirect_is_not_followed(server: FakeServer) -> None:
    class Redirect(server.Handler):  # type: ignore[name-defined,misc]
        def do_POST(self) -> None:
            server.requests.append({"path": self.path, "raw": b""})
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send(307, {}, {"Location": server.url + "/elsewhere"})

    server.httpd.RequestHandlerClass = Redirect
    _raises(lambda: coder(server, max_retries=0).code_text("hi"), "E460", server.url)
    assert [r["path"] for r in server.requests] == ["/v1/chat/completions"]


def test_llm_ignores_proxy_settings(server: FakeServer, monkeypatch) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(var, dead)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    coder(server).code_text("hi")
    assert len(server.requests) == 1


@pytest.mark.parametrize("endpoint", ["http://example.com:11434", "https://api.openai.com/v1",
                                      "http://10.0.0.5:8080", "http://192.168.1.2"])
def test_llm_remote_endpoint_is_refused(endpoint: str, monkeypatch) -> None:
    def no_network(*args: Any) -> None:
        raise AssertionError("fit and preview must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(OptionError) as info:
        LLMCoder(endpoint=endpoint, model="toy").fit()
    assert str(info.value).startswith("E456: ") and "--allow-remote" in str(info.value)
    allowed = LLMCoder(endpoint=endpoint, model="toy", allow_remote=True).fit()
    assert allowed.preview("hi")["messages"][1]["content"].endswith("hi")
    assert allowed.stats["requests"] == 0


@pytest.mark.parametrize(("host", "local"), [
    ("127.0.0.1", True), ("127.8.0.1", True), ("localhost", True), ("[::1]", True),
    ("::1", True), ("0.0.0.0", False), ("localhost.example.com", False), ("10.1.1.1", False),
    ("LocalHost", True), ("api.localhost", False),
])
def test_llm_is_loopback(host: str, local: bool) -> None:
    assert is_loopback(host) is local


@pytest.mark.parametrize(("kw", "number"), [
    ({"endpoint": "ftp://127.0.0.1"}, "E457"),
    ({"endpoint": "127.0.0.1:11434"}, "E457"),
    ({"endpoint": "http://127.0.0.1:99999"}, "E457"),
    ({"endpoint": ""}, "E457"),
    ({"model": ""}, "E464"),
    ({"timeout": 0}, "E464"),
    ({"max_retries": 100}, "E464"),
    ({"batch_size": 0}, "E464"),
    ({"context_messages": -1}, "E464"),
    ({"threshold": 2}, "E464"),
])
def test_llm_bad_settings(kw: dict[str, Any], number: str) -> None:
    settings = {"endpoint": "http://127.0.0.1:11434", "model": "toy", **kw}
    with pytest.raises(OptionError) as info:
        LLMCoder(**settings).fit()
    assert str(info.value).startswith(f"{number}: ") and "\n" not in str(info.value)


# ------------------------------------------------------------------------- CLI


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    path = tmp_path / "chat.jsonl"
    rows = [{"conversation_id": "c1", "message_id": m.message_id, "sender": m.sender,
             "timestamp": f"2026-02-01T20:0{i}:00+00:00", "text": m.text}
            for i, m in enumerate(couple().iter_messages())]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_llm_cli_preview_sends_nothing(server: FakeServer, chat: Path, cli) -> None:
    status, out, err = cli("code", str(chat), "--engine", "llm", "--endpoint",
                           server.url, "--llm-model", "toy", "--preview")
    assert status == 0, err
    assert server.requests == []
    body = json.loads(out)
    assert body == LLMCoder(endpoint=server.url, model="toy").preview(
        "Theo, I felt really alone at the party last night.", sender="Maya",
        names=["Maya", "Theo"])
    assert "Maya" not in out and "Theo" not in out
    assert "nothing was sent" in err and "4 text messages" in err


def test_llm_cli_code(server: FakeServer, chat: Path, cli) -> None:
    status, out, err = cli("code", str(chat), "--engine", "llm", "--endpoint",
                           server.url + "/v1", "--llm-model", "toy")
    assert status == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [[c["code"] for c in r["codes"]] for r in records] == [
        ["emotional_truth"], ["proving_wrong"], ["tracking"], ["criticism"]]
    for r in records:
        for c in r["codes"]:
            for e in c["evidence"]:
                assert r["text"][e["start"]:e["end"]] == e["text"]
    assert "llm coder: 4 request(s)" in err and "0 evidence quote(s)" in err


def test_llm_cli_eval_uses_the_same_harness(server: FakeServer, tmp_path: Path,
                                            cli) -> None:
    gold = tmp_path / "gold.jsonl"
    rows = [("I felt alone when you left", ["emotional_truth"]),
            ("you always do this", ["criticism"]),
            ("that's not what happened", ["proving_wrong"]),
            ("Are you mad at me?", ["tracking"]),
            ("I'm done talking about this", ["withdrawal"])]
    gold.write_text("".join(json.dumps({"text": t, "gold": g, "sender": "AB"[i % 2]}) + "\n"
                            for i, (t, g) in enumerate(rows)), encoding="utf-8")
    status, out, err = cli("eval", str(gold), "--engine", "llm", "--endpoint",
                           server.url, "--llm-model", "toy", "--json")
    assert status == 0, err
    result = json.loads(out)
    scores = {c["label"]: c for c in result["codes"]}
    assert scores["criticism"]["tp"] == 1 and scores["withdrawal"]["fn"] == 1
    assert result["micro_f1"] == pytest.approx(2 * 4 / (2 * 4 + 0 + 1), abs=1e-4)
    assert len(server.requests) == 5


@pytest.mark.parametrize(("extra", "number"), [
    (["--llm-model", "toy"], "E463"),
    (["--endpoint", "http://127.0.0.1:1"], "E463"),
    (["--endpoint", "http://example.com", "--llm-model", "toy"], "E456"),
])
def test_llm_cli_option_errors(chat: Path, cli, extra: list[str], number: str) -> None:
    status, out, err = cli("code", str(chat), "--engine", "llm", *extra)
    assert status == 2 and out == ""
    assert err.startswith(f"heard: error: {number}: ") and err.count("\n") == 1


def test_llm_cli_preview_needs_llm(chat: Path, cli) -> None:
    status, _, err = cli("code", str(chat), "--preview")
    assert status == 2 and "E465" in err


def test_llm_cli_server_down_is_one_line(chat: Path, cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status, out, err = cli("code", str(chat), "--engine", "llm", "--endpoint", url,
                           "--llm-model", "toy")
    assert status == 2 and out == ""
    assert err.startswith("heard: error: E458: ") and err.count("\n") == 1 and url in err
