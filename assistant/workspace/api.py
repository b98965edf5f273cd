"""The structured API beside `/chat`: an answer with how it was made, and a stored conversation as JSON.

`/chat` returns bare Markdown (kept as it is for existing callers), so a caller cannot tell an answer of the
configured language model from the offline coach's fallback. These endpoints say it:

- `/chat_reply` (message, mode, session_id) -> {answer, mode, backend, model, fallback, sources, citations,
  grounded, abstained, safety, session_id, turn_id}. `fallback` is None when the configured backend answered,
  else why it did not ("… did not answer in time … Answered by the offline coach instead.").
- `/export_conversation` (session_id) -> the conversation as stored, each answer with its backend, model, fallback,
  sources, safety and rating (`SessionStore.export_json`).

Both see only the signed-in user's conversations. `register` adds them to the app; it runs inside the Blocks.
"""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request) to pass the request.

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.errors import USER_ERRORS
from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.runtime import Runtime

MODES = ("auto", "chat", "prepare", "feedback", "practice")
OwnerOf = Callable[[gr.Request | None], str]


def reply_json(answer: Answer) -> dict[str, Any]:
    """What an API caller needs to show and trust an answer; nothing internal (prompts, scores, the query)."""
    return {
        "answer": answer.answer,
        "mode": answer.mode,
        "backend": answer.backend,
        "model": answer.model,
        "fallback": answer.fallback,
        "sources": [
            {
                "n": s.n,
                "title": s.title,
                "topic": s.topic,
                "source": s.source,
                "heading": s.heading,
                "snippet": s.snippet,
            }
            for s in answer.sources
        ],
        "citations": list(answer.citations),
        "grounded": answer.grounded,
        "abstained": answer.abstained,
        "safety": {"category": answer.safety.category, "action": answer.safety.action}
        if answer.safety.escalated
        else None,
        "session_id": answer.session,
        "turn_id": answer.extras.get("turn_id"),
    }


class ApiEndpoints:
    """The callbacks behind `/chat_reply` and `/export_conversation`."""

    def __init__(self, rt: "Runtime", owner_of: OwnerOf) -> None:
        self.rt = rt
        self.owner_of = owner_of

    def chat_reply(
        self, message: str, mode: str = "auto", session_id: str = "", request: gr.Request | None = None
    ) -> dict[str, Any]:
        """The `/chat_reply` endpoint: `/chat`'s answer as a record that names its backend and any fallback."""
        if mode not in MODES:
            raise gr.Error(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.", print_exception=False)
        owner = self.owner_of(request)
        try:
            if session_id and not self.rt.sessions.has_session(session_id, owner=owner):
                raise gr.Error(f"No conversation {session_id!r}: open one with /new_session.", print_exception=False)
            answer = self.rt.coach.ask(
                message, mode=mode, session_id=session_id or None, owner=owner, persist=bool(session_id)
            )
        except USER_ERRORS as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return reply_json(answer)

    def export_conversation(self, session_id: str, request: gr.Request | None = None) -> dict[str, Any]:
        """The `/export_conversation` endpoint: one of the caller's conversations as JSON."""
        try:
            return self.rt.sessions.export_json(session_id, owner=self.owner_of(request))
        except USER_ERRORS as exc:
            raise gr.Error(str(exc), print_exception=False) from None


def register(rt: "Runtime", owner_of: OwnerOf) -> ApiEndpoints:
    """Add the endpoints to the Blocks being built (call inside its `with` block)."""
    endpoints = ApiEndpoints(rt, owner_of)
    gr.api(
        endpoints.chat_reply,
        api_name="chat_reply",
        api_description="Ask the coach; returns the answer with its backend, model, sources and any fallback.",
        concurrency_id="chat",
    )
    gr.api(
        endpoints.export_conversation,
        api_name="export_conversation",
        api_description="One stored conversation as JSON, each answer with how it was made (backend, fallback).",
    )
    return endpoints
