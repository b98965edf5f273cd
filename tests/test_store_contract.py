"""The VectorStore contract, one set of tests for every registered store: the in-memory store (the fast tier's),
embedded Chroma and a real Chroma server on loopback. A new store passes these by adding its name to STORES."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from chroma_server import ChromaServer
from conftest import free_port, make_settings

from assistant.settings import Settings
from assistant.stores import STORES, EmbedderMismatch, IndexError_, VectorStore, open_store, write_lock
from assistant.types import Chunk

DIM = 16
TOPICS = ("trust", "feedback")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path_factory.mktemp("contract-chroma") / "db", free_port())
    srv.start()
    yield srv
    srv.stop()


STORE_NAMES = [
    "memory",
    pytest.param("chroma-embedded", marks=pytest.mark.real_backend),
    pytest.param("chroma-http", marks=[pytest.mark.real_backend, pytest.mark.server]),
]


@pytest.fixture(params=STORE_NAMES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    name = request.param
    overrides: dict[str, object] = {"vector_store": name}
    if name == "chroma-http":
        server: ChromaServer = request.getfixturevalue("chroma_server")
        # One server for the module: each test its own collection, so none sees another's writes.
        overrides |= {"chroma_host": server.host, "chroma_port": server.port, "collection": f"c{free_port()}"}
    return make_settings(tmp_path / "data", **overrides)


@pytest.fixture
def store(settings: Settings) -> VectorStore:
    return open_store(settings)


def corpus(n: int, seed: int = 3) -> tuple[list[Chunk], np.ndarray]:
    """n chunks with random unit vectors (nearly orthogonal in DIM dimensions, so each is its own nearest)."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [
        Chunk(
            id=f"doc-{i}#{i}",
            text=f"passage number {i}",
            title=f"Doc {i}",
            topic=TOPICS[i % 2],
            source=f"knowledge/doc-{i}.md",
            heading=f"Doc {i} > Part",
            tags=("a", "b") if i % 3 == 0 else (),
            step=i % 4 or None,
            summary=f"summary {i}",
        )
        for i in range(n)
    ]
    return chunks, vectors


def built(store: VectorStore, n: int = 12) -> tuple[list[Chunk], np.ndarray]:
    chunks, vectors = corpus(n)
    with write_lock(store):
        store.ensure_embedder("test-embedder", DIM, create=True)
        store.upsert(chunks, vectors, [{"owner": f"u{i}"} for i in range(n)])
    return chunks, vectors


def test_the_setting_picks_the_store(settings: Settings, store: VectorStore) -> None:
    assert settings.store_name in STORES.names()
    assert isinstance(store.name, str) and store.name


def test_an_index_never_built_says_how_to_build_it(store: VectorStore) -> None:
    assert store.built_with() is None
    for read in (store.count, store.all_records, lambda: store.ensure_embedder("test-embedder", DIM)):
        with pytest.raises(IndexError_, match="mentor ingest"):
            read()


def test_records_come_back_as_written(store: VectorStore) -> None:
    chunks, vectors = built(store)
    assert store.count() == len(chunks) and store.built_with() == "test-embedder"
    got, metas, stored = store.all_records(with_vectors=True)
    by_id = {c.id: (c, m, v) for c, m, v in zip(got, metas, stored if stored is not None else [], strict=True)}
    assert set(by_id) == {c.id for c in chunks}
    for i, chunk in enumerate(chunks):
        back, meta, vector = by_id[chunk.id]
        assert back == chunk, "every field survives the store's flat metadata"
        assert meta["owner"] == f"u{i}", "the caller's extra metadata is kept beside the chunk's"
        assert np.allclose(vector, vectors[i], atol=1e-6)
    assert store.all_records()[2] is None, "vectors only when asked for"


def test_a_search_finds_a_stored_vector_first_and_ranks_by_similarity(store: VectorStore) -> None:
    chunks, vectors = built(store)
    for i in (0, 5, 11):
        found = store.query(vectors[i], 4)
        assert found[0][0] == chunks[i] and found[0][1] == pytest.approx(1.0, abs=1e-4)
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True) and len(found) == 4
        assert store.query_ids(vectors[i], 4) == [(c.id, pytest.approx(s, abs=1e-5)) for c, s in found]


def test_a_topic_filter_returns_only_that_topic(store: VectorStore) -> None:
    chunks, vectors = built(store)
    found = store.query(vectors[1], 20, topic="trust")
    assert {c.topic for c, _ in found} == {"trust"}
    assert len(found) == sum(c.topic == "trust" for c in chunks), "fewer than k when fewer match: not an error"
    assert chunks[1].id not in [c.id for c, _ in found], "chunk 1 is about feedback"


def test_upsert_replaces_by_id_and_delete_removes(store: VectorStore) -> None:
    chunks, vectors = built(store)
    before = store.generation
    changed = replace(chunks[2], text="rewritten passage")
    with write_lock(store):
        store.upsert([changed], vectors[3:4], [{}])
        store.delete([chunks[0].id, "no-such-id"])
    assert store.generation > before, "writes are visible to in-process readers through the generation"
    assert store.count() == len(chunks) - 1
    texts = {c.id: c.text for c in store.all_records()[0]}
    assert chunks[0].id not in texts and texts[changed.id] == "rewritten passage"
    assert {cid for cid, _ in store.query_ids(vectors[3], 2)} == {chunks[2].id, chunks[3].id}


def test_vectors_of_another_embedder_are_refused(store: VectorStore) -> None:
    built(store)
    for name, dim in (("other-embedder", DIM), ("test-embedder", DIM * 2)):
        with pytest.raises(EmbedderMismatch, match="cannot be mixed"):
            store.ensure_embedder(name, dim)
        with pytest.raises(EmbedderMismatch):
            store.ensure_embedder(name, dim, create=True)
    store.ensure_embedder("test-embedder", DIM)


def test_a_rebuild_replaces_the_index(store: VectorStore, settings: Settings) -> None:
    built(store)
    fresh, vectors = corpus(5, seed=9)
    fresh = [replace(c, id=f"new-{i}") for i, c in enumerate(fresh)]
    with write_lock(store):
        store.reset()
        store.ensure_embedder("another-embedder", DIM, create=True)
        store.upsert(fresh, vectors, [{}] * len(fresh))
    assert store.built_with() == "another-embedder" and store.count() == 5
    assert store.query(vectors[4], 1)[0][0].id == "new-4"
    reopened = open_store(settings)
    assert reopened.count() == 5, "another store opened on the same settings sees the rebuilt index"


def test_integrity_check_passes_on_stored_vectors_and_fails_on_others(store: VectorStore) -> None:
    chunks, vectors = built(store, n=30)
    store.check_integrity(chunks, vectors)
    strangers = corpus(30, seed=77)[1]
    with pytest.raises(IndexError_, match="damaged"):
        store.check_integrity(chunks, strangers)
