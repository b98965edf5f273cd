"""Chat backends behind one Protocol: the offline composer and any OpenAI-compatible model."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.details import Details

# Re-exported: backends and the coach have always imported it from here.
from assistant.errors import BackendError as BackendError
from assistant.registry import Registry
from assistant.sessions import MenteeProfile
from assistant.types import Hit


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
    """Everything a backend needs to write one answer."""

    question: str
    mode: str
    hits: list[Hit]
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text), oldest first
    details: Details = field(default_factory=Details)
    mentee: MenteeProfile | None = None
    extras: dict[str, Any] = field(default_factory=dict)


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
    point in the group `mentor_assistant.backends` of an installed package."""

    name: str  # the registry name, recorded with every answer
    model: str  # the model behind it, recorded with every answer
    prompt_version: str  # which prompts wrote the answer, recorded with every answer
    capabilities: Capabilities

    def stream(self, request: CoachRequest) -> Iterator[str]:
        """Yield the answer in pieces; raise BackendError when the model fails."""
        ...

    def complete(self, prompt: str) -> str:
        """One answer to one prompt, not streamed; raise BackendError when the model fails (or when
        `capabilities.completion` is False)."""
        ...


def capabilities_of(backend: ChatBackend) -> Capabilities:
    """The backend's capabilities. Backends written before the flags existed are read by what they have (a
    `complete` method means completions), so an older plugin keeps working."""
    declared = getattr(backend, "capabilities", None)
    if isinstance(declared, Capabilities):
        return declared
    return Capabilities(completion=callable(getattr(backend, "complete", None)))


BACKENDS: Registry[ChatBackend] = Registry(
    "chat backend", sys.modules[__name__], entry_point_group="mentor_assistant.backends", setting="MENTOR_LLM_BACKEND"
)
