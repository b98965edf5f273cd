"""Two ways of running the MiniLM encoder, measured side by side in one process on a shared machine.

`python -m assistant.benchmarks.encoder_speed` times the previous way (one onnxruntime call at a time, two threads
inside each call) against the current one (one thread per call, calls side by side on a batch) on the same
texts, alternating call by call with the order swapped each time, so a change in the machine's load falls on
both alike. It reports wall and CPU time, their ratios, the load average, and how far the two ways' vectors
differ (they run the same model, so they must agree).

Three measures: the curated knowledge's chunks encoded in the steps the Ingestor uses; the retrieval questions
encoded one at a time (query encoding); and, with `--ingest-rounds`, the whole Ingestor over the curated
knowledge into a fresh scratch index (parsing, chunking, encoding, Chroma writes), alternating the two ways.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.benchmarks.timing import rotated, summarise
from assistant.embedders import RecentTextsCache
from assistant.embedders.minilm import MiniLMEmbedder
from assistant.ingestion.ingestor import EMBED_STEP
from assistant.settings import REPO_ROOT, Settings

QUESTIONS = REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl"
# The previous way and the current one, as MiniLMEmbedder arguments.
WAYS: dict[str, dict[str, Any]] = {
    "before": {"threads": 1, "op_threads": 2},  # one call at a time, two threads inside it
    "after": {},  # the defaults: one thread per call, one call per core side by side
}
WAY_LABELS = {
    "before": "one call at a time, 2 threads inside each call (the previous default)",
    "after": "1 thread per call, calls side by side on the cores (the current default)",
}


def chunk_texts(settings: Settings) -> list[str]:
    """What the Ingestor encodes for the curated knowledge: every chunk's embedding text, in file order."""
    from assistant.ingestion.ingestor import Chunker, discover, embedding_text, load_document

    files, _ = discover([settings.knowledge_dir])
    chunker = Chunker(settings.chunk_tokens)
    return [embedding_text(c) for path in files for c in chunker.split(load_document(path, settings, False))]


def load_queries(n: int) -> list[str]:
    """The first `n` questions of the retrieval set, cycling through it when `n` is larger (84 distinct)."""
    distinct = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [distinct[i % len(distinct)] for i in range(n)]


def _timed(call: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_steps(embedders: dict[str, MiniLMEmbedder], texts: list[str], step: int, rounds: int) -> dict[str, Any]:
    """Total wall and CPU seconds for encoding `texts` in calls of `step` texts, the ways alternating per call."""
    totals = {name: {"wall_s": 0.0, "cpu_s": 0.0} for name in embedders}
    calls = [texts[i : i + step] for i in range(0, len(texts), step)]
    for turn, call in enumerate(calls * rounds):
        for name in rotated(list(embedders), turn):
            wall, cpu = _timed(lambda e=embedders[name], c=call: e.embed(c))  # type: ignore[misc]
            totals[name]["wall_s"] += wall
            totals[name]["cpu_s"] += cpu
    texts_done = len(texts) * rounds
    return {
        name: {k: round(v, 2) for k, v in t.items()} | {"texts_per_cpu_s": round(texts_done / t["cpu_s"], 2)}
        for name, t in totals.items()
    } | {"texts": texts_done, "calls_per_way": len(calls) * rounds, "texts_per_call": step}


def time_queries(embedders: dict[str, MiniLMEmbedder], queries: list[str], rounds: int) -> dict[str, Any]:
    """Each question encoded alone by each way in turn: p50/p95 wall, CPU per query, per-query ratio."""
    for name in embedders:
        for query in queries[:3]:
            embedders[name].embed([query])  # warm-up, not timed
    walls: dict[str, list[float]] = {name: [] for name in embedders}
    cpus: dict[str, list[float]] = {name: [] for name in embedders}
    for turn, query in enumerate(queries * rounds):
        for name in rotated(list(embedders), turn):
            wall, cpu = _timed(lambda e=embedders[name], q=query: e.embed([q]))  # type: ignore[misc]
            walls[name].append(wall * 1000)
            cpus[name].append(cpu * 1000)
    out: dict[str, Any] = {
        name: summarise(walls[name]) | {"cpu_ms_mean": round(float(np.mean(cpus[name])), 3)} for name in embedders
    }
    if {"before", "after"} <= set(walls):
        paired = np.asarray(walls["after"]) / np.asarray(walls["before"])
        out["after_over_before_per_query_median"] = round(float(np.median(paired)), 3)
    return out


def time_ingest(settings: Settings, embedders: dict[str, MiniLMEmbedder], rounds: int) -> dict[str, Any]:
    """The Ingestor over the curated knowledge into a fresh scratch index, the ways alternating run by run."""
    from assistant.runtime import Runtime

    runs: dict[str, list[dict[str, float]]] = {name: [] for name in embedders}
    with tempfile.TemporaryDirectory(prefix="mentor-encoder-speed-") as tmp:
        for turn in range(rounds):
            for name in rotated(list(embedders), turn):
                rt = Runtime(settings.model_copy(update={"data_dir": Path(tmp) / f"{name}-{turn}"}))
                rt.embedder = RecentTextsCache(embedders[name])  # as get_embedder wraps it
                wall, cpu = _timed(lambda rt=rt: rt.ingestor.run())  # type: ignore[misc]
                runs[name].append({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "chunks": rt.store.count()})
    return {name: {"runs": r, "wall_s_median": float(np.median([x["wall_s"] for x in r]))} for name, r in runs.items()}


def agreement(embedders: dict[str, MiniLMEmbedder], texts: list[str]) -> dict[str, float]:
    """Cosine between the two ways' vectors of the same texts (batches and single texts): must be ~1."""
    before, after = embedders["before"], embedders["after"]
    batch = np.sum(before.embed(texts) * after.embed(texts), axis=1)
    single = [float(before.embed([t])[0] @ after.embed([t])[0]) for t in texts[:50]]
    return {"batch_min_cosine": round(float(batch.min()), 6), "single_min_cosine": round(min(single), 6)}


def ratio(after: float, before: float) -> float:
    return round(after / before, 3) if before else float("nan")


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings()
    load_start = os.getloadavg()
    started = time.perf_counter()
    embedders = {name: MiniLMEmbedder(**kwargs) for name, kwargs in WAYS.items()}
    texts = chunk_texts(settings)[: args.chunks or None]
    result: dict[str, Any] = {
        "ways": WAY_LABELS,
        "cpus": os.cpu_count(),
        "agreement": agreement(embedders, texts[:200]),
        "queries": time_queries(embedders, load_queries(args.queries), args.query_rounds),
        "chunks": time_steps(embedders, texts, args.step, args.rounds),
    }
    if args.ingest_rounds:
        result["ingest"] = time_ingest(settings, embedders, args.ingest_rounds)
    result["ratios_after_over_before"] = ratios(result)
    result["load_average_start"] = [round(x, 2) for x in load_start]
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def ratios(result: dict[str, Any]) -> dict[str, float]:
    chunks, queries = result["chunks"], result["queries"]
    out = {
        "chunk encoding wall": ratio(chunks["after"]["wall_s"], chunks["before"]["wall_s"]),
        "chunk encoding CPU": ratio(chunks["after"]["cpu_s"], chunks["before"]["cpu_s"]),
        "query encoding p50 wall": ratio(queries["after"]["p50_ms"], queries["before"]["p50_ms"]),
        "query encoding CPU": ratio(queries["after"]["cpu_ms_mean"], queries["before"]["cpu_ms_mean"]),
    }
    if "ingest" in result:
        ingest = result["ingest"]
        out["whole ingest wall (median of runs)"] = ratio(
            ingest["after"]["wall_s_median"], ingest["before"]["wall_s_median"]
        )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=0, help="encode only the first N chunks (0: all)")
    parser.add_argument("--step", type=int, default=EMBED_STEP, help="texts per call, as the Ingestor sends them")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the chunks")
    parser.add_argument("--queries", type=int, default=84, help="questions from the retrieval set (84 distinct)")
    parser.add_argument("--query-rounds", type=int, default=2, help="passes over the questions")
    parser.add_argument("--ingest-rounds", type=int, default=0, help="whole Ingestor runs per way (0: none)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    print(json.dumps(run(parse_args(argv)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
