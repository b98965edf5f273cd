"""What the mentor sees: the safety message, the warning-signs box, banner text, and the optional LLM check.

Every text here speaks to the mentor in plain words; internal labels (pattern names, scores) stay in
`SafetyDecision.matched` and the logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from assistant.safety.router import ACTIONS, CLEAR, POSSIBLE, RouterDecision
from assistant.types import SAFETY_CATEGORIES, Answer, SafetyDecision

# Banner titles for the UI, one per primary category and level.
TITLES: dict[str, str] = {
    "crisis": "Someone's safety may be at risk",
    "threat": "Someone may be in danger from another person",
    "warning_signs": "Possible warning signs",
    "harassment_note": "A note on fair treatment",
    "harassment": "This may be harassment, discrimination or retaliation",
    "legal": "This is a legal question",
    "harmful": "This request is declined",
    "harmful_note": "A note on fair ways to do this",
    "injection": "Those instructions were ignored",
    "injection_note": "A note on instructions in your message",
}
_BODIES: dict[str, str] = {
    "crisis": "The answer below puts their safety first: what to do now and who to call.",
    "threat": "The answer below says how to keep people safe and who to tell.",
    "warning_signs": "The coaching is below a box on how to ask about suicide and where to get help.",
    "harassment_note": "The coaching is below a short note on where to turn if this is harassment or discrimination.",
    "harassment": "The answer below says who needs to know and how to support your mentee.",
    "legal": "The answer below says who can give legal advice and what you can still do as a mentor.",
    "harmful": "The answer below explains why, and offers help with the goal underneath.",
    "injection": "The assistant keeps to its mentoring instructions.",
    "harmful_note": "The coaching is below a short note: it helps with open and fair ways to handle this, nothing that "
    "would deceive, watch or push someone out.",
    "injection_note": "The coaching is below a short note: instructions inside a message never change how the "
    "assistant works.",
}
_INJECTION_AND_HARMFUL = (
    "The request inside those instructions would also hurt someone, so I would not help with it either way."
)


def _load(name: str, prompts_dir: Path | None) -> str:
    from assistant.prompts import load_prompt

    return load_prompt(name, prompts_dir).body.strip()


def _key(decision: SafetyDecision) -> str | None:
    category = decision.category
    if category is None:
        return None
    if category == "crisis" and isinstance(decision, RouterDecision):
        if decision.threat:
            return "threat"
        if not decision.escalated:
            return "warning_signs"
    if isinstance(decision, RouterDecision) and decision.level(category) == POSSIBLE:
        return f"{category}_note"  # only a note: nothing clear was found, the coaching comes
    return category


def banner(decision: SafetyDecision) -> tuple[str, str] | None:
    """(title, body) for the UI banner above an answer, or None when nothing was found."""
    key = _key(decision)
    if key is None:
        return None
    title = TITLES.get(key, "This needs more than coaching")
    extra = [TITLES[_note_key(decision, c)] for c in _categories(decision)[1:] if c != decision.category]
    body = _BODIES.get(key, "")
    if extra:
        body += " Also: " + "; ".join(t[0].lower() + t[1:] for t in extra) + "."
    return title, body


def _note_key(decision: SafetyDecision, category: str) -> str:
    """The banner key for a further category: its note when it was found only at the possible level."""
    noted = isinstance(decision, RouterDecision) and category in decision.notes
    return f"{category}_note" if noted and f"{category}_note" in TITLES else category


def _categories(decision: SafetyDecision) -> tuple[str, ...]:
    if isinstance(decision, RouterDecision):
        return decision.categories
    return (decision.category,) if decision.category else ()


def warning_box(prompts_dir: Path | None = None) -> str:
    """The box that goes above the coaching answer when a message shows possible warning signs."""
    return _load("safety_warning_signs", prompts_dir)


def notes_above(decision: RouterDecision, prompts_dir: Path | None = None) -> list[str]:
    """The boxes and notes that go above an answer: warning signs first, then a note per category found only
    at the possible level (harassment: where to turn if it is unfair treatment)."""
    parts = [warning_box(prompts_dir)] if decision.warning_signs else []
    parts += [_load(f"safety_note_{category}", prompts_dir) for category in decision.notes]
    return parts


def safety_response(decision: SafetyDecision, prompts_dir: Path | None = None) -> str:
    """What the mentor sees instead of coaching for an escalated decision (texts from prompts/).

    Crisis replaces everything else. Otherwise each category found gets its part, in precedence order, under the
    warning-signs box when there are possible warning signs."""
    if decision.category not in ACTIONS:
        raise ValueError(f"no safety response for category {decision.category!r}")
    if not isinstance(decision, RouterDecision):
        return _load(f"safety_{decision.category}", prompts_dir)
    if decision.level("crisis") == CLEAR:
        return _load("safety_threat" if decision.threat else "safety_crisis", prompts_dir)
    parts = notes_above(decision, prompts_dir)
    clear = [c for c, level in decision.levels if level == CLEAR]
    for category in clear:
        if category == "harmful" and "injection" in clear:
            parts.append(_INJECTION_AND_HARMFUL)
            continue
        parts.append(_load(f"safety_{category}", prompts_dir))
    if not clear:
        raise ValueError("possible warning signs come with the coaching answer, not instead of it")
    return "\n\n".join(parts)


def parse_llm_category(raw: str) -> str | None:
    """Reads `{"category": ...}` from an LLM reply; anything unreadable or unknown means no category."""
    match = re.search(r"\{.*?\}", raw or "", re.DOTALL)
    if not match:
        return None
    try:
        value = json.loads(match.group(0)).get("category")
    except (ValueError, AttributeError):
        return None
    value = str(value).strip().lower() if value is not None else None
    return value if value in SAFETY_CATEGORIES else None


def make_llm_check(complete: Callable[[str], str], prompts_dir: Path | None = None) -> Callable[[str], str | None]:
    """An `llm_check` for SafetyRouter from any `prompt -> reply text` function (e.g. a chat backend)."""
    from assistant.prompts import load_prompt

    prompt = load_prompt("safety_check", prompts_dir)

    def check(text: str) -> str | None:
        return parse_llm_category(complete(prompt.format(message=text)))

    return check


def require_readable(decision: SafetyDecision) -> None:
    """Raise the same error as an empty message when nothing readable was left after normalisation (a message
    of only invisible characters), so the mentor gets a clear reply instead of a guess."""
    if isinstance(decision, RouterDecision) and decision.unreadable:
        from assistant.security import LimitError

        note = decision.notices[-1] if decision.notices else "There was no readable text in your message."
        raise LimitError(f"{note} Type your question in words.", "message_empty", 1)


def with_warning_box(answer: Answer, decision: SafetyDecision, prompts_dir: Path | None = None) -> Answer:
    """The coaching answer with the warning-signs box (possible warning signs) and any note (possible harassment
    or discrimination) on top; nothing changes for an escalated or unflagged message."""
    if not isinstance(decision, RouterDecision) or decision.escalated:
        return answer
    top = "\n\n".join(notes_above(decision, prompts_dir))
    if top and not answer.answer.startswith(top):
        answer.answer = f"{top}\n\n---\n\n{answer.answer}"
    return answer
