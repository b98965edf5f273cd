"""Hybrid retrieval: BM25 (bm25s) and dense (Chroma) fused by reciprocal rank, diversified by MMR."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import bm25s
import numpy as np
import Stemmer
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from threadpoolctl import threadpool_limits

from assistant.embedders import Embedder
from assistant.ingestion.ingestor import embedding_text
from assistant.stores import VectorStore
from assistant.types import Chunk, Hit

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import and logs every index build
RetrieverMode = Literal["hybrid", "bm25", "dense"]
RRF_K = 10  # default for other callers of reciprocal_rank_fusion


@dataclass(frozen=True)
class Fusion:
    """How the BM25 and dense rankings are fused: a small RRF k lets the top ranks of each list count more
    than Cormack et al.'s default of 60; the weights say how far each list is trusted."""

    rrf_k: int
    weights: tuple[float, float]  # (bm25, dense)


# Chosen per embedder on the dev half of evals/datasets/retrieval.jsonl (its `split` field; docs/evals.md),
# measured on the test half. Static word vectors are weaker than BM25 on our vocabulary, so their list weighs
# less; the sentence encoder's list is the better one and weighs more.
FUSION_BY_EMBEDDER = {
    "wordllama": Fusion(rrf_k=10, weights=(1.0, 0.6)),
    "minilm": Fusion(rrf_k=5, weights=(1.0, 1.25)),
}
SENTENCE_ENCODER_FUSION = FUSION_BY_EMBEDDER["minilm"]  # for other sentence encoders (OpenAI's), not tuned


_blas_pinned = False


def pin_blas_to_one_thread() -> None:
    """Run BLAS (numpy's matrix products) on one thread in this process, once.

    The retrieval path multiplies small matrices (a 30x30 MMR similarity, the exact re-ranking of Chroma's
    candidates), where OpenBLAS's second thread only adds hand-off cost and contends with the request
    threads; measured on 2 cores, two BLAS threads made hybrid p95 3-4x worse. The server already spreads
    its work over the cores with concurrent requests."""
    global _blas_pinned
    if not _blas_pinned:
        threadpool_limits(limits=1, user_api="blas")  # kept for the life of the process, not restored
        _blas_pinned = True


def fusion_for(embedder_name: str) -> Fusion:
    family = re.split(r"[:\-]", embedder_name, maxsplit=1)[0]
    return FUSION_BY_EMBEDDER.get(family, SENTENCE_ENCODER_FUSION)


CANDIDATES = 30
MMR_LAMBDA = 0.6
MAX_PER_SOURCE = 2
REFRESH_SECONDS = 1.0
DENSE_OVERFETCH = 3
RECENT_SEARCHES = 1024  # results kept per loaded index; the coach's own section queries recur on every turn

_STEMMER = Stemmer.Stemmer("english")
# Follow-ups that lean on the previous turn: "and what if she cries?", "how do I start?"
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|then|what if|what about|how about|ok|okay)\b"
    r"|\b(she|he|they|them|her|him|it|that|this|those)\b",
    re.IGNORECASE,
)


CONTEXT_ONLY_SECTIONS = ("in mentors' own words", "example", "checklist")


# Quick answers are looked up in the matched playbook, never matched on: their short decision questions
# ("Should I cancel?") share words with many situations and pulled other topics into the top five
# (retrieval hit@5 0.976 -> 0.929 when they were searched). A playbook's "In short" restates its steps and is
# likewise said from the matched playbook (searched, dev doc-level MRR 0.829 -> 0.826).
NOT_SEARCHED_SECTIONS = ("quick answers", "in short")


def _section(chunk: Chunk) -> str:
    return chunk.heading.rsplit(" > ", 1)[-1].strip().lower()


def is_context_only(chunk: Chunk) -> bool:
    return _section(chunk).startswith(CONTEXT_ONLY_SECTIONS)


def is_searched(chunk: Chunk) -> bool:
    return not _section(chunk).startswith(NOT_SEARCHED_SECTIONS)


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


class HybridRetriever:
    """Finds the guidance for a question; `mode` selects hybrid or one retriever alone (for baselines)."""

    def __init__(self, store: VectorStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self.fusion = fusion_for(embedder.name)
        pin_blas_to_one_thread()
        self._lock = threading.Lock()
        self._loaded_count = -1
        self._checked_at = -float("inf")
        self._loaded_generation = -1
        self._chunks: list[Chunk] = []
        self._vectors = np.zeros((0, 1), dtype=np.float32)
        self._row: dict[str, int] = {}
        self._searched = np.zeros(0, dtype=bool)
        self._bm25: bm25s.BM25 | None = None
        self._recent: OrderedDict[tuple[Any, ...], list[Hit]] = OrderedDict()
        self._recent_lock = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        """Reload the lexical index when the store changed (checked by chunk count, at most once a second:
        another process may have written to a shared Chroma server)."""
        now = time.monotonic()
        written_here = self.store.generation != self._loaded_generation
        if not force and not written_here and now - self._checked_at < REFRESH_SECONDS:
            return
        self._checked_at = now
        count = self.store.count()
        if count == self._loaded_count and not force and not written_here:
            return
        with self._lock:
            chunks, _, vectors = self.store.all_records(with_vectors=True)
            if vectors is not None:
                self.store.check_integrity(chunks, vectors)
            bm25 = bm25s.BM25()
            if chunks:
                bm25.index(tokenize([embedding_text(c) for c in chunks]), show_progress=False)
            self._chunks, self._bm25 = chunks, bm25
            self._vectors = vectors if vectors is not None else np.zeros((0, 1), dtype=np.float32)
            self._row = {c.id: i for i, c in enumerate(chunks)}
            self._topic_of = np.array([c.topic for c in chunks])
            self._searched = np.array([is_searched(c) for c in chunks], dtype=bool)
            self._recent = OrderedDict()  # results of the old index are stale
            self._loaded_count = count
            self._loaded_generation = self.store.generation

    @property
    def chunks(self) -> list[Chunk]:
        self.refresh()
        return self._chunks

    def coverage(self, query: str, hits: list[Hit], vector: np.ndarray | None = None) -> float:
        """Best cosine between the query and the hits, from the vectors already in memory: how well the
        knowledge covers the question. `vector` is the query's encoding when the caller has it."""
        if not hits:
            return 0.0
        self.refresh()
        found = [self._row.get(h.chunk.id) for h in hits]
        rows = [r for r in found if r is not None]
        qv = vector if vector is not None else self.embedder.embed([query])[0]
        if len(rows) != len(found):  # written by another process since the load
            vectors = self.embedder.embed([embedding_text(h.chunk) for h in hits])
        else:
            vectors = self._vectors[rows]
        return float(np.max(vectors @ qv))

    def document_chunks(self, source: str) -> list[Chunk]:
        """Every chunk of one document, in document order."""
        self.refresh()
        return [c for c in self._chunks if c.source == source]

    def expand(self, hits: list[Hit], limit: int) -> list[Hit]:
        """Swap chunks that only describe a situation (mentors' own words, examples, checklists) for the
        advice sections of the same document, so an answer has something to say, not just something matched."""
        out: list[Hit] = []
        seen: set[str] = set()
        for hit in hits:
            if not is_context_only(hit.chunk):
                candidates = [hit.chunk]
            else:
                candidates = [c for c in self.document_chunks(hit.chunk.source) if not is_context_only(c)]
            for chunk in candidates:
                if chunk.id not in seen and len(out) < limit:
                    seen.add(chunk.id)
                    out.append(Hit(chunk, hit.score))
        return out

    def bm25_search(self, query: str, n: int, topic: str | None = None) -> list[Hit]:
        self.refresh()
        if not self._chunks or self._bm25 is None:
            return []
        tokens = tokenize([query])
        if not tokens[0]:
            return []
        mask = (self._searched & (self._topic_of == topic) if topic else self._searched).astype(np.float32)
        ids, scores = self._bm25.retrieve(
            [tokens[0]], k=min(n, len(self._chunks)), show_progress=False, weight_mask=mask
        )
        return [Hit(self._chunks[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def dense_search(self, query: str, n: int, topic: str | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        qv = vector if vector is not None else self.embedder.embed([query])[0]
        self.refresh()
        # HNSW search is approximate and not repeatable across loads of one index: ask for a wider net,
        # then order the catch by exact cosine on the vectors in memory, so equal questions get equal answers.
        found = self.store.query_ids(qv, max(n * DENSE_OVERFETCH, 50), topic)
        if not all(cid in self._row for cid, _ in found):  # written by another process since the load
            return [Hit(c, s) for c, s in self.store.query(qv, n * DENSE_OVERFETCH, topic) if is_searched(c)][:n]
        rows = np.array([self._row[cid] for cid, _ in found if self._searched[self._row[cid]]], dtype=np.int64)
        exact = self._vectors[rows] @ qv if len(rows) else np.zeros(0)
        order = sorted(range(len(rows)), key=lambda i: (-float(exact[i]), int(rows[i])))[:n]
        return [Hit(self._chunks[int(rows[i])], float(exact[i])) for i in order]

    def search(
        self,
        query: str,
        k: int = 5,
        topic: str | None = None,
        mode: RetrieverMode = "hybrid",
        fresh: bool = False,
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The k best chunks; a search answered since the index was last loaded is answered from memory
        unless `fresh` (benchmarks time the search itself). `vector` is the query's encoding when the caller
        already has it (the message record)."""
        query = query.strip()
        if not query:
            return []
        self.refresh()
        recent, key = self._recent, (query, k, topic, mode)
        if not fresh and (found := recent.get(key)) is not None:
            return list(found)
        hits = self._search(query, k, topic, mode, vector)
        with self._recent_lock:
            recent[key] = hits
            while len(recent) > RECENT_SEARCHES:
                recent.popitem(last=False)
        return list(hits)

    def _search(
        self, query: str, k: int, topic: str | None, mode: RetrieverMode, vector: np.ndarray | None = None
    ) -> list[Hit]:
        if mode == "bm25":
            return self.bm25_search(query, k, topic)
        qv = vector if vector is not None else self.embedder.embed([query])[0]
        if mode == "dense":
            return self.dense_search(query, k, topic, qv)
        fused = reciprocal_rank_fusion(
            [self.bm25_search(query, CANDIDATES, topic), self.dense_search(query, CANDIDATES, topic, qv)],
            self.fusion.weights,
            self.fusion.rrf_k,
        )
        return self._mmr(qv, fused, k)

    def _mmr(self, qv: np.ndarray, fused: list[Hit], k: int) -> list[Hit]:
        """Maximal marginal relevance over the fused list, at most MAX_PER_SOURCE chunks per document."""
        if not fused:
            return []
        found = [self._row.get(h.chunk.id) for h in fused]
        rows = [r for r in found if r is not None]
        if len(rows) != len(fused):  # index changed under us; keep fusion order
            return fused[:k]
        vecs = self._vectors[rows]
        similarity = vecs @ vecs.T
        relevance = np.array([h.score for h in fused])
        relevance = relevance / relevance.max()
        redundancy = np.zeros(len(fused))  # each candidate's highest similarity to anything picked so far
        open_ = np.ones(len(fused), dtype=bool)
        picked: list[int] = []
        per_source: dict[str, int] = {}
        while len(picked) < k:
            score = np.where(open_, MMR_LAMBDA * relevance - (1 - MMR_LAMBDA) * redundancy, -np.inf)
            best = int(np.argmax(score))
            if not np.isfinite(score[best]):
                break
            source = fused[best].chunk.source
            picked.append(best)
            open_[best] = False
            redundancy = np.maximum(redundancy, similarity[best])
            per_source[source] = per_source.get(source, 0) + 1
            if per_source[source] >= MAX_PER_SOURCE:
                open_ &= np.array([h.chunk.source != source for h in fused])
        return [fused[i] for i in picked]


def reciprocal_rank_fusion(
    rankings: Sequence[list[Hit]], weights: Sequence[float] | None = None, rrf_k: int = RRF_K
) -> list[Hit]:
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, hit in enumerate(ranking):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + weight / (rrf_k + rank + 1)
            chunks[hit.chunk.id] = hit.chunk
    order = sorted(scores, key=lambda cid: scores[cid], reverse=True)
    return [Hit(chunks[cid], scores[cid]) for cid in order]


def rewrite_query(question: str, history: Sequence[str]) -> str:
    """Offline follow-up resolution: a short or pronoun-led question borrows the previous user turns."""
    if not history:
        return question
    words = re.findall(r"\w+", question)
    if len(words) > 14 and not _FOLLOW_UP.search(question[:40]):
        return question
    if len(words) > 8 and not _FOLLOW_UP.search(question):
        return question
    return " ".join([*history[-2:], question])


class MentorRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain retriever, so chains use it natively."""

    hybrid: Any
    k: int = 5
    topic: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [hit_to_document(h) for h in self.hybrid.search(query, self.k, self.topic)]


def hit_to_document(hit: Hit) -> LCDocument:
    c = hit.chunk
    meta = {
        "id": c.id,
        "title": c.title,
        "topic": c.topic,
        "source": c.source,
        "heading": c.heading,
        "score": hit.score,
    }
    return LCDocument(page_content=c.text, metadata=meta)
