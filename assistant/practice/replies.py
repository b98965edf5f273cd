"""The mentee's reply from the written bank: an answer to a direct question first, then the reaction to the
mentor's move, then a fact if the state says the mentee is ready to share one.

Choices are seeded by session and turn, so replaying the same lines gives the same conversation, and lines
said recently are skipped while there is another option.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from assistant.practice.data import ANSWER_KINDS, Persona, Scenario, load
from assistant.practice.moves import LineReading
from assistant.practice.state import Change

_AGREE = re.compile(
    r"\b(?:does|would|will|is|did|can)\s+(?:that|this|it)\s+(?:work|suit|sound|seem|feel|help|make\s+sense"
    r"|okay|ok|alright|all\s+right|fair|good|reasonable|realistic|doable)\b"
    r"|\bhow\s+does\s+(?:that|this)\s+sound\b|^(?:so\s*,?\s*|okay\s*,?\s*|ok\s*,?\s*)?(?:shall|should|can|could)\s+we\b"
    r"|\b(?:are|would)\s+you\s+(?:be\s+)?(?:okay|ok|happy|comfortable|fine|willing|up\s+for|alright|all\s+right)"
    r"\s+(?:with|to|doing)\b|\bdo\s+you\s+agree\b|\bmakes?\s+sense\b|\bsounds?\s+(?:good|okay|ok|fair|right)\b"
    r"|\bis\s+that\s+(?:okay|ok|fair|alright|all\s+right)\b|\bwould\s+you\s+(?:like|want)\s+to\b|\bhow\s+about\b"
    r"|\b(?:deal|agreed)\s*\?$",
    re.IGNORECASE,
)
_FEELING = re.compile(
    r"\b(?:are\s+you|you)\s+(?:doing\s+|feeling\s+)?(?:okay|ok|alright|all\s+right|well)\s*\?"
    r"|\bis\s+everything\s+(?:okay|ok|alright|all\s+right)\b",
    re.IGNORECASE,
)
INVITING = ("open_question", "pause")  # a fact shared after these is the whole answer
FEEDBACK_KINDS = ("feedback", "conflict")  # situations where an SBI statement is feedback, not news


def answer_kind(reading: LineReading) -> str | None:
    """What the line's direct question asks for: 'agree', 'feeling' or 'fact' (a yes or a no), 'detail' (one
    fact: "When is it due?"), 'open' (their own words); None if the line ends in no question."""
    question = reading.question
    if not question:
        return None
    if _AGREE.search(question):
        return "agree"
    last = reading.sentences[-1].move
    if last == "open_question" or (last != "closed_question" and reading.question_kind == "open"):
        return "open"
    if reading.question_kind == "open":
        return "detail"  # a closed question that opens with when, who, how many
    return "feeling" if _FEELING.search(question) else "fact"


@dataclass(frozen=True)
class ReplyContext:
    """Everything a voice needs to say the mentee's next line."""

    persona: Persona
    scenario: Scenario
    reading: LineReading
    change: Change
    answer_kind: str | None
    seed: tuple[object, ...]
    recent: tuple[str, ...]
    transcript: tuple[tuple[str, str], ...]  # (role, text) so far, the mentor's new line last
    shared: tuple[int, ...] = ()  # the scenario's reveals shared before this line

    @property
    def reveal(self) -> str | None:
        return None if self.change.reveal is None else self.scenario.reveal(self.change.reveal)


class Voice(Protocol):
    name: str

    def reply(self, ctx: ReplyContext) -> str: ...


def pick(options: tuple[str, ...], *seed: object, avoid: tuple[str, ...] = ()) -> str:
    """Deterministic choice from `options`, skipping recently used lines when there is an alternative."""
    digest = hashlib.sha256(":".join(str(s) for s in seed).encode()).digest()
    start = int.from_bytes(digest[:8], "big") % len(options)
    for step in range(len(options)):
        candidate = options[(start + step) % len(options)]
        if not candidate or not any(candidate in said for said in avoid):
            return candidate
    return options[start]


class BankVoice:
    """The offline mentee: every line is written in bank.yaml and scenarios.yaml."""

    name = "bank"

    def reply(self, ctx: ReplyContext) -> str:
        band = ctx.change.band
        parts = [self.answer(ctx)] if ctx.answer_kind in ANSWER_KINDS else []
        reaction = self.reaction(ctx)
        if ctx.reveal is not None:
            # asked openly or given room, the mentee's answer is the fact itself
            parts += [ctx.reveal] if ctx.reading.move in INVITING else [reaction, ctx.reveal]
        elif not (parts and band != "low" and (ctx.persona.terse or self._answer_says_it(ctx))):
            parts.append(reaction)
        text = " ".join(p for p in parts if p).replace("{topic}", ctx.scenario.topic)
        return text or "..."

    @staticmethod
    def _answer_says_it(ctx: ReplyContext) -> bool:
        """Asked to agree to a next step, a hesitant mentee's yes or no is the whole reply: a second hedge after
        it would only blur the answer."""
        return ctx.answer_kind == "agree" and ctx.reading.move == "next_steps"

    def answer(self, ctx: ReplyContext) -> str:
        kind = ctx.answer_kind or "fact"
        options = load().bank.answers[ctx.persona.id][kind][ctx.change.band]
        return pick(options, *ctx.seed, "answer", avoid=ctx.recent)

    def reaction(self, ctx: ReplyContext) -> str:
        move, band = ctx.reading.move, ctx.change.band
        options = list(load().bank.lines(ctx.persona.id, band, move, ctx.scenario.kind))
        own = ctx.scenario.lines.get(move, {}).get(band, ())
        if move == "sbi" and ctx.scenario.kind not in FEEDBACK_KINDS and own:
            options = list(own)  # the persona's lines answer feedback; news needs the scenario's own
        elif not ctx.persona.terse:
            options += own
        if ctx.reading.question:
            # a mentee who was just asked something answers it rather than asking back
            options = [o for o in options if not o.rstrip().endswith("?")] or options
        if move == "closed_question" and ctx.answer_kind is None:
            options = [o for o in options if o] or options
        return pick(tuple(options), *ctx.seed, band, move, avoid=ctx.recent)
