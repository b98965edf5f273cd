"""The pattern floor: word-bounded regular expressions from `patterns.yaml`, read once per process.

A match always adds its category; patterns never take one away. Mention rules ("harassment", "lawsuit") are
skipped inside a clause that asks about the topic in general, and harmful-request rules are skipped when the
words just before them show the mentor trying to avoid the harm, or that someone else asked the mentor for it
(a mentee asking to bend a rule is a coaching situation).

The `evidence` section is not a rule set: it lists what a message must show for a classifier score to reach or
keep the clear level (see router.py); `distress` recognises a message about distress or a life event, and
`kind_wording` a request to word thanks, praise or a critique kindly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.rules import Rule, read_rules

PATTERNS_PATH = Path(__file__).with_name("patterns.yaml")
# YAML section → (category, is a mention rule)
SECTIONS: dict[str, tuple[str, bool]] = {
    "crisis": ("crisis", False),
    "crisis_mention": ("crisis", True),
    "harassment": ("harassment", False),
    "harassment_mention": ("harassment", True),
    "harmful": ("harmful", False),
    "legal_mention": ("legal", True),
    "injection": ("injection", False),
}
_MACRO = re.compile(r"<([A-Z_]+)>")


@dataclass(frozen=True)
class PatternSet:
    rules: tuple[Rule, ...]
    framing: re.Pattern[str]
    concrete: re.Pattern[str]
    hesitant: re.Pattern[str]
    reported: re.Pattern[str]
    kind_wording: re.Pattern[str]
    distress: re.Pattern[str]
    evidence: dict[str, tuple[Rule, ...]]
    request: re.Pattern[str]
    fiction: re.Pattern[str]
    treatment: re.Pattern[str]
    open_message: re.Pattern[str]
    to_assistant: re.Pattern[str]
    own_fear: re.Pattern[str]
    answer_edit: re.Pattern[str]
    override: re.Pattern[str]
    idioms: tuple[tuple[re.Pattern[str], str], ...] = ()

    def plain(self, text: str) -> str:
        """The text with everyday figures of speech about death, killing or drowning read as what they mean
        (patterns.yaml, `idioms`): what the classifier and the evidence lists read."""
        for regex, meaning in self.idioms:
            text = regex.sub(meaning, text)
        return text

    def general_question(self, text: str) -> bool:
        """True when the message asks about a topic in general ("is it true that asking about suicide...",
        "what should I do if a mentee ever...") and tells of no one in particular (`context.concrete`)."""
        first = text[: _sentence_end(text)]
        return bool(self.framing.search(first)) and not self.concrete.search(text) and not _PERSON.search(text)

    def matches(self, text: str) -> dict[str, list[str]]:
        """Category → names of the rules that matched; `text` must be normalised (text.for_patterns)."""
        found: dict[str, list[str]] = {}
        calm = self.without_own_fear(text)
        for rule in self.rules:
            read = calm if rule.category == "crisis" else text
            if rule.also is not None and not rule.also.search(read):
                continue
            for match in rule.regex.finditer(read):
                if rule.mention and self._framed(text, match.start()):
                    continue
                if rule.category == "harmful" and (
                    self._hesitant(text, match.start()) or self._reported(text, match.start())
                ):
                    continue
                found.setdefault(rule.category, []).append(rule.name)
                break
        return found

    def _framed(self, text: str, start: int) -> bool:
        """True when the text before a mention, in its sentence, frames it as a question about the topic."""
        before = text[_sentence_start(text, start) : start]
        framing = list(self.framing.finditer(before))
        return bool(framing) and not self.concrete.search(before, framing[-1].end())

    def has_evidence(self, category: str, text: str) -> bool:
        """True when the message shows the category's evidence (patterns.yaml, `evidence`): a risk indicator for
        crisis; for harassment, who the mentee is and something done to them. `text` must be normalised."""
        rules = self.evidence.get(category, ())
        if category == "crisis":
            text = self.without_own_fear(text)
        return any(rule.regex.search(text) and (rule.also is None or rule.also.search(text)) for rule in rules)

    def without_own_fear(self, text: str) -> str:
        """The text with each clause where someone fears they themselves will hurt someone by a mistake blanked
        out (`context.own_fear`: "she's scared she's going to hurt a patient"): a worry about one's own work is no
        threat and no risk indicator. Blanked with spaces, so positions in the text stay where they were."""
        return self.own_fear.sub(lambda m: " " * len(m.group(0)), text)

    def about_distress(self, text: str) -> bool:
        """True when the message is about distress or a life event: grief, a treated condition, pregnancy or
        leave, illness in the family, strong feelings after a setback, an arrest."""
        return bool(self.distress.search(text))

    def is_request(self, text: str) -> bool:
        """True when the message asks for help doing something ("how do I...", "help me...", "write...")."""
        return bool(self.request.search(text))

    def in_fiction(self, text: str) -> bool:
        """True when the message frames itself as fiction, role-play or a hypothetical."""
        return bool(self.fiction.search(text))

    def asks_kind_wording(self, text: str) -> bool:
        """True when the message asks for help wording thanks, praise, recognition or a critique kindly."""
        return bool(self.kind_wording.search(text))

    def tells_of_treatment(self, text: str) -> bool:
        """True when the message tells of something someone did or said to the mentee (`context.treatment`)."""
        return bool(self.treatment.search(text))

    def asks_open_message(self, text: str) -> bool:
        """True when the message asks how to say something openly to the person it concerns (`context.open_message`)."""
        return bool(self.open_message.search(text))

    def asks_answer_edit(self, text: str) -> bool:
        """True when the message only asks for the coach's answer in another form or for a practice partner
        (`context.answer_edit`) and holds no word that tries to change how the assistant works (`context.override`)."""
        return bool(self.answer_edit.search(text)) and not self.override.search(text)

    def speaks_to_assistant(self, text: str) -> bool:
        """True when the message addresses the assistant or how it works (`context.to_assistant`)."""
        return bool(self.to_assistant.search(text))

    def _reported(self, text: str, start: int) -> bool:
        """True when, earlier in the sentence, someone else asked the mentor for it ("she asked me to...")."""
        return bool(self.reported.search(text, _sentence_start(text, start), start))

    def _hesitant(self, text: str, start: int) -> bool:
        """True when the few words before a harmful-request match say the mentor wants to avoid it."""
        return bool(self.hesitant.search(text, max(_sentence_start(text, start), start - 40), start))


# Someone in particular ("she said...", "his manager...") or a case happening now: not a general question.
_PERSON = re.compile(
    r"\b(?:he|she|him|his|her|hers|he's|she's|my \w+|right now|tonight|today|at the moment|this (?:morning|evening))\b"
)


def _sentence_end(text: str) -> int:
    ends = [i for i in (text.find(mark) for mark in ".!?;\n") if i >= 0]
    return min(ends) + 1 if ends else len(text)


def _sentence_start(text: str, position: int) -> int:
    return max(text.rfind(mark, 0, position) for mark in ".!?;\n") + 1


def _expand(pattern: str, defs: dict[str, str]) -> str:
    for _ in range(5):  # definitions may use other definitions
        pattern = _MACRO.sub(lambda m: defs[m.group(1)], pattern)
    return pattern


def _words_first(pattern: str, asked: str) -> str:
    """`ASKED` is a run of zero-width look-behinds that the regex engine would try at every position; looking
    ahead for the words that follow it first finds the same matches several times faster."""
    if not pattern.startswith(asked):
        return pattern
    return f"(?={pattern[len(asked) :]}){pattern}"


@lru_cache(maxsize=4)
def load_patterns(path: Path = PATTERNS_PATH) -> PatternSet:
    data = read_rules(path)
    defs: dict[str, str] = data["defs"]
    asked = _expand(defs["ASKED"], defs)
    rules: list[Rule] = []
    for section, (category, mention) in SECTIONS.items():
        for name, alternatives in data[section].items():
            rules += _rules(category, name, alternatives, defs, asked, mention)
    evidence = {
        category: tuple(_rules(category, "evidence", alternatives, defs, asked))
        for category, alternatives in data.get("evidence", {}).items()
    }
    context = {name: re.compile(_expand(regex, defs)) for name, regex in data["context"].items()}
    return PatternSet(
        tuple(rules),
        context["framing"],
        context["concrete"],
        context["hesitant"],
        context["reported"],
        context["kind_wording"],
        context["distress"],
        evidence,
        context["request"],
        context["fiction"],
        context["treatment"],
        context["open_message"],
        context["to_assistant"],
        context["own_fear"],
        context["answer_edit"],
        context["override"],
        tuple((re.compile(regex, re.IGNORECASE), meaning) for regex, meaning in data.get("idioms", [])),
    )


def _rules(
    category: str,
    name: str,
    alternatives: list[str | dict[str, list[str]]],
    defs: dict[str, str],
    asked: str,
    mention: bool = False,
) -> list[Rule]:
    """One rule for the plain alternatives of a name, and one per `all: [a, b]` pair."""
    rules: list[Rule] = []
    plain = [_words_first(_expand(a, defs), asked) for a in alternatives if isinstance(a, str)]
    if plain:
        rules.append(Rule(category, name, re.compile("|".join(plain), re.MULTILINE), mention))
    for pair in (a["all"] for a in alternatives if isinstance(a, dict)):
        first, second = (_expand(p, defs) for p in pair)
        rules.append(Rule(category, name, re.compile(_words_first(first, asked)), mention, re.compile(second)))
    return rules
