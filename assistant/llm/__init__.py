"""Chat backends behind one Protocol: the offline composer and any OpenAI-compatible model."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.details import Details
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


class BackendError(RuntimeError):
    """The model could not answer; the message is safe to show to the user."""


class ChatBackend(Protocol):
    name: str
    model: str
    prompt_version: str

    def stream(self, request: CoachRequest) -> Iterator[str]:
        """Yield the answer in pieces; raise BackendError when the model fails."""
        ...


BACKENDS: Registry[ChatBackend] = Registry("chat backend", sys.modules[__name__])
