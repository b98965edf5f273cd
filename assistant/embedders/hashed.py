"""Feature hashing: vectors from the words themselves, with no model file, built in microseconds.

The fast test tier's embedder (`make test-fast`), and a stand-in on a machine that cannot load a model. Each
lower-cased word, each pair of neighbouring words and each three-letter piece of a word (so `mentor` and
`mentoring` share most of their features) is hashed into one of DIM buckets with a sign, and the row is
L2-normalised. blake2b, not Python's `hash`, so a text has the same vector in every process, as an index needs.
Texts that share words get a positive cosine; it knows nothing about meaning (`kind` and `gentle` are strangers).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from functools import lru_cache

import numpy as np

from assistant.embedders import EMBEDDERS, normalise
from assistant.settings import Settings

DIM = 384
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# A word counts for more than one of its pieces: on its own a long word would be mostly trigrams.
WORD_WEIGHT, PAIR_WEIGHT, PIECE_WEIGHT = 1.0, 0.7, 0.3
EMPTY = "<no words>"  # the one feature of a text with no words (no real feature has a space and brackets)


@lru_cache(maxsize=65536)
def bucket(feature: str) -> tuple[int, float]:
    """The column and sign of one feature (cached: the same words recur in every text)."""
    value = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return value % DIM, 1.0 if value >> 63 else -1.0


def features(text: str) -> list[tuple[str, float]]:
    words = _WORD.findall(text.lower())
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    pieces = [f"#{w[i : i + 3]}" for w in words if len(w) > 3 for i in range(len(w) - 2)]
    weighted = [(words, WORD_WEIGHT), (pairs, PAIR_WEIGHT), (pieces, PIECE_WEIGHT)]
    found = [(feature, weight) for group, weight in weighted for feature in group]
    return found or [(EMPTY, WORD_WEIGHT)]  # a text without words still gets a unit vector, as the contract asks


class HashedEmbedder:
    name = f"hashed-{DIM}"
    dim = DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in features(text):
                column, sign = bucket(feature)
                out[row, column] += sign * weight
        return normalise(out)


@EMBEDDERS.register("hashed")
def create(settings: Settings) -> HashedEmbedder:
    del settings  # nothing to configure
    return HashedEmbedder()
