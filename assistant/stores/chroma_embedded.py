"""Embedded Chroma (PersistentClient) under the data directory, one writer at a time."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.settings import Settings
from assistant.stores import REBUILD_HINT, STORES, IndexError_, IndexLocked, StoreUnavailable
from assistant.stores._chroma import ChromaStore

MIN_FREE_BYTES = 50 * 1024 * 1024  # below this, writing an index risks a half-written segment
_READ_ONLY = ("readonly", "read-only", "read only", "permission denied")
_DISK_FULL = ("no space left", "disk is full", "database or disk is full", "disk full")
# Processes that have an index open hold a shared POSIX lock on its readers file for as long as they run. POSIX
# locks belong to the process (a process never conflicts with itself), so a writer can ask "does any *other*
# process read this index?" by trying to take the lock exclusively without waiting.
_READERS: dict[Path, int] = {}  # readers file -> the descriptor this process holds its shared lock on
_READERS_GUARD = threading.Lock()


def register_reader(lock_path: Path) -> None:
    """Mark this process as a reader of the index beside `lock_path`, until it exits."""
    with _READERS_GUARD:
        if lock_path in _READERS:
            return
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return  # a read-only data directory: nobody can write there, so nobody needs to know
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH)  # waits only for a writer's instant check
        except OSError:
            os.close(fd)
            return
        _READERS[lock_path] = fd


def others_reading(lock_path: Path) -> bool:
    """True when another process holds the index open (its shared lock keeps ours from being exclusive)."""
    with _READERS_GUARD:
        own = _READERS.get(lock_path)
        fd = own if own is not None else os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                return True
            if own is not None:
                fcntl.lockf(fd, fcntl.LOCK_SH)  # back to a plain reader (the conversion is atomic)
            return False
        finally:
            if own is None:
                os.close(fd)  # releases the lock just taken (this process held no other on the file)


class EmbeddedChromaStore(ChromaStore):
    def __init__(self, settings: Settings) -> None:
        self.path = settings.chroma_dir
        self._lock_path = settings.data_dir / "chroma.write.lock"
        self._readers_path = settings.data_dir / "chroma.readers.lock"
        super().__init__(settings.collection, f"embedded Chroma at {self.path}")

    def _open_client(self) -> Any:
        import chromadb

        self.path.mkdir(parents=True, exist_ok=True)
        register_reader(self._readers_path)
        return chromadb.PersistentClient(
            path=str(self.path), settings=chromadb.Settings(anonymized_telemetry=False, allow_reset=True)
        )

    def _failure(self, exc: Exception) -> IndexError_:
        text = str(exc).lower()
        code = getattr(exc, "errno", None)
        if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(w in text for w in _READ_ONLY):
            return StoreUnavailable(
                f"The data directory {self.path.parent} is not writable ({exc}). "
                "Make it writable or point MENTOR_DATA_DIR at a writable folder."
            )
        if code == errno.ENOSPC or any(w in text for w in _DISK_FULL):
            return StoreUnavailable(
                f"The disk holding {self.path} is full ({exc}). Free some space and run `mentor ingest` again."
            )
        return IndexError_(f"The knowledge index at {self.path} is damaged or unreadable ({exc}). {REBUILD_HINT}")

    def reset(self) -> None:
        """A new generation beside the live one; only an index too damaged to open is moved aside and emptied,
        since it serves nothing anyway."""
        try:
            super().reset()
            return
        except IndexError_:
            pass
        import chromadb

        self.generation += 1
        self._open.clear()
        self._client_obj = None
        self._live = None
        chromadb.api.shared_system_client.SharedSystemClient.clear_system_cache()
        if self.path.exists():
            shutil.rmtree(self.path)
        super().reset()

    def _others_reading(self) -> bool:
        try:
            return others_reading(self._readers_path)
        except OSError as exc:
            raise self._failure(exc) from exc

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        # Chroma's embedded mode is not safe for two writing processes on one directory.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(self.path.parent).free
        except OSError as exc:
            raise self._failure(exc) from exc
        if free < MIN_FREE_BYTES:
            raise StoreUnavailable(
                f"Only {free // (1024 * 1024)} MB is free on the disk holding {self.path}; writing the index needs "
                f"at least {MIN_FREE_BYTES // (1024 * 1024)} MB. Free some space and run `mentor ingest` again."
            )
        lock = FileLock(str(self._lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout as exc:
            raise IndexLocked(
                f"Another mentor process is writing the knowledge index ({self._lock_path}). "
                "Wait for it to finish; for several processes, run a Chroma server and set MENTOR_CHROMA_HOST."
            ) from exc
        except OSError as exc:
            raise self._failure(exc) from exc
        try:
            yield
        finally:
            lock.release()


@STORES.register("chroma-embedded")
def create(settings: Settings) -> EmbeddedChromaStore:
    return EmbeddedChromaStore(settings)
