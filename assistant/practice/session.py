"""One role-play: a scenario, a mentee persona, the mentee's state and the transcript.

Every mentor line is read into moves (moves.py), moves the persona's state by its rules (state.py) and gets a
reply from a voice: the written bank offline (replies.py), or a language model that is told the same state
(voice_model.py). A line can also be replayed with the reply already said, which is how the chat rebuilds a
role-play from its stored turns without asking the model again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from assistant.errors import InputError
from assistant.practice.data import MAX_TENSION, Persona, Scenario, load
from assistant.practice.debrief import Debrief, Guidance, build_debrief
from assistant.practice.moves import LineReading, MoveClassifier, classifier_for
from assistant.practice.replies import BankVoice, ReplyContext, Voice, answer_kind
from assistant.practice.state import PersonaState, advance
from assistant.practice.turn import PracticeTurn


def _check_ids(scenario_id: str, persona_id: str) -> None:
    data = load()
    if scenario_id not in data.scenarios:
        raise InputError(f"unknown scenario {scenario_id!r}; choose one of: {', '.join(data.scenarios)}")
    if persona_id not in data.personas:
        raise InputError(f"unknown persona {persona_id!r}; choose one of: {', '.join(data.personas)}")


class PracticeSession:
    """Start with a scenario id (or a Scenario built from the mentor's description) and a persona id."""

    def __init__(
        self,
        scenario: str | Scenario,
        persona_id: str,
        session_id: str = "practice",
        *,
        classifier: MoveClassifier | None = None,
        voice: Voice | None = None,
    ) -> None:
        data = load()
        if isinstance(scenario, Scenario):
            _check_ids(next(iter(data.scenarios)), persona_id)
            self.scenario = scenario
        else:
            _check_ids(scenario, persona_id)
            self.scenario = data.scenarios[scenario]
        self.persona: Persona = data.personas[persona_id]
        self.session_id = session_id
        self.state = PersonaState.start(self.persona)
        self.turn = 0
        self.transcript: list[PracticeTurn] = []
        self.voice: Voice = voice or BankVoice()
        self.fallbacks: list[str] = []  # why the model voice was not used, per turn it failed
        self._classifier = classifier

    @property
    def classifier(self) -> MoveClassifier:
        if self._classifier is None:
            from assistant.embedders import get_embedder
            from assistant.settings import get_settings

            self._classifier = classifier_for(get_embedder(get_settings()))
        return self._classifier

    @property
    def tension(self) -> int:
        return self.state.tension

    @property
    def custom(self) -> bool:
        return self.scenario.id not in load().scenarios

    def opening(self) -> str:
        """The mentee's first line (recorded once as the first turn of the transcript)."""
        if not self.transcript:
            line = self.scenario.opening_for(self.persona.id)
            self.transcript.append(
                PracticeTurn("mentee", line, self.state.tension, self.state.openness, voice="opening")
            )
        return self.transcript[0].text

    def reply(self, mentor_message: str, said: str | None = None) -> PracticeTurn:
        """Record the mentor's line, move the mentee's state, and return the mentee's reply (`said`, when the
        reply is already known from a stored conversation)."""
        text = " ".join((mentor_message or "").split())
        if not text:
            raise InputError("the message to the mentee is empty: write what you would say to them")
        self.opening()
        reading = self.classifier.read(text)
        self.turn += 1
        change = advance(self.state, self.persona, reading.moves, reading.move, len(self.scenario.reveals))
        sentences = [(s.text, s.move) for s in reading.sentences]
        self.transcript.append(
            PracticeTurn("mentor", text, change.tension_after, change.openness_after, reading.move, sentences)
        )
        voice_name, reply_text = "replay", said
        if reply_text is None:
            reply_text, voice_name = self._say(reading, change)
        answer = PracticeTurn(
            "mentee",
            reply_text,
            change.tension_after,
            change.openness_after,
            reading.move,
            revealed=change.reveal,
            voice=voice_name,
        )
        self.transcript.append(answer)
        return answer

    def _say(self, reading: LineReading, change: Any) -> tuple[str, str]:
        ctx = ReplyContext(
            persona=self.persona,
            scenario=self.scenario,
            reading=reading,
            change=change,
            answer_kind=answer_kind(reading),
            seed=(self.session_id, self.turn),
            recent=tuple(t.text for t in self.transcript[-9:] if t.role == "mentee"),
            transcript=tuple((t.role, t.text) for t in self.transcript),
            shared=tuple(i for i in self.state.revealed if i != change.reveal),
        )
        text = self.voice.reply(ctx)
        failure = getattr(self.voice, "last_failure", None)
        if failure:
            self.fallbacks.append(failure)
            return text, "bank"
        return text, self.voice.name

    # --- persistence -------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario.id,
            "scenario": self.scenario.as_dict() if self.custom else None,
            "persona_id": self.persona.id,
            "session_id": self.session_id,
            "state": self.state.as_dict(),
            "turn": self.turn,
            "transcript": [asdict(t) for t in self.transcript],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **kwargs: Any) -> PracticeSession:
        try:
            custom = data.get("scenario")
            scenario: str | Scenario = Scenario.from_dict(custom) if custom else str(data["scenario_id"])
            session = cls(scenario, str(data["persona_id"]), str(data.get("session_id", "practice")), **kwargs)
            session.state = PersonaState.from_dict(dict(data["state"]))
            session.turn = int(data["turn"])
            session.transcript = [_turn(t) for t in data.get("transcript", [])]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"saved practice session is incomplete or malformed: {exc}") from exc
        return session

    # --- debrief -----------------------------------------------------------------------------------------------

    def debrief(self, guidance: Guidance | None = None) -> Debrief:
        """Moves counted, the best and weakest line quoted, and cited guidance on what needs work."""
        return build_debrief(self.transcript, self.persona, self.scenario, guidance)

    def prompt_variables(self) -> dict[str, str]:
        """Who the mentee is and what is going on, for prompts/practice_persona.md."""
        from assistant.practice.voice_model import persona_text, scenario_text

        return {"persona": persona_text(self.persona), "scenario": scenario_text(self.scenario, self.persona)}


def _turn(raw: Mapping[str, Any]) -> PracticeTurn:
    return PracticeTurn(
        role=str(raw["role"]),
        text=str(raw["text"]),
        tension=max(0, min(MAX_TENSION, int(raw["tension"]))),
        openness=int(raw.get("openness", 0)),
        move=raw.get("move"),
        sentences=[(str(s), str(m)) for s, m in raw.get("sentences", [])],
        revealed=raw.get("revealed"),
        voice=str(raw.get("voice", "bank")),
    )
