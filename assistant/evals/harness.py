"""Running one suite: its dataset, its cases (repeated when a model makes them vary), its metrics and meta."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from assistant.evals import answers, details_suite, judge, moves_suite, suites
from assistant.evals.core import SUITES, ComputeFn, Progress, SuiteOutput, SuiteResult
from assistant.evals.datasets import Dataset, load_dataset
from assistant.evals.meta import leakage_warnings
from assistant.evals.meta import run_meta as build_meta
from assistant.runtime import Runtime

COMPUTE: dict[str, ComputeFn] = {
    "retrieval": suites.compute_retrieval,
    "answers": answers.compute,
    "feedback": suites.compute_feedback,
    "safety": suites.compute_safety,
    "conversations": suites.compute_conversations,
    "details": details_suite.compute,
    "moves": moves_suite.compute,
    "judge": judge.compute,
}
RUNNERS: dict[str, Callable[[Runtime, Dataset, Progress | None], SuiteOutput]] = {
    "retrieval": suites.run_retrieval,
    "answers": answers.run,
    "feedback": suites.run_feedback,
    "safety": suites.run_safety,
    "conversations": suites.run_conversations,
    "details": details_suite.run,
    "moves": moves_suite.run,
}
details_suite.register()
moves_suite.register()


def run_suite(
    rt: Runtime,
    suite: str,
    dataset: Path | None = None,
    progress: Progress | None = None,
    *,
    repeat: int = 1,
    answer_cases: list[dict[str, Any]] | None = None,
    run_meta: dict[str, Any] | None = None,
) -> SuiteResult:
    """Run one suite on its built-in dataset (or `dataset`); raises DatasetError for a malformed file.

    `repeat` matters for the judge (and for answers/conversations with an LLM backend): the metrics are the
    mean over the runs and `metrics["spread"]` holds each run's value. `answer_cases` lets the judge reuse
    answers the answers suite already produced in the same run.
    """
    if suite not in SUITES:
        raise InputError(f"unknown suite {suite!r}; choose from {', '.join(SUITES)}")
    data = load_dataset(suite, dataset)
    started = time.perf_counter()
    if suite == "judge":
        cases, extra = judge.run(rt, data, progress, repeat=max(repeat, 1), answer_cases=answer_cases)
        metrics = {"skipped": extra.pop("skipped")} if "skipped" in extra else COMPUTE[suite](cases)
    else:
        runs = max(repeat, 1) if suite in ("answers", "conversations") and rt.settings.backend != "offline" else 1
        outcomes = [RUNNERS[suite](rt, data, progress) for _ in range(runs)]
        cases, extra = outcomes[0]
        metrics = _with_spread([COMPUTE[suite](c) for c, _ in outcomes])
    meta = dict(run_meta or build_meta(rt))
    warnings = list(extra.pop("warnings", []))
    if "skipped" not in metrics:
        warnings += leakage_warnings(rt, suite, data)
    meta.update(
        extra,
        dataset=str(data.path),
        dataset_sha256=data.sha256,
        cases=len(cases),
        seconds=round(time.perf_counter() - started, 2),
        warnings=warnings,
    )
    return SuiteResult(suite, metrics, cases, meta)


def _with_spread(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of each top-level number over repeated runs, with the runs themselves under `spread`."""
    if len(runs) == 1:
        return runs[0]
    merged = dict(runs[0])
    spread = {}
    for key, value in runs[0].items():
        values: list[float] = [r[key] for r in runs if isinstance(r.get(key), int | float)]
        if isinstance(value, int | float) and not isinstance(value, bool) and len(values) == len(runs):
            merged[key] = round(statistics.fmean(values), 4)
            merged[f"{key}_std"] = round(statistics.stdev(values), 4)
            spread[key] = {"runs": values, "min": min(values), "max": max(values)}
    merged["spread"] = spread
    return merged
