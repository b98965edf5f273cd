"""Input checks that run before a handler (Gradio's `validator=`): a failed check shows a short message on the
control that caused it and the handler never starts, so no output is painted with an error badge.

Each check takes the handler's inputs in the same order and returns one mark per input: `gr.validate(False, why)`
on the input at fault, `None` (valid) on the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

# A delete whose browser confirmation was cancelled reaches Python as this value (see ui._confirm).
CANCELLED = "__cancelled__"


def _marks(problems: Sequence[str | None], others: int = 0) -> Any:
    """One mark per input: the listed inputs first (a message where something is wrong), then `others` unchecked.

    A handler with a single input gets the mark itself, not a list of one: Gradio wraps a single output's value
    in a list, and a list inside that list would read as "valid"."""
    marks: list[Any] = [gr.validate(not p, p or "") for p in problems] + [None] * others
    return marks[0] if len(marks) == 1 else marks


def _text_problem(text: str | None, empty: str, max_chars: int, what: str = "Your message") -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        return empty
    if len(cleaned) > max_chars:
        return f"{what} is {len(cleaned):,} characters; the limit is {max_chars:,}."
    return None


class InputChecks:
    """The checks for every handler of the workspace; limits come from the settings."""

    def __init__(self, max_message_chars: int, max_uploads: int, has_model: bool) -> None:
        self.max_chars = max_message_chars
        self.max_uploads = max_uploads
        self.has_model = has_model

    # --- coach ------------------------------------------------------------------------------------------------
    def question(self, message: str, *rest: Any) -> Any:
        return _marks([_text_problem(message, "Type a question first.", self.max_chars)], len(rest))

    # --- sessions ---------------------------------------------------------------------------------------------
    def conversation(self, session_id: str | None, *rest: Any) -> Any:
        return _marks([None if session_id else "Choose a conversation first."], len(rest))

    def rename(self, session_id: str | None, title: str, *rest: Any) -> Any:
        title_problem = None if (title or "").strip() else "Type the new title first."
        if title_problem is None and len(title.strip()) > 200:
            title_problem = "Keep the title under 200 characters."
        return _marks([None if session_id else "Choose a conversation first.", title_problem], len(rest))

    # --- feedback studio --------------------------------------------------------------------------------------
    def draft_text(self, text: str) -> Any:
        return _marks([_text_problem(text, "Paste or write a draft first.", self.max_chars, "The draft")])

    def draft_parts(self, situation: str, behaviour: str, impact: str, request: str) -> Any:
        if any((part or "").strip() for part in (situation, behaviour, impact, request)):
            return _marks([], 4)
        return _marks(["Fill in at least the situation and the behaviour."], 3)

    # --- practice ---------------------------------------------------------------------------------------------
    def practice_start(self, scenario: str | None, persona: str | None, situation: str, own_id: str) -> Any:
        situation_problem = None
        if scenario == own_id:
            situation_problem = _text_problem(
                situation, "Describe your situation first: who, and what it is about.", self.max_chars, "It"
            )
        return _marks(
            [None if scenario else "Choose a scenario.", None if persona else "Choose a persona.", situation_problem]
        )

    def practice_line(self, message: str, chat: Any, state: Any) -> Any:
        if not state:
            return _marks(["Press Start practice first, then say your line here."], 2)
        return _marks([_text_problem(message, "Type what you would say to your mentee.", self.max_chars)], 2)

    # --- mentees ----------------------------------------------------------------------------------------------
    def mentee_profile(self, mentee_id: str | None, name: str, *rest: Any) -> Any:
        return _marks([None, None if (name or "").strip() else "Give the mentee a name or an alias first."], len(rest))

    def saved_mentee(self, mentee_id: str | None, *rest: Any) -> Any:
        return _marks([None if mentee_id else "Choose a saved mentee first."], len(rest))

    def reflection(self, mentee_id: str | None, note: str) -> Any:
        return _marks(
            [
                None if mentee_id else "Save or choose a mentee first.",
                _text_problem(note, "Write the note first.", self.max_chars, "The note"),
            ]
        )

    # --- knowledge --------------------------------------------------------------------------------------------
    def uploads(self, files: Sequence[Any] | None, *rest: Any) -> Any:
        if not files:
            return _marks(["Choose one or more documents first."], len(rest))
        if len(files) > self.max_uploads:
            return _marks([f"{len(files)} files chosen; add at most {self.max_uploads} at a time."], len(rest))
        return _marks([None], len(rest))

    def own_document(self, source: str | None) -> Any:
        return _marks([None if source else "Choose one of your documents first."])

    # --- evals ------------------------------------------------------------------------------------------------
    def suite(self, suite: str | None, needs_model: Sequence[str]) -> Any:
        if not suite:
            return _marks(["Choose a suite."])
        if suite in needs_model and not self.has_model:
            return _marks(["This suite needs a language model, and none is configured."])
        return _marks([None])
