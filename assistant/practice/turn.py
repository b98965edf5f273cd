"""One line of a role-play, as the session records it and the debrief reads it (its own module, so that neither
of the two imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PracticeTurn:
    """One line of the role-play. On a mentor turn, `move` is what the line did and `sentences` holds each
    sentence with its move; on a mentee turn, `move` is what it reacted to. `tension` and `openness` are the
    mentee's after the line; `voice` says who wrote a mentee line (bank, model, or opening)."""

    role: str  # "mentor" | "mentee"
    text: str
    tension: int
    openness: int = 0
    move: str | None = None
    sentences: list[tuple[str, str]] = field(default_factory=list)
    revealed: int | None = None
    voice: str = "bank"

    @property
    def moves(self) -> list[str]:
        return [m for _, m in self.sentences]
