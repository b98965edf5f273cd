"""assistant.understanding.details on the real parser: the fields the coach reuses, the feedback draft said to the
mentee, and the `details` eval suite on the labelled set (evals/datasets/details.jsonl)."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from assistant.evals import details_suite
from assistant.evals.datasets import load_dataset
from assistant.feedback import draft_feedback
from assistant.runtime import Runtime
from assistant.understanding.details import extract, feedback_parts

PRIYANKA = (
    "During Tuesday's design review Priyanka kept cutting off the junior engineers, and one of them told me later "
    "that he has stopped sharing ideas. I want to give her feedback."
)


def _draft(text: str) -> str:
    return draft_feedback(**{k: v or "" for k, v in feedback_parts(extract(text)).items()})


def test_the_issue_draft_keeps_the_engineers_words_his_own() -> None:
    draft = _draft(PRIYANKA)
    assert draft == (
        "During Tuesday's design review, you kept cutting off the junior engineers. "
        "One of them told me later that he has stopped sharing ideas."
    )
    assert "one of you" not in draft.lower() and "you have stopped" not in draft


def test_details_the_coach_reuses() -> None:
    d = extract("Tomorrow I have to tell Priya her conference talk was rejected")
    assert (d.name, d.when, d.is_news, d.topic_you) == ("Priya", "tomorrow", True, "your conference talk was rejected")
    d = extract("Sam interrupted the client three times in Monday's demo, which made the client stop talking.")
    assert (d.name, d.situation, d.behavior) == ("Sam", "in Monday's demo", "interrupted the client three times")
    assert d.impact == "that made the client stop talking"
    assert d.who == "Sam" and extract("how do I run a good one-on-one?").who == "your mentee"


def test_a_bare_weekday_reads_as_a_day_in_the_lead() -> None:
    # The lead says "your conversation with Dana on Thursday", not "with Dana Thursday".
    assert extract("I have to tell Dana her promotion was not approved. We meet Thursday.").when == "on Thursday"
    assert extract("I meet Priya next week about her review.").when == "next week"


def test_a_request_is_said_to_the_mentee_and_never_guessed() -> None:
    d = extract(
        "In Monday's sprint planning, Tendai committed the team to three features without checking with anyone. "
        "I need him to check capacity with the team before he commits."
    )
    assert d.request == "check capacity with the team before he commits"
    assert feedback_parts(d)["request"] == "check capacity with the team before you commit"
    assert feedback_parts(extract("Tendai committed the team to three features."))["request"] is None


def test_praise_draft() -> None:
    draft = _draft(
        "Yesterday Soo-ah walked the new starter through the release, and the starter shipped her first fix by lunch."
    )
    assert "you walked the new starter through the release" in draft
    assert "the starter shipped her first fix by lunch" in draft.lower()


def test_the_impact_falls_back_to_the_mentors_words_when_a_pronoun_is_unsure() -> None:
    d = extract("Hana cried after Grace criticised her plan in front of everyone. Grace is my mentee.")
    assert d.behavior_you is None  # "her plan": Hana's or Grace's?
    parts = feedback_parts(d)
    assert parts["behavior"] is None and parts["impact"] == "Hana cried"


@pytest.mark.parametrize(
    ("expected", "got", "match"),
    [
        ("During Tuesday's design review", "Tuesday's design review", True),
        ("Wei Chen", "Wei", True),
        ("kept cutting off the junior engineers", "kept cutting off the junior engineers and left", True),
        ("the client waited an hour", "the team was late", False),
        (None, None, True),
        (None, "this week", False),
    ],
)
def test_lenient_match(expected: str | None, got: str | None, match: bool) -> None:
    assert details_suite.matches(expected, got) is match


def test_wrong_attribution_is_caught() -> None:
    others = ["told me later", "has stopped sharing ideas"]
    bad = "You kept cutting off the junior engineers. One of you told me later that you have stopped sharing ideas."
    good = "You kept cutting off the junior engineers. One of them told me later that he has stopped sharing ideas."
    assert details_suite.wrong_attributions(bad, others) == others
    assert details_suite.wrong_attributions(good, others) == []


def test_the_labelled_set_is_large_varied_and_split() -> None:
    rows = [json.loads(line) for line in (REPO / "evals" / "datasets" / "details.jsonl").read_text().splitlines()]
    assert len(rows) >= 80
    splits = {r["split"] for r in rows}
    assert splits == {"dev", "test", "holdout"}
    assert sum(r["split"] == "holdout" for r in rows) >= 40
    assert sum(r["name"] is None for r in rows) >= 5 and sum(r["kind"] == "praise" for r in rows) >= 20
    assert sum(r["text"] == r["text"].lower() for r in rows) >= 5


def test_details_suite_meets_its_bounds(rt: Runtime) -> None:
    details_suite.register()
    cases, _ = details_suite.run(rt, load_dataset("details"))
    metrics = details_suite.compute(cases)
    assert metrics["wrong_attribution"] == 0, [c["draft"] for c in cases if c["wrong_attribution"]]
    # Floors just under today's measurement, so a regression fails here. The test split grew by 46 cases written
    # without looking at the parser's output (varied voices: lower case, non-native English, quotes, several people);
    # on it the issue's target of 0.90 is not reached for situation and behaviour yet (docs/evals.md).
    # The dev split grew by 150 rows written by someone who never saw the parser's output (names that are also
    # words, passive and lower-case voices, mixed praise and problems): on them the parser does worse than on the
    # rows it was tuned on, so dev now sits below the 0.90 it used to (docs/evals.md).
    dev_floor = {"name": 0.95, "situation": 0.80, "behavior": 0.84, "impact": 0.85, "request": 0.98}
    test_floor = {"name": 0.95, "situation": 0.83, "behavior": 0.88, "impact": 0.90, "request": 0.95}
    for field in details_suite.FIELDS:
        assert metrics[field] == metrics["test"][field]
        assert metrics["dev"][field] >= dev_floor[field], (field, metrics["dev"])
        assert metrics["test"][field] >= test_floor[field], (field, metrics["test"])
    # Praise or problem, by the tone classifier trained on dev (0.849 on test; the word count alone gave 0.733).
    assert metrics["praise_accuracy"] >= 0.80, metrics["test"]
