"""Quick answers: a playbook's one-line answers to the direct questions mentors ask in its situation, read from
its 'Quick answers' section and said first when the mentor asks one of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO

from assistant.coaching.playbooks import parse_playbook, playbook_problems, quick_answers
from assistant.ingestion.ingestor import first_wordings
from assistant.runtime import Runtime
from assistant.understanding.questions import direct_questions

GRIEF = REPO / "knowledge" / "supporting-a-grieving-mentee.md"


def test_quick_answers_are_read_as_question_and_answer() -> None:
    found = quick_answers("- **Should I cancel?** Not on their behalf: ask them.\n- **Is it OK to wait?** Yes.\n")
    assert [(a.question, a.answer) for a in found] == [
        ("Should I cancel?", "Not on their behalf: ask them."),
        ("Is it OK to wait?", "Yes."),
    ]


def test_other_wordings_of_a_quick_answer_are_kept_for_matching_and_not_shown() -> None:
    (found,) = quick_answers("- **Should I own up? / Do I admit I got it wrong?** Yes, and soon.\n")
    assert found.question == "Should I own up?" and found.answer == "Yes, and soon."
    assert found.phrasings == ("Should I own up?", "Do I admit I got it wrong?")


def test_the_index_and_the_sources_show_only_the_first_wording(rt: Runtime) -> None:
    assert first_wordings("- **Should I own up? / Do I admit it?** Yes / no?") == "- **Should I own up?** Yes / no?"
    chunks, _, _ = rt.store.all_records()
    shown = [line for c in chunks for line in c.text.splitlines() if re.match(r"- \*\*[^*]+\? / ", line)]
    assert not shown, shown[:3]


def test_a_quick_answer_in_another_shape_is_a_problem_not_silently_dropped(tmp_path: Path) -> None:
    text = GRIEF.read_text(encoding="utf-8").replace("- **Should I cancel our next session?**", "- Should I cancel?")
    broken = tmp_path / GRIEF.name
    broken.write_text(text, encoding="utf-8")
    book = parse_playbook(broken, broken.name)
    assert book is not None
    assert any("Quick answers" in problem for problem in playbook_problems(book, set(book.related)))


@pytest.mark.parametrize(
    ("message", "asked", "closed"),
    [
        ("We meet next week. Should I cancel or keep it?", ["Should I cancel or keep it?"], [True]),
        ("my mentee is always late, should i say something when he walks in", ["should i say something"], [True]),
        ("He went quiet after my feedback. How do I raise it?", ["How do I raise it?"], [False]),
        ("She told me she is leaving. I was surprised.", [], []),
    ],
)
def test_direct_questions_are_found_sentence_by_sentence(message: str, asked: list[str], closed: list[bool]) -> None:
    found = direct_questions(message)
    assert [q.text[: len(a)] for q, a in zip(found, asked, strict=False)] == asked and len(found) == len(asked)
    assert [q.closed for q in found] == closed


def test_the_context_of_a_short_question_is_the_sentence_before_it() -> None:
    (question,) = direct_questions("My mentee asked me for a reference. Is it OK?")
    assert question.context == "My mentee asked me for a reference. Is it OK?"


def test_a_direct_question_gets_the_playbooks_answer_first_and_cited(rt: Runtime) -> None:
    book = parse_playbook(GRIEF, GRIEF.name)
    assert book is not None
    expected = next(a for a in book.answers if "cancel" in a.question.lower())
    answer = rt.coach.ask(
        "My mentee's father died on Sunday and our monthly session is on Thursday. Should I cancel it?", persist=False
    )
    assert answer.extras["playbooks"] == ["supporting-a-grieving-mentee"]
    first = answer.answer.split("\n\n")[0]
    assert first.startswith(f"**{expected.question}** {expected.answer}")
    cited = int(re.findall(r"\[(\d+)\]", first)[-1])
    assert answer.sources[cited - 1].heading.endswith("Quick answers")


@pytest.mark.parametrize(
    "question",
    [
        "My mentee's father died on Sunday. How do I support her when she comes back?",  # asks how, not whether
        "My mentee lost his father last month. What should we talk about on Thursday?",
    ],
)
def test_a_how_to_question_gets_the_plan_without_a_verdict(rt: Runtime, question: str) -> None:
    answer = rt.coach.ask(question, persist=False)
    book_id = "supporting-a-grieving-mentee"
    assert answer.extras["playbooks"] == [book_id]
    assert not any(f"**{a.question}**" in answer.answer for a in rt.understanding.playbooks[book_id].answers)


def test_a_new_answer_opens_with_the_playbooks_bottom_line_cited(rt: Runtime) -> None:
    """ "How do I respond?" is answered first with what to do, not with a formula or background."""
    answer = rt.coach.ask(
        "My mentee says she has imposter syndrome and wants to turn down a stretch project. How do I respond?",
        persist=False,
    )
    book = rt.understanding.playbooks[answer.extras["playbooks"][0]]
    assert book.id == "mentee-with-imposter-syndrome"
    first = answer.answer.split("\n\n")[0]
    assert first.startswith(f"**In short:** {book.in_short}")
    cited = int(re.findall(r"\[(\d+)\]", first)[-1])
    assert answer.sources[cited - 1].heading.endswith("In short")
    assert "Here is how I would approach this" not in answer.answer


def test_a_quick_answer_that_says_the_bottom_line_is_not_followed_by_it_again(rt: Runtime) -> None:
    """ "Should I say something?" gets "Raise it…" once: the playbook's bottom line says the same and is left out;
    a quick answer on another decision ("Should I cancel?") keeps the bottom line after it."""
    same = rt.coach.ask("My mentee never prepares anything for our sessions. Should I say something?", persist=False)
    assert same.answer.startswith("**Should I raise it") and "**In short:**" not in same.answer
    other = rt.coach.ask(
        "My mentee's father died on Sunday and our monthly session is on Thursday. Should I cancel it?", persist=False
    )
    assert "**In short:**" in other.answer.split("\n\n")[1]
