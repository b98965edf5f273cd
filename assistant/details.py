"""Pull the user's own details (who, when, what happened) out of a message, so answers can reuse them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT_NAMES = {
    "i",
    "i'm",
    "i've",
    "i'd",
    "my",
    "me",
    "we",
    "our",
    "you",
    "he",
    "she",
    "they",
    "it",
    "the",
    "a",
    "an",
    "and",
    "but",
    "so",
    "how",
    "what",
    "when",
    "why",
    "who",
    "which",
    "can",
    "could",
    "should",
    "would",
    "will",
    "do",
    "does",
    "is",
    "are",
    "help",
    "hr",
    "eap",
    "ceo",
    "cto",
    "vp",
    "qa",
    "ui",
    "ux",
    "it's",
    "ok",
    "okay",
    "hi",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "tomorrow",
    "today",
    "yesterday",
    "next",
    "last",
    "this",
    "that",
    "there",
    "then",
    "also",
    "any",
    "tips",
    "please",
    "english",
    "mentee",
    "mentor",
    "manager",
    "sbi",
    "grow",
    "after",
    "before",
    "since",
    "if",
    "as",
    "in",
    "on",
    "at",
    "for",
    "with",
    "about",
    "team",
    "one",
    "just",
    "now",
    "her",
    "his",
    "their",
    "him",
    "them",
}
_CUE = (
    r"(?:mentee|report|colleague|intern|engineer|analyst|nurse|teammate|apprentice|employee|"
    r"tell|with|to|about|for|named|called|give|and)"
)
_NAME_AFTER_CUE = re.compile(rf"\b{_CUE},?\s+([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\b")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{2,})\b")
_WHEN = re.compile(
    r"\b(tomorrow(?: morning| afternoon)?|tonight|today|this (?:morning|afternoon|week|friday|monday)|"
    r"later today|next (?:week|month|monday|tuesday|wednesday|thursday|friday)|"
    r"on (?:monday|tuesday|wednesday|thursday|friday)|in (?:an hour|ten minutes|a few minutes|the morning))\b",
    re.IGNORECASE,
)
_EVENT = (
    r"(?:meeting|demo|standup|stand-up|call|review|presentation|session|one-on-one|1:1|retro|retrospective|"
    r"workshop|interview|sync|handover|hand-off|shift|launch|pitch|planning|huddle|training|rounds|inspection|audit)"
)
_SITUATION = re.compile(
    rf"\b((?:in|during|at|on|to|into)\s+"
    rf"(?:(?:the|our|this|last|yesterday's|today's|this morning's|\w+day's|[A-Z]\w+'s)\s+)?"
    rf"(?:[\w-]+\s+){{0,3}}?{_EVENT}s?(?:\s+(?:yesterday|today|last week|this morning|on \w+day))?|"
    rf"yesterday(?: morning| afternoon)?|this morning|last (?:week|month|friday|monday|tuesday|wednesday|thursday)|"
    rf"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)(?: night| morning| afternoon| evening)?)\b",
    re.IGNORECASE,
)
_NEWS = re.compile(r"\b(?:tell|telling|inform|break(?:ing)? (?:it|the news) to|let)\b", re.IGNORECASE)
_TOPIC = re.compile(
    r"\b(?:tell|telling|inform|informing)\s+(?:my \w+\s+)?(?:[A-Z]\w+|him|her|them)\s+(?:that\s+)?(.+?)(?:[.?!]|$)|"
    r"\babout\s+(.+?)(?:[.?!]|$)|\bthat\s+(.+?)(?:[.?!]|$)",
)
_IMPACT = re.compile(
    r"(?:,?\s+(which|so that|so|and that|and it|meaning|that meant|as a result|because of (?:that|this))\s+)"
    r"(.+?)(?:[.?!]|$)",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:i(?:'d| would) like (?:him|her|them|[A-Z]\w+) to|i want (?:him|her|them|[A-Z]\w+) to|"
    r"(?:he|she|they|[A-Z]\w+) (?:should|needs to|need to) (?:start|stop)?)\s*([^.?!]+)",
    re.IGNORECASE,
)
_SECOND_PERSON = [
    (r"\bshe's\b|\bhe's\b|\bthey're\b", "you're"),
    (r"\bshe was\b|\bhe was\b|\bthey were\b", "you were"),
    (r"\bshe\b|\bhe\b|\bthey\b", "you"),
    (r"\bher own\b|\bhis own\b|\btheir own\b", "your own"),
    (r"\bherself\b|\bhimself\b|\bthemselves\b", "yourself"),
    (r"\bhis\b|\btheir\b", "your"),
    (r"\bhas\b", "have"),
    (r"\bisn't\b", "aren't"),
    (r"\bis\b", "are"),
    (r"\bwasn't\b", "weren't"),
    (r"^was\b", "were"),
    (r"\bdoesn't\b", "don't"),
]


_VERB_FIRST = re.compile(
    r"^(?!(?:was|is|has|its|this|his|hers|yours|us|as|less|process|business|class|always|sometimes|perhaps)\b)"
    r"[a-z]+s\b"
)


@dataclass(frozen=True)
class Details:
    name: str | None = None
    when: str | None = None
    situation: str | None = None
    behavior: str | None = None
    impact: str | None = None
    topic: str | None = None
    request: str | None = None
    is_news: bool = False

    @property
    def who(self) -> str:
        return self.name or "your mentee"


def to_second_person(text: str, name: str | None) -> str:
    """'her talk was rejected' → 'your talk was rejected', as it would be said to the person."""
    out = text.strip().rstrip(".?!")
    if name:
        out = re.sub(rf"\b{re.escape(name)}'s\b", "your", out)
        out = re.sub(rf"\b{re.escape(name)}\b", "you", out)
    out = re.sub(r"\bher\b(?=\s+\w)", "your", out)
    out = re.sub(r"\bher\b", "you", out)
    out = re.sub(r"\b(him|them)\b", "you", out)
    out = _THIRD_PERSON_VERB.sub(_you_verb, out)
    for pattern, repl in _SECOND_PERSON:
        out = re.sub(pattern, repl, out, flags=re.IGNORECASE)
    # "gets defensive" → "get defensive": a clause that opens with a third-person verb
    return _base_verb(out) if _VERB_FIRST.match(out) else out


_THIRD_PERSON_VERB = re.compile(
    r"\b(?:she|he)\s+((?:always|never|often|usually|sometimes|still|also|just|really|constantly)\s+)?([a-z]+)\b",
    re.IGNORECASE,
)


def _you_verb(match: re.Match[str]) -> str:
    """'he answers' → 'you answer'; other words after the pronoun are left for the general rules."""
    adverb, word = match.group(1) or "", match.group(2)
    return f"you {adverb}{_base_verb(word) if _VERB_FIRST.match(word) else word}"


def _base_verb(clause: str) -> str:
    first, _, rest = clause.partition(" ")
    if first in ("goes", "does") or re.search(r"(?:[sxz]|ch|sh)es$", first):
        first = first[:-2]
    elif re.search(r"[^aeiou]ies$", first):
        first = first[:-3] + "y"
    else:
        first = first[:-1]
    return f"{first} {rest}".strip()


def find_name(text: str) -> str | None:
    for match in _NAME_AFTER_CUE.finditer(text):
        first = match.group(1).split()[0]
        if first.lower() not in _NOT_NAMES:
            return first
    for match in _CAPITALISED.finditer(text):
        if match.group(1).lower() not in _NOT_NAMES:
            return match.group(1)
    # A sentence may open with the person: "Sam interrupted the client…"
    opener = re.match(r"\s*([A-Z][a-z]{2,})\s+(?:has|had|was|is|keeps|kept|didn't|never|always|[a-z]+ed)\b", text)
    if opener and opener.group(1).lower() not in _NOT_NAMES:
        return opener.group(1)
    return None


def extract(text: str) -> Details:
    """Best-effort extraction; every field may be None and callers fall back to placeholders."""
    text = " ".join(text.split())
    name = find_name(text)
    when = _WHEN.search(text)
    situation = _SITUATION.search(text)
    topic_match = _TOPIC.search(text)
    topic = next((g for g in topic_match.groups() if g), None) if topic_match else None
    impact = _IMPACT.search(text)
    return Details(
        name=name,
        when=when.group(1).lower() if when else None,
        situation=situation.group(1) if situation else None,
        behavior=_behavior(text, name, situation.group(1) if situation else None),
        impact=_impact_sentence(impact.group(1).lower(), impact.group(2).strip()) if impact else None,
        topic=_clean_topic(topic),
        request=_REQUEST.search(text).group(1).strip() if _REQUEST.search(text) else None,
        is_news=bool(_NEWS.search(text)),
    )


def _impact_sentence(connector: str, clause: str) -> str:
    """'which made the client stop' has no subject of its own once split off: give it one."""
    if connector in ("which", "and that", "and it"):
        return f"that {clause}"
    if connector in ("meaning", "that meant"):
        return f"that meant {clause}"
    return clause


def _clean_topic(topic: str | None) -> str | None:
    if not topic:
        return None
    topic = re.split(r"\s+(?:and how|how do i|how should i|what should i|any tips|but i|and i)\b", topic, maxsplit=1)[0]
    topic = topic.strip(" ,;:")
    return topic if 2 <= len(topic.split()) <= 25 else None


_WHO_CLAUSE = re.compile(r"\b(?:a|an|the|my|our)\s+(?:[\w-]+\s+){0,2}?[\w-]+\s+who\s+([^.?!]+)", re.IGNORECASE)


def _behavior(text: str, name: str | None, situation: str | None) -> str | None:
    """What the person did: the clause after their name ('Sam interrupted the client…') or after a role
    ('a nurse who didn't double-check the dose…')."""
    if not name:
        who = _WHO_CLAUSE.search(text)
        return _trim_clause(who.group(1), situation) if who else None
    match = re.search(
        rf"\b{re.escape(name)}\s+(?!(?:about|to|for|with|and|that|on|in|at)\b)"
        r"((?:has been |keeps |kept |was |didn't |did not |hasn't |won't |wouldn't |never |always )?"
        r"[a-z]+(?:ed|s|t)\b[^.?!]*)",
        text,
    )
    if not match:
        return None
    return _trim_clause(match.group(1), situation)


def _trim_clause(clause: str, situation: str | None) -> str | None:
    clause = re.split(
        r",?\s+(?:which|so that|so|and that|and it|meaning|that meant|as a result|and i|and we|but i|but we|how do i"
        r"|can you|help me)\b",
        clause,
        maxsplit=1,
        flags=re.IGNORECASE,  # "… three deadlines and I meet her tomorrow": the mentor's own clause is not hers
    )[0]
    if situation:
        clause = clause.replace(situation, "")
    clause = " ".join(clause.split()).strip(" ,;:")
    return clause if 2 <= len(clause.split()) <= 30 else None
