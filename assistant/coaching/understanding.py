"""Reads a mentor's message once, against the conversation so far: which situation, which need, who.

A follow-up stays with the conversation's situation unless the new message clearly names another one; a
follow-up about a moment inside that situation ("what if she cries?") is answered from that moment's playbook,
framed as part of the same conversation; "make it shorter" acts on the previous answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.coaching.followups import (
    FollowUpChooser,
    asks_how_to_open,
    blended_scores,
    fits_outcome,
    outcome,
    part_asked,
)
from assistant.coaching.matcher import SETBACK, SURE, Matches, SituationMatcher, reports_setback
from assistant.coaching.needs import NeedClassifier
from assistant.coaching.passing_on import asks_about_passing_on
from assistant.coaching.playbooks import Playbook
from assistant.sessions import TurnRecord
from assistant.understanding.details import Details, extract
from assistant.understanding.message import Message, read_message
from assistant.understanding.tone import ToneClassifier

_SHORTER = re.compile(
    r"\b(shorter|shorten|too long|briefer|in brief|tl;?dr|summari[sz]e|just the (?:key|main))\b", re.I
)
# "Three bullet points", "in 2 lines", "just the top five tips": how many items the mentor wants back.
_ITEMS_WANTED = re.compile(
    r"\b(one|two|three|four|five|six|\d)\s+(?:short |key |main |top )?(?:bullet(?: point)?s?|points?|steps?|lines?"
    r"|things?|tips?|items?|sentences?)\b",
    re.I,
)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# "Give me an example", "how might that conversation go?": the playbook's worked example.
_EXAMPLE = re.compile(
    r"\b(?:an? (?:worked |real |concrete )?example|sample (?:conversation|dialogue|script)|show me how"
    r"|how (?:might|would|could|does|will) (?:that|this|it|the (?:conversation|chat|talk|meeting))"
    r" (?:go|sound|look|play out)|what (?:would|does|might) (?:that|it|this) (?:sound|look) like)\b",
    re.I,
)
# "Say more about the second step", "what do you mean by point 3?": one listed step of the last answer, opened up.
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "last": -1}
_STEP_ASKED = re.compile(
    r"\b(?:(?P<word>first|second|third|fourth|fifth|sixth|seventh|last|[1-9](?:st|nd|rd|th)) (?:step|point|bullet|tip"
    r"|item|one|thing)|(?:step|point|bullet|tip|item|number) (?:no\.? ?)?(?P<digit>[1-9]))\b",
    re.I,
)
_MORE_ON = re.compile(
    r"\b(?:more (?:about|on|detail)|expand|elaborate|explain|unpack|what do you mean|say more|tell me more|how do i"
    r"|how would i|how should i|go deeper|in detail|break (?:it|that) down|clarify)\b",
    re.I,
)
# "What if she cries?": a reaction inside the conversation, named in the follow-up's own words.
_REACTION = re.compile(
    r"^\W*(?:and |but |ok,? )?what if\b|\bif (?:s?he|they) (?:gets?|starts?|says?|cr(?:y|ies)|storms?)\b", re.I
)
# An explicit ask for words ("help me word it", "how do I tell her", "I want to thank him"); without one, a
# described incident under a boundaries or planning playbook keeps that playbook's kind of help.
_WORDING = re.compile(
    r"\b(?:word(?:ing)?|phrase|draft|write|say|tell|feedback|thank|praise|recogni[sz]e|acknowledge|raise it)\b", re.I
)
# "Help me word it", "I want to thank him": words are wanted even when the parse found no behaviour to draft from.
_WORDING_ASK = re.compile(
    r"\b(?:word it|help me (?:word|phrase|write|say)|i want to (?:thank|praise|recogni[sz]e))\b", re.I
)
# "Give me the exact words", "what do I actually say?": the wording for what the conversation is about.
_WORDS_PLEASE = re.compile(
    r"\b(?:exact words|the words|(?:what|how) (?:do|should|would) i (?:actually )?(?:say|phrase|word)|word(?:ing)? it"
    r"|a script|say it well|sbi|situation[-, ]+behaviou?r)\b",
    re.I,
)
_FIRST_CLAUSE = re.compile(r"[,;:.!?]")
# A clause that asks the coach for something: "could you…", "please…", "make it…", "write…".
_ASKS_COACH = re.compile(
    r"\W*(?:(?:ok(?:ay)?|and|now|also|great|thanks)\W+)*(?:(?:can|could|would|will) (?:you|u)|please|make|put|write"
    r"|give|rewrite|reword|rephrase|turn|just|say)\b",
    re.I,
)
# "Can you put that as an email?": the same guidance, written to send.
_WRITTEN = re.compile(
    r"\b(?:e-?mail|slack|written message|text message|in writing|write it (?:up|down)|draft (?:a|the) \w*\s?message)\b",
    re.I,
)
# "Help her word the counter-offer email", "a message she could send": the mentee's own message, which the coach
# answers with how to write it, never with a message from the mentor to the mentee.
_MENTEE_WRITES = re.compile(
    r"\b(?:help (?:him|her|them)|(?:s?he|they) (?:could|can|should|would|will|might) (?:send|use|write)"
    r"|for (?:him|her|them) to (?:send|use)|(?:his|her|their) (?:own )?(?:e-?mail|message|note|letter|reply))\b",
    re.I,
)
# "Less formal please", "as a short script", "in bullet points": the previous answer in another form, same situation.
_RESTYLE = re.compile(
    r"\b(?:(?:less|more) (?:formal|casual|direct|blunt)|casual|informal|script|bullet(?: point)?s?|simpler|plainer|"
    r"rephrase|reword|in my own words|softer|warmer|friendlier|tone)\b",
    re.I,
)
# "What should we agree before we finish?", "how do I wrap it up?": the close of the mentor's own conversation.
_CLOSING = re.compile(
    r"\b(?:before we (?:finish|wrap up|end|hang up)|at the end of (?:it|the (?:conversation|meeting|call|talk))"
    r"|how (?:do|should|can) (?:i|we) (?:end|close|finish|wrap (?:it |this |things )?up)"
    r"(?: (?:it|this|things|the (?:conversation|meeting|call|talk)))?(?: well| kindly)?(?=\s*[?.!]*\s*$)"
    r"|what should we agree"
    r"|(?:end|close|wrap up|finish) (?:the|our) (?:conversation|meeting|call|talk))\b",
    re.I,
)
CLOSING_PLAYBOOK = "closing-a-hard-conversation-with-next-steps"
# "Should I tell his manager?", "she made me promise not to tell anyone": passing on what the mentee shared.
CONFIDENTIALITY_PLAYBOOK = "confidentiality-and-its-limits"
CONFIDENCE_PLAYBOOKS = {CONFIDENTIALITY_PLAYBOOK, "keeping-confidences-and-being-reliable"}
# The situation a safety escalation was about, carried into the conversation's state (a threat to others is
# referred on, so its follow-ups are about referring; legal questions keep the thread they came from).
PLAYBOOK_AFTER_ESCALATION = {
    "crisis": "when-someone-may-be-in-crisis",
    "threat": "when-and-how-to-refer",
    "harassment": "when-a-mentee-discloses-harassment-or-discrimination",
}
# Playbook tags: the mentee's own conduct to address, and the mentee mistreated by someone else.
CONDUCT, MISTREATMENT = "conduct", "mistreatment"
# "How would he open that conversation?", "help her practise": the mentee's own conversation, where playbooks on
# helping a mentee prepare apply; otherwise a thread about the mentor's own conversation never moves to them.
_MENTEE_PREPARES = re.compile(
    r"\b(?:help (?:him|her|them)|(?:how|what) (?:would|could|should|does|do|can) (?:s?he|they)"
    r"|(?:his|her|their) (?:own )?(?:conversation|meeting|talk|interview|presentation|pitch))\b",
    re.I,
)
# The mentor is the one to speak: "help me give him feedback", "I need to tell her", "how do I say no nicely".
_MENTOR_SPEAKS = re.compile(
    r"\b(?:help me|I (?:need|have|want|ought|must|should|plan|am going|'m going|'d like|would like) to|I'll|I must"
    r"|how (?:do|should|can) I) (?:give|tell|raise|say no|break|word|talk to|speak to|sit down with)\b",
    re.I,
)
OWN_CONVERSATION_NEEDS = ("conversation", "feedback", "praise")
# The mentee is the one to speak: "she wants to raise it with him", "he has to tell the client".
_MENTEE_WILL_TALK = re.compile(
    # the mentee by pronoun, role or name, a name perhaps with a description after it ("Amara, a coordinator I
    # mentor at a charity, has to tell…")
    r"\b(?:s?he|they|my mentee|(?-i:[A-Z][a-z]+)(?:, [^,.?!]{1,80},)?)(?:'s| is| are|'re)?"
    r" (?:wants?|needs?|has|have|going|plans?|planning|hoping|about) to"
    r" (?:raise|talk|speak|tell|confront|ask|bring|push back|challenge|negotiate|have (?:it|the|a|that))\b",
    re.I,
)
MENTEE_CONVERSATION_PLAYBOOK = "helping-a-mentee-prepare-for-a-hard-conversation"
# "What should I ask him?" is answered with the situation's own questions and how to ask them, from this guidance.
ASKING_PLAYBOOK = "asking-powerful-open-questions"
SIDE_PLAYBOOKS = {ASKING_PLAYBOOK, CONFIDENTIALITY_PLAYBOOK}
# A new message this long that clearly matches another situation starts a new thread.
NEW_THREAD_WORDS = 12
# Fused-score head start, for a follow-up, of the conversation's playbook and its related ones (a top fused
# score is about 0.15).
FOLLOW_UP_BOOST = 0.05  # with followups.blended_scores' weights, tuned on the dev conversations
CONTEXT_TURNS = 2
NEWS_RUNNER_UP = 2  # news to give, matched to an advice playbook: a conversation playbook this high replaces it
# A praise playbook this close to the best closeness answers praise the parse reads, when the fused ranking left
# every praise playbook out (a well-received presentation: 0.07 behind; interview preparation misread as praise:
# 0.25 behind).
PRAISE_WITHIN = 0.1
MIN_WORDS = 3  # a first message shorter than this ("Priya", "help") is answered with a question
NEED_BY_MODE = {"feedback": "feedback", "prepare": "conversation"}
MODE_BY_NEED = {"conversation": "prepare", "feedback": "feedback", "praise": "feedback", "practice": "practice"}
# Words that ask for help without saying about what: "I need some advice", "quick question about my mentee".
_ASKING_WORDS = (
    "advice help question questions tip tips mentee mentor mentoring need needs want wanted please hi hello hey "
    "thanks thank quick some any urgent guidance support can could would you me i my a an the about with on for "
    "have got just really do does get give"
)
_ASKING_ONLY = frozenset(_ASKING_WORDS.split())


def _says_nothing_yet(message: str) -> bool:
    """A name or a word or two, or only a request for help: no situation to match, however close a phrasing is."""
    words = re.findall(r"[a-z']+", message.lower())
    return len(message.split()) < MIN_WORDS or all(w in _ASKING_ONLY for w in words)


@dataclass(frozen=True)
class ConversationState:
    """What a conversation is about so far, rebuilt from its stored turns."""

    playbook_ids: tuple[str, ...] = ()
    mentee_name: str | None = None
    need: str | None = None
    user_turns: tuple[str, ...] = ()
    thread_needs: frozenset[str] = frozenset()  # every kind of help answered so far in this conversation

    @property
    def active(self) -> bool:
        return bool(self.playbook_ids)


@dataclass(frozen=True)
class Reading:
    """The coach's understanding of one message."""

    playbooks: list[Playbook]
    need: str
    details: Details
    mentee_name: str | None
    matches: Matches
    follow_up_of: str | None = None
    shorter: bool = False
    alternatives: list[Playbook] = field(default_factory=list)
    plain: bool = False  # "less formal please": the previous answer, shorter and in everyday words
    focus: str | None = None  # a follow-up on the same playbook: the lines that answer it come first
    restate: bool = True  # a follow-up's lead quotes the mentor's situation (only the first follow-up does)
    new_playbook: bool = False  # a follow-up moved away from the guidance the last answer drew on
    says_nothing: bool = False  # a first message with no situation in it: a name, a word, only "help"
    message: Message | None = None  # the record it was read from (set by Understanding.read)
    items_wanted: int | None = None  # "make it shorter, three bullet points": how many items the answer keeps
    wants_example: bool = False  # "give me an example of how it might go": the playbook's worked example
    step_asked: int | None = None  # "say more about the second step": which listed step (1-based, -1 the last)
    part_asked: str | None = None  # "what questions could I ask him?": one part of the guidance (followup_cues.yaml)

    @property
    def understood(self) -> bool:
        return bool(self.playbooks)

    @property
    def mode(self) -> str:
        return MODE_BY_NEED.get(self.need, "chat")


class Understanding:
    def __init__(self, playbooks: dict[str, Playbook], matcher: SituationMatcher, needs: NeedClassifier) -> None:
        self.playbooks = playbooks
        self.matcher = matcher
        self.needs = needs
        self._by_source = {b.source: b for b in playbooks.values()}
        self.chooser = FollowUpChooser.load()
        self.tone = ToneClassifier.load(matcher.embedder)

    def message(self, raw: str) -> Message:
        """The message normalised, encoded and parsed, once: every later stage reads this record."""
        return read_message(raw, self.matcher.embedder)

    def details(self, message: str | Message) -> Details:
        """Who did what, when and to what effect; praise or a problem read by the tone classifier when it has
        weights for this encoder."""
        record = self.message(message) if isinstance(message, str) else message
        if self.tone is None:
            return record.details
        vector = record.vector_for(record.text, self.tone.embedder.name)
        if vector is None:
            vector = self.tone.embedder.embed([record.text])[0]
        return self.tone.judge(vector, record.details)

    def state_from(self, turns: Sequence[TurnRecord]) -> ConversationState:
        """What the conversation is about, from its stored turns: the playbooks the last answer drew on, the
        mentee named, the kind of help asked for. Derived from the database, so it survives a restart."""
        ids: tuple[str, ...] = ()
        need = None
        needs: set[str] = set()
        user_turns: list[str] = []
        for turn in turns:
            if not turn.complete:
                continue
            if turn.role == "user":
                user_turns.append(turn.content)
                continue
            sources = [str(s.get("source")) for s in turn.sources]
            cited = [self._by_source[s].id for s in sources if s in self._by_source]
            cited = cited or self._escalated_playbook(turn.safety)
            if cited:
                # The guidance on asking or on confidentiality answers a side question ("what should I ask him?",
                # "should I tell his manager?"): it supports the thread and never leads it.
                cited_ids = list(dict.fromkeys(cited))
                leading = [i for i in cited_ids if i not in SIDE_PLAYBOOKS] or [
                    i for i in ids if i not in SIDE_PLAYBOOKS
                ]
                ids = tuple(dict.fromkeys([*leading, *cited_ids]))
                need = NEED_BY_MODE.get(turn.mode, "advice")
                if need == "feedback" and self.playbooks[ids[0]].need == "praise":
                    need = "praise"  # praise is answered in feedback mode; the thread stays praise
                needs.add(need)
        name = None
        for text in reversed(user_turns):
            name = extract(text).name
            if name:
                break
        return ConversationState(ids, name, need, tuple(user_turns), frozenset(needs))

    def _escalated_playbook(self, safety: dict[str, Any] | None) -> list[str]:
        """The playbook for the situation an escalated answer was about: the safety message cites no guidance,
        yet "what are my first words?" after it is still about that person's safety, not about the call it
        happened on."""
        if not safety:
            return []
        kind = "threat" if safety.get("threat") else str(safety.get("category"))
        playbook_id = PLAYBOOK_AFTER_ESCALATION.get(kind)
        return [playbook_id] if playbook_id in self.playbooks else []

    def read(self, received: str | Message, state: ConversationState, mode: str = "auto") -> Reading:
        """What the message asks for, against the conversation so far (a string is read into a Message first)."""
        record = self.message(received) if isinstance(received, str) else received
        return replace(self._read(record, state, mode), message=record)

    def _read(self, record: Message, state: ConversationState, mode: str) -> Reading:
        message = record.text
        details = self.details(record)
        name = details.name or state.mentee_name
        alone = self.matcher.match(message, vector=record.vector_for(message, self.matcher.embedder.name))
        previous = [self.playbooks[i] for i in state.playbook_ids if i in self.playbooks]
        if not previous:
            # A name or a word or two carries no situation; asking beats guessing.
            nothing = _says_nothing_yet(message)
            encoded = [] if nothing else [m.playbook for m in alone.chosen()]
            chosen = _steered(encoded, alone, details, self.playbooks, message)
            return replace(self._reading(message, chosen, details, name, alone, mode), says_nothing=nothing)
        thread = _quoted_start(state.user_turns[0]) if state.user_turns else previous[0].title
        # The situation is quoted back once; after that the answers say only how they connect ("If Dana cries").
        restate = len(state.user_turns) <= 1
        if not details.behavior:
            # "Give me the exact words": the act to draft from is in what the mentor said earlier.
            details = _first_with_act(state.user_turns) or details
        # An edit of the last answer is short, or says what it wants before its first comma ("could you answer in
        # simpler English, I'm going to read it out to him").
        request = message if len(message.split()) <= NEW_THREAD_WORDS else _FIRST_CLAUSE.split(message, 1)[0]
        edit = len(request.split()) <= NEW_THREAD_WORDS and (request == message or bool(_ASKS_COACH.match(request)))
        if edit and _SHORTER.search(request):
            reading = self._reading(message, previous, details, name, alone, mode, shorter=True, need=state.need)
            return replace(reading, items_wanted=items_wanted(request))
        if previous[0].need in ("praise", "feedback") and state.need == "advice":
            state = replace(state, need=previous[0].need)  # a thread about feedback stays one after a side question
        own_conversation = bool({state.need, *state.thread_needs} & set(OWN_CONVERSATION_NEEDS))
        if edit and _WORDS_PLEASE.search(request) and state.need in ("praise", "feedback"):
            # "Give me the exact words": the draft for the act described earlier, not another topic.
            return self._reading(message, previous, details, name, alone, mode, follow_up_of=thread, need=state.need)
        if edit and (asked := _part_of_answer_asked(request)):
            # An example, one part of the guidance or more on one step: the same guidance, that piece of it.
            books = self._with_asking(previous) if asked.get("part_asked") == "questions" else previous
            reading = self._reading(message, books, details, name, alone, mode, follow_up_of=thread, need=state.need)
            return replace(reading, restate=restate, **asked)
        if edit and _WRITTEN.search(request) and not _MENTEE_WRITES.search(message):
            return self._reading(message, previous, details, name, alone, mode, follow_up_of=thread, need="email")
        if edit and _RESTYLE.search(request):
            reading = self._reading(message, previous, details, name, alone, mode, shorter=True, need=state.need)
            return replace(reading, plain=True, items_wanted=items_wanted(request))
        top = alone.top
        long_and_new = len(message.split()) >= NEW_THREAD_WORDS and not _refers_back(message)
        if top and alone.confidence == "sure" and long_and_new and top.playbook not in previous:
            # A long message that clearly names another situation starts a new thread.
            chosen = _who_acted([m.playbook for m in alone.chosen()], alone, details)
            return self._reading(message, chosen, details, name, alone, mode)
        readings = self.follow_up_readings(message, state, alone)
        alone, context = readings["reaction"] or alone, readings["context"] or alone
        scores = self._follow_up_scores(message, readings, previous)
        if previous[0].need == "conversation" and asks_how_to_open(message):
            scores = {}  # the plan for this conversation already holds its opening line: the answer starts from it
        self._put_first(message, readings, previous, own_conversation, scores)
        if own_conversation and not _MENTEE_PREPARES.search(message):
            scores = {i: v for i, v in scores.items() if self.playbooks[i].need != "prepare"}
        if scores and (alone.confidence != "unsure" or context.confidence != "unsure"):
            best = max(scores, key=lambda i: scores[i])
            if self.playbooks[best] not in previous:
                moved = self.playbooks[best]
                moved_need = self._follow_up_need(moved)
                reading = self._reading(
                    message,
                    [moved],
                    details,
                    name,
                    alone,
                    mode,
                    follow_up_of=thread,
                    need=moved_need,
                    focus=message,
                    restate=restate,
                )
                return replace(reading, new_playbook=True)
        # A question about the moment ("in public or private?") gets advice; only an ask for words gets a draft.
        same_need = "advice" if state.need in ("praise", "feedback") else state.need
        return self._reading(
            message,
            previous,
            details,
            name,
            alone,
            mode,
            follow_up_of=thread,
            need=same_need,
            focus=message,
            restate=restate,
        )

    def _put_first(
        self,
        message: str,
        readings: dict[str, Matches | None],
        previous: Sequence[Playbook],
        own_conversation: bool,
        scores: dict[str, float],
    ) -> None:
        """Turns whose kind names the playbook, put above the chooser's scores; the most specific rule last."""
        news = outcome(message)
        if news and not fits_outcome(previous[0], news):
            # "She got it!!!" asks for recognition and "they gave it to someone from outside" for support through
            # a setback, whatever the thread was about before the news.
            fitting = [i for i in scores if fits_outcome(self.playbooks[i], news)]
            if fitting:
                _prefer(scores, max(fitting, key=scores.__getitem__))
        if own_conversation and _CLOSING.search(message) and CLOSING_PLAYBOOK in self.playbooks:
            _prefer(scores, CLOSING_PLAYBOOK)  # the close of this conversation
        if previous[0].need != "prepare" and _mentee_is_to_speak(message):
            # "She wants to raise it with him; how do I help her get ready?": the mentee's own conversation now.
            prepare = [i for i in scores if self.playbooks[i].need == "prepare"]
            if prepare:
                _prefer(scores, max(prepare, key=scores.__getitem__))
            elif MENTEE_CONVERSATION_PLAYBOOK in self.playbooks:
                _prefer(scores, MENTEE_CONVERSATION_PLAYBOOK)
        passing_on = previous[0].id not in CONFIDENCE_PLAYBOOKS and asks_about_passing_on(message)
        if passing_on and CONFIDENTIALITY_PLAYBOOK in self.playbooks:
            _prefer(scores, CONFIDENTIALITY_PLAYBOOK)  # what the mentor may pass on, and to whom
        # "What if he gets defensive?" in the mentor's own conversation, or "he got defensive" in any thread: the
        # playbook for that moment. What the mentee might say or ask ("what if she asks why?") stays with the
        # conversation's own guidance.
        feeling = (own_conversation and _FEELING.search(message)) or _REPORTED_FEELING.search(message)
        felt = readings["reaction"] if feeling else None
        if felt is not None and felt.top and felt.confidence == "sure":
            _prefer(scores, felt.top.playbook.id)
        elif own_conversation and _ASKED_IN_REPLY.search(message):
            _prefer(scores, previous[0].id)

    def follow_up_readings(
        self, message: str, state: ConversationState, alone: Matches | None = None
    ) -> dict[str, Matches | None]:
        """A follow-up read alone, with the last turns, with the conversation's first message, and by the
        reaction it asks about. A short follow-up means little alone ("how do I wrap it up?"), read only with what
        came before it loses its own point ("what if he gets angry?"), and the first message names the situation
        while later ones often only react to the answers."""
        reaction = _first_reaction(message)
        return {
            "alone": alone or self.matcher.match(message),
            "context": self.matcher.match(" ".join([*state.user_turns[-CONTEXT_TURNS:], message])),
            "opening": self.matcher.match(" ".join([state.user_turns[0], message])) if state.user_turns else None,
            # "What if he gets defensive and says the client has no taste?" is about defensiveness, not clients.
            "reaction": self.matcher.match(reaction) if reaction else None,
        }

    def _follow_up_scores(
        self, message: str, readings: dict[str, Matches | None], previous: list[Playbook]
    ) -> dict[str, float]:
        """Per candidate playbook, how well it answers the follow-up: the trained chooser when its weights are
        there, else the readings' fused scores with a head start for the conversation's playbook and its related
        ones."""
        if self.chooser is not None:
            return self.chooser.scores(message, readings, previous, self.playbooks)
        near = {previous[0].id, *previous[0].related}
        scores = blended_scores(message, readings)
        return {i: v + (FOLLOW_UP_BOOST if i in near else 0.0) for i, v in scores.items()}

    def _with_asking(self, previous: list[Playbook]) -> list[Playbook]:
        """The conversation's playbook, then the guidance on asking questions (unless the thread is about that)."""
        asking = self.playbooks.get(ASKING_PLAYBOOK)
        if asking is None or previous[0].id == ASKING_PLAYBOOK:
            return previous
        return [previous[0], asking]

    def _reading(
        self,
        message: str,
        chosen: list[Playbook],
        details: Details,
        name: str | None,
        matches: Matches,
        mode: str,
        follow_up_of: str | None = None,
        shorter: bool = False,
        need: str | None = None,
        focus: str | None = None,
        restate: bool = True,
    ) -> Reading:
        if mode in NEED_BY_MODE:
            need = NEED_BY_MODE[mode]
        elif need is None:
            need = self._need(message, chosen, details, explicit_chat=mode == "chat")
        alternatives = [m.playbook for m in matches.ranked[:3] if m.similarity >= SURE * 0.6]
        return Reading(
            chosen,
            need,
            details,
            name,
            matches,
            follow_up_of,
            shorter,
            alternatives=alternatives,
            focus=focus,
            restate=restate,
        )

    @staticmethod
    def _follow_up_need(book: Playbook) -> str:
        """A follow-up about a moment inside the conversation ("what if he gets angry?") gets advice for that
        moment, never a second conversation plan with its own opening line, nor a new draft."""
        return "prepare" if book.need == "prepare" else "advice"

    def _need(self, message: str, chosen: list[Playbook], details: Details, explicit_chat: bool) -> str:
        """The playbook's own need, unless the message asks for words of praise or feedback about something
        that happened. In chat mode a message never becomes a conversation plan."""
        default = chosen[0].need if chosen else "advice"
        if (
            default in ("feedback", "praise")
            and not _done_by_mentee(details.behavior)
            and not _WORDING_ASK.search(message)
        ):
            default = "advice"  # "how do I give feedback to my boss?" asks how, not for a draft
        guess = self.needs.classify(message, default).need
        if guess == "feedback" and default == "praise" and details.is_praise:
            # The situation and the parse both read the act as praiseworthy: the words wanted are recognition.
            guess = "praise"
        wants_words = default in ("feedback", "praise") or _WORDING.search(message)
        if guess in ("praise", "feedback") and _done_by_mentee(details.behavior) and wants_words:
            need = guess
        elif guess == "conversation" and default in ("advice", "conversation"):
            need = "conversation"
        else:
            need = default
        return "advice" if explicit_chat and need == "conversation" else need


# "Got a bad review", "was passed over": what happened to the mentee, not an act to give feedback or praise on.
# How close (share of the leader's fused score) a playbook on the mentee's own conduct must be to lead instead of a
# playbook on being mistreated, when the parse found the mentee doing the act.
CONDUCT_CLOSE = 0.95
_HAPPENED_TO = re.compile(
    r"^(?:(?:has |have |had |just )?(?:got|gets|getting|received?|receives)(?: back)? (?:an? |the |his |her |their )?"
    r"(?:\w+ ){0,2}?(?:review|rating|appraisal|feedback|score|mark|grade|result|rejection|news|complaint|warning)s?"
    r"|(?:was|were|is|has been|got) (?:given|told|passed over|turned down|rejected|refused|denied|made redundant"
    r"|laid off|let go)"
    # "Asked me to look over her CV": what the mentee wants from the mentor, not the work to give feedback on.
    r"|(?:has |have |just )?(?:asked|asks|wants|wanted) me to\b)\b",
    re.I,
)


def items_wanted(request: str) -> int | None:
    """How many items an edit asks for ("three bullet points" → 3), or None when it names no number."""
    found = _ITEMS_WANTED.search(request)
    if found is None:
        return None
    word = found.group(1).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _part_of_answer_asked(request: str) -> dict[str, Any]:
    """The Reading fields for an edit asking for one piece of the guidance already given, or {} for none."""
    if _EXAMPLE.search(request):
        return {"wants_example": True}
    if (part := part_asked(request)) is not None:
        return {"part_asked": part, "items_wanted": items_wanted(request)}
    if (step := step_asked(request)) is not None:
        return {"step_asked": step}
    return {}


def step_asked(request: str) -> int | None:
    """Which listed step of the last answer a request asks to open up ("more on the second step" → 2, "the last
    point" → -1), or None when it names none or does not ask for more."""
    found = _STEP_ASKED.search(request)
    if found is None or not _MORE_ON.search(request):
        return None
    word = (found.group("word") or found.group("digit")).lower()
    return int(word[0]) if word[0].isdigit() else _ORDINALS[word]


def _prefer(scores: dict[str, float], playbook_id: str) -> None:
    """A rule that knows the answer puts its playbook above every score the chooser gave."""
    scores[playbook_id] = max(scores.values(), default=0.0) + 1.0


def _steered(
    chosen: list[Playbook], matches: Matches, details: Details, catalogue: dict[str, Playbook], message: str
) -> list[Playbook]:
    """The encoder's choice, corrected where the words say who is to speak and where the parse reads what the
    encoder cannot: praise, news to give, who acted."""
    chosen = _mentee_speaks_first(_mentor_speaks_first(chosen, matches, message), matches, message, catalogue)
    chosen = _praise_first(chosen, matches, details, catalogue, message)
    for steer in (_news_first, _who_acted):
        chosen = steer(chosen, matches, details)
    return chosen


# The mentor means to recognise something: "I want to tell him", "thank her", "say well done".
_PRAISE_INTENT = re.compile(
    r"\b(?:tell (?:him|her|them)|thank|prais|recogni[sz]|proud|well done|congratulat|shout[- ]?out|credit"
    r"|kudos|appreciat|acknowledg)",
    re.I,
)
# "Keeps volunteering for every committee": a habit is how mentors describe a problem, not what they thank.
_HABIT = re.compile(r"\b(?:keeps?|kept|constantly|repeatedly|all the time|every time)\b", re.I)


def _praise_first(
    chosen: list[Playbook], matches: Matches, details: Details, catalogue: dict[str, Playbook], message: str
) -> list[Playbook]:
    """The parse reads praise ("it went really well", "he handled it calmly") where the encoder only sees the
    topic ("presented to the leadership team… I want to tell him" is closest to delivering news): a praise
    playbook among the leading candidates answers it, else the praise playbook closest to the message."""
    setback = reports_setback(message)

    def fits(book: Playbook) -> bool:
        # Recognising effort when results fall short needs a result that fell short ("we still lost the appeal").
        return book.need == "praise" and (setback or SETBACK not in book.tags)

    if not chosen or not details.is_praise or fits(chosen[0]) or _HABIT.search(details.behavior or ""):
        return chosen
    leading = next((m.playbook for m in matches.ranked if fits(m.playbook)), None)
    if leading is None and not _PRAISE_INTENT.search(message):
        return chosen  # "just got promoted… what should we focus on?": good news, and no wish to recognise it
    praise = [b for b in catalogue.values() if fits(b)]
    closest = leading or max(praise, key=lambda b: matches.similarity.get(b.id, 0.0), default=None)
    top = max(matches.similarity.values(), default=0.0)
    if closest is None or matches.similarity.get(closest.id, 0.0) < top - PRAISE_WITHIN:
        return chosen  # far from every praise playbook: the parse's praise reading is likely wrong
    return [closest]


def _news_first(chosen: list[Playbook], matches: Matches, details: Details) -> list[Playbook]:
    """The parse reads news the mentor has to give ("I need to tell Marco that the client rejected his concept")
    where the encoder hears only the setback: it leans to recognising the effort behind it, or to helping a mentee
    who already knows cope with it ("moved to another team in the reorganisation… I have to tell him"). A playbook
    on having the conversation answers it: any among the leading candidates after praise, the runner-up after
    advice."""
    if not chosen or not details.is_news or details.is_praise or chosen[0].need not in ("praise", "advice"):
        return chosen
    leading = matches.ranked if chosen[0].need == "praise" else matches.ranked[:NEWS_RUNNER_UP]
    talk = next((m.playbook for m in leading if m.playbook.need == "conversation"), None)
    return [talk] if talk else chosen


def _who_acted(chosen: list[Playbook], matches: Matches, details: Details) -> list[Playbook]:
    """The encoder hears "shouted" or "belittled" and cannot tell who did it to whom; the parse can. When someone
    else acted on the mentee and the message tells of nothing the mentee did, a playbook on the mentee's own conduct
    gives way to the leading one on being mistreated (else to the first that is not about their conduct). When the
    mentee acted on other people ("keeps cutting people off") and nobody acted on them, a playbook on being
    mistreated gives way to the leading one on conduct."""
    if not chosen:
        return chosen
    top, ranked = chosen[0], [m.playbook for m in matches.ranked]
    if CONDUCT in top.tags and details.on_receiving_end and not details.behavior:
        others = [b for b in ranked if CONDUCT not in b.tags]
        return ([b for b in others if MISTREATMENT in b.tags] or others or chosen)[:1]
    if MISTREATMENT in top.tags and details.acted_on_others and not details.on_receiving_end:
        return ([b for b in ranked if CONDUCT in b.tags] or chosen)[:1]
    if MISTREATMENT in top.tags and not details.on_receiving_end and _done_by_mentee(details.behavior):
        # "My mentee presented my idea as his own": the mentee did it, to the mentor or to the work, so a playbook
        # on their conduct that the match found about as close comes first.
        close = [m.playbook for m in matches.ranked[:2] if m.score >= CONDUCT_CLOSE * matches.ranked[0].score]
        conduct = [b for b in close if CONDUCT in b.tags]
        return [conduct[0], *(b for b in chosen if b is not conduct[0])] if conduct else chosen
    return chosen


def _mentor_speaks_first(chosen: list[Playbook], matches: Matches, message: str) -> list[Playbook]:
    """ "Help me give him feedback", "I need to tell her": the mentor is the one to speak, so a playbook on
    helping a mentee prepare their own conversation gives way to the leading one on a conversation of the
    mentor's own (feedback, praise or a hard conversation)."""
    if not (chosen and chosen[0].need == "prepare" and _MENTOR_SPEAKS.search(message)):
        return chosen
    if _MENTEE_PREPARES.search(message):
        return chosen
    spoken = [m.playbook for m in matches.ranked if m.playbook.need in OWN_CONVERSATION_NEEDS]
    return spoken[:1] or chosen


def _mentee_is_to_speak(message: str) -> bool:
    """ "She wants to raise it with him; how do I help her get ready?": the mentee has the conversation."""
    return bool(_MENTEE_WILL_TALK.search(message) and _MENTEE_PREPARES.search(message))


def _mentee_speaks_first(
    chosen: list[Playbook], matches: Matches, message: str, catalogue: dict[str, Playbook]
) -> list[Playbook]:
    """ "She has to tell the director the report is late and asked me to help her plan what to say": the mentee is
    the one to speak, so the leading playbook on helping a mentee prepare their own event answers (else the one on
    preparing their own hard conversation), not one on the mentor giving feedback about the topic."""
    if not chosen or chosen[0].need == "prepare":
        return chosen
    if not _mentee_is_to_speak(message):
        return chosen
    prepare = [m.playbook for m in matches.ranked if m.playbook.need == "prepare"]
    fallback = [catalogue[MENTEE_CONVERSATION_PLAYBOOK]] if MENTEE_CONVERSATION_PLAYBOOK in catalogue else chosen
    return prepare[:1] or fallback


def _done_by_mentee(behaviour: str | None) -> bool:
    return bool(behaviour) and not _HAPPENED_TO.match(behaviour or "")


def _first_with_act(user_turns: Sequence[str]) -> Details | None:
    """The act the conversation is about: later turns tell what happened since ("she replied that…")."""
    for text in user_turns:
        found = extract(text)
        if found.behavior:
            return found
    return None


def _quoted_start(message: str, words: int = 14, sentence_words: int = 22) -> str:
    """The mentor's own opening words, to say which situation a follow-up continues: the first sentence when it
    is short enough, else its first words."""
    first = re.split(r"(?<=[.!?])\s+", message.strip(), maxsplit=1)[0]
    kept = first.split()
    if len(kept) <= sentence_words:
        return f"“{first.rstrip('.,;:!?')}”"
    text = " ".join(kept[:words]).rstrip(".,;:!?")
    return f"“{text}…”"


_REACTION_PREDICATE = re.compile(r"\bif ((?:s?he|they) [^,?.!;]{2,60}?)(?: and | but |,|\?|$)", re.I)


# A reaction of feeling ("gets defensive", "starts crying", "storms out"), not of words ("says no", "asks why").
_FEELING = re.compile(
    r"\bif (?:s?he|they) (?:gets?|starts?|cr(?:y|ies)|storms? (?:out|off)|shuts? down|goes (?:quiet|silent)"
    r"|breaks? down|loses? (?:it|(?:his|her|their) temper)|bursts? into|walks? out|freezes?|panics?)\b",
    re.I,
)


# What the mentee might say or ask in reply ("what if she asks whether she can reapply?", "and if he says it was
# only banter?"): answered inside the conversation's own guidance, whatever playbook its words resemble.
_ASKED_IN_REPLY = re.compile(
    r"\bif (?:s?he|they) (?:just )?(?:says?|asks?|tells? me|wants? to know|brings? up|mentions?)\b",
    re.I,
)


# A reaction of feeling the mentee already had ("when I raised it she blamed the design team", "he got defensive
# and said I'm holding him back"): the moment the follow-up is about, as with one asked about in advance.
_REPORTED_FEELING = re.compile(
    r"\b((?:s?he|they) (?:got (?:really |very |quite |a bit |so )?(?:defensive|angry|upset|emotional|tearful)"
    r"|blamed|cried|started crying|burst into tears|stormed (?:out|off)|shut down|went (?:quiet|silent)"
    r"|broke down|lost (?:it|(?:his|her|their) (?:temper|cool))|walked out|froze|panicked|snapped at)"
    r"[^,?.!;]{0,60}?)(?: and | but |,|\?|\.|$)",
    re.I,
)


def _first_reaction(message: str) -> str | None:
    """ "what if he gets defensive and says X?" → "my mentee gets defensive": the first reaction asked about, or
    the first the mentee already had ("she blamed the design team" → "my mentee blamed the design team")."""
    found = _REACTION_PREDICATE.search(message) or _REPORTED_FEELING.search(message)
    if not found:
        return None
    return "my mentee " + found.group(1).split(" ", 1)[1]


def _refers_back(message: str) -> bool:
    """'she', 'him', 'that', 'it' early in a message point at what was said before."""
    first_words = message.lower().split()[:6]
    return any(
        w.strip("?,.!") in {"she", "he", "her", "him", "they", "them", "that", "it", "this"} for w in first_words
    )
