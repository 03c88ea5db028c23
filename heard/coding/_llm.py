"""The LLM coder: code messages with a language model served by the user, on this computer.

heard makes no network call unless the user names a model server, and then talks only to it.
The server must speak the OpenAI chat completions API (Ollama, llama.cpp's ``llama-server``,
vLLM and LM Studio all do); only the standard library is used to reach it.

How a message is coded
----------------------
1. **What is sent.** One ``POST {endpoint}/v1/chat/completions`` per message: the codebook
   (names, families, definitions, one example, the "not this" notes) in the system prompt; the
   message and up to ``context_messages`` earlier messages of its conversation in the user
   prompt; a JSON schema in ``response_format`` (``{"codes": [{"code", "score",
   "evidence"}]}``, ``code`` one of the 24 names). Timestamps, ids and the other fields of a
   message are never sent. :meth:`LLMCoder.preview` returns that body without sending it.
2. **Names.** With ``redact_names`` every sender's name, in the sender slot and wherever it
   appears in the text (whole words; its parts too for a multi-word name), becomes "Partner A",
   "Partner B", ... in order of first appearance in the conversation. Names that are also
   common English words ("Will", "May") are replaced only as written, so "I will" stays.
3. **Only the user's endpoint.** A server that is not on this computer (loopback) is refused
   unless ``allow_remote``; proxies from the environment are ignored and redirects are not
   followed, so the text goes to the address given and nowhere else.
4. **Checking the answer.** The reply's content must be JSON (a schema-aware server guarantees
   it; text around a JSON object, ``<think>`` blocks and code fences are tolerated for servers
   that ignore ``response_format``). Each evidence quote must be a verbatim substring of the
   message as sent; its offsets are mapped back through the name replacement to the original
   text, so ``Evidence.text`` is always ``message.text[start:end]``. Quotes not found are
   dropped (``dropped_evidence_``), unknown code names are dropped (``unknown_codes_``), and a
   code left without evidence is dropped (``dropped_codes_``). Codes with ``score >= threshold``
   are returned in codebook order; a code named twice keeps its best score and all its quotes.
5. **Failures.** A refused connection, a timeout, an HTTP error or a reply that is not JSON
   is tried again at most ``max_retries`` times, then raised as one numbered line (E458-E462)
   naming the endpoint and what to do.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, Self

from heard.coding._context import CONTEXT_OTHER, CONTEXT_SELF
from heard.coding._llm_http import (
    RETRY_STATUS,
    check_endpoint,
    codes_list,
    completion_content,
    content_json,
    failed,
    http_detail,
    one_line,
    opener,
)
from heard.coding._llm_prompt import Names, Redacted, prompt_data, response_schema, system_prompt
from heard.coding._spans import merge_spans
from heard.errors import InputError, OptionError
from heard.model import Code, Corpus, Evidence, Message, Step, codebook

__all__ = ["LLMCoder"]

_CODED_KINDS = frozenset({"text"})


class LLMCoder(Step):
    """Code every message with a language model on an OpenAI-compatible server the user runs.

    Parameters
    ----------
    endpoint : str
        The server's base address, with or without ``/v1`` (``http://127.0.0.1:11434`` for
        Ollama, ``http://127.0.0.1:8080`` for llama.cpp, ``http://127.0.0.1:8000`` for vLLM).
    model : str
        The model name the server knows (``ollama list``).
    timeout : float
        Seconds to wait for one answer.
    batch_size : int
        Requests in flight at once (servers with parallel slots, such as vLLM or
        ``llama-server -np 4``, answer them together). Results do not depend on it.
    context_messages : int
        Earlier messages of the conversation sent as context (0: none).
    redact_names : bool
        Replace the senders' names by "Partner A", "Partner B", ... in what is sent.
    temperature : float
    max_retries : int
        Further tries after a failed request (0 to 5); never more.
    allow_remote : bool
        Allow a server that is not on this computer. Off: such an endpoint is refused (E456).
    threshold : float
        Codes the model scores at least this are kept.
    output_field : str
        The ``message.annotations`` key written by :meth:`transform`.

    Attributes
    ----------
    url_ : str
        The chat completions address requests go to (after :meth:`fit`).
    requests_ : int
        Requests sent since :meth:`fit` (retries included).
    dropped_evidence_ : int
        Evidence quotes dropped because they are not verbatim in the message.
    unknown_codes_ : int
        Code names in replies that are not in the codebook (dropped).
    dropped_codes_ : int
        Codes dropped because none of their evidence survived.
    malformed_items_ : int
        Entries of a reply's ``codes`` list that were not a code object (dropped).

    Examples
    --------
    >>> coder = LLMCoder(endpoint="http://127.0.0.1:11434", model="llama3.1:8b")
    >>> body = coder.preview("Alex, I felt alone at the party.", sender="Sam",
    ...                      names=["Sam", "Alex"])
    >>> body["messages"][1]["content"].splitlines()[-1]
    'Partner B, I felt alone at the party.'
    """

    requires: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, *, endpoint: str, model: str, timeout: float = 60.0, batch_size: int = 1,
                 context_messages: int = 2, redact_names: bool = True, temperature: float = 0.0,
                 max_retries: int = 1, allow_remote: bool = False, threshold: float = 0.5,
                 output_field: str = "codes") -> None:
        self.endpoint = endpoint
        self.model = model
        self.timeout = timeout
        self.batch_size = batch_size
        self.context_messages = context_messages
        self.redact_names = redact_names
        self.temperature = temperature
        self.max_retries = max_retries
        self.allow_remote = allow_remote
        self.threshold = threshold
        self.output_field = output_field

    # -- fitting -------------------------------------------------------------------------
    def _validate(self, *, check_remote: bool) -> str:
        def need(ok: bool, option: str, detail: str, value: object) -> None:
            if not ok:
                raise OptionError.from_code("E464", option=option, detail=detail, value=value)

        def number(v: object) -> bool:
            return isinstance(v, int | float) and not isinstance(v, bool)

        need(isinstance(self.model, str) and bool(self.model.strip()), "model",
             "the name of a model the server serves", self.model)
        need(number(self.timeout) and 0 < self.timeout <= 3600, "timeout",
             "seconds between 0 and 3600", self.timeout)
        need(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 64, "batch_size",
             "a whole number from 1 to 64", self.batch_size)
        need(isinstance(self.context_messages, int) and 0 <= self.context_messages <= 50,
             "context_messages", "a whole number from 0 to 50", self.context_messages)
        need(isinstance(self.max_retries, int) and 0 <= self.max_retries <= 5, "max_retries",
             "a whole number from 0 to 5", self.max_retries)
        need(number(self.temperature) and 0 <= self.temperature <= 2, "temperature",
             "a number from 0 to 2", self.temperature)
        need(number(self.threshold) and 0 <= self.threshold <= 1, "threshold",
             "a number from 0 to 1", self.threshold)
        return check_endpoint(self.endpoint, allow_remote=self.allow_remote or not check_remote)

    def fit(self, corpus: Corpus | None = None) -> Self:
        """Check the settings (and that the endpoint is allowed); return ``self``. Sends nothing."""
        self.url_ = self._validate(check_remote=True)
        self._known = frozenset(codebook().names)
        self._order = {name: i for i, name in enumerate(codebook().names)}
        self.requests_ = 0
        self.dropped_evidence_ = 0
        self.unknown_codes_ = 0
        self.dropped_codes_ = 0
        self.malformed_items_ = 0
        self._lock = threading.Lock()
        self._mark_fitted()
        return self

    @property
    def stats(self) -> dict[str, int]:
        """What was sent and what was dropped since :meth:`fit`."""
        return {name: getattr(self, f"{name}_", 0) for name in (
            "requests", "dropped_evidence", "unknown_codes", "dropped_codes", "malformed_items")}

    # -- requests ------------------------------------------------------------------------
    def _body(self, target: Message, context: Sequence[Message],
              names: Names) -> tuple[dict[str, Any], Redacted]:
        data = prompt_data()
        lines: list[str] = []
        if context:
            lines.append(data["context_header"])
            for m in context:
                lines.append(f"{names.sender(m.sender)}: {names.text(m.text).sent}")
        else:
            lines.append(data["no_context"])
        lines.append("")
        redacted = names.text(target.text)
        lines.append(data["target_header"].format(sender=names.sender(target.sender)))
        lines.append(redacted.sent)
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system_prompt()},
                {"role": "user", "content": "\n".join(lines)},
            ],
            "temperature": float(self.temperature),
            "seed": 0,
            "stream": False,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": data["schema_name"], "strict": True,
                                "schema": response_schema()},
            },
        }
        return body, redacted

    def preview(self, message: Message | str, context: Sequence[Message | str] = (), *,
                sender: str | None = None, names: Sequence[str] | None = None
                ) -> dict[str, Any]:
        """The exact JSON body that coding ``message`` would POST; nothing is sent.

        Parameters
        ----------
        message : Message or str
        context : sequence of Message or str
            Earlier messages, oldest first; only the last ``context_messages`` text messages
            are used. Plain strings are taken as the other person's.
        sender : str, optional
            Who writes a plain-string ``message``.
        names : sequence of str, optional
            The conversation's senders in order of first appearance, so that a name in the
            text is replaced even when its owner is not among these messages (default: the
            senders of ``context`` and ``message``).
        """
        self._validate(check_remote=False)
        target, ctx = _as_messages(message, context, sender)
        ctx = self._context(ctx)
        senders = list(names) if names is not None else [m.sender for m in (*ctx, target)]
        return self._body(target, ctx, Names(senders, redact=self.redact_names))[0]

    def _context(self, earlier: Sequence[Message]) -> list[Message]:
        usable = [m for m in earlier if m.kind in _CODED_KINDS and m.is_human]
        return usable[-self.context_messages:] if self.context_messages else []

    def _post(self, body: Mapping[str, Any], message_id: str) -> Any:
        """POST one body, tried at most ``1 + max_retries`` times; the parsed ``codes`` list."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        attempts = 1 + self.max_retries
        failure: Callable[[int], InputError] | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                time.sleep(min(0.25 * (attempt - 1), 1.0))
            request = urllib.request.Request(
                self.url_, data=data, method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json"})
            with self._lock:
                self.requests_ += 1
            try:
                with opener().open(request, timeout=float(self.timeout)) as response:
                    raw = response.read()
            except urllib.error.HTTPError as exc:
                status, detail = exc.code, http_detail(exc)
                failure = failed("E460", endpoint=self.endpoint, status=status, detail=detail,
                                 model=self.model)
                if status in RETRY_STATUS:
                    continue
                raise failure(attempt) from None
            except TimeoutError:
                failure = failed("E459", endpoint=self.endpoint, timeout=self.timeout)
                continue
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    failure = failed("E459", endpoint=self.endpoint, timeout=self.timeout)
                else:
                    failure = failed("E458", endpoint=self.endpoint,
                                     detail=one_line(getattr(exc.reason, "strerror", None)
                                                     or exc.reason))
                continue
            except (OSError, ValueError, http.client.HTTPException) as exc:
                # reset connections, bad status lines
                failure = failed("E458", endpoint=self.endpoint, detail=one_line(exc))
                continue
            content = completion_content(raw, self.endpoint)
            try:
                return codes_list(content_json(content))
            except ValueError as exc:
                failure = failed("E462", endpoint=self.endpoint, model=self.model,
                                 message=message_id, detail=one_line(exc, 120))
                continue
        assert failure is not None
        raise failure(attempts)

    # -- coding --------------------------------------------------------------------------
    def transform(self, corpus: Corpus) -> Corpus:
        """Write ``annotations[output_field]`` for every message; non-text messages get ``()``.

        Raises
        ------
        InputError
            E458-E462 when the server cannot be reached or does not answer as asked.
        """
        self.check_fitted()
        jobs: list[tuple[Message, dict[str, Any], Redacted]] = []
        for conv in corpus.conversations:
            names = Names(conv.senders, redact=self.redact_names)
            earlier: list[Message] = []
            for m in conv.messages:
                m.annotations[self.output_field] = ()
                if m.kind not in _CODED_KINDS or not m.is_human:
                    continue
                body, redacted = self._body(m, self._context(earlier), names)
                jobs.append((m, body, redacted))
                earlier.append(m)
        for (m, _, redacted), items in zip(jobs, self._run(jobs), strict=True):
            m.annotations[self.output_field] = self._codes(items, redacted)
        return corpus

    def _run(self, jobs: Sequence[tuple[Message, dict[str, Any], Redacted]]) -> Iterable[Any]:
        if self.batch_size <= 1 or len(jobs) <= 1:
            return [self._post(body, m.message_id) for m, body, _ in jobs]
        with ThreadPoolExecutor(max_workers=self.batch_size) as pool:
            futures = [pool.submit(self._post, body, m.message_id) for m, body, _ in jobs]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def code_text(self, text: str, *, context: Sequence[Message | str] | None = None,
                  sender: str | None = None) -> tuple[Code, ...]:
        """Code one string, given the earlier messages of its conversation (oldest first).

        Plain-string context items are taken as the other person's messages.
        """
        self.check_fitted()
        target, ctx = _as_messages(text, context or (), sender)
        ctx = self._context(ctx)
        names = Names([m.sender for m in (*ctx, target)], redact=self.redact_names)
        body, redacted = self._body(target, ctx, names)
        return self._codes(self._post(body, target.message_id), redacted)

    def _codes(self, items: Sequence[Any], redacted: Redacted) -> tuple[Code, ...]:
        scores: dict[str, float] = {}
        spans: dict[str, set[tuple[int, int]]] = {}
        for item in items:
            name = item.get("code") if isinstance(item, dict) else None
            score = item.get("score", None) if isinstance(item, dict) else None
            if not isinstance(name, str) or not _is_number(score):
                self.malformed_items_ += 1
                continue
            if name not in self._known:
                self.unknown_codes_ += 1
                continue
            quotes = item.get("evidence", [])
            if isinstance(quotes, str):
                quotes = [quotes]
            found: set[tuple[int, int]] = set()
            for quote in quotes if isinstance(quotes, list) else []:
                span = _locate(quote, redacted)
                if span is None:
                    self.dropped_evidence_ += 1
                else:
                    found.add(span)
            if not found:
                self.dropped_codes_ += 1
                continue
            scores[name] = max(scores.get(name, 0.0), min(1.0, max(0.0, float(score))))
            spans.setdefault(name, set()).update(found)
        text = redacted.original
        rule_id = f"llm:{self.model}"
        return tuple(
            Code(name=name, score=round(scores[name], 4),
                 evidence=tuple(Evidence(a, b, text[a:b]) for a, b in merge_spans(spans[name])),
                 rule_ids=(rule_id,))
            for name in sorted(scores, key=self._order.__getitem__)
            if scores[name] >= self.threshold
        )


# ------------------------------------------------------------------------------ helpers


def _as_messages(message: Message | str, context: Sequence[Message | str],
                 sender: str | None) -> tuple[Message, list[Message]]:
    ctx = [Message("\x00ctx", f"ctx-{i}", CONTEXT_OTHER, None, item)
           if isinstance(item, str) else item for i, item in enumerate(context)]
    if isinstance(message, str):
        message = Message("\x00ctx", "text", sender if sender is not None else CONTEXT_SELF, None,
                          message)
    return message, ctx


def _locate(quote: object, redacted: Redacted) -> tuple[int, int] | None:
    """The quote's span in the original text, or None when it is not verbatim in what was sent."""
    if not isinstance(quote, str):
        return None
    quote = quote.strip()
    if not quote:
        return None
    at = redacted.sent.find(quote)
    if at < 0:
        return None
    a = redacted.start_in_original(at)
    b = redacted.end_in_original(at + len(quote))
    return (a, b) if b > a else None



def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
