"""The `moves` suite: how well the practice role-play reads what a mentor line does (open question, empathy,
blame...), with the configured sentence encoder.

Dataset: evals/datasets/moves.jsonl, one hand-labelled mentor line a row:
    {"text": str, "move": one of assistant.practice.moves.MOVES, "split": "dev"|"test", "notes": str (optional)}
A line with several sentences is labelled by the rule in assistant/practice/moves.yaml. The lines were written
before, and separately from, the classifier's training examples. Tune on `dev`; `test` is only measured.
"""

from __future__ import annotations

from typing import Any

from assistant.evals import datasets
from assistant.evals.core import Case, Progress, SuiteOutput, case_ids, rounded
from assistant.evals.datasets import Dataset
from assistant.evals.metrics import accuracy, precision_recall
from assistant.practice.moves import MOVES, classifier_for
from assistant.runtime import Runtime

NAME = "moves"
SPLITS: tuple[str, ...] = ("dev", "test")


def validate(row: dict[str, Any]) -> None:
    datasets._keys(row, {"text", "move", "split"}, set())
    datasets._text(row, "text")
    if row["move"] not in MOVES:
        raise datasets._Invalid(f"'move' must be one of {', '.join(MOVES)}; got {row['move']!r}")
    if row["split"] not in SPLITS:
        raise datasets._Invalid(f"'split' must be dev or test, got {row['split']!r}")


def register() -> None:
    """Tell the dataset loader about this suite's file and line format."""
    datasets.DATASET_FOR.setdefault(NAME, NAME)
    datasets._VALIDATORS.setdefault(NAME, validate)


def run(rt: Runtime, dataset: Dataset, progress: Progress | None = None) -> SuiteOutput:
    classifier = classifier_for(rt.embedder)
    ids = case_ids([r["text"] for r in dataset.rows])
    cases: list[Case] = []
    for i, row in enumerate(dataset.rows):
        reading = classifier.read(row["text"])
        passed = reading.move == row["move"]
        cases.append(
            {
                "id": ids[i],
                "line": row["_line"],
                "input": row["text"],
                "split": row["split"],
                "expected": row["move"],
                "predicted": reading.move,
                "sentences": [{"text": s.text, "move": s.move, "confidence": s.confidence} for s in reading.sentences],
                "passed": passed,
                "failures": [] if passed else [f"expected {row['move']}, got {reading.move}"],
            }
        )
        if progress:
            progress(i + 1, len(dataset.rows))
    return cases, {"embedder": rt.embedder.name}


def compute(cases: list[Case]) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "accuracy": rounded(accuracy([c["predicted"] for c in cases], [c["expected"] for c in cases])),
    }
    for split in SPLITS:
        part = [c for c in cases if c["split"] == split]
        if part:
            metrics[f"accuracy_{split}"] = rounded(
                accuracy([c["predicted"] for c in part], [c["expected"] for c in part])
            )
    per: dict[str, dict[str, float | None]] = {}
    for move in MOVES:
        p, r = precision_recall([c["predicted"] == move for c in cases], [c["expected"] == move for c in cases])
        per[move] = {"precision": rounded(p), "recall": rounded(r)}
    metrics.update(per_move=per, cases=len(cases))
    return metrics
