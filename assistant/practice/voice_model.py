"""The mentee voiced by a language model: the role-play's rules still decide the mentee's state (tension,
openness, which fact to share now) and the model only words the reply. If the model fails or steps out of
character, the written bank answers instead and the reason is kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from assistant.practice.data import MAX_OPENNESS, MAX_TENSION, Persona, Scenario
from assistant.practice.moves import move_info
from assistant.practice.replies import BankVoice, ReplyContext, Voice

BAND_WORDS = {"low": "open and fairly calm", "mid": "guarded", "high": "shut down or heated"}
ANSWER_HINTS = {
    "agree": "They asked whether you agree. Begin with a yes or a no, for example: {answer}",
    "feeling": "They asked how you are. Begin by saying it, for example: {answer}",
    "fact": "They asked a yes/no question. Begin with a yes or a no, for example: {answer}",
    "detail": "They asked for one detail. Give it, or say you would have to check, for example: {answer}",
    "open": "They asked an open question. Answer it in your own words.",
}
YES_NO_START = re.compile(
    r"^\W*(?:yes|yeah|yep|no|nope|not\s+really|not\s+exactly|not\s+yet|sure|okay|ok|fine|maybe|probably|i\s+think\s+so"
    r"|i\s+suppose|i\s+guess|of\s+course|obviously|definitely|absolutely|kind\s+of|sort\s+of|mm|i'm|i\s+am|i\s+don't"
    r"|i'd\s+have\s+to|better|not\s+at\s+all)\b",
    re.IGNORECASE,
)
_OUT_OF_ROLE = re.compile(r"\b(?:as an ai|language model|i(?:'m| am) an assistant|system prompt)\b", re.IGNORECASE)
_SPEAKER = re.compile(r"^\s*(?:\*\*)?(?:mentee|[A-Z][\w' -]{0,30}mentee)(?:\*\*)?\s*:\s*(?:\*\*)?\s*", re.IGNORECASE)
MAX_REPLY_CHARS = 600
TRANSCRIPT_TURNS = 12


def persona_text(persona: Persona) -> str:
    return f"{persona.label}: {persona.description}"


def scenario_text(scenario: Scenario, persona: Persona) -> str:
    facts = "\n".join(f"- {scenario.reveal(i)}" for i in range(len(scenario.reveals)))
    name = f" Your name is {scenario.mentee}." if scenario.mentee else ""
    return (
        f"{scenario.title}. The mentor's brief says: {scenario.brief}{name}\n"
        f"You opened the conversation with: {scenario.opening_for(persona.id)}\n"
        f"What is really behind it, to be shared only when the state below says so:\n{facts}"
    )


def state_text(ctx: ReplyContext, answer: str) -> str:
    change, info = ctx.change, move_info()
    shared = [ctx.scenario.reveal(i) for i in ctx.shared]
    lines = [
        f"Tension: {change.tension_after} of {MAX_TENSION} ({BAND_WORDS[change.band]}); it was "
        f"{change.tension_before} before the mentor's last line.",
        f"Openness: {change.openness_after} of {MAX_OPENNESS}.",
        f"The mentor's last line was {', then '.join(info[m].label for m in ctx.reading.moves)}.",
        "Already shared: " + ("; ".join(shared) if shared else "nothing yet."),
        f"Share now, in your own words: {ctx.reveal}" if ctx.reveal else "Share no new fact in this reply.",
    ]
    if ctx.answer_kind:
        lines.append(ANSWER_HINTS[ctx.answer_kind].format(answer=answer))
    return "\n".join(lines)


def transcript_text(ctx: ReplyContext) -> str:
    turns = ctx.transcript[-TRANSCRIPT_TURNS:]
    return "\n".join(f"{'Mentor' if role == 'mentor' else 'Mentee'}: {text}" for role, text in turns)


def clean_reply(raw: str) -> str | None:
    """The reply as the mentee would say it, or None when it is empty or out of character."""
    text = _SPEAKER.sub("", (raw or "").strip()).strip().strip('"\u201c\u201d').strip()
    if not text or _OUT_OF_ROLE.search(text) or "<" in text:
        return None
    if len(text) > MAX_REPLY_CHARS:
        text = text[:MAX_REPLY_CHARS].rsplit(" ", 1)[0] + "\u2026"
    return text


class ModelVoice:
    """`complete` is a backend's one-shot completion (see assistant/llm/openai.py)."""

    name = "model"

    def __init__(
        self, complete: Callable[[str], str], fallback: Voice | None = None, prompts_dir: Path | None = None
    ) -> None:
        self.complete = complete
        self.fallback = fallback or BankVoice()
        self.prompts_dir = prompts_dir
        self.last_failure: str | None = None

    def reply(self, ctx: ReplyContext) -> str:
        from assistant.llm import BackendError
        from assistant.prompts import load_prompt

        self.last_failure = None
        bank = BankVoice()
        answer = bank.answer(ctx) if ctx.answer_kind in ("agree", "feeling", "fact", "detail") else ""
        prompt = load_prompt("practice_persona", self.prompts_dir).format(
            persona=persona_text(ctx.persona),
            scenario=scenario_text(ctx.scenario, ctx.persona),
            state=state_text(ctx, answer),
            transcript=transcript_text(ctx),
        )
        try:
            text = clean_reply(self.complete(prompt))
        except BackendError as exc:
            self.last_failure = f"{exc} The mentee's reply came from the written bank instead."
            return self.fallback.reply(ctx)
        if text is None:
            self.last_failure = "The language model's reply was empty or out of character; the written bank answered."
            return self.fallback.reply(ctx)
        if answer and not YES_NO_START.match(text):
            text = f"{answer} {text}"  # the mentee always answers a direct question first
        return text
