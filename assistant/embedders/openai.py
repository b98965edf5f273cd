"""OpenAI (or compatible) embeddings through langchain-openai."""

from __future__ import annotations

import numpy as np

from assistant.embedders import EMBEDDERS, normalise
from assistant.settings import Settings


class OpenAIEmbedder:
    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.name = f"openai:{settings.embedding_model}"
        self.dim = 0  # known after the first call
        self._client = OpenAIEmbeddings(
            model=settings.embedding_model,
            **settings.openai_client_options(),
            check_embedding_ctx_length=False,  # avoids tiktoken model lookups that need the internet
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = normalise(np.asarray(self._client.embed_documents(texts), dtype=np.float32))
        self.dim = vectors.shape[1]
        return vectors


@EMBEDDERS.register("openai")
def create(settings: Settings) -> OpenAIEmbedder:
    return OpenAIEmbedder(settings)
