"""Embedded Chroma (PersistentClient) under the data directory, one writer at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from filelock import FileLock, Timeout

from assistant.settings import Settings
from assistant.stores import STORES, IndexError_, IndexLocked
from assistant.stores._chroma import REBUILD_HINT, ChromaStore


class EmbeddedChromaStore(ChromaStore):
    def __init__(self, settings: Settings) -> None:
        import chromadb

        path = settings.chroma_dir
        path.mkdir(parents=True, exist_ok=True)
        self._lock_path = settings.data_dir / "chroma.write.lock"
        try:
            client = chromadb.PersistentClient(
                path=str(path), settings=chromadb.Settings(anonymized_telemetry=False, allow_reset=True)
            )
        except Exception as exc:
            raise IndexError_(
                f"The knowledge index at {path} is damaged or unreadable ({exc}). {REBUILD_HINT}"
            ) from exc
        super().__init__(client, settings.collection, f"embedded Chroma at {path}")

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        # Chroma's embedded mode is not safe for two writing processes on one directory.
        lock = FileLock(str(self._lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout as exc:
            raise IndexLocked(
                f"Another mentor process is writing the knowledge index ({self._lock_path}). "
                "Wait for it to finish; for several processes, run a Chroma server and set MENTOR_CHROMA_HOST."
            ) from exc
        try:
            yield
        finally:
            lock.release()


@STORES.register("chroma-embedded")
def create(settings: Settings) -> EmbeddedChromaStore:
    return EmbeddedChromaStore(settings)
