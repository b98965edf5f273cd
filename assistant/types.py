"""Data shared by every stage of the pipeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TOPICS: tuple[str, ...] = (
    "self-reflection",
    "goal-setting",
    "finding-mentees",
    "trust",
    "tailoring",
    "knowledge-sharing",
    "feedback",
    "networking",
    "ongoing-support",
    "evaluation",
    "difficult-conversations",
    "active-listening",
    "boundaries-and-escalation",
    "mentoring-formats",
    "career-development",
    "performance",
    "wellbeing",
    "inclusion",
)
MODES: tuple[str, ...] = ("chat", "prepare", "feedback", "practice")
SAFETY_CATEGORIES: tuple[str, ...] = ("crisis", "harassment", "legal", "harmful", "injection")


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of guidance."""

    id: str
    text: str
    title: str
    topic: str
    source: str
    heading: str
    tags: tuple[str, ...] = ()
    step: int | None = None
    user_source: bool = False
    summary: str = ""

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for the vector store (Chroma accepts scalars only)."""
        return {
            "title": self.title,
            "topic": self.topic,
            "source": self.source,
            "heading": self.heading,
            "tags": ",".join(self.tags),
            "step": self.step if self.step is not None else 0,
            "user_source": self.user_source,
            "summary": self.summary,
        }

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
        tags = tuple(t for t in str(meta.get("tags", "")).split(",") if t)
        step = int(meta.get("step") or 0) or None
        return cls(
            id=chunk_id,
            text=text,
            title=str(meta.get("title", "")),
            topic=str(meta.get("topic", "")),
            source=str(meta.get("source", "")),
            heading=str(meta.get("heading", "")),
            tags=tags,
            step=step,
            user_source=bool(meta.get("user_source", False)),
            summary=str(meta.get("summary", "")),
        )


@dataclass(frozen=True)
class Hit:
    """A chunk with the score a retriever gave it."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Source:
    """A retrieved chunk as shown to the user, numbered for `[n]` citations."""

    n: int
    id: str
    title: str
    topic: str
    source: str
    snippet: str
    heading: str = ""
    text: str = ""

    @classmethod
    def from_hit(cls, n: int, hit: Hit) -> Source:
        c = hit.chunk
        snippet = c.text if len(c.text) <= 240 else c.text[:237].rsplit(" ", 1)[0] + "..."
        return cls(n, c.id, c.title, c.topic, c.source, snippet, c.heading, c.text)


@dataclass(frozen=True)
class SafetyDecision:
    """What the safety router decided about a message."""

    category: str | None = None
    action: str | None = None
    reason: str = ""
    matched: tuple[str, ...] = ()

    @property
    def escalated(self) -> bool:
        return self.category is not None

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "action": self.action, "reason": self.reason}


@dataclass
class Answer:
    """A coach's reply with everything needed to show, store and evaluate it."""

    answer: str
    mode: str
    backend: str
    model: str
    sources: list[Source] = field(default_factory=list)
    citations: list[int] = field(default_factory=list)
    grounded: bool = False
    safety: SafetyDecision = field(default_factory=SafetyDecision)
    session: str | None = None
    prompt_version: str = ""
    abstained: bool = False
    fallback: str | None = None
    query: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["safety"] = self.safety.as_dict()
        data["sources"] = [{k: v for k, v in asdict(s).items() if k != "text"} for s in self.sources]
        return data


@dataclass(frozen=True)
class MenteeProfile:
    """What a mentor keeps about one mentee; `id` is None until saved."""

    name: str
    experience_level: str = ""
    goals: str = ""
    learning_preferences: str = ""
    communication_preferences: str = ""
    cultural_notes: str = ""
    notes: str = ""
    id: str | None = None
