"""Rebuilds build a new generation beside the live index and switch only when complete (issue 20, part 5).

Real embedded Chroma, real files, the real encoder. A rebuild is interrupted three ways: an exception part-way
(a failing disk or embedder), `kill -9` of the rebuilding process, and a reader in another thread or process
asking while the rebuild runs. In every case the old index keeps serving every document, users' uploads included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import pytest
from conftest import make_settings

from assistant.embedders import Embedder
from assistant.ingestion.ingestor import Ingestor
from assistant.runtime import Runtime
from assistant.settings import Settings
from assistant.stores._chroma import LIVE_CHECK_SECONDS

TESTS_DIR = Path(__file__).resolve().parent
CHUNK_TOKENS = 60
N_UPLOADS = 12
WORDS = ["heron", "otter", "lynx", "ibis", "tapir", "okapi", "quoll", "dingo", "gecko", "marten", "vole", "civet"]


def _kb(root: Path) -> Settings:
    """Three curated documents and N_UPLOADS uploaded ones, each with a word found nowhere else."""
    knowledge = root / "knowledge"
    knowledge.mkdir(parents=True)
    for i, topic in enumerate(("trust", "feedback", "networking")):
        body = "\n\n".join(
            f"## Part {j}\n\nCurated advice {i}.{j}: listen first, then ask one question." for j in range(4)
        )
        (knowledge / f"curated-{i}.md").write_text(
            f"---\ntitle: Curated {i}\ntopic: {topic}\ntags: [t]\nsummary: Curated {i}.\n---\n"
            f"# Curated {i}\n\n{body}\n",
            encoding="utf-8",
        )
    settings = make_settings(root / "data", knowledge_dir=knowledge, chunk_tokens=CHUNK_TOKENS, ingest_batch=8)
    settings.uploads_dir.mkdir(parents=True)
    for i in range(N_UPLOADS):
        word = WORDS[i % len(WORDS)]
        (settings.uploads_dir / f"team-{i:02d}.md").write_text(
            f"# Team note {i}\n\nOur {word}-{i} rota: each mentor hosts one {word} lunch a quarter.\n\n"
            f"## More\n\nThe {word}-{i} checklist lists who to invite and what to bring.\n",
            encoding="utf-8",
        )
    return settings


def _build(settings: Settings) -> dict[str, Any]:
    uploads = sorted(settings.uploads_dir.iterdir())
    report = Runtime(settings).ingestor.run(uploads)
    assert report.skipped == [] and report.files == 3 + N_UPLOADS
    return _records(settings)


def _records(settings: Settings) -> dict[str, Any]:
    chunks, metas, _ = Runtime(settings).store.all_records()
    return {c.id: (c, m) for c, m in zip(chunks, metas, strict=True)}


def _collections(settings: Settings) -> set[str]:
    client = chromadb.PersistentClient(
        path=str(settings.chroma_dir), settings=chromadb.Settings(anonymized_telemetry=False, allow_reset=True)
    )
    return {str(getattr(c, "name", c)) for c in client.list_collections()}


def _finds_every_upload(settings: Settings) -> None:
    rt = Runtime(settings)
    for i in range(N_UPLOADS):
        hits = rt.retriever.search(f"{WORDS[i % len(WORDS)]}-{i} rota lunch", k=3, mode="bm25")
        assert hits and hits[0].chunk.source == f"uploads/team-{i:02d}.md", i


class FailingEmbedder:
    """The real embedder until its `fail_at`-th call, which raises as a broken disk or model server would."""

    def __init__(self, inner: Embedder, fail_at: int, on_call: Any = None) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.fail_at, self.on_call, self.calls = fail_at, on_call, 0
        self.fail_when: Any = None

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.on_call:
            self.on_call(self.calls)
        if self.calls == self.fail_at or (self.fail_when is not None and self.fail_when()):
            raise OSError("simulated failure part-way through the rebuild")
        return self.inner.embed(texts)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Settings, dict[str, Any]]:
    settings = _kb(tmp_path)
    return settings, _build(settings)


def test_a_rebuild_that_fails_part_way_leaves_the_old_index_serving(built: tuple[Settings, dict[str, Any]]) -> None:
    settings, before = built
    rt = Runtime(settings)
    start = rt.store.generation
    failing = FailingEmbedder(rt.embedder, fail_at=-1)
    # Fail late: once several batches (ingest_batch=8) were written into the new generation.
    failing.fail_when = lambda: rt.store.generation - start >= 4
    with pytest.raises(OSError, match="simulated failure"):
        Ingestor(settings, rt.store, failing).run(rebuild=True)
    assert failing.calls > 4, "the rebuild really wrote before it failed"

    assert _records(settings) == before, "the old index is untouched"
    _finds_every_upload(settings)
    assert _collections(settings) == {settings.collection}, "the half-built generation was dropped"
    # The same store object (a running server's) still answers from the old index.
    assert rt.store.count() == len(before)
    report = Runtime(settings).ingestor.run()
    assert not report.changed and report.unchanged == 3 + N_UPLOADS


def test_a_completed_rebuild_switches_generations_and_keeps_uploads(built: tuple[Settings, dict[str, Any]]) -> None:
    settings, before = built
    rt = Runtime(settings)
    report = rt.ingestor.run(rebuild=True)
    assert report.rebuilt and report.added == len(before) and report.skipped == []
    assert _records(settings) == before
    _finds_every_upload(settings)
    live = rt.store.live_collection()  # type: ignore[attr-defined]
    assert live == f"{settings.collection}-g1"
    assert _collections(settings) == {live, f"{settings.collection}-live"}, "the old generation was deleted"
    rt.ingestor.run(rebuild=True)
    assert Runtime(settings).store.live_collection() == f"{settings.collection}-g2"  # type: ignore[attr-defined]
    assert _records(settings) == before


def test_readers_see_the_old_index_while_a_rebuild_runs(built: tuple[Settings, dict[str, Any]]) -> None:
    """Chat turns in the server run on other threads than the UI's rebuild, on the same store object."""
    settings, before = built
    rt = Runtime(settings)
    assert len(rt.retriever.chunks) == len(before)
    seen: list[tuple[int, int]] = []

    def read_meanwhile(call: int) -> None:
        if call in (3, 6):
            counts: list[int] = []
            reader = threading.Thread(target=lambda: counts.append(rt.store.count()))
            reader.start()
            reader.join()
            hits = []
            reader = threading.Thread(target=lambda: hits.extend(rt.retriever.search("otter-1 rota lunch", k=1)))
            reader.start()
            reader.join()
            seen.append((counts[0], len(hits) and hits[0].chunk.source == "uploads/team-01.md"))

    counting = FailingEmbedder(rt.embedder, fail_at=-1, on_call=read_meanwhile)
    Ingestor(settings, rt.store, counting).run(rebuild=True)

    assert seen == [(len(before), True), (len(before), True)], "mid-rebuild readers saw the whole old index"
    assert rt.store.count() == len(before) and len(rt.retriever.chunks) == len(before)


CHILD_REBUILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from conftest import make_settings
    from assistant.runtime import Runtime

    settings = make_settings(
        Path(sys.argv[2]), knowledge_dir=Path(sys.argv[3]), chunk_tokens=int(sys.argv[4]), ingest_batch=8
    )
    extra = [Path(p) for p in sys.argv[5:]]
    Runtime(settings).ingestor.run(extra, rebuild=True, progress=lambda done, total, name: print(done, flush=True))
    print("finished", flush=True)
    """
)


def _child(settings: Settings, *extra: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-c", CHILD_REBUILD, str(TESTS_DIR), str(settings.data_dir), str(settings.knowledge_dir),
           str(CHUNK_TOKENS), *map(str, extra)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_during_a_rebuild_then_a_plain_ingest_keeps_every_user_document(
    built: tuple[Settings, dict[str, Any]],
) -> None:
    """The issue's break: `kill -9` during `mentor ingest --rebuild`, then `mentor ingest`, lost every upload."""
    settings, before = built
    child = _child(settings)
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.strip().isdigit() and int(line) >= 3 + N_UPLOADS // 2:  # curated done, half the uploads
                os.kill(child.pid, signal.SIGKILL)
                break
        code = child.wait(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert code == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    assert f"{settings.collection}-g1" in _collections(settings), "the kill landed inside the new generation"

    assert _records(settings) == before, "the old index serves everything after the kill"
    report = Runtime(settings).ingestor.run()
    assert not report.changed and report.unchanged == 3 + N_UPLOADS
    assert _records(settings) == before
    _finds_every_upload(settings)
    # The orphan of the killed rebuild is cleared by the next rebuild, which completes.
    Runtime(settings).ingestor.run(rebuild=True)
    assert _records(settings) == before
    assert _collections(settings) == {f"{settings.collection}-g2", f"{settings.collection}-live"}


def test_a_server_process_follows_a_rebuild_made_by_another_process(built: tuple[Settings, dict[str, Any]]) -> None:
    """The issue's break: `mentor ingest` beside `mentor serve` made the next chat turn fail as 'damaged'."""
    settings, before = built
    serving = Runtime(settings)
    assert serving.retriever.search("heron-0 rota lunch", k=1)
    added = settings.uploads_dir / "late.md"
    added.write_text("# Late note\n\nThe wombat-late rota starts next month.\n", encoding="utf-8")

    child = _child(settings, added)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0 and "finished" in out, err[-2000:]

    time.sleep(LIVE_CHECK_SECONDS + 1.2)  # the retriever checks the store at most once a second
    hits = serving.retriever.search("wombat-late rota", k=1, mode="bm25")
    assert hits and hits[0].chunk.source == "uploads/late.md", "the running reader follows the new generation"
    assert serving.store.count() == len(before) + 1
    vector = serving.embedder.embed(["heron-0 rota lunch"])[0]
    assert any(c.source == "uploads/team-00.md" for c, _ in serving.store.query(vector, 3))
