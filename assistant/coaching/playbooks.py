"""Situation playbooks: the curated knowledge read as structured guidance, one file per situation.

A playbook's front matter says which situation it is for and how mentors ask about it (`asked_as`); its body
holds the guidance in a fixed order of sections. The coach composes from a playbook's sections in that order,
so an answer reads like one coach on one situation instead of sentences pooled from many documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.ingestion.ingestor import OTHER_WORDINGS, DocumentError, parse_front_matter

NEEDS: tuple[str, ...] = ("conversation", "prepare", "feedback", "praise", "advice")
# Body sections, by the heading a playbook uses for them.
SECTION_BY_HEADING = {
    "in short": "short",
    "why it matters": "why",
    "quick answers": "answers",
    "how to do it": "steps",
    "what to say": "phrases",
    "questions to ask": "questions",
    "do and don't": "dos_and_donts",
    "example": "example",
    "checklist": "checklist",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)(.+)$")
# A quick answer is one list item: the mentor's direct question in bold, then the answer.
_QUICK_ANSWER = re.compile(r"^\*\*(?P<question>[^*]+\?)\*\*\s+(?P<answer>\S.*)$")
MIN_ASKED_AS = 8


@dataclass(frozen=True)
class QuickAnswer:
    """A yes-or-no or either-or question mentors ask in a situation ("Should I cancel our session?") and the
    playbook's direct answer to it, said before the steps when the mentor asks it."""

    question: str
    answer: str
    # Other ways mentors word the same question (`**Q? / Q2? / Q3?**` in the file): matched, never shown.
    also_asked: tuple[str, ...] = ()

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.also_asked)


@dataclass(frozen=True)
class Playbook:
    """One situation and the guidance for it, in authored order."""

    id: str
    title: str
    topic: str
    situation: str
    summary: str
    need: str
    source: str  # the file name the index knows it by, so citations match retrieval hits
    asked_as: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    step: int | None = None
    in_short: str = ""  # the bottom line for this situation, said first in a new answer
    why: str = ""
    answers: tuple[QuickAnswer, ...] = ()  # direct questions mentors ask in this situation, answered in a line
    steps: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    dos: tuple[str, ...] = ()
    donts: tuple[str, ...] = ()
    example: str = ""
    sections: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def matching_texts(self) -> list[str]:
        """What a mentor's question is compared with: how mentors ask about it, the situation itself, and the
        scene its example opens with (a concrete case in a mentor's terms)."""
        scene = _SENTENCE_END.split(self.example.split("**Weaker")[0].strip())[:2] if self.example else []
        return [*self.asked_as, self.situation, self.title, self.summary, *[s for s in scene if len(s.split()) > 5]]


def _sections(body: str) -> dict[str, str]:
    """Level-two sections by their canonical name; the level-one title and unknown headings are ignored."""
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            if current:
                sections[current] = "\n".join(lines).strip()
            current = SECTION_BY_HEADING.get(line[3:].strip().lower())
            lines = []
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).strip()
    return sections


def list_items(text: str) -> tuple[str, ...]:
    """The items of a Markdown list, one string each (continuation lines joined)."""
    items: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            break  # a sub-heading starts reference material (a table of who to call), not more of the list
        match = _LIST_ITEM.match(line)
        if match:
            items.append(match.group(1).strip())
        elif line.strip() and items:
            items[-1] = f"{items[-1]} {line.strip()}"
    return tuple(items)


def quick_answers(text: str) -> tuple[QuickAnswer, ...]:
    """The "Quick answers" list: `- **Question?** Answer.` per item; items of another shape are left out."""
    found = (_QUICK_ANSWER.match(item) for item in list_items(text))
    return tuple(_quick_answer(m["question"], m["answer"]) for m in found if m)


def _quick_answer(questions: str, answer: str) -> QuickAnswer:
    first, *others = (q.strip() for q in questions.split(OTHER_WORDINGS) if q.strip())
    return QuickAnswer(first, answer.strip(), tuple(others))


def _strings(value: object, name: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise DocumentError(f"{path.name}: `{name}` must be a list of strings")


def parse_playbook(path: Path, source: str) -> Playbook | None:
    """The playbook in a knowledge file, or None for a plain document (no `situation` in its front matter)."""
    meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
    if not meta.get("situation"):
        return None
    sections = _sections(body)
    cautions = list_items(sections.get("dos_and_donts", ""))
    need = str(meta.get("need") or "advice")
    return Playbook(
        id=str(meta.get("id") or path.stem),
        title=str(meta.get("title") or path.stem.replace("-", " ").capitalize()),
        topic=str(meta.get("topic") or ""),
        situation=str(meta["situation"]).strip(),
        summary=str(meta.get("summary") or "").strip(),
        need=need if need in NEEDS else "advice",
        source=source,
        asked_as=_strings(meta.get("asked_as"), "asked_as", path),
        related=_strings(meta.get("related"), "related", path),
        tags=_strings(meta.get("tags"), "tags", path),
        step=meta.get("step") if isinstance(meta.get("step"), int) else None,
        in_short=" ".join(sections.get("short", "").split()),
        why=" ".join(sections.get("why", "").split()),
        answers=quick_answers(sections.get("answers", "")),
        steps=list_items(sections.get("steps", "")),
        phrases=list_items(sections.get("phrases", "")),
        questions=list_items(sections.get("questions", "")),
        dos=tuple(c for c in cautions if not c.lower().startswith("don")),
        donts=tuple(c for c in cautions if c.lower().startswith("don")),
        example=" ".join(sections.get("example", "").split()),
        sections=sections,
    )


def playbook_problems(book: Playbook, known_ids: set[str]) -> list[str]:
    """What makes a playbook unfit to compose from (empty list = fit)."""
    problems = []
    if len(book.asked_as) < MIN_ASKED_AS:
        problems.append(f"needs at least {MIN_ASKED_AS} `asked_as` phrasings, has {len(book.asked_as)}")
    if not book.in_short:
        problems.append("needs an 'In short' paragraph: the bottom line, said first")
    if len(book.steps) < 3:
        problems.append("needs a 'How to do it' list of at least three steps")
    written = list_items(book.sections.get("answers", ""))
    if len(written) != len(book.answers):
        problems.append("every 'Quick answers' item must read `**The question?** The answer.`")
    unknown = [r for r in book.related if r not in known_ids]
    if unknown:
        problems.append(f"`related` names unknown playbooks: {', '.join(unknown)}")
    return problems


def load_playbooks(files: Iterable[tuple[Path, str]]) -> dict[str, Playbook]:
    """Playbooks by id from (path, source name) pairs; files without a situation are skipped."""
    books: dict[str, Playbook] = {}
    for path, source in files:
        try:
            book = parse_playbook(path, source)
        except (OSError, UnicodeDecodeError, DocumentError):
            continue  # ingestion reports unreadable files; matching just leaves them out
        if book is not None and book.steps:
            books[book.id] = book
    return books
