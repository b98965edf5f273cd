"""A role-play built from the mentor's own description ("let me practise telling Omar he won't be on the new
project") instead of a fixed scenario: the mentee's name, the topic in words the mentee can say, the kind of
situation (matched with the sentence encoder to the kinds in scenarios.yaml) and the persona, named in the
description or the kind's usual one."""

from __future__ import annotations

import re

import numpy as np

from assistant.embedders import Embedder
from assistant.practice.data import Scenario, load

OWN_ID = "own"
PERSONA_CUES: dict[str, str] = {
    "quiet": r"\b(?:quiet|shy|silent|reserved|withdrawn|barely (?:talks|speaks|says))\b",
    "overwhelmed": r"\b(?:overwhelm\w*|swamped|stressed|burn(?:ed|t|ing)?[ -]?out|exhausted|snowed under)\b",
    "over-confident": r"\b(?:over-?confident|cocky|arrogant|know-it-all|thinks? (?:he|she|they)(?:'s| is| are)? "
    r"always right)\b",
    "upset": r"\b(?:upset|cr(?:y|ies|ied|ying)|tears|tearful|emotional|angry|furious|hurt)\b",
    "defensive": r"\b(?:defensive|push(?:es)? back|argu\w+|blames? (?:others|everyone)|makes? excuses)\b",
}
_LEAD_IN = re.compile(
    r"^\s*(?:(?:can|could|would)\s+(?:we|you|i)\s+|let\s+me\s+|let's\s+|i\s+(?:want|need|would\s+like|'d\s+like)"
    r"\s+to\s+|help\s+me\s+|please\s+)*(?:practi[cs]e|rehearse|role[- ]?play|simulate|try\s+out)\b\s*(?:with\s+me\b)?"
    r"\s*(?:(?:a|the|my)\s+(?:conversation|talk|chat|meeting)\s*(?:where|in\s+which|about|on)?\s*)?"
    r"(?:how\s+to\s+)?[:,-]?\s*",
    re.IGNORECASE,
)
_CLAUSE_END = r"(?=[,.;!?]|\s+(?:and|but|because|so|who|which|since|as|he|she|they|if|when)\b|$)"
_ABOUT = re.compile(
    r"\b(?:about|regarding|over|on)\s+(?P<np>(?:the|a|an|his|her|their|my|our|this|that)\b[^,.;!?]*?)" + _CLAUSE_END,
    re.IGNORECASE,
)
_TELL = re.compile(
    r"\b(?i:tell(?:ing)?|let(?:ting)?\s+\w+\s+know|break(?:ing)?\s+(?:it|the\s+news)\s+to)\s+"
    r"(?:him|her|them|my\s+[\w-]+|[A-Z][\w'-]+(?:\s+[A-Z]\.)?)?\s*(?:that\s+)?(?P<clause>[^.;!?]+)",
)
_THAT = re.compile(r"\bthat\s+(?P<clause>(?:he|she|they|his|her|their)\b[^.;!?]+)", re.IGNORECASE)
_NOUN_PHRASE = re.compile(r"\b(?:the|a|an|his|her|their|my|our|this|that)\s+(?:[\w'-]+\s+){0,3}[\w'-]+", re.IGNORECASE)
_DETERMINER = {
    "a": "the",
    "an": "the",
    "this": "the",
    "that": "the",
    "his": "my",
    "her": "my",
    "their": "my",
    "our": "the",
    "my": "the",
    "the": "the",
}
# Words that judge rather than name ("a bad client demo"); the mentee would not call it that.
_JUDGING = {
    "bad",
    "poor",
    "terrible",
    "awful",
    "disastrous",
    "failed",
    "botched",
    "sloppy",
    "rough",
    "messy",
    "awkward",
    "horrible",
    "embarrassing",
    "difficult",
    "tricky",
    "hard",
    "tough",
}
# Where a noun phrase ends: "his contract | won't be renewed", "the new project | that starts in May".
_PHRASE_END = {
    "won't",
    "will",
    "would",
    "is",
    "isn't",
    "was",
    "wasn't",
    "are",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "didn't",
    "doesn't",
    "don't",
    "can't",
    "couldn't",
    "shouldn't",
    "got",
    "gets",
    "went",
    "goes",
    "should",
    "could",
    "can",
    "may",
    "might",
    "must",
    "to",
    "that",
    "who",
    "which",
    "because",
    "and",
    "but",
    "in",
    "at",
    "for",
    "with",
    "from",
    "by",
    "after",
    "before",
    "since",
    "if",
    "when",
}
_TRAILING_TIME = re.compile(r"\s+(?:yesterday|today|last\s+\w+|this\s+\w+|on\s+\w+day)$", re.IGNORECASE)
_NOT_NAMES = {
    "I",
    "I'm",
    "I'd",
    "I'll",
    "I've",
    "Let",
    "Can",
    "Could",
    "Please",
    "Help",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "English",
    "The",
    "My",
    "He",
    "She",
    "They",
}
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+)$")
_NAME_VERB = re.compile(
    r"\s+(?:tells|told|says|said|is|was|has|had|wants|wanted|keeps|kept|gets|got|asked|asks|needs|missed|won't"
    r"|didn't|doesn't|isn't|wasn't|can't|thinks|feels|seems|cried|shouted|left|quit)\b"
)
_FALLBACK_TOPIC = {
    "feedback": "what happened",
    "bad_news": "the decision",
    "conflict": "what happened with the team",
    "leaving": "my future here",
    "wellbeing": "everything at the moment",
}
MAX_TOPIC_WORDS = 6


def persona_cue(text: str) -> str | None:
    """The persona a description names ("she gets defensive"), the earliest mentioned if several."""
    found = [(m.start(), pid) for pid, cue in PERSONA_CUES.items() if (m := re.search(cue, text, re.IGNORECASE))]
    return min(found)[1] if found else None


def situation_words(request: str) -> str:
    """The request without its lead-in: 'let me practise telling him X' -> 'telling him X'."""
    core = _LEAD_IN.sub("", request.strip(), count=1).strip(" .")
    return core


def mentee_name(text: str) -> str:
    """The first capitalised word that is not a day, month or pronoun, and not a sentence's first word unless a
    verb follows it as it would a name ("Mei tells me she has an offer")."""
    for match in _NAME.finditer(text):
        word = match.group(0)
        if word in _NOT_NAMES:
            continue
        if not _SENTENCE_START.search(text[: match.start()]) or _NAME_VERB.match(text[match.end() :]):
            return word
    return ""


def topic_phrase(core: str) -> str | None:
    """A noun phrase the mentee can say ('the new project', 'the client demo'), or None."""
    about = _ABOUT.search(core)
    if about:
        return _normalise(about.group("np"))
    clause = _TELL.search(core) or _THAT.search(core)
    if clause:
        phrases = _NOUN_PHRASE.findall(clause.group("clause"))
        if phrases:
            return _normalise(phrases[-1])
    return None


def _normalise(phrase: str) -> str | None:
    phrase = _TRAILING_TIME.sub("", phrase.strip())
    words = phrase.split()
    if not words:
        return None
    while len(words) > 1 and words[1].lower() in _DETERMINER:
        words = words[1:]  # "that the bonus": the first word was a conjunction, not a determiner
    end = next((i for i, w in enumerate(words) if i and w.lower() in _PHRASE_END), len(words))
    words = words[:end]
    head = _DETERMINER.get(words[0].lower(), words[0])
    rest = [w for w in words[1:] if w.lower() not in _JUDGING][: MAX_TOPIC_WORDS - 1]
    return " ".join([head, *rest]) if rest else None


def situation_kind(core: str, embedder: Embedder) -> str:
    """The kind of situation whose examples the description is closest to, by the sentence encoder."""
    kinds = load().kinds
    names = [k for k, kind in kinds.items() for _ in kind.examples]
    examples = [e for kind in kinds.values() for e in kind.examples]
    vectors = np.asarray(embedder.embed([core, *examples]), dtype=np.float32)
    similarity = vectors[1:] @ vectors[0]
    best: dict[str, float] = {}
    for name, score in zip(names, similarity, strict=True):
        best[name] = max(best.get(name, -1.0), float(score))
    return max(best, key=lambda k: best[k])


def build_scenario(request: str, embedder: Embedder, persona_id: str | None = None) -> tuple[Scenario, str]:
    """The scenario the mentor described, and the persona to play (named in it, given, or the kind's own)."""
    core = situation_words(request) or request.strip()
    kind_id = situation_kind(core, embedder)
    kind = load().kinds[kind_id]
    topic = topic_phrase(core) or _FALLBACK_TOPIC[kind_id]
    name = mentee_name(core)
    persona = persona_cue(core) or persona_id or kind.persona
    text = core[0].upper() + core[1:]
    scenario = Scenario(
        id=OWN_ID,
        title=f"Your situation: {_shorten(core)}",
        brief=f"Your own situation, as you described it: {text}.",
        topic=topic,
        kind=kind_id,
        openings=dict(kind.openings),
        reveals=kind.reveals,
        lines=kind.lines,
        mentee=name,
        description=request.strip(),
    )
    return scenario, persona


def _shorten(text: str, limit: int = 70) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "\u2026"
