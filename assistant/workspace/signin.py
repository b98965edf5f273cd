"""A limit on failed sign-ins (issue 20, part 7): without it, 36 wrong passwords a second reached Gradio's `/login`.

An ASGI middleware in front of Gradio's login route. It reads the posted user name (a login form is a few hundred
bytes), refuses with 429 and a sentence while the name has failed too often from that address, or the address has
failed too often under any name, and otherwise lets Gradio check the password and counts a 400 reply as a failure.
A success clears the name's failures from that address. Counts live in memory: a restart forgets them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_FAILURES_PER_NAME = 5  # per user name and address, within WINDOW_SECONDS
MAX_FAILURES_PER_ADDRESS = 20  # any names from one address (trying many names), within WINDOW_SECONDS
WINDOW_SECONDS = 60.0
MAX_FORM_BYTES = 64 * 1024
LOGIN_PATHS = ("/login", "/login/")


class FailureLimiter:
    """Failures per key in a sliding window; thread-safe."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._failures: dict[Any, deque[float]] = {}

    def wait_seconds(self, key: Any, now: float | None = None) -> float:
        """0 when the key may try again, else how long until its oldest counted failure leaves the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._prune(key, now)
            if len(times) < self.limit:
                return 0.0
            return max(0.0, times[0] + self.window - now)

    def fail(self, key: Any, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._prune(key, now).append(now)

    def clear(self, key: Any) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: Any, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


class SignInLimiter:
    """ASGI middleware: at most MAX_FAILURES_PER_NAME failed sign-ins a minute per name and address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.per_name = FailureLimiter(MAX_FAILURES_PER_NAME)
        self.per_address = FailureLimiter(MAX_FAILURES_PER_ADDRESS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not _is_login(scope):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        address = (scope.get("client") or ("unknown", 0))[0]
        name = _posted_name(body)
        wait = max(self.per_name.wait_seconds((address, name)), self.per_address.wait_seconds(address))
        if wait > 0:
            await _too_many(send, wait)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, _replay(body), watch)
        if status and status[0] == 400:
            self.per_name.fail((address, name))
            self.per_address.fail(address)
        elif status and status[0] < 400:
            self.per_name.clear((address, name))


def _is_login(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "") or "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path in LOGIN_PATHS


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_FORM_BYTES:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _posted_name(body: bytes) -> str:
    try:
        form = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=20)
    except ValueError:
        return ""
    return (form.get("username") or [""])[0].strip().lower()


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _too_many(send: Send, wait: float) -> None:
    seconds = max(1, int(wait + 0.999))
    detail = f"Too many failed sign-ins. Try again in {seconds} seconds."
    payload = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})
