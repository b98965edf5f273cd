"""The coaching engine: safety first, then mode routing, retrieval, an answer, citations, persistence."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from assistant.details import extract
from assistant.llm import BACKENDS, BackendError, ChatBackend, CoachRequest, MenteeContext
from assistant.retrieval import rewrite_query
from assistant.types import Answer, Hit, SafetyDecision, Source

if TYPE_CHECKING:
    from assistant.runtime import Runtime

log = logging.getLogger(__name__)

_CITATION = re.compile(r"\[(\d{1,3})\]")
_PRACTICE = re.compile(r"\b(practi[cs]e|role[- ]?play|rehearse|simulate)\b", re.IGNORECASE)
_FEEDBACK = re.compile(
    r"\b(feedback|word (?:this|it)|phrase (?:this|it)|how (?:do|should|can) i (?:say|tell|word|phrase)|critique|"
    r"call (?:him|her|them) out|point out)\b",
    re.IGNORECASE,
)
_PREPARE = re.compile(
    r"\b(prepare|prep|get ready|tomorrow|later today|this afternoon|next week|upcoming|"
    r"(?:have|need|going) to (?:tell|talk|break|inform|let)|break the news|bad news|"
    r"(?:conversation|meeting|talk|one-on-one|1:1) with|before (?:my|our|the) (?:meeting|talk|one-on-one))\b",
    re.IGNORECASE,
)
# Prepare and feedback answers need guidance beyond the question's own topic.
_AUX_QUERIES = {
    "prepare": [
        "preparing a difficult conversation goal facts opening line",
        "responding when someone gets defensive, angry or cries",
        "closing a hard conversation with agreed next steps and follow-up",
    ],
    "feedback": ["situation behavior impact feedback specific behavior not personality"],
}
DOMAIN_FLOOR = 0.28  # below this cosine to the best chunk, the knowledge does not cover the question
RELEVANCE_HIGH = 0.42


def route_mode(question: str) -> str:
    """Pick a mode from the wording; explicit mode selection in the UI/CLI overrides this."""
    if _PRACTICE.search(question):
        return "practice"
    if _FEEDBACK.search(question):
        return "feedback"
    if _PREPARE.search(question):
        return "prepare"
    return "chat"


def valid_citations(text: str, n_sources: int) -> tuple[str, list[int]]:
    """Drop [n] markers that point at no source; return the cleaned text and the cited numbers."""
    cited: list[int] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= n_sources:
            if n not in cited:
                cited.append(n)
            return match.group(0)
        return ""

    return _CITATION.sub(keep, text), sorted(cited)


class Coach:
    """One entry point for the CLI, the UI and the eval harness."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.offline: ChatBackend = BACKENDS.create("offline", self.settings, runtime.embedder)
        self.backend: ChatBackend = (
            self.offline if self.settings.backend == "offline" else BACKENDS.create(self.settings.backend, self.settings, runtime.embedder)
        )

    # --- public ------------------------------------------------------------------------------
    def ask(self, question: str, **kwargs: object) -> Answer:
        answer: Answer | None = None
        for _, answer in self.stream(question, **kwargs):  # noqa: B007 - the last yield is the answer
            pass
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        mode: str = "auto",
        session_id: str | None = None,
        mentee_id: str | None = None,
        owner: str = "local",
        persist: bool = True,
    ) -> Iterator[tuple[str, Answer | None]]:
        """Yield (text so far, None) while writing, then (final text, Answer)."""
        from assistant.security import check_message

        question = check_message(question, self.settings.max_message_chars)
        history = self._history(session_id, owner)
        safety = self.rt.safety.classify(question)
        chosen = route_mode(question) if mode == "auto" else mode
        if safety.escalated:
            answer = self._escalate(question, chosen, safety)
        elif chosen == "practice":
            answer = self._practice(question, history)
        else:
            answer = yield from self._coach(question, chosen, history, mentee_id, owner, safety)
        if persist:
            answer.session = self._persist(question, answer, session_id, owner, mentee_id)
        yield answer.answer, answer

    # --- stages ------------------------------------------------------------------------------
    def _coach(
        self,
        question: str,
        mode: str,
        history: list[tuple[str, str]],
        mentee_id: str | None,
        owner: str,
        safety: SafetyDecision,
    ) -> Iterator[tuple[str, Answer | None]]:
        user_turns = [t for r, t in history if r == "user"]
        query = self._rewrite(question, user_turns)
        hits = self._retrieve(query, mode)
        relevance = self._relevance(query, hits)
        if relevance < DOMAIN_FLOOR:
            return self._abstain(question, mode, query, safety)
        request = CoachRequest(
            question=question,
            mode=mode,
            hits=hits,
            history=history[-2 * self.settings.max_history_turns :],
            details=extract(" ".join([*user_turns[-2:], question])),
            mentee=self._mentee(mentee_id, owner),
        )
        text, fallback, backend = "", None, self.backend
        try:
            for piece in backend.stream(request):
                text += piece
                yield text, None
        except BackendError as exc:
            # The partial answer is discarded, never stored as if complete; the offline coach answers instead.
            log.warning("LLM backend failed, falling back to the offline coach: %s", exc)
            fallback, backend = f"{exc} Answered by the offline coach instead.", self.offline
            text = "".join(self.offline.stream(request))
        text, cited = valid_citations(text, len(hits))
        return Answer(
            answer=text.strip(),
            mode=mode,
            backend=backend.name,
            model=backend.model,
            sources=[Source.from_hit(i + 1, h) for i, h in enumerate(hits)],
            citations=cited,
            grounded=bool(cited),
            safety=safety,
            prompt_version=backend.prompt_version,
            fallback=fallback,
            query=query,
            extras={"relevance": round(relevance, 3)},
        )

    def _rewrite(self, question: str, user_turns: list[str]) -> str:
        if user_turns and self.backend is not self.offline and hasattr(self.backend, "complete"):
            from assistant.prompts import load_prompt

            prompt = load_prompt("rewrite_query").format(history="\n".join(user_turns[-4:]), question=question)
            try:
                rewritten = self.backend.complete(prompt).strip()
                if 3 <= len(rewritten) <= 400:
                    return rewritten
            except BackendError:
                pass
        return rewrite_query(question, user_turns)

    def _retrieve(self, query: str, mode: str, k: int = 5) -> list[Hit]:
        hits = self.rt.retriever.search(query, k=k)
        seen = {h.chunk.id for h in hits}
        for aux in _AUX_QUERIES.get(mode, []):
            for hit in self.rt.retriever.search(f"{aux}. {query}", k=2):
                if hit.chunk.id not in seen:
                    hits.append(hit)
                    seen.add(hit.chunk.id)
        return hits[:8]

    def _relevance(self, query: str, hits: list[Hit]) -> float:
        """Best cosine between the question and a retrieved chunk: how well the knowledge covers it."""
        if not hits:
            return 0.0
        from assistant.knowledge import embedding_text

        vectors = self.rt.embedder.embed([query] + [embedding_text(h.chunk) for h in hits[:5]])
        return float(np.max(vectors[1:] @ vectors[0]))

    def _abstain(self, question: str, mode: str, query: str, safety: SafetyDecision) -> Answer:
        words = self.offline.words  # type: ignore[attr-defined]
        text = f"{words['abstain'].strip()}\n\n**A question for you:** {words['abstain_question']}"
        return Answer(
            answer=text, mode=mode, backend=self.offline.name, model=self.offline.model, safety=safety,
            prompt_version=self.offline.prompt_version, abstained=True, query=query,
        )

    def _escalate(self, question: str, mode: str, safety: SafetyDecision) -> Answer:
        from assistant.safety import safety_response

        sources: list[Source] = []
        text = safety_response(safety)
        if safety.category in ("harassment", "legal"):
            hits = self.rt.retriever.search(question, k=3, topic="boundaries-and-escalation")
            sources = [Source.from_hit(i + 1, h) for i, h in enumerate(hits)]
            if sources:
                text += "\n\n**Guidance on this:** " + "; ".join(f"{s.title} [{s.n}]" for s in sources)
        text, cited = valid_citations(text, len(sources))
        return Answer(
            answer=text, mode=mode, backend="safety", model="safety-router", sources=sources, citations=cited,
            grounded=bool(cited), safety=safety, prompt_version=f"safety_{safety.category}",
        )

    def _practice(self, question: str, history: list[tuple[str, str]]) -> Answer:
        from assistant.practice_chat import practice_turn

        return practice_turn(self.rt, question, history)

    # --- storage -----------------------------------------------------------------------------
    def _history(self, session_id: str | None, owner: str) -> list[tuple[str, str]]:
        if not session_id:
            return []
        return [(t.role, t.content) for t in self.rt.sessions.history(session_id, owner=owner) if t.complete]

    def _mentee(self, mentee_id: str | None, owner: str) -> MenteeContext | None:
        if not mentee_id:
            return None
        profile = self.rt.sessions.get_mentee(mentee_id, owner=owner)
        if profile is None:
            return None
        return MenteeContext(
            name=profile.name,
            experience_level=profile.experience_level,
            goals=profile.goals,
            learning_preferences=profile.learning_preferences,
            communication_preferences=profile.communication_preferences,
            cultural_notes=profile.cultural_notes,
        )

    def _persist(self, question: str, answer: Answer, session_id: str | None, owner: str, mentee_id: str | None) -> str:
        store = self.rt.sessions
        if not session_id:
            session_id = store.create_session(owner=owner, mentee_id=mentee_id)
        sources = [{k: v for k, v in s.__dict__.items() if k != "text"} for s in answer.sources]
        store.add_exchange(
            session_id, question, answer.answer, mode=answer.mode, backend=answer.backend, model=answer.model,
            prompt_version=answer.prompt_version, sources=sources,
            safety=answer.safety.as_dict() if answer.safety.escalated else None, owner=owner,
        )
        return session_id
