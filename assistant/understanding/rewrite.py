"""Say part of the mentor's message to the mentee: only words that refer to the mentee change.

"Priyanka kept cutting off the junior engineers" → "you kept cutting off the junior engineers"; in "one of them told
me later that he has stopped sharing ideas" nothing refers to Priyanka, so nothing changes. Verb forms come from
the parse: a verb changes only when its own subject is the mentee ("the redesign Lucia spent two months on is being
shelved" keeps "is", whose subject is the redesign), and the new form is the lemma ("keeps" → "keep") or the
matching form of be/have/do. A pronoun the parse cannot place for sure makes the rewrite return None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from spacy.tokens import Token

from assistant.understanding.people import People, own_subjects

_PRONOUN_FORMS = {
    "he": "you",
    "she": "you",
    "him": "you",
    "himself": "yourself",
    "herself": "yourself",
    "his": "your",
    "hers": "yours",
}
_AGREEMENT = {"is": "are", "was": "were", "has": "have", "does": "do", "'s": "'re", "’s": "’re"}


def second_person(tokens: Iterable[Token], people: People) -> str | None:
    """The tokens as the mentor would say them to the mentee, or None when the parse is unsure."""
    mentee = people.mentee
    ordered = sorted(tokens, key=lambda t: t.i)
    if mentee is None or not ordered:
        return None
    if any(t.i in people.unsure for t in ordered):
        return None
    ranges = {start: end for start, end in mentee.mentions}
    inside = mentee.tokens
    skip: set[int] = set()
    words: list[str] = []
    for token, after in zip(ordered, [*ordered[1:], None], strict=True):
        if token.i in skip:
            continue
        if token.i in inside:
            if token.i not in ranges:
                continue  # later tokens of a multi-word mention ("Wei Chen", "my new mentee")
            end = ranges[token.i]
            word, possessive = _mention_form(token, end, people)
            if possessive:
                skip.add(end)
            last = token.doc[end] if possessive else token.doc[end - 1]
            words.append(word + last.whitespace_)
            continue
        form = _verb_form(token, people)
        if form is None:
            return None
        words.append(form + joint(token, after))
    text = " ".join("".join(words).split()).strip()
    return re.sub(r"\s+([,.;:!?])", r"\1", text)


# Words that single out part of what came before: "talks over everyone, especially the junior women".
FOCUS_WORDS = frozenset({"especially", "particularly", "mainly", "mostly", "notably", "including", "even"})


def joint(token: Token, after: Token | None) -> str:
    """What follows a kept token before the next kept one: its own space, a space where words were taken out
    ("today [:] before the release"), and the comma before a focus when the words before it were taken out
    ("talks over everyone[ in team meetings], especially the junior women")."""
    if after is None or after.i == token.i + 1:
        return token.whitespace_
    comma = "," if after.lower_ in FOCUS_WORDS and after.nbor(-1).text == "," else ""
    return comma + (token.whitespace_ or ("" if after.is_punct else " "))


def _mention_form(token: Token, end: int, people: People) -> tuple[str, bool]:
    """("you" | "your" | "yourself" …, whether the next token, a possessive 's, is swallowed)."""
    doc = token.doc
    if end - token.i == 1 and token.lower_ in _PRONOUN_FORMS:
        if token.lower_ == "her":
            return ("your" if token.tag_ == "PRP$" else "you"), False
        return _PRONOUN_FORMS[token.lower_], False
    if token.lower_ == "her":
        return ("your" if token.tag_ == "PRP$" else "you"), False
    if end < len(doc) and doc[end].tag_ == "POS":
        return "your", True
    return "you", False


def _verb_form(token: Token, people: People) -> str | None:
    """The token unchanged, or its form for a second-person subject; None when that form cannot be told."""
    if token.tag_ not in ("VBZ", "VBD") or not _subject_is_mentee(token, people):
        return token.text
    if token.tag_ == "VBD":
        return "were" if token.lower_ == "was" else token.text
    lower = token.lower_
    if lower in ("'s", "’s"):
        nxt = token.doc[token.i + 1] if token.i + 1 < len(token.doc) else None
        # "she's left" is "she has left", but "when she's left alone" (a passive) is "she is left"
        passive = token.dep_ == "auxpass" and nxt is not None and nxt.lower_ != "been"
        have = token.lemma_ == "have" or (nxt is not None and nxt.tag_ == "VBN" and not passive)
        return ("'ve" if have else "'re").replace("'", lower[0])
    if lower in _AGREEMENT:
        return _same_case(token.text, _AGREEMENT[lower])
    lemma = token.lemma_
    if not lemma or lemma.lower() == lower or not lemma.isalpha():
        return None  # a present-tense verb whose base form the lemmatizer did not give
    return _same_case(token.text, lemma.lower())


def _subject_is_mentee(token: Token, people: People) -> bool:
    """Whether this finite word agrees with the mentee: its clause's subject is the mentee and it comes first."""
    verb = token.head if token.dep_ in ("aux", "auxpass") else token
    if token.dep_ not in ("aux", "auxpass"):
        auxes = [c for c in verb.children if c.dep_ in ("aux", "auxpass") and c.i < verb.i and c.lower_ != "to"]
        if auxes:
            return False  # the auxiliary carries the agreement, not the main verb
    elif (
        min((c.i for c in verb.children if c.dep_ in ("aux", "auxpass") and c.lower_ != "to"), default=token.i)
        != token.i
    ):
        return False
    subjects = _subjects(verb, people)
    if not subjects or not all(people.is_mentee(s) for s in subjects):
        return False  # "the redesign Lucia spent…" parsed with two subjects: only the mentee's verbs change
    return not any(c.dep_ == "conj" for s in subjects for c in s.children)


def _subjects(verb: Token, people: People) -> list[Token]:
    """The verb's own subjects, or those of the verb it is coordinated with ("listened, apologised and offered")."""
    node = verb
    while True:
        found = own_subjects(node, people)
        if found or node.dep_ != "conj" or node.head.i == node.i:
            return found
        node = node.head


def _same_case(original: str, word: str) -> str:
    return word[:1].upper() + word[1:] if original[:1].isupper() else word
