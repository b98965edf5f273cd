"""An embedder from word hashing: no model file, so it builds in microseconds (for tests and tiny machines).

Each lower-cased word and word pair is hashed (blake2b, so the same text gives the same vector in every process)
into one of DIM buckets with a sign; the vector is L2-normalised, as the Embedder contract asks. Texts that share
words get a positive cosine; it knows nothing about meaning.
"""

from __future__ import annotations

import hashlib
import itertools
import re

import numpy as np

DIM = 512
_WORD = re.compile(r"[a-z0-9']+")


def _bucket(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIM, 1.0 if value >> 63 else -1.0


class HashingEmbedder:
    name = f"hashing-{DIM}"
    dim = DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for feature in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
                column, sign = _bucket(feature)
                out[row, column] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def create(settings: object) -> HashingEmbedder:
    del settings  # nothing to configure
    return HashingEmbedder()
