"""A tiny OpenAI-compatible HTTP server on 127.0.0.1 for the failures a real one will not produce on demand:
500s, 429 with Retry-After, a server that never answers, malformed streams and tool calls. It records every
request (path, headers, JSON body) so tests can check what reaches the wire.

The happy path is tested against a real llama.cpp server (tests/test_served_llamacpp.py); this stub is only
for injecting faults and reading requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One answer. `events`: a server-sent-event stream (dicts are sent as JSON, strings as they are, then
    `[DONE]` unless `done=False`); else `body` as one JSON document."""

    status: int = 200
    body: Any = None
    events: list[Any] | None = None
    done: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    event_delay: float = 0.0  # between two events
    hang: float = 0.0  # after the headers, before the first event (a server that goes silent)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


def chat_chunks(content: str = "", tool_calls: list[dict[str, Any]] | None = None, *, pieces: int = 1) -> list[Any]:
    """A chat completion as a stream: the content in `pieces` chunks, then each tool call's arguments in
    `pieces` fragments (as OpenAI streams them: index, id and name first, then argument text)."""
    chunks: list[Any] = []
    step = max(1, -(-len(content) // pieces)) if content else 1
    for start in range(0, len(content), step):
        chunks.append({"choices": [{"index": 0, "delta": {"content": content[start : start + step]}}]})
    for index, call in enumerate(tool_calls or []):
        arguments = call.get("arguments", "")
        head = {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": call["name"]}}
        chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [head]}}]})
        size = max(1, -(-len(arguments) // pieces))
        for start in range(0, len(arguments), size):
            fragment = {"index": index, "function": {"arguments": arguments[start : start + size]}}
            chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [fragment]}}]})
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if tool_calls else "stop"}]})
    return chunks


def completion_chunks(text: str, pieces: int = 1) -> list[Any]:
    step = max(1, -(-len(text) // pieces)) if text else 1
    chunks: list[Any] = [{"choices": [{"index": 0, "text": text[s : s + step]}]} for s in range(0, len(text), step)]
    chunks.append({"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]})
    return chunks


class StubServer:
    """`replies[path]` is a list consumed in order (the last one repeats, or the whole list with `cycle=True`);
    `models` answers GET /v1/models."""

    def __init__(self, models: tuple[str, ...] = ("stub-model",)):
        self.requests: list[Request] = []
        self.replies: dict[str, list[Reply]] = {}
        self.cycling: set[str] = set()
        self.models = models
        self.disconnects = 0  # streams the client hung up on before the end
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def on(self, path: str, *replies: Reply, cycle: bool = False) -> StubServer:
        self.replies["/v1" + path] = list(replies)
        (self.cycling.add if cycle else self.cycling.discard)("/v1" + path)
        return self

    def bodies(self, path: str) -> list[Any]:
        return [r.body for r in self.requests if r.path == "/v1" + path]

    def _next(self, path: str) -> Reply:
        with self._lock:
            queue = self.replies.get(path)
            if not queue:
                return Reply(status=404, body={"error": {"message": f"no route {path}"}})
            if path in self.cycling:
                queue.append(queue[0])
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                stub.requests.append(Request(self.path, dict(self.headers), None))
                if self.path == "/v1/models" and "/v1/models" not in stub.replies:
                    self._send(Reply(body={"object": "list", "data": [{"id": m} for m in stub.models]}))
                else:
                    self._send(stub._next(self.path))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                stub.requests.append(Request(self.path, dict(self.headers), body))
                self._send(stub._next(self.path))

            def _send(self, reply: Reply) -> None:
                time.sleep(reply.delay)
                try:
                    if reply.events is None:
                        data = json.dumps(reply.body if reply.body is not None else {}).encode()
                        self.send_response(reply.status)
                        self.send_header("content-type", "application/json")
                        self.send_header("content-length", str(len(data)))
                        # One request per connection: a kept-alive socket that this server closes while the
                        # client reuses it reads as a dropped connection, a fault no test asked for.
                        self.send_header("connection", "close")
                        self.close_connection = True
                        for k, v in reply.headers.items():
                            self.send_header(k, v)
                        self.end_headers()
                        self.wfile.write(data)
                        return
                    self.send_response(reply.status)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("connection", "close")
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.flush()
                    time.sleep(reply.hang)
                    events = [*reply.events, "[DONE]"] if reply.done else reply.events
                    for event in events:
                        data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
                        self.wfile.write(f"data: {data}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(reply.event_delay)
                    self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    stub.disconnects += 1
                    self.close_connection = True

        return Handler
