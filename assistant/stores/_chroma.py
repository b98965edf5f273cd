"""Chroma collection wrapper shared by the embedded and server stores.

Every call into chromadb goes through `_call`, which turns whatever chromadb or the network raises into
one of our errors with a message that says what to do (rebuild, start the server, free disk space).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from assistant.stores import EmbedderMismatch, IndexError_, SchemaMismatch
from assistant.types import Chunk

SCHEMA_VERSION = 3  # 2: chunks carry their document summary; 3: a wider HNSW search (repeatable results)
HNSW_EF_SEARCH = 400  # Chroma default 100 misses close neighbours, differently on each load of an index
_BATCH = 2000
INTEGRITY_SAMPLE = 5  # stored vectors checked to find themselves when an index is opened
REBUILD_HINT = "Rebuild it with `mentor ingest --rebuild` (or the Rebuild button in the Knowledge tab)."
NOT_BUILT = "The knowledge index has not been built yet. Build it with `mentor ingest`."
T = TypeVar("T")


class ChromaStore:
    """A Chroma collection holding our chunks, tagged with the embedder that built it."""

    def __init__(self, collection: str, name: str) -> None:
        self.name = name
        self._collection_name = collection
        self._client_obj: Any = None
        self._collection: Any = None
        self.generation = 0

    # --- hooks for the two kinds of store ------------------------------------------------------
    def _open_client(self) -> Any:
        raise NotImplementedError

    def _failure(self, exc: Exception) -> IndexError_:
        """Our error for a chromadb failure; each store knows what its failures mean."""
        raise NotImplementedError

    # --- plumbing ------------------------------------------------------------------------------
    @property
    def _client(self) -> Any:
        if self._client_obj is None:
            self._client_obj = self._call(self._open_client)
        return self._client_obj

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except IndexError_:
            raise
        except Exception as exc:  # chromadb, httpx, sqlite and the OS all raise their own types
            self._collection = None
            raise self._failure(exc) from exc

    def _col(self) -> Any:
        if self._collection is None:
            try:
                self._collection = self._client.get_collection(self._collection_name)
            except IndexError_:
                raise
            except Exception as exc:
                if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                    raise IndexError_(NOT_BUILT) from exc
                raise self._failure(exc) from exc
        return self._collection

    # --- the VectorStore surface ---------------------------------------------------------------
    def ensure_embedder(self, embedder_name: str, dim: int, create: bool = False) -> None:
        """Refuse to mix vectors of two embedders in one collection."""
        if create:
            self._collection = self._call(
                lambda: self._client.get_or_create_collection(
                    self._collection_name,
                    embedding_function=None,  # Chroma's default would download an ONNX model
                    configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH, "ef_construction": 200}},
                    metadata={"embedder": embedder_name, "dim": dim, "schema": SCHEMA_VERSION},
                )
            )
        meta = self._col().metadata or {}
        if meta.get("schema") != SCHEMA_VERSION:
            raise SchemaMismatch(
                f"The knowledge index was built by another version (schema {meta.get('schema')}, "
                f"this one reads {SCHEMA_VERSION}). {REBUILD_HINT}"
            )
        if meta.get("embedder") != embedder_name or meta.get("dim") != dim:
            raise EmbedderMismatch(
                f"The knowledge index was built with the embedder {meta.get('embedder')!r} "
                f"({meta.get('dim')} dimensions), but {embedder_name!r} ({dim} dimensions) is configured; "
                f"vectors of two embedders cannot be mixed. {REBUILD_HINT}"
            )

    def built_with(self) -> str | None:
        """The embedder recorded on the index, or None when there is no readable index."""
        try:
            return (self._col().metadata or {}).get("embedder")
        except IndexError_:
            return None

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, extra: Sequence[dict[str, Any]]) -> None:
        self.generation += 1
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            metadatas = [c.metadata() | e for c, e in zip(part, extra[start : start + _BATCH], strict=True)]
            self._call(
                lambda part=part, start=start, metadatas=metadatas: self._col().upsert(
                    ids=[c.id for c in part],
                    embeddings=vectors[start : start + _BATCH],
                    documents=[c.text for c in part],
                    metadatas=metadatas,
                )
            )

    def delete(self, ids: Sequence[str]) -> None:
        self.generation += 1
        for start in range(0, len(ids), _BATCH):
            batch = list(ids[start : start + _BATCH])
            self._call(lambda batch=batch: self._col().delete(ids=batch))

    def all_records(self, with_vectors: bool = False) -> tuple[list[Chunk], list[dict[str, Any]], np.ndarray | None]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        chunks: list[Chunk] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        total = self.count()
        for offset in range(0, total, _BATCH):
            got = self._call(lambda offset=offset: self._col().get(include=include, limit=_BATCH, offset=offset))
            for i, chunk_id in enumerate(got["ids"]):
                meta = got["metadatas"][i] or {}
                chunks.append(Chunk.from_metadata(chunk_id, got["documents"][i] or "", meta))
                metas.append(meta)
            if with_vectors:
                vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        matrix = np.concatenate(vectors) if with_vectors and vectors else None
        return chunks, metas, matrix

    def query(self, vector: np.ndarray, k: int, topic: str | None = None) -> list[tuple[Chunk, float]]:
        got = self._search(vector, k, topic, ["documents", "metadatas", "distances"])
        return [
            (Chunk.from_metadata(cid, doc or "", meta or {}), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def query_ids(self, vector: np.ndarray, k: int, topic: str | None = None) -> list[tuple[str, float]]:
        """Ids and similarities only: callers that hold the chunks in memory skip fetching their text."""
        got = self._search(vector, k, topic, ["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(got["ids"][0], got["distances"][0], strict=True)]

    def _search(self, vector: np.ndarray, k: int, topic: str | None, include: list[str]) -> dict[str, Any]:
        # Chroma returns fewer results (not an error) when k exceeds the collection, so no count() first.
        return self._call(
            lambda: self._col().query(
                query_embeddings=[vector],
                n_results=max(k, 1),
                where={"topic": topic} if topic else None,
                include=include,
            )
        )

    def check_integrity(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """A few stored vectors must find themselves; a damaged vector index otherwise answers silently wrong."""
        if len(chunks) == 0:
            return
        step = max(1, len(chunks) // INTEGRITY_SAMPLE)
        for i in range(0, len(chunks), step)[:INTEGRITY_SAMPLE]:
            found = [c.id for c, _ in self.query(vectors[i], 3)]
            if chunks[i].id not in found:
                raise IndexError_(
                    f"The knowledge index ({self.name}) is damaged: its vector search is missing "
                    f"stored passages. {REBUILD_HINT}"
                )

    def count(self) -> int:
        return int(self._call(lambda: self._col().count()))

    def reset(self) -> None:
        self.generation += 1
        with contextlib.suppress(Exception):
            self._client.delete_collection(self._collection_name)
        self._collection = None

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        yield
