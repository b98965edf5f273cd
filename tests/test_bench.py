"""`mentor bench` and the load test: correctness only; the timings themselves live in docs/benchmarks.md."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.bench import (
    METHODS,
    SeedCorpus,
    load_script,
    mix_weight_for,
    mixed_vectors,
    numpy_search,
    parse_sizes,
    synthetic_text,
    vocabulary,
)
from assistant.benchmarks.timing import WARMUP, rotated, time_interleaved

REPO = Path(__file__).resolve().parent.parent
GUIDANCE = (
    "Start by asking what they hope to get from the hour. Listen for the goal behind the request.\n"
    "- Agree on one next step.\n- Write it down together.\n\n"
    "Close by checking how the conversation felt. Small adjustments early save trust later."
)


# A few real playbooks keep the benchmark's own indexing short (the full knowledge base is timed by `make bench`).
PLAYBOOKS = (
    "delivering-bad-news",
    "the-grow-coaching-model",
    "drawing-out-a-quiet-mentee",
    "mentoring-remotely",
    "active-listening-in-practice",
    "feedback-on-missed-deadlines",
)


def _env(data_dir: Path, knowledge: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTOR_", "OPENAI_"))}
    env |= {"MENTOR_DATA_DIR": str(data_dir), "MENTOR_LLM_BACKEND": "offline", "HF_HUB_OFFLINE": "1"}
    return env | ({"MENTOR_KNOWLEDGE_DIR": str(knowledge)} if knowledge else {})


def _mentor(
    *args: str, data_dir: Path, timeout: float = 600, knowledge: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env=_env(data_dir, knowledge),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _playbooks(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in PLAYBOOKS:
        (folder / f"{name}.md").write_bytes((REPO / "knowledge" / f"{name}.md").read_bytes())
    return folder


def test_methods_are_timed_interleaved_query_by_query_in_rotating_order() -> None:
    calls: list[tuple[str, str]] = []

    def recorder(name: str) -> Callable[[str], Any]:
        return lambda query: calls.append((name, query))

    methods = {name: recorder(name) for name in ("a", "b", "c")}
    queries = [f"q{i}" for i in range(6)]
    result = time_interleaved(methods, queries, budgets={"c": 2})
    timed = calls[WARMUP * 3 :]
    # every method answers a query before any method sees the next one
    assert [q for _, q in timed] == ["q0"] * 3 + ["q1"] * 3 + ["q2"] * 2 + ["q3"] * 2 + ["q4"] * 2 + ["q5"] * 2
    assert [n for n, _ in timed[:6]] == rotated(["a", "b", "c"], 0) + rotated(["a", "b", "c"], 1)
    assert [n for n, _ in timed[:3]] == ["a", "b", "c"] and [n for n, _ in timed[3:6]] == ["b", "c", "a"]
    assert {n: r["n"] for n, r in result.items()} == {"a": 6, "b": 6, "c": 2}  # c's budget: its first 2 queries


def test_derived_vectors_sit_at_the_calibrated_distance_from_their_source() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((40, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    seed = SeedCorpus(files={}, texts=[""] * 40, topics=["trust"] * 40, headings=["T"] * 40, vectors=vectors)
    bases = [i % 40 for i in range(200)]
    partners = [(7 * i + 3) % 40 for i in range(200)]
    weight = mix_weight_for(seed, bases, partners, 0.8)
    assert 0.0 < weight < 1.0
    derived = mixed_vectors(seed, bases, partners, weight)
    np.testing.assert_allclose(np.linalg.norm(derived, axis=1), 1.0, atol=1e-5)
    assert abs(float(np.mean(np.sum(derived * vectors[bases], axis=1))) - 0.8) < 1e-3
    # a derived vector lies between its source and its partner, nearer the source
    assert np.all(np.sum(derived * vectors[bases], axis=1) > np.sum(derived * vectors[partners], axis=1))


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


def test_bench_command_reports_quality_and_every_method_at_each_size(tmp_path: Path) -> None:
    knowledge = _playbooks(tmp_path / "knowledge")
    argv = ("bench", "--sizes", "300", "--queries", "5", "--json")
    done = _mentor(*argv, data_dir=tmp_path / "data", knowledge=knowledge)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "indexing: 6/6 files" in done.stderr, "the curated knowledge's indexing shows its progress"
    data = json.loads(done.stdout)
    assert {"machine", "embedder", "queries", "corpus_method", "seed", "quality", "sizes", "targets"} <= set(data)
    assert data["embedder"] == "minilm" and data["seed"]["files"] == len(PLAYBOOKS)
    lc_available = importlib.util.find_spec("langchain_community") is not None
    assert data["langchain_available"] is lc_available
    quality = data["quality"]
    expected_quality = {"hybrid", "bm25", "dense", "wordllama:hybrid", "wordllama:dense"}
    if lc_available:
        expected_quality |= {"langchain_ensemble", "langchain_ensemble_our_fusion", "langchain_bm25"}
    assert set(quality["methods"]) == expected_quality
    assert quality["questions"] >= 5, "the questions labelled with these playbooks"
    for name, result in quality["methods"].items():
        assert 0.0 <= result["doc_hit@1"] <= result["doc_mrr"] <= 1.0, name
        assert result["latency"]["n"] == quality["questions"], name
    assert quality["encode"]["n"] == 5 and quality["encode"]["p50_ms"] > 0
    (size,) = data["sizes"]
    assert size["size"] == 300 and 250 <= size["chunks"] <= 350
    assert size["real_chunks"] + size["synthetic_chunks"] == 300
    expected = set(METHODS) - (set() if lc_available else {"langchain_bm25", "langchain_ensemble"})
    assert set(size["latency"]) == expected
    for method, lat in size["latency"].items():
        assert lat["n"] == 5, method
        assert 0 < lat["p50_ms"] <= lat["p95_ms"], method
    ratios = {r["name"]: r for r in size["ratios"]}
    assert {"hybrid / langchain_ensemble", "hybrid / numpy", "langchain_bm25 / bm25"} <= set(ratios)
    assert "bm25s's speed, not ours" in ratios["langchain_bm25 / bm25"]["compares"]
    assert size["ingest"]["chunks"] == size["chunks"] and size["ingest"]["chunks_per_s"] > 0
    assert {"ingest", "our_index_load"} <= set(size["memory"])
    # 300 vectors are too few for HNSW to approximate: Chroma must find exactly what brute force finds.
    assert size["dense_recall_at_5_vs_exact"] == 1.0
    assert {t["target"].split(" <=")[0] for t in data["targets"]} >= {"query encoding p50"}


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


def test_sizes_past_the_ingestor_limit_get_calibrated_derived_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import make_settings

    import assistant.bench as bench

    monkeypatch.setattr(bench, "INGESTOR_MAX", 40)  # the path 100k chunks take, on a small corpus
    settings = make_settings(tmp_path / "data", knowledge_dir=_playbooks(tmp_path / "knowledge"))
    data = bench.run_bench([400], 4, settings=settings, compare_embedder=None)
    (size,) = data["sizes"]
    derived = size["ingest"]["derived_vectors"]
    assert not size["ingest"]["via_files"] and size["ingest"]["chunks_per_s"] is None, "no ingestion speed claimed"
    assert size["chunks"] == size["real_chunks"] + size["synthetic_chunks"]
    assert 0.0 < derived["mix_weight"] < 1.0
    assert abs(derived["derived_cosine_to_source"] - derived["cosine_to_source"]) < 0.05
    assert size["dense_recall_at_5_vs_exact"] >= 0.95  # the index over derived vectors searches like a real one
    assert all(lat["n"] == 4 for lat in size["latency"].values())


def test_encoder_speed_times_both_ways_on_the_same_texts_and_they_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.benchmarks import encoder_speed

    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(_playbooks(tmp_path / "knowledge")))
    args = ["--chunks", "7", "--step", "3", "--queries", "5", "--query-rounds", "1", "--ingest-rounds", "1"]
    result = encoder_speed.run(encoder_speed.parse_args(args))
    assert set(result["ways"]) == {"before", "after"}
    # The same model run two ways: the vectors must not change.
    assert result["agreement"]["batch_min_cosine"] >= 0.9999 and result["agreement"]["single_min_cosine"] >= 0.9999
    assert result["chunks"]["texts"] == 7 and result["chunks"]["calls_per_way"] == 3  # 3 + 3 + 1 texts
    for way in ("before", "after"):
        assert result["chunks"][way]["cpu_s"] > 0 and result["queries"][way]["n"] == 5
        runs = result["ingest"][way]["runs"]
        assert len(runs) == 1 and runs[0]["chunks"] > len(PLAYBOOKS)
    assert result["ingest"]["before"]["runs"][0]["chunks"] == result["ingest"]["after"]["runs"][0]["chunks"]
    assert set(result["ratios_after_over_before"]) >= {"chunk encoding CPU", "query encoding p50 wall"}
    assert all(r > 0 for r in result["ratios_after_over_before"].values())
    assert len(result["load_average_start"]) == 3
