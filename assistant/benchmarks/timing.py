"""Latency measured fairly: every method answers the same query before the next query starts.

Timing one method over all queries and then the next lets a change in machine load (other processes, CPU
frequency, a cache warming up) fall on one method and skew every ratio. Interleaving query by query, with
the order of the methods rotated each time, spreads such changes over all of them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

WARMUP = 3  # the first calls fill caches and load lazily built parts; they are not timed


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def summarise(times_ms: list[float]) -> dict[str, Any]:
    return {
        "p50_ms": round(percentile(times_ms, 50), 3),
        "p95_ms": round(percentile(times_ms, 95), 3),
        "mean_ms": round(statistics.fmean(times_ms), 3) if times_ms else float("nan"),
        "n": len(times_ms),
    }


def rotated(names: list[str], turn: int) -> list[str]:
    """The methods in the order they run for query number `turn`: each one leads in turn."""
    shift = turn % len(names) if names else 0
    return names[shift:] + names[:shift]


def time_interleaved(
    methods: dict[str, Callable[[str], Any]],
    queries: list[str],
    budgets: dict[str, int] | None = None,
    on_result: Callable[[str, str, Any], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """p50/p95 wall time of each method, all methods on query 1, then all on query 2, and so on.

    `budgets` caps how many queries a slow method answers (its first n); `on_result(method, query, result)`
    sees every timed answer, so quality can be scored from the very calls that were timed."""
    budgets = budgets or {}
    names = list(methods)
    for query in queries[:WARMUP]:
        for name in names:
            methods[name](query)
    times: dict[str, list[float]] = {name: [] for name in names}
    for turn, query in enumerate(queries):
        for name in rotated(names, turn):
            if len(times[name]) >= budgets.get(name, len(queries)):
                continue
            start = time.perf_counter()
            result = methods[name](query)
            times[name].append((time.perf_counter() - start) * 1000)
            if on_result:
                on_result(name, query, result)
    return {name: summarise(values) for name, values in times.items()}
