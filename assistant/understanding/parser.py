"""Parse a mentor's message once into a typed record: who is named, who the mentee is, when, what happened, what
the mentee did, what it led to, what the mentor wants, and whether it is praise or a problem.

Each field is read off spaCy's dependency parse (see people.py for who is who): the behaviour is the clause whose
subject is the mentee; the impact is what other people, things or the mentor did as a result; the situation is the
event or time the behaviour is anchored to. A field the parse does not support is None, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from spacy.tokens import Doc, Span, Token

from assistant.feedback import JUDGMENTAL
from assistant.understanding.model import parse_doc
from assistant.understanding.people import (
    MENTOR_WORDS,
    PERSON_NOUNS,
    SPEECH_VERBS,
    People,
    appos_root,
    find_people,
    own_subjects,
    reattach_named_roles,
    reattach_second_subjects,
)
from assistant.understanding.rewrite import FOCUS_WORDS, joint, second_person

# Nouns for events and places a behaviour happens in ("during the design review", "on the ward").
# fmt: off
EVENT_NOUNS = {
    "meeting", "review", "standup", "stand-up", "up", "call", "demo", "retro", "retrospective", "planning",
    "session", "workshop", "shift", "shifts", "round", "briefing", "audit", "class", "lesson", "handover",
    "interview", "presentation", "conference", "offsite", "one", "ones", "sync", "update", "huddle", "service",
    "evening", "negotiation", "launch", "outage", "incident", "sprint", "job", "ward", "till", "desk", "counter",
    "kitchen", "site", "visit", "deliveries", "rush", "escalation", "wrap", "hands", "hackathon", "dinner", "lunch",
    "chat", "thread", "channel", "email", "calls", "meetings", "reviews", "demos", "rounds", "visits", "weekend",
    "night", "morning", "afternoon", "week", "month", "quarter", "day", "event", "pitch", "rehearsal", "lecture",
    "seminar", "training", "kickoff", "deployment", "release", "inspection", "game", "match", "slack", "zoom",
    "holiday", "holidays", "break", "term", "semester", "trip", "tour", "fair", "show", "exhibition", "ceremony",
    "party", "viewing", "check-in", "checkin", "catch-up", "debrief", "onboarding", "orientation", "panel", "board",
    "committee", "assembly", "surgery", "clinic", "rota", "install", "installation", "walkthrough",
    "hearing", "appointment", "consultation", "webinar", "forum", "summit", "convention", "festival", "concert",
    "induction", "postmortem", "post-mortem", "gig", "performance", "rehearsals", "drill", "handoff", "closing",
}
# fmt: on
# fmt: off
# Not "to": "late to the review", "show up to the briefing" name where someone went, which is the behaviour.
_SITUATION_PREPS = {"during", "in", "at", "on", "after", "over", "since", "for", "before", "throughout"}
# But a dated occasion is the setting, "to" included: "late to the workshop on Tuesday" (see _occasion_of).
_OCCASION_PREPS = {"to", "for", "at"}
# fmt: on
# fmt: off
_TIME_WORDS = {
    "yesterday", "today", "tonight", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "week", "month", "morning", "afternoon", "evening", "night", "weekend", "sprint", "quarter",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "time", "spring", "summer", "autumn", "winter", "term", "semester",
}
# fmt: on
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_CALENDAR_DAYS = _WEEKDAYS | {"weekend"}
_CLOCK = {"am", "pm", "a.m.", "p.m.", "noon", "midnight", "midday", "o'clock"}
# Verbs with which the mentor states a plan, a wish or a question rather than something that happened.
# fmt: off
PLAN_VERBS = {
    "want", "need", "like", "love", "meet", "see", "talk", "speak", "tell", "give", "help", "prepare", "handle",
    "raise", "say", "do", "write", "draft", "praise", "thank", "recognise", "recognize", "manage", "mentor",
    "think", "worry", "plan", "open", "approach", "get", "have", "ask", "would", "should", "can", "could", "know",
    "wonder", "hope", "try",
}
# fmt: on
# Verbs of thanks and recognition whose "for" clause is the behaviour: "thank Arjun for staying late".
# fmt: off
THANKS_VERBS = {
    "thank", "praise", "recognise", "recognize", "acknowledge", "commend", "congratulate", "credit", "compliment",
    "appreciate", "applaud", "celebrate", "reward",
}
# fmt: on
# The same as nouns heading a message: "Kudos to Dan for spotting the leak", "Thanks to Wen for staying late".
THANKS_NOUNS = {"kudos", "kudo", "thanks", "thank", "shout", "shoutout", "credit", "props", "prop"}
# fmt: off
WISH_VERBS = {
    "want", "like", "need", "expect", "ask", "encourage", "prefer", "love",
}
# fmt: on
NEWS_VERBS = {"tell", "inform", "break", "announce"}
EFFECT_PARTICIPLES = {"leave", "cause", "force", "cost", "save", "result", "prompt", "delay", "put"}
NOTE_PLAN_VERBS = {"talk", "speak", "meet", "see", "help", "give", "raise", "praise", "thank", "mention", "discuss"}
# Verbs with which the mentor frames what they know or believe of the mentee in general, and words that label a
# sentence as background: the incident itself is elsewhere.
BELIEF_VERBS = {"know", "think", "believe", "feel", "guess", "understand", "realise", "realize", "appreciate"}
CONTEXT_WORDS = {"background", "context", "history", "backstory"}
# "Omar manages the payments team", "Efua runs the night shift", "Jonas works in accounts": the mentee's role, said
# in the present simple as background to the act that follows.
ROLE_VERBS = {"manage", "lead", "head", "run", "oversee", "supervise", "coordinate", "own", "work", "teach", "staff"}
# fmt: off
ROLE_OBJECTS = {
    "team", "shift", "department", "unit", "ward", "desk", "project", "service", "programme", "program",
    "office", "store", "shop", "branch", "site", "class", "group", "function", "account", "crew", "kitchen",
    "lab", "squad", "operation", "line", "floor", "rota", "budget", "portfolio", "area", "region", "clinic",
    "workshop", "depot",
}
# fmt: on
ROLE_PREPOSITIONS = {"in", "at", "as", "on", "for"}
# "shouted at her", "complained about him", "talks down to her": prepositions that make the mentee the target.
TARGET_PREPOSITIONS = {"at", "to", "about", "over", "against", "on"}
THIRD_PERSON_PRONOUNS = {"she", "he", "her", "him", "they", "them"}
GROUP_NOUNS = {"people", "everyone", "everybody", "others", "team", "junior", "colleague", "staff", "peer"}
OTHER_PEOPLE = PERSON_NOUNS | GROUP_NOUNS
REPORTING_VERBS = SPEECH_VERBS | BELIEF_VERBS  # they report what someone did; they are not the act
# Phrasal participles that name a state of mind, not an act: "fed up", "worked up", "stressed out".
STATE_PHRASALS = {"feed", "fed", "work", "stress", "burn", "freak", "wind", "psych", "chill", "cheer", "tire"}
# fmt: off
PRAISE_WORDS = {
    "praise", "thank", "recognise", "recognize", "brilliant", "great", "excellent", "well", "impressed", "proud",
    "celebrate", "calm", "clearly", "good", "helped", "volunteer", "kudos", "amazing", "fantastic", "clear",
    "safely", "better", "saved", "spot", "catch", "fix", "renew", "adopt", "thanked", "mattered", "news",
}
# fmt: on
# fmt: off
PROBLEM_WORDS = {
    "miss", "late", "rude", "forget", "interrupt", "ignore", "complain", "upset", "fail", "wrong", "harsh", "blame",
    "shout", "snap", "cry", "tear", "problem", "issue", "worried", "worry", "defensive", "dismiss", "roll", "break",
    "drop", "lose", "skip", "without", "criticise", "criticize", "humiliate", "threaten", "concede", "credit",
    "delay", "flag", "finding", "stop", "off", "quit", "harm", "not", "n't", "never", "over", "cut", "push",
}
# fmt: on


@dataclass(frozen=True)
class MessageParse:
    """What a mentor's message says, in the mentor's words; `*_you` fields are said to the mentee (or None)."""

    people: tuple[str, ...] = ()
    mentee: str | None = None
    times: tuple[str, ...] = ()
    when: str | None = None  # when the mentor will talk to the mentee ("tomorrow")
    situation: str | None = None
    behavior: str | None = None  # without its subject: "kept cutting off the junior engineers"
    impact: str | None = None
    request: str | None = None
    topic: str | None = None  # news the mentor has to give ("her conference talk was rejected")
    is_news: bool = False
    is_praise: bool | None = None
    praise_balance: int = 0  # words of praise minus words of trouble (PRAISE_WORDS, PROBLEM_WORDS)
    situation_you: str | None = None
    behavior_you: str | None = None  # with its subject: "you kept cutting off the junior engineers"
    impact_you: str | None = None
    request_you: str | None = None
    topic_you: str | None = None
    on_receiving_end: bool = False  # someone else acted on the mentee: "a surgeon shouted at her"
    acted_on_others: bool = False  # the mentee acted on other people: "keeps cutting people off"


def parse(text: str) -> MessageParse:
    """The record for one message; the same text is parsed only once per process."""
    return _parse(as_sentences(text))


def parse_fresh(text: str) -> MessageParse:
    """Parse without the per-process memory (for timing)."""
    text = as_sentences(text)
    return _record(_fresh_doc(text)) if text else MessageParse()


_BULLET = re.compile(r"^\s*(?:[-*•·–—>]+|\d+[.)])\s+")


def as_sentences(text: str) -> str:
    """The message on one line, each item of a bullet list ending as a sentence of its own.

    Mentors paste notes ("Feedback for Chen:\n- he committed the team…\n- two engineers asked to move"); joined
    with spaces the parser would read the list as one run-on clause. A line that is a bullet, or is followed by one,
    gets a full stop when it does not end a sentence; other line breaks (a hard-wrapped email) are only spaces."""
    raw = [line for line in text.splitlines() if line.strip()]
    bullets = [bool(_BULLET.match(line)) for line in raw]
    lines = [_BULLET.sub("", line).strip() for line in raw]
    for n in range(len(lines) - 1):
        if (bullets[n] or bullets[n + 1]) and lines[n] and lines[n][-1] not in _ENDS:
            lines[n] += "."
    return " ".join(" ".join(lines).split())


_ENDS = ".!?:;,\"'’”)"


def message_doc(text: str) -> Doc:
    """The message's English parse, made once per message and shared by every reader of it (the details, the
    direct questions, the follow-up cues), so none parses it again. Shared: read it, never change it."""
    return _sentences_doc(as_sentences(text))


@lru_cache(maxsize=256)
def _sentences_doc(sentences: str) -> Doc:
    # Keyed by the message as `as_sentences` gives it, so the raw message and its one-line form share one parse.
    return _fresh_doc(sentences)


def _fresh_doc(sentences: str) -> Doc:
    doc = parse_doc(sentences)
    reattach_named_roles(doc)
    reattach_second_subjects(doc)
    return doc


@lru_cache(maxsize=1024)
def _parse(text: str) -> MessageParse:
    return _record(_sentences_doc(text)) if text else MessageParse()


def _record(doc: Doc) -> MessageParse:
    return _Reader(doc, find_people(doc)).record()


def _is_break(token: Token) -> bool:
    """A colon, semicolon or dash between clauses ("on Saturday — he stayed calm"), not a hyphen inside a word."""
    if token.text in (":", ";", "—", "–"):
        return True
    return token.text == "-" and token.i > 0 and bool(token.doc[token.i - 1].whitespace_)


class _Reader:
    def __init__(self, doc: Doc, people: People) -> None:
        self.doc, self.people = doc, people
        self.possessed_subject = False
        self.which_first = False
        self.spelled_out: set[Token] = set()
        self.behavior_verbs = self._behavior_verbs() or self._possessed_verbs()
        self.clause_tokens = {t.i for v in self.behavior_verbs for t in self._clause_tokens(v)}
        self.situation_tokens = self._situation_tokens()

    # --- the record ------------------------------------------------------------------------------------------
    def record(self) -> MessageParse:
        behavior = self._behavior_tokens()
        thanked_for = self._thanked_for()
        if thanked_for and set(behavior) <= set(thanked_for):
            behavior = []  # "thank her for the feedback she gave me": the thanks names the act, not the clause alone
        else:
            thanked_for = []
        if thanked_for and not self.behavior_verbs:
            # "I want to thank Amara for staying late… The client loved it.": the act thanked for is what the
            # effect follows, as a behaviour clause would be.
            inside = {t.i for t in thanked_for}
            self.behavior_verbs = [t for t in thanked_for if t.head.i not in inside][:1]
        impact = self._impact_tokens()
        request = self._request_tokens()
        topic, is_news = self._topic_tokens()
        situation = _trim_edges([self.doc[i] for i in sorted(self.situation_tokens)])
        return MessageParse(
            people=self.people.names,
            mentee=self.people.mentee.name if self.people.mentee else None,
            times=tuple(e.text for e in self.doc.ents if e.label_ in ("DATE", "TIME")),
            when=self._when(),
            situation=_text(situation),
            behavior="; ".join(filter(None, map(_text, _by_sentence(behavior)))) or _text(thanked_for),
            impact=self._as_sentence(_text(impact)),
            request=_text(request),
            topic=_text(topic),
            is_news=is_news,
            is_praise=self._is_praise() if behavior else (True if thanked_for else None),
            praise_balance=self._praise_balance(),
            on_receiving_end=self._on_receiving_end(),
            acted_on_others=self._acted_on_others(),
            situation_you=self._you(situation),
            behavior_you=self._with_next_acts(self._behavior_you(behavior) or self._thanks_you(thanked_for)),
            impact_you=self._as_sentence(self._you(impact)),
            request_you=self._you(request),
            topic_you=self._you(topic),
        )

    def _behavior_you(self, behavior: list[Token]) -> str | None:
        if not behavior:
            return None
        first, *notes = _by_sentence(behavior)
        said = self._first_act_you(first)
        for note in notes:  # note lines without a subject: "couldn't get the projector working" → "You couldn't…"
            more = _with_you(self._you(note))
            if not said or not more or JUDGMENTAL.search(more):
                return said
            said = f"{said}. {more[:1].upper()}{more[1:]}"
        return said

    def _first_act_you(self, behavior: list[Token]) -> str | None:
        rewritten = self._you(behavior)
        before = self.doc[behavior[0].i - 1] if behavior[0].i > 0 else None
        if rewritten and before is not None and before.tag_ == "POS" and behavior[0].lower_ == "been":
            rewritten = "'ve " + rewritten  # "Sia's been skipping…" read as a possessive: the 's is "has"
        said = rewritten if self.possessed_subject else _with_you(rewritten)
        # A label ("you get super defensive") is what the feedback guidance says never to say: no draft from it.
        return None if said and JUDGMENTAL.search(said) else said

    def _with_next_acts(self, said: str | None) -> str | None:
        """ "…ran his first retrospective yesterday. He got the quiet people to talk and ended with three clear
        actions.": the next sentence, when it goes on about what the mentee did, belongs in the words to them."""
        if not said or not self.behavior_verbs:
            return said
        sentence = self.behavior_verbs[0].sent
        following = next((s for s in self.doc.sents if s.start >= sentence.end), None)
        if following is None or following.text.rstrip().endswith("?"):
            return said
        root = following.root
        if not _is_past_act(root) or self._is_plan(root) or self._is_trait(root):
            return said  # "He does this a lot", "She is really talented": a habit or a judgement, not an act
        if not self._is_mentee_subject(next(iter(own_subjects(root, self.people)), None)):
            return said
        more = self._you([t for t in following if t.dep_ != "punct" or t.i < following.end - 1])
        if not more or JUDGMENTAL.search(more):
            return said
        return f"{said}. {more[0].upper()}{more[1:]}"

    def _thanked_for(self) -> list[Token]:
        """ "I want to thank Arjun for staying late to fix the outage": the mentor names the act in a "for" clause
        of a verb of thanks whose object is the mentee."""
        words = [t for t in self.doc if t.dep_ == "ROOT" and t.pos_ == "NOUN"]  # "Kudos to Dan for…", "Thanks to…"
        for verb in self._clause_heads() + words:
            if verb.lemma_.lower() not in THANKS_VERBS | THANKS_NOUNS or not self._thanks_the_mentee(verb):
                continue
            # "for" hangs off the verb, or off its object when the parser reads "thank Ife for …" as one phrase.
            heads = [verb, *(c for c in verb.children if c.dep_ in ("dobj", "dative"))]
            for prep in (c for h in heads for c in h.children if c.dep_ == "prep" and c.lower_ == "for"):
                act = next((c for c in prep.children if self._names_an_act(c)), None)
                if act is not None:
                    return _trim([t for t in act.subtree if t.dep_ != "punct" or t.i < act.right_edge.i])
        return []

    @staticmethod
    def _names_an_act(token: Token) -> bool:
        """ "for staying late", "for the feedback she gave me"; not "for it", "for that"."""
        if token.dep_ == "pcomp":
            return token.tag_ == "VBG"
        return token.dep_ == "pobj" and token.pos_ in ("NOUN", "PROPN") and len(list(token.subtree)) > 1

    def _thanks_the_mentee(self, verb: Token) -> bool:
        """ "thank Arjun", "thank her", "thank my mentee Ife", "kudos to Dan"."""
        objects = [c for c in verb.children if c.dep_ in ("dobj", "dative")]
        if verb.pos_ == "NOUN":
            objects = [g for c in verb.children if c.dep_ == "prep" and c.lower_ == "to" for g in c.children]
        named = [t for o in objects for t in o.subtree if self.people.is_mentee(t)]
        return bool(named) or any(o.lower_ in ("him", "her", "them", "mentee") for o in objects)

    def _thanks_you(self, act: list[Token]) -> str | None:
        """Said to the mentee, the act keeps its "-ing" form: "thank you for staying late…"."""
        rewritten = self._you(act)
        return f"thank you for {rewritten}" if rewritten else None

    def _you(self, tokens: list[Token]) -> str | None:
        return second_person(tokens, self.people) if tokens else None

    # --- clauses ---------------------------------------------------------------------------------------------
    def _subject(self, verb: Token) -> Token | None:
        node = verb
        while True:
            found = own_subjects(node, self.people)
            if found:
                return found[-1] if len(found) > 1 and self.people.is_mentee(found[-1]) else found[0]
            if node.dep_ not in ("conj", "xcomp") or node.head.i == node.i:
                return None
            node = node.head

    def _is_mentee_subject(self, token: Token | None) -> bool:
        return (
            token is not None
            and self.people.is_mentee(token)
            and token.i not in self.people.unsure
            and not any(c.dep_ == "conj" for c in token.children)
            and token.dep_ != "conj"
        )

    def _is_mentor_clause(self, verb: Token) -> bool:
        subject = self._subject(verb)
        return subject is not None and subject.lower_ in MENTOR_WORDS

    def _is_plan(self, verb: Token) -> bool:
        """A clause in which the mentor states a plan, wish or question: never part of the incident."""
        if verb.sent.text.rstrip().endswith("?"):
            return True
        if not self._is_mentor_clause(verb) and self._subject(verb) is not None:
            return False
        if verb.tag_ == "VBD" and verb.lemma_.lower() not in WISH_VERBS | {"plan", "try", "hope", "think", "wonder"}:
            return False  # "so I had to reschedule the afternoon", "I was embarrassed": what it led to
        lemmas = {verb.lemma_.lower(), *(c.lemma_.lower() for c in verb.children if c.dep_ in ("aux", "xcomp"))}
        subject = self._subject(verb)
        if subject is not None and self._marked_result(verb, subject):
            # "…, so we could open registrations": what it made possible; "…, so I want to talk to her": a plan
            return bool(lemmas & (WISH_VERBS | NOTE_PLAN_VERBS | NEWS_VERBS))
        near = [t for c in verb.children if c.pos_ not in ("VERB", "AUX") for t in c.subtree]
        future = any(t.lower_ in ("tomorrow", "next", "tonight", "later") for t in near)
        return bool(lemmas & PLAN_VERBS) or future or (verb.tag_ in ("VBG",) and verb.lemma_ in ("meet", "see"))

    def _on_receiving_end(self) -> bool:
        """Someone other than the mentor or the mentee acted on the mentee: "she was shouted at by a surgeon", "she
        keeps getting talked over" (a passive), "a senior engineer keeps belittling my mentee", "her manager yelled
        at her". Questions are plans, not acts."""
        for verb in self._clause_heads():
            if verb.sent.text.rstrip().endswith("?"):
                continue
            agents = [p for c in verb.children if c.dep_ == "agent" for p in c.children if p.dep_ == "pobj"]
            subject = self._subject(verb)
            if any(c.dep_ == "auxpass" for c in verb.children):  # also "keeps getting talked over"
                if subject is not None and self._acted_on_by_another(verb, subject, agents):
                    return True
                continue
            actor = subject
            if actor is None or actor.lower_ in MENTOR_WORDS or self._refers_to_mentee(actor):
                continue
            if actor.pos_ not in ("NOUN", "PROPN", "PRON"):
                continue
            targets = self._targets(verb)
            # "takes her ideas and presents them as his own": an act on what is the mentee's counts too
            owners = [c for t in targets for c in t.children if c.dep_ == "poss"]
            if any(self._refers_to_mentee(t) for t in targets + owners):
                return True
        return False

    def _acted_on_others(self) -> bool:
        """The mentee, by name or role, did something to other people: "keeps cutting people off in stand-ups",
        "snapped at a customer". Speech and belief verbs report ("she says her lead…"), they do not act."""
        for verb in self._clause_heads():
            if verb.sent.text.rstrip().endswith("?") or verb.lemma_ in REPORTING_VERBS:
                continue
            if any(c.dep_ == "auxpass" for c in verb.children):
                continue
            actor = self._subject(verb)
            if actor is None or not self.people.is_mentee(actor) or actor.i in self.people.unsure:
                continue
            if any(self._is_other_people(t) for t in self._targets(verb)):
                return True
        return False

    def _is_other_people(self, token: Token) -> bool:
        if self.people.is_mentee(token) or token.lower_ in MENTOR_WORDS:
            return False
        return token.lemma_.lower() in OTHER_PEOPLE or self.people.of(token) is not None

    @staticmethod
    def _targets(verb: Token) -> list[Token]:
        """What a verb acts on: its object, or the object of "at", "to", "over"… ("shouted at her")."""
        found = [c for c in verb.children if c.dep_ == "dobj"]
        found += [
            p
            for c in verb.children
            if c.dep_ == "prep" and c.lower_ in TARGET_PREPOSITIONS
            for p in c.children
            if p.dep_ == "pobj"
        ]
        return found

    def _acted_on_by_another(self, verb: Token, undergoer: Token, agents: list[Token]) -> bool:
        """A passive with the mentee as its subject: "mocked by his lead" (someone other than the mentor or the
        mentee), or, with no one named, a phrasal act on the mentee ("she keeps getting talked over"). A bare
        participle is usually a state ("she gets flustered", "they are fed up"), not something done to them."""
        if agents:
            # "her ideas get dismissed by the architect": an act on what is the mentee's counts too
            owners = [c for c in undergoer.children if c.dep_ == "poss"]
            undergone = any(self._refers_to_mentee(t) for t in (undergoer, *owners))
            return undergone and not any(a.lower_ in MENTOR_WORDS or self._refers_to_mentee(a) for a in agents)
        phrasal = any(c.dep_ == "prt" for c in verb.children)
        return phrasal and self.people.is_mentee(undergoer) and verb.lemma_ not in STATE_PHRASALS

    def _refers_to_mentee(self, token: Token) -> bool:
        """The mentee, a "who" hung on the mentee, or, when no one is marked as the mentee, someone named or a
        third-person pronoun (the message is about someone the mentor mentors; "her manager" is not them)."""
        if token.lower_ == "who" and token.head.dep_ == "relcl":
            token = token.head.head
        if self.people.is_mentee(token):
            return True
        person = self.people.of(token)
        named = (person is not None and person.name is not None) or token.ent_type_ == "PERSON"
        return self.people.mentee is None and (named or token.lower_ in THIRD_PERSON_PRONOUNS)

    def _clause_heads(self) -> list[Token]:
        return [t for t in self.doc if t.pos_ in ("VERB", "AUX") and t.dep_ not in ("aux", "auxpass")]

    def _behavior_verbs(self) -> list[Token]:
        """The first clause whose own subject is the mentee (an observed act before a judgement such as "is
        reliable"), and the verbs coordinated with it."""
        found: list[Token] = []
        for clause in self._mentee_clauses():
            if self._states_age(clause):  # "Leo is 19 and keeps missing the briefing": the act is the next verb
                found += [c for c in clause.children if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX")]
            elif not self._is_role(clause):
                found.append(clause)
        acts = [v for v in found if not self._is_trait(v)]
        incident = [v for v in acts if not self._is_background(v)]
        first = (incident or acts or found)[:1]
        if not first:
            return []
        verb = first[0]
        work = self._said_of_their_work(verb)
        if work is not None:
            self.possessed_subject = True
            return [work]
        # "Ruta did brilliantly at the conference: she closed three new accounts": what follows the colon spells
        # out the act
        spelled_out = [
            v
            for v in acts
            if v.i > verb.i and v.sent.start == verb.sent.start and any(_is_break(t) for t in self.doc[verb.i : v.i])
        ]
        self.spelled_out = set(spelled_out[:1])  # keeps its own subject: "…: she closed" → "…: you closed"
        return [verb, *self._coordinated(verb), *spelled_out[:1], *self._note_lines(verb)]

    def _said_of_their_work(self, verb: Token) -> Token | None:
        """ "every code review he leaves is blunt": the mentee's clause only picks out their work, and what the
        mentor says is said of that work, in the clause above; its subject stays ("every code review you leave is
        blunt"), as for "Gabriela's comments were harsh"."""
        noun = verb.head
        if verb.dep_ != "relcl" or noun.dep_ not in ("nsubj", "nsubjpass") or self.people.of(noun) is not None:
            return None
        aside = verb.left_edge.i > 0 and self.doc[verb.left_edge.i - 1].text == ","
        if noun.pos_ in ("PROPN", "PRON") or aside:
            return None  # a person, or an aside (", which he wrote last week,")
        return noun.head

    def _note_lines(self, verb: Token) -> list[Token]:
        """ "- she skipped the rehearsal - couldn't get the projector working": in notes, the lines after the
        mentee's act that have no subject at all go on saying what the mentee did."""
        found: list[Token] = []
        for sent in (s for s in self.doc.sents if s.start > verb.sent.start):
            root = sent.root
            if any(c.dep_ in ("nsubj", "nsubjpass", "expl") for c in root.children) or root.pos_ not in ("VERB", "AUX"):
                break
            auxes = [c for c in root.children if c.dep_ in ("aux", "neg")]
            finite = root.tag_ in ("VBD", "VBZ") or (root.tag_ == "VB" and any(a.dep_ == "aux" for a in auxes))
            # "want him to check…", "need to talk to her": the mentor's own note, without its "I"
            mentors_note = root.lemma_.lower() in WISH_VERBS | NEWS_VERBS | NOTE_PLAN_VERBS
            if not finite or mentors_note or sent.text.rstrip().endswith("?"):
                break
            found.append(root)
        return found

    def _is_background(self, verb: Token) -> bool:
        """What the mentor sets out before the incident: a clause under their own knowing or thinking ("I know Samira
        has been carrying a lot"), or a sentence labelled as context ("A bit of background: Priyanka joined…")."""
        # "I know Oren has been…" comes out with "know" above the clause or hung beside it (parataxis)
        framing = [*verb.ancestors, *(c for c in verb.children if c.dep_ == "parataxis" and c.i < verb.i)]
        if any(n.lemma_.lower() in BELIEF_VERBS and self._is_mentor_clause(n) for n in framing):
            return True
        sentence = verb.sent
        label = [t for t in sentence if t.i < verb.i and t.text == ":"]
        if label and any(t.lemma_.lower() in CONTEXT_WORDS for t in self.doc[sentence.start : label[0].i]):
            return True
        return any(t.lemma_.lower() in CONTEXT_WORDS for t in sentence[:2])  # "Background, she joined from…"

    @staticmethod
    def _is_role(verb: Token) -> bool:
        """ "Priya leads our design team and keeps skipping stand-up": the first clause says what her job is; the act
        is the next one. Present simple only ("ran the night shift badly" is something she did)."""
        if verb.tag_ not in ("VBZ", "VBP") or verb.lemma_.lower() not in ROLE_VERBS:
            return False
        children = list(verb.children)
        if any(c.dep_ in ("advmod", "npadvmod") and c.lower_ not in ("also", "now", "currently") for c in children):
            return False  # "runs every meeting badly", "works late": how they do it, not what the job is
        objects = [c for c in children if c.dep_ == "dobj"]
        if objects:
            return all(o.lemma_.lower() in ROLE_OBJECTS for o in objects)
        return verb.lemma_.lower() == "work" and any(
            c.dep_ == "prep" and c.lower_ in ROLE_PREPOSITIONS for c in children
        )

    def _mentee_clauses(self) -> list[Token]:
        found: list[Token] = []
        for verb in self._clause_heads():
            if self._said_of_the_mentee(verb):
                found.append(verb)  # "feedback for Lucía, who missed two deadlines?": what she did, even in a question
                continue
            subject = next(iter(own_subjects(verb, self.people)), None)
            if not self._is_mentee_subject(subject) or self._is_request_verb(verb) or self._is_identity(verb):
                continue
            if self._reduced_relative(verb):
                continue
            if verb.sent.text.rstrip().endswith("?") or self._in_wish(verb) or self._asked_of(verb):
                continue
            if self._happened_to(verb):
                # "was moved to team lead and keeps rewriting their code": what they did after it still counts
                found += [c for c in self._coordinated(verb) if not self._happened_to(c)][:1]
                continue
            if self._asks_the_mentor(verb):
                continue
            if verb.dep_ == "ccomp" and self._asks_the_mentor(verb.head):
                continue  # what the question to the mentor is about ("asked if she can shadow me")
            found.append(verb)
        return found

    def _happened_to(self, verb: Token) -> bool:
        """ "Niamh got moved to the complaints line", "Lukas has been signed off sick": something done to the
        mentee, not something they did ("was seen shouting at a client" still tells what they did)."""
        participle = verb.pos_ == "VERB" and verb.tag_ == "VBN"  # not "'s been late" read as a passive
        passive = (
            participle
            and any(c.dep_ == "auxpass" for c in verb.children)
            and any(c.dep_ == "nsubjpass" and self._is_mentee_subject(c) for c in verb.children)
        )
        return passive and verb.lemma_.lower() not in _WITNESSED

    def _asks_the_mentor(self, verb: Token) -> bool:
        """ "Zoë asked me whether she should apply", "Mia asked if she can shadow me": a question for the mentor,
        not an act to give feedback on."""
        if verb.lemma_.lower() != "ask":
            return False
        return any(c.lower_ in MENTOR_WORDS for c in verb.children if c.dep_ in ("dobj", "dative")) or any(
            c.dep_ == "ccomp" and any(m.lower_ in ("if", "whether") for m in c.children if m.dep_ == "mark")
            for c in verb.children
        )

    def _said_of_the_mentee(self, verb: Token) -> bool:
        """A "who" clause hung on the mentee's name: "Lucía, who missed two deadlines"."""
        subjects = [c for c in verb.children if c.dep_ == "nsubj"]
        return (
            verb.dep_ == "relcl"
            and verb.head.pos_ == "PROPN"  # a named person; "a mentee who gets defensive" is a general question
            and self._is_mentee_subject(verb.head)
            and len(subjects) == 1
            and subjects[0].lower_ == "who"
        )

    def _possessed_verbs(self) -> list[Token]:
        """No clause has the mentee as subject, but one has the mentee's work: "Gabriela's comments were harsh"."""
        for verb in self._clause_heads():
            subject = next(iter(own_subjects(verb, self.people)), None)
            owner = next((c for c in subject.children if c.dep_ == "poss"), None) if subject is not None else None
            if subject is None or owner is None or not self._is_mentee_subject(owner):
                continue
            if self.people.of(subject) is not None or owner.lower_ in MENTOR_WORDS:
                continue  # "My trainee Chen is…": the person, not their work
            if verb.sent.text.rstrip().endswith("?"):
                continue
            if self._is_plan(verb) or subject.dep_ == "nsubjpass" or self._under_mentor(verb):
                continue  # "I have to tell Priya her talk was rejected": news about her work, not what she did
            self.possessed_subject = True
            return [verb, *self._coordinated(verb)]
        return []

    def _reduced_relative(self, verb: Token) -> bool:
        """ "The redesign Lucia spent two months on is being shelved" parsed with two subjects side by side: Lucia's
        verb is inside a description of the redesign, and the parse cannot be trusted with it."""
        subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
        return len(subjects) > 1 and any(
            b.left_edge.i - a.right_edge.i == 1
            and a.right_edge.pos_ in ("NOUN", "PROPN")
            and not self.people.is_mentee(a)
            for a, b in pairwise(subjects)
        )

    def _asked_of(self, verb: Token) -> bool:
        """ "the director asked her to lead the pilot": what someone else wants of the mentee, not what they did."""
        infinitive = any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children)
        return infinitive and verb.dep_ in ("ccomp", "xcomp") and not self._is_mentee_subject(self._subject(verb.head))

    def _under_mentor(self, verb: Token) -> bool:
        return any(a.pos_ in ("VERB", "AUX") and self._is_mentor_clause(a) for a in verb.ancestors)

    def _coordinated(self, verb: Token) -> list[Token]:
        """Verbs joined to this one that share its subject: "listened, apologised and offered a refund"."""
        found: list[Token] = []
        for child in verb.children:
            shares_subject = not any(c.dep_ in ("nsubj", "nsubjpass") for c in child.children)
            # "…interrupted the client, help me give feedback": a bare verb after a finite one is a request to the
            # coach, not another thing the mentee did.
            joined = any(t.dep_ == "cc" for t in verb.doc[verb.i : child.i])  # "went silent and let me talk"
            imperative = child.tag_ == "VB" and verb.tag_ in ("VBD", "VBZ", "VBP") and not joined
            if child.dep_ == "conj" and child.pos_ in ("VERB", "AUX") and shares_subject and not imperative:
                found += [child, *self._coordinated(child)]
        return found

    def _is_identity(self, verb: Token) -> bool:
        """ "Kenji is my mentee", "my mentee is called Zanele": who someone is, not what they did."""
        naming = verb.lemma_.lower() in ("call", "name") and any(c.dep_ in ("oprd", "attr") for c in verb.children)
        if naming and not any(c.dep_ == "dobj" for c in verb.children):
            return True  # not "Gaurav called Meena's plan 'naive'", which is something he did
        return verb.lemma_ == "be" and any(c.dep_ == "attr" and self.people.of(c) is not None for c in verb.children)

    @staticmethod
    def _states_age(verb: Token) -> bool:
        """ "he's 17", "she is twenty-three": who the mentee is, never something they did."""
        if verb.lemma_ != "be":
            return False
        return any(c.dep_ in ("attr", "acomp", "npadvmod") and (c.like_num or c.lower_ == "old") for c in verb.children)

    def _is_trait(self, verb: Token) -> bool:
        """ "Pita is really reliable": a judgement of the person, set aside when the message also says what they
        did."""
        children = list(verb.children)
        return (
            verb.lemma_ in ("be", "get", "seem", "become", "act", "sound", "look")
            and any(c.dep_ == "acomp" for c in children)
            and not any(c.dep_ == "prep" for c in children)
        )

    def _in_wish(self, verb: Token) -> bool:
        head = verb.head
        return verb.dep_ in ("ccomp", "xcomp") and head.lemma_.lower() in WISH_VERBS and self._is_mentor_clause(head)

    def _is_request_verb(self, verb: Token) -> bool:
        modal = any(c.dep_ == "aux" and c.lower_ in ("should", "must") for c in verb.children)
        needs = verb.lemma_ in ("need", "have") and any(c.dep_ == "xcomp" for c in verb.children)
        return modal or needs

    def _cut(self, verb: Token, child: Token) -> bool:
        """Child clauses that are not part of the behaviour: another subject's clause, an effect, a setting."""
        dep = child.dep_
        if dep == "conj" and child.pos_ in ("VERB", "AUX"):
            return True  # coordinated verbs are added on their own (with the same subject) or are someone else's
        if dep == "parataxis" and child.i > verb.i:
            return True
        if dep == "prep" and child.lower_ == "as" and any(_after_as_a_result(t) for t in child.subtree):
            return True  # ", as a result we had to reschedule" parsed as a phrase on the verb
        if dep == "advcl" and child.i < verb.i and child.tag_ == "VB" and child.lemma_.lower() in PLAN_VERBS:
            return True  # "Need to say something to Oscar, he keeps…": the mentor's own note, without its "I"
        if dep == "advcl":
            mark = next((c.lower_ for c in child.children if c.dep_ in ("mark", "advmod")), "")
            marks = {c.lower_ for c in child.children if c.dep_ in ("mark", "advmod")}  # "even though"
            if self._is_which_effect(child):
                return True  # ", which meant the family didn't have to…" parsed as an adverbial clause
            if marks & {"though", "although"} and not self._surely_mentee(self._subject(child) or child):
                return True  # "…even though it was partly my fault": the mentor's aside, not what the mentee did
            return mark in ("so", "while", "as") or (mark == "when" and child.i < verb.i)
        if dep == "ccomp" and child.i < verb.i:
            return True  # a clause before the verb is never what the mentee did ("Growth has been slow and…")
        if dep == "relcl" or dep == "ccomp":
            return self._is_which_effect(child)
        return False

    def _is_which_effect(self, clause: Token) -> bool:
        """ ", which saved us forty thousand dollars", ", meaning the on-call team worked until 2am": a comment on what
        the behaviour led to."""
        subject = next((c for c in clause.children if c.dep_ == "nsubj"), None)
        if subject is None and clause.lemma_ == "mean" and clause.tag_ == "VBG" and clause.i > 0:
            return self.doc[clause.i - 1].text == "," and any(c.dep_ in ("ccomp", "xcomp") for c in clause.children)
        if subject is None and clause.lemma_ in EFFECT_PARTICIPLES and clause.tag_ == "VBG" and clause.i > 0:
            # ", leaving Priya to answer alone", ", costing us a day": a participle of effect after the act
            return self.doc[clause.i - 1].text == "," and clause.dep_ in ("advcl", "xcomp", "conj")
        return (
            subject is not None and subject.lower_ == "which" and subject.i > 0 and self.doc[subject.i - 1].text == ","
        )

    def _clause_tokens(self, verb: Token) -> list[Token]:
        tokens: list[Token] = []
        stack = [verb]
        while stack:
            node = stack.pop()
            tokens.append(node)
            for child in node.children:
                if node.i == verb.i and self._cut(verb, child):
                    continue
                if node.i != verb.i and child.dep_ == "relcl" and self._is_which_effect(child):
                    continue
                if child.dep_ == "ccomp" and self._is_so_that(child):
                    continue  # "explained it so clearly *that the team understood*": what it led to
                if self._others_clause(child, verb):
                    continue  # "…without telling anyone and nobody covered Thursday": someone else's clause
                if self._is_consequence(child):
                    # "…by Friday, so the release slipped", "…and now the team is working the weekend"; what the
                    # parser hung on the consequence before its "so" still belongs to the behaviour
                    start = self._consequence_start(child)
                    stack += [c for c in child.children if c.right_edge.i < start]
                    continue
                stack.append(child)
        return tokens

    def _behavior_tokens(self) -> list[Token]:
        subjects = set() if self.possessed_subject else self._behavior_subject_tokens()
        verb = self.behavior_verbs[0] if self.behavior_verbs else None
        colon = max((t.i for t in self.doc if t.text in (":", ";") and verb is not None and t.i < verb.i), default=-1)
        if subjects and verb is not None and min(subjects) < verb.i:
            # what stands before the subject is a setting or a discourse marker ("ok so…"), never what they did
            colon = max(colon, min(subjects) - 1)
        kept = [
            self.doc[i]
            for i in self.clause_tokens
            if i not in self.situation_tokens and i not in subjects and i > colon  # "Good job from Ruth: she…"
        ]
        ordered = _trim(kept)
        while ordered and ordered[0].tag_ in ("WRB", "WDT", "WP") and ordered[0].head in self.behavior_verbs:
            ordered = ordered[1:]  # "for how he ran the offsite" → "ran the offsite"
        return ordered

    def _behavior_subject_tokens(self) -> set[int]:
        verbs = [v for v in self.behavior_verbs if v not in self.spelled_out]
        found = [c for v in verbs for c in v.children if c.dep_ in ("nsubj", "nsubjpass")]
        # "my mentee Ravi he not listen…": the name before a resumptive pronoun is the subject too
        found += [c for v in verbs for c in v.children if c.dep_ == "dep" and self.people.of(c)]
        tokens = {t.i for s in found for t in s.subtree}
        for verb in verbs:  # "my mentee Ravi he not listen": the mentee named again before the verb
            for child in (c for c in verb.children if c.i < verb.i and self.people.is_mentee(c)):
                tokens |= {i for a, b in self.people.mentee.mentions if a <= child.i < b for i in range(a, b)}  # type: ignore[union-attr]
        for verb in verbs:  # "during today's shift Abel refused…" parsed with Abel inside the shift
            for stray in (s for s in own_subjects(verb, self.people) if s.dep_ not in ("nsubj", "nsubjpass")):
                person = self.people.of(stray)
                tokens |= {i for a, b in (person.mentions if person else []) if a <= stray.i < b for i in range(a, b)}
                tokens.add(stray.i)
        return tokens

    # --- situation -------------------------------------------------------------------------------------------
    def _situation_tokens(self) -> set[int]:
        if not self.behavior_verbs:
            return set()
        picked: set[int] = set()
        verbs = {v.i for v in self.behavior_verbs}
        for i in sorted(self.clause_tokens):
            token = self.doc[i]
            if self._in_content(token) or self._describes_person(token):
                continue
            if i not in picked and i not in verbs and self._is_situation(token):
                picked.update(self._without_effects(self._occasion_of(token)))
        picked |= self._fronted()
        for verb in self.behavior_verbs:  # "My report Lin, when the auditor questioned her numbers, she walked out"
            for child in verb.children:
                if child.i not in self.clause_tokens and child.dep_ == "advcl" and self._is_situation(child):
                    picked |= {t.i for t in child.subtree if not (t.is_punct and t.i == child.right_edge.i)}
        if not picked:
            picked = self._situation_around()
        return self._whole_words(picked - self._how_late())

    def _how_late(self) -> set[int]:
        """ "15 minutes late to every morning huddle": the occasion is the setting, how late belongs to the act."""
        late = [t for i in self.clause_tokens if (t := self.doc[i]).lower_ in _TIMING_OF_ACT]
        return {d.i for t in late for c in t.children if c.dep_ == "npadvmod" for d in c.subtree}

    def _occasion_of(self, time: Token) -> Token:
        """ "Late to the client workshop on Tuesday", "the deck for the investor pitch on Monday": a time that dates
        an occasion rather than the act; the setting is the occasion with its time."""
        noun = time.head
        if not _is_time(time) and not any(_is_time(c) for c in time.children):
            return time
        if noun.pos_ != "NOUN" or noun.dep_ != "pobj" or noun.head.lower_ not in _OCCASION_PREPS:
            return time
        if self.people.of(noun) is not None or noun.lemma_.lower() in OTHER_PEOPLE:
            return time
        return noun.head

    def _describes_person(self, token: Token) -> bool:
        """Inside a description of someone ("Graham, a planning officer *at the council*, talks over…"): who they
        are, not where the behaviour happened."""
        return any(a.dep_ == "appos" and self.people.of(a.head) is not None for a in (token, *token.ancestors))

    def _whole_words(self, picked: set[int]) -> set[int]:
        """The tokenizer splits "check-in" and "follow-up" at the hyphen; a phrase keeps the word whole."""
        doc = self.doc
        for i in sorted(picked):
            if i + 2 < len(doc) and doc[i + 1].text == "-" and not doc[i].whitespace_ and not doc[i + 1].whitespace_:
                picked |= {i + 1, i + 2}
        return picked

    def _in_content(self, token: Token) -> bool:
        """Inside what the mentee said or told someone to do ("told a customer to come back *tomorrow*"): its times
        and places are the content's, not the setting of the behaviour."""
        verbs = set(self.behavior_verbs)
        first = self.behavior_verbs[0]
        quotes = [t for t in self.doc[first.i : token.i] if t.is_quote]
        if len(quotes) >= 2 and len(quotes) % 2 == 0:
            return False  # after the closing quote: "told a patient 'that's not my problem' this morning"
        for node in token.ancestors:
            if node in verbs:
                return False
            if node.dep_ == "ccomp" or (
                node.dep_ == "xcomp" and any(c.dep_ in ("dobj", "dative") for c in node.head.children)
            ):
                return True
        return False

    def _without_effects(self, phrase: Token) -> set[int]:
        """The phrase's tokens without a ", which made the client stop talking" hanging off it, and, for a time
        word, without adverbs of frequency ("twice this week" → "this week")."""
        cut = {t.i for t in phrase.subtree if t.dep_ == "relcl" and self._is_which_effect(t) for t in t.subtree}
        # "in team meetings, especially the junior women": whom it was aimed at, parsed as an apposition
        focus = [a for a in phrase.subtree if a.dep_ == "appos" and a.left_edge.lower_ in FOCUS_WORDS]
        cut |= {t.i for a in focus for t in a.subtree}
        if phrase.pos_ == "ADV" and phrase.lower_ not in _TIME_WORDS | {"yesterday", "today", "tonight"}:
            cut.add(phrase.i)  # "twice this week" parsed with "twice" on top: the time is "this week"
        if phrase.dep_ in ("npadvmod", "advmod", "tmod"):
            cut |= {
                t.i
                for c in phrase.children
                if c.dep_ in ("advmod", "predet") and (c.pos_ == "ADV" or c.lower_ in ("once", "twice"))
                for t in c.subtree
            }
        mentioned = [t.i for t in phrase.subtree if t.i > phrase.i and self.people.of(t) is not None]
        if mentioned and phrase.i < self.behavior_verbs[0].i:
            # a misparse can hang the mentee on the time before them ("yesterday in team meeting | my mentee Ravi")
            cut |= {t.i for t in phrase.subtree if t.i >= mentioned[0]}
        return {t.i for t in phrase.subtree} - cut

    def _situation_around(self) -> set[int]:
        """When the behaviour's own clause names no event, the clause it hangs from may ("Hana cried in the team
        meeting after Grace criticised her plan"), or the sentence before that names the mentee with others."""
        verb = self.behavior_verbs[0]
        sources = [verb.head] if verb.dep_ in ("advcl", "ccomp", "conj") else []
        sources = [s for s in sources if not self._is_mentor_clause(s)]  # "I've been coaching Amir for a year and…"
        previous = [s for s in self.doc.sents if s.end <= verb.sent.start]
        if previous and any(self.people.is_mentee(t) for t in previous[-1]):
            sources.append(previous[-1].root)
        for source in sources:
            for child in _modifiers(source):
                inside = {t.i for t in child.subtree} & self.clause_tokens
                if not inside and self._is_situation(child):
                    return self._without_effects(child)
        return self._occasion_before(previous[-1]) if previous and previous[-1].end == verb.sent.start else set()

    def _occasion_before(self, sent: Span) -> set[int]:
        """ "We had the quarterly review on Thursday. Nils turned up without his figures.": the mentor (or "there
        was") introduces the occasion in the sentence just before; the occasion with its time is the setting."""
        root = sent.root
        line = self._setting_line(sent)
        if line:
            return line
        subject = next((c for c in root.children if c.dep_ in ("nsubj", "expl")), None)
        if subject is None or not (subject.lower_ in MENTOR_WORDS or subject.dep_ == "expl"):
            return set()
        if root.tag_ not in ("VBD", "VBN") and not any(c.tag_ == "VBD" for c in root.children if c.dep_ == "aux"):
            return set()  # something that happened, not a plan
        if root.lemma_.lower() not in ("have", "hold", "run", "be", "attend"):
            return set()  # "We lost the contract last week" is an outcome, not an occasion
        for child in root.children:
            if child.dep_ not in ("dobj", "attr") or self.people.of(child) is not None:
                continue
            times = [c for c in root.children if self._is_situation(c) and c.i > child.i]
            if times or self._is_setting_noun(child):  # "a fire drill this morning", "the quarterly review"
                return {t.i for c in (child, *times) for t in c.subtree if not t.is_punct}
        return set()

    def _setting_line(self, sent: Span) -> set[int]:
        """A line of notes that only names the occasion ("- Tuesday's release", "when: quarterly planning, Tuesday"):
        what follows its last colon, when it names an event or a time and no person."""
        colons = [t.i for t in sent if t.text == ":"]
        words = [t for t in sent if t.i > (colons[-1] if colons else -1) and not t.is_punct]
        if any(t.pos_ in ("VERB", "AUX") for t in words):
            return set()
        if not words or any(self.people.of(t) is not None for t in words):
            return set()
        if not any(self._is_setting_noun(t) or _is_time(t) for t in words):
            return set()
        return {t.i for t in self.doc[words[0].i : words[-1].i + 1]}

    def _is_situation(self, child: Token) -> bool:
        if child.dep_ == "advcl":
            mark = self._mark(child)
            return mark == "while" or (mark == "when" and child.i < child.head.i)
        if child.dep_ in ("npadvmod", "advmod", "tmod") and _is_time(child):
            return True  # its words are taken by _phrase_tokens
        # "stayed after the workshop to answer…" can come out with "after" as a clause marker holding its object
        if child.dep_ not in ("prep", "mark") or child.lower_ not in _SITUATION_PREPS or _inside_word(child):
            return False
        objects = [c for c in child.children if c.dep_ == "pobj"]
        if not objects:
            # "before going on leave", "after closing": a time given by what happened then
            return child.lower_ in ("before", "after") and any(c.dep_ == "pcomp" for c in child.children)
        return self._is_setting(child.lower_, objects[0]) or self._is_place(child, objects[0])

    def _is_place(self, prep: Token, obj: Token) -> bool:
        """A place or occasion by its shape, not its word: a definite noun phrase ("in the stockroom", "at the Hughes
        house", "in the middle of the night shift") or a named or compound one ("on Slack", "during lunch service")
        hung on the verb as an adjunct. Not a person, not a verb's own argument ("snapped at a customer", "worked on
        the report"), not an idiom ("in front of", "on time", "in person")."""
        # Not "on": after an object it says what the work was about ("a great job on the budget forecast").
        if prep.lower_ not in ("at", "in", "during") or obj.pos_ not in ("NOUN", "PROPN"):
            return False
        if obj.ent_type_ in ("DATE", "TIME"):
            return False  # times are read by _is_time ("at the last minute" is how, not when)
        if self.people.of(obj) is not None or obj.lemma_.lower() in PERSON_NOUNS:
            return False
        dets = {c.lower_ for c in obj.children if c.dep_ in ("det", "poss")}
        definite = bool(dets) and dets <= {"the", "this", "that", "our", "these", "those"}
        named = obj.pos_ == "PROPN" and obj.ent_type_ not in ("PERSON", "NORP")
        compound = not dets and any(c.dep_ == "compound" for c in obj.children)
        if not (definite or named or compound or (prep.lower_ == "during" and not dets)):
            return False
        return not self._is_argument(prep)

    def _is_argument(self, prep: Token) -> bool:
        """A preposition right after an intransitive verb is usually its argument: "worked on the report",
        "looked at the figures"; after an object or another phrase it says where."""
        verb = prep.head
        if verb.pos_ not in ("VERB", "AUX") or prep.i < verb.i:
            return False
        between = [t for t in verb.doc[verb.i + 1 : prep.i] if t.dep_ not in ("prt", "neg", "advmod")]
        has_object = any(c.dep_ in ("dobj", "attr", "acomp", "oprd") for c in verb.children)
        return not between and not has_object

    def _is_setting(self, prep: str, obj: Token) -> bool:
        """Whether "prep obj" says when or where (the shared event), rather than how long or whose."""
        dets = {c.lower_ for c in obj.children if c.dep_ in ("det", "poss")}
        # "on a Friday" is when; so is "during his shift" (but "after his shift", "in a day" are how long or how)
        day = obj.lower_ in _CALENDAR_DAYS or any(
            c.lower_ in _CALENDAR_DAYS for c in obj.children
        )  # "a Friday evening"
        a_day = prep == "on" and day and dets <= {"a", "an", "every", "each"}
        # "during his shift", "in their induction": an occasion is when, whoever's it is
        during = prep in ("during", "in") and obj.lemma_.lower() in EVENT_NOUNS and not dets & {"a", "an", "any"}
        if (
            prep != "for"
            and dets & {"his", "her", "their", "a", "an", "every", "each", "any"}
            and not (a_day or during)
        ):
            return False  # "after his shift", "on a call", "on every email": part of what the person did
        if any(_is_time(c) for c in obj.children if c.dep_ == "poss"):
            return True  # "in yesterday's critique", "at Thursday's all-hands"
        counted = any(c.dep_ == "nummod" for c in obj.children) and "the" not in dets
        if prep in ("in", "within") and counted:
            return False  # "in three weeks", "in a day": how long, not when ("in the last three handovers" is when)
        if prep == "for":
            # "has been ignoring my messages for two weeks": how long a habit has lasted is its setting
            lasting = any(c.lower_ == "been" for verb in obj.ancestors for c in verb.children if c.dep_ == "aux")
            return lasting and obj.ent_type_ in ("DATE", "TIME")
        if prep in ("during", "since", "before", "after", "throughout") and dets & {"the", "this", "that", "our"}:
            return True  # a time preposition with a definite occasion: "since the kick-off", "before the cutover"
        return obj.lemma_.lower() in EVENT_NOUNS or obj.lower_ in EVENT_NOUNS or _is_time(obj)

    def _fronted(self) -> set[int]:
        """What comes before the behaviour's subject in its own clause ("During the fire drill this morning Camille
        stayed…", "When the client pushed back, Leon went silent") is said before the person acts: the setting,
        when it names a time, an event or a moment."""
        verb = self.behavior_verbs[0]
        subjects = own_subjects(verb, self.people)
        main = verb.dep_ in ("ROOT", "conj") or (verb.dep_ == "ccomp" and verb.head.i > verb.i)  # "…, so we had to"
        if not subjects or not main:
            return set()  # a subordinate clause ("after Grace criticised…") has no fronted setting of its own
        person = self.people.of(subjects[0])
        chain = appos_root(subjects[0])
        # a heading before a colon ("Points for Ines: Friday demo - she skipped…") is not the resumed name
        colons = [t.i for t in self.doc[verb.sent.start : subjects[0].i] if t.text in (":", ";")]
        opening = colons[-1] + 1 if colons else verb.sent.start
        starts = [
            s
            for s, e in (person.mentions if person else [])
            if s <= subjects[0].i < e
            or (verb.sent.start <= s and appos_root(self.doc[e - 1]) == chain)
            or (opening <= s < subjects[0].i and self.people.is_mentee(subjects[0]))  # "my mentee Ravi he…"
        ]
        starts = sorted(starts)
        start = starts[0] if starts else subjects[0].left_edge.i
        span = [t for t in self.doc[verb.sent.start : start]]
        cut = max((n for n, t in enumerate(span) if t.text in (":", ";")), default=-1)
        headline = self._setting_before_colon(span[:cut]) if cut >= 0 else set()
        span = span[cut + 1 :]
        # a mention of the mentee splits what comes before them: "yesterday in team meeting | my mentee Ravi | he…",
        # "My report Lin, | when the auditor questioned her numbers, | she walked out"
        segments: list[list[Token]] = [[]]
        for token in span:
            if self.people.of(token) is not None and self._same_as_subject(token, verb):
                segments.append([])
            else:
                segments[-1].append(token)
        for segment in segments:
            while segment and segment[0].is_punct:
                segment = segment[1:]
            found = self._fronted_phrase(segment)
            if found:
                return headline | found
        return headline

    def _same_as_subject(self, token: Token, verb: Token) -> bool:
        subject = next(iter(own_subjects(verb, self.people)), None)
        person, other = self.people.of(token), (self.people.of(subject) if subject is not None else None)
        mine = token.lower_ in ("my", "our")  # "my mentee", "our new starter": never part of a setting
        return person is not None and (person is other or self.people.is_mentee(token) or mine)

    def _setting_before_colon(self, span: list[Token]) -> set[int]:
        """ "Yesterday's handover was a mess: Ezinne left…": the mentor names the occasion as the subject of a verdict
        before the colon; that subject (not the verdict) is the setting."""
        inside = {t.i for t in span}
        for token in span:
            if token.dep_ not in ("nsubj", "nsubjpass") or token.head.i not in inside:
                continue
            if self.people.of(token) is None and self._is_setting_noun(token):
                return {t.i for t in token.subtree}
        return set()

    def _is_setting_noun(self, noun: Token) -> bool:
        """An event or a time as a noun phrase of its own: "last night's stocktake", "the Monday call"."""
        if noun.pos_ not in ("NOUN", "PROPN"):
            return False
        timed = any(_is_time(c) for c in noun.children if c.dep_ in ("poss", "compound", "npadvmod"))
        return timed or noun.lemma_.lower() in EVENT_NOUNS or _is_time(noun)

    def _fronted_phrase(self, span: list[Token]) -> set[int]:
        if not span:
            return set()
        # "Halfway through the workshop", "Right after lunch", "First thing Monday": a word before the preposition
        # or the time does not stop the phrase from being the setting
        modifier = span[0].pos_ in ("ADV", "ADJ") or span[0].dep_ in ("advmod", "amod")
        lead = span[1:] if modifier and len(span) > 1 else span
        timed_phrase = any(t.ent_type_ in ("DATE", "TIME") for t in span) and not any(
            t.pos_ in ("VERB", "AUX") or self.people.of(t) is not None for t in span
        )
        if not timed_phrase and (
            lead[0].lower_ not in _SITUATION_PREPS | {"when", "while", "after", "before", "during", "through"}
            and not (_is_time(lead[0]) or lead[0].ent_type_ in ("DATE", "TIME"))
        ):
            return set()
        has_setting = any(
            _is_time(t) or t.lemma_.lower() in EVENT_NOUNS or t.ent_type_ in ("DATE", "TIME") for t in span
        )
        if not has_setting and span[0].lower_ not in ("when", "while"):
            return set()
        span = self._setting_parts(span)
        return {t.i for t in span if not (t.is_punct and t.i == span[-1].i)}

    def _setting_parts(self, span: list[Token]) -> list[Token]:
        """The comma-separated parts of a fronted span that still say when or where: "At last night's gig, | the
        sound tech I mentor, Ronan, turned…" stops before the role; "Last Thursday, | in front of the team" goes on."""
        parts: list[list[Token]] = [[]]
        for token in span:
            parts[-1].append(token)
            if token.text == ",":
                parts.append([])
        kept = parts[0]
        for part in parts[1:]:
            words = [t for t in part if not t.is_punct]
            if not words:
                continue
            opens = words[0].lower_ in _SITUATION_PREPS | {"when", "while", "after", "before", "during"}
            timed = any(_is_time(t) or t.ent_type_ in ("DATE", "TIME") for t in words)
            if not (opens or timed) or any(self.people.of(t) is not None for t in words):
                break
            kept = kept + part
        return kept

    # --- impact ----------------------------------------------------------------------------------------------
    def _impact_tokens(self) -> list[Token]:
        if not self.behavior_verbs:
            return []
        verbs = set(self.behavior_verbs)
        sentence = self.behavior_verbs[0].sent
        same = [v for v in self._effect_clauses(sentence) if v not in verbs]
        if same:
            return self._render_effects(same)
        for sent in self.doc.sents:
            if sent.start <= sentence.start:
                continue
            later = self._effect_clauses(sent)
            if later:
                return self._render_effects(later)
            if any(self._is_mentee_subject(self._subject(v)) for v in self._heads_in(sent)):
                return []  # the next thing said is about the mentee again, not an effect
        return []

    def _heads_in(self, sent: Span) -> list[Token]:
        """Finite clauses: "with the lease attached" has a verb but says nothing happened."""
        return [
            t
            for t in sent
            if t.pos_ in ("VERB", "AUX")
            and t.dep_ in ("ROOT", "conj", "ccomp", "advcl", "relcl")
            and (
                t.tag_ in ("VBD", "VBZ", "VBP", "MD")
                or any(c.dep_ in ("aux", "auxpass") for c in t.children)
                or self._is_which_effect(t)  # ", meaning the team worked late"
            )
        ]

    def _effect_clauses(self, sent: Span) -> list[Token]:
        """Clauses in a sentence whose subject is someone or something other than the mentee, or the mentor
        saying what happened to them (not a plan)."""
        found: list[Token] = []
        behaviour = set(self.behavior_verbs)
        behaviour_first = self.behavior_verbs[0].i
        for verb in self._heads_in(sent):
            if verb in behaviour or self._inside_found(verb, found) or self._in_behavior_object(verb):
                continue
            if any(b in verb.subtree for b in behaviour) and verb.dep_ == "ROOT" and self._frames(verb):
                continue  # "Liv told me Amir has been taking her ideas": the source, not an effect
            if any(b in verb.subtree for b in behaviour) and verb.i < behaviour_first and self._is_mentor_clause(verb):
                continue  # "I overheard Beth tell a customer…": how the mentor knows, not what it led to
            consequence = self._is_consequence(verb)
            if verb.dep_ in ("ccomp", "relcl") and not (consequence or self._is_so_that(verb)):
                continue
            if verb.dep_ == "advcl" and not consequence:
                continue
            if self._shares_the_mentee(verb) or self._comes_before_behavior(verb):
                continue
            if any(
                c.dep_ == "advcl" and c in behaviour and self._mark(c) in ("while", "as", "when") for c in verb.children
            ):
                continue  # "Isabel did the organising while Farah took the credit": a contrast, not an effect
            if verb.dep_ == "conj" and not own_subjects(verb, self.people) and verb.head not in found:
                continue  # its subject is borrowed from a clause that is not an effect; alone it reads as a fragment
            subject = self._subject(verb)
            if subject is None and not self._is_which_effect(verb):
                continue
            if self._is_mentee_subject(subject) or self._is_plan(verb):
                continue
            if subject is not None and subject.i in self.situation_tokens:
                continue
            found.append(verb)
        return found

    def _frames(self, verb: Token) -> bool:
        """The behaviour is what this verb reports (a speech or perception verb with it as its complement)."""
        # "rang me to say that…", "emailed to tell me…": the speech verb can hang off the one that brought the words
        speakers = [verb, *(c for c in verb.children if c.dep_ in ("xcomp", "advcl") and c.i > verb.i)]
        for speaker in speakers:
            if speaker.lemma_.lower() not in SPEECH_VERBS | {"notice", "see", "hear", "find", "learn", "realise"}:
                continue
            reported = [c for c in speaker.children if c.dep_ == "ccomp" and c.i > speaker.i]  # the frame comes first
            if any(b in c.subtree for c in reported for b in self.behavior_verbs):
                return True
        return False

    def _inside_found(self, verb: Token, found: list[Token]) -> bool:
        return any(verb in f.subtree for f in found if f.dep_ != "ROOT" or verb.dep_ != "conj")

    def _in_behavior_object(self, verb: Token) -> bool:
        """A clause inside what the mentee did or said ("said the deadline was…") is not an effect."""
        return verb.i in self.clause_tokens

    def _mark(self, verb: Token) -> str:
        return next((c.lower_ for c in verb.children if c.dep_ in ("mark", "advmod")), "")

    def _is_so(self, verb: Token) -> bool:
        return any(c.lower_ == "so" and c.dep_ in ("mark", "advmod") for c in verb.children)

    def _is_consequence(self, clause: Token) -> bool:
        """A clause with its own subject, other than the mentee, that the mentor marks as what followed: "so the
        release slipped", ", which meant…", "and now the team is…", "and then the co-pilot had to…", "as a result,
        calls dropped". Wherever the parser hangs it, it is not part of what the mentee did."""
        if clause.pos_ not in ("VERB", "AUX"):
            return False
        if self._is_which_effect(clause) or _after_as_a_result(clause):
            return True
        subject = next((c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is None or self._surely_mentee(subject) or subject.lower_ in ("which", "that", "who"):
            return False
        if self.people.is_mentee(subject):
            # a pronoun that may be the mentee or another: only an explicit "so" or "as a result" makes it an effect
            return self._marked_result(clause, subject)
        if self._is_spliced(clause, subject):
            return True
        before = [c for c in clause.children if c.i < subject.i]
        markers = {c.lower_ for c in before if c.dep_ in ("advmod", "mark")}
        joined = any(c.dep_ == "cc" for c in before) or clause.dep_ == "conj"
        return self._marked_result(clause, subject) or (joined and bool(markers & {"now", "then", "therefore"}))

    def _others_clause(self, clause: Token, behavior: Token) -> bool:
        """A verb coordinated inside the behaviour with a subject of its own that is not the mentee, outside any
        words the mentee is reported to have said."""
        if clause.dep_ != "conj" or clause.pos_ not in ("VERB", "AUX"):
            return False
        subject = next((c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is None or self.people.is_mentee(subject) or subject.lower_ in ("which", "that", "who"):
            return False
        reported = any(a.dep_ == "ccomp" for a in clause.ancestors if a.i != behavior.i and behavior in a.ancestors)
        return not reported

    def _is_spliced(self, clause: Token, subject: Token) -> bool:
        """ ", the customer's daughter rang us": a comma-spliced sentence the parser hung on the last noun, or on
        the verb before it ("…without asking, last week the stock count was short") as if it were reported."""
        if subject.tag_ in ("WDT", "WP") or clause.left_edge.i == 0:
            return False
        after_comma = self.doc[clause.left_edge.i - 1].text == "," and subject.i > clause.head.i
        if clause.dep_ == "ccomp":
            reported = clause.head.lemma_.lower() in SPEECH_VERBS and clause.head.dep_ != "pcomp"
            return after_comma and not reported and self.people.of(subject) is None
        return clause.dep_ in ("relcl", "acl") and after_comma

    def _consequence_start(self, clause: Token) -> int:
        """Where a consequence clause begins: its "so", "which", "and now" or subject, whichever is first."""
        heads = [c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass", "mark", "advmod", "cc", "prep")]
        subject = max((c.i for c in heads if c.dep_ in ("nsubj", "nsubjpass")), default=clause.i)
        return min([c.left_edge.i for c in heads if c.i <= subject] + [clause.i])

    def _shares_the_mentee(self, verb: Token) -> bool:
        """A clause whose subject includes the mentee ("Ilona and Marek both presented") is about them too."""
        subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is None or not any(self.people.is_mentee(t) for t in subject.subtree):
            return False
        # "…laughed at Yuki's idea, so *she* went quiet": a pronoun that may be someone else, after an explicit "so"
        return not (subject.i in self.people.unsure and self._marked_result(verb, subject))

    def _marked_result(self, clause: Token, subject: Token) -> bool:
        """The clause opens with "so" or "as a result"."""
        before = [c for c in clause.children if c.i < subject.i]
        so = any(c.lower_ == "so" and c.dep_ in ("advmod", "mark") for c in before)
        return so or any(c.dep_ == "prep" and any(g.lower_ == "result" for g in c.subtree) for c in before)

    def _surely_mentee(self, token: Token) -> bool:
        """The mentee, not a pronoun that might as well be someone else ("…laughed at Yuki's idea, so *she* went
        quiet"): an unsure pronoun's clause may be what followed, never more of what the mentee did."""
        return self.people.is_mentee(token) and token.i not in self.people.unsure

    def _comes_before_behavior(self, verb: Token) -> bool:
        """What others did earlier in the same sentence is background ("Chiara handled the sign-ups, and Sione
        kept everyone fed"), unless the behaviour is its cause ("Hana cried … after Grace criticised her plan")."""
        first = self.behavior_verbs[0]
        if verb.i > first.i or verb.sent.start != first.sent.start:
            return False
        return first not in verb.subtree or first.dep_ == "conj"

    def _is_so_that(self, verb: Token) -> bool:
        return any(c.dep_ == "mark" and c.lower_ == "that" for c in verb.children) and verb.head.lower_ in (
            "so",
            "clearly",
            "well",
            "much",
            "quickly",
            "badly",
        )

    def _as_sentence(self, impact: str | None) -> str | None:
        """ ", which saved us a day" stands alone as "that saved us a day"."""
        return f"that {impact}" if impact and self.which_first else impact

    def _render_effects(self, verbs: list[Token]) -> list[Token]:
        tokens: list[Token] = []
        first = verbs[0]
        # ", which saved us a day" is said "that saved us a day"; ", meaning…", ", leaving…" carry no "which"
        which = any(c.dep_ == "nsubj" and c.lower_ == "which" for c in first.children)
        self.which_first = self._is_which_effect(first) and which and first.lemma_ != "mean"
        for verb in verbs:
            if self._is_which_effect(verb) and verb.lemma_ == "mean":
                inner = [c for c in verb.children if c.dep_ in ("ccomp", "xcomp")]
                verb = inner[0] if inner else verb
            part = self._effect_clause_tokens(verb)
            joiner = self.doc[min(t.i for t in part) - 1] if tokens and min(t.i for t in part) > 0 else None
            if joiner is not None and joiner.dep_ == "cc" and joiner.lower_ in ("and", "but"):
                part.append(joiner)  # "…rang us to check *and* we caught it": the joining word between two effects
            tokens += part
        drop = {"which", "so"}
        kept = [t for t in tokens if not (t.lower_ in drop and t.dep_ in ("nsubj", "mark", "advmod", "cc"))]
        # "as a result" says it is an effect; the effect itself is what follows
        marker = {t.i for t in kept if t.dep_ == "prep" and t.lower_ == "as" for t in t.subtree}
        kept = [t for t in kept if t.i not in marker or not any(self.doc[i].lower_ == "result" for i in marker)]
        return _trim(kept)

    def _effect_clause_tokens(self, verb: Token) -> list[Token]:
        start = self._consequence_start(verb) if self._is_consequence(verb) else 0
        return [t for t in self._effect_subtree(verb) if t.i >= start]

    def _effect_subtree(self, verb: Token) -> list[Token]:
        tokens: list[Token] = []
        stack = [verb]
        while stack:
            node = stack.pop()
            tokens.append(node)
            for child in node.children:
                if child.dep_ == "conj" and child.pos_ in ("VERB", "AUX") and self._is_plan(child):
                    continue
                if child.i in self.clause_tokens or child.i in self.situation_tokens:
                    continue
                stack.append(child)
        return tokens

    # --- request, topic, time --------------------------------------------------------------------------------
    def _is_mentee_named(self, token: Token | None) -> bool:
        """The mentee as the mentor's wish names them ("I'd like *her* to…"): no rewrite rests on the pronoun."""
        return token is not None and self.people.is_mentee(token) and not any(c.dep_ == "conj" for c in token.children)

    def _request_tokens(self) -> list[Token]:
        for verb in self._clause_heads():
            # "- want him to check with product first": a note's wish, its "I" left out
            note = verb.i == verb.sent.start and self._subject(verb) is None
            if verb.lemma_.lower() in WISH_VERBS and (self._is_mentor_clause(verb) or note):
                for child in verb.children:
                    subject = next((c for c in child.children if c.dep_ in ("nsubj", "nsubjpass")), None)
                    if child.dep_ in ("ccomp", "xcomp") and subject is not None and self._is_mentee_named(subject):
                        # only the infinitive's own "to": "present it *to* the other sites" keeps its preposition
                        infinitive = [c.i for c in child.children if c.dep_ == "aux" and c.lower_ == "to"]
                        return _trim([t for t in child.subtree if t.i > subject.i and t.i not in infinitive])
                obj = next((c for c in verb.children if c.dep_ == "dobj" and self._is_mentee_named(c)), None)
                xcomp = next((c for c in verb.children if c.dep_ == "xcomp"), None)
                if obj is not None and xcomp is not None:
                    return _trim([t for t in xcomp.subtree if not (t.dep_ == "aux" and t.lower_ == "to")])
        for token in self.doc:
            if token.lower_ in ("should", "must") or (token.lemma_ == "need" and token.tag_ == "VBZ"):
                subject = self._subject(token.head if token.dep_ == "aux" else token)
                if self._is_mentee_named(subject) or (token.dep_ != "aux" and self._mentee_before(token)):
                    return self._after_modal(token)
        return []

    def _mentee_before(self, token: Token) -> bool:
        prev = token.doc[token.i - 1] if token.i > 0 else None
        return prev is not None and self.people.is_mentee(prev)

    def _after_modal(self, token: Token) -> list[Token]:
        rest = [t for t in token.sent if t.i > token.i]
        if rest and rest[0].lower_ == "to":
            rest = rest[1:]
        return _trim(rest)

    def _topic_tokens(self) -> tuple[list[Token], bool]:
        for verb in self._clause_heads():
            if verb.lemma_.lower() not in NEWS_VERBS or not self._is_plan(verb):
                continue
            told = [c for c in verb.children if c.dep_ in ("dobj", "dative") and self.people.is_mentee(c)]
            if not told:
                continue
            content = [c for c in verb.children if c.dep_ in ("ccomp",)]
            if content:
                return _trim([t for t in content[0].subtree if not (t.dep_ == "mark" and t.lower_ == "that")]), True
            about = [c for c in verb.children if c.dep_ == "prep" and c.lower_ == "about"]
            if about:
                return _trim([t for t in about[0].subtree if t.i != about[0].i]), True
            return self._news_elsewhere(verb), True
        return [], False

    def _news_elsewhere(self, verb: Token) -> list[Token]:
        """ "The redesign Lucia spent two months on is being shelved, and I have to tell her": the news is the
        clause the mentor's plan is joined to."""
        clause = verb
        while clause.dep_ in ("xcomp", "ccomp") and clause.head.i != clause.i:
            clause = clause.head
        if clause.dep_ != "conj":
            return []
        head = clause.head
        return _trim(
            [t for t in head.subtree if t not in set(clause.subtree) and not (t.dep_ == "cc" and t.head.i == head.i)]
        )

    def _when(self) -> str | None:
        """When the mentor will talk to the mentee: a date or time inside the mentor's own plan."""
        for ent in self.doc.ents:
            if ent.label_ not in ("DATE", "TIME"):
                continue
            verb = ent.root.head
            while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
                verb = verb.head
            planned = self._is_plan(verb) or (ent.root.dep_ == "npadvmod" and verb.i > ent.end)
            if planned and self._is_mentor_clause(verb):
                prep = ent.root.head if ent.root.dep_ == "pobj" else None
                words = f"{prep.text} {ent.text}" if prep is not None else ent.text
                if prep is None and ent[0].lower_ in _WEEKDAYS:
                    words = f"on {words}"  # "We meet Thursday" -> "your conversation with Dana on Thursday"
                return words if any(t.pos_ == "PROPN" for t in ent) else words.lower()
        return None

    def _is_praise(self) -> bool | None:
        balance = self._praise_balance()
        return None if balance == 0 else balance > 0

    def _praise_balance(self) -> int:
        # A word counts once, by its lemma or its own form ("interrupting" by "interrupt", "great" by itself).
        forms = [{t.lemma_.lower(), t.lower_} for t in self.doc]
        return sum(bool(f & PRAISE_WORDS) for f in forms) - sum(bool(f & PROBLEM_WORDS) for f in forms)


def _after_as_a_result(clause: Token) -> bool:
    """ "as a result we had to reschedule" parsed as a relative clause on "result"."""
    head = clause.head
    return clause.dep_ in ("relcl", "acl") and head.lower_ == "result" and head.head.lower_ == "as"


def _trim_edges(tokens: list[Token]) -> list[Token]:
    """A phrase without a leading "and" or stray punctuation and without a trailing joiner; unlike _trim it keeps
    a leading "while" or "when", which opens a setting."""
    ordered = sorted(set(tokens), key=lambda t: t.i)
    while ordered and (ordered[0].is_punct or ordered[0].dep_ == "cc"):
        ordered = ordered[1:]
    while ordered and (ordered[-1].is_punct or ordered[-1].dep_ in ("cc", "mark")) and not ordered[-1].is_quote:
        ordered = ordered[:-1]
    return ordered


def _by_sentence(tokens: list[Token]) -> list[list[Token]]:
    """Tokens in text order, cut where a sentence ends, each part without its joiners and final stop."""
    parts: dict[int, list[Token]] = {}
    for token in sorted(tokens, key=lambda t: t.i):
        parts.setdefault(token.sent.start, []).append(token)
    return [p for p in (_trim(part) for part in parts.values()) if p]


def _is_past_act(verb: Token) -> bool:
    """ "got", "has finished": something done, in the active voice."""
    children = list(verb.children)
    if any(c.dep_ == "auxpass" for c in children) or verb.lemma_ == "be":
        return False
    return verb.tag_ == "VBD" or (verb.tag_ == "VBN" and any(c.lemma_ == "have" for c in children))


def _with_you(rewritten: str | None) -> str | None:
    """The behaviour said to the mentee, its subject "you" put back: "you kept…", "you've been…"."""
    if not rewritten:
        return None
    return f"you{rewritten}" if rewritten[0] in "'’" or rewritten.startswith("n't") else f"you {rewritten}"


def _modifiers(verb: Token) -> list[Token]:
    """Modifiers of the verb and of the verbs it governs directly ("kept cutting off … during the review")."""
    found = list(verb.children)
    for child in verb.children:
        if child.dep_ in ("xcomp", "acomp"):
            found += list(child.children)
    return found


# Passives that report what someone saw the mentee do: "was seen shouting at a client", "got caught napping".
_WITNESSED = {"see", "catch", "hear", "find", "spot", "overhear", "observe", "record", "film", "notice", "report"}


_TIMING_OF_ACT = {"late", "early", "behind", "ahead", "overdue"}


def _is_time(token: Token) -> bool:
    """A word that names when: "yesterday", "this morning", "last sprint", "every day", "Tuesday"."""
    if token.lower_ in ("yesterday", "today", "tonight"):
        return True
    words = {t.lower_ for t in token.subtree}
    words |= {w[:-1] for w in words if w.endswith("s") and w[:-1] in _CALENDAR_DAYS}  # "on Mondays"
    if token.ent_type_ in ("DATE", "TIME") and words & _TIME_WORDS:
        return True
    if token.ent_type_ == "TIME" and (words & _CLOCK or any(re.fullmatch(r"\d{1,2}[:.]\d\d", w) for w in words)):
        return True  # "at 4pm", "at 9:30", not "twenty minutes"
    dets = {c.lower_ for c in token.children if c.dep_ in ("det", "amod")}
    return token.lemma_.lower() in _TIME_WORDS | {"day"} and bool(dets & {"this", "last", "every", "that", "each"})


def _inside_word(token: Token) -> bool:
    """ "on" in "one-on-ones" is part of a word, not a preposition."""
    doc = token.doc
    before = doc[token.i - 1] if token.i > 0 else None
    return before is not None and before.text == "-" and not before.whitespace_


def _trim(tokens: list[Token]) -> list[Token]:
    """Tokens in text order without leading or trailing joiners ("and", ",", "that")."""
    ordered = sorted(set(tokens), key=lambda t: t.i)
    while ordered and (ordered[0].dep_ in ("punct", "cc", "mark") or ordered[0].lower_ in ("and", "but", "then")):
        ordered = ordered[1:]
    while ordered and (
        ordered[-1].dep_ in ("punct", "cc", "mark") or ordered[-1].lower_ in ("and", "but", ",", "so", "which")
    ):
        if ordered[-1].text in ("'", "’", '"'):
            break
        ordered = ordered[:-1]
    return ordered


def _text(tokens: list[Token]) -> str | None:
    if not tokens:
        return None
    words = "".join(t.text + joint(t, after) for t, after in zip(tokens, [*tokens[1:], None], strict=True))
    text = " ".join(words.split()).strip(" ,;:-")
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return text or None
