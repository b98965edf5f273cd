"""`mentor bench`: retrieval latency, ingestion throughput and peak memory at growing corpus sizes, side by side
with two baselines (LangChain's `BM25Retriever` over `rank_bm25`, and brute-force numpy dot products)."""

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
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import REPO_ROOT, Settings, get_settings
from assistant.types import Chunk

QUERIES_FILE = REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl"
LOAD_SCRIPT = REPO_ROOT / "bench" / "load.py"
K = 5
SECTIONS_PER_FILE = 50  # synthetic chunks per Markdown file: a long handbook, one upsert batch per file
REPLACE_RATE = 0.25  # share of words swapped for corpus-vocabulary words in a synthetic chunk
WARMUP = 3
# Above this size the synthetic chunks skip the Markdown round trip (see add_direct) to keep the run short.
INGESTOR_MAX = 20_000
DIRECT_BATCH = 2000
# rank_bm25 scores every document in Python for every query; past this many chunk-queries it is capped.
LC_BM25_BUDGET = 3_000_000
TARGETS = {"retrieve_p50_ms_10k": 10.0, "retrieve_p50_ms_100k": 50.0, "ingest_chunks_per_s": 500.0}
METHODS = ("hybrid", "bm25", "dense", "numpy", "langchain_bm25", "embed")
METHOD_LABELS = {
    "hybrid": "ours: hybrid (bm25s + Chroma HNSW, RRF, MMR)",
    "bm25": "ours: bm25 only (bm25s)",
    "dense": "ours: dense only (Chroma HNSW)",
    "numpy": "baseline: numpy brute-force dot product",
    "langchain_bm25": "baseline: LangChain BM25Retriever (rank_bm25)",
    "embed": "query embedding alone (part of every dense path)",
}
Progress = Callable[[str], None]


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


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def time_queries(fn: Callable[[str], Any], queries: list[str]) -> dict[str, Any]:
    """p50/p95 wall time of fn over the queries, after a short warm-up (first calls fill caches)."""
    for q in queries[:WARMUP]:
        fn(q)
    times: list[float] = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": round(percentile(times, 50), 3),
        "p95_ms": round(percentile(times, 95), 3),
        "mean_ms": round(statistics.fmean(times), 3),
        "n": len(times),
    }


# --- corpus --------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


def load_queries(n: int) -> list[str]:
    if not QUERIES_FILE.exists():
        raise FileNotFoundError(f"The benchmark reads its queries from {QUERIES_FILE}, which is missing.")
    questions = [json.loads(line)["question"] for line in QUERIES_FILE.read_text().splitlines() if line.strip()]
    if not questions:
        raise ValueError(f"{QUERIES_FILE} holds no questions.")
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
    """The real chunks of the built curated index, grouped by the file they came from."""

    files: dict[str, int]  # source path -> chunks it yields
    texts: list[str]
    topics: list[str]
    headings: list[str]
    vocab: list[str] = field(default_factory=list)


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
        for chunks in synthetic_chunks(seed, synthetic, rng):
            sections = [f"## {c.heading.rsplit(' > ', 1)[-1]}\n\n{c.text}\n" for c in chunks]
            front = (
                f"---\ntitle: {chunks[0].title}\ntopic: {chunks[0].topic}\ntags: [synthetic]\n"
                "summary: Benchmark filler made from reshuffled guidance.\n---\n\n"
            )
            (folder / chunks[0].source).write_text(front + "\n".join(sections))
    return real, synthetic


def synthetic_chunks(seed: SeedCorpus, count: int, rng: random.Random) -> Iterator[list[Chunk]]:
    """`count` synthetic chunks, grouped as handbooks of SECTIONS_PER_FILE sections sharing one topic."""
    from assistant.types import Chunk

    for number, start in enumerate(range(0, count, SECTIONS_PER_FILE)):
        bases = [rng.randrange(len(seed.texts)) for _ in range(min(SECTIONS_PER_FILE, count - start))]
        title, source, topic = f"Synthetic handbook {number}", f"synthetic-{number:05d}.md", seed.topics[bases[0]]
        yield [
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


def add_direct(rt: Any, seed: SeedCorpus, count: int, rng: random.Random) -> None:
    """Large sizes: synthetic chunks embedded with the real embedder and written through the store's upsert in
    big batches, skipping only the file round trip (Markdown writing, parsing, token chunking)."""
    from assistant.knowledge import embedding_text

    batch: list[Chunk] = []
    with rt.store.write_lock():
        for handbook in synthetic_chunks(seed, count, rng):
            batch.extend(handbook)
            if len(batch) >= DIRECT_BATCH:
                _upsert(rt, batch, embedding_text)
                batch = []
        if batch:
            _upsert(rt, batch, embedding_text)


def _upsert(rt: Any, chunks: list[Chunk], text_of: Callable[[Chunk], str]) -> None:
    vectors = rt.embedder.embed([text_of(c) for c in chunks])
    rt.store.upsert(chunks, vectors, [{"file_hash": "synthetic", "n_chunks": SECTIONS_PER_FILE}] * len(chunks))


def build_seed(settings: Settings, workdir: Path, progress: Progress) -> tuple[SeedCorpus, dict[str, Any]]:
    """Build the curated knowledge into a scratch index and read back its real chunks."""
    from assistant.runtime import Runtime

    rt = Runtime(settings.model_copy(update={"data_dir": workdir / "seed"}))
    with peak_memory() as mem:
        report = rt.ingestor.run()
    chunks, _, _ = rt.store.all_records()
    if not chunks:
        raise ValueError(f"No guidance was indexed from {settings.knowledge_dir}; the benchmark needs its chunks.")
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
    )
    seed.vocab = vocabulary(seed.texts)
    progress(f"seed: {len(chunks)} real chunks from {len(files)} files, vocabulary {len(seed.vocab)} words")
    stats = {
        "chunks": len(chunks),
        "files": len(files),
        "vocabulary": len(seed.vocab),
        "ingest_seconds": round(report.seconds, 3),
        "ingest_chunks_per_s": round(len(chunks) / report.seconds, 1) if report.seconds else None,
        "memory": mem.as_dict(),
    }
    return seed, stats


# --- one corpus size -------------------------------------------------------------------------
def _langchain_bm25(texts: list[str]) -> Any:
    """The usual LangChain tutorial choice, with its defaults; None when langchain-community is not installed."""
    with warnings_quiet():  # the package warns on import that it is being sunset
        try:
            from langchain_community.retrievers import BM25Retriever
        except ImportError:
            return None
        return BM25Retriever.from_texts(texts, k=K)


@contextlib.contextmanager
def warnings_quiet() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def numpy_search(vectors: np.ndarray, qv: np.ndarray, k: int = K) -> np.ndarray:
    """Exact cosine top-k: one matrix-vector product and a partial sort (vectors are unit length)."""
    scores = vectors @ qv
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def index_corpus(
    settings: Settings, seed: SeedCorpus, size: int, workdir: Path, progress: Progress
) -> tuple[Any, dict[str, Any]]:
    """Build one corpus size into its own scratch index; returns the runtime over it and the ingestion figures."""
    from assistant.runtime import Runtime

    folder = workdir / f"corpus-{size}"
    via_files = size <= INGESTOR_MAX
    rng = random.Random(size)
    real, synthetic = write_corpus(seed, size, folder / "knowledge", rng, synthetic_files=via_files)
    rt = Runtime(settings.model_copy(update={"data_dir": folder / "data", "knowledge_dir": folder / "knowledge"}))
    path = "Ingestor (files)" if via_files else "Ingestor + store.upsert"
    progress(f"size {size}: indexing {real} real + {synthetic} synthetic chunks ({path})")
    with peak_memory() as mem:
        started = time.perf_counter()
        report = rt.ingestor.run()
        if not via_files:
            add_direct(rt, seed, synthetic, rng)
        seconds = time.perf_counter() - started
    chunks = rt.store.count()
    return rt, {
        "real_chunks": real,
        "synthetic_chunks": synthetic,
        "path": path,
        "via_files": via_files,
        "seconds": round(seconds, 2),
        "chunks": chunks,
        "files": report.files + (0 if via_files else -(-synthetic // SECTIONS_PER_FILE)),
        "chunks_per_s": round(chunks / seconds, 1) if seconds else None,
        "memory": mem.as_dict(),
    }


def time_methods(retriever: Any, vectors: np.ndarray, lc: Any, queries: list[str]) -> dict[str, Any]:
    embed = retriever.embedder.embed
    latency: dict[str, Any] = {
        "hybrid": time_queries(lambda q: retriever.search(q, K, fresh=True), queries),
        "bm25": time_queries(lambda q: retriever.search(q, K, mode="bm25", fresh=True), queries),
        "dense": time_queries(lambda q: retriever.search(q, K, mode="dense", fresh=True), queries),
        "numpy": time_queries(lambda q: numpy_search(vectors, embed([q])[0]), queries),
        "embed": time_queries(lambda q: embed([q]), queries),
    }
    if lc is not None:
        budget = max(WARMUP + 2, min(len(queries), LC_BM25_BUDGET // max(1, len(vectors))))
        latency["langchain_bm25"] = time_queries(lc.invoke, queries[:budget])
    return latency


def bench_size(
    settings: Settings, seed: SeedCorpus, size: int, queries: list[str], workdir: Path, progress: Progress
) -> dict[str, Any]:
    from assistant.knowledge import embedding_text

    rt, ingest = index_corpus(settings, seed, size, workdir, progress)
    memory: dict[str, Any] = {"ingest": ingest.pop("memory")}
    with peak_memory() as mem_index:
        started = time.perf_counter()
        retriever = rt.retriever
        retriever.refresh(force=True)
        memory["our_index_load"] = {"seconds": round(time.perf_counter() - started, 2)}
    memory["our_index_load"] |= mem_index.as_dict()
    # Every timed search starts from scratch: fresh=True skips remembered results and the bare embedder
    # remembers no query vectors (the queries repeat: 200 timings over 84 questions).
    retriever.embedder = getattr(rt.embedder, "inner", rt.embedder)
    # The very matrix our MMR uses: the numpy baseline searches exactly the vectors Chroma holds.
    vectors = retriever._vectors
    with peak_memory() as mem_lc:
        started = time.perf_counter()
        lc = _langchain_bm25([embedding_text(c) for c in retriever.chunks])
        lc_build = time.perf_counter() - started
    memory["langchain_bm25_build"] = mem_lc.as_dict()
    memory["vectors_matrix_mb"] = round(vectors.nbytes / 2**20, 1)
    progress(f"size {size}: timing {len(queries)} queries per method")
    latency = time_methods(retriever, vectors, lc, queries)
    if "langchain_bm25" in latency:
        latency["langchain_bm25"]["build_s"] = round(lc_build, 2)
    progress(f"size {size}: hybrid p50 {latency['hybrid']['p50_ms']:.2f} ms, ingest {ingest['chunks_per_s']} chunks/s")
    return {
        "size": size,
        "chunks": ingest["chunks"],
        "real_chunks": ingest.pop("real_chunks"),
        "synthetic_chunks": ingest.pop("synthetic_chunks"),
        "ingest": ingest,
        "latency": latency,
        "ratios": ratios(latency),
        "memory": memory,
        "dense_recall_at_5_vs_exact": hnsw_recall(retriever, vectors, retriever.embedder.embed, queries),
    }


def hnsw_recall(
    retriever: Any, vectors: np.ndarray, embed: Callable[[list[str]], np.ndarray], queries: list[str]
) -> float:
    """How many of the exact top-5 the approximate Chroma search returns: speed must not cost answers."""
    found = total = 0
    ids = [c.id for c in retriever.chunks]
    for q in dict.fromkeys(queries):
        exact = {ids[i] for i in numpy_search(vectors, embed([q])[0])}
        approx = {h.chunk.id for h in retriever.search(q, K, mode="dense", fresh=True)}
        found += len(exact & approx)
        total += len(exact)
    return round(found / total, 4) if total else float("nan")


def ratios(latency: dict[str, Any]) -> dict[str, float | None]:
    def ratio(a: str, b: str) -> float | None:
        if a not in latency or b not in latency or not latency[b]["p50_ms"]:
            return None
        return round(latency[a]["p50_ms"] / latency[b]["p50_ms"], 2)

    return {
        "hybrid/numpy": ratio("hybrid", "numpy"),
        "dense/numpy": ratio("dense", "numpy"),
        "langchain_bm25/bm25": ratio("langchain_bm25", "bm25"),
        "langchain_bm25/hybrid": ratio("langchain_bm25", "hybrid"),
    }


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


def targets_check(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for result in sizes:
        size, p50 = result["size"], result["latency"]["hybrid"]["p50_ms"]
        for wanted, limit in ((10_000, TARGETS["retrieve_p50_ms_10k"]), (100_000, TARGETS["retrieve_p50_ms_100k"])):
            if size == wanted:
                checks.append(
                    {"target": f"hybrid retrieve p50 <= {limit:g} ms at {size:,}", "value": p50, "met": p50 <= limit}
                )
        rate = result["ingest"]["chunks_per_s"] or 0.0
        if size >= 1000 and result["ingest"]["via_files"]:
            limit = TARGETS["ingest_chunks_per_s"]
            checks.append(
                {"target": f"ingestion >= {limit:g} chunks/s at {size:,}", "value": rate, "met": rate >= limit}
            )
    return checks


def run_bench(
    sizes: list[int], n_queries: int, settings: Settings | None = None, progress: Progress | None = None
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
        seed, seed_stats = build_seed(base, workdir, say)
        results = [bench_size(base, seed, size, queries, workdir, say) for size in sorted(set(sizes))]
    return {
        "machine": machine() | {"load_average_start": load_before, "load_average_end": load_average()},
        "embedder": base.embedder,
        "k": K,
        "queries": {
            "n": len(queries),
            "distinct": len(set(queries)),
            "source": QUERIES_FILE.relative_to(REPO_ROOT).as_posix(),
        },
        "corpus_method": CORPUS_METHOD,
        "memory_method": results[0]["memory"]["ingest"]["method"] if results else "",
        "seed": seed_stats,
        "sizes": results,
        "targets": targets_check(results),
        "langchain_bm25_available": importlib.util.find_spec("langchain_community") is not None,
        "seconds": round(time.perf_counter() - started, 1),
    }


CORPUS_METHOD = (
    "The real chunks of the curated knowledge base (indexed fresh from knowledge/) come first; the rest are "
    f"synthetic: each is a random real chunk with the sentences of each paragraph shuffled and "
    f"{int(REPLACE_RATE * 100)}% of its words replaced by words drawn from the corpus vocabulary, grouped as "
    f"handbooks of {SECTIONS_PER_FILE} sections. Up to {INGESTOR_MAX:,} chunks the handbooks are written as "
    "Markdown files and indexed by the real Ingestor (parsing, token chunking, embedding, Chroma upserts per "
    f"file); above that the synthetic chunks are embedded with the same embedder and written through the "
    f"store's upsert in batches of {DIRECT_BATCH} (no file round trip). Every chunk is embedded for real."
)


# --- report ------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return f"{value}{suffix}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _latency_cell(lat: dict[str, Any] | None, n_default: int) -> str:
    if lat is None:
        return "n/a"
    cell = f"{lat['p50_ms']:.2f} / {lat['p95_ms']:.2f}"
    return cell + (f" (n={lat['n']})" if lat["n"] != n_default else "")


def to_markdown(data: dict[str, Any]) -> str:
    m, sizes, n = data["machine"], data["sizes"], data["queries"]["n"]
    header = [f"{r['chunks']:,} chunks" for r in sizes]
    lines = [
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}; load average "
        f"{m['load_average_start']} at start, {m['load_average_end']} at end. "
        f"Embedder `{data['embedder']}`; k={data['k']}; "
        f"{n} queries per method ({data['queries']['distinct']} distinct, from `{data['queries']['source']}`). "
        f"Run took {data['seconds']} s.",
        "",
        "### Retrieval latency, ms (p50 / p95)",
        "",
        _row(["method", *header]),
        _row(["---"] * (len(sizes) + 1)),
    ]
    lines += [_row([METHOD_LABELS[k], *(_latency_cell(r["latency"].get(k), n) for r in sizes)]) for k in METHODS]
    lines += ["", "### Ratios of p50 latency (below 1: the first is faster)", ""]
    lines += [_row(["ratio", *header]), _row(["---"] * (len(sizes) + 1))]
    for name in sizes[0]["ratios"] if sizes else []:
        lines.append(_row([name, *(_fmt(r["ratios"][name], 2, "×") for r in sizes)]))
    lines.append(
        _row(
            ["dense recall@5 of Chroma HNSW vs exact numpy", *(_fmt(r["dense_recall_at_5_vs_exact"], 3) for r in sizes)]
        )
    )
    lines += ["", "### Ingestion and memory (MB; Δ = peak during the stage minus memory at its start)", ""]
    cols = [
        "corpus",
        "real + synthetic",
        "how indexed",
        "files",
        "seconds",
        "chunks/s",
        "ingest peak (Δ)",
        "our index load Δ (s)",
        "BM25Retriever build Δ (s)",
        "vector matrix",
    ]
    lines += [_row(cols), _row(["---"] * len(cols))]
    for r in sizes:
        mem, ing = r["memory"], r["ingest"]
        lc_build = r["latency"].get("langchain_bm25", {}).get("build_s")
        lines.append(
            _row(
                [
                    f"{r['chunks']:,}",
                    f"{r['real_chunks']:,} + {r['synthetic_chunks']:,}",
                    ing["path"],
                    str(ing["files"]),
                    _fmt(ing["seconds"]),
                    _fmt(ing["chunks_per_s"], 0),
                    f"{mem['ingest']['peak_rss_mb']} ({mem['ingest']['delta_mb']})",
                    f"{mem['our_index_load']['delta_mb']} ({mem['our_index_load']['seconds']} s)",
                    f"{mem['langchain_bm25_build']['delta_mb']} ({_fmt(lc_build)} s)",
                    str(mem["vectors_matrix_mb"]),
                ]
            )
        )
    s = data["seed"]
    lines += [
        "",
        f"Seed (the curated knowledge base alone, {s['files']} files): {s['chunks']} chunks in {s['ingest_seconds']} s "
        f"= {s['ingest_chunks_per_s']} chunks/s, including the embedder's first load.",
        "",
        "### Targets",
        "",
    ]
    lines += [f"- {'met' if t['met'] else 'MISSED'}: {t['target']} (measured {t['value']})" for t in data["targets"]]
    if not data["targets"]:
        lines.append("- no target applies to these sizes (they are set at 10k and 100k chunks)")
    lines += ["", f"Corpus: {data['corpus_method']}", "", f"Memory: {data['memory_method']}."]
    if not data["langchain_bm25_available"]:
        lines += ["", "LangChain's BM25Retriever was not measured: install `langchain-community` to include it."]
    return "\n".join(lines) + "\n"


# --- CLI -----------------------------------------------------------------------------------------
def parse_sizes(text: str, what: str = "--sizes") -> list[int]:
    try:
        values = [int(part.replace("_", "").replace("k", "000")) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ValueError(f"{what} takes whole numbers separated by commas, like 1000,10000 (got {text!r})") from exc
    if not values or any(v < 1 for v in values):
        raise ValueError(f"{what} needs at least one positive number (got {text!r})")
    return values


def load_script() -> Any:
    """bench/load.py as a module: the load test starts the real app, so it ships with the source checkout."""
    if not LOAD_SCRIPT.exists():
        raise FileNotFoundError(f"The load test needs {LOAD_SCRIPT} from a source checkout of Mentor Assistant.")
    name = "mentor_bench_load"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, LOAD_SCRIPT)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"Cannot load {LOAD_SCRIPT} as a Python module.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file executes
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_load(users: list[int], progress: Progress) -> dict[str, Any]:
    return dict(load_script().run_load(users=users, progress=progress))


def run_cli(args: Any) -> int:
    sizes = parse_sizes(args.sizes)
    if args.queries < 1:
        raise ValueError("--queries must be at least 1")
    quiet = bool(args.json)

    def progress(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    data = run_bench(sizes, args.queries, progress=None if quiet else progress)
    markdown = to_markdown(data)
    if args.load:
        data["load"] = run_load(parse_sizes(args.users, "--users"), lambda m: None if quiet else progress(m))
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
