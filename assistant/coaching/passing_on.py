"""Whether a follow-up asks about passing on what the mentee shared: the mentor telling someone else, someone else
asking the mentor, or a promise of secrecy. The parse finds who would hear it, so "should I tell his manager?" and
"do I have to tell HR?" count while "should I tell her it went well?" (the mentee) and "mention it at the team
meeting" (where, not whom) do not. Word lists and the secrecy patterns are data, in followup_cues.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from spacy.tokens import Doc, Token

from assistant.coaching.followups import any_of, cue_file
from assistant.understanding.parser import message_doc

MENTOR = {"i", "we"}
QUESTION_OPENERS = {"should", "do", "does", "must", "can", "could", "shall", "would", "is", "am", "ought"}


@dataclass(frozen=True)
class _Words:
    telling: frozenset[str]
    asking: frozenset[str]
    third_parties: frozenset[str]
    asking_about: frozenset[str]
    secrecy: re.Pattern[str]


@cache
def _words() -> _Words:
    data = cue_file()["passing_on"]
    return _Words(
        frozenset(data["telling_verbs"]),
        frozenset(data["asking_verbs"]),
        frozenset(data["third_parties"]),
        frozenset(data["asking_about"]),
        any_of(data["secrecy"]),
    )


def asks_about_passing_on(message: str) -> bool:
    words = _words()
    if words.secrecy.search(message):
        return True
    doc = message_doc(message)
    return any(_mentor_tells_another(t, words) or _another_asks_the_mentor(t, words) for t in doc)


def _is_question(doc: Doc) -> bool:
    return doc.text.rstrip().endswith("?") or (len(doc) > 0 and doc[0].lower_ in QUESTION_OPENERS)


def _third_party(token: Token, words: _Words) -> bool:
    return token.lemma_.lower() in words.third_parties or token.lower_ in words.third_parties


def _mentor_tells_another(verb: Token, words: _Words) -> bool:
    """ "Should I tell his manager?": a question in which the mentor (or no one named) tells a third party, who is
    the verb's object or the object of "with" or "to" ("share it with HR"), not a place ("at the team meeting")."""
    if verb.lemma_.lower() not in words.telling or not _is_question(verb.doc):
        return False
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    if subjects and subjects[0].lower_ not in MENTOR:
        return False
    hearers = [c for c in verb.children if c.dep_ in ("dobj", "dative", "iobj")]
    hearers += [o for p in verb.children if p.lower_ in ("with", "to") for o in p.children if o.dep_ == "pobj"]
    return any(_third_party(h, words) for h in hearers)


def _another_asks_the_mentor(verb: Token, words: _Words) -> bool:
    """ "His manager is asking me how he's doing": a third party asks the mentor for news of the mentee (not "a
    colleague asked me to dinner")."""
    if verb.lemma_.lower() not in words.asking:
        return False
    if not any(c.dep_ == "nsubj" and _third_party(c, words) for c in verb.children):
        return False
    asks_me = any(c.lower_ == "me" for c in verb.children)
    return asks_me and any(_asks_for_news(t, verb, words) for t in verb.subtree if t.i > verb.i)


def _asks_for_news(token: Token, verb: Token, words: _Words) -> bool:
    """ "asking me *how* he's doing", "pushing me *for* details": the question is the asking verb's own, not one
    inside what the mentor is asked to do ("asked me to dinner to talk *about* careers")."""
    if token.lower_ not in words.asking_about:
        return False
    return token.head == verb or (token.head.head == verb and token.head.dep_ == "ccomp")
