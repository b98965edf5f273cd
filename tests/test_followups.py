"""Follow-up routing: the kind of turn a follow-up is, the candidates the chooser weighs, and where real
follow-ups go on the shipped playbooks and the trained weights.

The follow-ups here are written for these tests; none is in evals/datasets/conversations.jsonl, whose dev split
the chooser is trained on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.coaching.followups import (
    FollowUpChooser,
    candidate_ids,
    feature_names,
    outcome,
    part_asked,
    turn_cues,
)
from assistant.coaching.matcher import SETBACK
from assistant.coaching.passing_on import asks_about_passing_on
from assistant.coaching.train_followups import next_state, training_conversations
from assistant.coaching.understanding import ConversationState, Understanding, items_wanted, step_asked
from assistant.evals.datasets import DATASET_DIR
from assistant.runtime import Runtime
from assistant.understanding.message import readable_text


@pytest.mark.parametrize(
    ("message", "cue"),
    [
        ("update: the panel picked him", "news"),
        ("they offered the contract to another agency", "news"),
        ("ok so how should I raise it on Monday?", "how_to"),
        ("what do I say when she walks in?", "how_to"),
        ("he told me he's already got another offer", "mentee_reported"),
        ("honestly I'm not sure I'm the right person for this", "mentor_self"),
        ("and what if he storms out?", "reaction"),
    ],
)
def test_a_follow_up_shows_what_kind_of_turn_it_is(message: str, cue: str) -> None:
    assert turn_cues(message)[cue] == 1.0


@pytest.mark.parametrize("message", ["how long should our sessions be?", "can you make it warmer"])
def test_a_plain_question_reports_no_news(message: str) -> None:
    assert turn_cues(message)["news"] == 0.0 and outcome(message) is None


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("update: she passed her probation!!", "success"),
        ("news: they didn't take him on after the trial", "setback"),
        ("she asked whether she should apply", None),
        ("the pitch went really well! how do I tell her", "success"),
        ("they let her go on Friday", "setback"),
        ("hope the interview goes well tomorrow", None),
    ],
)
def test_news_tells_of_a_success_or_a_setback(message: str, kind: str | None) -> None:
    assert outcome(message) == kind


def test_the_shipped_weights_fit_the_features() -> None:
    """Changing a feature without retraining would score candidates with weights meant for other columns."""
    chooser = FollowUpChooser.load()
    assert chooser is not None and chooser.weights.shape == (len(feature_names()),)


def test_training_never_reads_a_test_conversation(tmp_path: Path) -> None:
    paths = []
    for name, splits in (("conversations", ("dev", "test", "dev")), ("conversations_train", ("train", "test"))):
        path = tmp_path / f"{name}.jsonl"
        rows = [{"turns": ["a", "b"], "expected_topics": [["trust"], ["trust"]], "split": s} for s in splits]
        path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
        paths.append(path)
    assert [r["split"] for r in training_conversations(*paths)] == ["dev", "dev", "train"]


def test_the_training_conversations_are_a_valid_dataset_of_known_playbooks(rt: Runtime) -> None:
    rows = training_conversations(DATASET_DIR / "conversations_train.jsonl")
    assert len(rows) >= 100 and {r["split"] for r in rows} == {"train"}
    named = {i for r in rows for turn in r["expected_playbooks"] for i in turn}
    assert named <= set(rt.understanding.playbooks)


def _route(understanding: Understanding, turns: list[str]) -> list[str | None]:
    """The first playbook each turn is answered from, the state carried as the coach carries it."""
    state, routed = ConversationState(), []
    for message in turns:
        reading = understanding.read(message, state)
        routed.append(reading.playbooks[0].id if reading.understood else None)
        state = next_state(understanding, state, message, reading)
    return routed


def test_news_of_a_setback_brings_a_setback_playbook_among_the_candidates(rt: Runtime) -> None:
    understanding = rt.understanding
    first = "My mentee Tanvir has been shortlisted for a team lead post in our Leeds office."
    state = next_state(understanding, ConversationState(), first, understanding.read(first, ConversationState()))
    message = readable_text("update: the post went to someone from another region")
    readings = understanding.follow_up_readings(message, state)
    previous = [understanding.playbooks[i] for i in state.playbook_ids]
    ids = candidate_ids(message, readings, previous, understanding.playbooks)
    assert any(SETBACK in understanding.playbooks[i].tags for i in ids)


def test_follow_ups_move_for_news_and_reactions_and_stay_otherwise(rt: Runtime) -> None:
    understanding = rt.understanding
    news = _route(
        understanding,
        [
            "My mentee Priya applied for the head of design role last month.",
            "update: they gave the role to someone from outside",
        ],
    )
    assert news[1] in ("when-a-mentee-is-passed-over-for-promotion", "supporting-a-mentee-through-setbacks")
    reaction = _route(
        understanding,
        ["I have to tell my mentee Sam that his project is being cancelled.", "how do I open it?", "what if he cries?"],
    )
    assert reaction[0] == "delivering-bad-news" and reaction[2] == "when-your-mentee-cries-or-gets-upset"
    stays = _route(
        understanding,
        ["My mentee Ada keeps missing the deadlines on her weekly reports.", "what else should I keep in mind?"],
    )
    assert stays == ["feedback-on-missed-deadlines", "feedback-on-missed-deadlines"]


@pytest.mark.parametrize(
    ("first", "news"),
    [
        ("My mentee Efua is preparing for a panel interview for a ward sister post next Tuesday.", "she got it!!"),
        ("Kwame, who I mentor, is nervous about defending his thesis chapter to the review board.", "he passed!"),
    ],
)
def test_news_of_a_success_moves_the_thread_to_recognition(rt: Runtime, first: str, news: str) -> None:
    """Whatever the thread was preparing for, "she got it!!" asks how to recognise the success."""
    understanding = rt.understanding
    state = next_state(understanding, ConversationState(), first, understanding.read(first, ConversationState()))
    assert understanding.playbooks[state.playbook_ids[0]].need != "praise"
    reading = understanding.read(news, state)
    assert reading.playbooks[0].need == "praise", reading.playbooks[0].id


@pytest.mark.parametrize(
    ("first", "news"),
    [
        (
            "My mentee Bongani is preparing for an interview for a site manager job next week.",
            "update: he didn't get it",
        ),
        ("Ines wants help putting together her case for promotion to principal.", "news: they promoted someone else"),
    ],
)
def test_news_of_a_setback_moves_the_thread_to_support(rt: Runtime, first: str, news: str) -> None:
    """Whatever the thread was preparing for, "he didn't get it" asks how to support the mentee through it."""
    understanding = rt.understanding
    state = next_state(understanding, ConversationState(), first, understanding.read(first, ConversationState()))
    assert SETBACK not in understanding.playbooks[state.playbook_ids[0]].tags
    reading = understanding.read(news, state)
    assert SETBACK in reading.playbooks[0].tags, reading.playbooks[0].id


@pytest.mark.parametrize(
    ("first", "reaction", "expected"),
    [
        (
            "I have to talk to my mentee Hana about the bugs that keep slipping through her code reviews.",
            "when I mentioned it she blamed the QA team for not catching them",
            "mentee-who-blames-others",
        ),
        (
            "My mentee Tobi keeps turning up late to client calls and I need to raise it.",
            "I raised it yesterday and he got really angry with me",
            "when-your-mentee-gets-defensive-or-angry",
        ),
    ],
)
def test_a_reaction_the_mentee_already_had_moves_the_thread_to_that_moment(
    rt: Runtime, first: str, reaction: str, expected: str
) -> None:
    """ "When I raised it he got angry" is about the anger, as "what if he gets angry?" is, and is no news of a
    setback ("angry" is a setback word)."""
    understanding = rt.understanding
    state = next_state(understanding, ConversationState(), first, understanding.read(first, ConversationState()))
    assert state.playbook_ids[0] != expected
    assert understanding.read(reaction, state).playbooks[0].id == expected


def test_the_mentees_own_conversation_ahead_moves_the_thread_to_preparing_it(rt: Runtime) -> None:
    """After a thread about what happened to the mentee, "he wants to push back; help him get ready" asks how to
    help the mentee prepare their own conversation."""
    understanding = rt.understanding
    first = "My mentee Kofi says his team lead gives every client-facing task to the same two people."
    state = next_state(understanding, ConversationState(), first, understanding.read(first, ConversationState()))
    assert understanding.playbooks[state.playbook_ids[0]].need != "prepare"
    reading = understanding.read("he wants to push back on it at their one-to-one. how do I help him get ready?", state)
    assert reading.playbooks[0].need == "prepare", reading.playbooks[0].id


@pytest.mark.parametrize(
    ("request_text", "count"),
    [
        ("make that shorter, I just want three bullet points", 3),
        ("shorter please, 2 lines max", 2),
        ("can you give me the top five tips", 5),
        ("make it shorter", None),
        ("in fewer words please", None),
    ],
)
def test_an_edit_says_how_many_items_it_wants(request_text: str, count: int | None) -> None:
    assert items_wanted(request_text) == count


@pytest.mark.parametrize(
    ("request_text", "step"),
    [
        ("can you say more about the second step?", 2),
        ("what do you mean by point 3", 3),
        ("expand on the last one please", -1),
        ("how do I do step 1?", 1),
        ("the second step feels harsh", None),  # an opinion on a step, not a request to open it up
        ("tell me more about her", None),
    ],
)
def test_an_edit_names_the_step_it_asks_about(request_text: str, step: int | None) -> None:
    assert step_asked(request_text) == step


@pytest.mark.parametrize(
    ("request_text", "part"),
    [
        ("what questions could I ask him?", "questions"),
        ("what should I ask her first?", "questions"),
        ("what should I avoid saying?", "cautions"),
        ("any pitfalls?", "cautions"),
        ("sum it up in one sentence", "summary"),
        ("what's the bottom line?", "summary"),
        ("what questions would help her decide?", "questions"),
        ("she's asking what questions the panel will ask", None),  # the mentee's question, not what to ask her
        ("what if she asks why?", None),
        ("how do I open the conversation?", None),
    ],
)
def test_a_follow_up_names_the_part_of_the_guidance_it_wants(request_text: str, part: str | None) -> None:
    assert part_asked(request_text) == part


@pytest.mark.parametrize(
    ("message", "passing_on"),
    [
        ("should I tell his manager so they go easy on him?", True),
        ("do i have to tell HR?", True),
        ("would it be ok to share this with her supervisor?", True),
        ("his manager is asking me how he's doing", True),
        ("she made me promise not to tell anyone", True),
        ("he wants me to keep it between us", True),
        ("should I tell her it went well?", False),  # the mentee hears it
        ("should I also mention it at the team meeting?", False),  # where, not to whom
        ("a colleague asked me to dinner to talk about careers", False),  # not asking about the mentee
        ("what should I tell him?", False),
    ],
)
def test_a_follow_up_about_passing_on_what_the_mentee_shared_is_recognised(message: str, passing_on: bool) -> None:
    assert asks_about_passing_on(message) is passing_on
