"""Writes the offline coach's answer from the matched playbook, in its authored order and voice.

Every tip is a line of the playbook, cited with the number of the source chunk it came from. Only framing lines
(prompts/offline_coach.yaml) and the mentor's own details are added around them. A second playbook adds one
short section; nothing is pooled sentence by sentence from unrelated documents, and a missing detail is asked
for rather than left as a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.coaching.playbooks import SECTION_BY_HEADING, Playbook, QuickAnswer
from assistant.understanding.details import Details

# Leads that only announce the answer's shape; a playbook's bottom line replaces them ("Here is a plan for your
# conversation with Noor on Thursday" stays: it says who and when).
FORMULA_NEEDS = ("advice", "prepare", "conversation")
RESTATES = 0.6  # share of content words at which a quick answer already says the playbook's bottom line
# Which playbook section a heading's chunk holds, so each line can cite the chunk it came from.
_SECTION_HEADINGS = {section: heading for heading, section in SECTION_BY_HEADING.items()}
_WORD = re.compile(r"[a-z']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
# A time in the past is when the incident happened, not when the conversation is.
_PAST = re.compile(r"\b(last|ago|yesterday|earlier|previous|this morning)\b", re.IGNORECASE)
# "Interrupts everyone", "keeps missing deadlines": a pattern, not an occasion. The draft says it as something
# noticed, not a verdict, and the coach asks for one occasion the mentor saw, which is what makes it land.
_HABITUAL = re.compile(
    r"\b(?:always|never|keeps?|kept|constantly|continually|repeatedly|routinely|habitually|tends? to|all the time"
    r"|every (?:time|meeting|day|week|session)|everyone|everybody)\b",
    re.IGNORECASE,
)
_OCCASION = re.compile(
    r"\b(?:yesterday|today|tonight|this (?:morning|afternoon|week|month)|last (?:\w+)|(?:mon|tues|wednes|thurs|fri|"
    r"satur|sun)day'?s?|\d+)\b",
    re.IGNORECASE,
)
# "You are brilliant but interrupt everyone": the compliment is the mentor's context, not part of the feedback.
_TRAIT_BUT = re.compile(r"\byou are (?:\w+ ){0,2}?\w+,? but (?=\w)", re.IGNORECASE)
NEAR_DUPLICATE = 0.6  # share of content words two lines have in common before the second is dropped
_STOP_WORDS = (
    "a an the and or but to of in on for with at by from as is are be it this that your you they them their "
    "his her he she i me my we our if when what how do does not"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass
class CitedPlaybook:
    """A playbook with the citation number of each of its sections' chunks (0 = no chunk to cite)."""

    playbook: Playbook
    citations: dict[str, int] = field(default_factory=dict)

    def cite(self, section: str) -> str:
        n = self.citations.get(section) or next(iter(self.citations.values()), 0)
        return f" [{n}]" if n else ""


@dataclass
class AnswerPlan:
    """What the coach understood, handed to the composer."""

    question: str
    need: str  # conversation | prepare | feedback | praise | advice
    playbooks: list[CitedPlaybook]
    details: Details = field(default_factory=Details)
    follow_up_of: str | None = None  # the situation a follow-up continues, in the mentor's terms
    restate: bool = True  # a follow-up's lead quotes that situation (only the first time it is continued)
    new_playbook: bool = False  # a follow-up answered from other guidance than the last answer: its bottom line leads
    mentee_name: str | None = None
    shorter: bool = False
    plain: bool = False
    tailoring: list[str] = field(default_factory=list)
    own_documents: list[tuple[str, int]] = field(default_factory=list)  # (title, citation) of uploaded documents
    quick_answer: QuickAnswer | None = None  # the playbook's answer to the direct question the mentor asked
    previous_steps: tuple[str, ...] = ()  # "make it shorter": the listed lines of the answer it shortens
    items_wanted: int | None = None  # "three bullet points": how many lines the shorter answer keeps
    wants_example: bool = False  # "how might that conversation go?": the playbook's worked example
    step_detail: str | None = None  # "say more about the second step": that step of the last answer
    part_asked: str | None = None  # "what questions could I ask?": questions | cautions | summary

    def __post_init__(self) -> None:
        # A name is a proper noun; anything else the parse offered ("mentoring", "growth") is not used.
        if self.mentee_name and not self.mentee_name[:1].isupper():
            self.mentee_name = None


def section_citations(book: Playbook, chunk_numbers: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Section name → citation number, from (chunk heading, number) pairs of this playbook's chunks."""
    found: dict[str, int] = {}
    for heading, n in chunk_numbers:
        last = heading.split(" > ")[-1].strip().lower()
        for section, title in _SECTION_HEADINGS.items():
            if last == title and section not in found:
                found[section] = n
    return found


def _restates(first: str, second: str) -> bool:
    """Most of the shorter text's content words are in the other ("Raise it. … name one or two actions…" and
    "Raise it rather than … name one or two missed actions…"). Over every playbook, a quick answer and its own
    bottom line share at most 0.45 of their words unless one restates the other (0.6 and up)."""
    a, b = content_words(first), content_words(second)
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= RESTATES


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2)


BRIEF_STEPS = 4  # the steps a shorter answer keeps at most
PARTS = ("questions", "cautions", "summary")  # parts of the guidance a follow-up can ask for on their own
MIN_CAUTIONS = 3  # "what should I avoid?" with fewer don'ts than this also gets the do's


class _Lines:
    """Lines already in the answer, so no tip appears twice in other words."""

    def __init__(self) -> None:
        self._seen: list[frozenset[str]] = []

    def fresh(self, text: str) -> bool:
        words = content_words(text)
        for seen in self._seen:
            if words and seen and len(words & seen) / min(len(words), len(seen)) >= NEAR_DUPLICATE:
                return False
        self._seen.append(words)
        return True


def first_sentences(text: str, n: int) -> str:
    return " ".join(_SENTENCE.split(text.strip())[:n])


class Composer:
    def __init__(self, words: dict[str, Any]) -> None:
        self.words = words

    def compose(self, plan: AnswerPlan) -> str:
        if not plan.playbooks:
            return ""
        if plan.need == "email":
            return self._email(plan)
        build: dict[str, Callable[[AnswerPlan, _Lines], list[str]]] = {
            "conversation": self._conversation,
            "feedback": self._feedback,
            "praise": self._praise,
        }
        lines = _Lines()
        if plan.wants_example and plan.playbooks[0].playbook.example:
            parts = self._example(plan, lines)
        elif plan.step_detail:
            parts = self._step_detail(plan, plan.step_detail, lines)
        elif plan.part_asked in PARTS:
            parts = self._part(plan, plan.part_asked, lines)
        elif plan.shorter and plan.need in ("feedback", "praise"):
            parts = self._brief_words(plan, lines)
        elif plan.shorter:
            parts = self._brief(plan, lines)
        elif plan.follow_up_of and plan.need in ("feedback", "praise"):
            parts = self._words_again(plan, lines)
        elif plan.follow_up_of:
            parts = self._follow_up(plan, lines)
        else:
            parts = build.get(plan.need, self._advice)(plan, lines)
        if plan.tailoring:
            title = self.words["sections"]["tailoring"].format(name=plan.mentee_name or "your mentee")
            parts.insert(1, f"**{title}**\n" + "\n".join(f"- {line}" for line in plan.tailoring))
        if plan.quick_answer:
            # "Should I cancel?" is answered before the plan that explains it, under the question it answers, so a
            # near miss ("Should I tell her manager?" for "Should I tell HR?") shows as one.
            quick, cite = plan.quick_answer, plan.playbooks[0].cite("answers")
            title = self.words["sections"]["quick_answer"].format(question=quick.question)
            parts.insert(0, f"**{title}** {quick.answer}{cite}")
        parts += self._second(plan, lines)
        if plan.own_documents:
            # Uploaded text is data: pointed to, never quoted as advice.
            titles = "; ".join(f"{title} [{n}]" for title, n in plan.own_documents)
            parts.append(f"**{self.words['sections']['own_documents']}** {titles}")
        parts.append(self._reflection(plan))
        return "\n\n".join(p for p in parts if p).strip()

    # --- shapes ------------------------------------------------------------------------------
    def _advice(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        main = plan.playbooks[0]
        s = self.words["sections"]
        return [
            self._lead(plan),
            self._numbered(s["steps"], main, "steps", main.playbook.steps, lines),
            self._bullets(s["phrases"], main, "phrases", main.playbook.phrases[:4], lines),
            self._questions(plan, lines),
            self._bullets(s["cautions"], main, "dos_and_donts", main.playbook.donts[:3], lines),
        ]

    def _brief(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        """ "Make it shorter" and "less formal": the steps of the answer being shortened (the playbook's first
        steps when it had none), fewer than it had and at most four, with two lines to say when it was a full
        answer; a count asked for ("three bullet points") is all the answer holds."""
        main = plan.playbooks[0]
        s = self.words["sections"]
        lead = self.words["plain"] if plan.plain else self._lead(plan)
        shown = [step for step in plan.previous_steps if step in main.playbook.steps]
        steps = shown or list(main.playbook.steps)
        if plan.items_wanted:
            kept = steps[: plan.items_wanted]
            return [self.words["shorter_count"], self._bullets(s["steps"], main, "steps", kept, lines)]
        # Always shorter than the answer it shortens: one step fewer than a short answer had, at most four.
        count = min(BRIEF_STEPS, len(shown) - 1) if len(shown) > 1 else BRIEF_STEPS
        already_short = 0 < len(shown) <= BRIEF_STEPS  # no bottom line or lines to say come back
        phrases = () if already_short else main.playbook.phrases[:2]
        if already_short and not plan.plain:
            lead = self.words["shorter_count"]
        return [
            lead.format(who=plan.mentee_name or "your mentee"),
            self._numbered(s["steps"], main, "steps", steps[:count], lines),
            self._bullets(s["phrases"], main, "phrases", phrases, lines),
        ]

    def _example(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        """ "Give me an example of how it might go": the guidance's worked example, a weaker and a stronger way
        through a case from another workplace, then two lines to borrow."""
        main = plan.playbooks[0]
        w = self.words["example"]
        return [
            w["lead"].format(title=main.playbook.title.lower()),
            f"{main.playbook.sections.get('example', main.playbook.example).strip()}{main.cite('example')}",
            self._bullets(w["borrow"], main, "phrases", main.playbook.phrases[:2], lines),
        ]

    def _step_detail(self, plan: AnswerPlan, step: str, lines: _Lines) -> list[str]:
        """ "Say more about the second step": that step again, then the lines of the guidance closest to it (the
        plan's playbook was focused on the step): words to use, questions and cautions."""
        main = plan.playbooks[0]
        s = self.words["sections"]
        lines.fresh(step)
        return [
            self.words["step_detail"].format(step=step),
            self._bullets(s["phrases"], main, "phrases", main.playbook.phrases[:3], lines),
            self._questions(plan, lines, 2),
            self._bullets(s["cautions"], main, "dos_and_donts", main.playbook.donts[:2], lines),
        ]

    def _part(self, plan: AnswerPlan, part: str, lines: _Lines) -> list[str]:
        """ "What questions could I ask?", "what should I avoid?", "sum it up": that part of the guidance alone."""
        main = plan.playbooks[0]
        book = main.playbook
        who = plan.mentee_name or "your mentee"
        lead = self.words["part_leads"][part].format(who=who)
        if part == "summary":
            gist = first_sentences(book.in_short, 1) if plan.items_wanted == 1 else book.in_short
            if gist:
                return [f"{lead} {gist}{main.cite('short')}"]
            return [self._numbered(self.words["sections"]["steps"], main, "steps", book.steps[:3], lines)]
        if part == "questions":
            return [
                lead + self._how_to_ask(plan),
                self._bullets(
                    self.words["sections"]["questions"].format(who=who), main, "questions", book.questions, lines
                ),
            ]
        cautions = list(book.donts) + (list(book.dos) if len(book.donts) < MIN_CAUTIONS else [])
        return [lead, self._bullets(self.words["sections"]["cautions"], main, "dos_and_donts", cautions, lines)]

    def _how_to_ask(self, plan: AnswerPlan) -> str:
        """The gist of the guidance on asking, when the plan carries it beside the situation's own."""
        asking = plan.playbooks[1] if len(plan.playbooks) > 1 else None
        gist = first_sentences(asking.playbook.in_short, 1) if asking else ""
        if not (asking and gist):
            return ""
        return f"\n\n**{self.words['how_to_ask']}** {gist}{asking.cite('short')}"

    def _brief_words(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        """ "Make it shorter" after feedback or praise: the draft and the first steps of delivering it."""
        main = plan.playbooks[0]
        lead = self.words["plain"] if plan.plain else self.words["shorter_words"]
        return [
            lead.format(who=plan.mentee_name or "your mentee"),
            self._draft(plan, praise=plan.need == "praise"),
            self._numbered(self.words["sections"]["deliver"], main, "steps", main.playbook.steps[:3], lines),
        ]

    def _words_again(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        """ "Give me the exact words", later in a conversation: the draft and lines to say, nothing else."""
        main = plan.playbooks[0]
        lead = self._follow_up_leads(plan)["words"].format(situation=plan.follow_up_of or "")
        return [
            lead,
            self._draft(plan, praise=plan.need == "praise"),
            self._bullets(self.words["sections"]["examples"], main, "phrases", main.playbook.phrases[:3], lines),
        ]

    def _follow_up(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        """A question inside a conversation already under way: its answer only, tied to what was said before.
        The background was given in the first answer; the lines here are the playbook's closest to the question."""
        main = plan.playbooks[0]
        s = self.words["sections"]
        who = plan.mentee_name or "your mentee"
        situation = plan.follow_up_of or ""
        leads = self._follow_up_leads(plan)
        if asks_how_to_open(plan.question):
            return [
                leads["opening"].format(who=who, situation=situation),
                self._bullets(s["opening_lines"], main, "phrases", main.playbook.phrases[:2], lines),
                self._numbered(s["then"], main, "steps", main.playbook.steps[:3], lines),
                self._questions(plan, lines, 2),
            ]
        reaction = _reaction(plan.question, plan.mentee_name)
        reported = None if reaction else _reported(plan.question, plan.mentee_name)
        kind = "reaction" if reaction else "reported" if reported else "general"
        lead = leads[kind].format(reaction=reaction or reported, situation=situation)
        return [
            lead,
            self._bottom_line(main) if plan.new_playbook else "",
            self._numbered(s["steps"], main, "steps", main.playbook.steps[:4], lines),
            self._bullets(s["phrases"], main, "phrases", main.playbook.phrases[:2], lines),
            "" if reaction else self._questions(plan, lines, 2),
            self._bullets(s["cautions"], main, "dos_and_donts", main.playbook.donts[:2], lines),
        ]

    def _conversation(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        main = plan.playbooks[0]
        s = self.words["sections"]
        phrases = main.playbook.phrases
        return [
            self._lead(plan),
            self._bullets(s["opening"], main, "phrases", phrases[:1], lines),
            self._numbered(s["plan"], main, "steps", main.playbook.steps, lines),
            self._bullets(s["phrases"], main, "phrases", phrases[1:4], lines),
            self._questions(plan, lines),
            self._bullets(s["cautions"], main, "dos_and_donts", main.playbook.donts[:3], lines),
        ]

    def _feedback(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        main = plan.playbooks[0]
        s = self.words["sections"]
        return [
            self._lead(plan),
            self._draft(plan, praise=False),
            self._numbered(s["deliver"], main, "steps", main.playbook.steps, lines),
            self._bullets(s["examples"], main, "phrases", main.playbook.phrases[:3], lines),
            self._bullets(s["cautions"], main, "dos_and_donts", main.playbook.donts[:3], lines),
        ]

    def _praise(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        main = plan.playbooks[0]
        s = self.words["sections"]
        return [
            self._lead(plan),
            self._draft(plan, praise=True),
            self._numbered(s["steps"], main, "steps", main.playbook.steps, lines),
            self._bullets(s["examples"], main, "phrases", main.playbook.phrases[:3], lines),
            self._bullets(s["cautions"], main, "dos_and_donts", main.playbook.donts[:2], lines),
        ]

    def _email(self, plan: AnswerPlan) -> str:
        """The guidance's own words to the mentee, as a message to send; cited once, after the message."""
        main = plan.playbooks[0]
        w = self.words["email"]
        lines = [_unquote(p) for p in main.playbook.phrases[:3]]
        greeting = w["greeting"].format(name=plan.mentee_name) if plan.mentee_name else w["greeting_unnamed"]
        body = "\n>\n".join(f"> {part}" for part in [greeting, " ".join(lines), w["close"], w["sign_off"]])
        subject = w["subject"]
        cite = main.cite("phrases").strip()
        return f"{w['lead']}\n\n> {subject}\n>\n{body}\n\n{self.words['sections']['email_source']} {cite}"

    # --- pieces ------------------------------------------------------------------------------
    def _follow_up_leads(self, plan: AnswerPlan) -> dict[str, str]:
        return self.words["follow_up_leads" if plan.restate else "follow_up_leads_again"]

    def _lead(self, plan: AnswerPlan) -> str:
        main = plan.playbooks[0]
        name = plan.mentee_name
        template = self.words["leads"][plan.need if plan.need in self.words["leads"] else "advice"]
        when = f" {plan.details.when}" if _upcoming(plan.details.when) else ""
        lead = template["named" if name else "unnamed"].format(name=name, when=when)
        gist = main.playbook.in_short
        if gist and plan.need in FORMULA_NEEDS and not (plan.need == "conversation" and (name or when)):
            lead = ""  # the bottom line says more than "Here is how I would approach this"
        if plan.follow_up_of and plan.restate:
            situation = self.words["follow_up"].format(situation=plan.follow_up_of)
            lead = f"{situation} {lead[0].lower()}{lead[1:]}" if lead else situation
        if gist:
            if plan.quick_answer and _restates(plan.quick_answer.answer, gist):
                return lead  # the quick answer above already said the bottom line
            return f"{lead}\n\n{self._bottom_line(main)}" if lead else self._bottom_line(main)
        why = first_sentences(main.playbook.why, 2)
        return f"{lead} {why}{main.cite('why')}".strip() if why else lead

    def _bottom_line(self, book: CitedPlaybook) -> str:
        gist = book.playbook.in_short
        return f"**{self.words['sections']['in_short']}** {gist}{book.cite('short')}" if gist else ""

    def _questions(self, plan: AnswerPlan, lines: _Lines, keep: int = 4) -> str:
        main = plan.playbooks[0]
        title = self.words["sections"]["questions"].format(who=plan.mentee_name or "your mentee")
        return self._bullets(title, main, "questions", main.playbook.questions[:keep], lines)

    def _draft(self, plan: AnswerPlan, praise: bool) -> str:
        """The mentor's own facts in feedback form; what is missing is asked for, never left in brackets."""
        d = plan.details
        parts = [p for p in (d.situation, d.behavior, d.impact) if p]
        missing = [label for label, value in (("behaviour", d.behavior), ("impact", d.impact)) if not value]
        ask = self.words["ask_praise" if praise else "ask_feedback"]
        if not d.behavior:
            return f"**{self.words['sections']['draft']}:** {ask['all']}"
        closing = self.words["praise_close"] if praise else (d.request or "")
        if praise and "thank" in " ".join(parts).lower():
            closing = ""  # "Thank you for staying late…" already thanks them
        # The situation leads into the behaviour ("In Monday's call, you…"), unless it only completes the act ("you
        # keep arriving late to the morning huddle"); the impact is a sentence of its own.
        trailing = bool(d.situation and _COMPLETES_ACT.match(d.situation))
        opening = " ".join(p for p in ((d.behavior, d.situation) if trailing else (d.situation, d.behavior)) if p)
        sentences = [_sentence(opening)] + ([_sentence(d.impact)] if d.impact else [])
        if closing:
            sentences.append(_sentence(closing))
        draft = _TRAIT_BUT.sub("you ", " ".join(s for s in sentences if s))
        pattern = not praise and _HABITUAL.search(d.behavior) and not _OCCASION.search(" ".join(parts))
        if pattern:
            draft = self.words["pattern_lead"] + draft[0].lower() + draft[1:]
        text = f"**{self.words['sections']['draft']}**\n\n> {draft}"
        if pattern:
            text += "\n\n" + ask["occasion"]
        elif missing:
            text += "\n\n" + ask[missing[0]]
        elif not praise and not d.request:
            text += "\n\n" + ask["request"]
        return text

    def _second(self, plan: AnswerPlan, lines: _Lines) -> list[str]:
        if len(plan.playbooks) < 2 or plan.shorter or plan.follow_up_of:
            return []
        other = plan.playbooks[1]
        title = self.words["sections"]["also"].format(title=other.playbook.title)
        return [self._numbered(title, other, "steps", other.playbook.steps[:3], lines)]

    def _reflection(self, plan: AnswerPlan) -> str:
        options = self.words["reflection"].get(plan.need) or self.words["reflection"]["advice"]
        question = options[len(plan.question) % len(options)]
        return f"**{self.words['sections']['reflection']}** {question.format(who=plan.mentee_name or 'your mentee')}"

    def _bullets(self, title: str, book: CitedPlaybook, section: str, items: Sequence[str], lines: _Lines) -> str:
        kept = [f"- {item}{book.cite(section)}" for item in items if lines.fresh(item)]
        return f"**{title}**\n" + "\n".join(kept) if kept else ""

    def _numbered(self, title: str, book: CitedPlaybook, section: str, items: Sequence[str], lines: _Lines) -> str:
        kept = [item for item in items if lines.fresh(item)]
        body = "\n".join(f"{i}. {item}{book.cite(section)}" for i, item in enumerate(kept, start=1))
        return f"**{title}**\n" + body if kept else ""


# "How do I start?", "what do I say in the first two minutes?": the opening of the conversation under way.
_OPENING = re.compile(
    r"\b(?:how (?:do|should|can|could) i (?:start|begin|open|kick (?:it|this) off|bring (?:it|this) up|raise it)"
    r"|what (?:do|should) i say (?:first|at the start|to start|to open|in the first)|first (?:few )?(?:minutes|words)"
    r"|opening (?:line|words|sentence)|how to (?:start|open|begin)(?: it| the conversation| the call)?\b)",
    re.IGNORECASE,
)
# "what if he says no?", "and if she gets defensive": the reaction a follow-up asks about.
_REACTION_CLAUSE = re.compile(r"\bif (s?he|they) ([^,?.!;]{2,60})", re.IGNORECASE)
# A setting that completes the act rather than dating it: "late *to the morning huddle*", "rude *to the client*".
_COMPLETES_ACT = re.compile(r"(?:to|for|from|into|onto|with)\b", re.IGNORECASE)

# "he'll probably say the inspector was wrong", "she's going to get defensive": a reaction the mentor expects.
_PREDICTED_REACTION = re.compile(
    r"\b(s?he|they)(?:'ll|’ll| will|(?:'s|’s| is|'re|’re| are) going to| might| may)"
    r"(?: probably| likely| just| definitely)? "
    r"(say|argue|claim|insist|tell me|blame|deny|push back|get|cry|refuse|storm off|walk out)\b([^,?.!;]{0,60})",
    re.IGNORECASE,
)
# "asked me if she can", "wondering if he made a mistake": an "if" that means whether.
_ASKS_WHETHER = re.compile(
    r"\b(?:ask(?:s|ed|ing)?|wonder(?:s|ed|ing)?|know|sure|check(?:s|ed|ing)?)(?: (?:me|you|us|him|her|them))?\s*$",
    re.IGNORECASE,
)


# "she replied that she's overwhelmed", "he told me he's interviewing": what the mentee has said since.
_REPORTED_CLAUSE = re.compile(
    r"\b(s?he|they) (?:has |have |just )?(?:replied|said|says|told me|tells me|admitted|explained|mentioned|"
    r"claims?|claimed|insists?|insisted|messaged|texted)(?: me)?(?: that)? ([^?.!;]{2,80})",
    re.IGNORECASE,
)

_QUESTION_AFTER_NEWS = re.compile(
    r"\s*(?:,|\band\b|\bso\b|\bbut\b|-|–|—)\s*(?:does|do|did|is|are|should|shall|can|could|would|will|what|how|"
    r"why|when|where|who|any)\b",
    re.IGNORECASE,
)

# When the conversation is: "tomorrow", "on Friday", "this afternoon"; not an adjective the parse took for a
# time ("a second-year teacher" is not "with Kwame second-year").
_UPCOMING = re.compile(
    r"^(?:today|tonight|tomorrow|this|next|on|at|in|later|after|before|first thing|(?:mon|tues|wednes|thurs|fri"
    r"|satur|sun)day)\b",
    re.IGNORECASE,
)


def _upcoming(when: str | None) -> bool:
    return bool(when) and bool(_UPCOMING.match(when or "")) and not _PAST.search(when or "")


def asks_how_to_open(question: str) -> bool:
    return bool(_OPENING.search(question))


def _reaction(question: str, name: str | None) -> str | None:
    """ "what if he says no, he still wants…" → "Dan says no": the reaction, with the mentee's name."""
    found = _REACTION_CLAUSE.search(question)
    if not found or _ASKS_WHETHER.search(question[: found.start()]) or found.group(2).lower().startswith("should "):
        return _predicted_reaction(question, name)  # "asking me if she should complain": her question, not a reaction
    return f"{_who(found.group(1), name)} {_mentor_as_you(found.group(2).strip())}"


def _predicted_reaction(question: str, name: str | None) -> str | None:
    """ "he'll probably say the inspector was wrong" → "Dev says the inspector was wrong"."""
    found = _PREDICTED_REACTION.search(question)
    if not found:
        return None
    pronoun, verb, rest = found.group(1), found.group(2).lower(), found.group(3)
    if pronoun.lower() != "they":
        first, _, tail = verb.partition(" ")
        third = first[:-1] + "ies" if first.endswith("y") and first not in ("say",) else first + "s"
        verb = f"{third} {tail}".strip()
    return f"{_who(pronoun, name)} {_mentor_as_you(f'{verb}{rest}'.strip())}"


def _reported(question: str, name: str | None) -> str | None:
    """ "she replied that she's overwhelmed and that's why" → "Aiyana says she's overwhelmed and that's why"."""
    found = _REPORTED_CLAUSE.search(question)
    if not found:
        return None
    pronoun = found.group(1)
    verb = "say" if pronoun.lower() == "they" else "says"
    # "he mentioned he's autistic, does that change anything?": the news, without the question asked about it.
    news = _QUESTION_AFTER_NEWS.split(found.group(2), maxsplit=1)[0].strip()
    if news.lower().startswith("asking "):  # "he just messaged asking if we can talk tonight"
        verb = "are" if pronoun.lower() == "they" else "is"
    return f"{_who(pronoun, name)} {verb} {_mentor_as_you(news)}"


# The mentor's words about themselves, said back to them: "if she gets angry with me" -> "with you". Quoted words
# are the mentee's own and stay as they are.
_MENTOR_WORDS = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "am": "are",
    "was": "were",
}
_MENTOR_WORD = re.compile(r"[\"“][^\"”]*[\"”]|\b(?:I (?:am|was)\b|I\b|me\b|my\b|mine\b|myself\b)")


def _mentor_as_you(text: str) -> str:
    def swap(found: re.Match[str]) -> str:
        word = found.group(0)
        if word[0] in '"“':
            return word
        return " ".join(_MENTOR_WORDS[w.lower()] for w in word.split())

    return re.sub(r"(?<=\byou)(['’])m\b", r"\1re", _MENTOR_WORD.sub(swap, text))


def _who(pronoun: str, name: str | None) -> str:
    return name if name and pronoun.lower() in ("he", "she") else pronoun.lower()


def _unquote(text: str) -> str:
    return text.strip().strip('"“”').strip()


_REPEATED_WORD = re.compile(r"\b(?!(?:that|had)\b)(\w+) \1\b(?!')", re.IGNORECASE)


def _sentence(text: str) -> str:
    # Parts joined from two clauses can meet on the same word ("… you" + "you covered …").
    text = _REPEATED_WORD.sub(r"\1", text.strip())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in '.!?"”' else text + "."
