"""The coaching engine: safety first, then mode routing, retrieval, an answer, citations, persistence."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.details import extract
from assistant.llm import BACKENDS, BackendError, ChatBackend, CoachRequest
from assistant.retrieval import reciprocal_rank_fusion, rewrite_query
from assistant.sessions import MenteeProfile
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
_DRAFT = re.compile(r"\b(draft|write|word|phrase|help me (?:give|say|tell))\b", re.IGNORECASE)
_PREPARE = re.compile(
    r"\b(prepare|prep|get ready|tomorrow|later today|this afternoon|next week|upcoming|"
    r"(?:have|need|going) to (?:tell|talk|break|inform|let)|break the news|bad news|"
    r"(?:conversation|meeting|talk|one-on-one|1:1) with|before (?:my|our|the) (?:meeting|talk|one-on-one))\b",
    re.IGNORECASE,
)
# Prepare answers need guidance beyond the question's own topic; each extra search feeds one section.
_AUX_QUERIES: dict[str, dict[str, str]] = {
    "prepare": {
        "prepare": "preparing for a difficult conversation: the goal, the facts to bring, likely reactions",
        "opening": "opening a difficult conversation: the first minute, naming the topic plainly",
        "reactions": "when the mentee gets defensive, angry, cries or gets upset: how to respond",
        "close": "closing a hard conversation with agreed next steps and a follow-up date",
    },
    "feedback": {
        "sbi": "how to give specific feedback: situation, behavior, impact, and a request",
        "delivery": "delivering corrective feedback privately and soon, then agreeing the next step",
    },
}
MAIN_SOURCES = 10  # chunks drawn from the question's own hits
AUX_SOURCES = 5  # chunks per section-specific search
# Abstention: cosine between the question and its best chunk, measured on evals/datasets/answers.jsonl.
# Off-topic questions scored 0.04-0.25 and mentoring questions 0.20 and up, so the middle band also
# needs a sign that the question is about people at work (a role word, a name, a conversation).
RELEVANCE_FLOOR = 0.19
RELEVANCE_CLEAR = 0.35
_PEOPLE_AT_WORK = re.compile(
    r"\b(mentee|mentor\w*|manager|boss|supervisor|report|reports|intern|apprentice|trainee|colleague|co-?worker|"
    r"employee|staff|team\w*|hire|new starter|junior|senior|associate|lead|peer|direct|one-on-ones?|1:1|feedback|"
    r"cooks?|chefs?|nurses?|engineers?|developers?|analysts?|teachers?|cashiers?|volunteers?|workers?|"
    r"conversation|meeting|career|promotion|performance|coach\w*|he|she|they|him|her|them)\b",
    re.IGNORECASE,
)


def route_mode(question: str) -> str:
    """Pick a mode from the wording; explicit mode selection in the UI/CLI overrides this."""
    if _PRACTICE.search(question):
        return "practice"
    details = extract(question)
    # "How do I give feedback to defensive people?" is a general question; a described incident is a draft.
    described = details.situation or (details.behavior and details.name)
    if _FEEDBACK.search(question) and (described or _DRAFT.search(question)):
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


def compact_sources(text: str, sources: list[Source], cited: list[int]) -> tuple[str, list[Source], list[int]]:
    """Keep only cited sources, renumbered 1..n in order of first citation."""
    order: list[int] = []
    for match in _CITATION.finditer(text):
        n = int(match.group(1))
        if n in cited and n not in order:
            order.append(n)
    mapping = {old: new for new, old in enumerate(order, start=1)}
    text = _CITATION.sub(lambda m: f"[{mapping[int(m.group(1))]}]" if int(m.group(1)) in mapping else "", text)
    kept = [replace(sources[old - 1], n=new) for old, new in mapping.items()]
    return text, kept, list(range(1, len(kept) + 1))


class Coach:
    """One entry point for the CLI, the UI and the eval harness."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.offline: ChatBackend = BACKENDS.create("offline", self.settings, runtime.embedder)
        self.backend: ChatBackend = (
            self.offline
            if self.settings.backend == "offline"
            else BACKENDS.create(self.settings.backend, self.settings, runtime.embedder)
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
        from assistant.practice_chat import active_practice, practice_turn
        from assistant.security import check_message

        question = check_message(question, self.settings.max_message_chars)
        turns = self.rt.sessions.history(session_id, owner=owner) if session_id else []
        history = [(t.role, t.content) for t in turns if t.complete]
        safety = self.rt.safety.classify(question)
        chosen = route_mode(question) if mode == "auto" else mode
        if mode == "auto" and active_practice(turns):
            chosen = "practice"  # a running role-play keeps going until the mentor ends it
        if safety.escalated:
            answer = self._escalate(question, chosen, safety)
        elif chosen == "practice":
            answer = practice_turn(self.rt, question, turns)
        else:
            answer = yield from self._coach(question, chosen, history, mentee_id, owner, safety)
        if persist:
            answer.session, answer.extras["turn_id"] = self._persist(question, answer, session_id, owner, mentee_id)
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
        details = extract(" ".join([*user_turns[-2:], question]))
        hits, purposes, relevance = self._retrieve(question, query, mode, news=details.is_news)
        described = bool(details.name and details.behavior)  # someone did something: a mentoring situation
        if not self._covered(query, mode, relevance, in_conversation=bool(user_turns) or described):
            return self._abstain(question, mode, query, safety)
        request = CoachRequest(
            question=question,
            mode=mode,
            hits=hits,
            history=history[-2 * self.settings.max_history_turns :],
            details=details,
            mentee=self._mentee(mentee_id, owner),
            extras={"purposes": purposes},
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
        shown = len(hits) if backend is self.offline else request.extras.get("sources_shown", len(hits))
        text, cited = valid_citations(text, shown)
        sources = [Source.from_hit(i + 1, h) for i, h in enumerate(hits[:shown])]
        if backend is self.offline:
            # The offline coach draws on many candidate chunks; show only the ones it cited.
            text, sources, cited = compact_sources(text, sources, cited)
        return Answer(
            answer=text.strip(),
            mode=mode,
            backend=backend.name,
            model=backend.model,
            sources=sources,
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

    def _retrieve(
        self, question: str, query: str, mode: str, news: bool = False, k: int = 5
    ) -> tuple[list[Hit], dict[str, set[str]], float]:
        """Hits for the question plus, per mode, a few for each section's own need; chunk id → the
        purposes it serves; and how well the best direct hit covers the question."""
        direct = self.rt.retriever.search(query, k=k)
        if query != question:
            # A follow-up's own words say what is new; the history only says what it is about.
            own = self.rt.retriever.search(question, k=k)
            direct = reciprocal_rank_fusion([own, direct])[:k]
        relevance = self.rt.retriever.coverage(query, direct[:5])
        hits = self.rt.retriever.expand(direct, MAIN_SOURCES)
        purposes = {h.chunk.id: {"main"} for h in hits}
        aux_queries = dict(_AUX_QUERIES.get(mode, {}))
        if mode == "prepare" and news:
            aux_queries["news"] = "delivering bad news: say it early and plainly, then stop and listen"
        for purpose, aux in aux_queries.items():
            for hit in self.rt.retriever.expand(self.rt.retriever.search(aux, k=2), AUX_SOURCES):
                if hit.chunk.id not in purposes:
                    hits.append(hit)
                purposes.setdefault(hit.chunk.id, set()).add(purpose)
        return hits, purposes, relevance

    @staticmethod
    def _covered(question: str, mode: str, relevance: float, in_conversation: bool = False) -> bool:
        """Does the knowledge cover the question, or should the coach say so and ask for detail?"""
        if relevance < RELEVANCE_FLOOR:
            return False
        # A follow-up in a mentoring conversation is about that conversation even when it names no one.
        if relevance >= RELEVANCE_CLEAR or mode in ("prepare", "feedback") or in_conversation:
            return True
        return bool(_PEOPLE_AT_WORK.search(question))

    def _abstain(self, question: str, mode: str, query: str, safety: SafetyDecision) -> Answer:
        words = self.offline.words  # type: ignore[attr-defined]
        text = f"{words['abstain'].strip()}\n\n**A question for you:** {words['abstain_question']}"
        return Answer(
            answer=text,
            mode=mode,
            backend=self.offline.name,
            model=self.offline.model,
            safety=safety,
            prompt_version=self.offline.prompt_version,
            abstained=True,
            query=query,
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
            answer=text,
            mode=mode,
            backend="safety",
            model="safety-router",
            sources=sources,
            citations=cited,
            grounded=bool(cited),
            safety=safety,
            prompt_version=f"safety_{safety.category}",
        )

    # --- storage -----------------------------------------------------------------------------
    def _mentee(self, mentee_id: str | None, owner: str) -> MenteeProfile | None:
        return self.rt.sessions.get_mentee(mentee_id, owner=owner) if mentee_id else None

    def _persist(
        self, question: str, answer: Answer, session_id: str | None, owner: str, mentee_id: str | None
    ) -> tuple[str, int]:
        """Store the exchange atomically; returns the session and the assistant turn's id (for ratings)."""
        store = self.rt.sessions
        if not session_id:
            session_id = store.create_session(owner=owner, mentee_id=mentee_id)
        sources = [{k: v for k, v in s.__dict__.items() if k != "text"} for s in answer.sources]
        _, turn_id = store.add_exchange(
            session_id,
            question,
            answer.answer,
            mode=answer.mode,
            backend=answer.backend,
            model=answer.model,
            prompt_version=answer.prompt_version,
            sources=sources,
            safety=answer.safety.as_dict() if answer.safety.escalated else None,
            owner=owner,
        )
        return session_id, turn_id
