"""What every browser test shares: the real app on a loopback port over a copy of the built index, Debian's
Chromium driven by Playwright, fresh pages, and the steps a user takes in the Coach tab.

The fixtures are in tests/browser_fixtures.py (a module loads them with `pytest_plugins = ["browser_fixtures"]`);
the helpers are imported from here by name.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, make_settings
from playwright.sync_api import Browser, Locator, Page, expect

from assistant.runtime import Runtime
from assistant.workspace import app as ui
from assistant.workspace.pending import UNDO_SECONDS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A first answer on a busy 2-core machine can take well over the default 5 s; assertions wait as long as actions.
WAIT_MS = 60_000
DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}


class Served:
    """A running workspace: its address and the runtime behind it (for checking what was stored)."""

    def __init__(self, url: str, rt: Runtime) -> None:
        self.url = url
        self.rt = rt


def serve(
    rt: Runtime, prepare: Callable[[Runtime], None] | None = None, undo_seconds: float = UNDO_SECONDS
) -> Generator[Served, None, None]:
    """Serve the workspace for `rt` until the generator is closed (a module fixture's body)."""
    if prepare:
        prepare(rt)
    app = ui.with_queue(ui.build_app(rt, undo_seconds), rt.settings)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **ui.launch_options(rt.settings))
    try:
        yield Served(f"http://127.0.0.1:{port}/", rt)
    finally:
        app.close()


def copy_of_built(built_dir: Path, tmp_path_factory: pytest.TempPathFactory, name: str, **settings: Any) -> Runtime:
    """A runtime over a private copy of the built index (the tests store conversations and documents)."""
    data = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(built_dir, data)
    return Runtime(make_settings(data, **settings))


def new_page(browser: Browser, viewport: dict[str, int] = DESKTOP, **context: Any) -> Page:
    """A page in its own browser context (empty cache, its own conversation)."""
    page = browser.new_context(viewport=viewport, **context).new_page()  # type: ignore[arg-type]
    page.set_default_timeout(WAIT_MS)
    return page


def open_app(page: Page, url: str, tab: str | None = None) -> None:
    """Load the workspace and wait until its load events have run (the header counts the index)."""
    page.goto(url)
    expect(page.locator("#coach-input textarea")).to_be_visible()
    expect(page.locator("#ma-header")).to_contain_text("passages indexed")
    if tab:
        page.get_by_role("tab", name=tab, exact=True).click()


def answers(page: Page) -> Locator:
    return page.locator('#coach-chat [data-testid="bot"]')


def questions(page: Page) -> Locator:
    return page.locator('#coach-chat [data-testid="user"]')


def wait_for_turn(page: Page, answers_before: int, sources: bool = True) -> None:
    """The turn is done when its answer is there, the sources are rendered (for an answer that has some) and
    nothing is pending."""
    expect(answers(page)).to_have_count(answers_before + 1)
    if sources:
        expect(page.locator("#sources-panel .ma-source").first).to_be_visible()
    expect(page.locator("#coach-send")).to_be_visible()
    expect(page.locator("#coach-send")).to_be_enabled()
    page.wait_for_function(
        "() => !document.querySelector('#coach-chat .pending') && "
        "!document.querySelector('#coach-chat .status-tracker:not(.hide)')"
    )
    page.wait_for_timeout(300)  # the page script decorates citations on the next animation frame


def ask(page: Page, text: str, sources: bool = True) -> str:
    """Type a question, send it, and return the finished answer's text."""
    before = answers(page).count()
    page.locator("#coach-input textarea").fill(text)
    page.locator("#coach-send").click()
    wait_for_turn(page, before, sources)
    return answers(page).last.inner_text()
