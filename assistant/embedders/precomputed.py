"""Vectors and trained weights shipped with the package, so a fresh install does not encode what never changes.

Encoding the curated knowledge, every playbook phrasing and the classifiers' examples with MiniLM takes minutes on
two cores, and it is the same work on every machine: the texts ship with the package and the encoder is pinned by
hash. `make vectors` (`python -m assistant.embedders.precomputed`) does that work once and writes the results to
`shipped/`:

- `vectors-<embedder>/<document>.npy`: one row per text, looked up by the sha256 of the text. A text that is not in
  the table (the user's own documents, an edited playbook) is encoded as usual: a stale table costs time, never
  answers.
- the situation matcher's trained weights, which the coach otherwise caches under its data directory
  (`playbook-classifier-*.npz`, `mentoring-gate-*.npz`). Their names are digests of the texts and the encoder they
  were trained from, so a copy here is used only for exactly those inputs.

The vectors are the encoder's own output, kept in float32, so what a lookup returns is what encoding the text returns
(up to the last bits, which differ between CPUs anyway).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

SHIPPED = Path(__file__).resolve().parent / "shipped"
KEY_BYTES = 16  # of the sha256: collisions among a few thousand texts are out of reach
EXAMPLES_SHARD = "_examples"  # texts that belong to no knowledge document (the classifiers' examples)


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES]


def table_folder(embedder_name: str, folder: Path = SHIPPED) -> Path:
    slug = hashlib.sha256(embedder_name.encode("utf-8")).hexdigest()[:12]
    return folder / f"vectors-{slug}"


def shipped_file(name: str) -> Path | None:
    """A shipped copy of a cached artifact (by its digest-bearing name), if there is one."""
    path = SHIPPED / name
    return path if path.is_file() else None


def _row_type(dim: int) -> np.dtype:
    # Keys as raw bytes: an "S" string field would drop a key's trailing zero bytes on reading.
    return np.dtype([("key", "u1", (KEY_BYTES,)), ("vector", "<f4", (dim,))])


class PrecomputedVectors:
    """A read-only table of vectors by text, for one embedder: one file per knowledge document (its chunks and
    playbook phrasings) and one for the classifiers' examples, so editing a document rewrites only its file."""

    def __init__(self, embedder_name: str, rows: np.ndarray) -> None:
        self.embedder_name = embedder_name
        self._vectors = np.ascontiguousarray(rows["vector"], dtype=np.float32)
        self._vectors.flags.writeable = False
        self._rows = {key.tobytes(): row for row, key in enumerate(rows["key"])}

    def __len__(self) -> int:
        return len(self._rows)

    @classmethod
    def load(cls, embedder_name: str, folder: Path = SHIPPED) -> PrecomputedVectors | None:
        """The table for this embedder, or None when none ships (another encoder, or a damaged file)."""
        shards = sorted(table_folder(embedder_name, folder).glob("*.npy"))
        if not shards:
            return None
        try:
            return cls(embedder_name, np.concatenate([np.load(path, allow_pickle=False) for path in shards]))
        except (OSError, ValueError):
            return None  # unreadable: everything is encoded afresh, as without the table

    def find(self, texts: list[str]) -> dict[int, np.ndarray]:
        """The vectors the table holds, by position in `texts`."""
        found: dict[int, np.ndarray] = {}
        for i, text in enumerate(texts):
            row = self._rows.get(text_key(text))
            if row is not None:
                found[i] = self._vectors[row]
        return found


def write_table(embedder_name: str, shards: dict[str, dict[str, np.ndarray]], folder: Path = SHIPPED) -> Path:
    """Write one file per shard (texts sorted by key, so the same texts and vectors give the same bytes) and
    remove the files of shards that are gone."""
    target = table_folder(embedder_name, folder)
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.npy"):
        if stale.stem not in shards:
            stale.unlink()
    for shard, vectors_by_text in shards.items():
        keyed = sorted((text_key(t), v) for t, v in vectors_by_text.items())
        rows = np.empty(len(keyed), dtype=_row_type(len(keyed[0][1]) if keyed else 0))
        for row, (key, vector) in enumerate(keyed):
            rows[row] = (np.frombuffer(key, dtype=np.uint8), vector)
        path = target / f"{shard}.npy"
        if not path.exists() or path.read_bytes() != _npy_bytes(rows):
            np.save(path, rows, allow_pickle=False)
    return target


def _npy_bytes(rows: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, rows, allow_pickle=False)
    return buffer.getvalue()


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
    from assistant import embedders
    from assistant.practice.moves import classifier_for
    from assistant.runtime import Runtime
    from assistant.settings import Settings

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
    from assistant.knowledge import embedding_text

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
