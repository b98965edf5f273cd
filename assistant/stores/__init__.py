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


STORES: Registry[VectorStore] = Registry("vector store", sys.modules[__name__])


def open_store(settings: Settings) -> VectorStore:
    """The Chroma server when one is configured, else the embedded index under the data directory."""
    return STORES.create("chroma-http" if settings.chroma_host else "chroma-embedded", settings)


__all__ = [
    "STORES",
    "EmbedderMismatch",
    "IndexError_",
    "IndexLocked",
    "SchemaMismatch",
    "StoreUnavailable",
    "VectorStore",
    "WriteLocking",
    "open_store",
    "write_lock",
]
