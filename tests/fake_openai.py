"""A scripted OpenAI-compatible HTTP server on loopback: a test fixture that answers or misbehaves on cue.

Only the remote LLM is faked; everything on our side of the socket (LangChain, the openai SDK, httpx, the coach)
runs for real. Behaviours are consumed first-in first-out, one per chat request; when the queue is empty the
`default` behaviour answers. Every request is recorded so tests can assert what was sent.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import make_settings

from assistant.runtime import Runtime

# --- behaviours -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """What the server does with one chat request."""

    kind: str  # ok | status | delay | cut | cut_clean | stall | hang_up | hang_up_after_headers | trickle | malformed
    text: str = ""
    code: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    after: int = 0
    then: Behaviour | None = None


def ok(text: str) -> Behaviour:
    """A normal answer: streamed in several chunks when the client asks for a stream, else one JSON body."""
    return Behaviour("ok", text=text)


def status(code: int, headers: dict[str, str] | None = None, message: str = "scripted failure") -> Behaviour:
    """An HTTP error with an OpenAI-style error body (e.g. 429 with Retry-After, 500)."""
    return Behaviour("status", code=code, headers=dict(headers or {}), text=message)


def delay(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Say nothing for `seconds` (no status line either), then behave like `then` (a plain answer by default)."""
    return Behaviour("delay", seconds=seconds, then=then or ok("A late answer."))


def cut_stream(text: str, after_n_chunks: int, clean: bool = False) -> Behaviour:
    """Start streaming `text`, then drop the connection after `after_n_chunks` content chunks (no [DONE]).

    By default the body is chunked, so the client can see it was cut short (an incomplete chunked read), as with
    uvicorn or a proxy giving up. With `clean=True` the body is delimited by closing the connection, so HTTP itself
    sees a normal end: only the missing finish_reason and [DONE] tell that the answer stopped half-way.
    """
    return Behaviour("cut_clean" if clean else "cut", text=text, after=after_n_chunks)


def hang_up(after_headers: bool = False) -> Behaviour:
    """Read the request, then close the connection as a crashing server would: before any reply, or (with
    `after_headers`) once the 200 status and stream headers are out but before the first byte of the body."""
    return Behaviour("hang_up_after_headers" if after_headers else "hang_up")


def trickle(text: str, seconds_per_piece: float) -> Behaviour:
    """Stream `text` one word-sized piece every `seconds_per_piece`: each read is quick, the answer slow."""
    return Behaviour("trickle", text=text, seconds=seconds_per_piece)


def stall() -> Behaviour:
    """Read the request and say nothing at all until the client closes its connection, the only way a server
    learns that a request was cancelled; the time it did is recorded in `FakeOpenAI.client_closed`."""
    return Behaviour("stall")


def malformed_json() -> Behaviour:
    """A 200 response whose JSON (stream event or body) is broken."""
    return Behaviour("malformed")


# --- records --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] | None
    at: float  # time.monotonic() when the request arrived

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def streamed(self) -> bool:
        return bool((self.body or {}).get("stream"))

    def text(self) -> str:
        """Every message's content joined: what the model would have read."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


def split_pieces(text: str) -> list[str]:
    """Word-sized pieces that join back to exactly `text`, as real servers stream tokens."""
    pieces = re.findall(r"\s*\S+", text)
    tail = text[len("".join(pieces)) :]
    if tail:
        pieces.append(tail)
    return pieces or [text]


# --- the server -----------------------------------------------------------------------------------


class FakeOpenAI:
    """`with FakeOpenAI() as server:` serves http://127.0.0.1:{port}/v1 until the block ends."""

    def __init__(self, default: Behaviour | None = None, model: str = "fake-model") -> None:
        self.default = default or ok("Start with one specific observation and ask how they see it [1].")
        self.model = model
        self.requests: list[RecordedRequest] = []
        self.client_closed: list[float] = []  # time.monotonic() when a client closed a stalled request's connection
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeOpenAI:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port and every open connection, so later requests are refused like a dead server's."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            for conn in list(self._connections):
                _hard_close(conn)
            self._connections.clear()
        self._httpd = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # scripting
    def script(self, *behaviours: Behaviour) -> FakeOpenAI:
        with self._lock:
            self._queue.extend(behaviours)
        return self

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    # used by the handler
    def _next(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(conn)


def _hard_close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_state = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like uvicorn behind vLLM or llama.cpp
    server_state: FakeOpenAI

    def setup(self) -> None:
        super().setup()
        self.server_state._track(self.connection, True)

    def finish(self) -> None:
        self.server_state._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    # routes
    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": self.server_state.model, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            self._behave(self.server_state._next(), body or {})
        except OSError:
            self.close_connection = True  # the client went away (e.g. it timed out first)

    # behaviours
    def _behave(self, b: Behaviour, body: dict[str, Any]) -> None:
        stream = bool(body.get("stream"))
        if b.kind == "delay":
            if self.server_state._stopping.wait(b.seconds):
                self.close_connection = True
                return
            assert b.then is not None
            self._behave(b.then, body)
        elif b.kind == "status":
            error = {"error": {"message": b.text, "type": "server_error" if b.code >= 500 else "rate_limit_error"}}
            self._json(b.code, error, b.headers)
        elif b.kind == "ok" and stream:
            self._stream(split_pieces(b.text), finish=True)
        elif b.kind == "ok":
            self._json(200, self._completion(b.text))
        elif b.kind in ("cut", "cut_clean"):
            self._stream(split_pieces(b.text)[: b.after], finish=False, chunked=b.kind == "cut")
        elif b.kind == "stall":
            self._wait_for_the_client_to_leave()
        elif b.kind == "hang_up":
            self.close_connection = True
            _hard_close(self.connection)
        elif b.kind == "hang_up_after_headers":
            self._start_chunked("text/event-stream")
            self.wfile.flush()
            self.close_connection = True
            _hard_close(self.connection)
        elif b.kind == "trickle":
            self._stream(split_pieces(b.text), finish=True, pause=b.seconds)
        elif b.kind == "malformed" and stream:
            self._start_chunked("text/event-stream")
            self._chunk(b'data: {"id": "chatcmpl-fake", "choices": [{"index": 0, "delta": {"content": "Hel\n\n')
            self._chunk(b"data: [DONE]\n\n")
            self._end_chunked()
        elif b.kind == "malformed":
            self._send_raw(200, b'{"id": "chatcmpl-fake", "choices": [{"message": ', "application/json")
        else:
            raise ValueError(f"unknown behaviour {b.kind!r}")

    def _wait_for_the_client_to_leave(self) -> None:
        self.close_connection = True
        self.connection.settimeout(0.05)
        while not self.server_state._stopping.is_set():
            try:
                if self.connection.recv(65536):
                    continue
            except TimeoutError:
                continue
            except OSError:
                pass  # reset by the client: it left all the same
            self.server_state.client_closed.append(time.monotonic())
            return

    def _completion(self, text: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.server_state.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def _event(self, delta: dict[str, Any], finish: str | None) -> bytes:
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.server_state.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    def _stream(self, pieces: list[str], finish: bool, chunked: bool = True, pause: float = 0.002) -> None:
        if chunked:
            self._start_chunked("text/event-stream")
        else:
            self._start_close_delimited("text/event-stream")
        send = self._chunk if chunked else self.wfile.write
        send(self._event({"role": "assistant", "content": ""}, None))
        for piece in pieces:
            send(self._event({"content": piece}, None))
            # Separate TCP writes, so the client really receives pieces; a stopping server ends a slow stream.
            if self.server_state._stopping.wait(pause):
                self.close_connection = True
                return
        if not finish:
            # Chunked: no terminating chunk, the client sees an incomplete body. Close-delimited: a tidy EOF.
            self.close_connection = True
            if chunked:
                _hard_close(self.connection)
            else:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
            return
        self._chunk(self._event({}, "stop"))
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunked()

    # HTTP plumbing
    def _record(self, body: dict[str, Any] | None) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server_state.requests.append(RecordedRequest(self.command, self.path, headers, body, time.monotonic()))

    def _json(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_raw(code, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(self, code: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _start_close_delimited(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")


def llm_runtime(built_dir: Path, tmp_path: Path, server: FakeOpenAI, **overrides: object) -> Runtime:
    """A runtime on a private copy of the built index whose chat backend is this scripted server."""
    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    values: dict[str, object] = {
        "llm_backend": "openai",
        "openai_base_url": server.base_url,
        "openai_api_key": "test-key",
        "llm_timeout": 2,
        "llm_max_retries": 1,
    }
    values.update(overrides)
    return Runtime(make_settings(data, **values))
