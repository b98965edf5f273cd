"""Conversation practice inside the coach chat: start a role-play, continue it turn by turn, debrief.

A role-play's state is never stored on its own: it is rebuilt from the session by replaying the mentor's lines
(with the mentee's replies as they were said), since the rules that move the mentee's state are deterministic.
Practice answers record `practice:<scenario>:<persona>` as their prompt version, which is how a session knows a
role-play is running; a role-play built from the mentor's own words records `practice:own:<persona>` and is
rebuilt from the request that started it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from assistant.embedders import Embedder
from assistant.llm import ChatBackend
from assistant.practice import PERSONAS, SCENARIOS, PracticeSession, classifier_for
from assistant.practice.own import (
    OWN_ID,
    PERSONA_CUES,
    build_scenario,
    persona_cue,
    situation_words,
    topic_phrase,
)
from assistant.practice.replies import Voice
from assistant.practice.voice_model import ModelVoice
from assistant.retrieval import HybridRetriever, tokenize
from assistant.sessions import TurnRecord
from assistant.types import Answer, Source

TAG = "practice"
# "end practice", "/end", "stop the role-play", "debrief": never a mentor line such as "Stop making excuses".
_END = re.compile(
    r"^\s*(?:/(?:end|stop|quit|debrief)\b|debrief(?:\s+me)?\s*[.!]?\s*$|(?:let's\s+)?(?:end|stop|finish|quit|done\s+with)"
    r"\s+(?:the\s+|this\s+|our\s+)?(?:practi[cs]e|role[- ]?play|rehearsal|session)\b)",
    re.IGNORECASE,
)
_SPEAKER = re.compile(r"^\*\*[^*\n]{1,80}:\*\*\s*")
_STOP_WORDS = {"a", "the", "not", "with", "on", "of", "mentee"}
# Words that ask for practice without saying what about.
_GENERIC = {
    "a",
    "an",
    "the",
    "my",
    "with",
    "me",
    "some",
    "please",
    "conversation",
    "talk",
    "chat",
    "meeting",
    "session",
    "difficult",
    "hard",
    "tough",
    "tricky",
    "awkward",
    "mentee",
    "report",
    "someone",
    "person",
    "one",
    "who",
    "is",
    "gets",
    "get",
    "very",
    "really",
    "quite",
    "bit",
    "kind",
    "of",
    "type",
    "practice",
    "practise",
    "role",
    "play",
    "roleplay",
    "role-play",
    "scenario",
    "again",
    "now",
    "today",
    "let's",
    "let",
    "us",
    "can",
    "we",
    "i",
    "want",
    "to",
}
DEFAULT_SCENARIO = "missed-deadlines"
DEFAULT_PERSONA = "defensive"


@dataclass(frozen=True)
class ActivePractice:
    scenario_id: str
    persona_id: str
    mentor_lines: list[str]
    request: str = ""  # the message that started the role-play
    replies: list[str] = field(default_factory=list)  # the mentee's replies to `mentor_lines`, as said


def named_scenario(question: str) -> str | None:
    """A fixed scenario the request names by its title ("practise the missed deadlines one")."""
    words = set(tokenize([question])[0])
    for sid, scenario in SCENARIOS.items():
        title = set(tokenize([scenario.title])[0]) - _STOP_WORDS
        if title and title <= words:
            return sid
    return None


def choose(question: str) -> tuple[str, str]:
    """A fixed scenario for a request that describes no situation of its own, and the persona it names."""
    return named_scenario(question) or DEFAULT_SCENARIO, persona_cue(question) or DEFAULT_PERSONA


def describes_situation(question: str) -> bool:
    """Whether the request carries a situation of its own ('telling him he won't be on the new project'), not
    only a wish to practise ('a difficult conversation with a defensive mentee')."""
    core = situation_words(question)
    if topic_phrase(core):
        return True
    words = re.findall(r"[a-z']+", re.sub(r"|".join(PERSONA_CUES.values()), " ", core, flags=re.IGNORECASE).lower())
    return len([w for w in words if w not in _GENERIC]) >= 3


def active_practice(turns: Sequence[TurnRecord]) -> ActivePractice | None:
    """The role-play running at the end of a session, if any."""
    if not turns or not turns[-1].prompt_version.startswith(f"{TAG}:"):
        return None
    tag = turns[-1].prompt_version
    if tag.endswith(":ended"):
        return None
    start = len(turns) - 1
    while start >= 2 and turns[start - 2].prompt_version == tag:
        start -= 2
    _, scenario_id, persona_id = tag.split(":", 2)
    later = turns[start + 1 :]
    mentor_lines = [t.content for t in later if t.role == "user"]
    replies = [_SPEAKER.sub("", t.content) for t in later if t.role != "user"]
    request = turns[start - 1].content if start >= 1 and turns[start - 1].role == "user" else ""
    return ActivePractice(scenario_id, persona_id, mentor_lines, request, replies)


class PracticeChat:
    """Role-play in the coach chat, with what it works with passed in: the encoder (reading the mentor's lines and
    situations), the retriever (the debrief's guidance), the chat backend (the mentee's voice when it can
    complete a prompt) and the folders for prompts and cached classifiers."""

    def __init__(
        self,
        embedder: Embedder,
        retriever: Callable[[], HybridRetriever],
        backend: ChatBackend,
        prompts_dir: Path,
        cache_dir: Path,
    ) -> None:
        self.embedder = embedder
        self.retriever = retriever  # fetched for a debrief only: a role-play itself needs no index
        self.backend = backend
        self.prompts_dir = prompts_dir
        self.cache_dir = cache_dir

    def turn(self, question: str, turns: Sequence[TurnRecord], cancel: threading.Event | None = None) -> Answer:
        """Start a role-play, answer the next line of a running one as the mentee, or debrief when it ends. When
        `cancel` is set while the model voices the mentee, its request is closed and RequestCancelled raised."""
        running = active_practice(turns)
        if running is None:
            return self._start(question)
        session = self._rebuild(running, cancel)
        if _END.match(question):
            return self._debrief(session, running)
        reply = session.reply(question)
        answer = _answer(f"{_speaker(session)} {reply.text}", _tag(running.scenario_id, running.persona_id))
        if reply.voice == "model":
            answer.backend, answer.model = self.backend.name, self.backend.model
        if session.fallbacks:
            answer.fallback = session.fallbacks[-1]
        answer.extras.update(tension=reply.tension, openness=reply.openness, move=reply.move)
        return answer

    def _session(
        self, scenario_id: str, persona_id: str, request: str, cancel: threading.Event | None = None
    ) -> PracticeSession:
        classifier = classifier_for(self.embedder, self.cache_dir)
        voice = model_voice(self.backend, self.prompts_dir, cancel)
        seed = f"chat:{request}"
        if scenario_id == OWN_ID:
            scenario, _ = build_scenario(request, self.embedder, persona_id)
            return PracticeSession(scenario, persona_id, seed, classifier=classifier, voice=voice)
        return PracticeSession(scenario_id, persona_id, seed, classifier=classifier, voice=voice)

    def _rebuild(self, running: ActivePractice, cancel: threading.Event | None = None) -> PracticeSession:
        session = self._session(running.scenario_id, running.persona_id, running.request, cancel)
        for n, line in enumerate(running.mentor_lines):
            session.reply(line, said=running.replies[n] if n < len(running.replies) else None)
        return session

    def _start(self, question: str) -> Answer:
        named = named_scenario(question)
        if named is None and describes_situation(question):
            _, persona_id = build_scenario(question, self.embedder)  # the persona the description names or implies
            scenario_id = OWN_ID
        else:
            scenario_id, persona_id = choose(question)
        session = self._session(scenario_id, persona_id, question)
        return _opening(session, scenario_id, persona_id)

    def _debrief(self, session: PracticeSession, running: ActivePractice) -> Answer:
        hits: dict[str, Source] = {}

        def guidance(query: str) -> list[tuple[str, str]]:
            found = self.retriever().search(query, k=2)
            for hit in found:
                hits.setdefault(hit.chunk.source, Source.from_hit(len(hits) + 1, hit))
            return [(h.chunk.title, h.chunk.source) for h in found]

        debrief = session.debrief(guidance=guidance)
        by_source = {s.source: s for s in hits.values()}
        sources = [
            Source(**{**s.__dict__, "n": n}) for n, (_, src) in enumerate(debrief.guidance, 1) for s in [by_source[src]]
        ]
        answer = _answer(debrief.as_markdown(), f"{_tag(running.scenario_id, running.persona_id)}:ended")
        answer.sources = sources
        answer.citations = [s.n for s in sources]
        answer.grounded = bool(sources)
        return answer


def model_voice(backend: ChatBackend, prompts_dir: Path, cancel: threading.Event | None = None) -> Voice | None:
    """The model plays the mentee when the backend can complete a prompt; otherwise (the offline coach) the
    written bank does. Each of its requests is withdrawn when `cancel` is set (Stop)."""
    if not backend.capabilities.completion:
        return None
    return ModelVoice(partial(backend.complete, cancel=cancel), prompts_dir=prompts_dir)


def _speaker(session: PracticeSession) -> str:
    name = session.scenario.mentee
    who = f"{name} ({session.persona.label.lower()})" if name else f"{session.persona.label} mentee"
    return f"**{who}:**"


def _tag(scenario_id: str, persona_id: str) -> str:
    return f"{TAG}:{scenario_id}:{persona_id}"


def _opening(session: PracticeSession, scenario_id: str, persona_id: str) -> Answer:
    """The role-play's first answer: who the coach plays, the situation, and the mentee's opening line."""
    scenario, persona = session.scenario, PERSONAS[persona_id]
    label = persona.label.lower()
    article = "an" if label[:1] in "aeiou" else "a"
    who = f"**{scenario.mentee}**, {article} {label} mentee," if scenario.mentee else f"{article} **{label}** mentee"
    # The mentor's own situation is already named in the title; its brief would only say it again.
    brief = "" if scenario_id == OWN_ID else f"{scenario.brief}\n\n"
    text = (
        f"Let's practise. I'll play {who} in: **{scenario.title}**.\n\n"
        f"{brief}"
        f"{_speaker(session)} {session.opening()}\n\n"
        '_Reply as you would in the real conversation. Say "end practice" for your debrief._'
    )
    answer = _answer(text, _tag(scenario_id, persona_id))
    answer.extras.update(tension=session.tension, scenario=scenario.title, topic=scenario.topic)
    return answer


def _answer(text: str, tag: str) -> Answer:
    return Answer(answer=text, mode="practice", backend="offline", model="practice-personas", prompt_version=tag)
