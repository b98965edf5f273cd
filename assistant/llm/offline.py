"""The offline coach: answers from the playbook that fits the mentor's situation, every tip cited.

It never invents advice: each step, phrase and question is a line of the matched playbook, cited as [n] with
the number of the section it came from. The coach's understanding of the message (which playbook, which need,
who) arrives with the request; this backend only writes it out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.coaching import AnswerPlan, CitedPlaybook, Composer, Playbook, Reading, section_citations
from assistant.coaching.citations import drop_unknown_citations
from assistant.coaching.composer import asks_how_to_open
from assistant.coaching.playbooks import QuickAnswer
from assistant.embedders import Embedder
from assistant.llm import BACKENDS, BackendError, Capabilities, CoachRequest, Reply
from assistant.rendering.markdown import list_items
from assistant.settings import Settings
from assistant.types import MenteeProfile
from assistant.understanding.details import Details, feedback_parts
from assistant.understanding.questions import direct_questions

FOCUSED_STEPS = 4  # a follow-up's answer: the steps of the same playbook closest to what was asked
# How close (cosine) a question the mentor asks must be to one of the playbook's quick-answer questions before that
# answer leads the reply. On the dev split of evals/datasets/decisions.jsonl, 17 of the 20 answers at or above 0.5
# were to the decision asked, against 11 of 16 between 0.4 and 0.5; the question answered is printed with it.
QUICK_ANSWER_CLOSENESS = 0.5


@lru_cache(maxsize=4)
def _wording(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class OfflineCoach:
    """Deterministic, grounded composer; the default backend when no LLM is configured."""

    name = "offline"
    model = "offline-coach"
    # It writes out playbooks and cannot answer an arbitrary prompt, so rewriting, judging and role-play voices
    # use their offline paths.
    capabilities = Capabilities(completion=False, streaming=True)

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.words = _wording(settings.prompts_dir / "offline_coach.yaml")
        self.prompt_version = f"offline_coach@{self.words.get('version', 1)}"
        self.composer = Composer(self.words)
        self.embedder = embedder

    def stream(self, request: CoachRequest) -> Reply:
        # Every passage it is given is one it may cite: the whole playbook, and uploads it points to.
        return Reply(self._paragraphs(self.compose(request)), sources_shown=len(request.hits))

    def complete(self, prompt: str, cancel: threading.Event | None = None) -> str:
        raise BackendError("The offline coach answers mentoring questions only; it cannot complete a prompt.")

    @staticmethod
    def _paragraphs(text: str) -> Iterator[str]:
        # Sent a paragraph at a time so the UI shows progress the way it does for a model.
        for paragraph in text.split("\n\n"):
            yield paragraph + "\n\n"

    def compose(self, request: CoachRequest) -> str:
        reading = request.reading
        if reading is None or not reading.playbooks:
            return self.words["abstain"].strip()
        return self.composer.compose(self.plan(request, reading))

    def too_short(self, name: str | None) -> str:
        """A name or a word or two carries no situation: what to tell the coach, and one question."""
        text = self.words["too_short"].strip().format(about=f" about {name}" if name else "")
        question = self.words["too_short_question"].format(who=name or "your mentee")
        return f"{text}\n\n**A question for you:** {question}"

    def other_language(self) -> str:
        """A message not in English: what the coach can do, and the ask to write in English."""
        return f"{self.words['other_language'].strip()}\n\n**A question for you:** {self.words['abstain_question']}"

    def clarification(self, closest: list[Playbook]) -> str:
        """No playbook fits well enough: name the closest covered situations (when some are close) and ask one
        question, with no tips."""
        if closest:
            options = "\n".join(f"- **{b.title}**: {b.situation}" for b in closest)
            return f"{self.words['closest']}\n\n{options}\n\n**A question for you:** {self.words['closest_question']}"
        return f"{self.words['abstain'].strip()}\n\n**A question for you:** {self.words['abstain_question']}"

    def plan(self, request: CoachRequest, reading: Reading) -> AnswerPlan:
        numbered = [(i + 1, hit.chunk) for i, hit in enumerate(request.hits)]
        books = [
            CitedPlaybook(
                book,
                section_citations(book, [(c.heading, n) for n, c in numbered if c.source == book.source]),
            )
            for book in reading.playbooks
        ]
        need = {"prepare": "conversation", "feedback": reading.need if reading.need == "praise" else "feedback"}.get(
            request.mode, reading.need
        )
        name = reading.mentee_name or (request.mentee.name if request.mentee else None)
        plan = AnswerPlan(
            question=request.question,
            need=need,
            playbooks=books,
            details=_in_second_person(reading.details, name),
            follow_up_of=reading.follow_up_of,
            restate=reading.restate,
            new_playbook=reading.new_playbook,
            mentee_name=name,
            shorter=reading.shorter,
            plain=reading.plain,
            previous_steps=_previous_steps(request.history) if reading.shorter else (),
            items_wanted=reading.items_wanted,
            wants_example=reading.wants_example,
            step_detail=_asked_step(request.history, reading.step_asked),
            part_asked=reading.part_asked,
            own_documents=list(dict.fromkeys((c.title, n) for n, c in numbered if c.user_source)),
        )
        # The lines of the playbook closest to what was asked come first; a follow-up on the same situation
        # gets only a few steps, the ones that answer it.
        focus, steps = (reading.focus, FOCUSED_STEPS) if reading.focus else (request.question, None)
        if plan.step_detail:
            focus, steps = plan.step_detail, FOCUSED_STEPS  # the lines closest to that step
        # A part asked for on its own ("what questions could I ask?") comes whole, in authored order.
        focused = books[0].playbook if plan.part_asked else self._focused(books[0].playbook, focus, steps)
        if asks_how_to_open(request.question):
            # The playbook's lines to say come in authored order, its opening line first; closeness to "how do I
            # start?" says nothing about which line opens well.
            focused = replace(focused, phrases=books[0].playbook.phrases)
        plan.playbooks[0] = CitedPlaybook(focused, books[0].citations)
        plan.quick_answer = self._quick_answer(books[0].playbook, focus)
        if request.mentee:
            self._tailor(plan, request.mentee)
        return plan

    def _quick_answer(self, book: Playbook, message: str) -> QuickAnswer | None:
        """The playbook's answer to a direct question the mentor asked, when one of its quick answers is about
        the same decision. "How do I raise it?" asks for the plan, not a verdict: only a closed question ("Should
        I...?") or one that opens like the quick answer's ("How long...?") gets one."""
        asked = direct_questions(message) if book.answers else []
        if not asked:
            return None
        # Every wording of every quick answer, each pointing back to its answer.
        known = [(answer, wording) for answer in book.answers for wording in answer.phrasings]
        # Each question is read alone and with the sentence before it; the closer reading counts.
        entries = self.embedder.embed([wording for _, wording in known])
        in_context = self.embedder.embed([q.context for q in asked])
        alone = self.embedder.embed([q.text for q in asked])
        closeness = np.maximum(entries @ in_context.T, entries @ alone.T)
        for i, (_, wording) in enumerate(known):
            for j, question in enumerate(asked):
                if not (question.closed or question.opens_like(wording)):
                    closeness[i, j] = -1.0
        best, _ = np.unravel_index(int(np.argmax(closeness)), closeness.shape)
        return known[best][0] if closeness.max() >= QUICK_ANSWER_CLOSENESS else None

    def _focused(self, book: Playbook, focus: str, steps: int | None) -> Playbook:
        """The playbook's lines closest to the question, kept in authored order; cautions mix its do's and don'ts."""

        def closest(items: tuple[str, ...], keep: int | None) -> tuple[str, ...]:
            if keep is None or len(items) <= keep:
                return items
            similarity = self.embedder.embed(list(items)) @ self.embedder.embed([focus])[0]
            chosen = set(np.argsort(-similarity)[:keep].tolist())
            return tuple(item for i, item in enumerate(items) if i in chosen)

        return replace(
            book,
            steps=closest(book.steps, steps),
            phrases=closest(book.phrases, 4 if steps is None else 3),
            questions=closest(book.questions, 4 if steps is None else 2),
            donts=closest(book.dos + book.donts, 3 if steps is None else 2),
        )

    def _tailor(self, plan: AnswerPlan, mentee: MenteeProfile) -> None:
        """A profile changes the advice itself: which steps come first and how much structure to give."""
        t = self.words["tailoring"]
        prefs = f"{mentee.communication_preferences} {mentee.learning_preferences} {mentee.cultural_notes}".lower()
        main = plan.playbooks[0]
        steps = list(main.playbook.steps)
        if mentee.experience_level in ("senior", "mid-career") or "indirect" in prefs:
            # Experienced or indirect mentees: lead with their view before yours.
            steps.sort(key=lambda step: not step.lower().startswith(("ask", "invite", "listen")))
        if mentee.experience_level in ("new", "early-career"):
            steps = steps[:5]
        if steps != list(main.playbook.steps):
            plan.playbooks[0] = CitedPlaybook(_with_steps(main.playbook, steps), main.citations)
        lines = [t[mentee.experience_level]] if mentee.experience_level in t else []
        for key, cue in (("written", "writ"), ("indirect", "indirect"), ("direct", "direct")):
            if cue in prefs and not (key == "direct" and "indirect" in prefs):
                lines.append(t[key])
        if mentee.goals:
            lines.append(t["goals"].format(name=mentee.name, goals=mentee.goals.rstrip(".")))
        plan.tailoring = [line.format(name=mentee.name) for line in lines]


def _previous_steps(history: list[tuple[str, str]], numbered_only: bool = False) -> tuple[str, ...]:
    """The listed lines of the coach's last answer, without their citation markers."""
    last = next((text for role, text in reversed(history) if role == "assistant"), "")
    return tuple(drop_unknown_citations(item, 0)[0].strip() for item in list_items(last, numbered_only))


def _asked_step(history: list[tuple[str, str]], number: int | None) -> str | None:
    """The numbered step of the last answer a follow-up asks about (1-based; -1 the last), when it has one."""
    if number is None:
        return None
    steps = _previous_steps(history, numbered_only=True)
    if not steps or number > len(steps):
        return None
    return steps[number - 1] if number > 0 else steps[-1]


def _with_steps(book: Playbook, steps: list[str]) -> Playbook:
    return replace(book, steps=tuple(steps))


def _in_second_person(details: Details, name: str | None) -> Details:
    """The feedback draft speaks to the mentee: only the words the parse ties to the mentee change. Where it is
    unsure the behaviour and the request are left out, so the draft asks the mentor for them."""
    del name  # the parse already knows who the mentee is
    parts = feedback_parts(details)
    return replace(
        details,
        situation=parts["situation"],
        behavior=parts["behavior"],
        impact=parts["impact"],
        request=parts["request"],
    )


@BACKENDS.register("offline")
def create(settings: Settings, embedder: Embedder) -> OfflineCoach:
    return OfflineCoach(settings, embedder)
