"""Vector stores behind one Protocol; each backend is one module registering a factory."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import IndexUnusableError
from assistant.registry import Registry
from assistant.settings import Settings
from assistant.types import Chunk

REBUILD_HINT = "Rebuild it with `mentor ingest --rebuild` (or the Rebuild button in the Knowledge tab)."
NOT_BUILT = "The knowledge index has not been built yet. Build it with `mentor ingest`."


class IndexError_(IndexUnusableError):
    """The index cannot be used as it is; the message says how to fix it."""


class EmbedderMismatch(IndexError_):
    pass


class SchemaMismatch(IndexError_):
    pass


class IndexLocked(IndexError_):
    pass


class StoreUnavailable(IndexError_):
    pass


class VectorStore(Protocol):
    """What the pipeline needs from a vector database: every member has a caller outside `stores/`. Locking is
    not part of it (see `WriteLocking`)."""

    name: str
    generation: int  # bumped by every write through this object, so readers in-process can see changes

    def ensure_embedder(self, embedder_name: str, dim: int, create: bool = False) -> None: ...
    def built_with(self) -> str | None: ...
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, extra: Sequence[dict[str, Any]]) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
    def all_records(
        self, with_vectors: bool = False
    ) -> tuple[list[Chunk], list[dict[str, Any]], np.ndarray | None]: ...
    def query(self, vector: np.ndarray, k: int, topic: str | None = None) -> list[tuple[Chunk, float]]: ...
    def query_ids(self, vector: np.ndarray, k: int, topic: str | None = None) -> list[tuple[str, float]]: ...
    def count(self) -> int: ...
    def check_integrity(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...
    def reset(self) -> None: ...


@runtime_checkable
class WriteLocking(Protocol):
    """The optional extra of a store that several processes may write at once (the Chroma stores): one writer at
    a time, and a rebuild begun under the lock switched to, or dropped, when it is released. A store used by one
    process only (an in-memory one) need not have it."""

    def write_lock(self) -> AbstractContextManager[None]: ...


def write_lock(store: VectorStore) -> AbstractContextManager[None]:
    """The store's write lock when it has one, else nothing to hold: what every writer takes around its writes."""
    return store.write_lock() if isinstance(store, WriteLocking) else nullcontext()


INTEGRITY_SAMPLE = 5  # stored vectors checked to find themselves when an index is opened


def check_finds_itself(store: VectorStore, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
    """A few stored vectors must find their own passage; a damaged vector index otherwise answers silently wrong."""
    if len(chunks) == 0:
        return
    step = max(1, len(chunks) // INTEGRITY_SAMPLE)
    for i in range(0, len(chunks), step)[:INTEGRITY_SAMPLE]:
        found = [c.id for c, _ in store.query(vectors[i], 3)]
        if chunks[i].id not in found:
            raise IndexError_(
                f"The knowledge index ({store.name}) is damaged: its vector search is missing stored passages. "
                f"{REBUILD_HINT}"
            )


STORES: Registry[VectorStore] = Registry(
    "vector store", sys.modules[__name__], entry_point_group="mentor_assistant.stores", setting="MENTOR_VECTOR_STORE"
)


def open_store(settings: Settings) -> VectorStore:
    """The store `MENTOR_VECTOR_STORE` names; by default the Chroma server when one is configured, else the
    embedded index under the data directory."""
    return STORES.create(settings.store_name, settings)


__all__ = [
    "NOT_BUILT",
    "REBUILD_HINT",
    "STORES",
    "EmbedderMismatch",
    "IndexError_",
    "IndexLocked",
    "SchemaMismatch",
    "StoreUnavailable",
    "VectorStore",
    "WriteLocking",
    "check_finds_itself",
    "open_store",
    "write_lock",
]
