"""Conversation practice: the mentor rehearses a hard conversation with a simulated mentee, then gets a debrief.

Offline, the mentee is a small state machine. Each persona starts at a tension level (0 calm .. 4 shut down or
heated); every mentor message moves it according to what the mentor did (labels and absolutes raise it, open
questions, acknowledging feelings and specific SBI statements lower it) and the reply is drawn from the persona's
written lines for the resulting tension band. Choices are seeded by session id and turn, so a replay of the same
messages gives the same conversation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.feedback import FeedbackChecker, FeedbackReport

DATA_FILE = Path(__file__).with_name("practice_data.yaml")
MAX_TENSION = 4
BANDS: tuple[str, ...] = ("low", "mid", "high")
SIGNALS: tuple[str, ...] = (
    "open_question",
    "closed_question",
    "acknowledged_feelings",
    "judgmental",
    "absolute",
    "specific",
    "long_message",
)
LONG_MESSAGE_WORDS = 90
MAX_GUIDANCE = 5

Guidance = Callable[[str], list[tuple[str, str]]]


@dataclass(frozen=True)
class Persona:
    id: str
    label: str
    description: str
    start_tension: int
    closed_only: bool
    effects: Mapping[str, int]
    replies: Mapping[str, tuple[str, ...]]
    reactions: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    brief: str
    topic: str
    openings: Mapping[str, str]
    details: tuple[str, ...]

    def opening_for(self, persona_id: str) -> str:
        return self.openings.get(persona_id) or self.openings["default"]


@dataclass
class PracticeTurn:
    """One line of the role-play. `signals` describe the mentor's message: on a mentor turn, what it did; on the
    mentee's reply, what the reply reacted to (empty for the opening line). `tension` is the mentee's after it."""

    role: str  # "mentor" | "mentee"
    text: str
    tension: int
    signals: dict[str, bool] = field(default_factory=dict)


@dataclass
class Debrief:
    went_well: list[str]
    to_change: list[str]
    open_questions: int
    closed_questions: int
    acknowledgements: int
    judgmental_phrases: list[str]
    feedback_scores: list[int]
    final_tension: int
    guidance: list[tuple[str, str]]

    def as_markdown(self) -> str:
        lines = ["## Practice debrief", "", "### What went well"]
        lines += [f"- {item}" for item in self.went_well] or ["- Nothing stood out yet: try a few more turns."]
        lines += ["", "### What to change"]
        lines += [f"- {item}" for item in self.to_change] or ["- Nothing major: keep practising this pattern."]
        lines += [
            "",
            "### By the numbers",
            f"- Open questions: {self.open_questions}",
            f"- Closed questions: {self.closed_questions}",
            f"- Acknowledgements of feelings: {self.acknowledgements}",
            f"- Labels and absolutes: {', '.join(_quoted(p) for p in self.judgmental_phrases) or 'none'}",
            f"- Feedback scores: {', '.join(str(s) for s in self.feedback_scores) or 'no feedback statements'}",
            f"- Final tension: {self.final_tension}/{MAX_TENSION}",
        ]
        if self.guidance:
            lines += ["", "### Guidance to read"]
            lines += [f"- [{n}] {title} ({source})" for n, (title, source) in enumerate(self.guidance, 1)]
        return "\n".join(lines) + "\n"


def _quoted(phrase: str) -> str:
    return f"'{phrase}'"


# --- data --------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Persona], dict[str, Scenario]]:
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    personas = {pid: _persona(pid, raw) for pid, raw in data["personas"].items()}
    scenarios = {sid: _scenario(sid, raw) for sid, raw in data["scenarios"].items()}
    return personas, scenarios


def _persona(pid: str, raw: dict[str, Any]) -> Persona:
    return Persona(
        id=pid,
        label=str(raw["label"]),
        description=str(raw["description"]),
        start_tension=int(raw["start_tension"]),
        closed_only=bool(raw.get("closed_only", False)),
        effects={str(k): int(v) for k, v in raw["effects"].items()},
        replies={band: tuple(str(r) for r in raw["replies"][band]) for band in BANDS},
        reactions={str(k): tuple(str(r) for r in v) for k, v in raw.get("reactions", {}).items()},
    )


def _scenario(sid: str, raw: dict[str, Any]) -> Scenario:
    return Scenario(
        id=sid,
        title=str(raw["title"]),
        brief=str(raw["brief"]),
        topic=str(raw["topic"]),
        openings={str(k): str(v) for k, v in raw["openings"].items()},
        details=tuple(str(d) for d in raw.get("details", ())),
    )


PERSONAS: dict[str, Persona] = _load()[0]
SCENARIOS: dict[str, Scenario] = _load()[1]


def band_for(tension: int) -> str:
    return "low" if tension <= 1 else "mid" if tension == 2 else "high"


# --- reading the mentor's message ------------------------------------------------------------------------------

_CLAUSE = re.compile(r"[^.!?\n]+[.!?]*")
_OPEN = re.compile(
    r"^\s*(?:(?:so|and|okay|ok|well|right|now|then|also|but)\b[\s,]*)?(?:what(?!\s+a\b)|how|why|where|who|which\s+part"
    r"|tell\s+me|walk\s+me\s+through|talk\s+me\s+through|help\s+me\s+understand|describe|say\s+more"
    r"|(?:can|could|would|will)\s+you\s+(?:tell|walk|talk|say|help|describe|share|explain)|I'm\s+curious"
    r"|I'd\s+(?:love|like)\s+to\s+(?:hear|understand|know))\b",
    re.IGNORECASE,
)
_ACKNOWLEDGE = re.compile(
    r"\bI\s+can\s+(?:see|imagine|tell|hear|understand)\b"
    r"|\b(?:that|this|it)(?:'s|\s+is|\s+must\s+be|\s+must\s+have\s+been|\s+sounds|\s+seems)\s+(?:really\s+|so\s+"
    r"|very\s+|pretty\s+|incredibly\s+)?(?:hard|frustrating|difficult|tough|stressful|upsetting|a\s+lot|disappointing"
    r"|exhausting|awful|painful|rough|overwhelming|unfair|horrible|scary|worrying|hurtful|understandable)\b"
    r"|\b(?:it|that)\s+sounds\s+like\s+(?:you|it|this|that)\b|\bI\s+hear\s+(?:you|that|how|what)\b"
    r"|\bI\s+understand\s+(?:why|that|how|this|it|you)\b|\bno\s+wonder\s+you\b|\bmakes\s+sense\s+(?:that\s+)?you\b"
    r"|\bthank\s+you\s+for\s+(?:telling|sharing|being\s+honest|saying|explaining|trusting)\b"
    r"|\bthanks\s+for\s+(?:telling|sharing|being\s+honest|saying|explaining|trusting)\b"
    r"|\bI\s+appreciate\s+you\s+(?:telling|sharing|being|saying|explaining)\b"
    r"|\bit's\s+(?:okay|ok|natural|normal|understandable|fine)\s+to\s+(?:feel|be)\b"
    r"|\byou\s+(?:seem|sound|look)\s+(?:really\s+|quite\s+|a\s+bit\s+|pretty\s+)?(?:upset|frustrated|stressed|worried"
    r"|overwhelmed|disappointed|angry|hurt|tired|anxious|annoyed|down)\b"
    r"|\bI'm\s+(?:so\s+|really\s+)?sorry\s+(?:this|that|you|it)\b|\bthat\s+must\s+(?:feel|have\s+felt)\b"
    r"|\bI'd\s+(?:feel|be)\s+(?:the\s+same|upset|frustrated|angry)\b|\byour\s+feelings\s+(?:are|make)\b",
    re.IGNORECASE,
)


@dataclass
class _Reading:
    signals: dict[str, bool]
    open_questions: list[str]
    closed_questions: list[str]
    acknowledgements: list[str]
    labels: list[str]
    report: FeedbackReport


def read_message(text: str, checker: FeedbackChecker) -> _Reading:
    """What the mentor did in one message: questions by kind, acknowledgement, labels, specificity."""
    open_q: list[str] = []
    closed_q: list[str] = []
    for m in _CLAUSE.finditer(text):
        sentence = m.group(0).strip()
        if _OPEN.match(sentence):
            open_q.append(sentence)
        elif sentence.endswith("?"):
            # "Did you...?", "You finished it?", "..., right?": any other question invites a yes or a no
            closed_q.append(sentence)
    acknowledgements = [m.group(0).strip() for m in _CLAUSE.finditer(text) if _ACKNOWLEDGE.search(m.group(0))]
    report = checker.check(text)
    labels = report.criteria["judgmental"].evidence + report.criteria["absolute"].evidence
    signals = {
        "open_question": bool(open_q),
        "closed_question": bool(closed_q),
        "acknowledged_feelings": bool(acknowledgements),
        "judgmental": not report.criteria["judgmental"].passed,
        "absolute": not report.criteria["absolute"].passed,
        "specific": report.criteria["situation"].passed and report.criteria["behavior"].passed,
        "long_message": len(text.split()) > LONG_MESSAGE_WORDS,
    }
    return _Reading(signals, open_q, closed_q, acknowledgements, labels, report)


def _is_feedback(reading: _Reading) -> bool:
    """A statement about what the mentee did (or who they are), as opposed to only questions or empathy."""
    c = reading.report.criteria
    return c["behavior"].passed or not c["judgmental"].passed or not c["vague"].passed


# --- the session -------------------------------------------------------------------------------------------------


def _pick(options: tuple[str, ...], *seed: object, avoid: tuple[str, ...] = ()) -> str:
    """Deterministic choice from `options`, skipping recently used lines when there is an alternative."""
    digest = hashlib.sha256(":".join(str(s) for s in seed).encode()).digest()
    start = int.from_bytes(digest[:8], "big") % len(options)
    for step in range(len(options)):
        candidate = options[(start + step) % len(options)]
        if not any(candidate in said for said in avoid):
            return candidate
    return options[start]


def _check_ids(scenario_id: str, persona_id: str) -> None:
    if scenario_id not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario_id!r}; choose one of: {', '.join(SCENARIOS)}")
    if persona_id not in PERSONAS:
        raise ValueError(f"unknown persona {persona_id!r}; choose one of: {', '.join(PERSONAS)}")


class PracticeSession:
    """One role-play: a scenario, a mentee persona, the transcript and the mentee's current tension."""

    def __init__(self, scenario_id: str, persona_id: str, session_id: str = "practice") -> None:
        _check_ids(scenario_id, persona_id)
        self.scenario: Scenario = SCENARIOS[scenario_id]
        self.persona: Persona = PERSONAS[persona_id]
        self.session_id = session_id
        self.tension = self.persona.start_tension
        self.turn = 0
        self.transcript: list[PracticeTurn] = []
        self._checker = FeedbackChecker()

    def opening(self) -> str:
        """The mentee's first line (recorded once as the first turn of the transcript)."""
        if not self.transcript:
            line = self.scenario.opening_for(self.persona.id)
            self.transcript.append(PracticeTurn("mentee", line, self.tension, {}))
        return self.transcript[0].text

    def reply(self, mentor_message: str) -> PracticeTurn:
        """Record the mentor's message, update tension, and return the mentee's reply."""
        text = " ".join((mentor_message or "").split())
        if not text:
            raise ValueError("the message to the mentee is empty: write what you would say to them")
        self.opening()
        reading = read_message(text, self._checker)
        self.turn += 1
        self.tension = self._next_tension(reading.signals)
        self.transcript.append(PracticeTurn("mentor", text, self.tension, reading.signals))
        # the reply carries the signals it reacted to, so a UI can show what the mentor's message did
        answer = PracticeTurn("mentee", self._compose(reading.signals), self.tension, dict(reading.signals))
        self.transcript.append(answer)
        return answer

    def _next_tension(self, signals: dict[str, bool]) -> int:
        effects = self.persona.effects
        delta = sum(effects.get(name, 0) for name, on in signals.items() if on)
        return max(0, min(MAX_TENSION, self.tension + delta))

    def _compose(self, signals: dict[str, bool]) -> str:
        band = band_for(self.tension)
        recent = tuple(t.text for t in self.transcript[-8:] if t.role == "mentee")
        seed = (self.session_id, self.turn)
        reactions = self.persona.reactions
        only_closed = signals["closed_question"] and not signals["open_question"]
        if only_closed and self.persona.closed_only and band != "low" and "closed_question" in reactions:
            return _pick(reactions["closed_question"], *seed, "closed", avoid=recent)
        detail = self._detail(band, signals, recent)
        line = _pick(self.persona.replies[band], *seed, band, avoid=recent).replace("{topic}", self.scenario.topic)
        if signals["judgmental"] and "judgmental" in reactions:
            parts = [_pick(reactions["judgmental"], *seed, "judgmental"), line]
        elif signals["acknowledged_feelings"] and "acknowledged" in reactions:
            # feeling heard, the mentee answers with what happened rather than with a stock line
            parts = [_pick(reactions["acknowledged"], *seed, "acknowledged"), detail or line]
            detail = None
        else:
            parts = [line]
        return " ".join([*parts, detail] if detail else parts)

    def _detail(self, band: str, signals: dict[str, bool], recent: tuple[str, ...]) -> str | None:
        """A fact about the scenario, offered only when the mentee isn't shut down: open questions draw it out."""
        if band == "high" or not self.scenario.details:
            return None
        shared = " ".join(t.text for t in self.transcript if t.role == "mentee")
        unused = tuple(d for d in self.scenario.details if d not in shared)
        if not unused or not (signals["open_question"] or self.turn % 3 == 0):
            return None
        return _pick(unused, self.session_id, self.turn, "detail", avoid=recent)

    # --- persistence -------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario.id,
            "persona_id": self.persona.id,
            "session_id": self.session_id,
            "tension": self.tension,
            "turn": self.turn,
            "transcript": [asdict(t) for t in self.transcript],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PracticeSession:
        try:
            session = cls(str(data["scenario_id"]), str(data["persona_id"]), str(data.get("session_id", "practice")))
            session.tension = max(0, min(MAX_TENSION, int(data["tension"])))
            session.turn = int(data["turn"])
            session.transcript = [
                PracticeTurn(str(t["role"]), str(t["text"]), int(t["tension"]), dict(t.get("signals") or {}))
                for t in data.get("transcript", [])
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"saved practice session is incomplete or malformed: {exc}") from exc
        return session

    # --- debrief -----------------------------------------------------------------------------------------------

    def debrief(self, guidance: Guidance | None = None) -> Debrief:
        """What went well, what to change, the counts behind them, and cited guidance on what needs work."""
        readings = [read_message(t.text, self._checker) for t in self.transcript if t.role == "mentor"]
        stats = _Stats.collect(readings, self.persona.start_tension, self.transcript)
        issues = _issues(stats, self.persona)
        debrief = Debrief(
            went_well=_went_well(stats),
            to_change=[text for text, _ in issues],
            open_questions=len(stats.open_examples),
            closed_questions=stats.closed,
            acknowledgements=len(stats.ack_examples),
            judgmental_phrases=stats.labels,
            feedback_scores=stats.scores,
            final_tension=self.tension,
            guidance=[],
        )
        if guidance is not None:
            queries = [query for _, query in issues][:3] or [f"{self.scenario.title} {self.persona.label} mentee"]
            debrief.guidance = _gather(guidance, queries)
        return debrief

    def prompt_variables(self) -> dict[str, str]:
        """Values for prompts/practice_persona.md when an LLM plays the mentee."""
        persona = f"{self.persona.label}: {self.persona.description}"
        facts = "\n".join(f"- {d}" for d in self.scenario.details)
        scenario = (
            f"{self.scenario.title}. The mentor's brief says: {self.scenario.brief}\n"
            f"You are that mentee. You opened the conversation with: {self.scenario.opening_for(self.persona.id)}\n"
            f"Facts from your side, to reveal one at a time when asked well:\n{facts}"
        )
        return {"persona": persona, "scenario": scenario}


@dataclass
class _Stats:
    open_examples: list[str]
    closed: int
    ack_examples: list[str]
    labels: list[str]
    scores: list[int]
    best_feedback: int | None
    asked_next_step: bool
    turns: int
    start_tension: int
    peak_tension: int
    final_tension: int

    @classmethod
    def collect(cls, readings: list[_Reading], start: int, transcript: list[PracticeTurn]) -> _Stats:
        labels: list[str] = []
        for label in (label for r in readings for label in r.labels):
            if label.lower() not in (x.lower() for x in labels):
                labels.append(label)
        scores = [r.report.score for r in readings if _is_feedback(r)]
        tensions = [start] + [t.tension for t in transcript]
        return cls(
            open_examples=[q for r in readings for q in r.open_questions],
            closed=sum(len(r.closed_questions) for r in readings),
            ack_examples=[a for r in readings for a in r.acknowledgements],
            labels=labels,
            scores=scores,
            best_feedback=max(scores) if scores else None,
            asked_next_step=any(r.report.criteria["request"].passed for r in readings),
            turns=len(readings),
            start_tension=start,
            peak_tension=max(tensions),
            final_tension=tensions[-1],
        )


def _went_well(s: _Stats) -> list[str]:
    good: list[str] = []
    if s.open_examples:
        good.append(f"You asked {len(s.open_examples)} open question(s), e.g. \u201c{s.open_examples[0]}\u201d.")
    if s.ack_examples:
        good.append(f"You acknowledged their feelings ({len(s.ack_examples)}x), e.g. \u201c{s.ack_examples[0]}\u201d.")
    if s.best_feedback is not None and s.best_feedback >= 75:
        good.append(f"Your feedback was specific: situation, behaviour and impact came through "
                    f"({s.best_feedback}/100).")
    if s.turns >= 2 and not s.labels:
        good.append("You described behaviour without labels or absolutes.")
    if s.final_tension < s.start_tension:
        good.append(f"Tension came down from {s.start_tension} to {s.final_tension} over the conversation.")
    if s.asked_next_step:
        good.append("You moved towards a concrete next step.")
    return good


def _issues(s: _Stats, persona: Persona) -> list[tuple[str, str]]:
    """(advice, retrieval query) for each thing that needs work, most important first."""
    who = f"{persona.label.lower()} mentee"
    issues: list[tuple[str, str]] = []
    if not s.turns:
        return [("Say something to your mentee first: the debrief needs at least one turn.", f"opening a difficult "
                 f"conversation with a {who}")]
    if s.labels:
        quoted = ", ".join(f"'{label}'" for label in s.labels[:4])
        issues.append((f"You used labels or absolutes ({quoted}); describe the specific behaviour and when it "
                       "happened instead.", "describing behavior not personality in feedback"))
    if not s.open_examples:
        issues.append(("You didn't ask any open questions; try 'What got in the way?' or 'How did it look from "
                       "your side?'.", f"asking open questions {who}"))
    elif s.closed > len(s.open_examples) and s.closed >= 2:
        issues.append((f"Most of your questions were closed ({s.closed} yes/no vs {len(s.open_examples)} open); "
                       "swap some for 'What…' or 'How…' questions.", f"asking open questions {who}"))
    if not s.ack_examples and s.peak_tension >= 3:
        issues.append(("The mentee was tense and their feelings weren't acknowledged; name what you notice, e.g. "
                       "'I can see this has been frustrating.'", f"acknowledging emotions {who} active listening"))
    if s.final_tension > s.start_tension:
        issues.append((f"Tension rose from {s.start_tension} to {s.final_tension}; slow down and get curious before "
                       "restating your point.", f"handling a {who} in a difficult conversation"))
    if s.best_feedback is not None and s.best_feedback < 75:
        issues.append((f"Your feedback wasn't specific enough (best {s.best_feedback}/100): name the situation, the "
                       "behaviour and its impact.", "making feedback specific and actionable situation behavior "
                       "impact"))
    if not s.asked_next_step and s.turns >= 3:
        issues.append(("You didn't agree a next step; close with something like 'What will you try before we next "
                       "meet?'.", "closing a hard conversation with next steps"))
    return issues


def _gather(guidance: Guidance, queries: list[str]) -> list[tuple[str, str]]:
    cited: list[tuple[str, str]] = []
    for query in queries:
        for title, source in guidance(query):
            if (title, source) not in cited:
                cited.append((title, source))
    return cited[:MAX_GUIDANCE]
