"""Situation matching on the real encoder and the shipped playbooks: the mentoring-or-not gate and neighbours.

The off-topic and mentoring questions here are written for these tests and appear nowhere in the gate's examples
(assistant/coaching/off_topic.yaml) nor in any playbook's `asked_as`; a test checks that they stay apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, make_settings

from assistant.coaching.matcher import (
    BEFORE_THE_EVENT,
    OFF_TOPIC,
    SETBACK,
    SituationMatcher,
    gate_examples,
    reports_event_gone_wrong,
    reports_only_success,
)
from assistant.coaching.playbooks import load_playbooks
from assistant.embedders import get_embedder
from assistant.offline import prepare_offline

OFF_TOPIC_QUESTIONS = [
    "How do I add a foreign key to an existing MySQL table?",
    "Which pasta shape goes best with a chunky sausage ragu?",
    "Is Porto or Seville better for a long weekend in March?",
    "Can I deduct my gym membership as a business expense?",
    "Could you render 'see you next week' in Dutch?",
    "What's the sum of the interior angles of a hexagon?",
    "Which country has hosted the Olympics the most times?",
    "How do I restart a systemd service that keeps failing?",
]
# Mentoring questions in wording the phrasings do not use: terse, misspelt, or about another trade's subject.
UNUSUAL_MENTORING = [
    "the apprentice i look after keeps skiving off site visits, how do i raise it",
    "new hire i'm buddying with seems lost, wat do i do",
    "My mentee, a sous chef, wants to open her own restaurant and I think it's too soon. Do I say so?",
    "How do I mentor a data engineer who wants to learn Kubernetes when I've never used it?",
    "menteee ghosting me for 3 weeks now",
    # Money and personal life: words the off-topic examples are full of, yet a mentoring question.
    "my mentee asked if she could borrow money from me to cover her rent this month",
]


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> SituationMatcher:
    settings = make_settings(tmp_path_factory.mktemp("matcher"))
    prepare_offline(settings.data_dir / "cache")
    files = sorted((REPO / "knowledge").glob("*.md"))
    playbooks = load_playbooks((path, f"knowledge/{path.name}") for path in files)
    return SituationMatcher(playbooks, get_embedder(settings), cache_dir=settings.data_dir / "cache")


def test_test_questions_are_not_training_examples(matcher: SituationMatcher) -> None:
    seen = {t.lower() for t in gate_examples()["off_topic"] + gate_examples()["mentoring"]}
    seen |= {t.lower() for b in matcher.playbooks for t in b.matching_texts()}
    assert not seen & {q.lower() for q in OFF_TOPIC_QUESTIONS + UNUSUAL_MENTORING}


@pytest.mark.parametrize("question", OFF_TOPIC_QUESTIONS)
def test_off_topic_questions_get_no_situation(matcher: SituationMatcher, question: str) -> None:
    matches = matcher.match(question)
    assert matches.off_topic >= OFF_TOPIC, matches.off_topic
    assert matches.confidence == "unsure" and matches.chosen() == []
    assert matches.ranked == []  # nothing offered as "closest" to a question that is not about mentoring


@pytest.mark.parametrize("question", UNUSUAL_MENTORING)
def test_mentoring_in_unusual_words_passes_the_gate(matcher: SituationMatcher, question: str) -> None:
    matches = matcher.match(question)
    assert matches.off_topic < OFF_TOPIC, matches.off_topic
    assert matches.ranked


def test_a_close_match_is_never_gated(matcher: SituationMatcher) -> None:
    """The gate only decides in the grey zone: a phrasing of a playbook is matched whatever the gate says."""
    book = matcher.playbooks[0]
    matches = matcher.match(book.asked_as[0])
    assert matches.top is not None and matches.top.playbook.id == book.id


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # The mentee is the one whose review comments hurt: style feedback, not helping them give feedback.
        (
            "my mentee's pull request comments are so cutting that people dread his reviews",
            "feedback-on-communication-style",
        ),
        # No event to prepare for: feedback on the work itself.
        (
            "the deck my mentee made has a wall of text on every slide, how do I say so",
            "feedback-on-a-draft-or-piece-of-work",
        ),
        # An event to prepare for: the presentation playbook.
        (
            "my mentee presents to the board on Thursday and wants a dry run with me",
            "helping-a-mentee-prepare-a-presentation",
        ),
        (
            "a junior colleague is reverse mentoring our SVP and asked me how to run the sessions",
            "reverse-mentoring-and-mentoring-across-levels",
        ),
        (
            "my mentee is a mid-level engineer whose long-term goal is head of engineering",
            "development-plans-and-milestones",
        ),
    ],
)
def test_neighbouring_situations_are_told_apart(matcher: SituationMatcher, question: str, expected: str) -> None:
    top = matcher.match(question).top
    assert top is not None and top.playbook.id == expected, [m.playbook.id for m in matcher.match(question).ranked]


def test_gate_is_cached_and_reused(matcher: SituationMatcher, tmp_path: Path) -> None:
    few = {b.id: b for b in matcher.playbooks[:6]}  # a small set keeps the two builds quick
    first = SituationMatcher(few, matcher.embedder, cache_dir=tmp_path)
    assert any(p.name.startswith("mentoring-gate-") for p in tmp_path.iterdir())
    again = SituationMatcher(few, matcher.embedder, cache_dir=tmp_path)
    question = OFF_TOPIC_QUESTIONS[0]
    assert first.match(question).off_topic == pytest.approx(again.match(question).off_topic)


@pytest.mark.parametrize(
    ("message", "good_news"),
    [
        ("My mentee got the role she wanted. How do we build on it?", True),
        ("He was promoted on Friday!!", True),
        ("She didn't get the role she wanted.", False),
        ("He got passed over again and he's gutted.", False),
        ("My mentee gets defensive when I give feedback.", False),  # no success reported
        ("She landed the job after being laid off in March.", False),  # both: the setback may still matter
    ],
)
def test_good_news_is_read_from_the_outcome_words(message: str, good_news: bool) -> None:
    assert reports_only_success(message) is good_news


def test_good_news_never_goes_to_a_setback_playbook(matcher: SituationMatcher) -> None:
    """The encoder barely separates "got the promotion" from "missed the promotion"; the outcome words do."""
    good = matcher.match("My mentee finally got the promotion we'd been working towards. What should we focus on now?")
    assert all(SETBACK not in m.playbook.tags for m in good.ranked)
    bad = matcher.match("My mentee missed out on the promotion we'd been working towards. What should we focus on now?")
    assert SETBACK in bad.ranked[0].playbook.tags


@pytest.mark.parametrize(
    ("message", "gone_wrong"),
    [
        ("Her pitch to the investors went really badly on Tuesday.", True),
        ("The panel turned him down after the second round.", True),
        ("She didn't get the fellowship she applied for.", True),
        ("His first interview went badly and the next one is tomorrow.", False),  # another round ahead
        ("She doesn't know how to structure her slides.", False),  # a negation is not an outcome
        ("He has a big interview on Friday.", False),
    ],
)
def test_an_event_gone_wrong_is_read_from_the_outcome_words(message: str, gone_wrong: bool) -> None:
    assert reports_event_gone_wrong(message) is gone_wrong


def test_after_an_event_went_wrong_its_preparation_does_not_lead(matcher: SituationMatcher) -> None:
    """Preparing a presentation and debriefing one that bombed share every content word."""
    before = matcher.match("My mentee has a big presentation to the board next month. How do I help her prepare?")
    assert BEFORE_THE_EVENT in before.ranked[0].playbook.tags
    after = matcher.match("My mentee's board presentation went badly this morning. What do I say to her?")
    assert BEFORE_THE_EVENT not in after.ranked[0].playbook.tags
