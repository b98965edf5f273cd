"""Feedback checker: scores a piece of feedback the way an experienced coach reads it (offline, rule-based).

The model is Situation-Behaviour-Impact (SBI) plus a request, and four habits that undermine feedback:
labels about the person, absolutes, vague praise or criticism, and hedging. Everything is plain regular
expressions with bounded repetition, so a 100k-character paste is checked quickly and no input can trigger
catastrophic backtracking.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

POSITIVE: tuple[str, ...] = ("situation", "behavior", "impact", "request")
NEGATIVE: tuple[str, ...] = ("judgmental", "absolute", "vague", "hedging")

# Score weights (sum 100). Positive criteria carry 60 points: behaviour is the heart of useful feedback, situation
# and impact make it land, a request is helpful but optional. Negative criteria carry 40: a label about the person
# does the most damage, vague wording the next most, absolutes invite argument, hedging only blurs the message.
WEIGHTS: dict[str, int] = {
    "situation": 15,
    "behavior": 20,
    "impact": 15,
    "request": 10,
    "judgmental": 16,
    "vague": 10,
    "absolute": 8,
    "hedging": 6,
}

MAX_EVIDENCE = 8
MAX_SPANS = 400


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _words(*items: str) -> str:
    """An alternation of phrases, longest first; a space inside a phrase matches any run of whitespace."""
    return "|".join(i.replace(" ", r"\s+") for i in sorted(set(items), key=len, reverse=True))


# Intensifiers and softeners that sit between a subject and what it is said to be ("you're *so* negative").
_INTENS = r"(?:(?:so|too|very|really|super|quite|pretty|rather|a\s+bit|a\s+little|kind\s+of|sort\s+of|just|such|being|always|often|clearly|honestly|incredibly|extremely|slightly|somewhat)\s+){0,3}"  # noqa: E501

# --- situation: a concrete when/where --------------------------------------------------------------------------

_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)"
)
# The word lists read best packed; the formatter would put each word on a line of its own.
# fmt: off
_EVENT = _words(
    "meeting", "standup", "stand-up", "stand up", "review", "call", "demo", "presentation", "pitch", "workshop",
    "retro", "retrospective", "planning", "sprint", "one-on-one", "1:1", "1-on-1", "check-in", "huddle", "sync",
    "interview", "session", "training", "handover", "hand-off", "handoff", "offsite", "all-hands", "town hall",
    "kickoff", "kick-off", "launch", "release", "deploy", "deployment", "shift", "rush", "incident", "outage",
    "report", "email", "thread", "channel", "chat", "deck", "proposal", "project", "board meeting", "committee",
    "class", "lesson", "lecture", "seminar", "lab", "rounds", "ward round", "appointment", "visit", "site",
    "conference", "event", "dinner", "lunch", "discussion", "debate", "negotiation", "audit", "inspection",
    "exam", "rehearsal", "game", "match", "practice", "performance", "show", "trip", "tour", "drill", "evening",
    "onboarding", "code review", "pull request", "ticket", "story", "on-call", "rota", "observation", "application",
    "orientation", "market", "stall", "branch", "store", "ward", "office", "floor", "clinic", "warehouse", "kitchen",
    "service", "briefing", "debrief", "prep", "update", "webinar", "consultation", "assembly", "concert", "round",
)
_RELTIME = _words(
    "yesterday", "today", "tonight", "this morning", "this afternoon", "this evening", "last night",
    "earlier today", "earlier this week", "the other day", "last week", "last month", "last sprint",
    "last time", "this week", "a few minutes ago", "an hour ago", "this past weekend", "over the weekend",
    "yesterday's", "today's", "tonight's", "this morning's", "last night's", "last week's", "this week's",
)
# A bare weekday is a deadline, not a situation, after these words ("send it by Thursday").
_NOT_PAST = r"(?<!by\s)(?<!next\s)(?<!until\s)(?<!till\s)(?<!before\s)(?<!from\s)"
SITUATION = _rx(
    # the fullest form first, so "In Tuesday's standup" wins over "Tuesday's" at the same place
    r"\b(?:in|at|during|after|on|from)\s+(?:the|our|your|my|their|his|her|this|that|last|a|an|yesterday's"
    rf"|today's|tonight's|{_DAY}'s|(?:last|this)\s+(?:week|month|night|morning|afternoon|evening|sprint)'s)\s+"
    rf"(?:[\w'&-]+\s+){{0,3}}?(?:{_EVENT})s?\b"
    rf"|\b(?:last|this|on|since|that)\s+{_DAY}(?:\s+(?:morning|afternoon|evening|night))?\b"
    rf"|{_NOT_PAST}\b{_DAY}'s\b"
    rf"|{_NOT_PAST}\b{_DAY}\s+(?:morning|afternoon|evening|night)\b"
    rf"|\b(?:on|in|since)\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b"
    rf"|\bon\s+{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    r"|\b(?:at|around)\s+\d{1,2}(?::\d\d)?\s*(?:am|pm)\b|\b\d{1,2}(?::\d\d)?\s*(?:am|pm)\s+(?:" + _EVENT + r")\b"
    rf"|\b(?:{_RELTIME})(?!\w)"
    r"|\bwhen\s+(?:you|we|the\s+client|they)\s+(?:[\w'-]+\s+){0,2}?(?:presented|demoed|ran|led|met|spoke|took|were"
    r"|joined|triaged|handled|opened|closed|started|finished|shipped|answered|called|pitched|walked|covered)\b"
)

# --- behaviour: something observable the person did or said ---------------------------------------------------

_IRREGULAR_PAST = _words(
    "sent", "gave", "said", "wrote", "took", "made", "spoke", "left", "came", "ran", "told", "put", "brought",
    "did", "forgot", "missed", "began", "broke", "built", "caught", "chose", "drew", "drove", "fell", "found",
    "got", "went", "held", "hid", "hit", "kept", "led", "lost", "met", "paid", "read", "rode", "rose",
    "saw", "sat", "set", "shut", "sold", "stood", "swore", "taught", "threw", "won", "wore", "spent",
    "dealt", "shared", "cut", "fought", "flew", "grew", "hung", "let", "quit", "rang", "shook",
    "stuck", "struck", "swept", "tore", "woke", "heard", "bought", "sought", "laid", "lent", "bent", "spread",
    "split", "slid", "swung", "understood", "forgave", "fled", "overrode", "undid", "withdrew", "upheld",
)
# Verbs after "you" that report an inner state or an interpretation, not something observable; and words that only
# look like a past tense ("need").
_NOT_BEHAVIOUR = {
    "seemed", "appeared", "looked", "felt", "wanted", "needed", "liked", "loved", "hated", "cared", "wished",
    "intended", "meant", "believed", "thought", "knew", "used", "deserved", "lacked", "hoped", "preferred",
    "assumed", "supposed", "expected", "tended", "enjoyed", "imagined", "need", "feed", "speed", "proceed",
    "succeed", "exceed", "bleed", "breed", "heed", "seed", "indeed", "embed", "shed", "bed", "red", "wed",
}
# Present-tense verbs that say nothing observable ("you always *think*"), for the habitual pattern.
_NOT_HABIT = {
    "think", "feel", "seem", "know", "want", "need", "like", "love", "hate", "care", "believe", "mean", "have",
    "are", "were", "be", "get", "do", "make", "try", "expect", "assume", "act",
}
_OBSERVABLE_STATE = _words(
    "late", "early", "on time", "absent", "silent", "offline", "away", "not there", "not in",
    "missing", "on mute", "off camera", "on your phone", "on the phone", "on your laptop", "the only one",
)
_WORK_NOUN = _words(
    "email", "emails", "report", "reports", "slides", "slide", "deck", "code", "pr", "pull request", "message",
    "messages", "comment", "comments", "figures", "figure", "numbers", "summary", "update", "updates", "doc",
    "document", "presentation", "ticket", "tickets", "commit", "tests", "test", "spreadsheet", "table", "invoice",
    "proposal", "draft", "plan", "estimate", "estimates", "notes", "minutes", "reply", "replies", "response",
    "post", "handover", "chart", "charts", "data", "analysis", "design", "script", "release", "build", "agenda",
    "brief", "memo", "timesheet", "timesheets", "forecast", "budget", "section", "page", "pages",
)
_COUNT = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty)"
_ADVERBS = (
    r"(?:(?:just|also|then|already|again|actually|twice|once|kind\s+of|sort\s+of|even|still|first|only|never|always"
    r"|[a-z]{3,}ly)\s+){0,2}"
)
# "could you let her finish" is a request, not something that happened.
_NOT_ASKED = r"(?<!could\s)(?<!would\s)(?<!can\s)(?<!will\s)(?<!should\s)(?<!might\s)(?<!did\s)(?<!do\s)(?<!if\s)"
BEHAVIOR = _rx(
    rf"{_NOT_ASKED}\byou(?:'ve|\s+have|'d|\s+had)?\s+{_ADVERBS}"
    rf"(?P<verb>[a-z]{{2,}}ed|(?:re|over|under|mis|out)?(?:{_IRREGULAR_PAST}))\b"
    r"|\byou\s+(?:did\s+not|didn't|didnt|haven't|have\s+not|hadn't|weren't|wasn't|failed\s+to|forgot\s+to"
    r"|stopped|started|kept|keep|continued|skipped)\b"
    r"|\byou(?:'ve|\s+have)\s+been\s+[a-z]{3,}ing\b"
    r"|\byou\s+(?:were|are|'re)\s+[a-z]{3,}ing\b"
    r"|\byou\s+(?:always|never|constantly|often|usually|regularly|repeatedly|frequently|sometimes|rarely|still"
    r"|routinely|keep|tend\s+to)\s+(?P<habit>[a-z]{2,})\b"
    rf"|\byou(?:\s+were|\s+are|'re|\s+arrived|\s+came|\s+joined|\s+showed\s+up|\s+logged\s+(?:on|in))\s+"
    rf"(?:[\w'-]+\s+){{0,3}}?(?:{_OBSERVABLE_STATE})\b"
    r"|\bI\s+(?:saw|noticed|heard|watched|observed)\s+(?:that\s+|how\s+)?you\b"
    r"|\b(?:your|the|two\s+of\s+the|three\s+of\s+the|some\s+of\s+the|all\s+the|both)\s+(?:[\w'-]+\s+){0,3}?"
    rf"(?:{_WORK_NOUN})\s+(?:had|has|have|was|were|didn't|did\s+not|contained|included|said|showed|missed|went\s+out"
    r"|arrived|came\s+in|listed|used|left\s+out|skipped|cited|linked|broke|failed|passed|ran|took|landed|got)\b"
    rf"|\b(?:is|are|was|were|'re|'s)\s+(?:over\s+|about\s+|nearly\s+|almost\s+|more\s+than\s+|at\s+least\s+)?"
    rf"{_COUNT}\s+(?:[a-z-]+\s+)?(?:pages|minutes|hours|days|weeks|slides|words|errors|typos|mistakes|items|points"
    r"|bullets|lines|paragraphs)\b"
    r"|\byou\s+(?:say|said|write|wrote|asked|replied|answered|responded|told\s+\w+)\s*[,:]?\s*[\"']"
)
# "you were rude": a label in the grammar of a behaviour.
_TRAIT_AFTER_YOU = _rx(rf"\byou\s+(?:were|are|'re)\s+{_INTENS}(\w+)")
# "The spreadsheet you sent me on Monday is confusing": 'you sent' only identifies the thing being judged.
_RELATIVE_CLAUSE = _rx(
    r"\b(?:the|that|this|those|these)\s+[\w-]+\s+(?:that\s+|which\s+)?you\s+[a-z]+"
    r"(?:\s+(?:me|us|him|her|them|yesterday|today|on\s+\w+|last\s+\w+|this\s+\w+|earlier|round|over|out)){0,3}"
    r"\s+(?:is|was|were|are|has\s+been|looks|looked|seems|seemed|reads)\b"
)
# "you handled it really well": an evaluation where the observable detail should be.
_JUST_EVALUATED = _rx(r"\b(?:really|very|so|super|extremely|pretty|quite)\s+(?:well|badly|poorly)\b")
# "you did great": praise in the grammar of a behaviour.
_DID_EVALUATED = _rx(
    r"you\s+did\s+(?:so\s+|really\s+|very\s+|such\s+|an?\s+)?(?:great|well|good|amazing|awesome|brilliant(?:ly)?"
    r"|fantastic|excellent|nicely|fine|ok|okay|badly|poorly|terribly|wonderful|superb|solid|lovely|nice)\b"
)
_OBSERVABLE_END = _rx(rf"(?:{_OBSERVABLE_STATE})$")

# --- impact: the effect on work, people, results ---------------------------------------------------------------

_NOT_AFTER_YOU = r"(?<!you\s)(?<!You\s)"
_THIRD_PARTY = (
    r"(?:she|he|they|we|it|that|this|everyone|nobody|people|both|the\s+[a-z-]+|our\s+[a-z-]+|two\s+[a-z-]+"
    r"|three\s+[a-z-]+|[A-Z][a-z]+)"
)
IMPACT = _rx(
    r"\b(?:which|that|this|it)\s+(?:meant|means|caused|causes|led|leads|let|gave|made|helped|saved|cost|costs"
    r"|delayed|put|left|forced|pushed|pushes|allowed|slowed|stalled|blocked|unblocked|kept|stopped|freed|turned"
    r"|created|added|affected|affects|impacted|hurt|undermined|damaged|confused|reassured|prevented"
    r"|bought|earned|won|lost|brought|raised|lowered|reduced|increased|caught|sparked|answered|shuts|shut"
    r"|puts|leaves|makes|gives|slows|blocks|triggered|exposed|risked|risks|broke|breaks)\b"
    r"|\bmeaning\b|\bas\s+a\s+result\b|\bbecause\s+of\s+(?:that|this|it)\b|\bthe\s+(?:impact|effect|result|upshot)\b"
    r"|\bthat's\s+(?:why|what|how)\b|\bthat\s+is\s+(?:why|what|how)\b|\bthanks\s+to\s+(?:that|this|you|your)\b"
    r"|(?:(?<=[,;:])|(?<=[,;:]\s)|(?<=and\s)|(?<=[.!?]\s)|^)so\s+(?!that\b)(?:the|we|I|they|she|he|our|your|it"
    r"|everyone|nobody|no\s+one|people|customers|users|now)\b"
    r"|\b(?:led|leads|lead)\s+to\b|\bresult(?:ed|s)?\s+in\b|\bended\s+up\b"
    rf"|{_NOT_AFTER_YOU}\b(?:had|have|has)\s+to\b|{_NOT_AFTER_YOU}\b(?:couldn't|could\s+not|can't|cannot"
    r"|wasn't\s+able|weren't\s+able)\b"
    rf"|\b(?:was|were)\s+able\s+to\b|{_NOT_AFTER_YOU}\b(?:might|may|could|would|will)\s+have\s+[a-z]+(?:ed|en|t)\b"
    r"|\b(?:delayed|slowed|stalled|unblocked|saved|slipped|derailed|wasted)\b"
    r"|\bmade\s+it\s+(?:hard|harder|difficult|easier|easy|possible|impossible|clear|clearer|confusing)\b"
    r"|\b(?:made|left|makes|leaves)\s+(?:me|us|them|him|her|the\s+\w+|people|everyone)\s+(?:feel|felt|wonder"
    r"|unsure|confused|waiting|without|exposed|scrambling|guessing|worried)\b"
    r"|\bI\s+(?:felt|feel|was|got|am|'m)\s+(?:a\s+bit\s+|quite\s+|really\s+|very\s+)?(?:frustrated|worried|concerned"
    r"|embarrassed|anxious|uncomfortable|disappointed|let\s+down|undermined|relieved|proud|grateful|impressed"
    r"|confident|stressed|annoyed|surprised|caught\s+off\s+guard|exposed|unsure|confused|reassured|thrilled)\b"
    r"|\b(?:it's|it\s+is|that's|which\s+is|this\s+is)\s+(?:really\s+|now\s+|also\s+)?(?:bringing|slowing|costing"
    r"|making|hurting|affecting|holding|causing|putting|leaving|dragging|blocking|wearing|stressing|helping|saving"
    r"|giving|letting|creating|confusing|frustrating|undermining)\b"
    r"|\bwhich\s+(?:is|was|would\s+be)\s+(?:a|an)\b"
    r"|\b(?:nobody|no\s+one|people|readers|customers|users|clients)\s+(?:reads?|knows?|uses?|understands?|trusts?"
    r"|follows?|opens?|finishes?|can't|couldn't|don't|didn't|stopped|started|had|have|has)\b"
    r"|\b(?:the|our|your|their)\s+(?:client|clients|customer|customers|team|manager|director|lead|patient|patients"
    r"|board|audience|students?|readers?|users?|stakeholders?|room|panel|reviewers?|auditors?|partners?)\s+"
    r"(?:[\w'-]+\s+)?(?:(?!seemed|appeared|looked|sounded)[a-z]{3,}ed|felt|was|were|said|had|got|left|lost"
    r"|couldn't|didn't|went|took|gave|made"
    r"|complained|noticed|thanked|praised|mentioned|renewed|signed|approved|rejected|escalated|called|emailed|wrote"
    r"|pointed|needed|spent|waited|followed|trusted|missed|cancelled|canceled|raised|walked|went|ended)\b"
    r"|\b(?:saved|cost|took|gave)\s+(?:us|them|me|the\s+team|the\s+client|everyone)\b"
    r"|\bwe\s+(?:shipped|finished|closed|won|hit|delivered|launched|lost|missed|avoided|caught|kept|got|saved"
    r"|spent|wasted|didn't|couldn't|ended|now|went)\b|\bwe\s+met\s+(?:the|our)\s+(?:deadline|target|goal|sla|date)\b"
    r"|\b(?:affected|impacted|frustrated|confused|reassured|embarrassed|upset)\s+(?:the|our|me|us|them|him|her)\b"
    r"|\b(?:credibility|morale)\b"
)
# "..., and she stopped contributing": a consequence clause inside the behaviour sentence.
_CONSEQUENCE_CLAUSE = _rx(
    rf"[,;]\s+(?:and|so|but)\s+(?:then\s+)?{_THIRD_PARTY}\s+(?:then\s+|now\s+|still\s+)?"
    r"(?:[a-z]{2,}ed|had|has|have|was|were|lost|left|got|went|came|took|made|said|told|felt|couldn't|didn't|can't"
    r"|[a-z]{3,}s)\b"
    r"|\band\s+(?:it|that|this)\s+(?:[a-z]{3,}s|'s\s+[a-z]+ing)\b"
)

# --- request: a next step -------------------------------------------------------------------------------------

# Praise ends with thanks for the act rather than a next step (a bare "Thanks." also signs off criticism).
PRAISE_CLOSE = _rx(
    r"\bthank(?:s| you)\s+(?:so\s+much\s+|very\s+much\s+)?for\b|\bI\s+(?:really\s+|truly\s+)?appreciated\b"
    r"|\bwell\s+done\b|\bkeep\s+it\s+up\b|\bmore\s+of\s+(?:that|this)\b"
)

REQUEST = _rx(
    r"\b(?:could|would|can|will)\s+(?:you|we)\b|\bwould\s+it\s+be\s+possible\b|\bnext\s+time\b"
    r"|\bin\s+(?:the\s+)?future\b|\bgoing\s+forward\b|\bmoving\s+forward\b|\bfrom\s+now\s+on\b|\blet's\b"
    r"|\blet\s+us\b|\bI'?d\s+(?:like|love|suggest|recommend|ask)\b|\bI\s+would\s+(?:like|love|suggest|recommend)\b"
    r"|\bplease\b|\bI\s+(?:suggest|recommend|propose)\b|\bmy\s+(?:ask|request|suggestion)\b|\bhow\s+about\b"
    r"|\bwhat\s+if\s+(?:you|we)\b|\btry\s+(?:to\b|[a-z]+ing\b)|\bkeep\s+(?:doing|using|[a-z]+ing)\b"
    r"|\bI\s+(?:want|need)\s+(?:you|us)\s+to\b|\b(?:before|for|in|at)\s+the\s+next\b|\bmake\s+sure\b"
    r"|\bremember\s+to\b|\bshall\s+we\b|\bdo\s+you\s+want\s+to\b|\b(?:are|would)\s+you\s+(?:be\s+)?(?:willing|open)\b"
    r"|\bcan\s+we\s+agree\b|\bwhat\s+would\s+help\b|\bhow\s+(?:can|could|might)\s+(?:we|you|I)\b"
    r"|\byou\s+(?:need|should|must|have)\s+to\b|\byou\s+should\b|\bthe\s+next\s+step\b"
    r"|\bdo\s+(?:more|that\s+again|it\s+again)\b|\blet\s+me\s+know\b|\b(?:keep|bear)\s+in\s+mind\b"
    r"|\bcould\s+(?:maybe\s+|perhaps\s+|possibly\s+)?be\s+(?:sort\s+of\s+|kind\s+of\s+|a\s+bit\s+|a\s+little\s+"
    r"|slightly\s+|much\s+){0,3}(?:[a-z]{3,}er|more|less)\b"
)
_IMPERATIVE_WORDS = (
    """fix stop start make be get send check clip lock keep use try do don't give take bring update put tell ask
    call email book write add remove plan set come go think remember show share aim focus include double-check run
    review schedule loop copy apologise apologize wait slow speak talk raise flag note follow move consider pick
    choose join finish prepare read learn practise practice reach respond reply test document log record store wear
    label confirm sit walk turn pause cut count submit post open close sign block file escalate hand pass mention
    invite warn tell avoid skip limit cap lead own drop save print back stick carry build double spend leave let
    reply introduce brief agree"""
)
_IMPERATIVE_VERBS = frozenset(_IMPERATIVE_WORDS.split())
_IMPERATIVE = _rx(
    r"^(?:[^,;]{1,60},\s+)?(?:(?:please|just|now|then|always|never|also)\s+)?([a-z][a-z'-]*)\b"
    r"(?:\s+([a-z'-]+))?(?:\s+([a-z'-]+))?"
)
# "Wait times dropped", "Test was green": the would-be verb is a noun starting a statement.
_FINITE = _rx(r"^(?:[a-z]{3,}ed|was|were|is|are|has|had|have|got|went|fell|rose)$")
_DETERMINERS = frozenset(
    ["the", "a", "an", "your", "my", "our", "their", "his", "her", "this", "that", "these", "those", "it", "them",
     "him", "me", "us", "on", "up", "off", "in", "out", "to", "back", "all", "every", "each", "any", "some"]
)

# --- judgmental: labels about the person -----------------------------------------------------------------------

_STRONG_LABELS = _words(
    "lazy", "sloppy", "careless", "rude", "arrogant", "incompetent", "unprofessional", "useless", "hopeless",
    "selfish", "immature", "childish", "stupid", "idiot", "idiotic", "pathetic", "clueless", "disrespectful",
    "entitled", "irresponsible", "unreliable", "inconsiderate", "obnoxious", "toxic", "whiny", "annoying",
    "bossy", "abrasive", "slacker", "know-it-all", "control freak", "drama queen", "prima donna",
    "attitude problem", "bad attitude", "poor attitude", "terrible attitude", "negative attitude",
    "not a team player", "no team player", "unmotivated", "disorganised", "disorganized", "incapable",
    "inept", "hostile", "passive-aggressive", "passive aggressive", "condescending", "self-centred",
    "self-centered", "ungrateful", "narcissistic", "spineless", "dishonest", "a liar", "unbearable",
    "negligent", "scatterbrained", "flaky", "a pushover", "mediocre", "a nightmare", "a disaster", "a mess",
    "bulldozer", "snob", "snobby", "moron", "loser", "jerk", "diva", "unteachable", "uncoachable",
)
_MILD_LABELS = _words(
    "negative", "difficult", "emotional", "aggressive", "defensive", "sensitive", "dramatic", "stubborn",
    "controlling", "cold", "unfriendly", "pushy", "cocky", "uncooperative", "insensitive", "dismissive",
    "disengaged", "uncommitted", "uninterested", "checked out", "bad at", "terrible at", "awful at", "no good at",
    "not cut out", "out of your depth", "in over your head", "mean", "harsh", "bitter", "moody", "touchy",
    "clingy", "needy", "slow", "naive", "a problem", "the problem", "hard to work with", "impossible",
    "weak", "a bad", "a poor", "a terrible", "an awful", "a lousy", "lacking", "unhelpful", "inflexible",
)
# Positive nouns after "you're such a ..." are praise, not labels.
_POSITIVE_NOUNS = r"(?:star|pleasure|joy|asset|help|gem|natural|credit|rock|legend|champ|talent|treasure|great|good)"
JUDGMENTAL = _rx(
    rf"\b(?:{_STRONG_LABELS})\b"
    r"|\byou(?:'re|\s+are|\s+were|\s+seem|\s+seemed|\s+come\s+across\s+as|\s+came\s+across\s+as|\s+sound|\s+can\s+be"
    r"|\s+act|\s+acted|\s+have\s+been|'ve\s+been|\s+look|\s+looked|\s+get|\s+got)\s+"
    rf"{_INTENS}(?:{_MILD_LABELS})\b"
    rf"|\byou(?:'re|\s+are)\s+(?:such\s+an?|a\s+(?:total|complete|real|right)|an\s+(?:absolute|utter))\s+(?!{_POSITIVE_NOUNS}\b)[a-z-]+"
    r"|\byou\s+(?:just\s+|clearly\s+|obviously\s+|simply\s+)?(?:don't|do\s+not|didn't)\s+care\b"
    r"|\b(?:stop|quit)\s+being\s+(?:so\s+|such\s+an?\s+|a\s+|an\s+)?[a-z-]{3,}"
    r"|\bdon't\s+be\s+(?:so|such\s+an?|a|an)\s+[a-z-]{3,}"
    r"|\bwhat's\s+wrong\s+with\s+you\b|\byour\s+attitude\b|\battitude\s+(?:problem|issue)\b"
    r"|\b(?:lack|lacks|lacking)\s+(?:of\s+)?(?:any\s+)?(?:respect|effort|commitment|professionalism|motivation|drive"
    r"|initiative|maturity|common\s+sense|care|focus)\b"
    r"|\byou\s+(?:can't|cannot)\s+be\s+trusted\b|\byou\s+(?:have\s+)?no\s+(?:idea|clue|respect)\b"
    r"|\bwhat\s+were\s+you\s+thinking\b|\btypical\s+of\s+you\b|\bthat's\s+so\s+you\b|\bnot\s+(?:very\s+)?bright\b"
)

# --- absolute: sweeping generalisations -----------------------------------------------------------------------

ABSOLUTE = _rx(
    r"\b(?:always|never|constantly|continually|continuously|forever|invariably)\b"
    r"|\b(?:everyone|everybody|nobody|no\s+one|no-one)\b"
    r"|\bevery\s+(?:single\s+)?(?:time|day|meeting|week|project|call|sprint|review|fortnight|month|shift)\b"
    r"|\ball\s+the\s+time\b|\bnot\s+(?:even\s+)?once\b|\beach\s+and\s+every\b|\bwithout\s+fail\b"
    r"|\bnothing\s+you\s+do\b|\bnever\s+ever\b"
)
# Absolutes that are ordinary English and make no sweeping claim about the person.
_ABSOLUTE_OK = _rx(
    r"\b(?:never\s+mind|always\s+welcome|always\s+happy|always\s+here|always\s+glad|always\s+free)\b"
    r"|\b(?:I|we|I'd|I've|we've|we'd)\s+(?:had\s+|have\s+)?never\s+(?:seen|heard|had|been|met|read)\b"
    # a plain fact about what didn't happen ("so we never reached the recommendation") generalises about no one
    r"|\b(?:we|I|it|he|she|they|the\s+\w+|(?!You\b)(?-i:[A-Z][a-z]+))\s+never\s+(?:[a-z]{2,}ed"
    rf"|{_IRREGULAR_PAST})\b"
)

# --- vague: praise or criticism with nothing concrete ---------------------------------------------------------

VAGUE_PRAISE = _rx(
    r"\b(?:great|good|nice|excellent|amazing|awesome|fantastic|brilliant|solid|super|terrific|outstanding|stellar"
    r"|wonderful|fab|incredible|lovely|decent|superb|exceptional|perfect|strong)\s+(?:job|work|stuff|effort|one"
    r"|going|performance|contribution|contributions|results?|quarter|year|month|week)\b"
    r"|\bwell\s+done\b|\bkeep\s+(?:it|that)\s+up\b|\bkeep\s+up\s+the\s+(?:good|great)\s+work\b"
    r"|\byou(?:'re|\s+are)\s+(?:doing\s+)?(?:great|amazing|awesome|fantastic|brilliant|a\s+star|a\s+rock\s*star"
    r"|the\s+best|a\s+legend|killing\s+it|crushing\s+it|smashing\s+it|nailing\s+it|a\s+natural)\b"
    r"|\byou\s+(?:did|were)\s+(?:great|amazing|awesome|fantastic|brilliant|so\s+good)\b"
    r"|\byou\s+rock\b|\b(?:looks|sounds|seems)\s+(?:good|great|fine|okay|ok)\b|\blove\s+it\b"
    r"|\bnice\s+one\b|\bkudos\b|\bbravo\b|\bwell\s+played\b"
    r"|\b(?:really|very|so|super|extremely|incredibly)\s+(?:well|badly|poorly)\b"
)
_BAD = (
    r"(?:confusing|unclear|not\s+great|not\s+good|messy|a\s+mess|not\s+ok|not\s+okay|not\s+right|subpar|sub-par"
    r"|not\s+working|not\s+acceptable|unacceptable|disappointing|underwhelming|all\s+over\s+the\s+place|lacking"
    r"|not\s+good\s+enough|poor|weak|meh|off|bad|wrong)"
)
VAGUE_CRITICISM = _rx(
    rf"\b(?:is|was|are|were|'s|'re|seems|seemed|looks|looked)\s+{_INTENS}{_BAD}\b"
    r"|\b(?:be|do|get|communicate|perform|work|make\s+(?:it|this|that|them|things|the\s+next\s+one))\s+"
    r"(?:a\s+lot\s+|much\s+|a\s+bit\s+)?better\b"
    r"|(?<!would\s)(?<!might\s)(?<!could\s)(?<!will\s)(?<!do\s)(?<!does\s)(?<!what\s)\bneeds?\s+"
    r"(?:some\s+|more\s+|a\s+lot\s+of\s+)?(?:improvement|improving|work|to\s+improve|to\s+be\s+better"
    r"|to\s+change|to\s+step\s+up)\b"
    r"|\bstep\s+(?:it|things|your\s+game)\s+up\b|\bstep\s+up\b|\bup\s+your\s+game\b|\braise\s+your\s+game\b"
    r"|\bnot\s+(?:good\s+enough|up\s+to\s+(?:scratch|par|standard|the\s+mark)|at\s+the\s+level)\b"
    r"|\bcould\s+(?:be|do)\s+(?:a\s+lot\s+|much\s+)?better\b|\bcould\s+improve\b"
    r"|\btry\s+harder\b|\bpull\s+your\s+(?:weight|socks\s+up)\b|\bget\s+your\s+act\s+together\b|\bshape\s+up\b"
    r"|\bsort\s+(?:it|yourself)\s+out\b|\bbelow\s+expectations\b|\bmissed\s+the\s+mark\b"
    r"|\b(?:some|a\s+few|several|certain)\s+(?:issues|problems|concerns)\b"
    r"|\bbe\s+more\s+(?:professional|proactive|careful|responsible|engaged|organi[sz]ed|mature|positive|focused"
    r"|reliable|responsive|present|visible|strategic|confident|assertive|accountable|thorough|detail[\s-]oriented"
    r"|of\s+a\s+team\s+player|on\s+top\s+of\s+things|on\s+the\s+ball|friendly|polite|respectful|helpful)\b"
    r"|\bimprove\s+(?:your|the)\s+(?:communication|attitude|performance|work|quality|output|game|focus)\b"
    r"|\bwork\s+on\s+(?:your|the)\s+(?:communication|attitude|performance|approach|style|presence)\b"
    r"|\b(?:more|less)\s+effort\b|\bthings\s+(?:need|have)\s+to\s+change\b|\bthis\s+isn't\s+working\b"
    r"|\b(?:I'm|I\s+am)\s+not\s+(?:happy|impressed|thrilled)\s+with\b|\bcould\s+use\s+some\s+work\b"
    r"|\bnot\s+(?:quite\s+)?(?:there|right)\s+yet\b|\b(?:raise|lift)\s+the\s+bar\b|\bdo\s+your\s+job\b"
    r"|\bcould\s+(?:maybe\s+|perhaps\s+|possibly\s+)?be\s+(?:sort\s+of\s+|kind\s+of\s+|a\s+bit\s+|a\s+little\s+"
    r"|slightly\s+|much\s+){0,3}(?:friendlier|nicer|kinder|clearer|sharper|tidier|better|warmer|more\s+[a-z]+)\b"
)
# With no observable behaviour at all, an impression of the person or the work is vague too ("your tone comes
# across as sharp", "the students seemed restless", "you're a natural leader").
EVALUATION = _rx(
    r"\b(?:comes?|came)\s+across\s+as\b"
    # "that sounds hard" is empathy, not an impression of the person or their work
    rf"|(?<!I\s)(?<!that\s)(?<!it\s)(?<!this\s)\b(?:seems?|seemed|sounds?|sounded|appears?|appeared)\s+{_INTENS}"
    r"[a-z]{3,}"
    r"|\byou(?:'re|\s+are|\s+were)\s+(?:a|an|so|such|really|very|quite|too|the|not|being|pretty|great|amazing|good)"
    r"(?:\s+[a-z-]+){0,2}\b"
    r"|\byour\s+(?:tone|attitude|energy|vibe|approach|style|presence|manner|behaviou?r|performance|communication"
    r"|work|effort|output|leadership|engagement)\s+(?:has|have|is|was|were|are|'s|comes|came|seems|seemed)\b"
)

# --- hedging: softeners that bury the message ------------------------------------------------------------------

HEDGING = _rx(
    r"\bmaybe\s+it's\s+just\s+me\b|\bit\s+might\s+just\s+be\s+me\b|\bprobably\s+just\s+me\b"
    r"|\bmaybe\s+I'm\s+(?:overthinking|being|wrong|reading|imagining)\b"
    r"|(?<!what\s)(?<!this\s)(?<!that\s)(?<!the\s)(?<!any\s)(?<!some\s)(?<!which\s)(?<!same\s)(?<!one\s)"
    r"\b(?:sort|kind)\s+of\b"
    r"|\bkinda\b|\bsorta\b|\bI\s+(?:don't|do\s+not)\s+know\s+if\b|\bI'?m\s+not\s+(?:sure|certain)\s+(?:if|whether)\b"
    r"|\bI\s+don't\s+know(?=\s*[,?.!])|\bno\s+(?:big|huge|major)\s+deal\b|\bnot\s+a\s+(?:big|huge|major)\s+deal\b"
    r"|\b(?:just|only)\s+a\s+(?:tiny|small|little|minor|quick)\s+(?:thing|point|note|nitpick|nit|comment)\b"
    r"|\bI\s+hate\s+to\s+(?:say|bring|mention|raise)\b"
    r"|\bI\s+(?:might|may|could)\s+be\s+wrong\b|\bthis\s+is\s+probably\s+nothing\b|\bprobably\s+nothing\b"
    r"|\bjust\s+a\s+thought\b|\bif\s+that's\s+(?:ok|okay|alright|all\s+right)\b|\bsorry\s+to\s+(?:bring|raise|mention"
    r"|say|bother)\b|\bfeel\s+free\s+to\s+ignore\b|\bI\s+guess\b|\bsomewhat\b|\bdon't\s+take\s+this\s+the\s+wrong\s+way\b"
    r"|\bI\s+hope\s+you\s+don't\s+mind\b|\bI\s+don't\s+want\s+to\s+make\s+a\s+(?:big\s+)?(?:thing|deal|fuss)\b"
    r"|\bnothing\s+serious\b|\bit's\s+(?:probably\s+)?fine\s+but\b|\bnot\s+to\s+be\s+(?:picky|critical|harsh|rude)\b"
    r"|\bI\s+could\s+be\s+(?:totally\s+)?off\b|\bignore\s+me\s+if\b"
    r"|\bperhaps\s+(?:maybe|possibly)\b|\bmaybe\s+(?:possibly|perhaps|just|sometimes)\b|\bpossibly\s+maybe\b"
    r"|\ba\s+(?:tiny|teeny|little)\s+bit\b|\bjust\s+wondering\b|\bnot\s+sure\s+(?:if\s+)?(?:this\s+)?matters\b"
    r"|\bI\s+wonder\s+if\s+maybe\b|\bforgive\s+me\s+(?:for|if)\b|\bI\s+know\s+you're\s+busy\s+but\b"
    r"|\b(?:could|might)\s+maybe\b|\bmaybe\s*\?"
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# Reported speech: what the person said is evidence of behaviour, not the feedback-giver's own wording.
_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|(?<![\w'])'[^'\n]{1,300}?'(?![\w'])")

# Common words that are clearly not English; words shared with English ("in", "a", "die", "war") are left out.
_FOREIGN_WORDS = (
    "el la los las que de y en un una por con para es está estás fue muy pero cuando del se lo tu tus te su sus"
    " como más también porque reunión equipo gracias hiciste hacer der das und ist nicht ich du sie wir ein eine"
    " auf für dem zu hast dass aber bei sehr wenn auch noch oder nach wie ihr dein deine haben"
    " le les et est vous des une pour pas avec dans je il elle nous très mais quand tes sur votre vos"
    " você não em uma com foi muito mas seu sua isso equipe och att det är jag inte har een het niet ik zijn"
    " voor dat wel ook heb"
)
_FOREIGN = frozenset(_FOREIGN_WORDS.split())
_ENGLISH_WORDS = (
    "the and you to of in that it was for on with is your we i me this be have had at when but not they our so"
    " could would next time my please did didn't you're it's i'd let's which meant what how team client"
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split())



# fmt: on
@dataclass
class CriterionResult:
    """One criterion: `passed` is always the good outcome (present for positive, absent for negative criteria)."""

    passed: bool
    evidence: list[str] = field(default_factory=list)


@dataclass
class FeedbackReport:
    text: str
    score: int
    good: bool
    criteria: dict[str, CriterionResult]
    suggestions: list[str]
    template: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "good": self.good,
            "criteria": {name: {"pass": r.passed, "evidence": list(r.evidence)} for name, r in self.criteria.items()},
            "suggestions": list(self.suggestions),
            "template": self.template,
        }


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    text: str


class FeedbackChecker:
    """Deterministic coach's read of a feedback statement: SBI + request, minus labels, absolutes, vagueness, hedges."""

    CRITERIA: tuple[str, ...] = POSITIVE + NEGATIVE

    def check(self, text: str) -> FeedbackReport:
        raw = text if isinstance(text, str) else ""
        clean = _normalise(raw)
        if not _WORD.search(clean):
            return _empty_report(raw)
        if not _looks_english(clean):
            return _non_english_report(raw)
        found = _analyse(clean)
        criteria = {name: _result(name, found[name]) for name in self.CRITERIA}
        score = sum(WEIGHTS[name] for name, r in criteria.items() if r.passed)
        good = all(criteria[c].passed for c in ("situation", "behavior", "impact")) and all(
            criteria[c].passed for c in NEGATIVE
        )
        spans = sorted((m.start, m.end, name) for name in self.CRITERIA for m in found[name])[:MAX_SPANS]
        return FeedbackReport(
            text=raw,
            score=score,
            good=good,
            criteria=criteria,
            suggestions=_suggestions(criteria, good, thanks=bool(found["thanks"])),
            template=_template(clean, found),
            spans=spans,
        )


def _analyse(text: str) -> dict[str, list[_Match]]:
    """Every criterion's matches; the negative ones ignore words inside quotation marks (reported speech)."""
    quotes = _find(_QUOTED, text)
    sentences = [_Sentence(m.start(), m.end(), m.group(0)) for m in _SENTENCE.finditer(text)]
    found: dict[str, list[_Match]] = {}
    found["situation"] = _find(SITUATION, text)
    found["behavior"] = _behaviour(text)
    found["request"] = _merge(_find(REQUEST, text), _imperatives(sentences))
    found["thanks"] = _find(PRAISE_CLOSE, text)  # not a criterion: it closes praise where a request would
    found["impact"] = _impact(text, sentences, found["behavior"], found["request"])
    found["judgmental"] = _outside(_find(JUDGMENTAL, text), quotes)
    found["absolute"] = _outside(_outside(_find(ABSOLUTE, text), quotes), _find(_ABSOLUTE_OK, text))
    found["hedging"] = _outside(_find(HEDGING, text), quotes)
    found["vague"] = _outside(_vague(text, found), quotes)
    return found


def _normalise(text: str) -> str:
    """Same length as the input (spans must index the original): straight quotes, control chars as spaces."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _CONTROL.sub(" ", text)


def _looks_english(text: str) -> bool:
    sample = text[:5000]
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if c < "\u0250")
    if latin / len(letters) < 0.6:
        return False
    words = [w.lower() for w in _WORD.findall(sample)]
    foreign = sum(1 for w in words if w in _FOREIGN)
    english = sum(1 for w in words if w in _ENGLISH)
    return not (foreign >= 2 and foreign > english)


def _find(pattern: re.Pattern[str], text: str) -> list[_Match]:
    return [_Match(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]


def _covered(spans: list[_Match]) -> Callable[[_Match], bool]:
    """A test for 'lies inside one of these sorted, non-overlapping spans' that stays fast on huge inputs."""
    starts = [m.start for m in spans]

    def inside(match: _Match) -> bool:
        i = bisect.bisect_right(starts, match.start) - 1
        return i >= 0 and match.end <= spans[i].end

    return inside


def _outside(matches: list[_Match], spans: list[_Match]) -> list[_Match]:
    if not spans:
        return matches
    inside = _covered(spans)
    return [m for m in matches if not inside(m)]


def _merge(*groups: list[_Match]) -> list[_Match]:
    return sorted({m for group in groups for m in group}, key=lambda m: (m.start, m.end))


_LABEL_WORD = _rx(rf"^(?:{_STRONG_LABELS}|{_MILD_LABELS})$")


_CLAUSE_BREAK = _rx(r"[,.;!?]|\b(?:and|but|which)\b")


def _behaviour(text: str) -> list[_Match]:
    """Observable actions, minus inner states ('you seemed'), traits ('you were rude') and mere evaluations."""
    kept: list[_Match] = []
    in_relative_clause = _covered(_find(_RELATIVE_CLAUSE, text))
    # "you handled it really well", "you never pull your weight": a behaviour frame around an evaluation.
    evaluations = sorted(m.start for m in _find(_JUST_EVALUATED, text) + _find(VAGUE_CRITICISM, text))
    for m in BEHAVIOR.finditer(text):
        verb = (m.group("verb") or m.group("habit") or "").lower()
        if verb in _NOT_BEHAVIOUR or (m.group("habit") and verb in _NOT_HABIT):
            continue
        match = _Match(m.start(), m.end(), m.group(0))
        trait = _TRAIT_AFTER_YOU.match(text, m.start())
        if trait and _LABEL_WORD.match(trait.group(1)) and not _OBSERVABLE_END.search(match.text):
            continue
        if _DID_EVALUATED.match(text, m.start()):
            continue
        if in_relative_clause(match) or _next_in_clause(text, m.start(), evaluations, 80):
            continue
        kept.append(match)
    return kept


def _next_in_clause(text: str, pos: int, starts: list[int], reach: int) -> bool:
    """Does a hit start within `reach` characters after `pos`, with no clause break in between?"""
    i = bisect.bisect_left(starts, pos)
    if i == len(starts) or starts[i] - pos > reach:
        return False
    return not _CLAUSE_BREAK.search(text, pos, starts[i])


def _imperatives(sentences: list[_Sentence]) -> list[_Match]:
    """Sentences that open with a bare verb ('Fix it.', 'On long holds, check back every minute.')."""
    hits = []
    for s in sentences:
        stripped = s.text.lstrip()
        if stripped.endswith("?"):
            continue
        m = _IMPERATIVE.match(stripped)
        if m and m.group(1).lower() in _IMPERATIVE_VERBS and not _noun_phrase_subject(m.group(2), m.group(3)):
            offset = s.start + (len(s.text) - len(stripped))
            hits.append(_Match(offset + m.start(1), offset + m.end(1), m.group(1)))
    return hits


def _noun_phrase_subject(second: str | None, third: str | None) -> bool:
    if second and _FINITE.match(second):
        return True
    return bool(second and third and second.lower() not in _DETERMINERS and _FINITE.match(third))


def _impact(text: str, sentences: list[_Sentence], behaviour: list[_Match], request: list[_Match]) -> list[_Match]:
    """Explicit effect words, consequence clauses, and the sentences that report what followed the behaviour."""
    hits = _find(IMPACT, text) + _find(_CONSEQUENCE_CLAUSE, text)
    if behaviour:
        first = behaviour[0].start
        starts = [s.start for s in sentences]
        asking = {bisect.bisect_right(starts, r.start) - 1 for r in request}
        for i, s in enumerate(sentences):
            if s.start > first and i not in asking and _reports_consequence(s):
                words = list(_WORD.finditer(s.text))[:4]
                hits.append(
                    _Match(s.start + words[0].start(), s.start + words[-1].end(), " ".join(w.group(0) for w in words))
                )
    return _merge(hits)


_NOT_CONSEQUENCE = _rx(
    rf"^\s*(?:you\b|your\b|thanks|thank|well|great|good|nice|sorry|hey|hi|ok|okay)|\?\s*$"
    rf"|\b(?:{_STRONG_LABELS})\b"
)


def _reports_consequence(sentence: _Sentence) -> bool:
    """A statement after the behaviour, by someone or something else (the caller rules out the ask): in SBI order,
    the impact."""
    return len(_WORD.findall(sentence.text)) >= 4 and not _NOT_CONSEQUENCE.search(sentence.text)


def _vague(text: str, found: dict[str, list[_Match]]) -> list[_Match]:
    """Vague criticism never says what to change; praise and impressions are vague only with no concrete backing."""
    hits = _find(VAGUE_CRITICISM, text)
    concrete = bool(found["situation"]) and bool(found["behavior"])
    if not concrete:
        hits += _find(VAGUE_PRAISE, text)
    if not found["behavior"]:
        hits += _find(EVALUATION, text) + found["judgmental"]
    return _merge(hits)


def _result(name: str, matches: list[_Match]) -> CriterionResult:
    evidence: list[str] = []
    seen: set[str] = set()
    for m in matches:
        phrase = " ".join(m.text.split())
        if phrase.lower() not in seen:
            seen.add(phrase.lower())
            evidence.append(phrase)
        if len(evidence) >= MAX_EVIDENCE:
            break
    present = bool(matches)
    return CriterionResult(passed=present if name in POSITIVE else not present, evidence=evidence)


_ADVICE_MISSING = {
    "situation": "Name when and where this happened, e.g. 'In Tuesday's standup…' or 'On the Acme report last week…'.",
    "behavior": "Describe what they actually did or said, something a camera could record, e.g. 'you interrupted "
    "Sam twice' or 'you didn't update the ticket'.",
    "impact": "Add the impact: what happened as a result for the work, the team or you, e.g. 'which meant the "
    "client waited two days' or 'I felt caught off guard'.",
    "request": "Say what you'd like to happen next, e.g. 'Next time, could you…?' or 'Can we agree that…?'.",
}


def _suggestions(criteria: dict[str, CriterionResult], good: bool, thanks: bool = False) -> list[str]:
    """What to change. Praise that ends in thanks needs no next step: it is not asked for ("Next time, could
    you…?" after a thank-you reads as a correction)."""
    tips: list[str] = []
    for word in criteria["judgmental"].evidence:
        tips.append(f"Replace '{word}' with what you observed: what did they do or not do, and when?")
    for word in criteria["absolute"].evidence:
        tips.append(f"Drop '{word}' — point to the specific time it happened; absolutes invite an argument.")
    labels = {w.lower() for w in criteria["judgmental"].evidence}
    for phrase in criteria["vague"].evidence:
        if phrase.lower() not in labels:
            tips.append(
                f"'{phrase}' doesn't say what exactly you mean: name the moment and the specific thing they did "
                "(or should do differently)."
            )
    for phrase in criteria["hedging"].evidence:
        tips.append(f"Cut '{phrase}' — it buries the message. Say it plainly and kindly.")
    missing = [name for name in POSITIVE if not criteria[name].passed and not (name == "request" and thanks)]
    tips.extend(_ADVICE_MISSING[name] for name in missing)
    if good and not tips:
        tips.append("This is specific, observable and shows the impact: it's ready to deliver.")
    return tips


_TRAILING = re.compile(r"[\s,;:.!?\-–—]+$")


def _piece(text: str, start: int, end: int) -> str:
    """A stretch of the user's text on one line, without trailing punctuation, at most ~300 characters."""
    return _TRAILING.sub("", " ".join(text[start : min(end, start + 400)].split())[:300])


def _template(text: str, found: dict[str, list[_Match]]) -> str:
    """The feedback as one SBI paragraph: the user's own situation, behaviour, impact and request where found,
    [placeholders] where not."""
    sentences = [_Sentence(m.start(), m.end(), m.group(0)) for m in _SENTENCE.finditer(text)]
    starts = [s.start for s in sentences]

    def sentence_at(pos: int) -> _Sentence:
        return sentences[max(0, bisect.bisect_right(starts, pos) - 1)]

    situation = found["situation"][0] if found["situation"] else None
    behaviour = found["behavior"][0] if found["behavior"] else None
    impact = next((m for m in found["impact"] if behaviour is None or m.start >= behaviour.end), None)
    same_sentence = bool(behaviour and impact and sentence_at(impact.start) == sentence_at(behaviour.start))

    if behaviour is None:
        opening = f"{_piece(text, situation.start, situation.end) if situation else '[When and where it happened]'}"
        first = f"{opening}, [what they did or said]"
    else:
        end = impact.start if same_sentence and impact else sentence_at(behaviour.start).end
        clause = _piece(text, behaviour.start, end)
        if situation and behaviour.start <= situation.start < end:
            first = clause
        else:
            where = _piece(text, situation.start, situation.end) if situation else "[When and where it happened]"
            first = f"{where}, {clause[:1].lower() + clause[1:] if clause.startswith('You ') else clause}"
    first = first[:1].upper() + first[1:]
    if impact is None:
        effect = ". [What happened as a result]."
    else:
        effect = _piece(text, impact.start, sentence_at(impact.start).end)
        effect = f", {effect}." if same_sentence else f". {effect[:1].upper() + effect[1:]}."
    if found["request"] or found["thanks"]:  # praise ends with the thanks, not with an ask
        ask = sentence_at((found["request"] or found["thanks"])[0].start)
        request = " ".join(ask.text[:400].split())[:300]
    else:
        request = "[What you'd like to happen next.]"
    return f"{first}{effect} {request}"


def _empty_report(text: str) -> FeedbackReport:
    criteria = {name: CriterionResult(passed=False) for name in POSITIVE}
    criteria.update({name: CriterionResult(passed=True) for name in NEGATIVE})
    tips = [
        "Write the feedback you want to give: one or two sentences about a specific moment, what they did and "
        "what it led to."
    ]
    return FeedbackReport(text, 0, False, criteria, tips, _template("", {n: [] for n in (*POSITIVE, "thanks")}), [])


def _non_english_report(text: str) -> FeedbackReport:
    report = _empty_report(text)
    report.suggestions = [
        "The feedback checker only understands English, so it cannot judge this text. Write the feedback in "
        "English to get a check, or use the SBI template below as a guide."
    ]
    return report


# --- drafting ------------------------------------------------------------------------------------------------------

_EDGE_PUNCT = re.compile(r"^[\s.,;:!?\-–—]+|[\s.,;:!?\-–—]+$")
_LOWER_OK_WORDS = (
    "you your we our the a an it this that they in on during at when after before yesterday today last which so"
    " there she he next could would can please let's my his her their while as"
)
_LOWER_OK = frozenset(_LOWER_OK_WORDS.split())
_SITUATION_OPENING = re.compile(
    r"(?i)(in|on|at|during|when|after|before|yesterday|today|tonight|last|this|while|over|since|for|throughout|"
    r"through|until|around|by|every|all|each|earlier|once|twice|within|from)\b"
)
_CALENDAR_START = re.compile(
    r"(?i)^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july"
    r"|august|september|october|november|december)s?\b"
)
# An impact given as a tail of the mentor's sentence ("which meant…", "meaning…", "so the…", "and then…") is said
# as a sentence of its own.
_IMPACT_TAIL = re.compile(r"(?i)^(?:(?:and|so|but)\s+)?(?:(which|meaning)\s+)?")
_LONE_I = re.compile(r"(?<![\w'’])i(?=$|[\s,.;:!?'’])")
_KEEP_REQUEST_OPENING = re.compile(
    r"(?i)(next time|going forward|moving forward|from now on|in (the )?future|before|in the next|for the next|"
    r"let's|let us|i'd|i would|i want|i need|can we|could we|shall we|would it|we|my ask|how about|what if)\b"
)
# "Yesterday's handover", "last night's stocktake", "this week's rota": a possessive time before the occasion.
_POSSESSIVE_OCCASION = re.compile(r"(?i)^(?:(?:last|this|next)\s+)?(?:yesterday|today|tonight|\w+)['’]s\s")
_QUESTION_OPENING = re.compile(r"(?i)(next time, )?(could|would|can|will|shall|how|what|are|do|is)\b")


def _clean_part(part: str) -> str:
    text = " ".join(_EDGE_PUNCT.sub("", _CONTROL.sub(" ", part or "")).split())
    return _LONE_I.sub("I", text)  # the mentor's lower-case "i was off sick" reads as a typo in a draft


def _situation_opener(sit: str) -> str:
    """The situation as the phrase that opens the draft: "In Monday's client demo", "On Tuesday", "In the Wednesday
    client call"; a phrase that already opens with a preposition or a time word is kept."""
    if _SITUATION_OPENING.match(sit) and not _POSSESSIVE_OCCASION.match(sit):
        return sit
    calendar = _CALENDAR_START.match(sit)
    if calendar and len(sit.split()) == 1:
        return f"on {sit}"  # "Tuesday"
    if calendar and not _POSSESSIVE_OCCASION.match(sit):
        return f"in the {sit}"  # "Wednesday client call"
    return f"in {_lower_occasion(sit)}"


def _impact_sentence(imp: str) -> str:
    """ "which meant the auditor asked us to resubmit" → "That meant the auditor asked us to resubmit." """
    tail = _IMPACT_TAIL.match(imp)
    rest = imp[tail.end() :] if tail else imp
    if tail and tail.group(1):
        verb = "meant" if tail.group(1).lower() == "meaning" else ""
        rest = f"that {verb} {rest}".replace("  ", " ")
    return f"{_upper_first(rest or imp)}."


def _lower_first(part: str) -> str:
    """Lower-case a leading capital only for ordinary words: names, acronyms and 'I' keep theirs."""
    first = part.split(" ", 1)[0]
    if first.lower() in _LOWER_OK and first[:1].isupper() and not first.isupper():
        return part[0].lower() + part[1:]
    return part


def _lower_occasion(part: str) -> str:
    """'Yesterday's handover' → 'yesterday's handover' (a weekday or a name keeps its capital)."""
    first = re.sub(r"['’]s$", "", part.split(" ", 1)[0])
    if first.lower() in _LOWER_OK and first[:1].isupper() and not first.isupper():
        return part[0].lower() + part[1:]
    return part


def _upper_first(part: str) -> str:
    return part[:1].upper() + part[1:]


def _request_sentence(req: str) -> str:
    """Frame a request as a forward-looking ask; bare imperatives and 'could you…' get 'Next time,'."""
    text = req if _KEEP_REQUEST_OPENING.match(req) else f"Next time, {_lower_first(req)}"
    question = bool(_QUESTION_OPENING.match(text))
    return f"{_upper_first(text)}{'?' if question else '.'}"


def draft_feedback(situation: str, behavior: str, impact: str, request: str) -> str:
    """Compose a Situation-Behaviour-Impact statement plus request, in natural sentences, from four short fields."""
    sit, beh, imp, req = (_clean_part(p) for p in (situation, behavior, impact, request))
    sentences: list[str] = []
    if sit and beh:
        sentences.append(f"{_upper_first(_situation_opener(sit))}, {_lower_first(beh)}.")
    elif beh:
        sentences.append(f"{_upper_first(beh)}.")
    elif sit:  # a setting alone is no sentence: say what the talk is about
        sentences.append(f"I'd like to talk about what happened {_lower_first(_situation_opener(sit))}.")
    if imp:
        sentences.append(_impact_sentence(imp))
    if req:
        sentences.append(_request_sentence(req))
    return " ".join(sentences)
