"""Security headers on every response, so a sanitiser miss still cannot make the page load from elsewhere.

The Content-Security-Policy keeps every fetch, image, font, frame and form on this app (`img-src 'self' data:`).
Gradio 6 builds its page with five inline <script> blocks (the page config, the API info and three small
bootstrap scripts), so the page route gets a fresh nonce per response and only those script tags carry it; no
other inline script can run. Gradio also needs:
- 'unsafe-eval': its HTML component turns every value into a JavaScript template with `Function(...)`, so
  without it no gr.HTML output (header, sources, feedback report, tables) appears;
- style-src 'unsafe-inline': Svelte and the theme set inline styles and <style> elements.
Neither lets markup in a message run script or reach another host: inline script still needs the nonce, and
img-src, connect-src, font-src and the rest stay 'self'.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "media-src 'self'; "
    "worker-src 'self' blob:; "
    "frame-src 'none'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'self'"
)
OTHER_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
}
_SCRIPT_TAG = re.compile(rb"<script(?=[\s>])", re.IGNORECASE)


def policy(nonce: str) -> str:
    return POLICY.format(nonce=nonce)


def _is_page(scope: Scope) -> bool:
    """The route that serves Gradio's own page template (and so the only one whose scripts get the nonce)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "") or "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path in ("", "/")


class SecurityHeaders:
    """ASGI middleware: the policy (and nosniff, no-referrer) on every HTTP response; nonces on the page's scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        if _is_page(scope):
            await self.app(scope, receive, _PageWriter(send, nonce).send)
        else:
            await self.app(scope, receive, _with_headers(send, nonce))


def _set_headers(message: Message, nonce: str, length: int | None = None) -> None:
    drop = {b"content-security-policy", *OTHER_HEADERS}
    if length is not None:
        drop.add(b"content-length")
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in drop]
    headers.append((b"content-security-policy", policy(nonce).encode()))
    headers += list(OTHER_HEADERS.items())
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    message["headers"] = headers


def _with_headers(send: Send, nonce: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            _set_headers(message, nonce)
        await send(message)

    return wrapped


class _PageWriter:
    """Holds the page's HTML until it is complete, adds the nonce to each <script> tag, then sends it."""

    def __init__(self, send: Send, nonce: str) -> None:
        self._send = send
        self._nonce = nonce
        self._start: Message | None = None
        self._body: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            content_type = dict((k.lower(), v) for k, v in message.get("headers", [])).get(b"content-type", b"")
            if content_type.startswith(b"text/html"):
                self._start = message
                return
            _set_headers(message, self._nonce)
            await self._send(message)
            return
        if self._start is None or message["type"] != "http.response.body":
            await self._send(message)
            return
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        # Gradio writes its config into the page with <, > and & escaped, so every `<script` here is Gradio's own.
        html = _SCRIPT_TAG.sub(f'<script nonce="{self._nonce}"'.encode(), b"".join(self._body))
        _set_headers(self._start, self._nonce, length=len(html))
        await self._send(self._start)
        await self._send({"type": "http.response.body", "body": html, "more_body": False})


# --- cross-origin requests --------------------------------------------------------------------------------------
# Gradio's CORS middleware echoes any `Origin` with `Access-Control-Allow-Credentials: true` unless the server is
# reached as localhost, so a page on another site could call the API with the user's sign-in cookie and read the
# reply. It runs outside every middleware an app can pass in, so its origin check is replaced here: only the app's
# own origin (the request's Host) and the origins listed in MENTOR_CORS_ORIGINS (comma-separated) are allowed.
ALLOWED_ORIGINS_ENV = "MENTOR_CORS_ORIGINS"


def _host_port(value: str) -> str:
    """`https://Example.org:8443/x` -> `example.org:8443`; a bare `host:port` (the Host header) stays as it is."""
    rest = value.split("://", 1)[-1]
    return rest.split("/", 1)[0].strip().lower()


def allowed_origin(origin: str, host: str, allow_list: str | None = None) -> bool:
    """Whether a browser page from `origin` may read this app's replies with the user's credentials."""
    if not origin or origin == "null":
        return False
    extra = os.environ.get(ALLOWED_ORIGINS_ENV, "") if allow_list is None else allow_list
    listed = {o.strip().rstrip("/").lower() for o in extra.split(",") if o.strip()}
    return _host_port(origin) == _host_port(host) or origin.rstrip("/").lower() in listed


def install_origin_policy() -> None:
    """Make Gradio's CORS middleware answer cross-origin requests only for allowed origins (idempotent)."""
    from gradio import route_utils, routes

    base = route_utils.CustomCORSMiddleware
    if getattr(routes.CustomCORSMiddleware, "same_origin_only", False):
        return

    class SameOriginCORS(base):  # type: ignore[misc, valid-type]
        same_origin_only = True

        def is_valid_origin(self, request_headers: Any) -> bool:
            return allowed_origin(request_headers.get("origin", ""), request_headers.get("host", ""))

    routes.CustomCORSMiddleware = SameOriginCORS  # type: ignore[misc]
