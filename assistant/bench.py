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

QUERIES_FILE = REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl"
LOAD_SCRIPT = REPO_ROOT / "bench" / "load.py"
K = 5
SECTIONS_PER_FILE = 50  # synthetic chunks per Markdown file: a long handbook, one upsert batch per file
REPLACE_RATE = 0.25  # share of words swapped for corpus-vocabulary words in a synthetic chunk
WARMUP = 3
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
    """A new chunk with the statistics of a real one: its sentences shuffled, a quarter of its words replaced."""
    sentences = _SENTENCE.split(base.replace("\n", " "))
    rng.shuffle(sentences)

    def swap(match: re.Match[str]) -> str:
        return rng.choice(vocab) if rng.random() < REPLACE_RATE else match.group(0)

    return " ".join(_WORD.sub(swap, s) for s in sentences).strip()


@dataclass
class SeedCorpus:
    """The real chunks of the built curated index, grouped by the file they came from."""

    files: dict[str, int]  # source path -> chunks it yields
    texts: list[str]
    topics: list[str]
    headings: list[str]
    vocab: list[str] = field(default_factory=list)


def write_corpus(seed: SeedCorpus, size: int, folder: Path, rng: random.Random) -> tuple[int, int]:
    """Fill folder with Markdown files that chunk to about `size` chunks: real files first, then synthetic ones.
    Returns (real chunks, synthetic chunks) written."""
    folder.mkdir(parents=True, exist_ok=True)
    real = 0
    for source, n in seed.files.items():
        if real and real + n > size:
            break
        shutil.copyfile(source, folder / Path(source).name)
        real += n
    synthetic = max(0, size - real)
    for start in range(0, synthetic, SECTIONS_PER_FILE):
        count = min(SECTIONS_PER_FILE, synthetic - start)
        bases = [rng.randrange(len(seed.texts)) for _ in range(count)]
        topic = seed.topics[bases[0]]
        sections = [
            f"## {seed.headings[b].rsplit(' > ', 1)[-1]} (variant {start + i})\n\n{synthetic_text(seed.texts[b], seed.vocab, rng)}\n"
            for i, b in enumerate(bases)
        ]
        front = (
            f"---\ntitle: Synthetic handbook {start // SECTIONS_PER_FILE}\ntopic: {topic}\ntags: [synthetic]\n"
            f"summary: Benchmark filler made from reshuffled guidance.\n---\n\n"
        )
        (folder / f"synthetic-{start // SECTIONS_PER_FILE:05d}.md").write_text(front + "\n".join(sections))
    return real, synthetic


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
    try:
        from langchain_community.retrievers import BM25Retriever
    except ImportError:
        return None
    with warnings_quiet():
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


def bench_size(settings: Settings, seed: SeedCorpus, size: int, queries: list[str], workdir: Path, progress: Progress) -> dict[str, Any]:
    from assistant.knowledge import embedding_text
    from assistant.runtime import Runtime

    folder = workdir / f"corpus-{size}"
    real, synthetic = write_corpus(seed, size, folder / "knowledge", random.Random(size))
    rt = Runtime(settings.model_copy(update={"data_dir": folder / "data", "knowledge_dir": folder / "knowledge"}))
    progress(f"size {size}: ingesting {real} real + {synthetic} synthetic chunks through Ingestor.run")
    with peak_memory() as mem_ingest:
        report = rt.ingestor.run()
    chunks_n = rt.store.count()
    memory: dict[str, Any] = {"ingest": mem_ingest.as_dict()}
    with peak_memory() as mem_index:
        retriever = rt.retriever
        retriever.refresh(force=True)
        vectors = retriever._vectors  # the very matrix our MMR uses; the numpy baseline searches the same vectors
    memory["our_index_load"] = mem_index.as_dict()
    texts = [embedding_text(c) for c in retriever.chunks]
    with peak_memory() as mem_lc:
        started = time.perf_counter()
        lc = _langchain_bm25(texts)
        lc_build = time.perf_counter() - started
    memory["langchain_bm25_build"] = mem_lc.as_dict()
    memory["vectors_matrix_mb"] = round(vectors.nbytes / 2**20, 1)
    embed = rt.embedder.embed

    progress(f"size {size}: timing {len(queries)} queries per method")
    latency: dict[str, Any] = {
        "hybrid": time_queries(lambda q: retriever.search(q, K), queries),
        "bm25": time_queries(lambda q: retriever.search(q, K, mode="bm25"), queries),
        "dense": time_queries(lambda q: retriever.search(q, K, mode="dense"), queries),
        "numpy": time_queries(lambda q: numpy_search(vectors, embed([q])[0]), queries),
        "embed": time_queries(lambda q: embed([q]), queries),
    }
    if lc is not None:
        capped = queries[: max(WARMUP + 2, min(len(queries), LC_BM25_BUDGET // max(1, chunks_n)))]
        latency["langchain_bm25"] = time_queries(lc.invoke, capped) | {"build_s": round(lc_build, 2)}
    recall = hnsw_recall(retriever, vectors, embed, queries)
    ingest = {
        "seconds": round(report.seconds, 2),
        "chunks": chunks_n,
        "files": report.files,
        "chunks_per_s": round(chunks_n / report.seconds, 1) if report.seconds else None,
    }
    result = {
        "size": size, "chunks": chunks_n, "real_chunks": real, "synthetic_chunks": synthetic,
        "ingest": ingest, "latency": latency, "memory": memory, "dense_recall_at_5_vs_exact": recall,
    }
    result["ratios"] = ratios(latency)
    progress(f"size {size}: hybrid p50 {latency['hybrid']['p50_ms']:.2f} ms, ingest {ingest['chunks_per_s']} chunks/s")
    del retriever, lc, vectors
    return result


def hnsw_recall(retriever: Any, vectors: np.ndarray, embed: Callable[[list[str]], np.ndarray], queries: list[str]) -> float:
    """How many of the exact top-5 the approximate Chroma search returns: speed must not cost answers."""
    found = total = 0
    ids = [c.id for c in retriever.chunks]
    for q in dict.fromkeys(queries):
        exact = {ids[i] for i in numpy_search(vectors, embed([q])[0])}
        approx = {h.chunk.id for h in retriever.search(q, K, mode="dense")}
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


def targets_check(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for result in sizes:
        size, p50 = result["size"], result["latency"]["hybrid"]["p50_ms"]
        if size == 10_000:
            checks.append({"target": "retrieve p50 <= 10 ms at 10k", "value": p50, "met": p50 <= 10.0})
        if size == 100_000:
            checks.append({"target": "retrieve p50 <= 50 ms at 100k", "value": p50, "met": p50 <= 50.0})
        if size >= 1000:
            rate = result["ingest"]["chunks_per_s"] or 0.0
            checks.append({"target": f"ingestion >= 500 chunks/s at {size}", "value": rate, "met": rate >= 500.0})
    return checks


def run_bench(sizes: list[int], n_queries: int, settings: Settings | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """The whole benchmark in one process, sizes in increasing order; scratch indexes are removed afterwards."""
    from assistant.offline import prepare_offline

    say = progress or (lambda _msg: None)
    base = (settings or get_settings()).model_copy(update={"chroma_host": None, "database_url": None})
    queries = load_queries(n_queries)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mentor-bench-") as tmp:
        workdir = Path(tmp)
        prepare_offline(workdir / "cache")
        seed, seed_stats = build_seed(base, workdir, say)
        results = [bench_size(base, seed, size, queries, workdir, say) for size in sorted(set(sizes))]
    return {
        "machine": machine(),
        "embedder": base.embedder,
        "k": K,
        "queries": {"n": len(queries), "source": str(QUERIES_FILE.relative_to(REPO_ROOT)), "distinct": len(set(queries))},
        "corpus_method": CORPUS_METHOD,
        "memory_method": _memory_method(results),
        "seed": seed_stats,
        "sizes": results,
        "targets": targets_check(results),
        "langchain_bm25_available": importlib.util.find_spec("langchain_community") is not None,
        "seconds": round(time.perf_counter() - started, 1),
    }


CORPUS_METHOD = (
    "The real chunks of the curated knowledge base (indexed fresh from knowledge/) come first; the rest are "
    f"synthetic: each is a random real chunk with its sentences shuffled and {int(REPLACE_RATE * 100)}% of its "
    "words replaced by words drawn from the corpus vocabulary, written as Markdown handbooks of "
    f"{SECTIONS_PER_FILE} sections and indexed with the real Ingestor (chunking, embedding with the configured "
    "embedder, Chroma upserts), so every chunk is re-embedded for real."
)


def _memory_method(results: list[dict[str, Any]]) -> str:
    for r in results:
        return str(r["memory"]["ingest"]["method"])
    return ""


# --- report ------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def to_markdown(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}; "
        f"embedder `{data['embedder']}`; k={data['k']}; {data['queries']['n']} queries per method "
        f"({data['queries']['distinct']} distinct, from `{data['queries']['source']}`); run took {data['seconds']} s.",
        "",
        "### Retrieval latency (ms, p50 / p95)",
        "",
        "| method | " + " | ".join(f"{r['chunks']:,} chunks" for r in data["sizes"]) + " |",
        "|---|" + "---|" * len(data["sizes"]),
    ]
    for method in METHODS:
        cells = []
        for r in data["sizes"]:
            lat = r["latency"].get(method)
            cells.append("n/a" if lat is None else f"{lat['p50_ms']:.2f} / {lat['p95_ms']:.2f}" + (f" (n={lat['n']})" if lat["n"] != data["queries"]["n"] else ""))
        lines.append(f"| {METHOD_LABELS[method]} | " + " | ".join(cells) + " |")
    lines += ["", "### Ratios of p50 latency (lower than 1 means the first is faster)", ""]
    names = list(data["sizes"][0]["ratios"]) if data["sizes"] else []
    lines += ["| ratio | " + " | ".join(f"{r['chunks']:,}" for r in data["sizes"]) + " |", "|---|" + "---|" * len(data["sizes"])]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_fmt(r["ratios"][name]) + "×" * (r["ratios"][name] is not None) for r in data["sizes"]) + " |")
    lines.append("| dense recall@5 vs exact numpy | " + " | ".join(_fmt(r["dense_recall_at_5_vs_exact"], 3) for r in data["sizes"]) + " |")
    lines += ["", "### Ingestion and memory", "", "| corpus | real + synthetic | files | seconds | chunks/s | ingest peak RSS (Δ) MB | our index load Δ MB | BM25Retriever build Δ MB (s) | vectors MB |", "|---|---|---|---|---|---|---|---|---|"]
    for r in data["sizes"]:
        mem, lc = r["memory"], r["latency"].get("langchain_bm25", {})
        lines.append(
            f"| {r['chunks']:,} | {r['real_chunks']:,} + {r['synthetic_chunks']:,} | {r['ingest']['files']} | {r['ingest']['seconds']} "
            f"| {_fmt(r['ingest']['chunks_per_s'], 0)} | {mem['ingest']['peak_rss_mb']} ({mem['ingest']['delta_mb']}) "
            f"| {mem['our_index_load']['delta_mb']} | {mem['langchain_bm25_build']['delta_mb']} ({_fmt(lc.get('build_s'))}) | {mem['vectors_matrix_mb']} |"
        )
    s = data["seed"]
    lines += [
        "",
        f"Seed (the curated knowledge base alone): {s['chunks']} chunks from {s['files']} files in {s['ingest_seconds']} s "
        f"({s['ingest_chunks_per_s']} chunks/s, including the embedder's first load).",
        "",
        "### Targets",
        "",
    ]
    lines += [f"- {'met' if t['met'] else 'MISSED'}: {t['target']} (measured {t['value']})" for t in data["targets"]] or ["- no target applies to these sizes"]
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


def run_load(users: list[int], progress: Progress) -> dict[str, Any]:
    """The load test lives in bench/load.py (it starts the real app); a source checkout is needed for it."""
    if not LOAD_SCRIPT.exists():
        raise FileNotFoundError(f"The load test needs {LOAD_SCRIPT} from a source checkout of Mentor Assistant.")
    spec = importlib.util.spec_from_file_location("mentor_bench_load", LOAD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.run_load(users=users, progress=progress))


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
    return 0
