"""Practice role-play: tension dynamics, determinism, question counting, debrief, persistence, data integrity."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
import yaml

from assistant.practice import BANDS, PERSONAS, SCENARIOS, PracticeSession, band_for

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"

JUDGMENTAL = "Honestly, you're lazy and you always leave things to the last minute."
CALMING = "I can see this has been a really frustrating few weeks. What has been getting in the way?"


def title_lookup(query: str) -> list[tuple[str, str]]:
    """A real, tiny guidance source: knowledge files whose title shares at least two words with the query."""
    words = set(re.findall(r"[a-z]+", query.lower())) - {"a", "the", "in", "with", "and", "of", "not"}
    hits = []
    for path in sorted(KNOWLEDGE.glob("*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        title = str(front["title"])
        if len(words & set(re.findall(r"[a-z]+", title.lower()))) >= 2:
            hits.append((title, f"knowledge/{path.name}"))
    return hits[:2]


def test_catalogue_has_required_personas_and_scenarios() -> None:
    assert set(PERSONAS) == {"defensive", "quiet", "overwhelmed", "over-confident", "upset"}
    assert len(SCENARIOS) >= 6
    for scenario in SCENARIOS.values():
        assert scenario.title and scenario.brief and scenario.topic
        for persona_id in PERSONAS:
            assert scenario.opening_for(persona_id)


def test_reply_sets_are_varied_and_complete() -> None:
    for persona in PERSONAS.values():
        for band in BANDS:
            replies = persona.replies[band]
            assert len(replies) >= 6, (persona.id, band)
            assert len(set(replies)) == len(replies), (persona.id, band)
            for line in replies:
                assert "{" not in line.replace("{topic}", ""), line


def test_bands() -> None:
    assert [band_for(t) for t in range(5)] == ["low", "low", "mid", "high", "high"]


def test_tension_rises_with_judgmental_messages() -> None:
    session = PracticeSession("missed-deadlines", "defensive")
    start = session.tension
    first = session.reply(JUDGMENTAL)
    assert first.tension > start
    assert session.transcript[-2].signals["judgmental"] and session.transcript[-2].signals["absolute"]
    session.reply("You never listen and everyone has noticed how careless you are.")
    assert session.tension == 4
    assert first.text in PERSONAS["defensive"].reactions["judgmental"] or any(
        line in first.text for line in PERSONAS["defensive"].replies["high"]
    )


def test_tension_falls_with_open_questions_and_acknowledgement() -> None:
    session = PracticeSession("project-cancelled", "upset")
    assert session.tension == 3
    turn = session.reply(CALMING)
    signals = session.transcript[-2].signals
    assert signals["open_question"] and signals["acknowledged_feelings"] and not signals["judgmental"]
    assert turn.tension < 3
    session.reply("How would you like to use our time today?")
    assert session.tension <= 1
    assert band_for(session.tension) == "low"


def test_specific_feedback_lowers_tension_for_defensive_mentee() -> None:
    session = PracticeSession("presentation-feedback", "defensive")
    session.reply(
        "In yesterday's review you spent twenty minutes on background, so the directors left before the "
        "recommendation."
    )
    assert session.transcript[-2].signals["specific"]
    assert session.tension == PERSONAS["defensive"].start_tension - 1


def test_quiet_mentee_answers_closed_questions_briefly() -> None:
    session = PracticeSession("teammate-conflict", "quiet")
    turn = session.reply("Did the meeting on Tuesday go badly?")
    assert turn.text in PERSONAS["quiet"].reactions["closed_question"]


def test_same_inputs_give_same_replies() -> None:
    messages = [CALMING, "Did you tell anyone?", JUDGMENTAL, "Tell me more about what happened."]

    def run(session_id: str) -> list[str]:
        session = PracticeSession("client-complaint", "overwhelmed", session_id)
        return [session.opening()] + [session.reply(m).text for m in messages]

    assert run("s-1") == run("s-1")
    assert run("s-1") != run("s-2")


def test_replies_do_not_repeat_back_to_back() -> None:
    session = PracticeSession("wants-to-quit", "over-confident", "rep")
    texts = [session.reply("Okay.").text for _ in range(6)]
    assert all(a != b for a, b in itertools.pairwise(texts))


def test_scenario_details_come_out_with_open_questions() -> None:
    session = PracticeSession("promotion-not-granted", "over-confident", "d")
    replies = " ".join(session.reply(q).text for q in ("What happened?", "How did that feel?", "What else?"))
    assert any(detail in replies for detail in SCENARIOS["promotion-not-granted"].details)


def test_question_counting_and_debrief_counts() -> None:
    session = PracticeSession("missed-deadlines", "quiet", "count")
    session.reply("What made the last sprint hard? How did the estimates get set?")
    session.reply("Did you ask anyone for help?")
    session.reply("Walk me through Tuesday.")
    session.reply("You finished the tests, right?")
    debrief = session.debrief()
    assert debrief.open_questions == 3
    assert debrief.closed_questions == 2
    assert debrief.acknowledgements == 0
    assert debrief.judgmental_phrases == []
    assert debrief.final_tension == session.tension


def test_debrief_names_labels_and_cites_guidance() -> None:
    session = PracticeSession("missed-deadlines", "defensive", "debrief")
    session.opening()
    session.reply(JUDGMENTAL)
    session.reply("Did you even try?")
    session.reply("You need to be more professional.")
    queries: list[str] = []

    def guidance(query: str) -> list[tuple[str, str]]:
        queries.append(query)
        return title_lookup(query)

    debrief = session.debrief(guidance)
    assert debrief.judgmental_phrases[:2] == ["lazy", "always"]
    assert debrief.open_questions == 0
    assert any("labels" in item and "'lazy'" in item for item in debrief.to_change)
    assert any("open questions" in item for item in debrief.to_change)
    assert any("open questions" in q and "defensive" in q for q in queries)
    assert ("Describing behavior, not personality", "knowledge/describing-behavior-not-personality.md") in (
        debrief.guidance
    )
    markdown = debrief.as_markdown()
    assert "## Practice debrief" in markdown and "### What to change" in markdown
    assert "[1] " in markdown and "(knowledge/" in markdown
    assert debrief.feedback_scores and max(debrief.feedback_scores) < 75


def test_debrief_praises_what_went_well() -> None:
    session = PracticeSession("project-cancelled", "upset", "well")
    session.reply(CALMING)
    session.reply("What would help you most over the next couple of weeks?")
    session.reply("Could we agree to meet on Friday and look at options for your next project?")
    debrief = session.debrief()
    assert debrief.acknowledgements >= 1
    assert any(item.startswith("You asked 2 open question") for item in debrief.went_well)
    assert any("acknowledged" in item for item in debrief.went_well)
    assert any("Tension came down" in item for item in debrief.went_well)
    assert not any("labels" in item for item in debrief.to_change)
    assert debrief.guidance == []


def test_round_trip_through_dict_continues_identically() -> None:
    original = PracticeSession("teammate-conflict", "defensive", "rt")
    original.opening()
    original.reply(JUDGMENTAL)
    original.reply(CALMING)
    saved = json.loads(json.dumps(original.to_dict()))
    restored = PracticeSession.from_dict(saved)
    assert restored.to_dict() == original.to_dict()
    assert restored.reply("What would you like Jordan to know?").text == original.reply(
        "What would you like Jordan to know?"
    ).text
    assert restored.tension == original.tension


def test_from_dict_rejects_malformed_data() -> None:
    with pytest.raises(ValueError, match="malformed"):
        PracticeSession.from_dict({"scenario_id": "missed-deadlines"})


def test_unknown_ids_list_valid_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown scenario 'nope'.*missed-deadlines"):
        PracticeSession("nope", "quiet")
    with pytest.raises(ValueError, match=r"unknown persona 'shy'.*over-confident"):
        PracticeSession("missed-deadlines", "shy")


def test_empty_message_is_rejected_clearly() -> None:
    session = PracticeSession("missed-deadlines", "quiet")
    with pytest.raises(ValueError, match="empty"):
        session.reply("   ")


def test_opening_is_recorded_once() -> None:
    session = PracticeSession("wants-to-quit", "quiet")
    assert session.opening() == session.opening() == SCENARIOS["wants-to-quit"].opening_for("quiet")
    session.reply("What's on your mind?")
    assert [t.role for t in session.transcript] == ["mentee", "mentor", "mentee"]


def test_prompt_variables_describe_persona_and_scenario() -> None:
    values = PracticeSession("client-complaint", "over-confident").prompt_variables()
    assert set(values) == {"persona", "scenario"}
    assert values["persona"].startswith("Over-confident:")
    assert "A client complaint" in values["scenario"]


def test_reply_carries_the_signals_it_reacted_to() -> None:
    session = PracticeSession("missed-deadlines", "overwhelmed")
    assert session.transcript == [] and session.opening()
    assert session.transcript[0].signals == {}
    turn = session.reply("That sounds exhausting. What would help most this week?")
    assert turn.role == "mentee"
    assert turn.signals["acknowledged_feelings"] and turn.signals["open_question"]
    assert not turn.signals["judgmental"]
    assert turn.signals == session.transcript[-2].signals
