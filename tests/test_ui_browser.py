"""The workspace as a person uses it: the real app on a loopback port, driven in Debian's Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser import Served, ask, new_page, open_app
from playwright.sync_api import Browser, Page, Request, expect

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # served, browser, page, phone

QUESTION = "How do I give feedback to a mentee who gets defensive?"


@pytest.fixture(scope="module")
def app_url(served: Served) -> str:
    return served.url


@pytest.fixture(scope="module")
def requests_seen() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(browser: Browser, requests_seen: list[str]) -> Iterator[Page]:
    """One page for the module; every request it makes is recorded (nothing may leave 127.0.0.1)."""
    page = new_page(browser)

    def record(request: Request) -> None:
        requests_seen.append(request.url)

    page.context.on("request", record)
    yield page
    page.context.close()


def _open(page: Page, url: str, tab: str | None = None) -> None:
    open_app(page, url, tab)


def _ask(page: Page, text: str, sources: bool = True) -> str:
    return ask(page, text, sources)


def test_coach_streams_a_cited_answer_with_its_sources(page: Page, app_url: str, artifacts: Path) -> None:
    _open(page, app_url)
    expect(page.locator("#backend-banner")).to_contain_text("Offline coach")
    answer = _ask(page, QUESTION)
    assert re.search(r"\[\d+\]", answer), answer
    sources = page.locator("#sources-panel .ma-source")
    assert sources.count() >= 2
    first = sources.first
    expect(first.locator(".ma-source-title")).not_to_be_empty()
    expect(first.locator(".ma-tag").first).not_to_be_empty()
    expect(first.locator(".ma-snippet")).not_to_be_empty()
    # The full passage opens on demand.
    full = first.locator(".ma-full")
    expect(full).to_be_hidden()
    first.locator("summary").click()
    expect(full).to_be_visible()
    page.locator("#rate-comment input, #rate-comment textarea").first.fill("Clear and practical")
    page.get_by_role("button", name="Like", exact=True).last.click()  # the one rating control, under the answer
    expect(page.locator("#rate-status")).to_contain_text("saved")
    _screenshot_from_the_top(page, artifacts / "coach.png")


def _screenshot_from_the_top(page: Page, path: Path) -> None:
    """A whole-page screenshot with the chat showing the answer's first lines, not the auto-scrolled end."""
    size = page.viewport_size or {"width": 1440, "height": 1000}
    # Resizing makes the chat scroll itself to the end, so grow the window first and scroll afterwards.
    page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.body.scrollHeight")})
    page.wait_for_timeout(300)
    page.evaluate("document.querySelectorAll('#coach-chat .bubble-wrap').forEach(e => e.scrollTop = 0)")
    page.screenshot(path=path)
    page.set_viewport_size(size)


def test_a_saved_conversation_resumes_in_the_coach_tab(page: Page, app_url: str) -> None:
    _open(page, app_url)
    _ask(page, "What should I cover in my first meeting with a new mentee?")
    page.get_by_role("tab", name="Sessions").click()
    expect(page.locator("#sessions-list")).to_contain_text("What should I cover in my first meeting")
    expect(page.locator("#session-preview")).to_contain_text("What should I cover in my first meeting")
    page.locator("#session-open").click()
    expect(page.get_by_role("tab", name="Coach")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#coach-notice")).to_contain_text("Resumed")
    expect(page.locator('#coach-chat [data-testid="user"]').first).to_contain_text("first meeting")


def test_feedback_studio_scores_a_draft(page: Page, app_url: str, artifacts: Path) -> None:
    _open(page, app_url, "Feedback studio")
    page.locator("#feedback-text textarea").fill(
        "You are always late to standup and it's really unprofessional. Maybe try to be better?"
    )
    page.locator("#feedback-check").click()
    score = page.locator("#feedback-score")
    expect(score).to_be_visible()
    assert 0 <= int(score.inner_text()) < 80
    expect(page.locator("#feedback-report")).to_contain_text("Not ready yet")
    assert page.locator('#feedback-report [role="meter"]').count() == 8
    assert page.locator("#feedback-suggestions li").count() >= 2
    expect(page.locator('#feedback-report mark[data-criterion="absolute"]').first).to_have_text("always")
    page.screenshot(path=artifacts / "feedback.png", full_page=True)


def test_practice_one_exchange_then_debrief(page: Page, app_url: str, artifacts: Path) -> None:
    _open(page, app_url, "Practice")
    page.locator("#practice-start").click()
    mentee = page.locator('#practice-chat [data-testid="bot"]')
    expect(mentee).to_have_count(1)
    page.locator("#practice-input textarea").fill("What has made the last two deadlines hard for you?")
    page.locator("#practice-send").click()
    expect(mentee).to_have_count(2)
    expect(page.locator("#practice-tension")).to_contain_text("open question")
    page.locator("#practice-end").click()
    debrief = page.locator("#practice-debrief")
    expect(debrief).to_contain_text("Practice debrief")
    expect(debrief).to_contain_text("1 open question")
    expect(debrief).to_contain_text("Guidance to read")
    page.screenshot(path=artifacts / "practice.png", full_page=True)


def test_html_and_outside_images_never_run_or_load(
    page: Page, app_url: str, artifacts: Path, requests_seen: list[str]
) -> None:
    _open(page, app_url)
    attack = (
        '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
        "![x](http://example.invalid/leak.png) How do I build trust with a new mentee?"
    )
    _ask(page, attack, sources=False)  # the message may be read as an attempt to steer the coach: no sources then
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#coach-chat img[src='x'], #coach-chat script").count() == 0
    hosts = {urlparse(u).hostname for u in requests_seen if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert requests_seen and hosts == {"127.0.0.1"}, sorted(u for u in requests_seen if "127.0.0.1" not in u)
    user = page.locator('#coach-chat [data-testid="user"]').last
    expect(user).to_contain_text("<img src=x")  # shown as text, not parsed as a tag
    page.screenshot(path=artifacts / "xss.png", full_page=True)
