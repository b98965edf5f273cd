"""Conversation practice: the mentor rehearses a hard conversation with a simulated mentee, then gets a debrief.

moves.py        what each mentor sentence does (open question, empathy, blame...), by the sentence encoder
state.py        how the persona's tension, openness and what it has revealed move, by rules per persona
replies.py      the mentee's reply from the written bank (bank.yaml, scenarios.yaml)
voice_model.py  the same reply worded by a language model, the bank as fallback
own.py          a scenario built from the mentor's own description
debrief.py      moves counted, best and weakest line, cited guidance
session.py      PracticeSession, which ties them together
"""

from __future__ import annotations

from assistant.practice.data import BANDS, MAX_OPENNESS, MAX_TENSION, Persona, Scenario, band_for, load
from assistant.practice.debrief import Debrief
from assistant.practice.moves import MOVES, MoveClassifier, classifier_for, move_info
from assistant.practice.session import PracticeSession
from assistant.practice.turn import PracticeTurn

PERSONAS: dict[str, Persona] = dict(load().personas)
SCENARIOS: dict[str, Scenario] = dict(load().scenarios)

__all__ = [
    "BANDS",
    "MAX_OPENNESS",
    "MAX_TENSION",
    "MOVES",
    "PERSONAS",
    "SCENARIOS",
    "Debrief",
    "MoveClassifier",
    "Persona",
    "PracticeSession",
    "PracticeTurn",
    "Scenario",
    "band_for",
    "classifier_for",
    "move_info",
]
