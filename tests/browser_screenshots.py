"""Take the README's screenshots from the real app: `.venv/bin/python tests/browser_screenshots.py`.

The workspace is served on a loopback port over a fresh data directory (the curated knowledge indexed into it, the
offline coach answering), driven in Debian's Chromium as a user would, and each view is written to
docs/screenshots/. Nothing is mocked; run it again whenever the workspace changes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from browser import CHROMIUM, CHROMIUM_ARGS, PHONE, ask, new_page, open_app, serve
from conftest import make_settings
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.runtime import Runtime
from assistant.workspace import app as ui

REPO = Path(__file__).resolve().parents[1]
DESKTOP = {"width": 1440, "height": 1000}
QUESTION = "How do I give feedback to a mentee who gets defensive?"


def coach(page: Page, out: Path) -> None:
    """An answer with a clicked citation: its passage open and highlighted beside the answer."""
    ask(page, "What should I cover in my first meeting with a new mentee?")
    page.locator("#coach-new").click()
    expect(page.locator('#coach-chat [data-testid="user"]')).to_have_count(0)
    ask(page, QUESTION)
    page.locator("#coach-chat button.ma-cite").nth(1).click()
    page.wait_for_timeout(500)
    page.evaluate("window.scrollTo(0, 0)")  # the header in the picture too
    page.screenshot(path=out / "coach.png")
    # The list beside the chat, Rename and Delete shown on the conversation under the pointer.
    page.locator("#conversation-list li.ma-convo-item").first.hover()
    page.wait_for_timeout(300)
    page.locator("#coach-sidebar").screenshot(path=out / "conversations.png")


def coach_dark(page: Page, out: Path) -> None:
    page.locator("#theme-switch").click()
    ask(page, "My mentee is very quiet in our one-on-ones. How do I draw them out?")
    page.screenshot(path=out / "coach-dark.png")
    page.locator("#theme-switch").click()  # the choice is remembered in this browser: back to light


def phone(page: Page, out: Path) -> None:
    """The phone layout: every tab in the bar, the sources right under the answer."""
    ask(page, QUESTION)
    # The end of the chat, the question box and the first of the sources under them.
    page.evaluate("document.querySelector('#coach-ask-row').scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    page.screenshot(path=out / "phone.png")


def feedback(page: Page, out: Path) -> None:
    page.get_by_role("tab", name="Feedback studio").click()
    page.locator("#feedback-text textarea").fill(
        "You are always late to standup and it's really unprofessional. Maybe try to be better?"
    )
    page.locator("#feedback-check").click()
    expect(page.locator("#feedback-score")).to_be_visible()
    page.screenshot(path=out / "feedback.png", full_page=True)


def practice(page: Page, out: Path) -> None:
    page.get_by_role("tab", name="Practice").click()
    page.locator("#practice-start").click()
    mentee = page.locator('#practice-chat [data-testid="bot"]')
    expect(mentee).to_have_count(1)
    page.locator("#practice-input textarea").fill("What has made the last two deadlines hard for you?")
    page.locator("#practice-send").click()
    expect(mentee).to_have_count(2)
    page.locator("#practice-end").click()
    expect(page.locator("#practice-debrief")).to_contain_text("Practice debrief")
    page.screenshot(path=out / "practice.png", full_page=True)


def knowledge(page: Page, out: Path) -> None:
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#knowledge-doc input").click()
    page.get_by_role("option").nth(3).click()
    expect(page.locator("#knowledge-viewer")).not_to_contain_text("Choose a document")
    page.screenshot(path=out / "knowledge.png")


def evals(page: Page, out: Path) -> None:
    page.get_by_role("tab", name="Evals").click()
    page.locator("#eval-suite input").click()
    page.get_by_role("option").filter(has_text="retrieval").click()
    page.locator("#eval-run").click()
    expect(page.locator("#eval-table")).to_be_visible(timeout=300_000)
    page.screenshot(path=out / "evals.png", full_page=True)


def take_all(browser: Browser, url: str, out: Path) -> None:
    steps = [
        (coach, DESKTOP),
        (coach_dark, DESKTOP),
        (phone, PHONE),
        (feedback, DESKTOP),
        (practice, DESKTOP),
        (knowledge, DESKTOP),
        (evals, DESKTOP),
    ]
    for step, viewport in steps:
        page = new_page(browser, viewport)
        page.set_default_timeout(300_000)  # a busy machine: the app is slow, not broken
        try:
            open_app(page, url)
            step(page, out)
            print(f"  {step.__name__}", flush=True)
        finally:
            page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--built", type=Path, help="a data directory with the index built already (it is copied)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        if args.built:
            shutil.copytree(args.built, data, ignore=shutil.ignore_patterns("*.lock", "gradio-tmp", "*.db*"))
        rt = Runtime(make_settings(data))
        if not args.built:
            print("Indexing the curated knowledge…", flush=True)
            rt.ingestor.run()
        app = serve(rt, ui.warm_up)  # the first question is answered before any picture is taken
        served = next(app)
        try:
            expect.set_options(timeout=300_000)
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                take_all(chromium, served.url, args.out)
                chromium.close()
        finally:
            app.close()
    print(f"Screenshots written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
