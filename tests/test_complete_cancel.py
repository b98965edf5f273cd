"""`complete` takes the same cancel as `stream`: a one-shot completion (a follow-up's query rewrite, the role-play's
model voice) withdrawn while the model has said nothing closes the model's HTTP connection at once and raises
RequestCancelled, not a BackendError that would make the caller answer some other way.

The model is the scripted OpenAI-compatible server on loopback (tests/fake_openai.py); the backend, LangChain, the
openai SDK and httpx are real. The server sees a cancel only as the client closing the connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import make_settings
from fake_openai import FakeOpenAI, llm_runtime, ok, stall

from assistant.embedders.hashed import HashedEmbedder
from assistant.errors import BackendError
from assistant.llm import RequestCancelled
from assistant.llm.openai import OpenAICompatibleBackend
from assistant.runtime import Runtime
from assistant.types import Answer

PROMPT = "Rewrite the follow-up 'and what if she cries?' as a standalone question."


def backend(tmp_path: Path, server: FakeOpenAI, **overrides: object) -> OpenAICompatibleBackend:
    values: dict[str, object] = {
        "llm_backend": "openai",
        "openai_base_url": server.base_url,
        "llm_timeout": 60,
        "llm_deadline": 60,
        "llm_max_retries": 0,
    }
    return OpenAICompatibleBackend(make_settings(tmp_path / "data", **(values | overrides)))


class Completing:
    """`complete` in a thread, as the coach runs a rewrite while the workspace waits for Stop."""

    def __init__(self, model: OpenAICompatibleBackend, cancel: threading.Event) -> None:
        self.result: str | BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(model, cancel), daemon=True)
        self.thread.start()

    def _run(self, model: OpenAICompatibleBackend, cancel: threading.Event) -> None:
        try:
            self.result = model.complete(PROMPT, cancel=cancel)
        except BaseException as exc:  # handed to the test
            self.result = exc


def _eventually(check: Callable[[], bool], seconds: float) -> None:
    ends = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < ends, "it never happened"
        time.sleep(0.02)


def test_cancel_closes_a_silent_completion_at_once(tmp_path: Path, server: FakeOpenAI) -> None:
    server.default = stall()
    cancel = threading.Event()
    completing = Completing(backend(tmp_path, server), cancel)
    _eventually(lambda: len(server.chat_requests) == 1, seconds=30)
    time.sleep(0.3)  # the request is really waiting on the model now
    assert completing.thread.is_alive() and server.client_closed == []

    cancel.set()
    stopped_at = time.monotonic()
    completing.thread.join(timeout=10)
    assert not completing.thread.is_alive(), "complete() is still waiting for the model after the cancel"
    assert isinstance(completing.result, RequestCancelled), completing.result
    assert not isinstance(completing.result, BackendError), "a cancel is not a model failure"
    _eventually(lambda: bool(server.client_closed), seconds=5)
    assert server.client_closed[0] - stopped_at < 1.0, "the connection closed long after the cancel"
    assert not server.chat_requests[0].streamed, "complete() asks for one answer, not a stream"
    assert len(server.chat_requests) == 1, "no retry after the cancel"


def test_a_cancel_set_before_the_call_sends_nothing_that_is_waited_for(tmp_path: Path, server: FakeOpenAI) -> None:
    server.default = stall()
    cancel = threading.Event()
    cancel.set()
    started = time.monotonic()
    with pytest.raises(RequestCancelled):
        backend(tmp_path, server).complete(PROMPT, cancel=cancel)
    assert time.monotonic() - started < 1.0


def test_an_unset_cancel_changes_nothing(tmp_path: Path, server: FakeOpenAI) -> None:
    server.script(ok("What should I do if my mentee cries during feedback?"))
    answer = backend(tmp_path, server).complete(PROMPT, cancel=threading.Event())
    assert answer == "What should I do if my mentee cries during feedback?"
    assert PROMPT in server.chat_requests[0].text()


def test_the_deadline_still_applies_with_a_cancel_given(tmp_path: Path, server: FakeOpenAI) -> None:
    server.default = stall()
    model = backend(tmp_path, server, llm_deadline=1.0)
    with pytest.raises(BackendError, match="in time"):
        model.complete(PROMPT, cancel=threading.Event())
    _eventually(lambda: bool(server.client_closed), seconds=5)


@pytest.mark.real_backend  # the offline coach's module loads the English parser
def test_the_offline_coach_takes_the_cancel_and_still_cannot_complete(tmp_path: Path) -> None:
    from assistant.llm.offline import OfflineCoach  # here, not at the top: the fast tier never loads the parser

    settings = make_settings(tmp_path / "data")
    offline = OfflineCoach(settings, HashedEmbedder())
    with pytest.raises(BackendError, match="cannot complete a prompt"):
        offline.complete(PROMPT, cancel=threading.Event())


FIRST = "My mentee froze when I gave her feedback on her presentation last week."
FOLLOW_UP = "And what if she cries next time?"


class FollowingUp:
    """A follow-up asked through `Coach.stream` in a thread with a cancel event, as the workspace's Stop sends it."""

    def __init__(self, rt: Runtime, session_id: str, line: str = FOLLOW_UP) -> None:
        self.cancel = threading.Event()
        self.steps: list[tuple[str, Answer | None]] = []
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(rt, session_id, line), daemon=True)
        self.thread.start()

    def _run(self, rt: Runtime, session_id: str, line: str) -> None:
        try:
            self.steps.extend(rt.coach.stream(line, session_id=session_id, cancel=self.cancel))
        except BaseException as exc:  # handed to the test
            self.failure = exc


def test_stop_during_a_follow_ups_query_rewrite_closes_the_model_connection(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI
) -> None:
    rt = llm_runtime(built_dir, tmp_path, server, llm_timeout=60, llm_deadline=60, llm_max_retries=0)
    server.script(ok("Start by asking her how the presentation felt to her [1]."))
    first = rt.coach.ask(FIRST)
    assert first.backend == "openai" and first.session
    turns_before = len(rt.sessions.history(first.session, owner="local"))
    asked_before = len(server.chat_requests)

    server.default = stall()  # the follow-up's first request is the rewrite; the model never answers it
    asking = FollowingUp(rt, first.session)
    _eventually(lambda: len(server.chat_requests) == asked_before + 1, seconds=60)
    time.sleep(0.3)
    rewrite = server.chat_requests[-1]
    assert not rewrite.streamed and FOLLOW_UP in rewrite.text(), "the request waiting is the query rewrite"
    assert asking.thread.is_alive() and server.client_closed == []

    asking.cancel.set()
    stopped_at = time.monotonic()
    asking.thread.join(timeout=10)
    assert not asking.thread.is_alive(), "the coach is still waiting for the rewrite after Stop"
    assert asking.failure is None, asking.failure
    _eventually(lambda: bool(server.client_closed), seconds=5)
    assert server.client_closed[0] - stopped_at < 1.0, "the rewrite's connection closed long after Stop"
    assert all(answer is None for _, answer in asking.steps), "a stopped follow-up gets no answer"
    assert len(server.chat_requests) == asked_before + 1, "no answer was asked for after Stop"
    assert len(rt.sessions.history(first.session, owner="local")) == turns_before, "nothing stored"


@pytest.mark.real_backend  # the role-play reads the mentor's lines with the sentence encoder
def test_stop_while_the_model_voices_the_mentee_closes_its_connection(tmp_path: Path, server: FakeOpenAI) -> None:
    settings = make_settings(
        tmp_path / "data",
        llm_backend="openai",
        openai_base_url=server.base_url,
        openai_api_key="k",
        llm_timeout=60,
        llm_deadline=60,
        llm_max_retries=0,
    )
    rt = Runtime(settings)
    start = rt.coach.ask("Let's role-play the missed deadlines conversation with a quiet mentee")
    assert start.session and start.prompt_version.startswith("practice:") and not server.chat_requests
    turns_before = len(rt.sessions.history(start.session, owner="local"))

    server.default = stall()
    asking = FollowingUp(rt, start.session, line="What got in the way this sprint?")
    _eventually(lambda: len(server.chat_requests) == 1, seconds=60)
    time.sleep(0.3)
    assert "Tension:" in server.chat_requests[0].text(), "the request waiting is the mentee's voice"
    assert asking.thread.is_alive() and server.client_closed == []

    asking.cancel.set()
    stopped_at = time.monotonic()
    asking.thread.join(timeout=10)
    assert not asking.thread.is_alive(), "the role-play is still waiting for the model after Stop"
    assert asking.failure is None, asking.failure
    _eventually(lambda: bool(server.client_closed), seconds=5)
    assert server.client_closed[0] - stopped_at < 1.0, "the voice's connection closed long after Stop"
    assert all(answer is None for _, answer in asking.steps), "no bank reply stands in for a stopped line"
    assert len(rt.sessions.history(start.session, owner="local")) == turns_before, "nothing stored"
