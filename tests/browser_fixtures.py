"""The browser tests' shared fixtures: one served app per module, one Chromium per module, fresh pages.

Loaded by each browser test module with `pytest_plugins = ["browser_fixtures"]`; the helpers they use are in
tests/browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, PHONE, WAIT_MS, Served, copy_of_built, new_page, open_app, serve
from playwright.sync_api import Browser, Page, expect, sync_playwright


@pytest.fixture(scope="module")
def served(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One app per test module, offline coach, over a copy of the built index."""
    yield from serve(copy_of_built(built_dir, tmp_path_factory, "served"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; `make test` installs it (apt-get install chromium).")
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    """A fresh desktop page on the app, Coach tab open."""
    desktop = new_page(browser)
    open_app(desktop, served.url)
    yield desktop
    desktop.context.close()


@pytest.fixture
def phone(browser: Browser, served: Served) -> Iterator[Page]:
    """A fresh 390×844 page on the app."""
    small = new_page(browser, PHONE)
    open_app(small, served.url)
    yield small
    small.context.close()
