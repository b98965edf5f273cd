"""Whether a message asks the coach for a role-play: "let me practise telling him", "can we do a practice run?".

"Practice" is just as often a noun that asks for nothing ("exam practice questions", "best practice", "a private
practice", "in practice"), and a mentee practising ("she wants to practise her interview answers") is help for the
mentee, not a rehearsal for the mentor; the parse tells these apart where a word list could not.
"""

from __future__ import annotations

import re

from spacy.tokens import Token

from assistant.understanding.parser import message_doc

# Words that ask for a rehearsal whatever their part of speech.
_REHEARSAL = re.compile(r"\b(?:role[- ]?play(?:ing)?|rehears(?:e|ing)|simulate|pretend to be)\b", re.IGNORECASE)
_PRACTICE = re.compile(r"\bpracti[cs](?:e|ing)\b", re.IGNORECASE)
# "a practice run", "practice mode": the noun names a rehearsal only in front of these.
_REHEARSAL_NOUNS = {"run", "session", "conversation", "round", "mode", "go", "attempt", "chat", "call", "meeting"}
_DOING = {"do", "have", "try", "get"}  # "can we do some practice?" (a business is started, run or joined)
_MENTOR = {"i", "me", "we", "us", "'s", "’s"}  # "'s" is the us of "let's practise"


def asks_to_practise(message: str) -> bool:
    if _REHEARSAL.search(message):
        return True
    if not _PRACTICE.search(message):
        return False  # most messages never need the parse
    return any(_practice_asked(t) for t in message_doc(message) if _PRACTICE.fullmatch(t.text))


def _practice_asked(token: Token) -> bool:
    if token.pos_ == "VERB":
        return _mentor_practises(token)
    if token.dep_ == "ROOT":
        return True  # "practice giving feedback to Sam", typed as a command
    if token.dep_ == "compound":
        return token.head.lemma_.lower() in _REHEARSAL_NOUNS
    kind = [c for c in token.children if c.dep_ in ("amod", "compound")]  # "a dental practice"
    return token.dep_ == "dobj" and token.head.lemma_.lower() in _DOING and not kind


def _mentor_practises(verb: Token) -> bool:
    """ "Let me practise", "can we practise", "help me practise": yes. "She wants to practise her answers": no."""
    while True:
        subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
        if subjects:
            return subjects[0].lower_ in _MENTOR
        if verb.dep_ not in ("xcomp", "ccomp") or verb.head.i == verb.i:
            return True  # an imperative or a bare "practise telling him": the mentor is asking
        objects = [c for c in verb.head.children if c.dep_ in ("dobj", "obj") and c.i < verb.i]
        if objects:
            return objects[-1].lower_ in _MENTOR  # "help me practise", "let her practise"
        verb = verb.head
