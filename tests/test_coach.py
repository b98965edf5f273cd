"""The coaching engine on the offline default: routing, composition, citations, abstention, sessions."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, make_settings

from assistant.coach import compact_sources, valid_citations, wants_practice
from assistant.runtime import Runtime
from assistant.types import Source

CITE = re.compile(r"\[(\d+)\]")


@pytest.mark.parametrize(
    ("question", "practice"),
    [
        ("Can we role-play the conversation where I tell him he's not getting the raise?", True),
        ("Let me practise telling my mentee that he won't be on the new project.", True),
        ("Sam interrupted the client three times in Monday's demo. Help me give him feedback.", False),
        ("How do I give feedback to a mentee who gets defensive?", False),
        ("My mentee is leaving the NHS to start a private practice. What should I help her think about?", False),
        ("What is best practice for a first mentoring session?", False),
        ("Can we do a practice run first?", True),
        ("Let's practise the conversation with Omar.", True),
        ("I'd like to practise giving Sam feedback before Friday.", True),
        ("My mentee keeps asking me for the answers to her exam practice questions. What do I do?", False),
        ("She wants to practise her interview answers with me. How should I run it?", False),
        ("My mentee runs a dental practice and is burning out.", False),
    ],
)
def test_practice_is_asked_for_by_name(question: str, practice: bool) -> None:
    assert wants_practice(question) is practice


def test_citation_validation_drops_dangling_markers() -> None:
    text, cited = valid_citations("Do this [1]. And that [7]. Again [1][2].", 2)
    assert text == "Do this [1]. And that . Again [1][2]."
    assert cited == [1, 2]


def test_compact_sources_renumbers_in_order_of_first_use() -> None:
    sources = [Source(n, f"id{n}", f"T{n}", "trust", f"s{n}.md", "snip") for n in range(1, 5)]
    text, kept, cited = compact_sources("A [3]. B [1]. C [3].", sources, [1, 3])
    assert text == "A [1]. B [2]. C [1]."
    assert [s.id for s in kept] == ["id3", "id1"]
    assert [s.n for s in kept] == [1, 2]
    assert cited == [1, 2]


def _assert_well_cited(answer) -> None:
    numbers = {int(n) for n in CITE.findall(answer.answer)}
    assert numbers, "an offline answer must cite its guidance"
    assert numbers == set(answer.citations) == {s.n for s in answer.sources}
    assert answer.grounded
    for source in answer.sources:
        assert source.title and source.source.startswith("knowledge/")


PLACEHOLDER = re.compile(r"\[(?!\d+\])[^\]]*\]")  # anything in brackets but a citation


def _bullets(text: str) -> list[str]:
    items = [line for line in text.splitlines() if re.match(r"^(-|\d+\.) ", line)]
    return [re.sub(r"^(-|\d+\.) ", "", CITE.sub("", line)).strip() for line in items]


def test_chat_answer_follows_one_playbook_in_its_order(rt) -> None:
    answer = rt.coach.ask("My mentee barely says anything in our one-on-ones", persist=False)
    assert answer.mode == "chat" and answer.backend == "offline"
    assert answer.extras["playbooks"] == ["drawing-out-a-quiet-mentee"]
    book = rt.understanding.playbooks["drawing-out-a-quiet-mentee"]
    steps = [line for line in _bullets(answer.answer) if line in book.steps]
    assert steps == list(book.steps), "every step, in the authored order"
    assert {s.source for s in answer.sources} == {book.source}, "nothing stitched in from other documents"
    assert "**Words you could use**" in answer.answer
    assert answer.answer.rstrip().endswith("?") and "**A question for you:**" in answer.answer
    _assert_well_cited(answer)


def test_a_conversation_to_have_gets_a_plan_with_the_mentors_details(rt) -> None:
    answer = rt.coach.ask("Tomorrow I have to tell Priya her conference talk was rejected", persist=False)
    assert answer.mode == "prepare"
    assert answer.answer.startswith("Here is a plan for your conversation with Priya tomorrow.")
    assert "**How to run the conversation**" in answer.answer
    assert answer.extras["playbooks"][0] in {
        "delivering-bad-news",
        "supporting-a-mentee-through-setbacks",
        "preparing-for-a-difficult-conversation",
    }
    _assert_well_cited(answer)
    # A describing word the parse takes for a time ("a second-year teacher") never follows the name.
    described = rt.coach.ask(
        "I mentor Kwame, a second-year teacher. His head of department says he shouts at one class. "
        "I have to raise it with him.",
        persist=False,
    )
    assert "Kwame second-year" not in described.answer and "Kwame" in described.answer


def test_feedback_draft_speaks_to_the_mentee_and_asks_for_what_is_missing(rt) -> None:
    answer = rt.coach.ask(
        "Sam interrupted the client three times in Monday's demo, which made the client stop sharing concerns. "
        "Help me give him feedback.",
        persist=False,
    )
    assert answer.mode == "feedback"
    assert "**A draft in your words**" in answer.answer
    assert "you interrupted the client three times" in answer.answer
    assert "End with what you would like them to do from now on" in answer.answer
    _assert_well_cited(answer)


@pytest.mark.parametrize(
    "question",
    [
        "my mentee got a bad 360 review and the comments say she's abrasive. she asked me if it's true. what do i say",
        "My mentee was passed over for the team lead role and asked me what she should say to her manager.",
        "My mentee asked me to look over her CV tonight and I honestly think it's weak. How blunt should I be?",
    ],
)
def test_what_happened_to_the_mentee_is_not_an_act_to_give_feedback_on(rt, question: str) -> None:
    answer = rt.coach.ask(question, persist=False)
    assert answer.mode != "feedback" and "**A draft in your words" not in answer.answer


def test_praise_read_by_the_parse_is_answered_as_praise(rt) -> None:
    """The encoder alone puts "…it went really well… I want to tell him" closest to delivering bad news."""
    answer = rt.coach.ask(
        "My mentee Jonas presented to the leadership team yesterday and it went really well: he handled a hostile "
        "question about the budget calmly and the CFO asked for his deck. I want to tell him.",
        persist=False,
    )
    assert answer.extras["need"] == "praise"
    assert "disappointing news" not in answer.answer


def test_praise_has_the_praise_shape(rt) -> None:
    answer = rt.coach.ask(
        "I want to thank Arjun for staying late to fix the billing outage, but not in a generic way. Help me word it.",
        persist=False,
    )
    assert answer.extras["need"] == "praise"
    assert "next time" not in answer.answer.lower()
    assert "Arjun" in answer.answer
    _assert_well_cited(answer)


@pytest.mark.parametrize(
    "question",
    [
        "How do I tell my mentee that her slides are too dense without crushing her confidence?",
        "Help me write feedback for Lucía, who missed two client deadlines this month.",
        "Two of my mentees are competing for the same promotion. How do I stay fair to both?",
        "Help me prepare to tell Noor that her transfer request was turned down.",
        "My mentee never prepares anything for our sessions. Should I say something?",
    ],
)
def test_no_placeholder_and_no_repeated_tip(rt, question: str) -> None:
    text = rt.coach.ask(question, persist=False).answer
    assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text)
    bullets = _bullets(text)
    assert len(bullets) == len(set(bullets))


def test_harassment_gets_the_referral_then_the_playbook_for_supporting_the_mentee(rt) -> None:
    question = "I think my mentee is being bullied by a senior colleague but she hasn't said so directly. What now?"
    answer = rt.coach.ask(question, persist=False)
    referral, coaching = answer.answer.split("\n\n---\n\n", 1)
    assert answer.safety.escalated and answer.safety.category == "harassment"
    assert referral.startswith("**What you've described may be harassment")
    assert "[" not in referral  # the referral cites nothing; the coaching below it does
    assert answer.extras["playbooks"][0] == "suspecting-your-mentee-is-being-bullied"
    assert coaching.startswith("**Meanwhile, as their mentor**")
    _assert_well_cited(answer)


def test_a_legal_question_no_playbook_covers_gets_only_the_referral_with_each_guide_once(rt) -> None:
    answer = rt.coach.ask(
        "Is the non-compete clause in my mentee's contract enforceable if he joins a rival?", persist=False
    )
    assert answer.safety.category == "legal" and answer.backend == "safety"
    assert answer.answer.startswith("**This is a legal question") and "---" not in answer.answer
    titles = [s.title for s in answer.sources]
    assert titles and len(titles) == len(set(titles))


def test_a_legal_question_a_playbook_covers_gets_the_referral_then_the_playbook(rt) -> None:
    answer = rt.coach.ask(
        "My mentee was dismissed last month for breaking the expenses policy, not made redundant. He says it was "
        "unfair and is furious. How do I support him without taking his side?",
        persist=False,
    )
    assert answer.safety.category == "legal" and answer.answer.startswith("**This is a legal question")
    assert answer.extras["playbooks"][0] == "mentee-who-has-been-fired"
    _assert_well_cited(answer)


def test_unclear_question_names_the_closest_situations_and_asks(rt) -> None:
    answer = rt.coach.ask("Can you help?", persist=False)
    assert answer.abstained and not answer.sources and not CITE.search(answer.answer)
    assert "**A question for you:**" in answer.answer


def test_off_topic_questions_get_an_honest_abstention(rt) -> None:
    answer = rt.coach.ask("What hydration percentage works best for a sourdough loaf?", persist=False)
    assert answer.abstained
    assert answer.sources == [] and not answer.grounded
    assert "rather not guess" in answer.answer


def test_mentee_profile_changes_the_advice(rt) -> None:
    from assistant.sessions import MenteeProfile

    question = "My mentee barely says anything in our one-on-ones"
    plain = rt.coach.ask(question, persist=False)
    mentee_id = rt.sessions.save_mentee(
        MenteeProfile(
            id=None,
            name="Ana",
            experience_level="new",
            goals="lead the weekly sync by spring",
            learning_preferences="",
            communication_preferences="prefers written notes",
            cultural_notes="",
            notes="",
        )
    )
    tailored = rt.coach.ask(question, mentee_id=mentee_id, persist=False)
    assert "**With Ana in mind**" in tailored.answer and "in mind**" not in plain.answer
    assert "written summary" in tailored.answer and "lead the weekly sync by spring" in tailored.answer

    def steps(text: str) -> list[str]:
        return [line for line in text.splitlines() if re.match(r"^\d+\. ", line)]

    # A new mentee gets fewer steps at once, not the same advice with a line appended.
    assert len(steps(tailored.answer)) == 5 < len(steps(plain.answer))


def test_answers_are_reproducible(rt) -> None:
    question = "How do I build trust with a new mentee from a different culture?"
    first = rt.coach.ask(question, persist=False)
    second = rt.coach.ask(question, persist=False)
    assert first.answer == second.answer
    assert [s.id for s in first.sources] == [s.id for s in second.sources]


def test_stream_yields_growing_text_then_the_answer(rt) -> None:
    steps = list(rt.coach.stream("How do I celebrate my mentee's promotion?", persist=False))
    assert len(steps) >= 3
    assert all(answer is None for _, answer in steps[:-1])
    texts = [text for text, _ in steps[:-1]]
    assert all(a and b.startswith(a) for a, b in itertools.pairwise(texts))
    assert steps[-1][1] is not None and steps[-1][0] == steps[-1][1].answer


def test_follow_up_stays_with_the_conversation_and_its_people(own_data: Path) -> None:
    data = own_data
    rt = Runtime(make_settings(data))
    first = rt.coach.ask("I need to tell Dana her promotion didn't come through")
    follow = rt.coach.ask("and what if she cries?", session_id=first.session)
    assert follow.extras["playbooks"] == ["when-your-mentee-cries-or-gets-upset"]
    # The answer says how it connects: the reaction, with the mentee's name, then the situation it belongs to.
    assert follow.answer.startswith("If Dana cries:") and "staying with what you described" in follow.answer
    shorter = rt.coach.ask("make it shorter", session_id=first.session)
    assert shorter.extras["playbooks"] == follow.extras["playbooks"]
    assert len(shorter.answer) < len(follow.answer)
    # A change of register is an edit of the last answer, not a new situation ("casual" is not a topic).
    plain = rt.coach.ask("less formal please, we're pretty casual with each other", session_id=first.session)
    assert plain.extras["playbooks"] == follow.extras["playbooks"]
    assert plain.answer.startswith("The same guidance, shorter and plainer") and "Dana" in plain.answer
    # The situation is quoted back once; a later follow-up says only how it connects.
    later = rt.coach.ask("and what if she gets angry with me?", session_id=first.session)
    assert later.answer.startswith("If Dana gets angry with you, this is what helps.")
    assert "staying with what you described" not in later.answer.lower()
    assert first.session is not None
    turns = rt.sessions.history(first.session)
    assert [t.role for t in turns] == ["user", "assistant"] * 5
    # The state lives in the database: a new process reads the same situation from the stored turns.
    again = Runtime(make_settings(data))
    state = again.understanding.state_from(again.sessions.history(first.session))
    assert state.playbook_ids == tuple(later.extras["playbooks"]) and state.mentee_name == "Dana"


def test_a_follow_up_after_a_safety_escalation_stays_with_that_persons_safety(own_rt: Runtime) -> None:
    """The safety message cites no guidance; "what are my first words?" after it is about the mentee at risk,
    not about the video call it happened on."""
    rt = own_rt
    first = rt.coach.ask("During our video call my mentee Kemi said her family would be better off without her.")
    assert first.safety.category == "crisis" and first.safety.escalated and not first.sources
    follow = rt.coach.ask("she's back on the call now, what do I say first?", session_id=first.session)
    assert follow.extras["playbooks"][0] == "when-someone-may-be-in-crisis"


def test_sessions_survive_a_new_process(tmp_path: Path, built_dir: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    env = os.environ | {"MENTOR_DATA_DIR": str(data), "MENTOR_LLM_BACKEND": "offline"}
    cmd = [sys.executable, "-m", "assistant", "ask", "How do I open a difficult conversation?", "--json"]
    first = json.loads(subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, check=True).stdout)
    assert {"answer", "mode", "backend", "model", "session", "sources", "citations", "grounded", "safety"} <= set(first)
    assert {"n", "id", "title", "topic", "source", "snippet"} <= set(first["sources"][0])
    assert first["safety"]["category"] is None and first["safety"]["action"] is None
    cmd2 = [*cmd[:4], "What should I say first?", "--session", first["session"], "--json"]
    subprocess.run(cmd2, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    rt = Runtime(make_settings(data))
    history = rt.sessions.history(first["session"])
    assert [t.content for t in history if t.role == "user"] == [
        "How do I open a difficult conversation?",
        "What should I say first?",
    ]
    assert history[1].mode == first["mode"] and history[1].backend == "offline"


def test_offline_turn_is_fast_on_top_of_retrieval(rt) -> None:
    """Correctness of the timing split only; the 50 ms figure itself lives in the benchmark."""
    start = time.perf_counter()
    answer = rt.coach.ask("How do I help a mentee prepare for a promotion panel?", persist=False)
    assert time.perf_counter() - start < 5  # a generous bound that catches accidental model loads
    assert answer.answer


def test_practice_in_chat_starts_continues_and_debriefs(own_rt: Runtime) -> None:
    rt = own_rt
    start = rt.coach.ask("Let's role-play telling my quiet mentee their project is cancelled")
    assert start.mode == "practice" and start.prompt_version == "practice:project-cancelled:quiet"
    assert "Quiet mentee:" in start.answer
    # In auto mode the role-play continues without naming it again.
    turn = rt.coach.ask("How are you feeling about the news so far?", session_id=start.session)
    assert turn.mode == "practice" and turn.answer.startswith("**Quiet mentee:**")
    end = rt.coach.ask("end practice", session_id=start.session)
    assert "Practice debrief" in end.answer and "1 open question" in end.answer
    assert end.sources and end.grounded
    after = rt.coach.ask("How do I follow up after a hard conversation?", session_id=start.session)
    assert after.mode != "practice"


def test_practising_your_own_situation_names_it_once(rt) -> None:
    start = rt.coach.ask("Let me practise telling my mentee that he won't be on the new project.", persist=False)
    assert start.mode == "practice"
    assert start.answer.lower().count("won't be on the new project") == 1, start.answer


def test_follow_ups_answer_the_new_question_not_the_first_one_again(own_rt: Runtime) -> None:
    """ "How do I start?" gets ways to open; "give me the exact words" after praise gets the draft from the first
    message; neither repeats the first answer's bottom line."""
    rt = own_rt
    first = rt.coach.ask("My mentee Lucia keeps missing the deadlines she agrees to. I need to raise it with her.")
    start = rt.coach.ask("how do I start the conversation?", session_id=first.session)
    assert start.answer.startswith("To open the conversation with Lucia")
    assert "**Ways to open**" in start.answer and "**What to do**" not in start.answer
    bottom_line = next(p for p in first.answer.split("\n\n") if p.startswith("**In short:**"))
    assert bottom_line[len("**In short:**") :][:60] not in start.answer

    praise = rt.coach.ask(
        "I want to praise my mentee Kofi for how he ran his first team retrospective yesterday. "
        "He got the quiet people to talk and ended with three clear actions."
    )
    words = rt.coach.ask("give me the exact words", session_id=praise.session)
    assert words.answer.startswith("Here are words you could use")
    assert "> Yesterday you ran your first team retrospective. You got the quiet people to talk" in words.answer


def test_follow_ups_keep_the_mentors_own_conversation_and_take_in_what_the_mentee_said(own_rt: Runtime) -> None:
    """A reaction is read by the reaction ("gets defensive"), not by the words around it ("client"); the close of
    the mentor's own conversation gets the closing guidance, never advice on helping a mentee prepare theirs; what
    the mentee said since opens the answer; "what do I actually say?" drafts from the first act described, not
    from what the mentee said back."""
    rt = own_rt
    first = rt.coach.ask(
        "I need to tell Marco, a junior designer I mentor, that the client rejected his logo concept and we're "
        "going with another designer's. He was really proud of it."
    )
    opening = rt.coach.ask("how do I start the conversation?", session_id=first.session)
    opening_line = first.answer.split("**Opening line**\n- ", 1)[1].split(" [", 1)[0]
    assert opening.answer.split("**Ways to open**\n- ", 1)[1].startswith(opening_line)
    defensive = rt.coach.ask("what if he gets defensive and says the client has no taste?", session_id=first.session)
    assert defensive.extras["playbooks"][0] in (
        "giving-feedback-to-someone-who-gets-defensive",
        "when-your-mentee-gets-defensive-or-angry",
    )
    assert defensive.answer.startswith("If Marco gets defensive")
    close = rt.coach.ask("what should we agree at the end?", session_id=first.session)
    assert close.extras["playbooks"] == ["closing-a-hard-conversation-with-next-steps"]

    raised = rt.coach.ask("My mentee Aiyana keeps interrupting people in team meetings. Her manager asked me to help.")
    replied = rt.coach.ask("she replied that she's overwhelmed and that's why", session_id=raised.session)
    assert replied.answer.startswith("Now that Aiyana says she's overwhelmed")
    again = rt.coach.ask("My mentee Aiyana keeps interrupting people in team meetings. Her manager asked me to help.")
    asked = rt.coach.ask("she mentioned she's autistic, does that change anything?", session_id=again.session)
    # The news is said back; the question about it is not folded into the sentence.
    assert asked.answer.startswith("Now that Aiyana says she's autistic: staying with what you described")
    words = rt.coach.ask("ok so what do I actually say to her on Friday?", session_id=raised.session)
    assert words.mode == "feedback"
    # A pattern ("keeps interrupting") is said as something noticed, and one occasion is asked for.
    assert "> I've noticed that in team meetings you keep interrupting people." in words.answer
    assert "a pattern is heard best through one occasion" in words.answer
    assert "overwhelmed" not in words.answer.split("**A draft in your words**", 1)[1].split("\n\n")[1]


def test_an_email_is_written_to_the_mentee_only_when_the_mentor_sends_it(own_rt: Runtime) -> None:
    """ "Put that as an email" gets the guidance as a message to the mentee; "help her word the counter-offer
    email" is the mentee's own message to someone else, so no mentor-to-mentee email is drafted."""
    rt = own_rt
    first = rt.coach.ask("My mentee Lucia keeps missing the deadlines she agrees to. I need to raise it with her.")
    email = rt.coach.ask("can you put that as an email?", session_id=first.session)
    assert "> Hi Lucia," in email.answer

    offer = rt.coach.ask("My mentee Nour got a job offer and wants to negotiate. The offer is 10% under her pay now.")
    hers = rt.coach.ask("help her word the counter-offer email", session_id=offer.session)
    assert "Hi Nour," not in hers.answer
    assert hers.extras["playbooks"] == ["preparing-a-mentee-for-a-salary-negotiation"]


def test_what_the_mentee_might_ask_stays_with_the_conversation(own_rt: Runtime) -> None:
    """A reaction of feeling ("what if she gets defensive?") moves to the playbook for it; what the mentee might
    ask ("whether she can reapply") is part of the same conversation, whatever playbook its words resemble."""
    rt = own_rt
    first = rt.coach.ask(
        "I have to tell Dana, one of my analysts, that her promotion to senior didn't get approved this cycle."
    )
    asked = rt.coach.ask("what if she asks whether she can reapply next cycle?", session_id=first.session)
    assert asked.extras["playbooks"][0] in ("delivering-bad-news", "when-a-mentee-is-passed-over-for-promotion")
    felt = rt.coach.ask("what if she gets defensive?", session_id=first.session)
    assert "defensive" in felt.extras["playbooks"][0]


def test_asking_for_the_feedback_in_sbi_form_or_in_simpler_words_keeps_the_situation(own_rt: Runtime) -> None:
    """ "Can you put it in SBI format" is a request for the draft, not an instruction to the assistant; "could you
    say it in simpler English, …" restyles the last answer, whatever follows its comma, and stays with the
    mentee's situation instead of moving to mentoring in a second language."""
    rt = own_rt
    first = rt.coach.ask(
        "My mentee Noor is bright but talks over her colleagues in team meetings, especially the juniors. "
        "How do I raise it with her?"
    )
    sbi = rt.coach.ask("can you put it in SBI format", session_id=first.session)
    assert sbi.safety is None or not sbi.safety.escalated, sbi.answer[:200]
    assert sbi.answer.startswith("Here are words you could use"), sbi.answer[:200]
    assert "> " in sbi.answer and "you talk over your colleagues, especially the juniors" in sbi.answer, sbi.answer
    simpler = rt.coach.ask(
        "could you say it in simpler English, I'm going to read it out to her", session_id=first.session
    )
    assert "second-language" not in " ".join(s.source for s in simpler.sources), [s.source for s in simpler.sources]


def test_a_shorter_feedback_answer_keeps_the_draft_and_drops_the_rest(own_rt: Runtime) -> None:
    """ "Make it shorter" after feedback was the whole answer again; it is the draft and the first steps."""
    rt = own_rt
    first = rt.coach.ask(
        "I need to give feedback to my mentee Ines: in Monday's client call she promised a delivery date we can't "
        "meet, and the account manager had to walk it back."
    )
    draft = "> In Monday's client call you promised a delivery date we can't meet."
    assert draft in first.answer
    shorter = rt.coach.ask("can you make it shorter", session_id=first.session)
    assert draft in shorter.answer
    assert len(shorter.answer.split()) < len(first.answer.split()) / 2, shorter.answer


def _listed(answer: str) -> list[str]:
    """The listed lines of an answer, without their citation markers."""
    return [re.sub(r"\s*\[\d+\]$", "", line.split(" ", 1)[1]) for line in answer.splitlines() if _ITEM.match(line)]


_ITEM = re.compile(r"^(?:\d+\.|-) \w")


def test_shorter_shortens_the_last_answer_and_keeps_the_count_asked_for(own_rt: Runtime) -> None:
    """ "Make it shorter" acts on the answer just given (a follow-up's own steps, not the first answer's plan),
    every time shorter than the one before; "three bullet points" gets three."""
    rt = own_rt
    first = rt.coach.ask("Tariq, a QA engineer I mentor, says he'll resign unless he's moved off the legacy team.")
    follow = rt.coach.ask("what if he actually does quit?", session_id=first.session)
    three = rt.coach.ask("make that shorter, I just want three bullet points", session_id=first.session)
    kept = [line for line in _listed(three.answer) if not line.startswith('"')]
    assert len(kept) == 3 and all(line in _listed(follow.answer) for line in kept), three.answer
    shorter = rt.coach.ask("make it shorter", session_id=first.session)
    assert _listed(shorter.answer) == kept[:2], shorter.answer
    assert len(shorter.answer) < len(three.answer)


def test_an_example_and_more_on_one_step_act_on_the_conversation(own_rt: Runtime) -> None:
    """ "Say more about the second step" opens up that step of the last answer; "how might that conversation go?"
    is answered with the guidance's worked example (a weaker and a stronger way), cited."""
    rt = own_rt
    first = rt.coach.ask("Yusuf, a junior engineer I mentor, keeps missing sprint deadlines. We meet on Friday.")
    second_step = _listed(first.answer.split("**How to deliver it**")[-1])[1]
    more = rt.coach.ask("can you say more about the second step?", session_id=first.session)
    assert more.answer.startswith(f"More on this step: **{second_step}**"), more.answer
    assert more.extras["playbooks"] == first.extras["playbooks"]
    example = rt.coach.ask("give me an example of how that conversation might go", session_id=first.session)
    assert "**Weaker:**" in example.answer and "**Stronger:**" in example.answer, example.answer
    assert example.extras["playbooks"] == first.extras["playbooks"] and example.citations


def test_a_draft_without_a_situation_gives_the_impact_its_own_sentence(rt: Runtime) -> None:
    answer = rt.coach.ask(
        "My mentee Lina keeps missing her sprint commitments and the team is starting to resent it.", persist=False
    )
    assert "you keep missing your sprint commitments. The team is starting to resent it." in answer.answer


def test_praise_for_a_success_is_not_answered_as_effort_when_results_fell_short(rt: Runtime) -> None:
    answer = rt.coach.ask(
        "Yesterday Hana presented the quarterly numbers to the board and answered every question without looking "
        "at her notes. I want to tell her it was great.",
        persist=False,
    )
    assert answer.extras["playbooks"][0] == "giving-specific-praise-and-recognition"
    assert "> Yesterday you presented the quarterly numbers to the board" in answer.answer


def test_a_setting_that_completes_the_act_follows_it(rt: Runtime) -> None:
    answer = rt.coach.ask(
        "Teodor keeps arriving late to the morning huddle. The rest of the team has to repeat the updates for him.",
        persist=False,
    )
    assert "you keep arriving late to the morning huddle. The rest of the team" in answer.answer
    late = rt.coach.ask(
        "I need to talk to Fatima about the fact that she's been 15 minutes late to every morning huddle this week "
        "and the night team has had to stay on.",
        persist=False,
    )
    # How late is part of the act; it never opens the draft as if it were when it happened.
    assert "> 15 minutes" not in late.answer and "> you've been 15 minutes late" in late.answer.lower()


def test_a_question_about_passing_on_a_confidence_gets_the_confidentiality_guidance(own_rt: Runtime) -> None:
    """ "Should I tell his manager?" after a disclosure is answered from the guidance on confidentiality, which
    then supports the thread: the next question about the mentee is read against the disclosure again."""
    rt = own_rt
    first = rt.coach.ask("My mentee Jonah told me he's been diagnosed with depression and is struggling at work.")
    situation = first.extras["playbooks"][0]
    tell = rt.coach.ask("should I tell his manager so they go easy on him?", session_id=first.session)
    assert tell.extras["playbooks"][0] == "confidentiality-and-its-limits", tell.extras
    assert first.session is not None
    state = rt.understanding.state_from(rt.sessions.history(first.session))
    assert state.playbook_ids[:2] == (situation, "confidentiality-and-its-limits"), state


def test_a_follow_up_asking_for_one_part_gets_that_part(own_rt: Runtime) -> None:
    """ "What questions could I ask him?" is answered with the guidance's questions, "what should I avoid?" with
    its don'ts, "sum it up in one sentence" with one sentence of its bottom line: not the plan again."""
    rt = own_rt
    first = rt.coach.ask("I have to tell my apprentice Kwame that he failed his practical assessment.")
    book = rt.understanding.playbooks[first.extras["playbooks"][0]]
    questions = rt.coach.ask("what questions could I ask him?", session_id=first.session)
    assert _listed(questions.answer) == list(book.questions), questions.answer
    # How to ask them comes from the guidance on asking, which supports the thread without taking it over.
    assert [s.source for s in questions.sources][:2] == ["knowledge/asking-powerful-open-questions.md", book.source]
    assert "**How to ask them:**" in questions.answer
    avoid = rt.coach.ask("what should I avoid saying?", session_id=first.session)
    assert set(_listed(avoid.answer)) >= set(book.donts) and not set(_listed(avoid.answer)) & set(book.steps)
    assert avoid.extras["playbooks"][0] == book.id
    gist = rt.coach.ask("sum it up in one sentence", session_id=first.session)
    assert gist.answer.startswith("**In short:**") and not _listed(gist.answer), gist.answer
    assert len(re.findall(r"[.!?](?:\s|$)", gist.answer.split("**A question for you:**")[0])) == 1


def test_a_question_the_mentee_asked_is_not_read_as_a_reaction(own_rt: Runtime) -> None:
    first = own_rt.coach.ask("My mentee Alejandra found out this morning she didn't get the senior designer promotion.")
    asked = own_rt.coach.ask("she's asking me if she should complain about the decision", session_id=first.session)
    # "if she should complain" is whether she should, not a reaction to plan for ("If Alejandra should complain…").
    assert not asked.answer.startswith("If ")
    messaged = own_rt.coach.ask("he just messaged asking if we can talk tonight at 11pm", session_id=first.session)
    assert "says asking" not in messaged.answer


def test_a_reaction_the_mentor_expects_is_said_back(own_rt: Runtime) -> None:
    first = own_rt.coach.ask(
        "I mentor Dev, a junior pharmacist. At yesterday's audit he argued with the inspector in front of the whole "
        "team and we got a worse rating because of it."
    )
    expected = own_rt.coach.ask("he'll probably say the inspector was wrong", session_id=first.session)
    assert expected.answer.startswith("If Dev says the inspector was wrong")
