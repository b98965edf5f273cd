"""`make vectors`: build what ships in assistant/embedders/shipped/ (see assistant/embedders/precomputed.py).

It indexes the curated knowledge and builds the coach in a scratch directory with the default encoder, recording
every text encoded and the situation matcher's trained weights. A developer tool, run after editing knowledge/ or
the classifiers' examples; nothing in the package imports it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from assistant import embedders
from assistant.embedders.precomputed import EXAMPLES_SHARD, SHIPPED, PrecomputedVectors, write_table
from assistant.ingestion.ingestor import embedding_text
from assistant.practice.moves import classifier_for
from assistant.runtime import Runtime
from assistant.settings import Settings


class Recorder:
    """An embedder wrapper that keeps every text it encodes, with its vector, and which came in batches (examples
    are encoded in batches; a text encoded alone is a query unless it is a document's)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name: str = inner.name  # type: ignore[attr-defined]
        self.dim: int = inner.dim  # type: ignore[attr-defined]
        self.seen: dict[str, np.ndarray] = {}
        self.batched: set[str] = set()

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors: np.ndarray = self.inner.embed(texts)  # type: ignore[attr-defined]
        self.seen.update(zip(texts, vectors, strict=True))
        if len(texts) > 1:
            self.batched.update(texts)
        return vectors

    def __getattr__(self, name: str) -> object:  # token_states and the like, from the encoder itself
        return getattr(self.inner, name)


# The situation matcher's weights: training them is most of the coach's first start once the vectors are known.
SHIPPED_WEIGHTS = ("playbook-classifier-*.npz", "mentoring-gate-*.npz")

# Messages that make the lazily built classifiers (needs, safety, practice moves, quick answers) encode their
# examples, as a first chat turn and a first practice session would.
WARM_UP_QUESTIONS = [
    "How do I give my mentee feedback about missed deadlines?",
    "My mentee seems quiet in our one-on-ones. How do I build trust?",
]


def build(folder: Path = SHIPPED) -> list[Path]:
    """Index the curated knowledge and build the coach in a scratch directory with the default encoder, recording
    every text encoded in a batch and the matcher's trained weights; replace this folder's contents with them.
    A text the current table holds keeps its stored vector and a weights file whose name (a digest of its inputs)
    is already here is kept, so only what an edit changed is rewritten."""
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch), llm_backend="offline", precomputed_vectors=False)
        bare = embedders.EMBEDDERS.create(settings.embedder, settings)
        recorder = Recorder(embedders.RecentTextsCache(bare, PrecomputedVectors.load(bare.name, folder)))
        rt = Runtime(settings)
        rt.embedder = recorder
        rt.ingestor.run()
        assert rt.understanding.playbooks
        for question in WARM_UP_QUESTIONS:
            rt.coach.ask(question)
        classifier_for(rt.embedder)
        written = [write_table(bare.name, _by_document(rt, recorder), folder)]
        trained = [path for pattern in SHIPPED_WEIGHTS for path in (settings.data_dir / "cache").glob(pattern)]
        for stale in folder.glob("*.npz"):
            if stale.name not in {path.name for path in trained}:
                stale.unlink()
        for path in trained:
            if not (folder / path.name).exists():
                written.append(Path(shutil.copy2(path, folder / path.name)))
    return written


def _by_document(rt: Any, recorder: Recorder) -> dict[str, dict[str, np.ndarray]]:
    """The recorded vectors grouped by knowledge document (its chunks as indexed, its playbook phrasings); the
    rest of what came in batches (the classifiers' examples) in one shard of their own."""
    used = recorder.seen
    documents: dict[str, list[str]] = {}
    chunks, _, _ = rt.store.all_records()
    for chunk in chunks:
        documents.setdefault(Path(chunk.source).stem, []).append(embedding_text(chunk))
    for book in rt.understanding.playbooks.values():
        documents.setdefault(Path(book.source).stem, []).extend(book.matching_texts())
    shards: dict[str, dict[str, np.ndarray]] = {}
    placed: set[str] = set()
    for document, texts in sorted(documents.items()):
        for text in texts:
            if text in used and text not in placed:
                shards.setdefault(document, {})[text] = used[text]
                placed.add(text)
    shards[EXAMPLES_SHARD] = {t: v for t, v in used.items() if t in recorder.batched and t not in placed}
    return shards


if __name__ == "__main__":
    for path in build():
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}", file=sys.stderr)
