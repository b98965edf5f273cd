"""LangChain's own retrievers as peers, built the way its documentation builds them.

- `BM25Retriever` (langchain-community, scores with rank_bm25) over the texts our BM25 indexes.
- `EnsembleRetriever` (LangChain's hybrid: weighted reciprocal rank fusion) over that BM25Retriever and a
  Chroma vector-store retriever (langchain-chroma) reading the very collection our dense search reads, with
  our embedder behind LangChain's `Embeddings` interface and the same k. Left at LangChain's defaults (equal
  weights, c=60) unless a caller passes other fusion constants.

Both need the test extras (langchain-community, langchain-classic); without them the peers are left out
and the report says so.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Iterator
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from assistant.embedders import Embedder
from assistant.ingestion.ingestor import embedding_text
from assistant.types import Chunk


def langchain_peers_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("langchain_community", "langchain_classic"))


@contextlib.contextmanager
def warnings_quiet() -> Iterator[None]:
    with warnings.catch_warnings():  # langchain-community warns on import that it is being sunset
        warnings.simplefilter("ignore")
        yield


class EmbedderAsLangChain(Embeddings):
    """Our embedder behind LangChain's interface, so both hybrids encode queries with the same model."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self.embedder.embed(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed([text])[0]]


def as_documents(chunks: list[Chunk]) -> list[Document]:
    """What our BM25 indexes (heading path, summary, tags and text), with the chunk id and source."""
    return [Document(page_content=embedding_text(c), metadata={"id": c.id, "source": c.source}) for c in chunks]


def bm25_retriever(chunks: list[Chunk], k: int) -> Any:
    with warnings_quiet():
        from langchain_community.retrievers import BM25Retriever

        return BM25Retriever.from_documents(as_documents(chunks), k=k)


def chroma_retriever(client: Any, collection: str, embedder: Embedder, k: int) -> Any:
    """A Chroma vector-store retriever over an existing collection; each document carries its id in the
    metadata, where EnsembleRetriever looks for it (`id_key`), so one chunk found by both lists is one."""
    from langchain_chroma import Chroma
    from langchain_core.runnables import RunnableLambda

    store = Chroma(client=client, collection_name=collection, embedding_function=EmbedderAsLangChain(embedder))

    def with_ids(documents: list[Document]) -> list[Document]:
        return [Document(d.page_content, metadata={**d.metadata, "id": d.id}, id=d.id) for d in documents]

    return store.as_retriever(search_kwargs={"k": k}) | RunnableLambda(with_ids)


def ensemble_retriever(bm25: Any, dense: Any, weights: tuple[float, float] | None = None, c: int | None = None) -> Any:
    with warnings_quiet():
        from langchain_classic.retrievers import EnsembleRetriever

        options: dict[str, Any] = {"id_key": "id"}
        if weights is not None:
            options["weights"] = list(weights)
        if c is not None:
            options["c"] = c
        return EnsembleRetriever(retrievers=[bm25, dense], **options)


def sources(documents: list[Document], k: int) -> list[str]:
    """The sources of the first k documents a LangChain retriever returned."""
    return [str(d.metadata.get("source", "")) for d in documents[:k]]
