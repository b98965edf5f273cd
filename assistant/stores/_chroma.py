"""Chroma collection wrapper shared by the embedded and server stores.

Every call into chromadb goes through `_call`, which turns whatever chromadb or the network raises into
one of our errors with a message that says what to do (rebuild, start the server, free disk space).

Generations: a rebuild never empties the index that is serving. `reset()` starts a new collection (a generation,
`<collection>-g<n>`) that only the rebuilding thread writes and reads; every other reader, in this process or
another, keeps reading the live one. When the write lock is released after a rebuild that finished, a pointer
collection (`<collection>-live`, one metadata write) is switched to the new generation and the old one is
deleted; a rebuild that raised is dropped, and one killed outright leaves an orphan the next rebuild deletes.
Readers look at the pointer every few seconds and at once when a call fails, so they follow a switch made by
another process instead of reporting the index as damaged.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

import numpy as np

from assistant.stores import (
    NOT_BUILT,
    REBUILD_HINT,
    EmbedderMismatch,
    IndexError_,
    SchemaMismatch,
    check_finds_itself,
)
from assistant.types import Chunk

# 2: chunks carry their document summary; 3: a wider HNSW search (repeatable results); 4: more links per node.
SCHEMA_VERSION = 4
READABLE_SCHEMAS = (3, SCHEMA_VERSION)  # a schema-3 index still answers questions; the next ingest rebuilds it
HNSW_EF_SEARCH = 400  # Chroma default 100 misses close neighbours, differently on each load of an index
# Links per node (Chroma's default is 16). With 16, a batch of 1,000 inserts left 2-6 of 1,200 passages with no
# link pointing at them: no query, not even the passage's own vector, can ever reach them (the rows are there, an
# exact search finds them). 32 still left 0-3; 48 left none in 28 builds, for ~15% more time per query.
HNSW_MAX_NEIGHBORS = 48
HNSW_CONFIGURATION = {
    "space": "cosine",
    "ef_search": HNSW_EF_SEARCH,
    "ef_construction": 200,
    "max_neighbors": HNSW_MAX_NEIGHBORS,
}
_BATCH = 2000
POINTER_SUFFIX = "-live"  # the collection whose metadata names the live generation
LIVE_CHECK_SECONDS = 2.0  # how stale a reader's idea of the live generation may get (a failed call checks at once)
T = TypeVar("T")


class ChromaStore:
    """A Chroma collection holding our chunks, tagged with the embedder that built it."""

    def __init__(self, collection: str, name: str) -> None:
        self.name = name
        self._base = collection
        self._client_obj: Any = None
        self._open: dict[str, Any] = {}  # collection name -> chromadb collection
        self._live: str | None = None
        self._live_checked = -float("inf")
        # .staged: the generation this thread is building, if any; .copy_first: this write session must not change
        # the live collection in place (another process reads it), so its first write copies it to a new generation.
        self._rebuild = threading.local()
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
        except IndexError_ as exc:
            if not (exc.__cause__ is not None and self._live_moved()):
                raise
        except Exception as exc:  # chromadb, httpx, sqlite and the OS all raise their own types
            self._open.clear()
            if not self._live_moved():
                raise self._failure(exc) from exc
        # Another process switched to a new generation (and deleted the one this call used): once more on it.
        try:
            return fn()
        except IndexError_:
            raise
        except Exception as exc:
            self._open.clear()
            raise self._failure(exc) from exc

    def _col(self) -> Any:
        name = self._target()
        if name not in self._open:
            try:
                self._open[name] = self._client.get_collection(name)
            except IndexError_:
                raise
            except Exception as exc:
                if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                    raise IndexError_(NOT_BUILT) from exc
                raise self._failure(exc) from exc
        return self._open[name]

    # --- generations ---------------------------------------------------------------------------
    @property
    def _staged(self) -> str | None:
        return getattr(self._rebuild, "staged", None)

    def _target(self) -> str:
        """The collection this thread reads and writes: its own rebuild's, else the live one."""
        return self._staged or self.live_collection()

    def live_collection(self) -> str:
        """The name of the collection that serves now (re-read from the pointer every LIVE_CHECK_SECONDS)."""
        if self._live is None or time.monotonic() - self._live_checked > LIVE_CHECK_SECONDS:
            self._follow(self._read_pointer())
        assert self._live is not None
        return self._live

    def live_handle(self) -> tuple[Any, str]:
        """(chromadb client, live collection name), for tools that read the index through Chroma's own API; the
        base name is only the first generation, so such tools must not open `settings.collection` directly."""
        return self._client, self.live_collection()

    def _follow(self, live: str) -> bool:
        """Take `live` as the live collection; True when that is a switch (readers must reload)."""
        moved = self._live is not None and live != self._live
        if moved:
            self.generation += 1
            self._open.pop(self._live or "", None)
        self._live, self._live_checked = live, time.monotonic()
        return moved

    def _live_moved(self) -> bool:
        if self._client_obj is None:
            return False  # never opened: nothing can have moved under this object
        try:
            return self._follow(self._read_pointer())
        except Exception:  # the store itself is failing; the caller reports the first error
            return False

    def _read_pointer(self) -> str:
        """The live generation's collection; an index built before generations is its base collection."""
        try:
            meta = self._client.get_collection(self._base + POINTER_SUFFIX).metadata or {}
        except IndexError_:
            raise
        except Exception:
            return self._base  # no pointer: no rebuild has switched generations yet
        return str(meta.get("live") or self._base)

    def _collection_names(self) -> list[str]:
        return [getattr(c, "name", c) for c in self._call(lambda: self._client.list_collections())]

    def _generations(self) -> list[str]:
        pattern = re.compile(re.escape(self._base) + r"(?:-g(\d+))?")
        return [n for n in self._collection_names() if pattern.fullmatch(n)]

    def _start_generation(self) -> None:
        """A new, empty collection for this thread's rebuild; orphans of killed rebuilds are deleted first."""
        live = self._read_pointer()
        self._follow(live)
        generations = self._generations()
        for orphan in generations:
            if orphan != live:
                self._drop(orphan)
        numbers = [int(n.rsplit("-g", 1)[1]) for n in [*generations, live] if n != self._base]
        self._rebuild.staged = f"{self._base}-g{max(numbers, default=0) + 1}"

    def _finish_generation(self, completed: bool) -> None:
        """Switch readers to the staged generation (completed) or throw it away (the rebuild failed)."""
        staged = self._staged
        if staged is None:
            return
        self._rebuild.staged = None
        self.generation += 1
        if not completed or staged not in self._collection_names():
            self._drop(staged)
            return
        old = self._read_pointer()
        self._call(
            lambda: self._client.get_or_create_collection(self._base + POINTER_SUFFIX, embedding_function=None).modify(
                metadata={"live": staged}
            )
        )
        self._follow(staged)
        if old != staged:
            self._drop(old)

    def _drop(self, name: str) -> None:
        self._open.pop(name, None)
        with contextlib.suppress(Exception):
            self._client.delete_collection(name)

    # --- the VectorStore surface ---------------------------------------------------------------
    def ensure_embedder(self, embedder_name: str, dim: int, create: bool = False) -> None:
        """Refuse to mix vectors of two embedders in one collection."""
        if create:
            name = self._target()
            self._open[name] = self._call(
                lambda: self._client.get_or_create_collection(
                    name,
                    embedding_function=None,  # Chroma's default would download an ONNX model
                    configuration={"hnsw": HNSW_CONFIGURATION},
                    metadata={"embedder": embedder_name, "dim": dim, "schema": SCHEMA_VERSION},
                )
            )
        meta = self._col().metadata or {}
        # A writer brings an older index up to date (the caller rebuilds on SchemaMismatch); a reader may use it.
        if meta.get("schema") != SCHEMA_VERSION and (create or meta.get("schema") not in READABLE_SCHEMAS):
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
        self._copy_before_writing()
        self.generation += 1
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            metadatas = [c.metadata() | e for c, e in zip(part, extra[start : start + _BATCH], strict=True)]
            self._call(partial(self._upsert_batch, part, vectors[start : start + _BATCH], metadatas))

    def _upsert_batch(self, part: Sequence[Chunk], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        self._col().upsert(
            ids=[c.id for c in part], embeddings=vectors, documents=[c.text for c in part], metadatas=metadatas
        )

    def delete(self, ids: Sequence[str]) -> None:
        self._copy_before_writing()
        self.generation += 1
        for start in range(0, len(ids), _BATCH):
            batch = list(ids[start : start + _BATCH])
            self._call(partial(self._delete_batch, batch))

    def _delete_batch(self, ids: list[str]) -> None:
        self._col().delete(ids=ids)

    def all_records(self, with_vectors: bool = False) -> tuple[list[Chunk], list[dict[str, Any]], np.ndarray | None]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        chunks: list[Chunk] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        total = self.count()
        for offset in range(0, total, _BATCH):
            got = self._call(partial(self._get_page, include, offset))
            for i, chunk_id in enumerate(got["ids"]):
                meta = got["metadatas"][i] or {}
                chunks.append(Chunk.from_metadata(chunk_id, got["documents"][i] or "", meta))
                metas.append(meta)
            if with_vectors:
                vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        matrix = np.concatenate(vectors) if with_vectors and vectors else None
        return chunks, metas, matrix

    def _get_page(self, include: list[str], offset: int) -> dict[str, Any]:
        return dict(self._col().get(include=include, limit=_BATCH, offset=offset))

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
        check_finds_itself(self, chunks, vectors)

    def count(self) -> int:
        return int(self._call(lambda: self._col().count()))

    def reset(self) -> None:
        """Start over in a new generation; the live index keeps serving until the rebuild completes."""
        self.generation += 1
        self._rebuild.copy_first = False  # an empty generation is staged: nothing to copy
        self._start_generation()

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time; a rebuild begun under the lock is switched to or dropped when it is released.
        While another process reads the index, the writes go to a copy of it, switched to the same way."""
        with self._exclusive():
            self._rebuild.copy_first = self._others_reading()
            try:
                yield
            except BaseException:
                self._finish_generation(completed=False)
                raise
            finally:
                self._rebuild.copy_first = False
            self._finish_generation(completed=True)

    def _others_reading(self) -> bool:
        """Whether another process has this index open and would not see writes made in place. Chroma's embedded
        index caches its vector graph per process, so such a reader met "Error finding id" after a plain `mentor
        ingest` beside `mentor serve`; a Chroma server serves every client the same data, so it never needs a copy."""
        return False

    def _copy_before_writing(self) -> None:
        """The first write of a session that must not change the live collection in place stages a new generation
        holding a copy of it (vectors, texts, metadata); this and the later writes go there."""
        if not getattr(self._rebuild, "copy_first", False) or self._staged is not None:
            return
        self._rebuild.copy_first = False
        live = self._col()
        self._start_generation()
        staged = self._target()
        copy = self._call(
            lambda: self._client.get_or_create_collection(
                staged,
                embedding_function=None,
                configuration={"hnsw": HNSW_CONFIGURATION},
                metadata=dict(live.metadata or {}),
            )
        )
        self._open[staged] = copy
        total = int(self._call(live.count))
        for offset in range(0, total, _BATCH):
            got = self._call(
                partial(live.get, include=["embeddings", "documents", "metadatas"], limit=_BATCH, offset=offset)
            )
            self._call(
                partial(
                    copy.add,
                    ids=got["ids"],
                    embeddings=got["embeddings"],
                    documents=got["documents"],
                    metadatas=got["metadatas"],
                )
            )

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        yield
