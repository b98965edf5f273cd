"""The offline coach: composes a structured, cited answer from retrieved guidance sentences.

It never invents advice: every tip, phrase and question is a sentence selected from a retrieved
chunk and cited as [n]. Only the framing lines (from prompts/offline_coach.yaml) and the user's own
details (name, timing, what happened) are filled in around them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml

from assistant.details import Details, to_second_person
from assistant.embedders import Embedder
from assistant.llm import BACKENDS, CoachRequest
from assistant.retrieval import tokenize
from assistant.sessions import MenteeProfile
from assistant.settings import Settings

UNIT_CACHE_SIZE = 50_000  # sentences; the curated knowledge has about 5,000
T = TypeVar("T")
_SKIP_SECTIONS = ("in mentors' own words", "example", "checklist")
_KIND_BY_SECTION = {
    "how to do it": "step",
    "what to say": "phrase",
    "questions to ask": "question",
    "do and don't": "caution",
    "why it matters": "why",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)")
_FIRST_PERSON = [
    (r"\bI'm\b", "you're"),
    (r"\bI am\b", "you are"),
    (r"\bI was\b", "you were"),
    (r"\bI've\b", "you've"),
    (r"\bI'd\b", "you'd"),
    (r"\bI'll\b", "you'll"),
    (r"\bI\b", "you"),
    (r"\bmy\b", "your"),
    (r"\bme\b", "you"),
    (r"\bmyself\b", "yourself"),
    (r"\bour\b", "your"),
    (r"\bwe\b", "you"),
    (r"\bmine\b", "yours"),
]
_SELF_QUESTION = re.compile(r"\bI\b|\bmy\b|\bI'm\b")
_HOW_DO_I = re.compile(r"^\s*(?:so\s+)?how\s+(?:do|can|should|could|would)\s+i\s+(.+?)[?.!]*$", re.IGNORECASE)
# "What should I do if she cries?" → "know what to do if she cries"
_WHAT_TO_DO = re.compile(
    r"^\s*what\s+(?:do|can|should|could|would)\s+i\s+(do|say)\s+((?:if|when|about|after|before)\b.+?)[?.!]*$",
    re.IGNORECASE,
)
_I_WANT = re.compile(r"^\s*i(?: really)? (?:want|need|would like|'d like) to\s+(.+?)[?.!]*$", re.IGNORECASE)
_HELP_ME = re.compile(r"^\s*(?:please\s+)?help me(?: to)?\s+(.+?)[?.!]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Unit:
    """One quotable sentence or list item from a chunk."""

    text: str
    kind: str
    source_index: int  # index into request.hits


@lru_cache(maxsize=4)
def _wording(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _pick(options: list[str], seed: str) -> str:
    """Deterministic variety: the same question always gets the same wording."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16)
    return options[digest % len(options)]


def second_person(text: str) -> str:
    out = text.strip().rstrip("?.! ")
    for pattern, repl in _FIRST_PERSON:
        out = re.sub(pattern, repl, out, flags=re.IGNORECASE)
    return out


def split_units(text: str, kind: str, source_index: int) -> list[Unit]:
    return [Unit(piece, unit_kind, source_index) for piece, unit_kind in _pieces(text, kind)]


@lru_cache(maxsize=8192)
def _pieces(text: str, kind: str) -> tuple[tuple[str, str], ...]:
    """(sentence or list item, its kind) for one chunk; the same chunks come back turn after turn."""
    pieces: list[tuple[str, str]] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)])\s)", text):
        block = " ".join(block.split())
        if not block or block.endswith(":"):
            continue
        is_item = bool(_LIST_MARKER.match(block))
        block = _LIST_MARKER.sub("", block).replace("**", "")
        sentences = _SENTENCE_END.split(block)
        for piece in [_balanced(" ".join(sentences[:3]))] if is_item else sentences:
            piece = piece.strip()
            if 5 <= len(piece.split()) <= 60 and not piece.endswith(":"):
                unit_kind = kind
                if kind == "question" and _SELF_QUESTION.search(piece):
                    continue  # a question the mentor asks themself, not one to put to the mentee
                if kind == "caution":
                    unit_kind = "caution" if piece.lower().startswith("don") else "do"
                pieces.append((piece, unit_kind))
    return tuple(pieces)


def _balanced(text: str) -> str:
    """A list item cut after a few sentences may cut a quotation short; close it."""
    return text + '"' if text.count('"') % 2 else text


def _reads_as_instruction(text: str) -> bool:
    from assistant.safety import normalise, pattern_matches

    return "injection" in pattern_matches(normalise(text))


def units_from(request: CoachRequest) -> list[Unit]:
    units: list[Unit] = []
    seen: set[str] = set()  # neighbouring chunks overlap, so the same sentence can appear twice
    for i, hit in enumerate(request.hits):
        section = hit.chunk.heading.split(" > ")[-1].strip().lower()
        if any(section.startswith(s) for s in _SKIP_SECTIONS):
            continue
        for unit in split_units(hit.chunk.text, _KIND_BY_SECTION.get(section, "step"), i):
            if hit.chunk.user_source and _reads_as_instruction(unit.text):
                continue  # uploaded documents are data; a sentence aimed at the assistant is never advice
            if unit.text not in seen:
                seen.add(unit.text)
                units.append(unit)
    return units


class OfflineCoach:
    """Deterministic, grounded composer; the default backend when no LLM is configured."""

    name = "offline"
    model = "offline-coach"

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self._path = settings.prompts_dir / "offline_coach.yaml"
        self.words = _wording(self._path)
        self.prompt_version = f"offline_coach@{self.words.get('version', 1)}"
        self.embedder = embedder
        self.units = UnitMemory(embedder)

    def stream(self, request: CoachRequest) -> Iterator[str]:
        # Sent a paragraph at a time so the UI shows progress the way it does for a model.
        for paragraph in self.compose(request).split("\n\n"):
            yield paragraph + "\n\n"

    def compose(self, request: CoachRequest) -> str:
        ranker = _Ranker(self.embedder, request, units_from(request), self.units)
        compose = {"prepare": self._prepare, "feedback": self._feedback}.get(request.mode, self._chat)
        parts = [p for p in compose(request, ranker) if p]
        if request.mentee:
            parts.append(self._tailoring(request.mentee))
        parts.append(self._coaching_question(request))
        return "\n\n".join(parts).strip()

    # --- modes -------------------------------------------------------------------------------
    def _chat(self, request: CoachRequest, ranker: _Ranker) -> list[str]:
        s = self.words["sections"]
        why = ranker.take({"why"}, 1)
        return [
            self._chat_lead(request) + (f" {why[0]}" if why else ""),
            _section(s["steps"], ranker.take({"step", "do"}, 4)),
            _section(s["phrases"], ranker.take({"phrase"}, 2)),
            _section(s["questions"], ranker.take({"question"}, 2)),
            _section(s["cautions"], ranker.take({"caution"}, 2)),
        ]

    def _prepare(self, request: CoachRequest, ranker: _Ranker) -> list[str]:
        s, d = self.words["sections"], request.details
        who = d.name or "your mentee"
        topic = to_second_person(d.topic, d.name) if d.topic else None
        lead = _pick(self.words["leads"]["prepare"], request.question).format(
            with_name=f" with {d.name}" if d.name else "", when=f" {d.when}" if d.when else ""
        )
        goal = self.words["goal_line"].format(name=who if d.name else "Your mentee", topic=_topic_phrase(d))
        if d.is_news:
            opening = self.words["news_line"].format(
                name=d.name or "[name]", topic=topic or "[the news, in one sentence]"
            )
            issue = _section(s["news"], ranker.take({"step", "do"}, 2, purpose="news"))
        else:
            opening = self.words["opening_line"].format(
                name=d.name or "[name]", topic=topic or "[the topic, in one sentence]"
            )
            issue = _section(s["sbi"], [_sbi_line(d)])
        return [
            lead,
            _section(s["goal"], [goal]),
            _section(
                s["facts"],
                [
                    self.words["facts_placeholder"],
                    *ranker.take({"step"}, 1, query="facts and specific examples to bring"),
                ],
            ),
            _section(
                s["opening"], [opening, *ranker.take({"step", "do"}, 1, purpose="news" if d.is_news else "opening")]
            ),
            issue,
            _section(s["questions"], ranker.take({"question"}, 3, purpose=("news", "reactions", "opening"))),
            _section(s["reactions"], ranker.take({"step", "phrase", "do"}, 3, purpose="reactions")),
            _section(s["close"], ranker.take({"step", "phrase", "do"}, 2, purpose="close")),
        ]

    def _feedback(self, request: CoachRequest, ranker: _Ranker) -> list[str]:
        from assistant.feedback import FeedbackChecker, draft_feedback

        s, d = self.words["sections"], request.details
        gaps = self.words["gaps"]
        lead = _pick(self.words["leads"]["feedback"], request.question).format(name_or_they=d.name or "they")
        parts = {
            "situation": d.situation,
            "behavior": f"you {to_second_person(d.behavior, d.name)}" if d.behavior else None,
            "impact": d.impact,
            "request": to_second_person(d.request, d.name) if d.request else None,  # never guessed
        }
        draft = draft_feedback(**{k: v or gaps[k] for k, v in parts.items()})
        missing = [k for k, v in parts.items() if not v]
        report = FeedbackChecker().check(draft_feedback(**{k: v or "" for k, v in parts.items()}))
        flagged = [
            f"{name}: {', '.join(r.evidence)}" for name, r in report.criteria.items() if not r.passed and r.evidence
        ]
        notes = [self.words["fill_gaps"].format(parts=", ".join(missing))] if missing else []
        notes += [self.words["flagged"].format(words=w) for w in flagged]
        if not missing and not flagged:
            notes.append(f"Score {report.score}/100 — ready to deliver.")
        return [
            lead,
            _section(s["draft"], ["> " + draft]),
            _section(s["notes"], notes),
            _section(
                s["steps"],
                ranker.take({"step", "do"}, 2, purpose="sbi") + ranker.take({"step", "do"}, 1, purpose="delivery"),
            ),
            _section(s["phrases"], ranker.take({"phrase"}, 2, purpose="sbi")),
            _section(s["cautions"], ranker.take({"caution"}, 1, purpose="delivery")),
        ]

    # --- framing -----------------------------------------------------------------------------
    def _chat_lead(self, request: CoachRequest) -> str:
        """Reflect the mentor's situation and aim back in their own words, when they are short enough to."""
        sentences = _SENTENCE_END.split(" ".join(request.question.split()))
        aims = [m.group(1) for x in sentences for p in (_HOW_DO_I, _HELP_ME, _I_WANT) if (m := p.match(x))]
        aims += [f"know what to {m.group(1)} {m.group(2)}" for x in sentences if (m := _WHAT_TO_DO.match(x))]
        aim = aims[0] if aims else None
        told = [
            x for x in sentences if not x.rstrip().endswith("?") and not any(p.match(x) for p in (_HELP_ME, _I_WANT))
        ]
        situation = told[0] if told and len(told[0].split()) <= 25 else None
        if situation:
            echo = second_person(situation)
            if request.details.name is None or not echo.startswith(request.details.name):
                echo = echo[0].lower() + echo[1:]
            tail = f", and you want to {second_person(aim)}" if aim else ""
            return f"It sounds like {echo}{tail}."
        if aim:
            return f"You want to {second_person(aim)}."
        focus = "this" if not request.details.name else f"this with {request.details.name}"
        return _pick(self.words["leads"]["chat"], request.question).format(focus=focus)

    def _tailoring(self, mentee: MenteeProfile) -> str:
        t = self.words["tailoring"]
        lines = []
        if mentee.experience_level in t:
            lines.append(t[mentee.experience_level])
        prefs = f"{mentee.communication_preferences} {mentee.learning_preferences} {mentee.cultural_notes}".lower()
        for key, cue in (("written", "writ"), ("indirect", "indirect"), ("direct", "direct")):
            if cue in prefs and not (key == "direct" and "indirect" in prefs):
                lines.append(t[key])
        if mentee.goals:
            lines.append(t["goals"].format(name=mentee.name, goals=mentee.goals.rstrip(".")))
        if not lines:
            return ""
        title = self.words["sections"]["tailoring"].format(name=mentee.name)
        return _section(title, [line.format(name=mentee.name) for line in lines])

    def _coaching_question(self, request: CoachRequest) -> str:
        who = request.details.name or (request.mentee.name if request.mentee else "your mentee")
        options = self.words["coaching_questions"].get(request.mode, self.words["coaching_questions"]["chat"])
        return f"**A question for you:** {_pick(options, request.question).format(who=who)}"


class UnitMemory:
    """Guidance sentences recur across answers: each is embedded and tokenised once per process."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._tokens: dict[str, frozenset[str]] = {}

    def vectors(self, texts: list[str]) -> np.ndarray:
        return np.stack(_remembered(self._vectors, texts, self.embedder.embed))

    def tokens(self, texts: list[str]) -> list[frozenset[str]]:
        return _remembered(self._tokens, texts, lambda missing: [frozenset(t) for t in tokenize(missing)])


def _remembered(memory: dict[str, T], texts: list[str], compute: Callable[[list[str]], Sequence[T]]) -> list[T]:
    """Look texts up in memory, compute the rest in one batch and remember them. Only single dict operations
    touch the shared memory, so turns on other threads (which may clear it when full) cannot break this one."""
    found = {t: v for t in dict.fromkeys(texts) if (v := memory.get(t)) is not None}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        fresh = dict(zip(missing, compute(missing), strict=True))
        found.update(fresh)
        if len(memory) > UNIT_CACHE_SIZE:
            memory.clear()
        memory.update(fresh)
    return [found[t] for t in texts]


class _Ranker:
    """Scores units against the question (or a section's purpose) and hands out the best unused ones."""

    def __init__(
        self, embedder: Embedder, request: CoachRequest, units: list[Unit], memory: UnitMemory
    ) -> None:
        self.embedder = embedder
        self.request = request
        self.units = units
        self.used: set[int] = set()
        purposes = request.extras.get("purposes", {})
        self.purpose = [purposes.get(request.hits[u.source_index].chunk.id, {"main"}) for u in units]
        self.vectors = memory.vectors([u.text for u in units]) if units else np.zeros((0, 1))
        self.tokens = memory.tokens([u.text for u in units]) if units else []
        # Documents retrieved earlier are likelier to fit; every section of a document shares its rank.
        doc_rank: dict[str, int] = {}
        for hit in request.hits:
            doc_rank.setdefault(hit.chunk.source, len(doc_rank))
        self.doc_bonus = np.array([0.25 / (1 + doc_rank[request.hits[u.source_index].chunk.source]) for u in units])
        # Names in the question must not pull in example sentences that happen to use the same name.
        name = request.details.name
        self.question = re.sub(rf"\b{re.escape(name)}\b", "", request.question) if name else request.question
        self.base = self._score(self.question)

    def _score(self, query: str) -> np.ndarray:
        if not self.units:
            return np.zeros(0)
        qv = self.embedder.embed([query])[0]
        q_tokens = set(tokenize([query])[0])
        overlap = np.array([len(q_tokens & t) / (len(q_tokens) or 1) for t in self.tokens])
        return self.vectors @ qv + 0.4 * overlap + self.doc_bonus

    def take(self, kinds: set[str], n: int, query: str | None = None, purpose: str | tuple[str, ...] = ()) -> list[str]:
        scores = self.base if query is None else 0.5 * self.base + self._score(query)
        wanted = (purpose,) if isinstance(purpose, str) else purpose
        if wanted:
            scores = scores + np.array([0.6 if p & set(wanted) else 0.0 for p in self.purpose])
        picked: list[int] = []
        for i in np.argsort(-scores):
            i = int(i)
            unit = self.units[i]
            if i in self.used or unit.kind not in kinds:
                continue
            if any(float(self.vectors[i] @ self.vectors[j]) > 0.9 for j in picked):
                continue
            picked.append(i)
            if len(picked) == n:
                break
        self.used.update(picked)
        return [f"{self.units[i].text} [{self.units[i].source_index + 1}]" for i in picked]


def _section(title: str, lines: list[str]) -> str:
    if not lines or (len(lines) == 1 and not lines[0]):
        return ""
    if len(lines) == 1 and lines[0].startswith("> "):
        return f"**{title}**\n\n{lines[0]}"
    return f"**{title}**\n" + "\n".join(f"- {line}" for line in lines)


def _topic_phrase(d: Details) -> str:
    return "the news" if d.is_news else "what you need to raise"


def _sbi_line(d: Details) -> str:
    situation = d.situation or "[when and where it happened]"
    behavior = f"you {to_second_person(d.behavior, d.name)}" if d.behavior else "[what you saw or heard them do]"
    impact = d.impact or "[the effect it had on the work, the team or the client]"
    return f'"{situation[0].upper() + situation[1:]}, {behavior}. {impact[0].upper() + impact[1:]}."'


@BACKENDS.register("offline")
def create(settings: Settings, embedder: Embedder) -> OfflineCoach:
    return OfflineCoach(settings, embedder)
