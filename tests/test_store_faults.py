"""Faults in the embedded index, injected for real: kill -9, a second writer, damaged files, a foreign schema,
an unwritable or full data directory. Each must end in a correct index or a clear message saying what to do.

A clean, uninterrupted build of the same generated corpus is the oracle for "a correct index": after any fault
and a normal run, the index holds exactly its chunks (ids, texts, metadata), and every chunk is found both by
`get` and by a query with its own vector.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import chromadb
import numpy as np
import pytest
from conftest import REPO, make_settings

from assistant.runtime import Runtime
from assistant.settings import Settings
from assistant.stores import IndexError_, IndexLocked, SchemaMismatch, VectorStore, WriteLocking, open_store, write_lock
from assistant.stores._chroma import HNSW_MAX_NEIGHBORS, SCHEMA_VERSION

N_FILES = 60
CHUNK_TOKENS = 80
KILL_AFTER_FILES = 20
CHILD_TIMEOUT_S = 120
# The disk-full child indexes the whole curated knowledge twice and looks up every chunk: minutes on a loaded machine.
DISK_FULL_TIMEOUT_S = 360
TESTS_DIR = Path(__file__).resolve().parent


# --- the corpus and its clean reference index ---------------------------------------------------------------
def _write_corpus(folder: Path, n_files: int, seed: int = 7) -> None:
    """Unique documents of random mentoring vocabulary: ~20 chunks each at CHUNK_TOKENS, so >1000 in all."""
    words = sorted(set(re.findall(r"[a-z]{4,}", " ".join(p.read_text() for p in (REPO / "knowledge").glob("*.md")))))
    rng = random.Random(seed)

    def para(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n)) + "."

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        sections = "\n\n".join(f"## Part {j}\n\n{para(80)}\n\n{para(70)}" for j in range(5))
        (folder / f"doc-{i:03d}.md").write_text(
            f"---\ntitle: Generated {i}\ntopic: trust\ntags: [generated]\nsummary: Generated text {i}.\n---\n"
            f"# Generated {i}\n\n{sections}\n",
            encoding="utf-8",
        )


def _settings(data_dir: Path, knowledge: Path) -> Settings:
    return make_settings(data_dir, knowledge_dir=knowledge, chunk_tokens=CHUNK_TOKENS)


def _records(settings: Settings) -> dict[str, tuple[Any, dict[str, Any]]]:
    chunks, metas, _ = Runtime(settings).store.all_records()
    return {c.id: (c, m) for c, m in zip(chunks, metas, strict=True)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "knowledge"
    _write_corpus(folder, N_FILES)
    return folder


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An index built in one clean, uninterrupted run: what every recovered index must equal."""
    settings = _settings(tmp_path_factory.mktemp("reference") / "data", corpus)
    report = Runtime(settings).ingestor.run()
    assert report.skipped == [] and report.files == N_FILES
    assert report.chunks > 1000, "enough chunks that Chroma persists its HNSW segment to disk"
    return settings


@pytest.fixture(scope="module")
def expected(reference: Settings) -> dict[str, tuple[Any, dict[str, Any]]]:
    return _records(reference)


def _copy_index(reference: Settings, dest: Path) -> Settings:
    """A copy of the reference data directory (a new path, so no Chroma client in this process has it open)."""
    shutil.copytree(reference.data_dir, dest, ignore=shutil.ignore_patterns("cache"))
    return _settings(dest, reference.knowledge_dir)


def _collection(settings: Settings) -> Any:
    """The raw Chroma collection, to check the index from outside our own store code."""
    client = chromadb.PersistentClient(
        path=str(settings.chroma_dir), settings=chromadb.Settings(anonymized_telemetry=False, allow_reset=True)
    )
    return client.get_collection(Runtime(settings).store.live_collection())  # type: ignore[attr-defined]


def _assert_every_chunk_findable(settings: Settings, ids: list[str]) -> None:
    col = _collection(settings)
    got = col.get(ids=ids, include=["embeddings"])
    assert sorted(got["ids"]) == sorted(ids), "every acknowledged chunk is found by get"
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    # Reachable: asked for every entry, the vector graph walks to all of them. A passage no link points at is in
    # the database but can never be returned by a search (HNSW with Chroma's 16 links per node left 2-6 of these
    # 1,200 so, in a clean build as much as after a fault).
    reached = col.query(query_embeddings=vectors[:1], n_results=len(ids), include=[])["ids"][0]
    assert sorted(reached) == sorted(ids), f"{len(ids) - len(reached)} of {len(ids)} chunks are unreachable"
    # HNSW ranking is approximate: a chunk counts as findable when its own vector brings it back among the first
    # five (a lost or corrupt entry never comes back at all).
    found = col.query(query_embeddings=vectors, n_results=5, include=["distances"])
    lost = [cid for cid, hits in zip(got["ids"], found["ids"], strict=True) if cid not in hits]
    assert lost == [], f"{len(lost)} of {len(ids)} chunks are not found by their own vector, e.g. {lost[:3]}"
    # And through our own store API, for a sample.
    store = Runtime(settings).store
    for cid, vector in list(zip(got["ids"], vectors, strict=True))[:: max(1, len(ids) // 25)]:
        assert cid in [c.id for c, _ in store.query(vector, 2)]


# --- kill -9 during ingestion ---------------------------------------------------------------------------------
CHILD_INGEST = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from conftest import make_settings
    from assistant.runtime import Runtime

    settings = make_settings(
        Path(sys.argv[2]), knowledge_dir=Path(sys.argv[3]), chunk_tokens=int(sys.argv[4]), ingest_batch=64
    )
    rt = Runtime(settings)
    rt.ingestor.run(rebuild=sys.argv[5] == "rebuild", progress=lambda done, total, name: print(done, flush=True))
    print("finished", flush=True)
    """
)


def _ingest_and_kill(settings: Settings, rebuild: bool) -> int:
    """Runs ingestion in a child process and SIGKILLs it once it has written KILL_AFTER_FILES files."""
    cmd = [
        sys.executable,
        "-c",
        CHILD_INGEST,
        str(TESTS_DIR),
        str(settings.data_dir),
        str(settings.knowledge_dir),
        str(CHUNK_TOKENS),
        "rebuild" if rebuild else "update",
    ]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.strip().isdigit() and int(line) >= KILL_AFTER_FILES:
                os.kill(child.pid, signal.SIGKILL)
                break
        code = child.wait(timeout=CHILD_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr = child.stderr.read() if child.stderr else ""
    assert code == -signal.SIGKILL, f"the child was not killed mid-run (exit {code}): {stderr[-2000:]}"
    return code


def test_a_clean_build_leaves_no_chunk_unreachable(
    reference: Settings, expected: dict[str, tuple[Any, dict[str, Any]]]
) -> None:
    """The oracle itself: what looked like chunks lost to a killed rebuild (0-7 of 1,200) was the reference index,
    copied untouched. Its rows were all in Chroma's database and an exact search ranked each first for its own
    vector, but no link of the HNSW graph led to them; 48 links per node instead of 16 leaves none."""
    _assert_every_chunk_findable(reference, list(expected))
    vectors = _records_with_vectors(reference)
    exact_first = np.argmax(vectors @ vectors.T, axis=1)  # cosine: the stored vectors are unit length
    assert (exact_first == np.arange(len(vectors))).all(), "an exact search finds every chunk by its own vector"


def _records_with_vectors(settings: Settings) -> np.ndarray:
    _, _, vectors = Runtime(settings).store.all_records(with_vectors=True)
    assert vectors is not None
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("rebuild", [False, True], ids=["first-build", "rebuild"])
def test_kill_9_during_ingestion_then_a_normal_run_leaves_a_correct_index(
    reference: Settings, expected: dict[str, tuple[Any, dict[str, Any]]], tmp_path: Path, rebuild: bool
) -> None:
    data_dir = tmp_path / "data"
    settings = _copy_index(reference, data_dir) if rebuild else _settings(data_dir, reference.knowledge_dir)
    _ingest_and_kill(settings, rebuild)
    if rebuild:
        # A rebuild writes a new generation beside the live index, which serves everything until the switch.
        assert _records(settings) == expected, "a killed rebuild leaves the old index whole"
    else:
        partial = Runtime(settings).store.count()
        assert 0 < partial < len(expected), "the kill landed mid-run (some, not all, chunks written)"
    report = Runtime(settings).ingestor.run()
    assert report.skipped == [] and report.chunks == len(expected)
    assert report.unchanged >= 1, "files finished before the kill are not embedded again"
    assert not rebuild or report.unchanged == N_FILES
    assert _records(settings) == expected
    _assert_every_chunk_findable(settings, list(expected))


# --- one writer at a time -------------------------------------------------------------------------------------
CHILD_HOLD_LOCK = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from conftest import make_settings
    from assistant.stores import open_store, write_lock

    store = open_store(make_settings(Path(sys.argv[2]), knowledge_dir=Path(sys.argv[3])))
    with write_lock(store):
        print("locked", flush=True)
        sys.stdin.read()  # hold the lock until the parent closes our stdin (or kills us)
    print("released", flush=True)
    """
)


@pytest.fixture
def lock_holder(reference: Settings, tmp_path: Path) -> Iterator[tuple[Settings, subprocess.Popen[str]]]:
    settings = _copy_index(reference, tmp_path / "data")
    cmd = [sys.executable, "-c", CHILD_HOLD_LOCK, str(TESTS_DIR), str(settings.data_dir), str(settings.knowledge_dir)]
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    detail = "" if line.strip() == "locked" or child.stderr is None else child.stderr.read()
    assert line.strip() == "locked", f"the lock holder did not start: {line!r} {detail}"
    yield settings, child
    if child.poll() is None:
        child.kill()
        child.wait()


def test_a_second_writer_gets_index_locked(
    lock_holder: tuple[Settings, subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, child = lock_holder
    before = Runtime(settings).store.count()
    (settings.knowledge_dir.parent / "extra").mkdir(exist_ok=True)
    extra = settings.knowledge_dir.parent / "extra" / "note.md"
    extra.write_text("# A note\n\nWritten while someone else holds the index.\n", encoding="utf-8")
    with pytest.raises(IndexLocked) as info:
        Runtime(settings).ingestor.run([extra])
    message = str(info.value)
    assert "Another mentor process is writing" in message and "chroma.write.lock" in message
    assert "MENTOR_CHROMA_HOST" in message, "the message points multi-process setups at the Chroma server"
    assert Runtime(settings).store.count() == before, "nothing was written"
    # Reading is not blocked by a writer.
    assert Runtime(settings).retriever.search("generated trust", k=3)
    # The CLI says the same in one line, exit code 2.
    _cli_env(monkeypatch, settings)
    from assistant.cli import main

    assert main(["ingest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Another mentor process") and "Traceback" not in err
    # Once the holder finishes, writing works again.
    assert child.stdin is not None
    child.stdin.close()
    assert child.wait(timeout=30) == 0
    report = Runtime(settings).ingestor.run([extra])
    assert report.added >= 1


def test_locking_is_an_optional_extra_of_a_store(tmp_path: Path) -> None:
    chroma = open_store(make_settings(tmp_path / "data"))
    assert isinstance(chroma, WriteLocking), "the Chroma stores lock across processes"
    with write_lock(chroma):
        assert "chroma.write.lock" in [p.name for p in (tmp_path / "data").rglob("*.lock")]
    # A store without the extra (one process only, e.g. in memory) is written with nothing to hold.
    unlocked = cast(VectorStore, object())
    assert not isinstance(unlocked, WriteLocking)
    with write_lock(unlocked) as held:
        assert held is None


def test_a_killed_writer_does_not_leave_a_stale_lock(lock_holder: tuple[Settings, subprocess.Popen[str]]) -> None:
    settings, child = lock_holder
    with pytest.raises(IndexLocked):
        Runtime(settings).ingestor.run()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    # The lock file may stay behind; the OS released the lock itself with the dead process.
    report = Runtime(settings).ingestor.run()
    assert not report.changed


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    from assistant.settings import get_settings

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MENTOR_CHROMA_HOST", "MENTOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MENTOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(settings.knowledge_dir))
    monkeypatch.setenv("MENTOR_CHUNK_TOKENS", str(settings.chunk_tokens))
    monkeypatch.setenv("MENTOR_LLM_BACKEND", "offline")
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    from assistant.settings import get_settings

    yield
    get_settings.cache_clear()


# --- a damaged or foreign index -------------------------------------------------------------------------------
def _segment_dirs(settings: Settings) -> list[Path]:
    return [p for p in settings.chroma_dir.iterdir() if p.is_dir()]


def _damage(settings: Settings, kind: str) -> None:
    sqlite = settings.chroma_dir / "chroma.sqlite3"
    if kind == "sqlite-garbage":
        sqlite.write_bytes(random.Random(1).randbytes(256 * 1024))
    elif kind == "sqlite-truncated":
        data = sqlite.read_bytes()
        sqlite.write_bytes(data[: len(data) // 3])
    elif kind == "segment-deleted":
        assert _segment_dirs(settings), "the reference index has an HNSW segment on disk"
        for seg in _segment_dirs(settings):
            shutil.rmtree(seg)
    elif kind == "segment-garbage":
        for seg in _segment_dirs(settings):
            for f in seg.iterdir():
                f.write_bytes(random.Random(2).randbytes(max(f.stat().st_size, 128)))
    else:
        raise AssertionError(kind)


DAMAGE = [
    "sqlite-garbage",
    "sqlite-truncated",
    "segment-deleted",
    "segment-garbage",
]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_index_is_detected_or_still_correct(
    reference: Settings, expected: dict[str, tuple[Any, dict[str, Any]]], tmp_path: Path, kind: str
) -> None:
    """Never silently wrong: either every chunk is still found, or a clear error says how to rebuild."""
    settings = _copy_index(reference, tmp_path / "data")
    _damage(settings, kind)
    try:
        rt = Runtime(settings)
        assert rt.retriever.search("generated trust", k=3)
        chunks, _, vectors = rt.store.all_records(with_vectors=True)
        assert vectors is not None and len(chunks) == len(expected)
        sample = list(range(0, len(chunks), 7))
        lost = [chunks[i].id for i in sample if chunks[i].id not in [c.id for c, _ in rt.store.query(vectors[i], 3)]]
        assert lost == [], f"{len(lost)} of {len(sample)} sampled chunks are not found by their own vector"
    except IndexError_ as exc:
        assert "mentor ingest --rebuild" in str(exc), f"no rebuild advice in: {exc}"
        assert str(settings.chroma_dir) in str(exc) or "knowledge index" in str(exc)


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small") / "knowledge"
    _write_corpus(folder, 4, seed=11)
    return folder


REBUILDABLE = [
    "sqlite-garbage",
    "segment-deleted",
    "segment-garbage",
]


@pytest.mark.parametrize("kind", REBUILDABLE)
def test_rebuild_recovers_from_a_damaged_index(reference: Settings, small_kb: Path, tmp_path: Path, kind: str) -> None:
    damaged = _copy_index(reference, tmp_path / "data")
    _damage(damaged, kind)
    settings = _settings(damaged.data_dir, small_kb)  # rebuild from a small corpus to keep the test fast
    report = Runtime(settings).ingestor.run(rebuild=True)
    assert report.files == 4 and report.skipped == []
    rt = Runtime(settings)
    assert rt.store.count() == report.chunks == report.added
    hits = rt.retriever.search("generated trust", k=3)
    assert hits and {h.chunk.source for h in hits} <= {p.resolve().as_posix() for p in small_kb.iterdir()}
    _assert_every_chunk_findable(settings, [c.id for c in rt.store.all_records()[0]])


def test_an_index_from_another_schema_version_is_refused_by_readers_and_rebuilt_by_ingest(
    small_kb: Path, tmp_path: Path
) -> None:
    settings = _settings(tmp_path / "data", small_kb)
    handbook = tmp_path / "handbook.md"
    handbook.write_text("# Handbook\n\nOur mentors meet on the first Monday of each month.\n", encoding="utf-8")
    Runtime(settings).ingestor.run([handbook])
    before = _records(settings)
    col = _collection(settings)
    col.modify(metadata={**(col.metadata or {}), "schema": 999})
    with pytest.raises(SchemaMismatch) as info:
        Runtime(settings).retriever.search("trust")
    message = str(info.value)
    assert "another version" in message and "999" in message and "mentor ingest --rebuild" in message
    # Ingesting is the upgrade path: it rebuilds the outdated index and keeps the user's own documents.
    report = Runtime(settings).ingestor.run()
    assert report.rebuilt and report.added == report.chunks == len(before)
    assert {cid: rec[0] for cid, rec in _records(settings).items()} == {cid: rec[0] for cid, rec in before.items()}
    hits = Runtime(settings).retriever.search("first Monday of each month", k=1)
    assert hits and hits[0].chunk.user_source


def test_an_index_of_the_previous_schema_still_answers_and_the_next_ingest_rebuilds_it(
    small_kb: Path, tmp_path: Path
) -> None:
    """Schema 4 changed only the vector graph (48 links per node): a running server keeps answering from a schema-3
    index, and the next `mentor ingest` rebuilds it (a new generation, switched to when complete)."""
    settings = _settings(tmp_path / "data", small_kb)
    Runtime(settings).ingestor.run()
    before = _records(settings)
    col = _collection(settings)
    col.modify(metadata={**(col.metadata or {}), "schema": 3})
    hits = Runtime(settings).retriever.search("generated trust", k=3)
    assert hits, "a reader uses the older index"
    report = Runtime(settings).ingestor.run()
    assert report.rebuilt and "another version" in report.rebuilt_because
    col = _collection(settings)
    assert (col.metadata or {})["schema"] == SCHEMA_VERSION
    assert col.configuration["hnsw"]["max_neighbors"] == HNSW_MAX_NEIGHBORS
    assert {cid: rec[0] for cid, rec in _records(settings).items()} == {cid: rec[0] for cid, rec in before.items()}


# --- an unusable data directory --------------------------------------------------------------------------------
def test_a_data_directory_that_cannot_be_created_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As root, chmod cannot make a directory unwritable; a path *below a regular file* can never be created.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a directory should be\n")
    settings = _settings(blocker / "data", tmp_path)
    _cli_env(monkeypatch, settings)
    from assistant.cli import main

    code = main(["ingest"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and str(blocker) in err and "Traceback" not in err


# A child in its own mount namespace: a read-only bind mount and a size-limited tmpfs are real kernel
# conditions (EROFS, ENOSPC) that even root cannot write through, unlike chmod.
CHILD_MOUNTS = textwrap.dedent(
    """
    import contextlib, io, json, os, subprocess, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    scenario, root, knowledge = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    from conftest import make_settings
    from assistant.runtime import Runtime
    from assistant.settings import get_settings
    from assistant.cli import main

    def mentor(data_dir, *argv):
        # The store's behaviour is the subject here, not the embedder: the fast one keeps the child in its time.
        os.environ.update(
            MENTOR_DATA_DIR=str(data_dir), MENTOR_KNOWLEDGE_DIR=str(knowledge), MENTOR_LLM_BACKEND="offline",
            MENTOR_EMBEDDER="wordllama",
        )
        get_settings.cache_clear()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except BaseException as exc:
                code = f"raised {type(exc).__name__}: {exc}"
        return {"code": code, "out": out.getvalue(), "err": err.getvalue()}

    def sh(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)

    result = {}
    if scenario == "read-only":
        rw, ro = root / "rw", root / "ro"
        rw.mkdir(); ro.mkdir()
        result["build"] = mentor(rw / "data", "ingest")
        sh("mount", "--bind", str(rw), str(ro))
        sh("mount", "-o", "remount,ro,bind", str(ro))
        (knowledge / "late.md").write_text(
            "---\\ntitle: Late\\ntopic: trust\\ntags: [x]\\nsummary: Added after the mount.\\n---\\nLate text.\\n")
        result["ingest"] = mentor(ro / "data", "ingest")
        result["retrieve"] = mentor(ro / "data", "retrieve", "trust")
    elif scenario == "disk-full":
        sh("mount", "-t", "tmpfs", "-o", "size=" + sys.argv[5], "tmpfs", str(root))
        # A separate process (same mount namespace), so a write that never returns can be timed out and killed.
        env = os.environ | dict(MENTOR_DATA_DIR=str(root / "data"), MENTOR_KNOWLEDGE_DIR=str(knowledge),
                                MENTOR_LLM_BACKEND="offline", MENTOR_EMBEDDER="wordllama")
        cmd = [sys.executable, "-c", "import sys; from assistant.cli import main; sys.exit(main(['ingest']))"]
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=float(sys.argv[6]))
            result["full"] = {"code": done.returncode, "out": done.stdout, "err": done.stderr}
        except subprocess.TimeoutExpired as exc:
            result["full"] = {"code": "hung", "out": "", "err": f"no answer after {exc.timeout:.0f}s"}
        sh("mount", "-o", "remount,size=256m", str(root))
        result["retry"] = mentor(root / "data", "ingest")
        rt = Runtime(make_settings(root / "data", knowledge_dir=knowledge, embedder="wordllama"))
        chunks, _, vectors = rt.store.all_records(with_vectors=True)
        result["count"] = len(chunks)
        result["self_found"] = sum(c.id in [h.id for h, _ in rt.store.query(v, 2)] for c, v in zip(chunks, vectors))
    print("RESULT " + json.dumps(result))
    """
)


def _namespace_prefix() -> list[str]:
    """`unshare` into a private mount namespace (as root directly, otherwise as a mapped root user)."""
    if shutil.which("unshare") is None:
        pytest.skip("util-linux `unshare` is not installed; cannot create a private mount namespace")
    base = ["unshare", "--mount", "--propagation", "private"]
    prefix = base if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", *base[1:]]
    probe = subprocess.run(
        [*prefix, "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", "/tmp"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"this kernel/container does not allow a private mount namespace: {probe.stderr.strip()}")
    return prefix


def _in_namespace(
    scenario: str, root: Path, knowledge: Path, *extra: str, timeout: float = CHILD_TIMEOUT_S
) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    cmd = [
        *_namespace_prefix(),
        sys.executable,
        "-c",
        CHILD_MOUNTS,
        str(TESTS_DIR),
        scenario,
        str(root),
        str(knowledge),
        *extra,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"child failed ({done.returncode}): {done.stderr[-3000:]}"
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def _one_clear_line(result: dict[str, Any]) -> str:
    assert result["code"] == 2, result
    err = str(result["err"])
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_read_only_data_directory_gives_a_clear_error(small_kb: Path, tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(small_kb, knowledge)
    result = _in_namespace("read-only", tmp_path / "mnt", knowledge)
    assert result["build"]["code"] == 0, result["build"]
    for action in ("ingest", "retrieve"):
        err = _one_clear_line(result[action]).lower()
        assert "read-only" in err or "not writable" in err, f"{action}: {err}"
        assert "damaged" not in err, f"{action}: a read-only folder is not a damaged index: {err}"


@pytest.fixture(scope="module")
def disk_full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`mentor ingest` of the curated knowledge on a 5 MB filesystem, then again once it has room."""
    # ~3 MB of tokenizer cache plus ~4.5 MB of index: 5 MB fills up in the middle of writing the index.
    mnt = tmp_path_factory.mktemp("full") / "mnt"
    return _in_namespace("disk-full", mnt, REPO / "knowledge", "5m", "20", timeout=DISK_FULL_TIMEOUT_S)


def test_after_a_full_disk_a_retry_completes_the_index(disk_full: dict[str, Any]) -> None:
    # Whatever the first run did (error, or a write that never returned and was killed), a retry with room fixes it.
    assert disk_full["full"]["code"] != 0, "the first run did hit the full disk"
    assert disk_full["retry"]["code"] == 0, disk_full["retry"]
    assert f"{len(list((REPO / 'knowledge').glob('*.md')))} files" in disk_full["retry"]["out"]
    assert disk_full["count"] > 0 and disk_full["self_found"] == disk_full["count"]


def test_a_full_disk_gives_one_clear_line(disk_full: dict[str, Any]) -> None:
    result = disk_full["full"]
    assert result["code"] == 2, result
    err = str(result["err"])
    assert "Traceback" not in err, err
    line = next(ln for ln in err.splitlines() if ln.startswith("error: "))
    assert "space" in line.lower() and "data" in line.lower(), line
