"""Clause structure the parser reads from the dependency parse: names set off after a role and a relative clause,
the occasion named before a colon, consequence clauses wherever the parser hangs them, places by their shape, and
who the mentee is when several people act. Sentences are written for these tests (not taken from the eval set) and
the expected values are written by hand."""

from __future__ import annotations

import pytest

from assistant.evals.details_suite import wrong_attributions
from assistant.feedback import draft_feedback
from assistant.understanding.details import extract, feedback_parts
from assistant.understanding.parser import parse_fresh


def _draft(text: str) -> str:
    return draft_feedback(**{k: v or "" for k, v in feedback_parts(extract(text, fresh=True)).items()})


@pytest.mark.parametrize(
    ("text", "name", "behavior"),
    [
        ("The intern I supervise, Aurélie, rebuilt our checklist last month.", "Aurélie", "rebuilt our checklist"),
        ("The junior developer I'm mentoring, Kalani, deleted a table on Friday.", "Kalani", "deleted a table"),
        ("My mentee Sade keeps saying she'll send the report.", "Sade", "keeps saying she'll send the report"),
    ],
)
def test_a_name_set_off_after_a_role_is_the_mentee(text: str, name: str, behavior: str) -> None:
    p = parse_fresh(text)
    assert p.mentee == name
    assert p.behavior == behavior


@pytest.mark.parametrize(
    ("text", "situation", "behavior"),
    [
        ("Last night's stocktake was chaos: Dariusz counted the wrong aisle twice.", "Last night's stocktake",
         "counted the wrong aisle twice"),
        ("The kickoff went really well: Tanvir had prepared a one-page plan.", "The kickoff",
         "had prepared a one-page plan"),
    ],
)  # fmt: skip
def test_the_occasion_named_before_a_colon_is_the_setting(text: str, situation: str, behavior: str) -> None:
    p = parse_fresh(text)
    assert p.situation == situation
    assert p.behavior == behavior


def test_a_colon_headline_reads_as_a_setting_in_the_draft() -> None:
    assert _draft("Last night's stocktake was chaos: Dariusz counted the wrong aisle twice.") == (
        "In last night's stocktake, you counted the wrong aisle twice."
    )


@pytest.mark.parametrize(
    ("text", "behavior", "impact"),
    [
        (
            "At Monday's stand-up, Nkechi said 'I'll do it' to four tickets and finished none of them by Friday, "
            "so the release slipped.",
            "said 'I'll do it' to four tickets and finished none of them by Friday",
            "the release slipped",
        ),
        (
            "Teodora stayed with the patient until the family arrived, which meant the family didn't have to hear "
            "the news from a stranger.",
            "stayed with the patient until the family arrived",
            "the family didn't have to hear the news from a stranger",
        ),
        (
            "Rohan told the client 'we'll have it by Monday' without checking with me, and now the team is working "
            "the weekend.",
            "told the client 'we'll have it by Monday' without checking with me",
            "now the team is working the weekend",  # "now" says when the effect is felt
        ),
    ],
)
def test_a_consequence_clause_is_the_impact_not_the_behaviour(text: str, behavior: str, impact: str) -> None:
    p = parse_fresh(text)
    assert p.behavior == behavior
    assert p.impact == impact


def test_someone_elses_coordinated_clause_is_not_the_mentees() -> None:
    p = parse_fresh("this week's rota was a disaster: Goran swapped shifts without telling anyone and nobody covered")
    assert p.behavior == "swapped shifts without telling anyone"
    assert p.situation == "this week's rota"


def test_what_others_did_before_the_mentee_in_the_sentence_is_not_the_impact() -> None:
    p = parse_fresh("Chiara handled the sign-ups, and Sione kept everyone fed. I want to thank Sione.")
    assert p.mentee == "Sione"
    assert p.behavior == "kept everyone fed"
    assert p.impact is None


def test_a_clause_the_mentee_shares_with_others_is_not_an_impact() -> None:
    text = "Ilona and Marek both presented at the all-staff meeting, and Marek went over his slot. I'm mentoring Marek."
    p = parse_fresh(text)
    assert p.mentee == "Marek"
    assert p.impact is None
    assert wrong_attributions(_draft(text), ["both presented"]) == []


@pytest.mark.parametrize(
    ("text", "situation", "behavior"),
    [
        ("Farid was rude to the cleaner in the canteen today.", "in the canteen today", "was rude to the cleaner"),
        ("Petra handled the complaint at the reception desk beautifully.", "at the reception desk",
         "handled the complaint beautifully"),
        ("Pia's colleague says Noor fell asleep during lunch service.", "during lunch service", "fell asleep"),
    ],
)  # fmt: skip
def test_a_place_is_read_by_its_shape(text: str, situation: str, behavior: str) -> None:
    p = parse_fresh(text)
    assert p.situation == situation
    assert p.behavior == behavior


@pytest.mark.parametrize(
    "text",
    [
        "Ravi snapped at a customer.",  # the verb's own argument
        "Dana did a great job on the budget forecast.",  # what the work was about
        "Abdullahi keeps rescheduling our one-on-ones at the last minute.",  # how, not when
    ],
)
def test_arguments_topics_and_manners_are_not_places(text: str) -> None:
    assert parse_fresh(text).situation is None


def test_the_one_the_mentor_mentors_is_the_mentee_among_several() -> None:
    text = (
        "Oskar, Wren and Lise were on the migration call. Wren dropped the old tables before Oskar had taken the "
        "backup, and Lise had to restore them overnight. Wren is the one I mentor."
    )
    p = parse_fresh(text)
    assert p.mentee == "Wren"
    assert p.behavior == "dropped the old tables before Oskar had taken the backup"
    assert p.impact == "Lise had to restore them overnight"
    assert wrong_attributions(_draft(text), ["had taken the backup", "had to restore them"]) == []


def test_a_pronoun_in_a_reported_clause_does_not_settle_a_gender() -> None:
    """ "because she had missed the bus": she is Mirela or Tobias; the mentor's "thank him" still means Tobias,
    and the draft never makes Mirela's report the mentee's words."""
    text = (
        "Mirela told me that Tobias drove her home after the late shift because she had missed the last bus. "
        "I want to thank him."
    )
    p = parse_fresh(text)
    assert p.mentee == "Tobias"
    draft = _draft(text)
    assert wrong_attributions(draft, ["told me that", "had missed the last bus"]) == [], draft


def test_one_who_acts_alone_is_the_mentee_before_one_who_acts_jointly() -> None:
    p = parse_fresh("Ama and Kojo were both at the launch party. Kojo got drunk and insulted a client.")
    assert p.mentee == "Kojo"
    assert p.situation == "at the launch party"


def test_the_occasion_the_mentor_introduced_just_before() -> None:
    p = parse_fresh("We had the quarterly review on Thursday. Nils turned up without his figures.")
    assert p.situation == "the quarterly review on Thursday"
    assert p.behavior == "turned up without his figures"
    assert parse_fresh("We lost the contract last week. Ana had missed two deadlines.").situation is None


def test_a_lower_case_name_before_its_verb() -> None:
    p = parse_fresh("at the farmers market stall on saturday jess gave two customers the wrong change")
    assert p.mentee == "jess"
    assert p.situation == "at the farmers market stall on saturday"
    assert p.behavior == "gave two customers the wrong change"


def test_a_name_the_parser_hung_on_the_setting_is_not_repeated_in_the_behaviour() -> None:
    p = parse_fresh("during today's shift Abel refused to help at the bar")
    assert p.situation == "during today's shift"
    assert p.behavior_you == "you refused to help at the bar"


def test_a_when_clause_between_the_name_and_a_resumptive_pronoun_is_the_setting() -> None:
    p = parse_fresh("My report Lin, when the auditor questioned her numbers, she walked out.")
    assert p.mentee == "Lin"
    assert p.situation == "when the auditor questioned her numbers"
    assert p.behavior == "walked out"


def test_a_name_misparsed_before_its_verb_is_not_repeated() -> None:
    p = parse_fresh("Tim rolled his eyes at me when I gave him the new targets.")
    assert p.behavior_you == "you rolled your eyes at me when I gave you the new targets"


def test_a_who_clause_after_praise_names_the_person_and_the_act() -> None:
    p = parse_fresh("Big shout-out to Efe, who ran the whole stocktake on her own on Sunday.")
    assert p.mentee == "Efe"
    assert p.behavior == "ran the whole stocktake on her own"
    assert p.situation == "on Sunday"


def test_a_time_after_a_closing_quote_is_the_setting_not_the_quote() -> None:
    p = parse_fresh("Our receptionist Jola told a patient 'that's not my problem' this morning.")
    assert p.situation == "this morning"
    assert p.behavior == "told a patient 'that's not my problem'"


def test_a_numbered_definite_occasion_is_when_but_a_count_is_how_long() -> None:
    assert parse_fresh("Dora has been short with the porters in the last three handovers.").situation == (
        "in the last three handovers"
    )
    assert parse_fresh("Dora finished the migration in three weeks.").situation is None


def test_a_pronoun_after_someone_the_mentee_acted_on_is_not_rewritten() -> None:
    """ "the candidate" is on no list of roles; "her kids" may be hers, so no draft says "your kids"."""
    p = parse_fresh("In the interview on Friday, Uma asked the candidate about her kids.")
    assert p.mentee == "Uma"
    assert p.behavior == "asked the candidate about her kids"
    assert p.behavior_you is None
    assert (
        parse_fresh("Greta lost her temper with the supplier.").behavior_you == "you lost your temper with the supplier"
    )


def test_a_resumptive_pronoun_after_the_name_is_the_same_person() -> None:
    p = parse_fresh("in last month review with director my mentee Hao he did not prepare any slides")
    assert p.mentee == "Hao"
    assert p.behavior_you == "you did not prepare any slides"


@pytest.mark.parametrize(
    ("text", "situation"),
    [
        ("Femi hasn't updated the tracker since the kick-off in March.", "since the kick-off in March"),
        ("Ola left before the end of the meeting.", "before the end of the meeting"),
        ("Ed cleaned up after his shift.", None),  # his own shift: part of what he did
    ],
)
def test_a_time_preposition_with_a_definite_occasion_is_the_setting(text: str, situation: str | None) -> None:
    assert parse_fresh(text).situation == situation


def test_the_mentors_own_note_without_its_i_is_not_the_behaviour() -> None:
    p = parse_fresh("Need to say something to Oscar, he keeps turning up late to handovers.")
    assert p.mentee == "Oscar"
    assert p.behavior_you == "you keep turning up late to handovers"


def test_a_name_set_off_by_dashes_is_the_subject() -> None:
    p = parse_fresh("Fatou - my mentee - presented to the board today and nailed it.")
    assert p.mentee == "Fatou"
    assert p.behavior == "presented to the board and nailed it"
    assert p.situation == "today"


def test_the_one_reported_on_to_the_mentor_is_the_mentee_not_the_reporter() -> None:
    assert parse_fresh("Rosa just told me that Kai had been rude to her twice this week.").mentee == "Kai"
    # the mentee telling a client something is still the mentee's act
    assert parse_fresh("Rosa told the client that Kai had left.").mentee == "Rosa"


def test_a_comma_spliced_sentence_is_an_effect_not_part_of_the_act() -> None:
    p = parse_fresh("he yelled at the delivery driver in the car park this morning, the driver refused to unload")
    assert p.behavior == "yelled at the delivery driver"
    assert p.impact == "the driver refused to unload"
    assert p.situation == "in the car park this morning"


def test_a_rambling_opening_is_neither_the_name_nor_the_act() -> None:
    p = parse_fresh("ok so yesterday during the team lunch marco made a comment about priya's weight and she left")
    assert p.mentee == "marco"
    assert p.behavior == "made a comment about priya's weight"


@pytest.mark.parametrize(
    ("text", "name", "behavior_you"),
    [
        ("kudos to my apprentice dan for spotting the gas leak at the Jones job", "dan",
         "thank you for spotting the gas leak at the Jones job"),
        ("Thanks to Wen for staying late to fix the printer.", "Wen", "thank you for staying late to fix the printer"),
    ],
)  # fmt: skip
def test_thanks_as_a_noun_names_the_act(text: str, name: str, behavior_you: str) -> None:
    p = parse_fresh(text)
    assert p.mentee == name
    assert p.behavior_you == behavior_you


def test_the_mentees_own_role_is_not_their_work() -> None:
    """ "My trainee Chen is very good person": the possessor of the subject is the mentor, so no "you are you"."""
    p = parse_fresh("My trainee Chen is very good person but yesterday she was agree to everything.")
    assert p.behavior_you != "you are you"
    assert parse_fresh("Gabriela's comments in the review were harsh.").behavior_you == "your comments were harsh"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Every email she sends to clients is full of typos.", "Every email you send to clients is full of typos"),
        ("The reports he writes are always late.", "The reports you write are always late"),
    ],
)
def test_what_is_said_of_the_mentees_work_keeps_the_work_as_its_subject(text: str, said: str) -> None:
    """The mentee's clause only picks out the work; the act is what the clause above says of it (not "you send")."""
    assert parse_fresh(text).behavior_you == said


def test_a_label_on_the_mentees_work_gives_no_draft() -> None:
    p = parse_fresh("Every code review he leaves is blunt to the point of rude. Juniors have started avoiding him.")
    assert p.behavior_you is None  # "rude" is a label: the words ask for what was seen instead
    assert p.impact_you == "Juniors have started avoiding you"


def test_how_the_mentor_came_to_know_is_not_the_impact() -> None:
    p = parse_fresh(
        "I overheard Beth tell a customer that our product 'basically doesn't work' at the stand on Saturday."
    )
    assert p.mentee == "Beth"
    assert p.impact is None
    assert p.situation == "at the stand on Saturday"


@pytest.mark.parametrize(
    ("text", "behavior_you"),
    [
        ("Pam does her best work when she's left alone.", "you do your best work when you're left alone"),
        ("Sia's been skipping her one-to-ones with me.", "you've been skipping your one-to-ones with me"),
    ],
)
def test_a_contracted_s_becomes_the_right_second_person_form(text: str, behavior_you: str) -> None:
    assert parse_fresh(text).behavior_you == behavior_you
