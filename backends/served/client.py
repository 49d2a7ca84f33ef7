"""HTTP to an OpenAI-compatible server (vLLM, llama.cpp, Ollama, a provider's API) over httpx2: JSON requests,
server-sent-event streams that stop promptly when asked, per-phase timeouts, and one-line errors that say
whether trying again may help (429, 5xx, a refused or dropped connection) or not (400, 401, 404, a timeout).

The API key is read from the environment by the caller and lives only in this client's request headers: it is
never put in an error message, a signature, a log or a file (messages are scrubbed of it besides)."""

from __future__ import annotations

import ipaddress
import json
import queue
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2

from agent.core.errors import UserError

# How often a waiting reader looks at the cancel event: Esc stops a reply within this (plus closing the socket).
CANCEL_POLL_S = 0.05
# A server's Retry-After is honoured up to this; longer is a server that will not be back soon.
MAX_RETRY_AFTER_S = 30.0
_ERROR_DETAIL_CHARS = 200


class ServedError(UserError):
    """A request to the server failed. `retryable`: the same request may succeed later (429, 5xx, connection
    refused or dropped); `retry_after`: seconds the server asked us to wait, when it said; `status`: the HTTP
    status, when the server answered with one."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None, status: int | None = None
    ):
        super().__init__(message)
        self.retryable, self.retry_after, self.status = retryable, retry_after, status


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt k (0-based) waits about base * 2**k, at most `max_delay`."""

    retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        backoff = min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + random.random() / 2)
        if retry_after is not None:
            return min(max(retry_after, backoff), MAX_RETRY_AFTER_S)
        return backoff


def normalize_base_url(url: str) -> str:
    """The API root, without a trailing slash. A bare server address gets `/v1` (where vLLM, llama.cpp and Ollama
    serve the OpenAI API); a URL with a path is taken as given (providers put their API elsewhere)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--base-url {display_url(url)!r} is not an http:// or https:// URL")
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def display_url(url: str) -> str:
    """The URL as it may be shown or recorded: no user:password, no query (where some providers put a key)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "<invalid URL>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_local(url: str) -> bool:
    """True for a loopback host (localhost, 127.0.0.0/8, ::1), where plain http stays on this machine."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_warnings(url: str) -> list[str]:
    """Warnings about a base URL: plain http to another machine sends prompts (and any API key) in clear."""
    if urlsplit(url).scheme == "http" and not is_local(url):
        return [
            f"{display_url(url)} is plain http to another machine: the conversation and any API key travel "
            "unencrypted; use https:// unless the network is yours"
        ]
    return []


class ServedClient:
    """One connection pool to one server; safe to share between threads (evalharness --concurrency)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 120.0):
        if timeout <= 0:
            raise UserError(f"--timeout must be positive, got {timeout:g}")
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self._secret = api_key or None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # connect fails fast (a server that is down answers at once); read is the wait between two chunks
        self._http = httpx2.Client(
            headers=headers,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
            trust_env=True,
        )

    @property
    def shown_url(self) -> str:
        return display_url(self.base_url)

    def close(self) -> None:
        self._http.close()

    def get_json(self, path: str) -> Any:
        return self._request("GET", path, None)

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        return self._request("POST", path, payload)

    def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> Any:
        url = self.base_url + path
        try:
            response = self._http.request(method, url, json=payload)
        except httpx2.HTTPError as e:
            raise self._transport_error(e) from None
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.text, response.headers)
        try:
            return response.json()
        except ValueError:
            raise ServedError(
                f"{self._where(path)} answered with something that is not JSON: {self._snippet(response.text)}"
            ) from None

    @contextmanager
    def stream(self, path: str, payload: dict[str, Any], cancel: threading.Event | None = None) -> Iterator[Events]:
        """POST `payload` with `"stream": true` and iterate the JSON of each server-sent event. Iteration ends at
        `[DONE]`, at the end of the stream, or within CANCEL_POLL_S of `cancel` being set; leaving the block
        closes the connection, which tells the server to stop generating."""
        events = Events(self, path, payload, cancel)
        try:
            yield events
        finally:
            events.close()

    # ---- errors ------------------------------------------------------------------------------------

    def _where(self, path: str) -> str:
        return f"the server at {display_url(self.base_url + path)}"

    def _transport_error(self, error: httpx2.HTTPError) -> ServedError:
        url = display_url(self.base_url)
        if isinstance(error, httpx2.ConnectTimeout):
            return ServedError(f"cannot reach the server at {url} (no answer to connect); is it up?", retryable=True)
        if isinstance(error, httpx2.TimeoutException):
            return ServedError(
                f"the server at {url} sent nothing for {self.timeout:g} s; it is overloaded or stuck "
                "(raise --timeout for a slow model)"
            )
        if isinstance(error, httpx2.ConnectError):
            return ServedError(
                f"cannot reach the server at {url} ({self._reason(error)}); is it running? (--base-url)",
                retryable=True,
            )
        if isinstance(error, (httpx2.ReadError, httpx2.RemoteProtocolError, httpx2.WriteError)):
            return ServedError(f"the server at {url} dropped the connection ({self._reason(error)})", retryable=True)
        return ServedError(f"request to the server at {url} failed ({self._reason(error)})")

    def _status_error(self, status: int, body: str, headers: httpx2.Headers) -> ServedError:
        detail = _error_detail(body)
        url = display_url(self.base_url)
        hint = {
            401: "; is the API key right? (--api-key-env names the variable holding it)",
            403: "; is the API key allowed to use this model?",
            404: "; check --base-url and --model",
        }.get(status, "")
        message = f"the server at {url} answered HTTP {status}" + (f": {self._scrub(detail)}" if detail else "") + hint
        retryable = status == 429 or status >= 500
        return ServedError(
            message, retryable=retryable, retry_after=_retry_after(headers) if retryable else None, status=status
        )

    def _reason(self, error: BaseException) -> str:
        text = str(error).strip() or type(error).__name__
        return self._scrub(text.splitlines()[0][:_ERROR_DETAIL_CHARS])

    def _snippet(self, text: str) -> str:
        return repr(self._scrub(" ".join(text.split())[:80]))

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


class Events:
    """The JSON objects of one streamed response. A reader thread does the blocking socket reads and hands
    events over a queue, so the consumer notices `cancel` within CANCEL_POLL_S even while the server is silent
    (still reading the prompt, or busy with other requests)."""

    _END = object()

    def __init__(self, client: ServedClient, path: str, payload: dict[str, Any], cancel: threading.Event | None):
        self._client, self._path, self._cancel = client, path, cancel
        self._payload = {**payload, "stream": True}
        self._queue: queue.Queue[Any] = queue.Queue()
        self._response: httpx2.Response | None = None
        self._closed = threading.Event()
        self.cancelled = False
        self._thread = threading.Thread(target=self._read, name="served-stream", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            if self._cancel is not None and self._cancel.is_set():
                self.cancelled = True
                return
            try:
                item = self._queue.get(timeout=CANCEL_POLL_S)
            except queue.Empty:
                continue
            if item is self._END:
                return
            if isinstance(item, ServedError):
                raise item
            yield item

    def _read(self) -> None:
        client = self._client
        url = client.base_url + self._path
        try:
            with client._http.stream("POST", url, json=self._payload, headers={"Accept": "text/event-stream"}) as r:
                self._response = r
                if self._closed.is_set():
                    return
                if r.status_code >= 400:
                    r.read()
                    self._queue.put(client._status_error(r.status_code, r.text, r.headers))
                    return
                content_type = r.headers.get("content-type", "").partition(";")[0].strip().lower()
                if content_type != "text/event-stream":  # a server that ignores "stream": one JSON body
                    r.read()
                    self._queue.put(self._decode(r.text))
                    return
                for event in httpx2.EventSource(r):
                    if self._closed.is_set():
                        return
                    data = event.data.strip()
                    if not data:
                        continue
                    if data == "[DONE]":
                        return
                    self._queue.put(self._decode(data))
        except httpx2.HTTPError as e:
            if not self._closed.is_set():
                self._queue.put(client._transport_error(e))
        except ServedError as e:
            self._queue.put(e)
        except Exception as e:  # a socket shut down under the reader can surface as anything from the transport
            if not self._closed.is_set():
                self._queue.put(
                    ServedError(f"reading from the server at {client.shown_url} failed ({client._reason(e)})")
                )
        finally:
            self._queue.put(self._END)

    def _decode(self, data: str) -> dict[str, Any]:
        try:
            obj = json.loads(data)
        except ValueError:
            raise ServedError(
                f"{self._client._where(self._path)} streamed something that is not JSON: {self._client._snippet(data)}"
            ) from None
        if not isinstance(obj, dict):
            raise ServedError(f"{self._client._where(self._path)} streamed a JSON {type(obj).__name__}, not an object")
        if "error" in obj:  # vLLM and others report a failure inside the stream
            error = obj["error"]
            detail = error.get("message") if isinstance(error, dict) else error
            raise ServedError(
                f"the server at {self._client.shown_url} failed while generating: {self._client._scrub(str(detail))}",
                retryable=True,
            )
        return obj

    def close(self) -> None:
        """Stop reading and drop the connection. `shutdown` wakes a reader blocked in recv() and sends the server
        a FIN at once, so it stops generating; before the response headers came there is no socket to shut, and the
        reader hangs up as soon as they come."""
        if self._closed.is_set():
            return
        self._closed.set()
        response = self._response
        if response is not None:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        # The reader closes the response itself (in its own thread) as soon as its read returns.


def _error_detail(body: str) -> str:
    """The server's own words about an error: OpenAI's {"error": {"message"}}, FastAPI's {"detail"}, or text."""
    try:
        obj = json.loads(body)
    except ValueError:
        return " ".join(body.split())[:_ERROR_DETAIL_CHARS]
    if isinstance(obj, dict):
        error = obj.get("error", obj.get("detail", obj.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if isinstance(error, list):  # FastAPI validation: [{"loc": [...], "msg": "..."}]
            error = "; ".join(str(e.get("msg", e)) if isinstance(e, dict) else str(e) for e in error[:3])
        if error is not None:
            return " ".join(str(error).split())[:_ERROR_DETAIL_CHARS]
    return " ".join(body.split())[:_ERROR_DETAIL_CHARS]


def _retry_after(headers: httpx2.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare from an API server; the backoff applies instead
    return max(0.0, seconds)
