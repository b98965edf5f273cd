"""The scale-out path: a real `chroma run` server on loopback behind `MENTOR_CHROMA_HOST`.

One server per module. The tests ingest the curated knowledge through the HttpClient store, compare retrieval
with the embedded index, then take the server away (stopped, frozen) and bring it back: the same Runtime must
fail with a clear, prompt error while it is gone and find every acknowledged chunk once it returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import pytest
from chroma_server import ChromaServer
from conftest import free_port, make_settings

from assistant.runtime import Runtime
from assistant.stores import StoreUnavailable

pytestmark = pytest.mark.server

QUERIES = (
    "how do I give feedback to someone who gets defensive",
    "my mentee started crying in our meeting",
    "setting goals for the first three months",
    "mentoring someone remotely across time zones",
    "when should I send a mentee to HR",
)
DOWN_BUDGET_S = 10.0  # a retrieve against a missing server must fail within this


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One `chroma run` for the module (named apart from conftest's `server`, the fake OpenAI endpoint)."""
    srv = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db", free_port())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def running(chroma: ChromaServer) -> Iterator[ChromaServer]:
    """The Chroma server, guaranteed up before and after the test (tests below stop and freeze it)."""
    chroma.start()
    yield chroma
    if chroma.running:
        chroma.resume()  # harmless when it was not paused
    chroma.start()


@pytest.fixture(scope="module")
def server_rt(chroma: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    settings = make_settings(tmp_path_factory.mktemp("server-data"), chroma_host=chroma.host, chroma_port=chroma.port)
    rt = Runtime(settings)
    report = rt.ingestor.run()
    assert report.skipped == [] and report.added == report.chunks > 0
    return rt


def _raw_collection(rt: Runtime) -> Any:
    """The collection as any other Chroma client sees it, to check the server from outside our store code."""
    client = chromadb.HttpClient(
        host=rt.settings.chroma_host or "",
        port=rt.settings.chroma_port,
        settings=chromadb.Settings(anonymized_telemetry=False),
    )
    # The live generation: after a rebuild the base name is gone (or stale), so never open it by that name.
    return client.get_collection(rt.store.live_collection())  # type: ignore[attr-defined]


def test_ingest_goes_to_the_server_and_matches_the_embedded_index(
    running: ChromaServer, server_rt: Runtime, rt: Runtime
) -> None:
    assert not server_rt.settings.chroma_dir.exists(), "nothing was written to an embedded index"
    assert (running.path / "chroma.sqlite3").exists(), "the server holds the data"
    served = {c.id: c for c in server_rt.store.all_records()[0]}
    embedded = {c.id: c for c in rt.store.all_records()[0]}
    assert served == embedded
    assert _raw_collection(server_rt).count() == len(embedded)
    again = server_rt.ingestor.run()
    assert not again.changed and "nothing changed" in again.summary()


@pytest.mark.parametrize("query", QUERIES)
def test_retrieval_through_the_server_matches_embedded(
    running: ChromaServer, server_rt: Runtime, rt: Runtime, query: str
) -> None:
    for mode in ("hybrid", "dense"):
        served = [h.chunk.id for h in server_rt.retriever.search(query, k=5, mode=mode)]
        embedded = [h.chunk.id for h in rt.retriever.search(query, k=5, mode=mode)]
        assert served and served[:3] == embedded[:3], (mode, served, embedded)


def _assert_every_chunk_findable(rt: Runtime, ids: list[str]) -> None:
    col = _raw_collection(rt)
    got = col.get(ids=ids, include=["embeddings"])
    assert sorted(got["ids"]) == sorted(ids), "every acknowledged chunk is found by get"
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    found = col.query(query_embeddings=vectors, n_results=1)
    lost = [cid for cid, hits in zip(got["ids"], found["ids"], strict=True) if hits[:1] != [cid]]
    assert lost == [], f"{len(lost)} chunks not found by their own vector, e.g. {lost[:3]}"
    for cid, vector in list(zip(got["ids"], vectors, strict=True))[::40]:  # and through our own store API
        assert cid in [c.id for c, _ in rt.store.query(vector, 2)]


def test_server_stopped_gives_a_prompt_clear_error_and_a_restart_recovers(
    running: ChromaServer, server_rt: Runtime
) -> None:
    acknowledged = [c.id for c in server_rt.store.all_records()[0]]
    assert server_rt.retriever.search(QUERIES[0], k=3)
    running.stop()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as info:
        server_rt.retriever.search(QUERIES[1], k=3)
    assert time.monotonic() - started < DOWN_BUDGET_S
    assert f"Chroma server at 127.0.0.1:{running.port}" in str(info.value)
    # A new process (new Runtime) meets the same clear message, with what to do about it.
    # (The store connects on first use, so a server that comes up later is simply found.)
    with pytest.raises(StoreUnavailable, match=r"Start it .* or unset MENTOR_CHROMA_HOST"):
        Runtime(server_rt.settings).store.count()
    running.start()  # same path, same port
    hits = server_rt.retriever.search(QUERIES[1], k=3)
    assert hits, "the same Runtime works again once the server is back"
    assert sorted(c.id for c in server_rt.store.all_records()[0]) == sorted(acknowledged)
    _assert_every_chunk_findable(server_rt, acknowledged)
    answer = server_rt.coach.ask(QUERIES[2], persist=False)
    assert answer.answer.strip() and answer.sources


def test_writes_resume_after_a_restart(running: ChromaServer, server_rt: Runtime, tmp_path: Path) -> None:
    running.restart()
    note = tmp_path / "team-rituals.md"
    note.write_text("# Team rituals\n\nEvery Thursday the team shares one wombat-sized win.\n", encoding="utf-8")
    report = server_rt.ingestor.run([note])
    assert report.added >= 1
    running.restart()
    hits = server_rt.retriever.search("wombat-sized win", k=1)
    assert hits and hits[0].chunk.source.endswith("team-rituals.md") and hits[0].chunk.user_source
    _assert_every_chunk_findable(server_rt, [c.id for c in server_rt.store.all_records()[0]])
    note.unlink()
    assert server_rt.ingestor.run().removed >= 1


def test_ingest_while_the_server_is_down_is_a_clear_error(running: ChromaServer, server_rt: Runtime) -> None:
    running.stop()
    with pytest.raises(StoreUnavailable, match="Chroma server"):
        server_rt.ingestor.run()


FROZEN_TIMEOUT_S = 2.0
FROZEN_WAIT_S = 12.0


def test_a_frozen_server_does_not_hang_a_retrieve(running: ChromaServer, server_rt: Runtime) -> None:
    settings = server_rt.settings.model_copy(update={"chroma_timeout": FROZEN_TIMEOUT_S})
    impatient = Runtime(settings)
    assert impatient.retriever.search(QUERIES[3], k=3), "warm: the lexical index is loaded before the freeze"
    outcome: dict[str, BaseException | None] = {}

    def retrieve() -> None:
        try:  # a question not asked before: the retriever answers repeated searches from memory
            impatient.retriever.search(QUERIES[4], k=3)
            outcome["error"] = None
        except BaseException as exc:  # recorded for the assertion below
            outcome["error"] = exc

    running.pause()
    worker = threading.Thread(target=retrieve, daemon=True)
    worker.start()
    worker.join(timeout=FROZEN_WAIT_S)
    finished = not worker.is_alive()
    running.resume()
    worker.join(timeout=30)
    assert finished, f"retrieve still waiting after {FROZEN_WAIT_S:.0f}s against a frozen server"
    assert isinstance(outcome.get("error"), StoreUnavailable)


def test_after_a_rebuild_outside_tools_read_the_new_generation(running: ChromaServer, tmp_path: Path) -> None:
    """A rebuild writes `<collection>-g<n>` and deletes the base collection: the raw client check above, the bench's
    LangChain peer and the store all read the collection that serves now, never the configured base name."""
    from assistant.bench import live_chroma
    from assistant.benchmarks import peers

    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name, text in (("rituals", "Every Thursday the team shares one wombat-sized win."), ("notes", "Meet monthly.")):
        (knowledge / f"{name}.md").write_text(
            f"---\ntitle: {name}\ntopic: trust\ntags: [x]\nsummary: {text}\n---\n# {name}\n\n{text}\n",
            encoding="utf-8",
        )
    settings = make_settings(
        tmp_path / "data",
        knowledge_dir=knowledge,
        chroma_host=running.host,
        chroma_port=running.port,
        collection="rebuild_check",
    )
    rt = Runtime(settings)
    rt.ingestor.run()
    assert rt.store.live_collection() == "rebuild_check"  # type: ignore[attr-defined]
    report = Runtime(settings).ingestor.run(rebuild=True)
    assert report.rebuilt and report.added == report.chunks > 0
    rt = Runtime(settings)
    live = rt.store.live_collection()  # type: ignore[attr-defined]
    assert live == "rebuild_check-g1"
    names = {c.name for c in chromadb.HttpClient(host=running.host, port=running.port).list_collections()}
    assert "rebuild_check" not in names and live in names, names
    ids = [c.id for c in rt.store.all_records()[0]]
    assert _raw_collection(rt).count() == len(ids)
    _assert_every_chunk_findable(rt, ids)
    client, name = live_chroma(rt.store)
    assert name == live and client.get_collection(name).count() == len(ids)
    if peers.langchain_peers_available():
        dense = peers.chroma_retriever(client, name, rt.retriever.embedder, 1)
        found = dense.invoke("a wombat-sized win on Thursdays")
        assert found and found[0].metadata["id"] in ids and "wombat" in found[0].page_content
