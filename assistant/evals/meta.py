"""Where a report's numbers came from (commit, models, prompts, data hashes) and a leakage check."""

from __future__ import annotations

import bisect
import hashlib
import platform
import re
import subprocess
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from assistant import __version__
from assistant.evals.datasets import Dataset
from assistant.prompts import prompt_versions
from assistant.retrieval import tokenize
from assistant.runtime import Runtime
from assistant.safety import load_examples
from assistant.settings import REPO_ROOT

# A question "leaks" when this share of its content words sits in one knowledge sentence (or example),
# or when the normalised question appears in it as a substring. Short questions are too generic to judge.
LEAK_OVERLAP = 0.9
LEAK_MIN_TOKENS = 5
LEAK_MIN_CHARS = 30
MAX_WARNINGS = 20


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def index_hash(rt: Runtime) -> tuple[str, int]:
    """sha256 of the sorted chunk ids: changes whenever any chunk is added, removed or re-chunked."""
    chunks, _, _ = rt.store.all_records()
    ids = sorted(c.id for c in chunks)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest(), len(ids)


def run_meta(rt: Runtime) -> dict[str, Any]:
    digest, chunks = index_hash(rt)
    backend = rt.coach.backend
    return {
        "version": __version__,
        "commit": git_commit(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "backend": backend.name,
        "model": backend.model,
        "embedder": rt.embedder.name,
        "prompt_versions": prompt_versions(rt.settings.prompts_dir),
        "knowledge_index_sha256": digest,
        "knowledge_chunks": chunks,
    }


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


class _Haystack:
    """Sentences indexed by content token, so each question is compared only with sentences sharing its words."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.where = [w for w, _ in items]
        self.sizes: list[int] = []
        self.postings: dict[str, list[int]] = {}
        for i, tokens in enumerate(tokenize([t for _, t in items])):
            unique = set(tokens)
            self.sizes.append(len(unique))
            for token in unique:
                self.postings.setdefault(token, []).append(i)
        # One searchable string; the separator cannot occur in a normalised question, so no match spans two.
        self.offsets: list[int] = []
        pieces, at = [], 0
        for _, text in items:
            self.offsets.append(at)
            norm = _normal(text)
            pieces.append(norm)
            at += len(norm) + 1
        self.text = "|".join(pieces)

    def find(self, question: str, q_tokens: list[str]) -> str | None:
        q_set = set(q_tokens)
        if len(q_set) >= LEAK_MIN_TOKENS:
            counts = Counter(i for t in q_set for i in self.postings.get(t, ()))
            for i, shared in counts.items():
                if shared >= LEAK_OVERLAP * len(q_set):
                    return self.where[i]
        q_norm = _normal(question)
        if len(q_norm) >= LEAK_MIN_CHARS:
            pos = self.text.find(q_norm)
            if pos >= 0:
                return self.where[bisect.bisect_right(self.offsets, pos) - 1]
        return None


_HAYSTACKS: dict[tuple[str, int, int], _Haystack] = {}


def _haystack(rt: Runtime, suite: str) -> _Haystack | None:
    if suite == "safety":
        key = ("safety", 0, 0)
        if key not in _HAYSTACKS:
            _HAYSTACKS[key] = _Haystack([("the safety training data", e) for g in load_examples().values() for e in g])
        return _HAYSTACKS[key]
    if suite not in ("retrieval", "answers", "conversations", "judge"):
        return None
    chunks = rt.retriever.chunks
    key = ("knowledge", id(rt.retriever), len(chunks))
    if key not in _HAYSTACKS:
        # The playbooks' `asked_as` phrasings are what the coach matches questions against: the likeliest leak.
        phrasings = [(b.source, p) for b in rt.understanding.playbooks.values() for p in b.asked_as]
        _HAYSTACKS[key] = _Haystack([(c.source, s) for c in chunks for s in _sentences(c.text)] + phrasings)
    return _HAYSTACKS[key]


def leakage_warnings(rt: Runtime, suite: str, dataset: Dataset) -> list[str]:
    """Warn when an eval question appears nearly verbatim in what the system under test was built from:
    the knowledge base (retrieval, answers, conversations) or the safety router's written examples (safety)."""
    haystack = _haystack(rt, suite)
    if haystack is None:
        return []
    # Rows marked as training data of the safety classifier are known to be in it; only the others are checked.
    rows = [row for row in dataset.rows if not (suite == "safety" and row.get("split") == "train")]
    questions = [(row["_line"], q) for row in rows for q in (row.get("turns") or [row.get("question", "")])]
    warnings = []
    for (line, question), tokens in zip(questions, tokenize([q for _, q in questions]), strict=True):
        where = haystack.find(question, tokens)
        if where:
            warnings.append(f"{dataset.path.name}:{line}: question appears nearly verbatim in {where} (leakage)")
        if len(warnings) >= MAX_WARNINGS:
            warnings.append("(more leakage warnings left out)")
            break
    return warnings
