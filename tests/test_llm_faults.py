"""Every way an OpenAI-compatible server can fail, injected for real on loopback; the coach must survive each.

A failed turn is answered by the offline coach (marked as such, with a readable reason), the conversation's
earlier turns are untouched, the new exchange is stored once, and no partial LLM text is ever stored.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fake_openai import (
    Behaviour,
    FakeOpenAI,
    cut_stream,
    delay,
    hang_up,
    llm_runtime,
    malformed_json,
    ok,
    status,
    trickle,
)

from assistant.runtime import Runtime
from assistant.sessions import TurnRecord
from assistant.types import Answer

FIRST_QUESTION = "How can I build trust with a new mentee who seems guarded in our meetings?"
FIRST_REPLY = "Share one of your own early mistakes so it feels safe to be honest [1]."
FOLLOW_UP = "What should I do if he still says very little after a few weeks?"
REWRITE = "mentee stays quiet and guarded after several weeks of meetings"
# Distinctive words: if they show up in storage, the cut-off LLM text leaked.
PARTIAL = "Quokka-lantern advice begins here and promises a careful plan that never finishes because"
FALLBACK_SUFFIX = "Answered by the offline coach instead."
EXCEPTION_NAME = re.compile(r"\b\w*(?:Error|Exception)\b|Traceback|<class")


@dataclass(frozen=True)
class Fault:
    name: str
    behaviours: tuple[Behaviour, ...]  # what the server does after the rewrite request
    names_problem: str  # a pattern the fallback message must match, so the user knows what went wrong
    settings: dict[str, object] = field(default_factory=dict)
    refuse: bool = False  # stop the server: the port is closed


FAULTS = [
    Fault("connection-refused", (), r"reach|connect", refuse=True),
    Fault("timeout", (delay(3), delay(3)), r"in time|timed? ?out", {"llm_timeout": 0.5}),
    Fault("http-429-forever", (status(429, {"Retry-After": "1"}), status(429, {"Retry-After": "1"})), r"429|rate"),
    Fault("http-500", (status(500), status(500)), r"500"),
    Fault("stream-cut", (cut_stream(PARTIAL, after_n_chunks=6),), r"cut off|interrupted|incomplete|ended early"),
    # HTTP sees a tidy end here; only the missing finish_reason and [DONE] show the answer stopped half-way.
    Fault(
        "stream-ends-early",
        (cut_stream(PARTIAL, after_n_chunks=6, clean=True),),
        r"cut off|interrupted|incomplete|ended early|unfinished",
    ),
    Fault("malformed-json", (malformed_json(),), r"malformed|invalid|could not be read|unreadable"),
]
# Known gaps, marked strict xfail until fixed; none remain.
NOT_SURVIVED: dict[str, str] = {}
MISNAMED: dict[str, str] = {**NOT_SURVIVED}


def params(faults: list[Fault], known: dict[str, str]) -> list[object]:
    """The faults as pytest params, the known gaps marked strict xfail so a fix is noticed at once."""
    return [
        pytest.param(f, id=f.name, marks=pytest.mark.xfail(strict=True, reason=known[f.name]))
        if f.name in known
        else pytest.param(f, id=f.name)
        for f in faults
    ]


def snapshot(turns: list[TurnRecord]) -> list[tuple[object, ...]]:
    return [(t.id, t.idx, t.role, t.content, t.backend, t.complete) for t in turns]


@dataclass
class Outcome:
    rt: Runtime
    server: FakeOpenAI
    session: str
    before: list[TurnRecord]
    partial: list[str]
    answer: Answer


def run_fault(built_dir: Path, tmp_path: Path, server: FakeOpenAI, fault: Fault) -> Outcome:
    """One good LLM turn, then the fault strikes on the follow-up in the same conversation."""
    rt = llm_runtime(built_dir, tmp_path, server, **fault.settings)
    server.script(ok(FIRST_REPLY))
    first = rt.coach.ask(FIRST_QUESTION)
    assert first.backend == "openai" and first.answer == FIRST_REPLY, "the healthy turn must come from the LLM"
    assert first.session is not None
    before = rt.sessions.history(first.session)

    if fault.refuse:
        server.stop()
    else:
        server.script(ok(REWRITE), *fault.behaviours)
    partial: list[str] = []
    answer: Answer | None = None
    for text, final in rt.coach.stream(FOLLOW_UP, session_id=first.session):
        if final is None:
            partial.append(text)
        answer = final
    assert answer is not None
    return Outcome(rt, server, first.session, before, partial, answer)


@pytest.fixture(scope="module")
def outcome_of(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Fault], Outcome]]:
    """Each fault is injected once per module; several tests then read what it left behind."""
    cache: dict[str, Outcome] = {}
    servers: list[FakeOpenAI] = []

    def outcome(fault: Fault) -> Outcome:
        if fault.name not in cache:
            servers.append(FakeOpenAI().start())
            cache[fault.name] = run_fault(built_dir, tmp_path_factory.mktemp(fault.name), servers[-1], fault)
        return cache[fault.name]

    yield outcome
    for server in servers:
        server.stop()


@pytest.mark.parametrize("fault", params(FAULTS, NOT_SURVIVED))
def test_fault_falls_back_to_the_offline_coach_and_keeps_history(
    outcome_of: Callable[[Fault], Outcome], fault: Fault
) -> None:
    out = outcome_of(fault)
    answer = out.answer

    # A readable answer from the offline coach, marked as a fallback.
    assert answer.backend == "offline"
    assert answer.model == out.rt.coach.offline.model
    assert answer.fallback and answer.fallback.endswith(FALLBACK_SUFFIX)
    assert len(answer.answer) > 80 and answer.grounded and answer.citations
    assert answer.session == out.session
    # Every scripted behaviour was used: the retries really happened (and nothing else was asked).
    assert out.server.pending == 0

    after = out.rt.sessions.history(out.session)
    assert snapshot(after[: len(out.before)]) == snapshot(out.before), "earlier turns changed"
    new = after[len(out.before) :]
    assert [(t.role, t.content, t.backend, t.complete) for t in new] == [
        ("user", FOLLOW_UP, "offline", True),
        ("assistant", answer.answer, "offline", True),
    ], "the new exchange must be stored exactly once, with the offline answer"


@pytest.mark.parametrize("fault", params(FAULTS, MISNAMED))
def test_fallback_message_names_the_problem(outcome_of: Callable[[Fault], Outcome], fault: Fault) -> None:
    answer = outcome_of(fault).answer

    assert answer.fallback is not None
    reason = answer.fallback.removesuffix(FALLBACK_SUFFIX)
    assert re.search(fault.names_problem, reason, re.IGNORECASE), f"{reason!r} does not say what went wrong"
    assert not EXCEPTION_NAME.search(answer.fallback), f"{answer.fallback!r} shows a programmer's error name"


CUTS = [f for f in FAULTS if f.name.startswith("stream-")]


@pytest.mark.parametrize("fault", params(CUTS, NOT_SURVIVED))
def test_cut_stream_text_is_never_stored(outcome_of: Callable[[Fault], Outcome], fault: Fault) -> None:
    out = outcome_of(fault)
    # The UI did see the first pieces while they streamed...
    assert out.partial and "Quokka-lantern" in out.partial[-1]
    # ...but the final answer replaces them, and nothing of them reaches storage or the export.
    assert "Quokka" not in out.answer.answer
    stored = out.rt.sessions.history(out.session)
    assert all("Quokka" not in t.content for t in stored)
    assert "Quokka" not in out.rt.sessions.export_markdown(out.session)


def test_rate_limit_is_retried_after_the_servers_delay(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    recovered = "Ask what a good meeting would look like for them [1]."
    server.script(status(429, {"Retry-After": "1"}), ok(recovered))

    answer = rt.coach.ask(FIRST_QUESTION)

    assert answer.backend == "openai" and answer.fallback is None
    assert answer.answer == recovered
    first, second = server.chat_requests
    assert second.at - first.at >= 0.9, "the retry must wait for Retry-After"
    assert second.body == first.body, "the retry repeats the same request"
    assert answer.session is not None
    stored = rt.sessions.history(answer.session)
    assert [(t.role, t.content) for t in stored] == [("user", FIRST_QUESTION), ("assistant", recovered)]


def test_failed_rewrite_still_gets_an_llm_answer(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    server.script(ok(FIRST_REPLY))
    session = rt.coach.ask(FIRST_QUESTION).session
    reply = "Give it time and keep asking open questions [1]."
    server.script(malformed_json(), ok(reply))

    answer = rt.coach.ask(FOLLOW_UP, session_id=session)

    # The query rewrite is best effort: the local rewrite takes over and the model still answers.
    assert answer.backend == "openai" and answer.fallback is None
    assert answer.answer == reply
    assert len(server.chat_requests) == 3 and server.pending == 0
    assert session is not None
    assert len(rt.sessions.history(session)) == 4


def test_first_turn_failure_creates_a_session_with_the_fallback(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI
) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    server.script(status(500), status(500))

    answer = rt.coach.ask(FIRST_QUESTION)

    assert answer.backend == "offline" and answer.fallback
    assert answer.session is not None
    stored = rt.sessions.history(answer.session)
    assert [(t.role, t.content, t.backend) for t in stored] == [
        ("user", FIRST_QUESTION, "offline"),
        ("assistant", answer.answer, "offline"),
    ]
    # The conversation goes on once the server is healthy again, with the fallback turn as history.
    server.script(ok(REWRITE), ok("Keep showing up reliably [1]."))
    again = rt.coach.ask(FOLLOW_UP, session_id=answer.session)
    assert again.backend == "openai" and again.fallback is None
    assert answer.session is not None
    assert len(rt.sessions.history(answer.session)) == 4


# --- a server that hangs up, a model that is too slow, a model that says nothing -------------------------------
def _stored(rt: Runtime, answer: Answer) -> list[tuple[str, str, str]]:
    assert answer.session is not None
    return [(t.role, t.content, t.backend) for t in rt.sessions.history(answer.session)]


@pytest.mark.parametrize("after_headers", [False, True], ids=["before-the-reply", "after-the-headers"])
def test_server_that_hangs_up_mid_response_is_named_stopped(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI, after_headers: bool
) -> None:
    """A server that crashes while answering closes the connection: every attempt, retries included, hangs up."""
    rt = llm_runtime(built_dir, tmp_path, server)
    server.default = hang_up(after_headers=after_headers)

    answer = rt.coach.ask(FIRST_QUESTION)

    assert server.chat_requests, "the request reached the server before it hung up"
    assert answer.backend == "offline" and answer.fallback
    reason = answer.fallback.removesuffix(FALLBACK_SUFFIX)
    assert "stopped while answering" in reason, reason
    assert "reach" not in reason, "a server that took the request and crashed is not an unreachable one"
    assert not EXCEPTION_NAME.search(answer.fallback)
    assert answer.grounded and len(answer.answer) > 80
    assert _stored(rt, answer) == [("user", FIRST_QUESTION, "offline"), ("assistant", answer.answer, "offline")]


TRICKLED = "Pangolin-ledger " + "advice arrives one slow word at a time " * 12


@pytest.mark.parametrize(
    "behaviour",
    [trickle(TRICKLED, seconds_per_piece=0.25), delay(120)],
    ids=["trickling-model", "hung-model"],
)
def test_a_slow_model_is_cut_off_at_the_deadline(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI, behaviour: Behaviour
) -> None:
    # Each read is quick (trickle) or the timeout is long (hang): only the wall-clock deadline can stop them.
    # Retries too would each start a new slow answer.
    rt = llm_runtime(built_dir, tmp_path, server, llm_deadline=2.0, llm_timeout=60, llm_max_retries=2)
    server.default = behaviour
    answered_at: float | None = None
    answer: Answer | None = None
    for _, final in rt.coach.stream(FIRST_QUESTION):
        if final is not None:
            answered_at, answer = time.monotonic(), final  # the offline coach's whole answer, ready to show
    assert answer is not None and answered_at is not None

    # From the moment the request reached the server to the offline coach's answer: the deadline, plus the offline
    # coach composing its answer and storing the turn (slow on a loaded machine). The trickle alone would take 85
    # pieces x 0.25 s = 21 s, the hang 120 s per attempt. The client starts its clock just before the server records
    # the request arriving, so the interval can fall a hair under the deadline (1.9995 s was seen on a fresh clone).
    cut_at = answered_at - server.chat_requests[0].at
    assert 1.9 <= cut_at < 10.0, f"the offline answer came {cut_at:.1f} s after the request, with a 2 s deadline"
    assert len(server.chat_requests) == 1, "no retry was started after the deadline"
    assert answer.backend == "offline" and answer.fallback and answer.fallback.endswith(FALLBACK_SUFFIX)
    assert re.search(r"in time", answer.fallback) and "2 s" in answer.fallback, answer.fallback
    assert "Pangolin" not in answer.answer
    assert _stored(rt, answer) == [("user", FIRST_QUESTION, "offline"), ("assistant", answer.answer, "offline")]


def test_the_deadline_also_bounds_the_query_rewrite(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server, llm_deadline=1.5, llm_timeout=60, llm_max_retries=0)
    server.script(ok(FIRST_REPLY))
    session = rt.coach.ask(FIRST_QUESTION).session
    reply = "Ask what would make the meetings feel worth their time [1]."
    server.script(delay(120), ok(reply))
    started = time.monotonic()

    answer = rt.coach.ask(FOLLOW_UP, session_id=session)

    # The rewrite is best effort: cut off at its deadline, the local rewrite takes over and the model answers.
    assert answer.backend == "openai" and answer.answer == reply
    assert time.monotonic() - started < 1.5 + 5.0


def test_an_empty_reply_is_a_failure_not_an_answer(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server, llm_max_retries=0)
    server.script(ok(""))

    answer = rt.coach.ask(FIRST_QUESTION)

    assert answer.backend == "offline" and answer.fallback and "empty" in answer.fallback
    assert answer.answer.strip() and answer.grounded
    assert _stored(rt, answer)[1] == ("assistant", answer.answer, "offline")


def test_the_deadline_is_one_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.settings import Settings

    monkeypatch.setenv("MENTOR_LLM_DEADLINE", "7.5")
    assert Settings(data_dir=tmp_path).llm_deadline == 7.5
    monkeypatch.setenv("MENTOR_LLM_DEADLINE", "0")
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path)
