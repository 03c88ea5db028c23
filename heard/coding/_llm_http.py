"""How the LLM coder talks to the user's server: the address, the request, the reply.

Only the user's endpoint: a server that is not on this computer (loopback) is refused unless
``allow_remote``; proxies from the environment are ignored and redirects are not followed, so
the text goes to the address given and nowhere else. A reply's content must be JSON (text
around a JSON object, ``<think>`` blocks and code fences are tolerated for servers that ignore
``response_format``); a reply of the wrong shape is one numbered line (E461, E462).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from heard._net import is_loopback
from heard.errors import InputError, OptionError

__all__ = ["chat_url", "check_endpoint", "codes_list", "completion_content", "content_json",
           "failed", "http_detail", "is_loopback", "one_line", "opener"]

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def chat_url(endpoint: str) -> str:
    """``{base}/v1/chat/completions`` for an endpoint given with or without ``/v1``.

    >>> chat_url("http://127.0.0.1:11434/v1/")
    'http://127.0.0.1:11434/v1/chat/completions'
    """
    base = endpoint.strip().rstrip("/")
    for suffix in ("/chat/completions", "/v1"):
        if base.endswith(suffix):
            base = base[: -len(suffix)].rstrip("/")
    return f"{base}/v1/chat/completions"


def check_endpoint(endpoint: object, *, allow_remote: bool) -> str:
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise OptionError.from_code("E457", endpoint=endpoint, detail="no address given")
    try:
        parts = urllib.parse.urlsplit(endpoint.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise OptionError.from_code("E457", endpoint=endpoint, detail=exc) from exc
    if parts.scheme not in ("http", "https") or not host:
        raise OptionError.from_code("E457", endpoint=endpoint,
                                    detail="it needs http:// or https:// and a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise OptionError.from_code("E457", endpoint=endpoint,
                                    detail="it must not carry a query, fragment or password")
    if not allow_remote and not is_loopback(host):
        raise OptionError.from_code("E456", endpoint=endpoint)
    return chat_url(endpoint)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could carry the messages elsewhere: answer it as an HTTP error instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def opener() -> urllib.request.OpenerDirector:
    # An empty ProxyHandler ignores HTTP(S)_PROXY: a proxy would receive the text in clear.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def one_line(value: object, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def content_json(content: object) -> Any:
    """The JSON value in a reply's content (a bare object, or one inside other text)."""
    if isinstance(content, dict | list):
        return content
    if not isinstance(content, str):
        raise ValueError(f"the content is {type(content).__name__}, not text")
    text = re.sub(r"<think>.*?</think>", "", content, flags=re.S).strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for m in re.finditer(r"[{\[]", text):
        try:
            return decoder.raw_decode(text, m.start())[0]
        except ValueError:
            continue
    raise ValueError(f"no JSON object in the reply: {one_line(text, 80)!r}")


def codes_list(value: Any) -> list[Any]:
    if isinstance(value, dict) and isinstance(value.get("codes"), list):
        return value["codes"]
    if isinstance(value, list):
        return value
    raise ValueError("the JSON has no 'codes' list")


def failed(number: str, **fields: Any) -> Callable[[int], InputError]:
    def build(attempts: int) -> InputError:
        return InputError.from_code(number, attempts=attempts, **fields)  # type: ignore[return-value]
    return build


def http_detail(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(2000)
    except OSError:
        raw = b""
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            text = str(err.get("message") or err)
        elif err:
            text = str(err)
    except ValueError:
        pass
    return one_line(text or exc.reason or "no detail", 160)


def completion_content(raw: bytes, endpoint: str) -> Any:
    """``choices[0].message.content`` of a chat completion (E461 when the shape is wrong)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError.from_code("E461", endpoint=endpoint,
                                   detail=f"the body is not JSON: {one_line(exc, 80)}") from None
    try:
        return data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        detail = "no choices[0].message.content"
        if isinstance(data, dict) and data.get("error"):
            detail += f"; it said: {one_line(data['error'], 120)}"
        raise InputError.from_code("E461", endpoint=endpoint, detail=detail) from None
