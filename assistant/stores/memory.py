"""A vector store in this process's memory: nothing is written to disk, and exact search never misses a passage.

It is the fast test tier's store (`make test-fast`) and a store for one-off scripts. An index lives as long as the
process, shared by every store opened on the same data directory and collection (as two opens of one Chroma
directory share it), so a runtime built after `mentor ingest` in the same process finds what was ingested.

It has no write lock (see `WriteLocking`): one process only, and a rebuild empties the index at once, so a reader
during a rebuild sees it half-built, where the Chroma stores keep serving the old generation.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.settings import Settings
from assistant.stores import NOT_BUILT, REBUILD_HINT, STORES, EmbedderMismatch, IndexError_, check_finds_itself
from assistant.types import Chunk


@dataclass
class _Record:
    text: str
    metadata: dict[str, Any]
    vector: np.ndarray


@dataclass
class _Index:
    """One collection: the embedder that built it and its records in insertion order."""

    embedder: str
    dim: int
    records: dict[str, _Record] = field(default_factory=dict)
    _matrix: tuple[list[str], np.ndarray] | None = None  # every id and vector as one matrix, until the next write

    def matrix(self) -> tuple[list[str], np.ndarray]:
        if self._matrix is None:
            ids = list(self.records)
            vectors = [self.records[c].vector for c in ids]
            self._matrix = ids, (np.stack(vectors) if vectors else np.zeros((0, self.dim), dtype=np.float32))
        return self._matrix

    def changed(self) -> None:
        self._matrix = None


# (data directory, collection) -> its index; a key that is absent has never been built (or was reset).
_INDEXES: dict[tuple[str, str], _Index] = {}
_GUARD = threading.RLock()  # one lock for every index: writes are rare and short, searches are one matrix product


class MemoryStore:
    def __init__(self, settings: Settings) -> None:
        self._key = (str(settings.data_dir.resolve()), settings.collection)
        self.name = f"in-memory index {settings.collection!r}"
        self.generation = 0

    def _index(self) -> _Index:
        index = _INDEXES.get(self._key)
        if index is None:
            raise IndexError_(NOT_BUILT)
        return index

    def ensure_embedder(self, embedder_name: str, dim: int, create: bool = False) -> None:
        """Refuse to mix vectors of two embedders in one index (as the Chroma stores do)."""
        with _GUARD:
            if create and self._key not in _INDEXES:
                _INDEXES[self._key] = _Index(embedder_name, dim)
                self.generation += 1
            index = self._index()
        if (index.embedder, index.dim) != (embedder_name, dim):
            raise EmbedderMismatch(
                f"The knowledge index was built with the embedder {index.embedder!r} ({index.dim} dimensions), but "
                f"{embedder_name!r} ({dim} dimensions) is configured; vectors of two embedders cannot be mixed. "
                f"{REBUILD_HINT}"
            )

    def built_with(self) -> str | None:
        index = _INDEXES.get(self._key)
        return index.embedder if index else None

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, extra: Sequence[dict[str, Any]]) -> None:
        with _GUARD:
            index = self._index()
            for chunk, vector, more in zip(chunks, vectors, extra, strict=True):
                stored = np.array(vector, dtype=np.float32)  # a copy: the caller may reuse its array
                index.records[chunk.id] = _Record(chunk.text, chunk.metadata() | more, stored)
            index.changed()
            self.generation += 1

    def delete(self, ids: Sequence[str]) -> None:
        with _GUARD:
            index = self._index()
            for chunk_id in ids:
                index.records.pop(chunk_id, None)
            index.changed()
            self.generation += 1

    def all_records(self, with_vectors: bool = False) -> tuple[list[Chunk], list[dict[str, Any]], np.ndarray | None]:
        with _GUARD:
            items = list(self._index().records.items())
        chunks = [Chunk.from_metadata(chunk_id, r.text, r.metadata) for chunk_id, r in items]
        metas = [dict(r.metadata) for _, r in items]
        vectors = np.stack([r.vector for _, r in items]) if with_vectors and items else None
        return chunks, metas, vectors

    def query(self, vector: np.ndarray, k: int, topic: str | None = None) -> list[tuple[Chunk, float]]:
        with _GUARD:  # one hold for the search and the reads, so a delete cannot fall between them
            found = self.query_ids(vector, k, topic)
            records = self._index().records
            return [(Chunk.from_metadata(cid, records[cid].text, records[cid].metadata), score) for cid, score in found]

    def query_ids(self, vector: np.ndarray, k: int, topic: str | None = None) -> list[tuple[str, float]]:
        """Exact cosine search; like Chroma, fewer results (not an error) when k exceeds what matches."""
        with _GUARD:
            index = self._index()
            records = index.records
            ids, matrix = index.matrix()
            if topic:
                keep = [i for i, cid in enumerate(ids) if records[cid].metadata.get("topic") == topic]
                ids, matrix = [ids[i] for i in keep], matrix[keep]
        if not ids:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        scores = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query) + 1e-12)
        order = np.argsort(-scores, kind="stable")[: max(k, 1)]
        return [(ids[i], float(scores[i])) for i in order]

    def count(self) -> int:
        with _GUARD:
            return len(self._index().records)

    def check_integrity(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        check_finds_itself(self, chunks, vectors)

    def reset(self) -> None:
        """Forget the index; the caller creates it again with `ensure_embedder(..., create=True)`."""
        with _GUARD:
            _INDEXES.pop(self._key, None)
            self.generation += 1


@STORES.register("memory")
def create(settings: Settings) -> MemoryStore:
    return MemoryStore(settings)
