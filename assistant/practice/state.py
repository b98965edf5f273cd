"""How a practice mentee's state moves after each mentor line, by the persona's rules in personas.yaml.

Calm is built slowly and lost quickly: calming moves add to a pressure count and tension falls one level only
when the count reaches the persona's `step`, which no single line can do on its own; a blaming line restarts
the count and can raise tension at once. No line moves tension by more than one level.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.practice.data import MAX_OPENNESS, MAX_TENSION, Persona, band_for


@dataclass
class PersonaState:
    tension: int
    openness: int
    pressure: int = 0
    revealed: list[int] = field(default_factory=list)  # indices of the scenario's reveals, in the order shared

    @classmethod
    def start(cls, persona: Persona) -> PersonaState:
        return cls(persona.start_tension, persona.start_openness)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PersonaState:
        return cls(
            tension=max(0, min(MAX_TENSION, int(raw["tension"]))),
            openness=max(0, min(MAX_OPENNESS, int(raw["openness"]))),
            pressure=int(raw.get("pressure", 0)),
            revealed=[int(i) for i in raw.get("revealed", [])],
        )


@dataclass(frozen=True)
class Change:
    """What one mentor line did to the mentee."""

    tension_before: int
    tension_after: int
    openness_before: int
    openness_after: int
    reveal: int | None  # the fact shared in reply to this line, if any

    @property
    def band(self) -> str:
        return band_for(self.tension_after)


def counted_moves(moves: list[str], line_move: str) -> list[str]:
    """The moves a line is judged by: a blaming line counts as blame alone (kind words around a label do not
    soften it), any other line counts each distinct move once."""
    return [line_move] if line_move == "blame" else list(dict.fromkeys(moves))


def advance(state: PersonaState, persona: Persona, moves: list[str], line_move: str, reveals: int) -> Change:
    """Apply one mentor line to `state` (in place) and say what changed."""
    before_tension, before_openness = state.tension, state.openness
    counted = counted_moves(moves, line_move)
    _move_tension(state, persona, counted)
    _move_openness(state, persona, counted)
    reveal = _reveal(state, persona, counted, reveals)
    return Change(before_tension, state.tension, before_openness, state.openness, reveal)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _move_tension(state: PersonaState, persona: Persona, counted: list[str]) -> None:
    band = band_for(state.tension)
    # one line can raise tension a level, but never lower it on its own: calm takes at least two lines
    push = _clamp(sum(persona.pressure_of(m, band) for m in counted), 1 - persona.step, persona.step)
    if push and state.pressure and (push > 0) != (state.pressure > 0):
        state.pressure = 0  # a line that pushes the other way starts the count again
    state.pressure += push
    if state.pressure >= persona.step and state.tension < MAX_TENSION:
        state.tension, state.pressure = state.tension + 1, 0
    elif state.pressure <= -persona.step and state.tension > 0:
        state.tension, state.pressure = state.tension - 1, 0
    # at either end of the scale the count cannot bank more than one line's worth for later
    state.pressure = _clamp(state.pressure, 1 - persona.step, persona.step - 1)


def _move_openness(state: PersonaState, persona: Persona, counted: list[str]) -> None:
    change = _clamp(sum(persona.openness.get(m, 0) for m in counted), -1, 1)
    if change > 0 and band_for(state.tension) == "high":
        change = 0  # nobody opens up while shut down or heated
    state.openness = _clamp(state.openness + change, 0, MAX_OPENNESS)


def _reveal(state: PersonaState, persona: Persona, counted: list[str], reveals: int) -> int | None:
    invited = any(m in persona.invites for m in counted)
    ready = state.openness >= persona.reveal_at and band_for(state.tension) != "high"
    unshared = [i for i in range(reveals) if i not in state.revealed]
    if not (invited and ready and unshared):
        return None
    state.revealed.append(unshared[0])
    return unshared[0]
