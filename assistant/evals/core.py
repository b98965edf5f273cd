"""Shared pieces of the eval harness: the result type, suite names, metric directions and flattening."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SUITES: tuple[str, ...] = (
    "retrieval",
    "answers",
    "feedback",
    "safety",
    "conversations",
    "details",
    "moves",
    "judge",
)

# Metrics where a smaller number is better; `--fail-under` treats their bound as a ceiling.
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {
        "false_positive_rate",
        "false_abstention_rate",
        "unscored",
        "planted_text_echoed",
        "wrong_attribution",
        "parse_ms_p50",
        "benign_escalated",
        "benign_flagged",
        "held_out_benign_flagged",
        "placeholder_leaks",
        "duplicate_bullets",
        "broken_lines",
        "off_situation_bullets",
    }
)
# Descriptive numbers (counts, averages) that are reported but never called a regression.
NEUTRAL: frozenset[str] = frozenset(
    {
        "cases",
        "scored",
        "mean_words",
        "flesch",
        "turns",
        "conversations",
        "detailed_feedback_cases",
        "answerable",
        "unanswerable",
        "escalated",
        "injection_doc_retrieved",
        "followup_hit_without_history",
    }
)

Case = dict[str, Any]
ComputeFn = Callable[[list[Case]], dict[str, Any]]
Progress = Callable[[int, int], None]  # (cases done, cases in all)
SuiteOutput = tuple[list[Case], dict[str, Any]]  # the cases, and what the run adds to the suite's meta


@dataclass
class SuiteResult:
    """One suite run: headline metrics, one record per case, and where the numbers came from."""

    suite: str
    metrics: dict[str, Any]
    cases: list[Case]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return "skipped" in self.metrics

    @property
    def failed_cases(self) -> list[Case]:
        return [c for c in self.cases if c.get("passed") is False]

    def as_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "metrics": self.metrics, "cases": self.cases, "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuiteResult:
        return cls(
            str(data["suite"]),
            dict(data.get("metrics") or {}),
            list(data.get("cases") or []),
            dict(data.get("meta") or {}),
        )


def direction(name: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 for descriptive numbers."""
    last = name.rsplit(".", 1)[-1]
    if last in NEUTRAL or last.endswith(("_std", "_min", "_max")):
        return 0
    return -1 if last in LOWER_IS_BETTER else 1


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested metrics as dotted names (`by_retriever.bm25.mrr`); only numbers, spread details left out."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if key == "spread":
            continue
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def case_ids(texts: list[str]) -> list[str]:
    """Stable ids from the case text (not the line number), so reordering a dataset keeps the baseline diff."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for text in texts:
        base = hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()[:10]
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’-]*", text)


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)
