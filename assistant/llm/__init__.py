"""Chat backends behind one Protocol: the offline composer and any OpenAI-compatible model."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

# Re-exported: backends and the coach have always imported it from here.
from assistant.errors import BackendError as BackendError
from assistant.registry import Registry
from assistant.types import Hit, MenteeProfile

if TYPE_CHECKING:
    from assistant.coaching.understanding import Reading


def describe_mentee(profile: MenteeProfile) -> str:
    """The parts of a mentee profile that shape advice, as lines for a prompt."""
    lines = [f"Name: {profile.name}"]
    for label, value in (
        ("Experience level", profile.experience_level),
        ("Goals", profile.goals),
        ("Learning preferences", profile.learning_preferences),
        ("Communication preferences", profile.communication_preferences),
        ("Cultural notes", profile.cultural_notes),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


@dataclass
class CoachRequest:
    """Everything a backend needs to write one answer. A backend reads it and never writes into it."""

    question: str
    mode: str
    hits: list[Hit]  # numbered [1]..[n] in this order
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text), oldest first
    mentee: MenteeProfile | None = None
    # The coach's understanding of the message (which playbooks, which need, who, the details the mentor gave).
    # The offline coach writes it out; a model may ignore it and read the question and the passages instead.
    reading: Reading | None = None
    # Set when the person asking withdrew the question (Stop in the workspace): a backend that honours it stops
    # waiting for the model, closes the request and raises RequestCancelled; one that ignores it just finishes.
    cancel: threading.Event | None = None


class RequestCancelled(Exception):
    """The person asking withdrew the question before the answer was finished. Not a failure: the coach stores
    nothing and says nothing more (no offline answer in its place)."""


@dataclass
class Reply:
    """A backend's answer as it is being written.

    Iterating gives the answer's pieces as they come (raising BackendError when the model fails). How many of the
    request's passages the backend showed the model is known before the first piece: a `[n]` past that number
    points at nothing the model saw, so the coach drops it.
    """

    pieces: Iterable[str]
    sources_shown: int

    def __iter__(self) -> Iterator[str]:
        return iter(self.pieces)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond writing a coaching answer; callers ask these instead of probing attributes."""

    # `complete` answers any prompt (query rewriting, the judge, the LLM safety check, role-play voices). The
    # offline coach cannot: it only writes out playbooks, so those features fall back to their offline paths.
    completion: bool = False
    # `stream` yields pieces as the model writes them; without it the answer comes as one piece at the end.
    streaming: bool = True


class ChatBackend(Protocol):
    """A chat backend: one module with `@BACKENDS.register(name) def create(settings, embedder)`, or an entry
    point in the group `mentor_assistant.backends` of an installed package. Nothing to inherit: a class with
    these four attributes and two methods is one."""

    name: str  # the registry name, recorded with every answer
    model: str  # the model behind it, recorded with every answer
    prompt_version: str  # which prompts wrote the answer, recorded with every answer
    capabilities: Capabilities

    def stream(self, request: CoachRequest) -> Reply:
        """The answer to `request`, written piece by piece; raise BackendError when the model fails."""
        ...

    def complete(self, prompt: str, cancel: threading.Event | None = None) -> str:
        """One answer to one prompt, not streamed; raise BackendError when the model fails, and always when
        `capabilities.completion` is False. `cancel` is the same as a CoachRequest's: a backend that honours it
        stops waiting when it is set and raises RequestCancelled; one that ignores it just finishes."""
        ...


BACKENDS: Registry[ChatBackend] = Registry(
    "chat backend", sys.modules[__name__], entry_point_group="mentor_assistant.backends", setting="MENTOR_LLM_BACKEND"
)
