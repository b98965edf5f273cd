"""Chroma collection wrapper shared by the embedded and server stores."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from assistant.stores import EmbedderMismatch, IndexError_, SchemaMismatch, StoreUnavailable
from assistant.types import Chunk

SCHEMA_VERSION = 2  # 2: chunks carry their document summary, which is part of what gets embedded
_BATCH = 2000
REBUILD_HINT = "Rebuild it with `mentor ingest --rebuild` (or the Rebuild button in the Knowledge tab)."


class ChromaStore:
    """A Chroma collection holding our chunks, tagged with the embedder that built it."""

    def __init__(self, client: Any, collection: str, name: str) -> None:
        self.name = name
        self._client = client
        self._collection_name = collection
        self._collection: Any = None
        self.generation = 0

    def _col(self) -> Any:
        if self._collection is None:
            try:
                self._collection = self._client.get_collection(self._collection_name)
            except Exception as exc:  # chromadb raises several types for "missing"
                if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                    raise IndexError_(
                        "The knowledge index has not been built yet. Build it with `mentor ingest`."
                    ) from exc
                raise StoreUnavailable(f"Cannot open the knowledge index ({self.name}): {exc}") from exc
        return self._collection

    def ensure_embedder(self, embedder_name: str, dim: int, create: bool = False) -> None:
        """Refuse to mix vectors of two embedders in one collection."""
        if create:
            self._collection = self._client.get_or_create_collection(
                self._collection_name,
                embedding_function=None,  # Chroma's default would download an ONNX model
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder_name, "dim": dim, "schema": SCHEMA_VERSION},
            )
        meta = self._col().metadata or {}
        if meta.get("schema") != SCHEMA_VERSION:
            raise SchemaMismatch(
                f"The knowledge index was built by another version (schema {meta.get('schema')}, "
                f"this one reads {SCHEMA_VERSION}). {REBUILD_HINT}"
            )
        if meta.get("embedder") != embedder_name:
            raise EmbedderMismatch(
                f"The knowledge index was built with the embedder {meta.get('embedder')!r}, but "
                f"{embedder_name!r} is configured; vectors of two embedders cannot be mixed. {REBUILD_HINT}"
            )

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, extra: Sequence[dict[str, Any]]) -> None:
        self.generation += 1
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            self._col().upsert(
                ids=[c.id for c in part],
                embeddings=vectors[start : start + _BATCH],
                documents=[c.text for c in part],
                metadatas=[c.metadata() | e for c, e in zip(part, extra[start : start + _BATCH], strict=True)],
            )

    def delete(self, ids: Sequence[str]) -> None:
        self.generation += 1
        for start in range(0, len(ids), _BATCH):
            self._col().delete(ids=list(ids[start : start + _BATCH]))

    def all_records(self, with_vectors: bool = False) -> tuple[list[Chunk], list[dict[str, Any]], np.ndarray | None]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        chunks: list[Chunk] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        total = self.count()
        for offset in range(0, total, _BATCH):
            got = self._col().get(include=include, limit=_BATCH, offset=offset)
            for i, chunk_id in enumerate(got["ids"]):
                meta = got["metadatas"][i] or {}
                chunks.append(Chunk.from_metadata(chunk_id, got["documents"][i] or "", meta))
                metas.append(meta)
            if with_vectors:
                vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        matrix = np.concatenate(vectors) if with_vectors and vectors else None
        return chunks, metas, matrix

    def query(self, vector: np.ndarray, k: int, topic: str | None = None) -> list[tuple[Chunk, float]]:
        total = self.count()
        if total == 0:
            return []
        got = self._col().query(
            query_embeddings=[vector],
            n_results=min(k, total),
            where={"topic": topic} if topic else None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (Chunk.from_metadata(cid, doc or "", meta or {}), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def count(self) -> int:
        try:
            return int(self._col().count())
        except IndexError_:
            raise
        except Exception as exc:
            self._collection = None
            raise StoreUnavailable(f"The knowledge index ({self.name}) is not answering: {exc}") from exc

    def reset(self) -> None:
        self.generation += 1
        with contextlib.suppress(Exception):
            self._client.delete_collection(self._collection_name)
        self._collection = None

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        yield
