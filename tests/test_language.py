"""A question in another language gets a short reply asking for English, never a stitched English answer; an
English message with foreign names, or a word or two, stays English (py3langid, offline)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

from assistant.runtime import Runtime
from assistant.understanding.language import is_english


@pytest.mark.parametrize(
    "text",
    [
        "¿Cómo le digo a mi mentee que sus informes son demasiado largos?",
        "Mein Mentee kommt immer zu spät. Was soll ich tun?",
        "Comment donner un retour à ma mentorée sans la blesser ?",
        "Minha mentorada está sempre atrasada, o que faço?",
        "我的学员总是迟到，我该怎么办？",
        "Мой подопечный всё время опаздывает. Что делать?",
    ],
)
def test_other_languages_are_recognised(text: str) -> None:
    assert not is_english(text)


@pytest.mark.parametrize(
    "text",
    [
        "help",
        "Priya",
        "make it shorter",
        "My mentee Ngozi Okonkwo-Adebayo keeps updating the kaizen board late.",
        "Sipho joins our calls with his camera off and barely speaks.",
        "what if she says no?",
    ],
)
def test_english_with_foreign_names_or_few_words_stays_english(text: str) -> None:
    assert is_english(text)


def test_a_question_in_spanish_gets_the_ask_for_english(tmp_path: Path, built_dir: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    rt = Runtime(make_settings(data))
    answer = rt.coach.ask("¿Cómo doy feedback a mi mentee que llega tarde a las reuniones?")
    assert answer.abstained and answer.answer.startswith("I can only coach in English for now")
    assert "**What to do**" not in answer.answer and not answer.sources


@pytest.mark.parametrize("message", ["Priya", "help", "I need advice", "quick question about my mentee"])
def test_a_message_with_no_situation_yet_gets_a_question_not_guidance(rt: Runtime, message: str) -> None:
    """A name, a word, or only a request for help: what to tell the coach and one question, with no tips and no
    list of 'closest' situations (close to nothing in particular, they would be noise)."""
    answer = rt.coach.ask(message, persist=False)
    assert answer.abstained and answer.answer.startswith("Tell me a little more")
    assert not answer.extras["closest"] and "**What to do**" not in answer.answer and not answer.sources


def test_a_short_message_with_a_situation_is_answered(rt: Runtime) -> None:
    answer = rt.coach.ask("My mentee cries", persist=False)
    assert not answer.abstained and answer.extras["playbooks"] == ["when-your-mentee-cries-or-gets-upset"]
