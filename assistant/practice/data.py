"""The role-play's data files, loaded once: personas and their rules, scenarios and situation kinds, the reply
bank. Every file is checked on load so a typo fails with the file and the entry named, not mid-conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import InputError
from assistant.practice.moves import MOVES

HERE = Path(__file__).parent
PERSONAS_FILE = HERE / "personas.yaml"
SCENARIOS_FILE = HERE / "scenarios.yaml"
BANK_FILE = HERE / "bank.yaml"

MAX_TENSION = 4
MAX_OPENNESS = 3
BANDS: tuple[str, ...] = ("low", "mid", "high")
ANSWER_KINDS: tuple[str, ...] = ("agree", "feeling", "fact", "detail")

Lines = tuple[str, ...]
ByBand = Mapping[str, Lines]


def band_for(tension: int) -> str:
    return "low" if tension <= 1 else "mid" if tension == 2 else "high"


class PracticeDataError(InputError):
    """A practice data file that does not have the shape the role-play needs."""


@dataclass(frozen=True)
class Persona:
    id: str
    label: str
    description: str
    start_tension: int
    start_openness: int
    step: int
    reveal_at: int
    terse: bool
    invites: tuple[str, ...]
    pressure: Mapping[str, Mapping[str, int]]  # move -> band -> pressure
    openness: Mapping[str, int]  # move -> change

    def pressure_of(self, move: str, band: str) -> int:
        return self.pressure.get(move, {}).get(band, 0)


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    brief: str
    topic: str
    kind: str
    openings: Mapping[str, str]
    reveals: Lines
    lines: Mapping[str, ByBand] = field(default_factory=dict)  # move -> band -> lines
    mentee: str = ""  # the mentee's name, when the mentor gave one
    description: str = ""  # the mentor's own words, for a scenario built from them

    def opening_for(self, persona_id: str) -> str:
        return (self.openings.get(persona_id) or self.openings["default"]).replace("{topic}", self.topic)

    def reveal(self, index: int) -> str:
        return self.reveals[index].replace("{topic}", self.topic)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "brief": self.brief,
            "topic": self.topic,
            "kind": self.kind,
            "openings": dict(self.openings),
            "reveals": list(self.reveals),
            "lines": {m: {b: list(ls) for b, ls in bands.items()} for m, bands in self.lines.items()},
            "mentee": self.mentee,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Scenario:
        return _scenario(str(raw["id"]), raw, str(raw.get("kind", "")))


@dataclass(frozen=True)
class Kind:
    id: str
    persona: str
    examples: Lines
    openings: Mapping[str, str]
    reveals: Lines
    lines: Mapping[str, ByBand]


@dataclass(frozen=True)
class BankLine:
    text: str
    kinds: tuple[str, ...] = ()  # the situation kinds it fits; empty means every kind


@dataclass(frozen=True)
class Bank:
    replies: Mapping[str, Mapping[str, Mapping[str, tuple[BankLine, ...]]]]  # persona -> band -> move -> lines
    answers: Mapping[str, Mapping[str, Mapping[str, Lines]]]  # persona -> answer kind -> band -> lines

    def lines(self, persona: str, band: str, move: str, kind: str) -> Lines:
        """The persona's lines for a move in a band that fit this kind of situation."""
        return tuple(line.text for line in self.replies[persona][band][move] if not line.kinds or kind in line.kinds)


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PracticeDataError(f"{path} must hold a mapping")
    return data


def _by_band(raw: Any, where: str) -> dict[str, int]:
    if isinstance(raw, int):
        return dict.fromkeys(BANDS, raw)
    if isinstance(raw, dict) and set(raw) == set(BANDS):
        return {b: int(raw[b]) for b in BANDS}
    raise PracticeDataError(f"{where}: give one number or one per band ({', '.join(BANDS)})")


def _persona(pid: str, raw: Mapping[str, Any]) -> Persona:
    where = f"{PERSONAS_FILE.name}: {pid}"
    unknown = (set(raw["pressure"]) | set(raw["openness"]) | set(raw["invites"])) - set(MOVES)
    if unknown:
        raise PracticeDataError(f"{where}: unknown move(s) {', '.join(sorted(unknown))}")
    missing = set(MOVES) - set(raw["pressure"])
    if missing:
        raise PracticeDataError(f"{where}: no pressure for {', '.join(sorted(missing))}")
    return Persona(
        id=pid,
        label=str(raw["label"]),
        description=str(raw["description"]),
        start_tension=int(raw["start"]["tension"]),
        start_openness=int(raw["start"]["openness"]),
        step=int(raw["step"]),
        reveal_at=int(raw["reveal_at"]),
        terse=bool(raw.get("terse", False)),
        invites=tuple(str(m) for m in raw["invites"]),
        pressure={m: _by_band(v, f"{where}: pressure.{m}") for m, v in raw["pressure"].items()},
        openness={str(m): int(v) for m, v in raw["openness"].items()},
    )


def _lines(raw: Any) -> dict[str, dict[str, Lines]]:
    return {str(m): {str(b): tuple(str(x) for x in ls) for b, ls in bands.items()} for m, bands in (raw or {}).items()}


def _scenario(sid: str, raw: Mapping[str, Any], kind: str) -> Scenario:
    return Scenario(
        id=sid,
        title=str(raw["title"]),
        brief=str(raw["brief"]),
        topic=str(raw["topic"]),
        kind=str(raw.get("kind") or kind),
        openings={str(k): str(v) for k, v in raw["openings"].items()},
        reveals=tuple(str(d) for d in raw.get("reveals", ())),
        lines=_lines(raw.get("lines")),
        mentee=str(raw.get("mentee") or ""),
        description=str(raw.get("description") or ""),
    )


def _kind(kid: str, raw: Mapping[str, Any]) -> Kind:
    return Kind(
        id=kid,
        persona=str(raw["persona"]),
        examples=tuple(str(e) for e in raw["examples"]),
        openings={str(k): str(v) for k, v in raw["openings"].items()},
        reveals=tuple(str(r) for r in raw["reveals"]),
        lines=_lines(raw.get("lines")),
    )


def _bank_line(raw: Any) -> BankLine:
    if isinstance(raw, dict):
        return BankLine(str(raw["text"]), tuple(str(k) for k in raw.get("kinds", ())))
    return BankLine(str(raw))


def _bank(raw: Mapping[str, Any], personas: Mapping[str, Persona]) -> Bank:
    replies: dict[str, dict[str, dict[str, tuple[BankLine, ...]]]] = {}
    answers: dict[str, dict[str, dict[str, Lines]]] = {}
    for pid in personas:
        bands = raw["personas"].get(pid)
        if not bands or set(bands) != set(BANDS):
            raise PracticeDataError(f"{BANK_FILE.name}: persona {pid} needs replies for {', '.join(BANDS)}")
        for band in BANDS:
            missing = set(MOVES) - set(bands[band])
            if missing:
                raise PracticeDataError(f"{BANK_FILE.name}: {pid}.{band} has no lines for {', '.join(sorted(missing))}")
        replies[pid] = {b: {m: tuple(_bank_line(x) for x in bands[b][m]) for m in MOVES} for b in BANDS}
        kinds = raw["answers"].get(pid) or {}
        if set(kinds) != set(ANSWER_KINDS) or any(set(kinds[k]) != set(BANDS) for k in ANSWER_KINDS):
            raise PracticeDataError(f"{BANK_FILE.name}: answers.{pid} needs {', '.join(ANSWER_KINDS)} per band")
        answers[pid] = {k: {b: tuple(str(x) for x in kinds[k][b]) for b in BANDS} for k in ANSWER_KINDS}
    return Bank(replies, answers)


@dataclass(frozen=True)
class PracticeData:
    personas: Mapping[str, Persona]
    scenarios: Mapping[str, Scenario]
    kinds: Mapping[str, Kind]
    bank: Bank


@lru_cache(maxsize=1)
def load() -> PracticeData:
    personas = {pid: _persona(pid, raw) for pid, raw in _read(PERSONAS_FILE)["personas"].items()}
    scenario_data = _read(SCENARIOS_FILE)
    kinds = {kid: _kind(kid, raw) for kid, raw in scenario_data["kinds"].items()}
    scenarios = {sid: _scenario(sid, raw, "") for sid, raw in scenario_data["scenarios"].items()}
    owners: list[Scenario | Kind] = [*scenarios.values(), *kinds.values()]
    for owner in owners:
        if "default" not in owner.openings:
            raise PracticeDataError(f"{SCENARIOS_FILE.name}: {owner.id} needs a default opening")
    for scenario in scenarios.values():
        if scenario.kind not in kinds:
            raise PracticeDataError(f"{SCENARIOS_FILE.name}: {scenario.id} has unknown kind {scenario.kind!r}")
    for kind in kinds.values():
        if kind.persona not in personas:
            raise PracticeDataError(f"{SCENARIOS_FILE.name}: kind {kind.id} names unknown persona {kind.persona!r}")
    bank = _bank(_read(BANK_FILE), personas)
    tagged = {
        k
        for bands in bank.replies.values()
        for moves in bands.values()
        for lines in moves.values()
        for line in lines
        for k in line.kinds
    }
    if tagged - set(kinds):
        raise PracticeDataError(f"{BANK_FILE.name}: unknown kind(s) {', '.join(sorted(tagged - set(kinds)))}")
    return PracticeData(personas, scenarios, kinds, bank)
