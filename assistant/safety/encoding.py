"""Vectors for a message and its segments (sentences, clauses) from one pass of the sentence encoder.

Encoding every sentence again after the whole message doubled the encoder's work per turn. A transformer already
computes a vector per word piece for the whole message; the average over the pieces of one sentence (with the
message's start and end markers, as the encoder's own pooling counts them) is that sentence's vector, read in the
context of the message. The whole message's vector is the average over every piece, which is exactly what the
encoder returns for it, so it is handed to the encoder's cache of recent texts and the search that follows reuses
it instead of encoding the question a second time.

The classifier is trained on vectors made the same way (train.py), so training and routing see the same features.
Encoders that do not expose their word-piece vectors (an API, WordLlama) get each segment encoded on its own.
"""

from __future__ import annotations

import numpy as np

from assistant.embedders import Embedder, RecentTextsCache, TokenStates


class SegmentEncoder:
    """`vectors(text, parts)`: one row per part (each part a piece of `text`), from a single encoder pass."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        bare = getattr(embedder, "inner", embedder)  # a wrapper (the cache of recent texts) names what it wraps
        # The MiniLM encoder hands out its word-piece vectors; any other encoder falls back to one call per part.
        self._states: TokenStates | None = bare if isinstance(bare, TokenStates) else None
        self.single_pass = self._states is not None

    def vectors(self, text: str, parts: list[str]) -> np.ndarray:
        if not parts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        if self._states is None:
            return self.embedder.embed(parts)
        states, offsets = self._states.token_states(text)
        out = np.empty((len(parts), states.shape[1]), dtype=np.float32)
        missing: list[int] = []
        cursor = 0
        for row, part in enumerate(parts):
            start = text.find(part, cursor if part != text else 0)
            if start < 0:
                start = text.find(part)
            pieces = _pieces(offsets, start, start + len(part)) if start >= 0 else []
            if not pieces:  # beyond the encoder's length limit, or not found in the text: encoded on its own
                missing.append(row)
                continue
            if part != text:
                cursor = start
            out[row] = _unit(states[pieces].mean(axis=0))
        if missing:
            out[missing] = self.embedder.embed([parts[i] for i in missing])
        self._share_whole(text, parts, out)
        return out

    def _share_whole(self, text: str, parts: list[str], out: np.ndarray) -> None:
        """Leave the whole message's vector in the encoder's cache of recent texts (the search embeds it next)."""
        if isinstance(self.embedder, RecentTextsCache) and text in parts:
            self.embedder.remember(text, out[parts.index(text)])


def _pieces(offsets: list[tuple[int, int]], start: int, end: int) -> list[int]:
    """Indexes of the word pieces inside [start, end), plus the start and end markers when the part has any."""
    inside = [i for i, (a, b) in enumerate(offsets) if b > a and a >= start and b <= end]
    if not inside:
        return []
    return [0, *inside, len(offsets) - 1]


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)
