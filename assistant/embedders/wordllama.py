"""The offline default: WordLlama's static embeddings, whose weights ship inside the wheel."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.embedders import EMBEDDERS, normalise
from assistant.settings import Settings


class WordLlamaEmbedder:
    name = "wordllama-256"
    dim = 256

    def __init__(self) -> None:
        import wordllama
        from wordllama import WordLlama

        # load() looks for the tokenizer in the wrong folder and then downloads; point it at the wheel.
        package_dir = Path(wordllama.__file__).parent
        self._model = WordLlama.load(cache_dir=package_dir, disable_download=True, dim=self.dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(np.asarray(self._model.embed(texts), dtype=np.float32))


@EMBEDDERS.register("wordllama")
def create(settings: Settings) -> WordLlamaEmbedder:
    return WordLlamaEmbedder()
