"""Safety routing: decides, before any coaching, whether a message needs escalation instead of tips.

    router = SafetyRouter(embedder)          # loads the classifier trained for this encoder
    decision = router.classify(message)      # RouterDecision: categories, levels, plain-language notices
    text = safety_response(decision)         # the safety message, when decision.escalated
    box = warning_box()                      # above the coaching, when decision.warning_signs

Stages, one module each: text (normalisation), patterns (the floor, from patterns.yaml), model (the trained
classifier), router (levels and precedence), responses (what the mentor sees), train (`mentor safety train`).
"""

from __future__ import annotations

from assistant.safety.model import ModelMismatch, SafetyModel, model_path
from assistant.safety.patterns import PATTERNS_PATH, load_patterns
from assistant.safety.responses import (
    banner,
    make_llm_check,
    parse_llm_category,
    require_readable,
    safety_response,
    warning_box,
    with_warning_box,
)
from assistant.safety.router import ACTIONS, CLEAR, POSSIBLE, PRIORITY, RouterDecision, SafetyRouter, plain_reason
from assistant.safety.text import clean

__all__ = [
    "ACTIONS",
    "CLEAR",
    "PATTERNS_PATH",
    "POSSIBLE",
    "PRIORITY",
    "ModelMismatch",
    "RouterDecision",
    "SafetyModel",
    "SafetyRouter",
    "banner",
    "clean",
    "load_examples",
    "load_patterns",
    "make_llm_check",
    "model_path",
    "parse_llm_category",
    "plain_reason",
    "require_readable",
    "safety_response",
    "warning_box",
    "with_warning_box",
]


def load_examples() -> dict[str, tuple[str, ...]]:
    """Category (`benign` for none) → the messages the classifier is trained on; the eval harness warns when an
    eval question is nearly one of these."""
    from assistant.safety.train import load_examples as training_examples

    grouped: dict[str, list[str]] = {}
    for example in training_examples():
        grouped.setdefault(example.label or "benign", []).append(example.text)
    return {label: tuple(texts) for label, texts in grouped.items()}
