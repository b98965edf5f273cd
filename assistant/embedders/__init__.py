"""Embedding backends behind one Protocol; each backend is one module in this package."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from assistant.errors import SetupError
from assistant.registry import Registry
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.embedders.precomputed import PrecomputedVectors


class EmbedderError(SetupError):
    """An embedder that cannot run as installed (a missing package, a file that fails its hash check);
    the message says what to install."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors. An embedder is one module in this package with
    `@EMBEDDERS.register(name) def create(settings)`, or an entry point in the group `mentor_assistant.embedders`
    of an installed package. `name` is stored with the index, so vectors of two embedders are never mixed."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


@runtime_checkable
class TokenStates(Protocol):
    """An encoder that can hand out its word-piece vectors with their character spans (minilm), so a caller can
    pool a sentence in the context of its message from one pass (assistant/safety/encoding.py)."""

    def token_states(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]: ...


EMBEDDERS: Registry[Embedder] = Registry(
    "embedder", sys.modules[__name__], entry_point_group="mentor_assistant.embedders", setting="MENTOR_EMBEDDER"
)
_models: dict[tuple[str, str], Embedder] = {}
_cache: dict[tuple[str, str, bool], Embedder] = {}


def get_embedder(settings: Settings) -> Embedder:
    """The configured embedder, built once per process (loading weights is the slow part), with the vectors
    shipped for the curated knowledge unless `settings.precomputed_vectors` is off. With and without them it
    is the same loaded model."""
    model = (settings.embedder, settings.embedding_model)
    key = (*model, settings.precomputed_vectors)
    if key not in _cache:
        from assistant.embedders.precomputed import PrecomputedVectors

        if model not in _models:
            _models[model] = EMBEDDERS.create(settings.embedder, settings)
        inner = _models[model]
        known = PrecomputedVectors.load(inner.name) if settings.precomputed_vectors else None
        _cache[key] = RecentTextsCache(inner, known)
    return _cache[key]


class RecentTextsCache:
    """Remembers the vectors of recent short texts. One coach turn embeds its question for the safety check,
    the search, the coverage check and the answer's ranking, and the coach's own section queries recur on
    every turn; each is embedded once. Large batches (ingestion) are not remembered, but any text found in the
    `known` table (vectors shipped for the curated knowledge) is taken from there instead of being encoded."""

    MAX_ENTRIES = 4096
    MAX_CHARS = 2000
    MAX_BATCH = 64

    def __init__(self, inner: Embedder, known: PrecomputedVectors | None = None) -> None:
        self.inner = inner
        self.known = known
        self.name = inner.name
        self.dim = inner.dim
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.inner.embed(texts)
        if len(texts) > self.MAX_BATCH:
            return self._from_known(texts)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = self._from_known(missing)
            known.update(zip(missing, fresh, strict=True))
            self._remember([(t, v) for t, v in zip(missing, fresh, strict=True) if len(t) <= self.MAX_CHARS])
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)

    def _from_known(self, texts: list[str]) -> np.ndarray:
        """The texts' vectors: from the shipped table where it has them, the rest encoded in one call."""
        found = self.known.find(texts) if self.known else {}
        if not found:
            return self.inner.embed(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, vector in found.items():
            out[row] = vector
        rest = [i for i in range(len(texts)) if i not in found]
        if rest:
            out[rest] = self.inner.embed([texts[i] for i in rest])
        return out

    def remember(self, text: str, vector: np.ndarray) -> None:
        """Keep a vector computed elsewhere for `text` (it must be what `embed([text])` returns), so the next
        `embed` of that text is served from here."""
        if len(text) <= self.MAX_CHARS:
            self._remember([(text, vector)])

    def _remember(self, pairs: list[tuple[str, np.ndarray]]) -> None:
        with self._lock:
            for text, vector in pairs:
                vector = vector.copy()
                vector.flags.writeable = False
                self._vectors[text] = vector
            while len(self._vectors) > self.MAX_ENTRIES:
                self._vectors.popitem(last=False)


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
