"""Builds the pipeline's components once per process; the CLI and the UI share it.

Each component's module is imported by the property that builds it, not at the top of this file: behind them sit
Chroma, spaCy, scikit-learn, SQLAlchemy and LangChain, and a command loads only the ones it touches (listing
mentees needs no encoder). They are imported here only for their types.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING

from assistant.errors import StorageError
from assistant.offline import prepare_offline
from assistant.settings import Settings, get_settings

if TYPE_CHECKING:
    from assistant.coach import Coach
    from assistant.coaching.understanding import Understanding
    from assistant.embedders import Embedder
    from assistant.ingestion.ingestor import Ingestor
    from assistant.llm import ChatBackend
    from assistant.retrieval import HybridRetriever
    from assistant.safety import SafetyRouter
    from assistant.sessions import SessionStore
    from assistant.stores import VectorStore


class Runtime:
    """Lazily constructed components; only what a command touches is loaded."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot use the data directory {self.settings.data_dir} ({exc.strerror or exc}). "
                "Point MENTOR_DATA_DIR at a folder you can write to."
            ) from exc
        prepare_offline(self.settings.data_dir / "cache")
        logging.basicConfig(level=self.settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")

    @cached_property
    def embedder(self) -> Embedder:
        from assistant.embedders import get_embedder

        return get_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        from assistant.stores import open_store

        return open_store(self.settings)

    @cached_property
    def ingestor(self) -> Ingestor:
        from assistant.ingestion.ingestor import Ingestor

        return Ingestor(self.settings, self.store, self.embedder)

    @cached_property
    def retriever(self) -> HybridRetriever:
        from assistant.retrieval import HybridRetriever

        self.store.ensure_embedder(self.embedder.name, int(self.embedder.embed(["probe"]).shape[1]))
        return HybridRetriever(self.store, self.embedder)

    @cached_property
    def safety(self) -> SafetyRouter:
        from assistant.safety import SafetyRouter, make_llm_check

        llm_check = None
        remote = self.settings.backend != "offline"  # the offline coach cannot read a safety prompt
        if self.settings.llm_safety_check and remote and self.backend.capabilities.completion:
            llm_check = make_llm_check(self.backend.complete)
        return SafetyRouter(self.embedder, llm_check=llm_check)

    @cached_property
    def backend(self) -> ChatBackend:
        """The chat backend the settings name; one instance (one client, one connection pool) for the coach, the
        LLM safety check and the judge."""
        from assistant.llm import BACKENDS

        return BACKENDS.create(self.settings.backend, self.settings, self.embedder)

    @cached_property
    def understanding(self) -> Understanding:
        from assistant.coaching import build_understanding

        return build_understanding(self.settings, self.embedder)

    @cached_property
    def sessions(self) -> SessionStore:
        from assistant.sessions import SessionStore

        return SessionStore(self.settings.db_url)

    def _built_retriever(self) -> HybridRetriever:
        """The retriever, built on first call (it needs the index, which a role-play does not)."""
        return self.retriever

    @cached_property
    def coach(self) -> Coach:
        """The coach, with its collaborators: one backend instance, which is also the fallback when it is the
        offline coach."""
        from assistant.coach import Coach
        from assistant.llm.offline import OfflineCoach
        from assistant.practice.chat import PracticeChat

        backend = self.backend
        offline = backend if isinstance(backend, OfflineCoach) else OfflineCoach(self.settings, self.embedder)
        practice = PracticeChat(
            self.embedder, self._built_retriever, backend, self.settings.prompts_dir, self.settings.data_dir / "cache"
        )
        return Coach(
            settings=self.settings,
            backend=backend,
            offline=offline,
            retriever=self._built_retriever,
            safety=self.safety,
            understanding=self.understanding,
            sessions=self.sessions,
            ingestor=self.ingestor,
            practice=practice,
        )
