"""Vectors and trained weights shipped with the package, so a fresh install does not encode what never changes.

Encoding the curated knowledge, every playbook phrasing and the classifiers' examples with MiniLM takes minutes on
two cores, and it is the same work on every machine: the texts ship with the package and the encoder is pinned by
hash. `make vectors` (`python -m assistant.precompute`) does that work once and writes the results to `shipped/`:

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
from pathlib import Path

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
        path, data = target / f"{shard}.npy", _npy_bytes(rows)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    return target


def _npy_bytes(rows: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, rows, allow_pickle=False)
    return buffer.getvalue()
