"""Conversation practice inside the coach chat: start a role-play, continue it turn by turn, debrief.

The role-play is deterministic, so its state is never stored: it is rebuilt by replaying the mentor's
messages since the practice began. Practice answers record `practice:<scenario>:<persona>` as their
prompt version, which is how a session knows a role-play is running.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.practice import PERSONAS, SCENARIOS, PracticeSession
from assistant.retrieval import tokenize
from assistant.types import Answer, Source

if TYPE_CHECKING:
    from assistant.runtime import Runtime
    from assistant.sessions import TurnRecord

TAG = "practice"
_END = re.compile(r"^\s*/?(?:end|stop|finish|done with)\b.*\b(?:practi[cs]e|role[- ]?play|session)?", re.IGNORECASE)
_PERSONA_CUES = {
    "quiet": r"\b(quiet|shy|silent|reserved|barely (?:talks|speaks|says))\b",
    "overwhelmed": r"\b(overwhelm\w*|swamped|stressed|burn(?:ed|t)? out)\b",
    "over-confident": r"\b(over-?confident|cocky|arrogant|know-it-all)\b",
    "upset": r"\b(upset|cr(?:y|ies|ying)|tears|emotional)\b",
    "defensive": r"\b(defensive|pushes? back|argu\w+)\b",
}
DEFAULT_PERSONA = "defensive"


@dataclass(frozen=True)
class ActivePractice:
    scenario_id: str
    persona_id: str
    mentor_lines: list[str]


def choose(question: str) -> tuple[str, str]:
    """The scenario whose words best match the request, and the persona it names (or the default)."""
    words = set(tokenize([question])[0])

    def overlap(sid: str) -> int:
        s = SCENARIOS[sid]
        return len(words & set(tokenize([f"{s.title} {s.brief} {sid.replace('-', ' ')}"])[0]))

    scenario = max(SCENARIOS, key=overlap)
    persona = next((p for p, cue in _PERSONA_CUES.items() if re.search(cue, question, re.IGNORECASE)), DEFAULT_PERSONA)
    return scenario, persona


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
    mentor_lines = [t.content for t in turns[start + 1 :] if t.role == "user"]
    return ActivePractice(scenario_id, persona_id, mentor_lines)


def practice_turn(rt: Runtime, question: str, turns: Sequence[TurnRecord]) -> Answer:
    running = active_practice(turns)
    if running is None:
        return _start(question, rt.settings.max_message_chars)
    session = PracticeSession(running.scenario_id, running.persona_id)
    for line in running.mentor_lines:
        session.reply(line)
    if _END.match(question):
        return _debrief(rt, session, running)
    reply = session.reply(question)
    text = f"**{session.persona.label} mentee:** {reply.text}"
    return _answer(text, f"{TAG}:{running.scenario_id}:{running.persona_id}")


def _start(question: str, _limit: int) -> Answer:
    scenario_id, persona_id = choose(question)
    session = PracticeSession(scenario_id, persona_id)
    scenario, persona = SCENARIOS[scenario_id], PERSONAS[persona_id]
    text = (
        f"Let's practise. I'll play a **{persona.label.lower()}** mentee in: **{scenario.title}**.\n\n"
        f"{scenario.brief}\n\n"
        f"**{persona.label} mentee:** {session.opening()}\n\n"
        '_Reply as you would in the real conversation. Say "end practice" for your debrief._'
    )
    return _answer(text, f"{TAG}:{scenario_id}:{persona_id}")


def _debrief(rt: Runtime, session: PracticeSession, running: ActivePractice) -> Answer:
    hits: dict[str, Source] = {}

    def guidance(query: str) -> list[tuple[str, str]]:
        found = rt.retriever.search(query, k=2)
        for hit in found:
            hits.setdefault(hit.chunk.source, Source.from_hit(len(hits) + 1, hit))
        return [(h.chunk.title, h.chunk.source) for h in found]

    debrief = session.debrief(guidance=guidance)
    by_source = {s.source: s for s in hits.values()}
    sources = [
        Source(**{**s.__dict__, "n": n}) for n, (_, src) in enumerate(debrief.guidance, 1) for s in [by_source[src]]
    ]
    answer = _answer(debrief.as_markdown(), f"{TAG}:{running.scenario_id}:{running.persona_id}:ended")
    answer.sources = sources
    answer.citations = [s.n for s in sources]
    answer.grounded = bool(sources)
    return answer


def _answer(text: str, tag: str) -> Answer:
    return Answer(answer=text, mode="practice", backend="offline", model="practice-personas", prompt_version=tag)
