"""Coaching: situation playbooks, reading the mentor's message against them, and composing the answer."""

from __future__ import annotations

from assistant.coaching.composer import AnswerPlan, CitedPlaybook, Composer, section_citations
from assistant.coaching.matcher import SituationMatcher
from assistant.coaching.needs import NeedClassifier
from assistant.coaching.playbooks import Playbook, load_playbooks
from assistant.coaching.understanding import ConversationState, Reading, Understanding
from assistant.embedders import Embedder
from assistant.ingestion.ingestor import source_name
from assistant.settings import Settings

__all__ = [
    "AnswerPlan",
    "CitedPlaybook",
    "Composer",
    "ConversationState",
    "Playbook",
    "Reading",
    "Understanding",
    "build_understanding",
    "section_citations",
]


def build_understanding(settings: Settings, embedder: Embedder) -> Understanding:
    files = sorted(settings.knowledge_dir.glob("*.md"))
    playbooks = load_playbooks((path, source_name(path, settings)) for path in files)
    matcher = SituationMatcher(
        playbooks, embedder, cache_dir=settings.data_dir / "cache", shipped=settings.precomputed_vectors
    )
    return Understanding(playbooks, matcher, NeedClassifier(embedder))
