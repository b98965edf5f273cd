"""Embedding backends behind one Protocol; each backend is one module in this package."""

from __future__ import annotations

import sys
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.registry import Registry
from assistant.settings import Settings


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


EMBEDDERS: Registry[Embedder] = Registry("embedder", sys.modules[__name__])
_cache: dict[tuple[str, str], Embedder] = {}


def get_embedder(settings: Settings) -> Embedder:
    """The configured embedder, built once per process (loading weights is the slow part)."""
    key = (settings.embedder, settings.embedding_model)
    if key not in _cache:
        _cache[key] = EMBEDDERS.create(settings.embedder, settings)
    return _cache[key]


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
