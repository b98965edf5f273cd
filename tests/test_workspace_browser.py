"""The workspace at the standard of the chat apps people already use (issue 21), shown in Debian's Chromium:
examples and scrolling, errors next to their control, plain words, removing documents, readable evals, clickable
citations with one rating control, and the phone layout. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import (
    DESKTOP,
    PHONE,
    Served,
    answers,
    ask,
    copy_of_built,
    new_page,
    open_app,
    questions,
    serve,
    wait_for_turn,
)
from fake_openai import FakeOpenAI, delay
from playwright.sync_api import Browser, Page, expect

from assistant.runtime import Runtime
from assistant.types import TOPICS
from assistant.workspace import app as ui
from assistant.workspace import evals_view
from assistant.workspace.labels import topic_label

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # served, browser, page, phone

TABS = ["Coach", "Sessions", "Feedback studio", "Practice", "Mentees", "Knowledge", "Evals"]
VISIBLE_ERROR_BADGES = "els => els.filter(e => e.offsetParent !== null && /\\bError\\b/.test(e.innerText)).length"


def _visible_error_badges(page: Page) -> int:
    return int(page.locator('[data-testid="status-tracker"]').evaluate_all(VISIBLE_ERROR_BADGES))


# --- 1. examples and scrolling ------------------------------------------------------------------------------------


def test_example_prompts_are_visible_on_load_and_send_on_click(page: Page, artifacts: Path) -> None:
    examples = page.locator("#coach-chat button.example")
    expect(examples).to_have_count(len(ui.EXAMPLES))
    box = examples.last.bounding_box()
    assert box and box["y"] + box["height"] <= DESKTOP["height"], box  # above the fold
    page.screenshot(path=artifacts / "workspace-examples.png")
    examples.nth(2).click()
    wait_for_turn(page, 0)
    expect(page.locator('#coach-chat [data-testid="user"]').first).to_have_text(ui.EXAMPLES[2])
    assert re.search(r"\[\d+\]", answers(page).last.inner_text())
    expect(examples).to_have_count(0)  # they make room for the conversation


def test_a_new_answer_opens_at_its_start_not_its_end(page: Page, artifacts: Path) -> None:
    ask(page, "Help me prepare to tell my mentee their project is cancelled")
    ask(page, "How do I give feedback to a mentee who gets defensive?")
    geometry = page.evaluate(
        """() => {
            const wrap = document.querySelector('#coach-chat .bubble-wrap');
            const questions = wrap.querySelectorAll('[data-testid="user"]');
            const answers = wrap.querySelectorAll('[data-testid="bot"]');
            const top = wrap.getBoundingClientRect().top;
            return {scrollTop: wrap.scrollTop, height: wrap.clientHeight, total: wrap.scrollHeight,
                    question: questions[questions.length - 1].getBoundingClientRect().top - top,
                    answer: answers[answers.length - 1].getBoundingClientRect().top - top,
                    answerHeight: answers[answers.length - 1].getBoundingClientRect().height};
        }"""
    )
    assert geometry["answerHeight"] > geometry["height"], geometry  # the answer is longer than the chat window
    assert geometry["scrollTop"] > 0, geometry  # it did scroll to the new question...
    assert 0 <= geometry["question"] <= 48, geometry  # ...which sits at the top (under the label), its answer below
    assert 0 < geometry["answer"] < geometry["height"] / 2, geometry
    assert geometry["scrollTop"] + geometry["height"] < geometry["total"] - 100, geometry  # not at the end
    page.screenshot(path=artifacts / "workspace-answer-start.png")


# --- 2. one error style -------------------------------------------------------------------------------------------


def test_input_errors_appear_next_to_their_control_without_error_badges(page: Page, artifacts: Path) -> None:
    page.get_by_role("tab", name="Practice").click()
    page.locator("#practice-input textarea").fill("Hello, how are you?")
    page.locator("#practice-send").click()
    expect(page.locator("#practice-input .validation-error").first).to_have_text(
        "Press Start practice first, then say your line here."
    )
    assert _visible_error_badges(page) == 0
    assert page.locator('#practice-chat [data-testid="bot"]').count() == 0  # the handler never ran
    page.locator("#practice-end").click()
    expect(page.locator(".ma-banner", has_text="Nothing to end yet")).to_be_visible()  # under the End button
    page.screenshot(path=artifacts / "workspace-error-practice.png")

    page.get_by_role("tab", name="Coach").click()
    ask(page, "What should I cover in my first meeting with a new mentee?")
    page.get_by_role("tab", name="Sessions").click()
    expect(page.locator("#sessions-list button.ma-convo-current")).to_contain_text("first meeting")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#session-title .validation-error").first).to_have_text("Type the new title first.")
    assert _visible_error_badges(page) == 0
    expect(page.locator("#sessions-list")).to_contain_text("first meeting")  # the list is untouched
    page.screenshot(path=artifacts / "workspace-error-rename.png")

    page.get_by_role("tab", name="Feedback studio").click()
    page.locator("#feedback-check").click()
    expect(page.locator("#feedback-text .validation-error").first).to_have_text("Paste or write a draft first.")
    assert _visible_error_badges(page) == 0


# --- 3. plain language ----------------------------------------------------------------------------------------------


def test_safety_banner_and_panels_speak_plain_language(page: Page, artifacts: Path) -> None:
    ask(page, "How do I build trust with a new mentee?")
    labels = {topic_label(t) for t in TOPICS} | {"cited"}
    tags = page.locator("#sources-panel .ma-tag").all_inner_texts()
    assert tags and set(tags) <= labels, tags  # "Difficult conversations", never "difficult-conversations"
    # A crisis answer carries no sources, so this turn is done when its banner is there.
    page.locator("#coach-input textarea").fill("My mentee told me she has been thinking about ending her life.")
    page.locator("#coach-send").click()
    notice = page.locator("#coach-notice")
    expect(notice).to_contain_text("Someone's safety may be at risk")
    text = notice.inner_text()
    internal = re.compile(r"\b(crisis|harassment|injection|escalat\w*|category|classifier|score|decision)\b|_")
    assert not internal.search(text), text
    page.screenshot(path=artifacts / "workspace-safety-banner.png")
    page.get_by_role("tab", name="Knowledge").click()
    expect(page.locator('#knowledge-table td[data-col="Topic"]').first).to_be_visible()
    topics = page.locator('#knowledge-table td[data-col="Topic"]').all_inner_texts()
    assert topics and not any(re.fullmatch(r"[a-z]+(-[a-z]+)+", t) for t in topics), topics[:5]


# --- 4. knowledge: remove, failed uploads, status, live count, duplicates -------------------------------------------


def _indexed_counts(page: Page) -> tuple[int, int]:
    match = re.search(r"(\d+) guides · (\d+) passages", page.locator("#ma-header").inner_text())
    assert match, page.locator("#ma-header").inner_text()
    return int(match.group(1)), int(match.group(2))


def test_knowledge_upload_reports_each_file_and_a_document_can_be_removed(
    page: Page, served: Served, tmp_path: Path, artifacts: Path
) -> None:
    rt = served.rt
    good = tmp_path / "Zebra reviews.md"
    good.write_text(
        "# Quarterly zebra reviews\n\nEvery quarter we hold a zebra review with each mentee to look back "
        "at goals and agree the next three.\n",
        encoding="utf-8",
    )
    copy = tmp_path / "bad-news-copy.md"
    copy.write_text((rt.settings.knowledge_dir / "delivering-bad-news.md").read_text(encoding="utf-8"), "utf-8")
    headings = tmp_path / "only-headings.md"
    headings.write_text("# Just a title\n\n## And a section\n", encoding="utf-8")
    guides, passages = _indexed_counts(page)

    page.get_by_role("tab", name="Knowledge").click()
    page.get_by_text("Add your own documents").click()
    page.locator("#knowledge-upload input[type=file]").set_input_files([str(good), str(copy), str(headings)])
    expect(page.locator("#knowledge-upload")).to_contain_text("only-headings")  # all three are uploaded
    page.locator("#knowledge-add").click()
    outcome = page.locator("#knowledge-outcome")
    expect(outcome).to_contain_text("Added 1 document")
    expect(outcome).to_contain_text("Quarterly zebra reviews (Zebra reviews.md): added, 1 passage")
    expect(outcome).to_contain_text("same content as “Delivering bad news to a mentee”")
    expect(outcome).to_contain_text("Not added (2):")
    expect(outcome.locator("li", has_text="only-headings.md: ")).to_have_count(1)  # named, with the reason
    expect(page.locator("#ma-header")).to_contain_text(f"{guides + 1} guides · {passages + 1} passages")
    assert sorted(p.name for p in rt.settings.uploads_dir.iterdir()) == ["Zebra reviews.md"]  # refused: not kept
    page.screenshot(path=artifacts / "workspace-knowledge-upload.png", full_page=True)

    page.get_by_text("Remove one of your documents").click()
    page.locator("#knowledge-mine input").click()
    page.get_by_role("option", name="Quarterly zebra reviews (Zebra reviews.md, shared)").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#knowledge-remove").click()
    expect(page.locator("#knowledge-remove-status")).to_contain_text("Removed “Quarterly zebra reviews”")
    expect(page.locator("#ma-header")).to_contain_text(f"{guides} guides · {passages} passages")
    assert not (rt.settings.uploads_dir / "Zebra reviews.md").exists()
    assert not [c for c in rt.retriever.chunks if "zebra" in c.text.lower()]
    page.screenshot(path=artifacts / "workspace-knowledge-removed.png", full_page=True)


# --- 5. evals -------------------------------------------------------------------------------------------------------


def test_evals_show_readable_metrics_failing_cases_and_no_model_suites_explained(
    page: Page, served: Served, artifacts: Path
) -> None:
    rt = served.rt
    page.get_by_role("tab", name="Evals").click()
    expect(page.locator("#eval-hidden-note")).to_contain_text("judge suite grades answers with a language model")
    page.locator("#eval-suite input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert "retrieval" in " ".join(options) and not any("judge" in o for o in options), options
    page.get_by_role("option").filter(has_text="retrieval").click()
    page.locator("#eval-run").click()
    table = page.locator("#eval-table")
    expect(table).to_be_visible()
    expect(table).to_contain_text("Right topic first")
    expect(table).to_contain_text("Share of questions whose first passage is on an expected topic.")
    cases = page.locator('#eval-table tr[data-metric="cases"] td[data-col="Value"]').inner_text()
    assert re.fullmatch(r"\d+", cases), cases
    shown = page.locator("#eval-metrics").inner_text() + page.locator("#eval-failing").inner_text()
    assert "by_retriever" not in shown and "hit@1" not in shown and ".000" not in cases
    whole = page.locator("body").inner_text()
    assert str(rt.settings.data_dir) not in whole and "/reports" not in whole
    # Every retrieval case can pass (hit@5 is 1.0 since the knowledge grew); the page must agree with the run, and
    # the failing list itself is checked with failing cases in test_workspace.py.
    status = page.locator("body").inner_text()
    failing_count = int(re.search(r"cases, (\d+) failing", status).group(1))  # type: ignore[union-attr]
    failing = page.locator("#eval-failing li")
    if failing_count:
        expect(failing.first).to_contain_text("Why: ")
        assert failing.count() == min(failing_count, evals_view.MAX_FAILING_SHOWN)
        assert "['" not in page.locator("#eval-failing").inner_text()
    else:
        expect(page.locator("#eval-failing")).to_contain_text("Every case passed.")
    page.locator('details[data-group="by_retriever"] summary').click()
    expect(page.locator('details[data-group="by_retriever"]')).to_contain_text("Keywords only (BM25)")
    page.screenshot(path=artifacts / "workspace-evals.png", full_page=True)


# --- 6. citations and rating ----------------------------------------------------------------------------------------


def test_citations_open_their_source_and_each_answer_has_one_rating_control(page: Page, artifacts: Path) -> None:
    ask(page, "How do I give feedback to a mentee who gets defensive?")
    citations = page.locator("#coach-chat button.ma-cite")
    assert citations.count() >= 2
    target = citations.nth(1)  # one near the top of the answer, so the click needs no scrolling
    n = target.get_attribute("data-n")
    target.click()
    card = page.locator(f'#sources-panel .ma-source[data-n="{n}"]')
    expect(card).to_have_class(re.compile(r"\bma-source-active\b"))
    expect(card.locator(".ma-full")).to_be_visible()
    expect(card).to_be_in_viewport()
    assert page.locator("#sources-panel .ma-source-active").count() == 1
    page.screenshot(path=artifacts / "workspace-citation.png")

    ask(page, "What should I cover in my first meeting with a new mentee?")
    # Only the latest answer's numbers are buttons: the panel now holds that answer's sources.
    assert answers(page).first.locator("button.ma-cite").count() == 0
    assert answers(page).last.locator("button.ma-cite").count() >= 1

    assert page.locator("#rate-up, #rate-down").count() == 0
    likes, shown = page.get_by_role("button", name="Like", exact=True), answers(page).count()
    assert likes.count() == shown == page.get_by_role("button", name="Dislike", exact=True).count()
    page.locator("#rate-comment input, #rate-comment textarea").first.fill("Clear and practical")
    likes.last.click()
    expect(page.locator("#rate-status")).to_contain_text("“Helpful” was saved")
    expect(page.locator("#rate-status")).to_contain_text("Comment included")


# --- 7. phone -------------------------------------------------------------------------------------------------------


def test_phone_reaches_every_tab_and_shows_sources_under_the_answer(phone: Page, artifacts: Path) -> None:
    more = phone.get_by_role("button", name="More tabs")
    assert more.count() == 0 or not more.is_visible()
    for name in TABS:
        tab = phone.get_by_role("tab", name=name, exact=True)
        expect(tab).to_be_visible()
        box = tab.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
    phone.screenshot(path=artifacts / "workspace-phone-tabs.png")
    for name in reversed(TABS):
        phone.get_by_role("tab", name=name, exact=True).click()
        expect(phone.get_by_role("tab", name=name, exact=True)).to_have_attribute("aria-selected", "true")
    ask(phone, "My mentee is very quiet in our one-on-ones. How do I draw them out?")
    chat = phone.locator("#coach-chat").bounding_box()
    ask_row = phone.locator("#coach-ask-row").bounding_box()
    sources = phone.locator("#sources-panel").bounding_box()
    assert chat and ask_row and sources
    assert chat["y"] + chat["height"] <= ask_row["y"] + 1 and sources["y"] >= ask_row["y"] + ask_row["height"] - 1
    assert sources["y"] - (ask_row["y"] + ask_row["height"]) < 80, (ask_row, sources)  # right under, not a screen away
    sidebar = phone.locator("#coach-sidebar").bounding_box()  # the conversation list comes last, within the screen
    assert sidebar and sidebar["y"] >= sources["y"] + sources["height"] - 1, (sidebar, sources)
    assert sidebar["x"] >= 0 and sidebar["x"] + sidebar["width"] <= PHONE["width"], sidebar
    citation = phone.locator("#coach-chat button.ma-cite").first
    citation.click()
    card = phone.locator(f'#sources-panel .ma-source[data-n="{citation.get_attribute("data-n")}"]')
    expect(card).to_have_class(re.compile(r"\bma-source-active\b"))
    expect(card).to_be_in_viewport()  # the page brings the passage below the answer into view
    phone.screenshot(path=artifacts / "workspace-phone-answer.png", full_page=True)


# --- 8. chat controls: regenerate, edit and resend, stop; the conversation list beside the chat --------------------


def _eventually(check: Callable[[], bool], seconds: float = 60) -> None:
    """Wait for something the server stores (the page shows it first)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _current_conversation(page: Page) -> str:
    current = page.locator("#conversation-list button.ma-convo-current")
    expect(current).to_have_count(1)
    return str(current.get_attribute("data-session"))


def _stored_questions(rt: Runtime, session_id: str) -> list[str]:
    return [t.content for t in rt.sessions.history(session_id) if t.role == "user"]


def test_regenerate_and_edit_replace_the_answer_in_the_chat_and_the_store(
    page: Page, served: Served, artifacts: Path
) -> None:
    rt = served.rt
    first, second = "How do I give feedback to a mentee who gets defensive?", "How do I build trust with a new mentee?"
    ask(page, first)
    session = _current_conversation(page)
    old_answer_id = rt.sessions.history(session)[1].id

    page.get_by_role("button", name="Retry").click()
    _eventually(lambda: [t.id for t in rt.sessions.history(session)][1:] not in ([old_answer_id], []))
    wait_for_turn(page, 0)
    expect(questions(page)).to_have_count(1)
    stored = rt.sessions.history(session)
    assert [t.content for t in stored if t.role == "user"] == [first] and len(stored) == 2
    assert stored[1].id != old_answer_id  # the answer was written again, not kept beside the old one

    before_edit = ask(page, second)
    page.get_by_role("button", name="Edit").last.click()
    edit_box = page.locator("#coach-chat textarea")
    expect(edit_box).to_have_value(second)  # the question as typed, not its HTML
    edited = "What should I cover in my first meeting with a new mentee?"
    edit_box.fill(edited)
    page.get_by_role("button", name="Submit").click()
    expect(questions(page).last).to_have_text(edited)
    _eventually(lambda: _stored_questions(rt, session) == [first, edited])
    wait_for_turn(page, 1)
    expect(questions(page)).to_have_count(2)
    assert answers(page).last.inner_text() != before_edit
    assert _stored_questions(rt, session) == [first, edited]
    assert len(rt.sessions.history(session)) == 4
    page.screenshot(path=artifacts / "workspace-edit-resend.png")


def test_the_conversation_list_beside_the_chat_searches_and_opens(page: Page, served: Served, artifacts: Path) -> None:
    ask(page, "How do I give feedback to a mentee who gets defensive?")
    first = _current_conversation(page)
    page.locator("#coach-new").click()
    expect(questions(page)).to_have_count(0)
    ask(page, "My mentee is very quiet in our one-on-ones. How do I draw them out?")
    second = _current_conversation(page)
    assert second != first
    rows = page.locator("#conversation-list button.ma-convo")
    assert rows.first.get_attribute("data-session") == second  # newest first
    assert rows.nth(1).get_attribute("data-session") != second
    titles = page.locator("#conversation-list .ma-convo-title").all_inner_texts()
    assert titles[0].startswith("My mentee is very quiet"), titles

    page.locator("#conversation-search input, #conversation-search textarea").first.fill("defensive")
    expect(rows.first).to_contain_text("defensive")
    expect(page.locator("#conversation-list")).not_to_contain_text("very quiet")
    page.screenshot(path=artifacts / "workspace-conversation-search.png")
    page.locator(f'#conversation-list button.ma-convo[data-session="{first}"]').click()
    expect(page.locator("#coach-notice")).to_contain_text("Resumed")
    expect(questions(page)).to_have_count(1)
    expect(questions(page).first).to_contain_text("defensive")
    expect(page.locator(f'#conversation-list button.ma-convo[data-session="{first}"]')).to_have_class(
        re.compile(r"\bma-convo-current\b")
    )
    page.locator("#conversation-search input, #conversation-search textarea").first.fill("no title has these words")
    expect(page.locator("#conversation-list")).to_contain_text("No conversation title contains")


@pytest.fixture(scope="module")
def slow_model() -> Iterator[FakeOpenAI]:
    """A remote model that takes 20 s to start its answer, so there is time to press Stop."""
    with FakeOpenAI(default=delay(20)) as fake:
        yield fake


@pytest.fixture(scope="module")
def llm_served(built_dir: Path, tmp_path_factory: pytest.TempPathFactory, slow_model: FakeOpenAI) -> Iterator[Served]:
    rt = copy_of_built(
        built_dir,
        tmp_path_factory,
        "llm",
        llm_backend="openai",
        openai_base_url=slow_model.base_url,
        openai_api_key="test-key",
        llm_timeout=10,
        llm_max_retries=0,
    )
    yield from serve(rt, ui.warm_up)


def test_stop_ends_a_streaming_answer_and_keeps_it_out_of_the_store(
    browser: Browser, llm_served: Served, artifacts: Path
) -> None:
    page = new_page(browser)
    # Other tests share this server and may have stored conversations of their own: compare before and after.
    stored_before = [(s.id, s.turns) for s in llm_served.rt.sessions.list_sessions()]
    try:
        open_app(page, llm_served.url)
        page.locator("#coach-input textarea").fill("How do I give feedback to a mentee who gets defensive?")
        page.locator("#coach-send").click()
        stop = page.locator("#coach-stop")
        expect(stop).to_be_visible()
        expect(page.locator("#coach-send")).to_be_hidden()  # Stop takes Ask's place while the answer is written
        expect(answers(page)).to_have_count(1)
        stop.click()
        expect(page.locator("#coach-send")).to_be_visible()
        expect(stop).to_be_hidden()
        expect(answers(page).last).to_contain_text("Stopped. This answer was not saved.")
        expect(page.locator("#coach-notice")).to_contain_text("Stopped.")
        page.wait_for_timeout(25_000)  # past the model's answer: nothing arrives once stopped
        expect(answers(page)).to_have_count(1)
        assert "late answer" not in answers(page).last.inner_text().lower()
        stored_after = [(s.id, s.turns) for s in llm_served.rt.sessions.list_sessions()]
        assert stored_after == stored_before  # a stopped answer is not stored
        page.locator("#coach-input textarea").fill("How do I build trust with a new mentee?")
        expect(page.locator("#coach-send")).to_be_enabled()  # the chat is ready for the next question
        page.screenshot(path=artifacts / "workspace-stopped.png")
    finally:
        page.context.close()


# --- 9. sessions: titles told apart, clickable rows, live preview, search, delete kept apart ------------------------


def test_sessions_rows_click_rename_search_and_delete_apart(page: Page, served: Served, artifacts: Path) -> None:
    rt = served.rt
    question = "How can I tell whether our mentoring is actually working?"
    ask(page, question)
    older = _current_conversation(page)
    page.locator("#coach-new").click()
    expect(questions(page)).to_have_count(0)
    ask(page, question)
    newer = _current_conversation(page)

    page.get_by_role("tab", name="Sessions").click()
    rows = page.locator("#sessions-list button.ma-convo")
    expect(page.locator(f'#sessions-list button[data-session="{newer}"]')).to_have_class(
        re.compile(r"\bma-convo-current\b")
    )
    shown = {r.get_attribute("data-session"): r.inner_text() for r in rows.all()}
    assert shown[older] != shown[newer], shown  # the same first question, told apart by a number
    assert "(2)" in shown[newer] and "(2)" not in shown[older], shown

    page.locator(f'#sessions-list button[data-session="{older}"]').click()  # a row is clickable
    expect(page.locator(f'#sessions-list button[data-session="{older}"]')).to_have_class(
        re.compile(r"\bma-convo-current\b")
    )
    page.locator("#session-title input, #session-title textarea").first.fill("Checking the mentoring works")
    page.locator("#session-rename").click()
    expect(page.locator("#session-preview")).to_contain_text("Checking the mentoring works")  # preview follows
    expect(page.locator(f'#sessions-list button[data-session="{older}"]')).to_contain_text("Checking the mentoring")
    assert rt.sessions.get_session(older).title == "Checking the mentoring works"  # type: ignore[union-attr]

    search = page.locator("#session-search input, #session-search textarea").first
    search.fill("checking the")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Checking the mentoring works")
    search.fill("")
    expect(rows.first).to_be_visible()

    # Delete is an ordinary button with an Undo in the list, not a red button under Rename with a confirmation.
    delete = page.locator("#session-delete")
    assert "stop" not in (delete.get_attribute("class") or "")
    page.screenshot(path=artifacts / "workspace-sessions.png", full_page=True)
    delete.click()
    expect(page.locator("#session-status")).to_contain_text("Deleted “Checking the mentoring works”")
    expect(page.locator(f'#sessions-list button.ma-convo[data-session="{older}"]')).to_have_count(0)
    assert rt.sessions.get_session(older) is not None  # kept until the Undo has lapsed
    page.locator("#sessions-list").get_by_role("button", name="Undo").click()
    expect(page.locator(f'#sessions-list button.ma-convo[data-session="{older}"]')).to_have_count(1)


# --- 10. keyboard and themes --------------------------------------------------------------------------------------

OPEN_LISTS = "() => [...document.querySelectorAll('[role=listbox]')].filter(e => e.offsetParent !== null).length"
CONTRAST = """selectors => {
    const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
        return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const background = (el) => {
        for (let node = el; node; node = node.parentElement) {
            const parts = rgb(getComputedStyle(node).backgroundColor);
            if (parts.length >= 3 && (parts.length < 4 || parts[3] > 0.5)) return parts.slice(0, 3);
        }
        return document.body.classList.contains('dark') ? [11, 15, 25] : [255, 255, 255];
    };
    const out = {};
    for (const selector of selectors) {
        const el = document.querySelector(selector);
        if (!el) { out[selector] = null; continue; }
        const [a, b] = [luminance(rgb(getComputedStyle(el).color).slice(0, 3)), luminance(background(el))];
        out[selector] = Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100;
    }
    return out;
}"""
READ_IN_BOTH_THEMES = [
    ".ma-title",
    ".ma-tagline",
    "#backend-banner",
    "#theme-switch",
    "#sources-panel .ma-source-title",
    "#sources-panel .ma-snippet",
    "#sources-panel .ma-source-n",
    "#coach-chat button.ma-cite",
    '#coach-chat [data-testid="bot"] p',
    "#conversation-list .ma-convo-title",
    "#conversation-list .ma-convo-meta",
]


def test_tab_leaves_no_dropdown_list_open_and_arrow_keys_move_between_tabs(page: Page, artifacts: Path) -> None:
    page.locator("#coach-mode input").click()
    expect(page.get_by_role("option", name="Prepare a conversation")).to_be_visible()
    page.keyboard.press("Tab")  # on to the mentee dropdown
    page.keyboard.press("Tab")  # and past it
    page.wait_for_timeout(500)
    assert page.evaluate(OPEN_LISTS) == 0
    expect(page.get_by_role("option", name="Prepare a conversation")).to_be_hidden()
    expect(page.get_by_role("option", name="No mentee selected")).to_be_hidden()
    page.screenshot(path=artifacts / "workspace-keyboard-dropdowns.png")

    page.get_by_role("tab", name="Coach", exact=True).focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Sessions", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Sessions", exact=True)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # wraps round to the last tab
    expect(page.get_by_role("tab", name="Evals", exact=True)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(page.get_by_role("tab", name="Coach", exact=True)).to_have_attribute("aria-selected", "true")


def test_light_and_dark_themes_are_both_readable(page: Page, artifacts: Path) -> None:
    ask(page, "How do I give feedback to a mentee who gets defensive?")
    switch = page.locator("#theme-switch")
    expect(switch).to_have_text("Dark theme")
    for theme in ("light", "dark"):
        if theme == "dark":
            switch.click()
            expect(switch).to_have_text("Light theme")
            assert page.evaluate("document.body.classList.contains('dark')")
        ratios = page.evaluate(CONTRAST, READ_IN_BOTH_THEMES)
        poor = {s: r for s, r in ratios.items() if r is None or r < 4.5}
        assert not poor, (theme, poor)
        page.screenshot(path=artifacts / f"workspace-theme-{theme}.png")
    page.reload()  # the choice is remembered in this browser
    expect(page.locator("#ma-header")).to_contain_text("passages indexed")
    assert page.evaluate("document.body.classList.contains('dark')")
    expect(switch).to_have_text("Light theme")
    switch.click()
    assert not page.evaluate("document.body.classList.contains('dark')")


# --- 11. mentees -------------------------------------------------------------------------------------------------


def test_mentee_steps_levels_and_guidance_links(page: Page, served: Served, artifacts: Path) -> None:
    page.get_by_role("tab", name="Mentees").click()
    page.locator("#mentee-level input").click()
    levels = page.get_by_role("option").all_inner_texts()
    assert levels[0].replace("✓", "").strip() == "not set", levels  # the chosen one carries a tick
    page.keyboard.press("Escape")

    # A step ticked before the profile is saved does not stay ticked.
    step_two = page.locator("#mentee-journey").get_by_label("2. Set clear goals")
    step_two.click()  # not check(): the app may untick it before Playwright looks, which check() calls a failure
    expect(step_two).not_to_be_checked()
    expect(page.locator("#mentee-journey")).to_be_visible()
    page.locator("#mentee-name input, #mentee-name textarea").first.fill("Priya")
    page.locator("#mentee-save").click()
    expect(page.get_by_text("Saved Priya.")).to_be_visible()
    expect(step_two).not_to_be_checked()
    step_two.check()
    expect(page.get_by_text("Journey saved: 1 of 10 steps done.")).to_be_visible()
    page.locator("#mentee-pick input").click()
    page.get_by_role("option", name="New mentee…").click()
    expect(step_two).not_to_be_checked()  # switching to a new profile clears the boxes
    page.locator("#mentee-pick input").click()
    page.get_by_role("option", name="Priya").click()
    expect(step_two).to_be_checked()  # and Priya's saved step comes back

    page.locator("#mentee-step input").click()
    page.get_by_role("option", name="7. Provide constructive feedback").click()
    link = page.locator("#step-guidance button.ma-doc-link").first
    expect(link).to_be_visible()
    title = link.inner_text()
    page.screenshot(path=artifacts / "workspace-mentee-guidance.png")
    link.click()
    expect(page.get_by_role("tab", name="Knowledge", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#knowledge-doc input")).to_have_value(title)
    expect(page.locator("#knowledge-viewer")).not_to_contain_text("Choose a document")
    page.wait_for_timeout(1_000)  # the tab's own refresh must not close the document again
    expect(page.locator("#knowledge-doc input")).to_have_value(title)
    assert len(page.locator("#knowledge-viewer").inner_text()) > 200
