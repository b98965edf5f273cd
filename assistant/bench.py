"""`mentor bench`: retrieval quality and latency, query encoding, ingestion throughput and peak memory at growing
corpus sizes, side by side with like-for-like peers (LangChain's EnsembleRetriever and BM25Retriever, numpy
brute force). Methods are timed interleaved, query by query, in one run (assistant/benchmarks/timing.py)."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import platform
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from assistant.benchmarks import peers
from assistant.benchmarks.quality import compare, labelled_questions
from assistant.benchmarks.report import to_markdown
from assistant.benchmarks.timing import WARMUP, time_interleaved
from assistant.errors import InputError, SetupError
from assistant.retrieval import is_searched
from assistant.settings import REPO_ROOT, Settings, get_settings
from assistant.stores import write_lock
from assistant.types import Chunk

QUERIES_FILE = REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl"
LOAD_SCRIPT = REPO_ROOT / "bench" / "load.py"
K = 5
SECTIONS_PER_FILE = 50  # synthetic chunks per Markdown file: a long handbook
REPLACE_RATE = 0.25  # share of words swapped for corpus-vocabulary words in a synthetic chunk
# Up to this size every chunk is written as Markdown and indexed by the real Ingestor (embedded for real);
# above it, synthetic chunks get derived vectors (see mixed_vectors), since a sentence encoder on 2 cores
# embeds a few dozen chunks a second and 100k chunks would take most of an hour.
INGESTOR_MAX = 10_000
DIRECT_BATCH = 2000
CALIBRATION_SAMPLE = 48  # synthetic chunks embedded for real to calibrate the derived vectors
# rank_bm25 scores every document in Python for every query; past this many chunk-queries it is capped.
LC_BM25_BUDGET = 3_000_000


class Targets(TypedDict):
    encode_p50_ms: float
    retrieve_p50_ms: dict[int, float]  # corpus size -> limit
    curated_index_seconds: float
    dense_doc_hit1_points_over_compared: float


TARGETS: Targets = {
    "encode_p50_ms": 15.0,
    "retrieve_p50_ms": {10_000: 25.0, 100_000: 40.0},
    "curated_index_seconds": 30.0,
    "dense_doc_hit1_points_over_compared": 10.0,
}
METHODS = ("hybrid", "bm25", "dense", "langchain_ensemble", "langchain_bm25", "numpy", "embed")
LANGCHAIN_METHODS = ("langchain_ensemble", "langchain_bm25")
METHOD_LABELS = {
    "hybrid": "ours: hybrid (bm25s + Chroma HNSW, weighted RRF, MMR), query encoding included",
    "bm25": "ours: BM25 only (bm25s)",
    "dense": "ours: dense only (Chroma HNSW, exact re-rank), query encoding included",
    "langchain_ensemble": "LangChain EnsembleRetriever (BM25Retriever + Chroma retriever, same embedder, k=5)",
    "langchain_ensemble_our_fusion": "LangChain EnsembleRetriever with our fusion weights and RRF k",
    "langchain_bm25": "LangChain BM25Retriever (rank_bm25)",
    "numpy": "numpy brute-force cosine over the same vectors, query encoding included",
    "embed": "query encoding alone (one question)",
}
# (numerator, denominator, what the ratio of their p50 latencies says); below 1 the numerator is faster.
RATIOS = (
    ("hybrid", "langchain_ensemble", "ours vs LangChain's hybrid: both BM25 + Chroma dense, same embedder and k"),
    ("hybrid", "numpy", "our whole hybrid (BM25, dense, fusion, MMR) vs a dense-only brute-force search"),
    ("dense", "numpy", "Chroma HNSW vs brute force: both dense over the same vectors, same query encoder"),
    ("langchain_bm25", "bm25", "rank_bm25 vs bm25s over the same texts: bm25s's speed, not ours"),
    ("embed", "hybrid", "share of our hybrid's time spent encoding the query"),
)
Progress = Callable[[str], None]
BarTick = Callable[[int, int, str], None]


# --- measurement helpers ---------------------------------------------------------------------
@dataclass
class Peak:
    """Peak resident memory of one stage: the kernel's high-water mark, reset at the stage start."""

    start_mb: float = 0.0
    peak_mb: float = 0.0
    method: str = ""

    @property
    def delta_mb(self) -> float:
        return max(0.0, self.peak_mb - self.start_mb)

    def as_dict(self) -> dict[str, Any]:
        return {"peak_rss_mb": round(self.peak_mb, 1), "delta_mb": round(self.delta_mb, 1), "method": self.method}


def _status_kb(field_name: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def _reset_high_water_mark() -> bool:
    # Writing 5 to clear_refs resets VmHWM (Linux >= 4.0), which gives true per-stage peaks.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextlib.contextmanager
def peak_memory() -> Iterator[Peak]:
    gc.collect()
    peak = Peak()
    if _reset_high_water_mark() and _status_kb("VmHWM") is not None:
        peak.method = "VmHWM reset per stage (/proc/self/clear_refs)"
        peak.start_mb = (_status_kb("VmRSS") or 0.0) / 1024
        yield peak
        peak.peak_mb = (_status_kb("VmHWM") or 0.0) / 1024
        return
    # Elsewhere only the process-lifetime peak exists, so a stage shows growth of that peak.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    peak.method = "ru_maxrss growth (process-lifetime peak)"
    peak.start_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    yield peak
    peak.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def numpy_search(vectors: np.ndarray, qv: np.ndarray, k: int = K) -> np.ndarray:
    """Exact cosine top-k: one matrix-vector product and a partial sort (vectors are unit length)."""
    scores = vectors @ qv
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread included: on a shared machine it moves far less with
    other jobs' load than wall time does."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare(embedder: Any) -> Any:
    """The embedder without its memory of recent texts: every timed search encodes its query afresh."""
    return getattr(embedder, "inner", embedder)


# --- corpus --------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


def load_queries(n: int) -> list[str]:
    if not QUERIES_FILE.exists():
        raise SetupError(f"The benchmark reads its queries from {QUERIES_FILE}, which is missing.")
    questions = [json.loads(line)["question"] for line in QUERIES_FILE.read_text().splitlines() if line.strip()]
    if not questions:
        raise InputError(f"{QUERIES_FILE} holds no questions.")
    return [questions[i % len(questions)] for i in range(max(1, n))]


def vocabulary(texts: list[str]) -> list[str]:
    return sorted({w.lower() for t in texts for w in _WORD.findall(t)})


def synthetic_text(base: str, vocab: list[str], rng: random.Random) -> str:
    """A new chunk with the statistics of a real one: the sentences of each paragraph shuffled and a quarter of
    its words replaced; paragraph and list breaks stay, since the chunker's cost depends on them."""

    def swap(match: re.Match[str]) -> str:
        return rng.choice(vocab) if rng.random() < REPLACE_RATE else match.group(0)

    lines = []
    for line in base.split("\n"):
        sentences = _SENTENCE.split(line)
        rng.shuffle(sentences)
        lines.append(" ".join(_WORD.sub(swap, s) for s in sentences))
    return "\n".join(lines).strip()


@dataclass
class SeedCorpus:
    """The real chunks of the built curated index (and their vectors), grouped by the file they came from."""

    files: dict[str, int]  # source path -> chunks it yields
    texts: list[str]
    topics: list[str]
    headings: list[str]
    vectors: np.ndarray
    vocab: list[str] = field(default_factory=list)


@dataclass
class Handbook:
    """One synthetic file's chunks and, for each, the real chunk it was made from."""

    chunks: list[Chunk]
    bases: list[int]


def write_corpus(
    seed: SeedCorpus, size: int, folder: Path, rng: random.Random, synthetic_files: bool = True
) -> tuple[int, int]:
    """Fill folder with Markdown files that chunk to about `size` chunks: real files first, then synthetic
    handbooks (unless `synthetic_files` is off). Returns (real chunks, synthetic chunks) wanted."""
    folder.mkdir(parents=True, exist_ok=True)
    real = 0
    for source, n in seed.files.items():
        if real and real + n > size:
            break
        shutil.copyfile(source, folder / Path(source).name)
        real += n
    synthetic = max(0, size - real)
    if synthetic_files:
        for book in synthetic_chunks(seed, synthetic, rng):
            chunks = book.chunks
            sections = [f"## {c.heading.rsplit(' > ', 1)[-1]}\n\n{c.text}\n" for c in chunks]
            front = (
                f"---\ntitle: {chunks[0].title}\ntopic: {chunks[0].topic}\ntags: [synthetic]\n"
                "summary: Benchmark filler made from reshuffled guidance.\n---\n\n"
            )
            (folder / chunks[0].source).write_text(front + "\n".join(sections))
    return real, synthetic


def synthetic_chunks(seed: SeedCorpus, count: int, rng: random.Random) -> Iterator[Handbook]:
    """`count` synthetic chunks, grouped as handbooks of SECTIONS_PER_FILE sections sharing one topic."""
    for number, start in enumerate(range(0, count, SECTIONS_PER_FILE)):
        bases = [rng.randrange(len(seed.texts)) for _ in range(min(SECTIONS_PER_FILE, count - start))]
        title, source, topic = f"Synthetic handbook {number}", f"synthetic-{number:05d}.md", seed.topics[bases[0]]
        chunks = [
            Chunk(
                id=f"{source}#{i}",
                text=synthetic_text(seed.texts[b], seed.vocab, rng),
                title=title,
                topic=topic,
                source=source,
                heading=f"{title} > {seed.headings[b].rsplit(' > ', 1)[-1]} (variant {start + i})",
                tags=("synthetic",),
            )
            for i, b in enumerate(bases)
        ]
        yield Handbook(chunks, bases)


def mixed_vectors(seed: SeedCorpus, bases: list[int], partners: list[int], weight: float) -> np.ndarray:
    """Each source chunk's vector moved `weight` of the way towards another real chunk's, renormalised: as a
    synthetic chunk takes a quarter of its words from elsewhere in the corpus, its vector stays among real
    ones. (Isotropic Gaussian noise instead makes the copies of one chunk mutually equidistant, a shape real
    text never has and HNSW handles badly: at 100k such vectors, Chroma found only 40% of stored vectors
    among their own top 3.)"""
    mixed = (1.0 - weight) * seed.vectors[bases] + weight * seed.vectors[partners]
    return (mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def mix_weight_for(seed: SeedCorpus, bases: list[int], partners: list[int], cosine: float) -> float:
    """The weight that puts mixed vectors at the wanted mean cosine from their source (bisection: the cosine
    falls as the weight grows)."""
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        got = float(np.mean(np.sum(mixed_vectors(seed, bases, partners, middle) * seed.vectors[bases], axis=1)))
        low, high = (middle, high) if got > cosine else (low, middle)
    return (low + high) / 2


def calibrate_mix(embedder: Any, seed: SeedCorpus, rng: random.Random) -> dict[str, float]:
    """How far synthetic chunks encoded for real lie from the chunk each was made from, as the mixing weight
    that puts derived vectors the same distance away."""
    from assistant.ingestion.ingestor import embedding_text

    book = next(synthetic_chunks(seed, CALIBRATION_SAMPLE, rng))
    real = embedder.embed([embedding_text(c) for c in book.chunks])
    cosine = float(np.mean(np.sum(real * seed.vectors[book.bases], axis=1)))
    partners = [rng.randrange(len(seed.texts)) for _ in book.bases]
    weight = mix_weight_for(seed, book.bases, partners, cosine)
    return {"cosine_to_source": round(cosine, 4), "mix_weight": round(weight, 4), "sample": len(book.chunks)}


def live_chroma(store: Any) -> tuple[Any, str]:
    """The Chroma client and the collection serving now: after a rebuild that is a new generation
    (`<collection>-g<n>`), not the configured base name."""
    from assistant.stores._chroma import ChromaStore

    if not isinstance(store, ChromaStore):
        raise SetupError(f"The LangChain peers read a Chroma collection; this index is {store.name}.")
    return store.live_handle()


def add_direct(rt: Any, seed: SeedCorpus, count: int, rng: random.Random) -> dict[str, float | None]:
    """Large sizes: synthetic chunks with derived vectors, written through the store's upsert in big batches."""
    calibration = calibrate_mix(bare(rt.embedder), seed, random.Random(1))
    chunks: list[Chunk] = []
    bases: list[int] = []
    cosines: list[float] = []

    def write() -> None:
        partners = [rng.randrange(len(seed.texts)) for _ in bases]
        vectors = mixed_vectors(seed, bases, partners, calibration["mix_weight"])
        cosines.extend(np.sum(vectors * seed.vectors[bases], axis=1).tolist())
        extra = [{"file_hash": "synthetic", "n_chunks": SECTIONS_PER_FILE}] * len(chunks)
        rt.store.upsert(chunks, vectors, extra)
        chunks.clear()
        bases.clear()

    with write_lock(rt.store):
        for book in synthetic_chunks(seed, count, rng):
            chunks.extend(book.chunks)
            bases.extend(book.bases)
            if len(chunks) >= DIRECT_BATCH:
                write()
        if chunks:
            write()
    return calibration | {"derived_cosine_to_source": round(float(np.mean(cosines)), 4) if cosines else None}


# --- the curated knowledge base --------------------------------------------------------------------
def build_seed(
    settings: Settings, workdir: Path, progress: Progress, bar: BarTick | None = None
) -> tuple[Any, SeedCorpus, dict[str, Any]]:
    """Index the curated knowledge into a scratch index (timed, with a progress bar) and read back its chunks."""
    from assistant.runtime import Runtime

    rt = Runtime(settings.model_copy(update={"data_dir": workdir / "seed"}))
    progress(f"indexing the curated knowledge base ({settings.knowledge_dir}) with `{settings.embedder}`")
    with peak_memory() as mem:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        report = rt.ingestor.run(progress=bar)  # the embedder loads here: its first load is part of the time
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    chunks, _, vectors = rt.store.all_records(with_vectors=True)
    if not chunks or vectors is None:
        raise InputError(f"No guidance was indexed from {settings.knowledge_dir}; the benchmark needs its chunks.")
    files: dict[str, int] = {}
    for c in chunks:
        path = Path(c.source) if Path(c.source).is_absolute() else REPO_ROOT / c.source
        files[str(path)] = files.get(str(path), 0) + 1
    order = sorted(range(len(chunks)), key=lambda i: chunks[i].id)
    seed = SeedCorpus(
        files=dict(sorted(files.items())),
        texts=[chunks[i].text for i in order],
        topics=[chunks[i].topic for i in order],
        headings=[chunks[i].heading for i in order],
        vectors=vectors[order],
    )
    seed.vocab = vocabulary(seed.texts)
    progress(f"curated knowledge: {len(chunks)} chunks from {len(files)} files in {seconds:.1f} s")
    stats = {
        "chunks": len(chunks),
        "files": len(files),
        "skipped": len(report.skipped),
        "vocabulary": len(seed.vocab),
        "ingest_seconds": round(seconds, 2),
        "ingest_cpu_seconds": round(cpu, 1),
        "ingest_chunks_per_s": round(len(chunks) / seconds, 1) if seconds else None,
        "vectors_from_shipped_table": shipped_share(rt, chunks),
        "memory": mem.as_dict(),
    }
    return rt, seed, stats


def shipped_share(rt: Any, chunks: list[Chunk]) -> int:
    """How many of these chunks the runtime's table of shipped vectors holds (their vectors were looked up, not
    encoded); none when it runs without one."""
    from assistant.ingestion.ingestor import embedding_text

    table = getattr(rt.embedder, "known", None)
    return len(table.find([embedding_text(c) for c in chunks])) if table else 0


def searcher(retriever: Any, mode: str) -> Callable[[str], list[str]]:
    return lambda q: [h.chunk.source for h in retriever.search(q, K, mode=mode, fresh=True)]


def quality_section(
    rt: Any, settings: Settings, workdir: Path, other_embedder: str | None, queries: list[str], progress: Progress
) -> dict[str, Any]:
    """Document-level quality and latency of every retriever on the curated knowledge, side by side."""
    from assistant.runtime import Runtime

    retriever = rt.retriever
    retriever.embedder = bare(rt.embedder)
    chunks = retriever.chunks
    questions = labelled_questions(QUERIES_FILE, [c.source for c in chunks])
    methods = {mode: searcher(retriever, mode) for mode in ("hybrid", "bm25", "dense")}
    if peers.langchain_peers_available():
        bm25 = peers.bm25_retriever(chunks, K)
        dense = peers.chroma_retriever(*live_chroma(rt.store), retriever.embedder, K)
        default = peers.ensemble_retriever(bm25, dense)
        ours = peers.ensemble_retriever(bm25, dense, retriever.fusion.weights, retriever.fusion.rrf_k)
        methods["langchain_ensemble"] = lambda q: peers.sources(default.invoke(q), K)
        methods["langchain_ensemble_our_fusion"] = lambda q: peers.sources(ours.invoke(q), K)
        methods["langchain_bm25"] = lambda q: peers.sources(bm25.invoke(q), K)
    compared = None
    if other_embedder and other_embedder != settings.embedder:
        progress(f"indexing the curated knowledge base again with `{other_embedder}` to compare")
        compared = Runtime(
            settings.model_copy(update={"data_dir": workdir / f"seed-{other_embedder}", "embedder": other_embedder})
        )
        compared.ingestor.run()
        other = compared.retriever
        other.embedder = bare(compared.embedder)
        methods[f"{other_embedder}:hybrid"] = searcher(other, "hybrid")
        methods[f"{other_embedder}:dense"] = searcher(other, "dense")
    progress(f"quality: {len(questions)} labelled questions x {len(methods)} methods, interleaved")
    results = compare(methods, questions)
    encoder = retriever.embedder
    encode = time_interleaved({"embed": lambda q: encoder.embed([q])}, queries)
    return {
        "questions": len(questions),
        "test_questions": sum(q.split == "test" for q in questions),
        "chunks": len(chunks),
        "methods": results,
        "compared_embedder": other_embedder if compared else None,
        "encode": encode["embed"],
    }


# --- one corpus size -------------------------------------------------------------------------
def index_corpus(
    settings: Settings, seed: SeedCorpus, size: int, workdir: Path, progress: Progress
) -> tuple[Any, dict[str, Any]]:
    """Build one corpus size into its own scratch index; returns the runtime over it and the ingestion figures."""
    from assistant.runtime import Runtime

    folder = workdir / f"corpus-{size}"
    via_files = size <= INGESTOR_MAX
    rng = random.Random(size)
    real, synthetic = write_corpus(seed, size, folder / "knowledge", rng, synthetic_files=via_files)
    # Without the vectors shipped for the curated knowledge: every chunk here is encoded, so chunks/s is the
    # pipeline's own throughput (the curated index's time, with them, is measured in build_seed).
    update = {"data_dir": folder / "data", "knowledge_dir": folder / "knowledge", "precomputed_vectors": False}
    rt = Runtime(settings.model_copy(update=update))
    path = "Ingestor (files, every chunk embedded)" if via_files else "Ingestor + derived vectors (store.upsert)"
    progress(f"size {size}: indexing {real} real + {synthetic} synthetic chunks ({path})")
    derived: dict[str, Any] | None = None
    with peak_memory() as mem:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        report = rt.ingestor.run()
        if not via_files:
            derived = add_direct(rt, seed, synthetic, rng)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    chunks = rt.store.count()
    return rt, {
        "real_chunks": real,
        "synthetic_chunks": synthetic,
        "path": path,
        "via_files": via_files,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 1),
        "chunks": chunks,
        "files": report.files + (0 if via_files else -(-synthetic // SECTIONS_PER_FILE)),
        # chunks/s is an ingestion figure only where every chunk went through the real pipeline
        "chunks_per_s": round(chunks / seconds, 1) if seconds and via_files else None,
        "derived_vectors": derived,
        "memory": mem.as_dict(),
    }


def bench_size(
    settings: Settings, seed: SeedCorpus, size: int, queries: list[str], workdir: Path, progress: Progress
) -> dict[str, Any]:
    rt, ingest = index_corpus(settings, seed, size, workdir, progress)
    memory: dict[str, Any] = {"ingest": ingest.pop("memory")}
    with peak_memory() as mem_index:
        started = time.perf_counter()
        retriever = rt.retriever
        retriever.refresh(force=True)
        memory["our_index_load"] = {"seconds": round(time.perf_counter() - started, 2)}
    memory["our_index_load"] |= mem_index.as_dict()
    retriever.embedder = encoder = bare(rt.embedder)  # the queries repeat: no remembered query vectors
    vectors = retriever._vectors  # the very matrix our MMR uses: numpy searches exactly what Chroma holds
    memory["vectors_matrix_mb"] = round(vectors.nbytes / 2**20, 1)
    methods: dict[str, Callable[[str], Any]] = {
        "hybrid": lambda q: retriever.search(q, K, fresh=True),
        "bm25": lambda q: retriever.search(q, K, mode="bm25", fresh=True),
        "dense": lambda q: retriever.search(q, K, mode="dense", fresh=True),
        "numpy": lambda q: numpy_search(vectors, encoder.embed([q])[0]),
        "embed": lambda q: encoder.embed([q]),
    }
    if peers.langchain_peers_available():
        with peak_memory() as mem_lc:
            started = time.perf_counter()
            bm25 = peers.bm25_retriever(retriever.chunks, K)
            build = time.perf_counter() - started
        memory["langchain_bm25_build"] = mem_lc.as_dict() | {"seconds": round(build, 2)}
        ensemble = peers.ensemble_retriever(bm25, peers.chroma_retriever(*live_chroma(rt.store), encoder, K))
        methods["langchain_ensemble"] = ensemble.invoke
        methods["langchain_bm25"] = bm25.invoke
    budget = max(WARMUP + 2, min(len(queries), LC_BM25_BUDGET // max(1, len(vectors))))
    progress(f"size {size}: timing {len(queries)} queries x {len(methods)} methods, interleaved")
    latency = time_interleaved(methods, queries, budgets=dict.fromkeys(LANGCHAIN_METHODS, budget))
    progress(f"size {size}: hybrid p50 {latency['hybrid']['p50_ms']:.2f} ms")
    return {
        "size": size,
        "chunks": ingest["chunks"],
        "real_chunks": ingest.pop("real_chunks"),
        "synthetic_chunks": ingest.pop("synthetic_chunks"),
        "ingest": ingest,
        "latency": latency,
        "ratios": ratios(latency),
        "memory": memory,
        "dense_recall_at_5_vs_exact": hnsw_recall(retriever, vectors, encoder.embed, queries),
    }


def hnsw_recall(
    retriever: Any, vectors: np.ndarray, embed: Callable[[list[str]], np.ndarray], queries: list[str]
) -> float:
    """How many of the exact top-5 the approximate Chroma search returns: speed must not cost answers."""
    found = total = 0
    searched = [i for i, c in enumerate(retriever.chunks) if is_searched(c)]  # what dense search may return
    ids = [retriever.chunks[i].id for i in searched]
    for q in dict.fromkeys(queries):
        exact = {ids[i] for i in numpy_search(vectors[searched], embed([q])[0])}
        approx = {h.chunk.id for h in retriever.search(q, K, mode="dense", fresh=True)}
        found += len(exact & approx)
        total += len(exact)
    return round(found / total, 4) if total else float("nan")


def ratios(latency: dict[str, Any]) -> list[dict[str, Any]]:
    """Each ratio of p50 latencies with what it compares; None where a side was not measured."""
    out = []
    for a, b, meaning in RATIOS:
        value = None
        if a in latency and b in latency and latency[b]["p50_ms"]:
            value = round(latency[a]["p50_ms"] / latency[b]["p50_ms"], 3)
        out.append({"name": f"{a} / {b}", "compares": meaning, "value": value})
    return out


# --- whole run -----------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    mem_kb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 2**20, 1) if mem_kb else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load_average() -> float | None:
    # Other work on the machine slows every number; the report says how busy it was.
    with contextlib.suppress(OSError, AttributeError):
        return round(os.getloadavg()[0], 2)
    return None


def _check(target: str, value: Any, met: bool) -> dict[str, Any]:
    return {"target": target, "value": value, "met": bool(met)}


def targets_check(data: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    quality, seed = data["quality"], data["seed"]
    encode = quality["encode"]["p50_ms"]
    checks.append(
        _check(f"query encoding p50 <= {TARGETS['encode_p50_ms']:g} ms", encode, encode <= TARGETS["encode_p50_ms"])
    )
    limit = TARGETS["curated_index_seconds"]
    seconds = seed["ingest_seconds"]
    checks.append(_check(f"curated knowledge base indexed in <= {limit:g} s", seconds, seconds <= limit))
    methods = quality["methods"]
    if "langchain_ensemble" in methods:
        ours, theirs = methods["hybrid"], methods["langchain_ensemble"]
        for metric in ("doc_hit@1", "doc_mrr"):
            checks.append(
                _check(
                    f"hybrid >= LangChain EnsembleRetriever on {metric}",
                    f"{ours[metric]} vs {theirs[metric]}",
                    ours[metric] >= theirs[metric],
                )
            )
    other = quality["compared_embedder"]
    if other:
        gain = round(100 * (methods["dense"]["doc_hit@1"] - methods[f"{other}:dense"]["doc_hit@1"]), 1)
        points = TARGETS["dense_doc_hit1_points_over_compared"]
        checks.append(_check(f"dense doc hit@1 >= {other}'s + {points:g} points", f"+{gain}", gain >= points))
    for result in data["sizes"]:
        size, latency = result["size"], result["latency"]
        p50_limit = TARGETS["retrieve_p50_ms"].get(size)
        if p50_limit is not None:
            p50 = latency["hybrid"]["p50_ms"]
            checks.append(
                _check(f"hybrid retrieve p50 <= {p50_limit:g} ms at {size:,}, encoding included", p50, p50 <= p50_limit)
            )
        if size == 10_000 and "langchain_ensemble" in latency:
            ours, theirs = latency["hybrid"]["p50_ms"], latency["langchain_ensemble"]["p50_ms"]
            checks.append(
                _check("hybrid faster than EnsembleRetriever at 10,000 (p50)", f"{ours} vs {theirs}", ours < theirs)
            )
    return checks


def run_bench(
    sizes: list[int],
    n_queries: int,
    settings: Settings | None = None,
    progress: Progress | None = None,
    bar: BarTick | None = None,
    compare_embedder: str | None = "wordllama",
) -> dict[str, Any]:
    """The whole benchmark in one process, sizes in increasing order; scratch indexes are removed afterwards."""
    from assistant.offline import prepare_offline

    say = progress or (lambda _msg: None)
    base = (settings or get_settings()).model_copy(update={"chroma_host": None, "database_url": None})
    queries = load_queries(n_queries)
    started, load_before = time.perf_counter(), load_average()
    with tempfile.TemporaryDirectory(prefix="mentor-bench-") as tmp:
        workdir = Path(tmp)
        prepare_offline(workdir / "cache")
        seed_rt, seed, seed_stats = build_seed(base, workdir, say, bar)
        quality = quality_section(seed_rt, base, workdir, compare_embedder, queries, say)
        results = [bench_size(base, seed, size, queries, workdir, say) for size in sorted(set(sizes))]
    data = {
        "machine": machine() | {"load_average_start": load_before, "load_average_end": load_average()},
        "embedder": base.embedder,
        "embedder_name": seed_rt.embedder.name,
        "k": K,
        "queries": {
            "n": len(queries),
            "distinct": len(set(queries)),
            "source": QUERIES_FILE.relative_to(REPO_ROOT).as_posix(),
        },
        "corpus_method": CORPUS_METHOD,
        "memory_method": seed_stats["memory"]["method"],
        "seed": seed_stats,
        "quality": quality,
        "sizes": results,
        "langchain_available": peers.langchain_peers_available(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    data["targets"] = targets_check(data)
    return data


CORPUS_METHOD = (
    "The real chunks of the curated knowledge base (indexed fresh from knowledge/) come first; the rest are "
    f"synthetic: each is a random real chunk with the sentences of each paragraph shuffled and "
    f"{int(REPLACE_RATE * 100)}% of its words replaced by words drawn from the corpus vocabulary, grouped as "
    f"handbooks of {SECTIONS_PER_FILE} sections. Up to {INGESTOR_MAX:,} chunks the handbooks are written as "
    "Markdown files and indexed by the real Ingestor (parsing, token chunking, embedding every chunk, Chroma "
    "upserts). Above that, the synthetic chunks are not encoded: each gets the vector of the real chunk it was "
    "made from moved part of the way towards a random other real chunk's (as its replaced words come from "
    "elsewhere in the corpus), the share chosen so that its cosine to its source matches what "
    f"{CALIBRATION_SAMPLE} synthetic chunks encoded for real showed; they are written through the store's upsert "
    f"in batches of {DIRECT_BATCH}. BM25 indexes every synthetic text; latency at those sizes is real, ingestion "
    "speed is not "
    "reported."
)


# --- CLI -----------------------------------------------------------------------------------------
def parse_sizes(text: str, what: str = "--sizes") -> list[int]:
    try:
        values = [int(part.replace("_", "").replace("k", "000")) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise InputError(f"{what} takes whole numbers separated by commas, like 1000,10000 (got {text!r})") from exc
    if not values or any(v < 1 for v in values):
        raise InputError(f"{what} needs at least one positive number (got {text!r})")
    return values


def load_script() -> Any:
    """bench/load.py as a module: the load test starts the real app, so it ships with the source checkout."""
    if not LOAD_SCRIPT.exists():
        raise SetupError(f"The load test needs {LOAD_SCRIPT} from a source checkout of Mentor Assistant.")
    name = "mentor_bench_load"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, LOAD_SCRIPT)
        if spec is None or spec.loader is None:
            raise SetupError(f"Cannot load {LOAD_SCRIPT} as a Python module.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file executes
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_load(users: list[int], progress: Progress) -> dict[str, Any]:
    return dict(load_script().run_load(users=users, progress=progress))


@contextlib.contextmanager
def progress_bar(enabled: bool, say: Progress) -> Iterator[BarTick]:
    """A live bar on a terminal; elsewhere (a log, CI) a line at each quarter, so the wait is never silent."""
    if enabled and sys.stderr.isatty():
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
        with Progress(*columns, TimeElapsedColumn(), transient=False) as bar:
            task = bar.add_task("Indexing", total=None)
            yield lambda done, total, name: bar.update(task, completed=done, total=total, description=f"{name[:40]}")
        return
    started, shown = time.perf_counter(), set()

    def quarter(done: int, total: int, name: str) -> None:
        step = 4 * done // max(total, 1)
        if enabled and step not in shown:
            shown.add(step)
            say(f"indexing: {done}/{total} files ({time.perf_counter() - started:.0f} s)")

    yield quarter


def run_cli(args: Any) -> int:
    sizes = parse_sizes(args.sizes)
    if args.queries < 1:
        raise InputError("--queries must be at least 1")

    def progress(message: str) -> None:  # on stderr, so `--json` keeps stdout for the JSON alone
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    other = None if args.compare_embedder == "none" else args.compare_embedder
    with progress_bar(True, progress) as bar:
        data = run_bench(sizes, args.queries, progress=progress, bar=bar, compare_embedder=other)
    markdown = to_markdown(data, METHOD_LABELS)
    if args.load:
        data["load"] = run_load(parse_sizes(args.users, "--users"), progress)
        markdown += "\n" + str(data["load"].get("markdown", ""))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown)
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(markdown)
    # Latency is reported, not judged; a lost or failed turn is a correctness failure.
    failed = any(lv["errors"] or lv["lost_turns"] for lv in data.get("load", {}).get("levels", []))
    return 1 if failed else 0
