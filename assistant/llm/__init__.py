"""Chat backends behind one Protocol: the offline composer and any OpenAI-compatible model."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.details import Details
from assistant.registry import Registry
from assistant.types import Hit


@dataclass
class MenteeContext:
    """The parts of a mentee profile that shape advice."""

    name: str
    experience_level: str = ""
    goals: str = ""
    learning_preferences: str = ""
    communication_preferences: str = ""
    cultural_notes: str = ""

    def describe(self) -> str:
        parts = [f"Name: {self.name}"]
        for label, value in (
            ("Experience level", self.experience_level),
            ("Goals", self.goals),
            ("Learning preferences", self.learning_preferences),
            ("Communication preferences", self.communication_preferences),
            ("Cultural notes", self.cultural_notes),
        ):
            if value:
                parts.append(f"{label}: {value}")
        return "\n".join(parts)


@dataclass
class CoachRequest:
    """Everything a backend needs to write one answer."""

    question: str
    mode: str
    hits: list[Hit]
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text), oldest first
    details: Details = field(default_factory=Details)
    mentee: MenteeContext | None = None
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
