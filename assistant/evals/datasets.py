"""Eval datasets: JSON Lines files, validated line by line with errors that name the file and line."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from assistant.feedback import NEGATIVE, POSITIVE
from assistant.settings import REPO_ROOT
from assistant.types import MODES, SAFETY_CATEGORIES, TOPICS

DATASET_DIR = REPO_ROOT / "evals" / "datasets"
# The judge scores answers to the answers dataset's questions.
DATASET_FOR: dict[str, str] = {
    "retrieval": "retrieval",
    "answers": "answers",
    "feedback": "feedback",
    "safety": "safety",
    "conversations": "conversations",
    "judge": "answers",
}
FEEDBACK_CRITERIA: tuple[str, ...] = POSITIVE + NEGATIVE
MAX_TURNS = 10
_COMMON = {"id", "notes"}


class DatasetError(InputError):
    """A dataset line the harness cannot use; the message reads `file:line: what is wrong`."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")


@dataclass
class Dataset:
    path: Path
    sha256: str
    rows: list[dict[str, Any]]  # each row carries its line number as "_line"


def default_path(suite: str) -> Path:
    return DATASET_DIR / f"{DATASET_FOR[suite]}.jsonl"


def load_dataset(suite: str, path: Path | None = None) -> Dataset:
    """Read and validate the dataset for `suite`; raises DatasetError on the first bad line."""
    path = Path(path) if path else default_path(suite)
    if not path.is_file():
        raise DatasetError(path, None, "file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(path, raw[: exc.start].count(b"\n") + 1, "is not UTF-8 text") from None
    check = _VALIDATORS[DATASET_FOR[suite]]
    rows: list[dict[str, Any]] = []
    # JSON Lines ends a record at "\n" only; str.splitlines() would also break at U+2028 and friends.
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise DatasetError(path, number, "JSON is nested too deeply") from None
        if not isinstance(row, dict):
            raise DatasetError(path, number, f"expected a JSON object, got {type(row).__name__}")
        try:
            check(row)
        except _Invalid as exc:
            raise DatasetError(path, number, str(exc)) from None
        rows.append({**row, "_line": number})
    if not rows:
        raise DatasetError(path, None, "has no cases (expected one JSON object per line)")
    return Dataset(path, hashlib.sha256(raw).hexdigest(), rows)


class _Invalid(Exception):
    pass


def _keys(row: dict[str, Any], required: set[str], optional: set[str]) -> None:
    missing = sorted(required - row.keys())
    if missing:
        raise _Invalid(f"missing field {', '.join(repr(m) for m in missing)}")
    unknown = sorted(row.keys() - required - optional - _COMMON)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise _Invalid(f"unknown field {', '.join(repr(u) for u in unknown)} (expected {allowed})")


def _text(row: dict[str, Any], key: str) -> None:
    value = row[key]
    if not isinstance(value, str):
        raise _Invalid(f"{key!r} must be a string, got {_kind(value)}")
    if not value.strip():
        raise _Invalid(f"{key!r} is empty")


def _strings(row: dict[str, Any], key: str) -> None:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Invalid(f"{key!r} must be a list of non-empty strings, got {_kind(value)}")


def _bool(row: dict[str, Any], key: str) -> None:
    if key in row and not isinstance(row[key], bool):
        raise _Invalid(f"{key!r} must be true or false, got {_kind(row[key])}")


def _topics(value: Any, label: str, allow_empty: bool) -> None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise _Invalid(f"{label} must be a list of topic slugs, got {_kind(value)}")
    if not value and not allow_empty:
        raise _Invalid(f"{label} is empty (name at least one topic)")
    for topic in value:
        if topic not in TOPICS:
            raise _Invalid(f"{label}: unknown topic {topic!r} (known: {', '.join(TOPICS)})")


def _kind(value: Any) -> str:
    return (
        "null"
        if value is None
        else {
            "str": "a string",
            "bool": "a boolean",
            "list": "a list",
            "dict": "an object",
            "int": "a number",
            "float": "a number",
        }.get(type(value).__name__, type(value).__name__)
    )


def _retrieval(row: dict[str, Any]) -> None:
    _keys(row, {"question", "expected_topics"}, {"expected_docs", "split"})
    _text(row, "question")
    _topics(row["expected_topics"], "'expected_topics'", allow_empty=False)
    _strings(row, "expected_docs")  # knowledge ids: file stems of the documents that answer the question
    if "split" in row and row["split"] not in ("dev", "test"):
        raise _Invalid(f"'split' must be dev or test, got {row['split']!r}")


def _answers(row: dict[str, Any]) -> None:
    optional = {"mode", "expected_topics", "answerable", "expected_playbooks", "need", "required_points", "split"}
    _keys(row, {"question"}, optional)
    _text(row, "question")
    for key in ("expected_playbooks", "required_points"):
        _strings(row, key)
    if "mode" in row and row["mode"] not in ("auto", *MODES):
        raise _Invalid(f"'mode' must be one of auto, {', '.join(MODES)}; got {row['mode']!r}")
    if "expected_topics" in row:
        _topics(row["expected_topics"], "'expected_topics'", allow_empty=True)
    _bool(row, "answerable")


def _feedback(row: dict[str, Any]) -> None:
    _keys(row, {"text", "good"}, {"criteria"})
    _text(row, "text")
    _bool(row, "good")
    criteria = row.get("criteria", {})
    if not isinstance(criteria, dict):
        raise _Invalid(f"'criteria' must be an object of criterion: true/false, got {_kind(criteria)}")
    for name, value in criteria.items():
        if name not in FEEDBACK_CRITERIA:
            raise _Invalid(f"'criteria': unknown criterion {name!r} (known: {', '.join(FEEDBACK_CRITERIA)})")
        if not isinstance(value, bool):
            raise _Invalid(f"'criteria.{name}' must be true or false, got {_kind(value)}")


SAFETY_SPLITS: tuple[str, ...] = ("train", "test")


def _safety(row: dict[str, Any]) -> None:
    _keys(row, {"question", "expected_safety"}, {"family", "split"})
    _text(row, "question")
    if "family" in row:
        _text(row, "family")
    if "split" in row and row["split"] not in SAFETY_SPLITS:
        raise _Invalid(f"'split' must be one of {', '.join(SAFETY_SPLITS)}; got {row['split']!r}")
    expected = row["expected_safety"]
    if expected is not None and expected not in SAFETY_CATEGORIES:
        raise _Invalid(f"'expected_safety' must be null or one of {', '.join(SAFETY_CATEGORIES)}; got {expected!r}")


def _conversations(row: dict[str, Any]) -> None:
    _keys(row, {"turns", "expected_topics"}, {"expected_playbooks", "required", "forbidden", "split"})
    turns, expected = row["turns"], row["expected_topics"]
    for key in ("expected_playbooks", "required", "forbidden"):
        per_turn = row.get(key, [[] for _ in turns])
        if not isinstance(per_turn, list) or len(per_turn) != len(turns):
            raise _Invalid(f"{key!r} must be a list with one list per turn ({len(turns)})")
        for k, items in enumerate(per_turn, start=1):
            _strings({f"{key} for turn {k}": items}, f"{key} for turn {k}")
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        raise _Invalid("'turns' must be a non-empty list of non-empty strings")
    if len(turns) > MAX_TURNS:
        raise _Invalid(f"'turns' has {len(turns)} turns; at most {MAX_TURNS}")
    if not isinstance(expected, list) or len(expected) != len(turns):
        raise _Invalid(f"'expected_topics' must be a list with one topic list per turn ({len(turns)})")
    for k, topics in enumerate(expected, start=1):
        _topics(topics, f"'expected_topics' for turn {k}", allow_empty=False)


_VALIDATORS = {
    "retrieval": _retrieval,
    "answers": _answers,
    "feedback": _feedback,
    "safety": _safety,
    "conversations": _conversations,
}
