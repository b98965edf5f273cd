"""Who did what to whom: the parse's reading of the act steers the situation and the kind of help.

The encoder hears "shouted" or "belittled" and cannot tell whether the mentee did it or had it done to them; the
parse can. The messages here are written for these tests and appear in no playbook's `asked_as`.
"""

from __future__ import annotations

import pytest

from assistant.coaching.playbooks import Playbook
from assistant.coaching.understanding import CONDUCT, MISTREATMENT, ConversationState
from assistant.runtime import Runtime
from assistant.understanding import parse

ON_THE_RECEIVING_END = [
    "I mentor a nurse who was just shouted at by a surgeon in front of a patient. She wants to let it go.",
    "A senior engineer keeps belittling my mentee in code reviews.",
    "Her manager yelled at her in front of the whole team yesterday.",
    "Jonas, my mentee, was ridiculed by two colleagues in the planning meeting.",
    "My apprentice says the site foreman picks on him every single day.",
    "My mentee keeps getting talked over whenever the directors are in the room.",
    "Her team lead rewrites her slides and presents them as his own work.",
    "My mentee Lena says her designs keep getting dismissed by the senior architect.",
]
DOING_IT_THEMSELVES = [
    "My mentee shouted at a junior colleague in the sprint review.",
    "Ravi snapped at the client during the demo.",
    "I mentor a graduate who keeps talking over the quieter people on her team.",
    "I raised my voice at my mentee yesterday and I regret it.",
    "My mentee gets flustered whenever the directors ask her a question.",
    "Two of the analysts I mentor told me they are fed up with the rota.",
    "Her draft was reviewed by me on Friday and it needs another pass.",
]


@pytest.mark.parametrize("message", ON_THE_RECEIVING_END)
def test_an_act_done_to_the_mentee_is_read_as_such(message: str) -> None:
    assert parse(message).on_receiving_end


@pytest.mark.parametrize("message", DOING_IT_THEMSELVES)
def test_the_mentees_own_acts_and_the_mentors_are_not(message: str) -> None:
    assert not parse(message).on_receiving_end


@pytest.mark.parametrize(
    "message",
    [
        "I mentor a nurse who was just shouted at by a surgeon in front of a patient. Should I push her to report it?",
        "A senior engineer keeps belittling my mentee in code reviews. What can I do?",
        "Her manager yelled at her in front of the whole team yesterday. How do I support her?",
        "My mentee's new manager takes all her ideas and presents them as his own. How can I help?",
    ],
)
def test_a_mistreated_mentee_is_not_coached_on_their_own_conduct(rt: Runtime, message: str) -> None:
    reading = rt.understanding.read(message, ConversationState())
    assert reading.playbooks and CONDUCT not in reading.playbooks[0].tags
    assert MISTREATMENT in reading.playbooks[0].tags


@pytest.mark.parametrize(
    "message",
    [
        "My mentee shouted at a junior colleague in the sprint review. How do I raise it?",
        "I mentor an analyst who interrupts everyone and dominates meetings. How do I raise it?",
        "My mentee keeps cutting people off in stand-ups. How do I bring it up?",
        # Done to the mentor or to the work rather than to people: still the mentee's own conduct.
        "My mentee presented my idea as his own in the leadership meeting. I'm annoyed. How do I raise it?",
    ],
)
def test_the_mentees_own_conduct_keeps_its_playbook(rt: Runtime, message: str) -> None:
    reading = rt.understanding.read(message, ConversationState())
    assert reading.playbooks and CONDUCT in reading.playbooks[0].tags


@pytest.mark.parametrize(
    ("message", "acted"),
    [
        ("My mentee keeps cutting people off in stand-ups.", True),
        ("Ana snapped at a customer during the handover.", True),
        ("My mentee says her supervisor keeps calling her 'sweetheart'.", False),  # she reports, he acts
        ("My mentee keeps getting talked over in meetings.", False),
        ("My mentee finished the migration a week early.", False),  # an act, but on no one
    ],
)
def test_an_act_of_the_mentee_on_other_people_is_read_as_such(message: str, acted: bool) -> None:
    assert parse(message).acted_on_others is acted


def test_a_word_counts_once_when_praise_and_a_problem_are_weighed() -> None:
    # "great" is its own lemma; counted as lemma and as word it used to outweigh "interrupting".
    assert parse("Priya did a great demo but kept interrupting the client.").is_praise is not True


def test_praise_read_by_the_situation_and_the_parse_gets_praise(rt: Runtime) -> None:
    message = (
        "Gabriel presented our quarterly numbers to the exec team and fielded tough questions really calmly. "
        "I want to tell him it was great."
    )
    reading = rt.understanding.read(message, ConversationState())
    assert reading.need == "praise" and reading.playbooks[0].need == "praise"


def test_mixed_praise_and_a_problem_gets_feedback(rt: Runtime) -> None:
    reading = rt.understanding.read(
        "Priya did a great demo but kept interrupting the client. I want to give her feedback.", ConversationState()
    )
    assert reading.need == "feedback" and reading.playbooks[0].need != "praise"


def _first_playbook_for_news(rt: Runtime, message: str) -> Playbook:
    """The parse reads the message as news the mentor still has to give; the playbook the coach answers from."""
    assert parse(message).is_news
    return rt.understanding.read(message, ConversationState()).playbooks[0]


def test_news_the_mentor_must_give_is_a_conversation_not_praise(rt: Runtime) -> None:
    """The encoder hears a setback and leans to recognising the effort; the parse reads news still to be told."""
    message = (
        "I need to tell Marco, a junior designer I mentor, that the client rejected his logo concept and we're "
        "going with another designer's. He was really proud of it."
    )
    first = _first_playbook_for_news(rt, message)
    assert first.need == "conversation", first.id


def test_news_the_mentee_has_not_heard_is_told_not_coped_with(rt: Runtime) -> None:
    """The encoder hears a reorganisation and offers helping a mentee cope with one; the parse reads news the
    mentor still has to give, so the answer is how to tell him."""
    message = (
        "My mentee Omar is being moved to another team in the reorganisation and doesn't know yet. "
        "I have to tell him Monday."
    )
    assert _first_playbook_for_news(rt, message).id == "delivering-bad-news"


def test_a_mentee_coping_with_change_they_know_about_keeps_the_advice(rt: Runtime) -> None:
    message = (
        "My mentee's team is being reorganised and she's anxious about what it means for her. How do I support her?"
    )
    reading = rt.understanding.read(message, ConversationState())
    assert reading.playbooks[0].id == "helping-a-mentee-through-change-or-reorganisation"


def test_a_habit_is_not_praised(rt: Runtime) -> None:
    """ "Volunteering" reads as praise to the word lists and the tone classifier; a habit that is crowding out the
    mentee's own project is a problem to work on, never recognition with a thank-you."""
    message = (
        "My mentee keeps volunteering for every committee and her actual project is slipping. "
        "How do I get her to focus?"
    )
    reading = rt.understanding.read(message, ConversationState())
    assert reading.playbooks[0].need != "praise" and reading.need != "praise", reading.playbooks[0].id


@pytest.mark.parametrize(
    "message",
    [
        "I need to give feedback to my mentee Tunde about how he runs his team meetings.",
        "mentee asked me to pass her the questions for the panel interview I'm sitting on. how do I say no nicely",
    ],
)
def test_when_the_mentor_is_the_one_to_speak_the_answer_is_not_how_the_mentee_prepares(
    rt: Runtime, message: str
) -> None:
    """The encoder hears feedback or an interview and offers helping a mentee prepare their own; the mentor is
    the one who has to speak here (the feedback, or a no to the favour: bending the rules or the conflict of
    interest of sitting on the panel)."""
    reading = rt.understanding.read(message, ConversationState())
    assert reading.playbooks[0].need != "prepare", reading.playbooks[0].id


def test_when_the_mentee_is_the_one_to_speak_the_answer_is_how_they_prepare(rt: Runtime) -> None:
    """The encoder hears a late report and offers the mentor's feedback on deadlines; the mentee is the one who has
    to speak, and the mentor helps them get ready."""
    message = (
        "Tomasz, a junior analyst I mentor, has to tell the client that their launch date is slipping. "
        "He asked me to help him work out what to say."
    )
    reading = rt.understanding.read(message, ConversationState())
    assert reading.playbooks[0].need == "prepare", reading.playbooks[0].id


def test_news_of_a_promotion_with_a_question_about_the_new_role_is_not_praise(rt: Runtime) -> None:
    """ "Got promoted" reads as good news, but the mentor asks what to work on in the new role, and no praise
    playbook is close to that."""
    message = (
        "Ngozi has just been promoted to team leader at the call centre and now manages the agents she used to "
        "sit with. It's our first 1:1 since. What should we focus on?"
    )
    reading = rt.understanding.read(message, ConversationState())
    assert reading.playbooks[0].need != "praise", reading.playbooks[0].id
