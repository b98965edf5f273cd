"""The coaching engine: safety first, then mode routing, retrieval, an answer, citations, persistence."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from typing import Any

from assistant.coaching.citations import drop_unknown_citations
from assistant.coaching.understanding import Reading, Understanding
from assistant.ingestion import own_documents
from assistant.ingestion.ingestor import Ingestor
from assistant.llm import BackendError, ChatBackend, CoachRequest, RequestCancelled
from assistant.llm.offline import OfflineCoach
from assistant.practice.chat import PracticeChat, active_practice
from assistant.prompts import load_prompt
from assistant.retrieval import HybridRetriever, rewrite_query
from assistant.safety import SafetyRouter, require_readable, safety_response, with_warning_box
from assistant.safety.router import CLEAR
from assistant.security import check_message
from assistant.sessions import MenteeProfile, SessionStore, TurnRecord
from assistant.settings import Settings
from assistant.types import Answer, Hit, SafetyDecision, Source
from assistant.understanding.message import Message
from assistant.understanding.practice_ask import asks_to_practise

log = logging.getLogger(__name__)

_CITATION = re.compile(r"\[(\d{1,3})\]")
# Below this cosine between a question and its best chunk, nothing in the knowledge is near it: off-topic
# questions scored 0.04-0.25 and mentoring questions 0.20 and up on evals/datasets/answers.jsonl.
RELEVANCE_FLOOR = 0.19
OWN_DOCUMENT_HITS = 5  # how far down the chunk search an uploaded document may sit and still be offered


def wants_practice(question: str) -> bool:
    """Role-play is asked for by name ("let me practise telling him"); everything else is read by meaning."""
    return asks_to_practise(question)


# A legal question alone is coached only when a playbook is this close to it (mean cosine of its two closest
# phrasings): a dismissal the mentee calls unfair has one (0.67); a non-compete clause (0.48, nearest "a
# reference for a job at a competitor") or overtime pay (0.57, nearest "a mentee who has been dishonest") do not.
LEGAL_COACHING_CLOSENESS = 0.60


def coaching_follows(decision: SafetyDecision) -> bool:
    """Harassment or a legal question, and nothing graver: where to take it is not all a mentor needs, and
    playbooks cover supporting a mentee through it."""
    found = clear_categories(decision)
    return bool(found) and found <= {"harassment", "legal"}


def clear_categories(decision: SafetyDecision) -> set[str]:
    found = {c for c, level in getattr(decision, "levels", ()) if level == CLEAR}
    return found or ({decision.category} if decision.category else set())


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
    """One entry point for the CLI, the UI and the eval harness. Its collaborators are passed in (`Runtime.coach`
    assembles them from the settings); it builds nothing itself."""

    def __init__(
        self,
        *,
        settings: Settings,
        backend: ChatBackend,
        offline: OfflineCoach,
        retriever: Callable[[], HybridRetriever],
        safety: SafetyRouter,
        understanding: Understanding,
        sessions: SessionStore,
        ingestor: Ingestor,
        practice: PracticeChat,
    ) -> None:
        self.settings = settings  # the message and history limits
        self.backend = backend  # writes the answers; may be `offline` itself
        self.offline = offline  # answers when the backend fails, and asks the clarifying questions
        # Fetched when first needed: the index may not be built yet, and a role-play or a safety reply needs none.
        self._retriever = retriever
        self.safety = safety
        self.understanding = understanding
        self.sessions = sessions
        self.ingestor = ingestor  # whose uploads a user may not see, and the guard against poisoned lines
        self.practice = practice

    @property
    def retriever(self) -> HybridRetriever:
        return self._retriever()

    # --- public ------------------------------------------------------------------------------
    def ask(self, question: str, **kwargs: Any) -> Answer:
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
        cancel: threading.Event | None = None,
    ) -> Iterator[tuple[str, Answer | None]]:
        """Yield (text so far, None) while writing, then (final text, Answer). When `cancel` is set (Stop in the
        workspace) the model's request is abandoned, nothing is stored and the stream ends without an Answer."""
        question = check_message(question, self.settings.max_message_chars)
        turns = self.sessions.history(session_id, owner=owner) if session_id else []
        safety = self.safety.classify(question, context=[t.content for t in turns if t.role == "user"])
        require_readable(safety)  # only invisible characters: a clear reply, not a guess
        practice = mode == "practice" or (mode == "auto" and (wants_practice(question) or active_practice(turns)))
        if safety.escalated and (practice or not coaching_follows(safety)):
            answer = self._escalate(self.understanding.message(question), "chat" if mode == "auto" else mode, safety)
        elif practice:
            try:  # a running role-play goes on until the mentor ends it (its partner reads the line itself)
                answer = self.practice.turn(question, turns, cancel)
            except RequestCancelled:
                return
        else:
            # Normalised, encoded and parsed once; the stages below read this record, not the raw text. (Safety
            # read the raw text above: hidden characters and smuggled instructions are evidence for it.)
            message = self.understanding.message(question)
            coaching = self._coach_after_escalation if safety.escalated else self._coach
            try:
                answer = yield from coaching(message, mode, turns, mentee_id, owner, safety, cancel)
            except RequestCancelled:
                return
        if cancel is not None and cancel.is_set():
            return  # stopped while the answer was being finished: it is not kept
        if not practice:
            # Possible warning signs: a box above the coaching. A role-play line is said to a made-up mentee and
            # carries the scenario's news ("you won't be on it this time"); a clear sign still escalates above.
            answer = with_warning_box(answer, safety)
        if persist:
            answer.session, answer.extras["turn_id"] = self._persist(question, answer, session_id, owner, mentee_id)
        yield answer.answer, answer

    # --- stages ------------------------------------------------------------------------------
    def _coach(
        self,
        message: Message,
        mode: str,
        turns: list[TurnRecord],
        mentee_id: str | None,
        owner: str,
        safety: SafetyDecision,
        cancel: threading.Event | None,
    ) -> Generator[tuple[str, Answer | None], None, Answer]:  # the return value is the final Answer
        history = [(t.role, t.content) for t in turns if t.complete]
        user_turns = [t for r, t in history if r == "user"]
        query = self._rewrite(message.text, user_turns, cancel)
        vector = message.vector_for(query, self.retriever.embedder.name)  # a rewritten query is encoded anew
        # Another user's private uploads are never searched for this one.
        hidden = own_documents.hidden_sources(self.ingestor, owner)
        chunk_hits = own_documents.visible_hits(self.retriever.search(query, k=10, vector=vector), hidden)
        state = self.understanding.state_from(turns)
        reading = self.understanding.read(message, state, mode=mode)
        relevance = self.retriever.coverage(query, chunk_hits[:5], vector=vector)
        if not message.english:
            # The guidance and the parser are English: a short reply in plain words beats a stitched answer.
            return self._clarify(reading, mode, query, safety, 0.0, text=self.offline.other_language())
        if not reading.understood:
            return self._clarify(reading, mode, query, safety, relevance)
        hits = [Hit(c, 1.0) for book in reading.playbooks for c in self.retriever.document_chunks(book.source)]
        # The organisation's own uploaded documents that the search found for this question go along too: a model
        # reads them (fenced as untrusted), the offline coach points to them without quoting them.
        hits += [h for h in chunk_hits[:OWN_DOCUMENT_HITS] if h.chunk.user_source][:2]
        # Lines in uploads that ask for credentials or steer away from reporting never reach a backend.
        hits = self.ingestor.guard.screen_hits(hits)
        request = CoachRequest(
            question=message.raw,
            mode=reading.mode if mode == "auto" else mode,
            hits=hits,
            history=history[-2 * self.settings.max_history_turns :],
            mentee=self._mentee(mentee_id, owner),
            reading=reading,
            cancel=cancel,
        )
        text, fallback, backend = "", None, self.backend
        try:
            reply = backend.stream(request)
            for piece in reply:
                text += piece
                yield text, None
        except BackendError as exc:
            if cancel is not None and cancel.is_set():
                raise RequestCancelled from exc  # a backend that failed because it was stopped: no fallback
            # The partial answer is discarded, never stored as if complete; the offline coach answers instead.
            log.warning("LLM backend failed, falling back to the offline coach: %s", exc)
            fallback, backend = f"{exc} Answered by the offline coach instead.", self.offline
            reply = self.offline.stream(request)
            text = "".join(reply)
        if backend is not self.offline:
            # A model may still repeat a poisoned line it inferred; the offline coach never quotes uploads.
            text, _held = self.ingestor.guard.screen_answer(text)
        shown = reply.sources_shown
        text, cited = drop_unknown_citations(text, shown)  # without leaving 'See also  and .'
        sources = [Source.from_hit(i + 1, h) for i, h in enumerate(hits[:shown])]
        if backend is self.offline:
            # The offline coach is given a whole playbook; show only the sections it cited.
            text, sources, cited = compact_sources(text, sources, cited)
        return Answer(
            answer=text.strip(),
            mode=request.mode,
            backend=backend.name,
            model=backend.model,
            sources=sources,
            citations=cited,
            grounded=bool(cited),
            safety=safety,
            prompt_version=backend.prompt_version,
            fallback=fallback,
            query=query,
            extras={
                "relevance": round(relevance, 3),
                "playbooks": [b.id for b in reading.playbooks],
                "need": reading.need,
                "confidence": reading.matches.confidence,
            },
        )

    def _rewrite(self, question: str, user_turns: list[str], cancel: threading.Event | None = None) -> str:
        if user_turns and self.backend.capabilities.completion:
            prompt = load_prompt("rewrite_query").format(history="\n".join(user_turns[-4:]), question=question)
            try:
                rewritten = self.backend.complete(prompt, cancel=cancel).strip()
                if 3 <= len(rewritten) <= 400:
                    return rewritten
            except BackendError:
                pass
        return rewrite_query(question, user_turns)

    def _clarify(
        self,
        reading: Reading,
        mode: str,
        query: str,
        safety: SafetyDecision,
        relevance: float,
        text: str | None = None,
    ) -> Answer:
        """No playbook fits well enough: name the closest covered situations and ask one question, no tips."""
        close = reading.alternatives if relevance >= RELEVANCE_FLOOR else []
        if not text and reading.says_nothing:
            # A name alone is close to nothing in particular: the nearest situations would be noise.
            close, text = [], self.offline.too_short(reading.mentee_name)
        return Answer(
            answer=text or self.offline.clarification(close),
            mode=mode if mode != "auto" else "chat",
            backend=self.offline.name,
            model=self.offline.model,
            safety=safety,
            prompt_version=self.offline.prompt_version,
            abstained=True,
            query=query,
            extras={"closest": [b.id for b in close]},
        )

    def _coach_after_escalation(
        self,
        message: Message,
        mode: str,
        turns: list[TurnRecord],
        mentee_id: str | None,
        owner: str,
        safety: SafetyDecision,
        cancel: threading.Event | None,
    ) -> Generator[tuple[str, Answer | None], None, Answer]:
        """Harassment or a legal question: where to take it comes first, then how to keep supporting the mentee
        from the playbook for this situation ("I think she is being bullied" has one), never a bare referral. A
        legal question alone is often about a rule or a document no playbook covers: it gets the referral only,
        unless a playbook is close to it."""
        if clear_categories(safety) == {"legal"}:
            matcher = self.understanding.matcher
            top = matcher.match(message.text, vector=message.vector_for(message.text, matcher.embedder.name)).top
            if top is None or top.similarity < LEGAL_COACHING_CLOSENESS:
                return self._escalate(message, "chat" if mode == "auto" else mode, safety)
        referral = re.sub(r"\n{3,}", "\n\n", safety_response(safety).strip())
        lead = f"{referral}\n\n---\n\n{load_prompt('safety_meanwhile').body.strip()}\n\n"
        coaching = self._coach(message, mode, turns, mentee_id, owner, safety, cancel)
        while True:
            try:
                text, _ = next(coaching)
            except StopIteration as finished:
                answer: Answer = finished.value
                break
            yield lead + text, None
        if answer.abstained:
            return self._escalate(message, "chat" if mode == "auto" else mode, safety)
        version = f"safety_{safety.category}+{answer.prompt_version}"
        return replace(answer, answer=lead + answer.answer, prompt_version=version)

    def _escalate(self, message: Message, mode: str, safety: SafetyDecision) -> Answer:
        sources: list[Source] = []
        text = safety_response(safety)
        if safety.category in ("harassment", "legal"):
            vector = message.vector_for(message.text, self.retriever.embedder.name)
            hits = self.retriever.search(message.text, k=3, topic="boundaries-and-escalation", vector=vector)
            # One entry per document: two chunks of the same playbook read as a repeated title.
            unique = [h for i, h in enumerate(hits) if h.chunk.title not in {x.chunk.title for x in hits[:i]}]
            sources = [Source.from_hit(i + 1, h) for i, h in enumerate(unique)]
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
        return self.sessions.get_mentee(mentee_id, owner=owner) if mentee_id else None

    def _persist(
        self, question: str, answer: Answer, session_id: str | None, owner: str, mentee_id: str | None
    ) -> tuple[str, int]:
        """Store the exchange atomically; returns the session and the assistant turn's id (for ratings)."""
        store = self.sessions
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
            fallback=answer.fallback,
        )
        return session_id, turn_id
