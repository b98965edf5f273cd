"""Scratch runtimes for suites that write: they must never touch the user's index or session database."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.runtime import Runtime
from assistant.stores import write_lock


def with_scratch_sessions(rt: Runtime, folder: Path) -> Runtime:
    """A runtime that shares `rt`'s index but stores sessions in a throwaway SQLite file under `folder`."""
    settings = rt.settings.model_copy(update={"database_url": f"sqlite:///{folder / 'eval-sessions.db'}"})
    clone = Runtime(settings)
    # Reuse the loaded components (cached properties live in __dict__) so nothing is opened twice.
    clone.__dict__.update(embedder=rt.embedder, store=rt.store, retriever=rt.retriever, safety=rt.safety)
    return clone


def with_index_copy(rt: Runtime, folder: Path) -> Runtime:
    """A runtime over a private copy of `rt`'s knowledge index in `folder` (rebuilt when the index is remote)."""
    settings = rt.settings.model_copy(update={"data_dir": folder, "chroma_host": None, "database_url": None})
    if rt.settings.chroma_host is None and rt.settings.chroma_dir.is_dir():
        with write_lock(rt.store):  # a consistent copy: no ingest may write while the files are copied
            shutil.copytree(rt.settings.chroma_dir, settings.chroma_dir, ignore=shutil.ignore_patterns("*.lock"))
        clone = Runtime(settings)
    else:
        clone = Runtime(settings)
        clone.ingestor.run()
    clone.__dict__.update(safety=rt.safety)
    return clone
