"""The rest of the workspace issue (21) in Debian's Chromium, on a desktop (1440×1000) and a phone (390×844):
renaming and deleting in the conversation list beside the chat with an Undo, copying an answer's words, uploads
recorded as the signed-in user's, and a phone page that keeps its header, fits its width and folds its sources.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import DESKTOP, PHONE, Served, answers, ask, copy_of_built, new_page, open_app, questions, serve
from playwright.sync_api import Browser, Locator, Page, expect

from assistant.ingestion import own_documents

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # browser (the served app is this module's own, below)

UNDO_SECONDS = 6.0
TABS = ["Coach", "Sessions", "Feedback studio", "Practice", "Mentees", "Knowledge", "Evals"]


@pytest.fixture(scope="module")
def served(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The offline app over a copy of the built index, with a short Undo window so a test can see it lapse."""
    rt = copy_of_built(built_dir, tmp_path_factory, "workspace")
    yield from serve(rt, undo_seconds=UNDO_SECONDS)


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    """A desktop page that may read the clipboard (the copy test reads what was copied)."""
    desktop = new_page(browser, DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    open_app(desktop, served.url)
    yield desktop
    desktop.context.close()


@pytest.fixture
def phone(browser: Browser, served: Served) -> Iterator[Page]:
    """A touch phone: no hover, so the list's Rename and Delete are always shown."""
    small = new_page(browser, PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    open_app(small, served.url)
    yield small
    small.context.close()


def _current(page: Page) -> str:
    """The id of the conversation open in the chat (marked in the list beside it)."""
    marked = page.locator("#conversation-list button.ma-convo-current")
    expect(marked).to_have_count(1)
    return str(marked.get_attribute("data-session"))


def _row(page: Page, session: str) -> Locator:
    return page.locator("#conversation-list li.ma-convo-item").filter(
        has=page.locator(f'button.ma-convo[data-session="{session}"]')
    )


# --- 1. rename and delete beside the chat, with an undo ---------------------------------------------------------


def test_the_list_beside_the_chat_renames_in_place_and_deletes_with_undo(
    page: Page, served: Served, artifacts: Path
) -> None:
    rt = served.rt
    ask(page, "How do I build trust with a new mentee?")
    first = _current(page)
    page.locator("#coach-new").click()
    expect(questions(page)).to_have_count(0)
    ask(page, "My mentee is very quiet in our one-on-ones. How do I draw them out?")
    second = _current(page)

    # Rename in place: an empty title is refused next to the box, Enter saves, the store has the new title.
    row = _row(page, first)
    row.hover()
    row.get_by_role("button", name=re.compile("^Rename")).click()
    box = row.locator(".ma-rename input")
    expect(box).to_be_focused()
    expect(box).to_have_value(re.compile("build trust"))
    box.fill("   ")
    box.press("Enter")
    expect(row.locator(".ma-rename-hint")).to_have_text("Type a title, or press Escape to keep the old one.")
    box.fill("Trust with Priya")
    page.screenshot(path=artifacts / "workspace-list-rename.png")
    box.press("Enter")
    expect(page.locator("#conversation-list .ma-rename")).to_have_count(0)
    expect(_row(page, first).locator(".ma-convo-title")).to_have_text("Trust with Priya")
    _eventually(lambda: rt.sessions.get_session(first).title == "Trust with Priya")  # type: ignore[union-attr]
    # Escape keeps the old title and sends nothing.
    _row(page, first).hover()
    _row(page, first).get_by_role("button", name=re.compile("^Rename")).click()
    _row(page, first).locator(".ma-rename input").fill("Not this")
    _row(page, first).locator(".ma-rename input").press("Escape")
    expect(_row(page, first).locator(".ma-convo-title")).to_have_text("Trust with Priya")
    page.wait_for_timeout(500)
    assert rt.sessions.get_session(first).title == "Trust with Priya"  # type: ignore[union-attr]

    # Delete the open conversation: it leaves the list and the chat at once, with an Undo and no red button.
    delete = _row(page, second).get_by_role("button", name=re.compile("^Delete"))
    assert "stop" not in (delete.get_attribute("class") or "")
    _row(page, second).hover()
    delete.click()
    toast = page.locator("#conversation-list .ma-toast")
    expect(toast).to_contain_text("Deleted “My mentee is very quiet")
    expect(page.locator(f'#conversation-list button.ma-convo[data-session="{second}"]')).to_have_count(0)
    expect(questions(page)).to_have_count(0)  # the chat starts afresh
    assert rt.sessions.get_session(second) is not None  # nothing is gone yet: Undo needs nothing restored
    page.screenshot(path=artifacts / "workspace-list-undo.png")
    toast.get_by_role("button", name="Undo").click()
    expect(page.locator(f'#conversation-list button.ma-convo[data-session="{second}"]')).to_have_count(1)
    expect(toast).to_have_count(0)
    time.sleep(UNDO_SECONDS + 1)
    assert rt.sessions.get_session(second) is not None  # undone: kept after the window

    # Deleted for good once the Undo has lapsed; the list says so if Undo is pressed too late.
    _row(page, first).hover()
    _row(page, first).get_by_role("button", name=re.compile("^Delete")).click()
    expect(toast).to_contain_text("Deleted “Trust with Priya”")
    _eventually(lambda: rt.sessions.get_session(first) is None, seconds=UNDO_SECONDS + 10)
    toast.get_by_role("button", name="Undo").click()
    expect(page.locator("#conversation-list .ma-list-note")).to_have_text(
        "Too late to undo: that conversation has been deleted."
    )
    expect(page.locator(f'#conversation-list button.ma-convo[data-session="{first}"]')).to_have_count(0)


def test_sessions_tab_deletes_with_undo_instead_of_a_red_button(page: Page, served: Served, artifacts: Path) -> None:
    rt = served.rt
    ask(page, "What should I cover in my first meeting with a new mentee?")
    session = _current(page)
    page.get_by_role("tab", name="Sessions").click()
    picked = page.locator(f'#sessions-list button.ma-convo[data-session="{session}"]')
    picked.click()
    expect(picked).to_have_class(re.compile(r"\bma-convo-current\b"))
    delete = page.locator("#session-delete")
    assert "stop" not in (delete.get_attribute("class") or "")  # an ordinary button, not a red one
    delete.click()  # no confirmation dialog: Undo takes its place
    expect(page.locator("#session-status")).to_contain_text("Deleted “What should I cover")
    expect(picked).to_have_count(0)
    page.screenshot(path=artifacts / "workspace-sessions-undo.png")
    page.locator("#sessions-list").get_by_role("button", name="Undo").click()
    expect(picked).to_have_count(1)
    expect(picked).to_have_class(re.compile(r"\bma-convo-current\b"))  # back, and selected again
    time.sleep(UNDO_SECONDS + 1)
    assert rt.sessions.get_session(session) is not None


def test_phone_list_offers_rename_and_delete_without_hover(phone: Page, served: Served, artifacts: Path) -> None:
    ask(phone, "How can I tell whether our mentoring is actually working?")
    session = _current(phone)
    row = _row(phone, session)
    delete = row.get_by_role("button", name=re.compile("^Delete"))
    expect(delete).to_be_visible()  # no hover on a touch screen: the actions are always there
    expect(row.get_by_role("button", name=re.compile("^Rename"))).to_be_visible()
    box = delete.bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"], box
    delete.tap()
    undo = phone.locator("#conversation-list .ma-toast").get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    undo.scroll_into_view_if_needed()
    phone.screenshot(path=artifacts / "workspace-phone-undo.png")
    undo.tap()
    expect(phone.locator(f'#conversation-list button.ma-convo[data-session="{session}"]')).to_have_count(1)


# --- 2. copy an answer ------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """The words of a text, without Markdown's emphasis and list marks."""
    return re.findall(r"[\w’'\[\]]+", re.sub(r"\*\*|__|^\s*(?:\d+\.|[-*])\s+", " ", text, flags=re.M))


def test_the_copy_button_copies_the_answer_as_text(page: Page, served: Served, artifacts: Path) -> None:
    ask(page, "How do I give feedback to a mentee who gets defensive?")
    session = _current(page)
    stored = served.rt.sessions.history(session)[-1].content  # the answer as the coach wrote it (Markdown)
    page.get_by_role("button", name="Copy message").last.click()
    copy = page.get_by_role("button", name="Copy message").last
    expect(copy).to_have_class(re.compile(r"\bma-copied\b"))  # "Copied" shows beside the button
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "<" not in copied and "&lt;" not in copied and "&amp;" not in copied, copied[:200]
    assert _words(copied) == _words(stored), (copied[:300], stored[:300])
    assert re.search(r"^1\. ", copied, re.M), copied  # a numbered list stays numbered
    assert "\n\n" in copied  # paragraphs stay apart
    page.screenshot(path=artifacts / "workspace-copied.png")
    # The question's own copy button gives the question as typed.
    page.get_by_role("button", name="Copy message").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == "How do I give feedback to a mentee who gets defensive?"


# --- 4. uploads belong to the signed-in user ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_in(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    rt = copy_of_built(built_dir, tmp_path_factory, "auth", auth="ann:ann-pass,bob:bob-pass")
    yield from serve(rt)


def _sign_in(browser: Browser, url: str, user: str) -> Page:
    """A page signed in as `user` (the login form's POST, whose cookie the page's context keeps)."""
    page = new_page(browser, DESKTOP)
    reply = page.context.request.post(f"{url}login", form={"username": user, "password": f"{user}-pass"})
    assert reply.ok, reply.status
    open_app(page, url)
    return page


def _upload(page: Page, path: Path, shared: bool) -> None:
    page.get_by_role("tab", name="Knowledge").click()
    page.get_by_text("Add your own documents").click()
    page.locator("#knowledge-upload input[type=file]").set_input_files([str(path)])
    expect(page.locator("#knowledge-upload")).to_contain_text(path.stem)
    share = page.locator("#knowledge-shared input[type=checkbox]")
    expect(share).to_be_checked()
    if not shared:
        share.uncheck()
    page.locator("#knowledge-add").click()
    expect(page.locator("#knowledge-outcome")).to_contain_text("Added 1 document")


def _listed(page: Page) -> str:
    page.get_by_role("tab", name="Sessions").click()  # leave and come back: the tab lists afresh
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#knowledge-list").wait_for()
    page.wait_for_timeout(1_000)
    return page.locator("#knowledge-list").inner_text()


def test_uploads_are_recorded_as_the_signed_in_users_and_private_ones_stay_theirs(
    browser: Browser, signed_in: Served, tmp_path: Path, artifacts: Path
) -> None:
    rt = signed_in.rt
    private = tmp_path / "ann-heron-notes.md"
    private.write_text("# Ann's heron notes\n\nThe heron rota for buddy lunches is Ann's own plan.\n", "utf-8")
    public = tmp_path / "bob-kestrel-guide.md"
    public.write_text("# Kestrel check-ins\n\nA kestrel check-in is a five-minute stand-up with a mentee.\n", "utf-8")
    ann = _sign_in(browser, signed_in.url, "ann")
    bob = _sign_in(browser, signed_in.url, "bob")
    try:
        _upload(ann, private, shared=False)
        _upload(bob, public, shared=True)
        owners = {d.title: (d.owner, d.shared) for d in own_documents.own_documents(rt.ingestor)}
        assert owners["Ann's heron notes"] == ("ann", False)
        assert owners["Kestrel check-ins"] == ("bob", True)

        # Bob can neither replace Ann's private notes (same file name) nor learn their title (same content).
        same_name = tmp_path / "bob" / "ann-heron-notes.md"
        same_name.parent.mkdir()
        same_name.write_text("# Bob's notes\n\nBob's own text about buddy lunches and rotas.\n", "utf-8")
        same_text = tmp_path / "bob" / "copied-notes.md"
        same_text.write_text(private.read_text("utf-8"), "utf-8")
        bob.locator("#knowledge-upload input[type=file]").set_input_files([str(same_name), str(same_text)])
        expect(bob.locator("#knowledge-upload")).to_contain_text("ann-heron-notes")
        bob.locator("#knowledge-add").click()
        outcome = bob.locator("#knowledge-outcome")
        expect(outcome).to_contain_text("Not added (2)")
        expect(outcome).to_contain_text("another user added a document with this file name")
        expect(outcome).to_contain_text("copied-notes.md: the same content is already in the index")
        assert "heron notes" not in outcome.inner_text().lower()  # Ann's private title is not named
        assert (rt.settings.uploads_dir / "ann-heron-notes.md").read_text("utf-8") == private.read_text("utf-8")

        assert "Ann's heron notes" in _listed(ann) and "Kestrel check-ins" in _listed(ann)
        bob_sees = _listed(bob)
        assert "Kestrel check-ins" in bob_sees and "Ann's heron notes" not in bob_sees
        # Each may remove only their own: Ann's picker lists her notes, not Bob's guide, and the other way round.
        ann.get_by_text("Remove one of your documents").click()
        ann.locator("#knowledge-mine input").click()
        assert [o.strip() for o in ann.get_by_role("option").all_inner_texts()] == [
            "Ann's heron notes (ann-heron-notes.md, only you)"
        ]
        ann.keyboard.press("Escape")
        bob.get_by_text("Remove one of your documents").click()
        bob.locator("#knowledge-mine input").click()
        assert [o.strip() for o in bob.get_by_role("option").all_inner_texts()] == [
            "Kestrel check-ins (bob-kestrel-guide.md, shared)"
        ]
        bob.get_by_role("option").first.click()
        bob.once("dialog", lambda dialog: dialog.accept())
        bob.locator("#knowledge-remove").click()
        expect(bob.locator("#knowledge-remove-status")).to_contain_text("Removed “Kestrel check-ins”")
        bob.screenshot(path=artifacts / "workspace-knowledge-owner.png", full_page=True)
        remaining = {d.title: d.owner for d in own_documents.own_documents(rt.ingestor)}
        assert remaining == {"Ann's heron notes": "ann"}
    finally:
        ann.context.close()
        bob.context.close()


# --- 5. the phone page: header kept, nothing wider than the screen, sources folded ---------------------------------

FITS = "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth, top: window.scrollY})"


def test_phone_page_keeps_its_header_fits_every_tab_and_folds_the_sources(phone: Page, artifacts: Path) -> None:
    phone.wait_for_timeout(1_000)
    fit = phone.evaluate(FITS)
    assert fit["top"] == 0, fit  # the page does not open scrolled past its header
    expect(phone.locator("#ma-header .ma-title")).to_be_in_viewport()
    for name in TABS:
        phone.get_by_role("tab", name=name, exact=True).click()
        phone.wait_for_timeout(700)
        fit = phone.evaluate(FITS)
        assert fit["page"] <= fit["view"], (name, fit)  # no table or panel pushes the page sideways
        phone.screenshot(path=artifacts / f"workspace-phone-{name.split()[0].lower()}.png", full_page=True)
    phone.get_by_role("tab", name="Coach", exact=True).click()
    ask(phone, "How do I give feedback to a mentee who gets defensive?")
    panel = phone.locator("#sources-panel details.ma-sources-box")
    expect(panel).to_have_attribute("open", "")
    cards = phone.locator("#sources-panel .ma-source")
    expect(cards.first).to_be_visible()
    answer = answers(phone).last.bounding_box()
    sources = phone.locator("#sources-panel").bounding_box()
    assert answer and sources and sources["y"] > answer["y"], (answer, sources)  # under the answer
    phone.locator("#sources-panel summary.ma-sources-head").tap()
    expect(cards.first).to_be_hidden()  # folded away with one tap
    phone.screenshot(path=artifacts / "workspace-phone-sources-folded.png")
    # A citation tapped in the answer opens its passage below, even with the panel folded.
    cite = phone.locator("#coach-chat button.ma-cite").first
    n = cite.get_attribute("data-n")
    cite.tap()
    card = phone.locator(f'#sources-panel .ma-source[data-n="{n}"]')
    expect(card).to_have_class(re.compile(r"\bma-source-active\b"))
    expect(card.locator(".ma-full")).to_be_visible()
    expect(card).to_be_in_viewport()
    phone.screenshot(path=artifacts / "workspace-phone-citation.png")


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until `check()` is true (a page action reaches the server a moment after the click)."""
    ends = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < ends, "the server never got there"
        time.sleep(0.2)


# --- 3. Stop before the model's first words ------------------------------------------------------------------------


class StalledModel:
    """An OpenAI-compatible endpoint on loopback that reads each chat request and never answers, recording when the
    request arrived and when the client closed its connection (the only way a server learns it was cancelled)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.arrived: list[float] = []
        self.closed: list[float] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            received = b""
            while b"\r\n\r\n" not in received:  # the request's headers; its body follows and is read below
                chunk = conn.recv(65536)
                if not chunk:
                    return
                received += chunk
            self.arrived.append(time.monotonic())
            while conn.recv(65536):  # say nothing; wait for the client to give up or cancel
                pass
            self.closed.append(time.monotonic())

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def stalled() -> Iterator[StalledModel]:
    model = StalledModel()
    yield model
    model.close()


@pytest.fixture(scope="module")
def llm_served(built_dir: Path, tmp_path_factory: pytest.TempPathFactory, stalled: StalledModel) -> Iterator[Served]:
    rt = copy_of_built(
        built_dir,
        tmp_path_factory,
        "stalled",
        llm_backend="openai",
        openai_base_url=stalled.base_url,
        openai_api_key="test-key",
        llm_timeout=30,
        llm_max_retries=0,
    )
    yield from serve(rt)


def test_stop_before_the_first_words_cancels_the_model_request(
    browser: Browser, llm_served: Served, stalled: StalledModel, artifacts: Path
) -> None:
    page = new_page(browser, DESKTOP)
    try:
        open_app(page, llm_served.url)
        before = len(stalled.arrived)
        page.locator("#coach-input textarea").fill("How do I give feedback to a mentee who gets defensive?")
        page.locator("#coach-send").click()
        deadline = time.monotonic() + 60
        while len(stalled.arrived) == before:  # the request reached the model, which says nothing
            assert time.monotonic() < deadline, "the model was never asked"
            time.sleep(0.1)
        page.locator("#coach-stop").click()
        stopped_at = time.monotonic()
        expect(page.locator("#coach-send")).to_be_visible()  # the page is free at once
        expect(answers(page).last).to_contain_text("Stopped. This answer was not saved.")
        page.screenshot(path=artifacts / "workspace-stop-before-first-words.png")
        _eventually(lambda: len(stalled.closed) > before, seconds=40)
        waited = stalled.closed[before] - stopped_at
        assert waited < 5, f"the model's connection stayed open {waited:.1f} s after Stop"
    finally:
        page.context.close()
