"""`mentor bench` and the load test: correctness only; the timings themselves live in docs/benchmarks.md."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.bench import METHODS, load_script, numpy_search, parse_sizes, synthetic_text, vocabulary

REPO = Path(__file__).resolve().parent.parent
GUIDANCE = (
    "Start by asking what they hope to get from the hour. Listen for the goal behind the request.\n"
    "- Agree on one next step.\n- Write it down together.\n\n"
    "Close by checking how the conversation felt. Small adjustments early save trust later."
)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTOR_", "OPENAI_"))}
    return env | {"MENTOR_DATA_DIR": str(data_dir), "MENTOR_LLM_BACKEND": "offline", "HF_HUB_OFFLINE": "1"}


def _mentor(*args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=_env(data_dir), cwd=REPO,
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_numpy_baseline_returns_the_exact_top_k_best_first() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((500, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[42] + 0.01 * rng.standard_normal(32).astype(np.float32)
    expected = [int(i) for i in sorted(range(500), key=lambda i: -float(vectors[i] @ query))[:5]]
    assert [int(i) for i in numpy_search(vectors, query, 5)] == expected
    assert expected[0] == 42


def test_synthetic_chunk_keeps_structure_and_length_but_not_the_text() -> None:
    vocab = vocabulary([GUIDANCE, "rapport curiosity boundaries milestone reflection"])
    made = synthetic_text(GUIDANCE, vocab, random.Random(3))
    assert made != GUIDANCE
    assert made.count("\n") == GUIDANCE.count("\n")  # paragraph and list breaks survive
    assert abs(len(made.split()) - len(GUIDANCE.split())) <= 2
    assert synthetic_text(GUIDANCE, vocab, random.Random(3)) == made  # seeded: the corpus is reproducible


def test_sizes_argument_is_checked() -> None:
    assert parse_sizes("1000, 10k,100_000") == [1000, 10_000, 100_000]
    for bad in ("", "abc", "1000,-5"):
        with pytest.raises(ValueError, match="--sizes"):
            parse_sizes(bad)


def test_bench_command_reports_every_method_at_each_size(tmp_path: Path) -> None:
    done = _mentor("bench", "--sizes", "300", "--queries", "5", "--json", data_dir=tmp_path / "data")
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout)
    assert {"machine", "embedder", "queries", "corpus_method", "seed", "sizes", "targets", "seconds"} <= set(data)
    assert data["queries"]["n"] == 5
    (size,) = data["sizes"]
    assert size["size"] == 300 and 250 <= size["chunks"] <= 350
    assert size["real_chunks"] + size["synthetic_chunks"] == 300
    lc_available = importlib.util.find_spec("langchain_community") is not None
    assert data["langchain_bm25_available"] is lc_available
    expected = set(METHODS) - (set() if lc_available else {"langchain_bm25"})
    assert set(size["latency"]) == expected
    for method, lat in size["latency"].items():
        assert lat["n"] == 5, method
        assert 0 < lat["p50_ms"] <= lat["p95_ms"], method
    assert {"hybrid/numpy", "dense/numpy", "langchain_bm25/bm25"} <= set(size["ratios"])
    assert size["ingest"]["chunks"] == size["chunks"] and size["ingest"]["chunks_per_s"] > 0
    assert {"ingest", "our_index_load", "langchain_bm25_build"} <= set(size["memory"])
    # 300 vectors are too few for HNSW to approximate: Chroma must find exactly what brute force finds.
    assert size["dense_recall_at_5_vs_exact"] == 1.0
    assert data["targets"] == []  # targets are set at 10k and 100k chunks


def test_bench_command_rejects_bad_sizes_with_a_clear_message(tmp_path: Path) -> None:
    done = _mentor("bench", "--sizes", "lots", data_dir=tmp_path / "data", timeout=60)
    assert done.returncode == 2
    assert "--sizes takes whole numbers" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.server
def test_load_test_loses_no_turn_under_concurrent_users() -> None:
    result = load_script().run_load(users=[5], turns=2)
    (level,) = result["levels"]
    assert level["turns_sent"] == 10
    assert level["errors"] == 0, level["error_examples"]
    assert level["turns_answered"] == 10
    assert level["lost_turns"] == 0, f"answered turns missing from the session store ({level['method']})"
    assert level["sessions_wrong"] == 0


def test_load_test_questions_never_repeat_within_a_run() -> None:
    load = load_script()
    pool = load.load_questions()
    assert len(pool) == len(set(pool)) >= 150, "both question datasets, each question once"
    asked = list(itertools.islice(load.distinct_questions(), 4 * len(pool) + 10))
    assert asked[: len(pool)] == pool
    assert len(set(asked)) == len(asked)
    assert all(q.endswith(pool[i % len(pool)]) for i, q in enumerate(asked))
