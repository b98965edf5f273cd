"""Stop reaches the model: a question withdrawn while the model has said nothing yet (or is half-way) closes the
model's HTTP connection at once, stores nothing and is not answered by the offline coach in its place; and a
model cut off at the deadline has its connection closed then too, not at its read timeout (issue 21).

The model is the scripted OpenAI-compatible server on loopback (tests/fake_openai.py); everything on our side of
the socket is real. The server sees a cancel only as the client closing the connection, which it records."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from fake_openai import FakeOpenAI, llm_runtime, stall, trickle

from assistant.runtime import Runtime
from assistant.types import Answer

QUESTION = "How can I build trust with a new mentee who seems guarded in our meetings?"
SLOW_WORDS = "Axolotl-compass " + "advice comes one slow word at a time " * 20


def _eventually(check: Callable[[], bool], seconds: float) -> None:
    ends = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < ends, "it never happened"
        time.sleep(0.02)


class Asking:
    """`Coach.stream` run in a thread, as the workspace runs it, with a cancel event for Stop."""

    def __init__(self, rt: Runtime) -> None:
        self.cancel = threading.Event()
        self.steps: list[tuple[str, Answer | None]] = []
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(rt,), daemon=True)
        self.thread.start()

    def _run(self, rt: Runtime) -> None:
        try:
            self.steps.extend(rt.coach.stream(QUESTION, cancel=self.cancel))
        except BaseException as exc:  # handed to the test
            self.failure = exc


def test_stop_before_the_first_word_closes_the_model_connection(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI
) -> None:
    # A 60 s read timeout and deadline: without the cancel the connection would stay open for a minute.
    rt = llm_runtime(built_dir, tmp_path, server, llm_timeout=60, llm_deadline=60, llm_max_retries=0)
    server.default = stall()
    asking = Asking(rt)
    _eventually(lambda: len(server.chat_requests) == 1, seconds=60)
    time.sleep(0.3)  # the request is really waiting on the model now
    assert server.client_closed == [] and asking.thread.is_alive()

    asking.cancel.set()
    stopped_at = time.monotonic()
    asking.thread.join(timeout=10)
    assert not asking.thread.is_alive(), "the coach is still waiting for the model"
    _eventually(lambda: bool(server.client_closed), seconds=5)
    assert server.client_closed[0] - stopped_at < 1.0, "the connection closed long after Stop"
    assert asking.failure is None, asking.failure
    assert all(answer is None for _, answer in asking.steps), "a stopped question gets no answer"
    assert rt.sessions.list_sessions(owner="local") == [], "nothing is stored for a stopped question"
    assert len(server.chat_requests) == 1, "no retry and no other request after Stop"


def test_stop_half_way_ends_the_answer_without_a_fallback(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server, llm_timeout=60, llm_deadline=60, llm_max_retries=0)
    server.default = trickle(SLOW_WORDS, seconds_per_piece=0.2)
    asking = Asking(rt)
    _eventually(lambda: any("Axolotl" in text for text, _ in asking.steps), seconds=60)
    asking.cancel.set()
    asking.thread.join(timeout=10)
    assert not asking.thread.is_alive() and asking.failure is None, asking.failure
    assert all(answer is None for _, answer in asking.steps)
    assert len(asking.steps[-1][0]) < len(SLOW_WORDS) / 2, "the model's words stopped coming at Stop"
    assert rt.sessions.list_sessions(owner="local") == []


def test_the_deadline_closes_a_silent_model_connection(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server, llm_timeout=60, llm_deadline=1.5, llm_max_retries=0)
    server.default = stall()
    answer = rt.coach.ask(QUESTION, persist=False)
    assert answer.backend == "offline" and answer.fallback, "the offline coach answers after the deadline"
    _eventually(lambda: bool(server.client_closed), seconds=5)
    held = server.client_closed[0] - server.chat_requests[0].at
    assert 1.0 <= held < 4.0, f"the silent model's connection stayed open {held:.1f} s with a 1.5 s deadline"
