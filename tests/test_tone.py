"""Praise or a problem, read by the tone classifier: most praise uses no praise word, and word counts alone
left these undecided. The sentences are new, not from the details dataset the classifier was trained on."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from conftest import REPO

from assistant.embedders.hashed import HashedEmbedder
from assistant.runtime import Runtime
from assistant.understanding import tone
from assistant.understanding.details import extract


@pytest.mark.parametrize(
    ("message", "praise"),
    [
        ("Bongani rewrote the onboarding checklist on his own and new starters now finish setup in a day.", True),
        ("Leila stayed calm when the customer started shouting and got the refund sorted in five minutes.", True),
        ("Tom keeps leaving the dishwasher full and the kitchen smells by Monday.", False),
        ("Marek pushed his code straight to production on Friday and the checkout page went down for an hour.", False),
    ],
)
def test_the_act_is_read_as_praise_or_a_problem(rt: Runtime, message: str, praise: bool) -> None:
    assert rt.understanding.tone is not None
    assert rt.understanding.details(message).is_praise is praise


def test_word_counts_alone_could_not_tell() -> None:
    """Why the classifier is there: no praise or trouble word in these two."""
    assert (
        extract(
            "Bongani rewrote the onboarding checklist on his own and new starters now finish setup in a day."
        ).is_praise
        is None
    )
    assert extract("Tom keeps leaving the dishwasher full and the kitchen smells by Monday.").is_praise is None


def test_a_message_without_an_act_is_left_alone(rt: Runtime) -> None:
    assert rt.understanding.details("How do I give feedback well?").is_praise is None


def test_weights_from_another_encoder_are_not_used() -> None:
    """The shipped weights read MiniLM vectors; with the hashed encoder the word count decides."""
    assert tone.ToneClassifier.load(HashedEmbedder()) is None


def test_the_shipped_weights_were_trained_on_the_dev_split_as_it_is_now() -> None:
    """Retrain (`python -m assistant.understanding.train_tone`) after changing the dev cases."""
    stored = json.loads(resources.files(tone.__package__).joinpath(tone.WEIGHTS_FILE).read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (REPO / "evals" / "datasets" / "details.jsonl").read_text().splitlines()]
    dev = [r for r in rows if r.get("split") == "dev" and r.get("kind") in ("praise", "problem")]
    assert stored["dev_cases"] == len(dev)
