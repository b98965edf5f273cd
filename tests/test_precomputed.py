"""The vectors and matcher weights shipped with the package: current for the curated knowledge, equal to what the
encoder computes, and used only for exactly the texts they were made from."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from conftest import make_settings

from assistant.embedders import EMBEDDERS, RecentTextsCache, get_embedder
from assistant.embedders.precomputed import PrecomputedVectors, table_folder, write_table
from assistant.ingestion.ingestor import embedding_text
from assistant.runtime import Runtime

REFRESH = "the shipped vectors are out of date: run `make vectors` and commit assistant/embedders/shipped/"


def curated_texts(rt: Runtime) -> list[str]:
    chunks, _, _ = rt.store.all_records()
    phrasings = [t for book in rt.understanding.playbooks.values() for t in book.matching_texts()]
    return [embedding_text(c) for c in chunks] + phrasings


def test_the_shipped_table_holds_every_curated_chunk_and_phrasing(rt: Runtime) -> None:
    table = PrecomputedVectors.load(rt.embedder.name)
    assert table is not None, REFRESH
    texts = curated_texts(rt)
    found = table.find(texts)
    missing = [t[:80] for i, t in enumerate(texts) if i not in found]
    assert not missing, f"{REFRESH} ({len(missing)} texts missing, e.g. {missing[:3]})"


def test_the_matcher_starts_from_the_shipped_weights(built_dir: Path) -> None:
    # The matcher writes weights into the data directory only when it had to train them itself.
    trained_here = sorted(p.name for p in (built_dir / "cache").glob("*.npz") if not p.name.startswith("playbook-ph"))
    assert not [n for n in trained_here if n.startswith(("playbook-classifier-", "mentoring-gate-"))], (
        f"{REFRESH} (trained at start: {trained_here})"
    )


def test_a_shipped_vector_is_what_the_encoder_computes(rt: Runtime, tmp_path: Path) -> None:
    texts = random.Random(7).sample(curated_texts(rt), 12)
    table = PrecomputedVectors.load(rt.embedder.name)
    assert table is not None
    stored = table.find(texts)
    encoder = EMBEDDERS.create("minilm", make_settings(tmp_path))
    fresh = encoder.embed(texts)
    cosines = [float(stored[i] @ fresh[i]) for i in range(len(texts))]
    assert min(cosines) > 0.9999, cosines


def hashed_with_table(tmp_path: Path, known: dict[str, np.ndarray]) -> tuple[RecentTextsCache, object]:
    inner = EMBEDDERS.create("hashed", make_settings(tmp_path))
    write_table(inner.name, {"a-document": known}, tmp_path / "shipped")
    table = PrecomputedVectors.load(inner.name, tmp_path / "shipped")
    assert table is not None and len(table) == len(known)
    return RecentTextsCache(inner, table), inner


@pytest.mark.parametrize("batch", [2, RecentTextsCache.MAX_BATCH + 5])
def test_known_texts_come_from_the_table_and_the_rest_are_encoded(tmp_path: Path, batch: int) -> None:
    marker = np.zeros(384, dtype=np.float32)
    marker[0] = 1.0  # no hashed text encodes to exactly this
    cache, inner = hashed_with_table(tmp_path, {"a playbook phrasing": marker})
    others = [f"a message of the user's own {i}" for i in range(batch - 1)]
    texts = [*others[: batch // 2], "a playbook phrasing", *others[batch // 2 :]]
    vectors = cache.embed(texts)
    position = texts.index("a playbook phrasing")
    assert np.array_equal(vectors[position], marker)
    rest = [i for i in range(len(texts)) if i != position]
    assert np.allclose(vectors[rest], inner.embed(others))  # type: ignore[attr-defined]


def test_a_written_table_is_stable_and_drops_removed_documents(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    shards = {doc: {f"{doc} text {i}": rng.standard_normal(8).astype(np.float32) for i in range(3)} for doc in "ab"}
    folder = write_table("some-encoder", shards, tmp_path)
    first = {p.name: p.read_bytes() for p in folder.glob("*.npy")}
    write_table("some-encoder", shards, tmp_path)
    assert {p.name: p.read_bytes() for p in folder.glob("*.npy")} == first, "rewriting the same table changes bytes"
    write_table("some-encoder", {"a": shards["a"]}, tmp_path)
    assert sorted(p.name for p in folder.glob("*.npy")) == ["a.npy"]
    table = PrecomputedVectors.load("some-encoder", tmp_path)
    assert table is not None and len(table) == 3 and not table.find(["b text 0"])
    assert PrecomputedVectors.load("another-encoder", tmp_path) is None
    assert table_folder("some-encoder", tmp_path) != table_folder("another-encoder", tmp_path)


def test_the_table_can_be_turned_off(tmp_path: Path) -> None:
    with_table = get_embedder(make_settings(tmp_path))
    without = get_embedder(make_settings(tmp_path, precomputed_vectors=False))
    assert isinstance(with_table, RecentTextsCache) and with_table.known is not None
    assert isinstance(without, RecentTextsCache) and without.known is None
