"""Uploads that once took the server down, sent through the real web app in Debian's Chromium.

A 383-byte YAML alias bomb drove the server to 5.5 GB, and a 1.3 MB Word file that unpacks to 48 MB passed the
upload check and kept the index busy for minutes (issue 20). Both are uploaded here next to an ordinary note, in
the same server process as this test, whose peak memory is watched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Served, new_page, open_app
from playwright.sync_api import Browser, Page, expect
from test_extraction_limits import wordy_docx
from test_front_matter import alias_bomb

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # served, browser, page, phone

WAIT_MS = 120_000  # the refused bombs are read before the status comes back


def peak_resident_bytes() -> int:
    """This process's peak resident memory so far (VmHWM)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    desktop = new_page(browser)
    desktop.set_default_timeout(WAIT_MS)
    open_app(desktop, served.url)
    yield desktop
    desktop.context.close()


def test_bombs_are_refused_by_name_and_leave_nothing_behind(page: Page, served: Served, tmp_path: Path) -> None:
    rt = served.rt
    bomb = tmp_path / "team-notes.md"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    handbook = wordy_docx(tmp_path / "handbook.docx", 47 * 1024 * 1024)
    note = tmp_path / "heron-rota.md"
    note.write_text("# Heron rota\n\nThe heron rota for buddy lunches starts on Monday.\n", encoding="utf-8")
    page.get_by_role("tab", name="Knowledge").click()
    page.get_by_text("Add your own documents").click()
    before = peak_resident_bytes()
    page.locator("#knowledge-upload input[type=file]").set_input_files([str(bomb), str(handbook), str(note)])
    expect(page.locator("#knowledge-upload")).to_contain_text("heron-rota", timeout=WAIT_MS)
    page.locator("#knowledge-add").click()
    status = page.locator("#knowledge-status")
    expect(status).to_contain_text("Added 1 document", timeout=WAIT_MS)
    expect(status).to_contain_text("team-notes.md: front matter uses a YAML anchor")
    expect(status).to_contain_text("removed from uploads")
    expect(status).to_contain_text("handbook.docx would unpack to 47.8 MB; the limit is 20.0 MB")
    grown = peak_resident_bytes() - before
    assert grown < 300 * 1024**2, f"the server's peak memory grew by {grown / 1024**2:.0f} MB"
    assert sorted(p.name for p in rt.settings.uploads_dir.iterdir()) == ["heron-rota.md"]
    hits = rt.retriever.search("heron rota buddy lunches", k=3)
    assert hits and hits[0].chunk.source.endswith("heron-rota.md")
