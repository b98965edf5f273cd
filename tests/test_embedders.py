"""The embedder every stage shares: the real WordLlama behind the memory of recent texts."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.embedders import Embedder, RecentTextsCache, get_embedder
from assistant.settings import Settings


class CallLog:
    """The real embedder, recording each batch it is asked for."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def wordllama() -> Embedder:
    shared = get_embedder(Settings(embedder="wordllama"))
    assert isinstance(shared, RecentTextsCache), "the configured embedder remembers recent texts"
    return shared.inner


def test_remembered_vectors_are_the_embedders_own(wordllama: Embedder) -> None:
    cache = RecentTextsCache(CallLog(wordllama))
    opening = "How do I open a hard conversation?"
    texts = [opening, "She went quiet in our one-on-one.", opening]
    first = cache.embed(texts)
    again = cache.embed(list(reversed(texts)))
    direct = wordllama.embed(texts)
    assert first.dtype == np.float32 and first.shape == (3, wordllama.dim)
    np.testing.assert_allclose(first, direct, atol=1e-6)
    np.testing.assert_allclose(again, direct[::-1], atol=1e-6)
    # The duplicate inside the first batch and the whole second batch cost no further embedding.
    assert cache.inner.batches == [texts[:2]]  # type: ignore[attr-defined]


def test_callers_cannot_change_what_is_remembered(wordllama: Embedder) -> None:
    cache = RecentTextsCache(wordllama)
    vector = cache.embed(["Set one goal for the quarter."])
    vector *= 0
    assert np.linalg.norm(cache.embed(["Set one goal for the quarter."])[0]) == pytest.approx(1.0, abs=1e-5)


def test_memory_is_bounded_and_keeps_the_most_recent(wordllama: Embedder) -> None:
    log = CallLog(wordllama)
    cache = RecentTextsCache(log)
    cache.MAX_ENTRIES = 2
    for text in ("one", "two", "one", "three"):  # "one" was used again, so "two" is the oldest
        cache.embed([text])
    log.batches.clear()
    cache.embed(["one", "three"])
    cache.embed(["two"])
    assert log.batches == [["two"]]


def test_ingestion_batches_and_long_texts_pass_straight_through(wordllama: Embedder) -> None:
    log = CallLog(wordllama)
    cache = RecentTextsCache(log)
    batch = [f"Chunk number {i} about feedback." for i in range(RecentTextsCache.MAX_BATCH + 1)]
    long_text = "listen " * (RecentTextsCache.MAX_CHARS // 7 + 10)
    cache.embed(batch)
    cache.embed([long_text])
    cache.embed([batch[0], long_text])
    assert log.batches == [batch, [long_text], [batch[0], long_text]], "nothing of these was kept"
    assert cache.embed([]).shape == (0, wordllama.dim)
