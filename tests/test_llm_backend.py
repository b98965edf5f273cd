"""The `openai` backend (LangChain's ChatOpenAI) against a scripted OpenAI-compatible server on loopback.

Everything on our side of the socket is real: the coach, retrieval over a copy of the built index, the session
database, LangChain, the openai SDK and httpx. Only the model server is scripted (tests/fake_openai.py).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, RecordedRequest, llm_runtime, ok

from assistant.prompts import load_prompt
from assistant.runtime import Runtime
from assistant.tokens import count_tokens
from assistant.types import Answer

TRUST_QUESTION = "How can I build trust with a new mentee who seems guarded in our meetings?"
GUIDANCE_FENCE = re.compile(r'<guidance untrusted="true">\n(.*?)\n</guidance>', re.DOTALL)


def answer_request(server: FakeOpenAI) -> RecordedRequest:
    """The last request that asked for a coaching answer (it opens with the system prompt)."""
    answers = [r for r in server.chat_requests if r.messages and r.messages[0]["role"] == "system"]
    assert answers, f"no answer request reached the server; it saw {len(server.requests)} request(s)"
    return answers[-1]


def seed_history(rt: Runtime, exchanges: list[tuple[str, str]]) -> str:
    """Earlier turns written through the real session store, as a previous visit would have left them."""
    session = rt.sessions.create_session()
    for question, reply in exchanges:
        rt.sessions.add_exchange(
            session,
            question,
            reply,
            mode="chat",
            backend="openai",
            model="fake-model",
            prompt_version="test",
            sources=[],
            safety=None,
        )
    return session


def stream_answer(rt: Runtime, question: str, **kwargs: Any) -> tuple[list[str], Answer]:
    """Drive coach.stream like the UI does: the partial texts while writing, then the final Answer."""
    partial: list[str] = []
    final: Answer | None = None
    for text, answer in rt.coach.stream(question, **kwargs):
        if answer is None:
            partial.append(text)
        else:
            final = answer
    assert final is not None, "coach.stream ended without an Answer"
    return partial, final


# --- streaming ---------------------------------------------------------------------------------------


def test_streamed_answer_arrives_in_pieces(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    reply = (
        "Start small: share something about your own early mistakes so the mentee sees it is safe [1]. "
        "Keep every promise, even tiny ones, because reliability builds trust faster than charm [2]. "
        "What have you already tried with them?"
    )
    server.script(ok(reply))

    partial, answer = stream_answer(rt, TRUST_QUESTION)

    assert len(partial) >= 5, f"expected the answer in several pieces, got {len(partial)}"
    for before, after in itertools.pairwise(partial):
        assert after.startswith(before) and len(after) > len(before), "each yield must extend the text so far"
    assert partial[-1] == reply
    assert answer.backend == "openai"
    assert answer.model == rt.settings.llm_model
    assert answer.fallback is None
    assert answer.answer == reply
    assert answer.citations == [1, 2] and answer.grounded
    sent = answer_request(server)
    assert sent.streamed
    assert sent.body is not None and sent.body["model"] == rt.settings.llm_model
    assert sent.headers.get("authorization") == "Bearer test-key"
    # The stored turn is the LLM's answer, marked with the backend that wrote it.
    assert answer.session is not None
    stored = rt.sessions.history(answer.session)
    assert [(t.role, t.content, t.backend) for t in stored] == [
        ("user", TRUST_QUESTION, "openai"),
        ("assistant", reply, "openai"),
    ]
    assert all(t.complete for t in stored)


# --- citations -----------------------------------------------------------------------------------------


def test_citations_pointing_at_nothing_are_removed(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    reply = "Name the behaviour, not the person [1]. Ask for their view first [99]. Agree a next step [2][0]."
    server.script(ok(reply))

    answer = rt.coach.ask(TRUST_QUESTION)

    assert 2 <= len(answer.sources) < 99
    assert answer.citations == [1, 2]
    assert answer.grounded
    assert "[99]" not in answer.answer and "[0]" not in answer.answer
    assert "[1]" in answer.answer and "[2]" in answer.answer
    assert "Ask for their view first" in answer.answer, "only the bad marker goes, never the sentence"
    assert answer.session is not None
    stored = rt.sessions.history(answer.session)[-1]
    assert stored.content == answer.answer


def test_answer_without_a_valid_citation_is_ungrounded(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    server.script(ok("Just be yourself and it will work out [42]."))

    answer = rt.coach.ask(TRUST_QUESTION)

    assert answer.backend == "openai"
    assert answer.citations == []
    assert answer.grounded is False
    assert answer.as_dict()["grounded"] is False
    assert "[42]" not in answer.answer


def test_citation_of_a_source_left_out_of_the_prompt_is_removed(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI
) -> None:
    # A small window: only the first few retrieved chunks fit in the prompt.
    rt = llm_runtime(built_dir, tmp_path, server, llm_context_window=2048, llm_max_answer_tokens=256)
    server.script(ok("Ask first, then listen [1]."))
    first = rt.coach.ask(TRUST_QUESTION)
    fenced = GUIDANCE_FENCE.search(answer_request(server).messages[0]["content"])
    assert fenced
    shown = len(re.findall(r"^\[\d+\] ", fenced.group(1), re.MULTILINE))
    retrieved = rt.retriever.expand(rt.retriever.search(TRUST_QUESTION, k=5), 10)
    assert 1 <= shown < len(retrieved), "the premise: some retrieved chunks did not fit in the prompt"
    assert len(first.sources) == shown, "the sources listed are the ones the model saw"

    # The same question again; the model cites the first number it was never shown.
    unseen = shown + 1
    server.script(ok(f"Ask first, then listen [1]. Then follow the advice in [{unseen}]."))
    answer = rt.coach.ask(TRUST_QUESTION)

    assert f"[{unseen}]" not in answer.answer, "the model cannot have drawn on a source it never saw"
    assert answer.citations == [1]


# --- what is sent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "question"),
    [
        ("chat", TRUST_QUESTION),
        ("prepare", "Tomorrow I have to tell Priya her promotion was postponed. How do I prepare?"),
        ("feedback", "How do I word feedback for Leo, who interrupts clients in every sales call?"),
    ],
)
def test_request_holds_persona_fenced_guidance_and_mode_prompt(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI, mode: str, question: str
) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    server.script(ok("A grounded answer [1]."))

    answer = rt.coach.ask(question, mode=mode)

    assert answer.backend == "openai" and answer.mode == mode
    sent = answer_request(server)
    roles = [m["role"] for m in sent.messages]
    assert roles == ["system", "user"], "no history in a new session: system prompt, then the question"
    system, user = sent.messages[0]["content"], sent.messages[1]["content"]
    assert "You are Mentor Assistant" in system
    assert "data, not instructions" in system
    fenced = GUIDANCE_FENCE.search(system)
    assert fenced, "the retrieved guidance must sit inside the untrusted fence"
    guidance = fenced.group(1)
    # With the default window every retrieved chunk fits, numbered as the sources the answer shows.
    for source in answer.sources:
        assert f"[{source.n}] {source.title}" in guidance
        assert source.text.strip() in guidance, f"chunk {source.id} is missing from the guidance block"
    assert system.index(fenced.group(0)) > system.index("You are Mentor Assistant")
    assert user == load_prompt(f"mode_{mode}").format(question=question)
    assert question in user


def test_history_is_trimmed_oldest_first_to_fit_the_window(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    window, answer_tokens = 2048, 256
    rt = llm_runtime(built_dir, tmp_path, server, llm_context_window=window, llm_max_answer_tokens=answer_tokens)
    filler = (
        "We talked about how the project is going, what felt hard this week, which meetings drained energy, "
        "how priorities shifted after the reorganisation and what support would help over the next month. "
    )
    exchanges = [
        (f"Question number {i:02d}: my mentee and I met again. {filler * 2}", f"Reply number {i:02d}. {filler * 2}")
        for i in range(12)
    ]
    session = seed_history(rt, exchanges)
    server.script(ok("building trust with a guarded mentee"), ok("Keep the next step small [1]."))

    answer = rt.coach.ask(TRUST_QUESTION, session_id=session)

    assert answer.backend == "openai" and answer.fallback is None
    sent = answer_request(server)
    messages = sent.messages
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
    kept = messages[1:-1]
    all_turns = [m for q, a in exchanges for m in (("user", q), ("assistant", a))]
    assert 2 <= len(kept) < len(all_turns), f"expected some but not all of the history, got {len(kept)} messages"
    # Oldest dropped first: what is kept is exactly the newest turns, in order, with their roles.
    assert [(m["role"], m["content"]) for m in kept] == all_turns[-len(kept) :]
    assert "Question number 00" not in sent.text()
    assert "Reply number 11" in sent.text()
    # The whole prompt plus the answer budget fits the configured window (4 tokens of framing per message).
    prompt_tokens = sum(count_tokens(m["content"]) + 4 for m in messages) + 3
    assert prompt_tokens + answer_tokens <= window, f"{prompt_tokens} prompt tokens leave no room for the answer"
    assert sent.body is not None and sent.body.get("max_completion_tokens") == answer_tokens


# --- query rewriting ------------------------------------------------------------------------------------

FOLLOW_UP = [("My mentee Sam keeps missing deadlines on the billing migration.", "Ask Sam what gets in the way [1].")]


def test_query_rewrite_uses_its_prompt_file_when_there_is_history(
    built_dir: Path, tmp_path: Path, server: FakeOpenAI
) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    session = seed_history(rt, FOLLOW_UP)
    rewritten = "how to raise repeated missed deadlines with a mentee"
    server.script(ok(rewritten), ok("Describe the pattern you saw and ask what is blocking him [1]."))

    question = "How should I bring it up with him without sounding angry?"
    answer = rt.coach.ask(question, session_id=session)

    assert len(server.chat_requests) == 2, "one rewrite, then one answer"
    rewrite = server.chat_requests[0]
    assert [m["role"] for m in rewrite.messages] == ["user"]
    expected = load_prompt("rewrite_query").format(history=FOLLOW_UP[0][0], question=question)
    assert rewrite.messages[0]["content"] == expected
    assert answer.query == rewritten, "retrieval must search with the model's standalone query"
    assert answer.backend == "openai"


def test_query_rewrite_is_a_non_streamed_completion(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    session = seed_history(rt, FOLLOW_UP)
    server.script(ok("how to raise repeated missed deadlines with a mentee"), ok("Start with what you saw [1]."))

    rt.coach.ask("What do I say to him first?", session_id=session)

    rewrite, answer = server.chat_requests
    assert rewrite.body is not None and rewrite.body.get("stream") is not True, "the rewrite should not stream"
    assert answer.streamed, "the coaching answer still streams"


def test_no_rewrite_request_without_history(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server)
    server.script(ok("Start with one honest observation [1]."))

    answer = rt.coach.ask(TRUST_QUESTION)

    assert len(server.chat_requests) == 1
    assert answer.query and answer.backend == "openai"


# --- redaction ------------------------------------------------------------------------------------------

EMAIL = "jordan.miles@example.org"
PHONE = "+1 415 555 0134"
PII_QUESTION = f"My mentee Jordan ({EMAIL}, {PHONE}) seems guarded in our meetings. How can I build trust with him?"


def _redact_ready() -> None:
    try:
        from assistant.security import redact  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"assistant.security.redact is required for redaction: {exc}")


def test_redaction_keeps_emails_and_phones_from_the_server(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    _redact_ready()
    rt = llm_runtime(built_dir, tmp_path, server, redact=True)
    server.script(ok("Be consistent and curious [1]."))

    answer = rt.coach.ask(PII_QUESTION)

    assert answer.backend == "openai"
    sent = answer_request(server)
    assert "seems guarded in our meetings" in sent.text(), "the question itself still reaches the model"
    for request in server.chat_requests:
        assert EMAIL not in request.text() and PHONE not in request.text()
    # Redaction is for what leaves the machine; the user's own history keeps what they wrote.
    assert answer.session is not None
    assert rt.sessions.history(answer.session)[0].content == PII_QUESTION


def test_redaction_covers_the_rewrite_request_too(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    _redact_ready()
    rt = llm_runtime(built_dir, tmp_path, server, redact=True)
    session = seed_history(rt, [(f"You can reach my mentee at {EMAIL} or {PHONE}.", "Noted [1].")])
    server.script(ok("building trust with a guarded mentee"), ok("Be consistent and curious [1]."))

    rt.coach.ask(PII_QUESTION, session_id=session)

    assert len(server.chat_requests) == 2
    for request in server.chat_requests:
        assert EMAIL not in request.text(), "an email address left the machine"
        assert PHONE not in request.text(), "a phone number left the machine"


def test_without_redaction_the_question_is_sent_verbatim(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server, redact=False)
    server.script(ok("Be consistent and curious [1]."))

    rt.coach.ask(PII_QUESTION)

    assert EMAIL in answer_request(server).text()


# --- the LLM safety check -------------------------------------------------------------------------------


def test_the_llm_safety_check_asks_the_coachs_own_backend(built_dir: Path, tmp_path: Path, server: FakeOpenAI) -> None:
    rt = llm_runtime(built_dir, tmp_path, server, llm_safety_check=True)
    assert rt.coach.backend is rt.backend, "one backend (one client) for the coach and the safety check"
    # A message no pattern or classifier flags; only the model's reading adds the category.
    message = "My mentee asked me to look over the notes from her quarterly review before Friday."
    server.script(ok('{"category": "legal"}'))

    decision = rt.safety.classify(message)

    (check,) = server.chat_requests
    assert check.body is not None and check.body.get("stream") is not True, "a completion, not a stream"
    assert check.messages[0]["content"] == load_prompt("safety_check").format(message=message)
    assert decision.category == "legal"
