"""Nothing a message or a document says can make the page fetch from another host.

The real app on 127.0.0.1, Debian's Chromium, and an "outside" server on 127.0.0.2 that counts every request it
receives. The payloads are the families that got past the old pattern-based sanitiser (issue 20): very long alt
text, reference-style images inside a `>` quote or a `-` list item, `\\]` inside a reference label. They are sent
as chat messages, stored in a conversation (Sessions preview) and read from an uploaded document (Knowledge
viewer). Then the page itself is made to add an outside image, as a missed sanitiser case would: the
Content-Security-Policy must stop that one too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from browser import WAIT_MS, Served, copy_of_built, new_page, open_app, serve
from playwright.sync_api import Browser, Page, expect

from assistant.runtime import Runtime
from assistant.workspace import app as ui

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # served, browser, page, phone

OUTSIDE_HOST = "127.0.0.2"
DOC_TITLE = "Payload handbook"
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


class Outside:
    """A web server on another loopback address that remembers every path asked of it."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        seen = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(PIXEL)))
                self.end_headers()
                self.wfile.write(PIXEL)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((OUTSIDE_HOST, 0), Handler)
        self.base = f"http://{OUTSIDE_HOST}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def payloads(base: str) -> dict[str, str]:
    """One Markdown text per family; each would show an image from `base` if it rendered as an image."""
    return {
        "long-alt": "![" + "a very long description " * 90 + f"]({base}/long-alt.png) How do I build trust?",
        "quote-ref": f"> How do I build trust? ![seen][q]\n>\n> [q]: {base}/quote-ref.png",
        "list-ref": f"- How do I build trust?\n- ![seen][l]\n- [l]: {base}/list-ref.png",
        "escaped-label": f"How do I build trust? ![seen][a\\]b]\n\n[a\\]b]: {base}/escaped-label.png",
        "plain": f"How do I build trust? ![seen]({base}/plain.png)",
    }


@pytest.fixture(scope="module")
def outside() -> Iterator[Outside]:
    server = Outside()
    yield server
    server.close()


@pytest.fixture(scope="module")
def served(built_dir: Path, tmp_path_factory: pytest.TempPathFactory, outside: Outside) -> Iterator[Served]:
    """The app over a copy of the built index, with one uploaded document made of every payload."""

    def add_payload_document(rt: Runtime) -> None:
        rt.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        doc = rt.settings.uploads_dir / "payload-handbook.md"
        doc.write_text(f"# {DOC_TITLE}\n\n" + "\n\n".join(payloads(outside.base).values()) + "\n", encoding="utf-8")
        report = rt.ingestor.run([doc])
        assert not report.skipped, report.skipped
        ui.warm_up(rt)  # as `mentor serve` does, so the first answer does not wait for models to load

    yield from serve(copy_of_built(built_dir, tmp_path_factory, "outside"), add_payload_document)


@pytest.fixture(scope="module")
def app_url(served: Served) -> str:
    return served.url


@contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a new browser context: an empty cache, so an image fetched earlier would be fetched again."""
    page = new_page(browser)
    try:
        yield page
    finally:
        page.context.close()


def _open(page: Page, url: str) -> None:
    open_app(page, url)


def _ask(page: Page, text: str) -> None:
    """Send one message and wait until its answer is complete (its text has stopped changing)."""
    bots = page.locator('#coach-chat [data-testid="bot"]')
    before = bots.count()
    page.locator("#coach-input textarea").fill(text)
    page.locator("#coach-send").click()
    expect(bots).to_have_count(before + 1, timeout=WAIT_MS)
    expect(bots.last).not_to_have_text("…", timeout=WAIT_MS)
    last = ""
    while (now := bots.last.inner_text()) != last:
        last = now
        page.wait_for_timeout(1_000)


def _settle(page: Page) -> None:
    """Give any image the page would load time to be requested (Gradio's event stream never lets the network
    go idle, so this is a plain wait)."""
    page.wait_for_timeout(1_500)


def test_payloads_in_chat_sessions_and_documents_fetch_nothing_outside(
    browser: Browser, app_url: str, outside: Outside
) -> None:
    with fresh_page(browser) as page:
        _open(page, app_url)
        for text in payloads(outside.base).values():
            _ask(page, text)
        expect(page.locator('#coach-chat [data-testid="user"]')).to_have_count(5)
        _settle(page)
        assert outside.paths == [], f"the chat fetched {outside.paths}"

    with fresh_page(browser) as page:
        _open(page, app_url)
        page.get_by_role("tab", name="Sessions").click()
        expect(page.locator("#session-preview")).to_contain_text("How do I build trust?", timeout=WAIT_MS)
        _settle(page)
        assert outside.paths == [], f"the Sessions preview fetched {outside.paths}"

    with fresh_page(browser) as page:
        _open(page, app_url)
        page.get_by_role("tab", name="Knowledge").click()
        page.locator("#knowledge-doc input").click()
        page.get_by_role("option", name=DOC_TITLE).click()
        expect(page.locator("#knowledge-viewer")).to_contain_text("How do I build trust?", timeout=WAIT_MS)
        _settle(page)
        assert outside.paths == [], f"the Knowledge viewer fetched {outside.paths}"
        assert page.locator(f"img[src*='{OUTSIDE_HOST}']").count() == 0


def test_every_page_carries_a_policy_that_keeps_images_at_home(app_url: str) -> None:
    for path in ("", "config", "gradio_api/info", "no-such-page"):
        response = httpx.get(app_url + path)
        policy = response.headers.get("content-security-policy", "")
        assert "img-src 'self' data:" in policy, (path, response.status_code, policy)
        assert "default-src 'self'" in policy, (path, policy)
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[-1].split(";")[0], policy


def test_a_missed_case_still_cannot_leave_the_page(browser: Browser, app_url: str, outside: Outside) -> None:
    """Markup that slipped through (here added by the page's own script) is stopped by the browser."""
    violations: list[str] = []
    with fresh_page(browser) as page:
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        _open(page, app_url)
        outside.paths.clear()
        _inject_outside_requests(page, outside.base)
        _settle(page)
    assert outside.paths == [], f"the page fetched {outside.paths}"
    assert any("img-src" in v for v in violations), violations


def _inject_outside_requests(page: Page, base: str) -> None:
    page.evaluate(
        """base => {
            const img = document.createElement('img');
            img.src = base + '/injected.png';
            document.body.appendChild(img);
            const div = document.createElement('div');
            div.style.backgroundImage = `url(${base}/injected-css.png)`;
            div.textContent = 'x';
            document.body.appendChild(div);
            fetch(base + '/injected-fetch').catch(() => {});
        }""",
        base,
    )


def test_the_app_works_under_its_policy(browser: Browser, app_url: str) -> None:
    """The policy must not break Gradio: no violation while the tabs that render HTML are used."""
    violations: list[str] = []
    with fresh_page(browser) as page:
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        _open(page, app_url)
        _ask(page, "How do I give feedback to a mentee who gets defensive?")
        expect(page.locator("#sources-panel .ma-source").first).to_be_visible()
        page.get_by_role("tab", name="Feedback studio").click()
        page.locator("#feedback-text textarea").fill("You are always late and it is unprofessional.")
        page.locator("#feedback-check").click()
        expect(page.locator("#feedback-score")).to_be_visible()
        page.get_by_role("tab", name="Knowledge").click()
        expect(page.locator("#knowledge-table")).to_be_visible()
    assert violations == [], violations
