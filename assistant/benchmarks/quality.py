"""Document-level quality of each retriever on the project's retrieval questions, timed in the same run.

Each method returns the sources of its top k chunks; the documents (file stems) in the order of their first
chunk are scored against the question's `expected_docs`: hit@1 (the first document answers the question) and
MRR (1 / rank of the first document that does, 0 beyond k chunks). Every method sees the same k chunks' worth
of room, so a method that spends them on one document is not helped by a deeper list.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.benchmarks.timing import time_interleaved
from assistant.evals.suites import document_of, document_ranking, document_scores

SourcesFn = Callable[[str], list[str]]


@dataclass(frozen=True)
class Labelled:
    question: str
    expected_docs: frozenset[str]
    split: str | None


def labelled_questions(path: Path, indexed_sources: list[str]) -> list[Labelled]:
    """The questions with document labels, each label narrowed to documents the index holds (a question whose
    documents are all absent is left out)."""
    indexed = {document_of(s) for s in indexed_sources}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for row in rows:
        expected = frozenset(row.get("expected_docs", [])) & indexed
        if expected:
            out.append(Labelled(row["question"], expected, row.get("split")))
    return out


def compare(methods: dict[str, SourcesFn], questions: list[Labelled]) -> dict[str, Any]:
    """Quality and latency of every method over the labelled questions, methods interleaved per question."""
    answers: dict[str, dict[str, list[str]]] = {name: {} for name in methods}

    def keep(name: str, question: str, sources: Any) -> None:
        answers[name][question] = list(sources)

    latency = time_interleaved(methods, [q.question for q in questions], on_result=keep)
    out: dict[str, Any] = {}
    for name in methods:
        scores = [document_scores(document_ranking(answers[name][q.question]), set(q.expected_docs)) for q in questions]
        test = [s for s, q in zip(scores, questions, strict=True) if q.split == "test"]
        out[name] = {
            "doc_hit@1": _mean(s["doc_hit@1"] for s in scores),
            "doc_mrr": _mean(s["doc_mrr"] for s in scores),
            "test_doc_hit@1": _mean(s["doc_hit@1"] for s in test) if test else None,
            "test_doc_mrr": _mean(s["doc_mrr"] for s in test) if test else None,
            "latency": latency[name],
        }
    return out


def _mean(values: Any) -> float:
    return round(statistics.fmean(list(values)), 4)
