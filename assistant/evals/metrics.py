"""Metric functions: ranking quality, classification quality, readability, and the bootstrap for changes.

Every function here is pure and works on plain lists, so the tests check them against hand-computed values
and the baseline diff can recompute a suite's metrics on resampled cases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# --- ranking --------------------------------------------------------------------------------------------


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """1.0 when any of the first k results is relevant."""
    return 1.0 if any(relevant[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    """1 / rank of the first relevant result (0.0 when none is)."""
    for rank, hit in enumerate(relevant, start=1):
        if hit:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevant: Sequence[bool], k: int, n_relevant: int | None = None) -> float:
    """Binary-relevance nDCG@k.

    The ideal ranking puts min(k, n_relevant) relevant results first. `n_relevant` is how many relevant
    items exist in the whole collection; without it, only the retrieved relevant items count (which
    rewards any ordering that puts them first and so overstates quality).
    """
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(relevant[:k], start=1) if hit)
    ideal_count = min(k, n_relevant if n_relevant is not None else sum(bool(r) for r in relevant[:k]))
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_count + 1))
    return dcg / ideal if ideal else 0.0


# --- classification -------------------------------------------------------------------------------------


def confusion(pred: Sequence[bool], gold: Sequence[bool]) -> tuple[int, int, int, int]:
    """(true positives, false positives, false negatives, true negatives)."""
    tp = sum(1 for p, g in zip(pred, gold, strict=True) if p and g)
    fp = sum(1 for p, g in zip(pred, gold, strict=True) if p and not g)
    fn = sum(1 for p, g in zip(pred, gold, strict=True) if not p and g)
    return tp, fp, fn, len(gold) - tp - fp - fn


def precision_recall(pred: Sequence[bool], gold: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of the positive class.

    Empty denominators follow "nothing to get wrong": no positives predicted and none expected gives
    precision 1.0; no positives expected gives recall 1.0. Predicting nothing while positives exist
    gives precision 0.0 (the classifier found none of them).
    """
    tp, fp, fn, _ = confusion(pred, gold)
    precision = tp / (tp + fp) if tp + fp else (1.0 if tp + fn == 0 else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def accuracy(pred: Sequence[Any], gold: Sequence[Any]) -> float:
    if not gold:
        return 0.0
    return sum(1 for p, g in zip(pred, gold, strict=True) if p == g) / len(gold)


def mean(values: Sequence[float | bool | None]) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def share(flags: Sequence[bool | None]) -> float | None:
    return mean(flags)


# --- readability ----------------------------------------------------------------------------------------

_VOWELS = re.compile(r"[aeiouy]+")
_SENTENCE = re.compile(r"[.!?]+(?:\s|$)|\n+")


def count_syllables(word: str) -> int:
    """Vowel groups, minus a silent final e; at least one. Good enough for a readability band."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    groups = len(_VOWELS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    return max(groups, 1)


def flesch_reading_ease(text: str) -> float | None:
    """Flesch reading ease (206.835 − 1.015·words/sentence − 84.6·syllables/word); None for no words."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'’]*", text)
    if not tokens:
        return None
    sentences = max(len([s for s in _SENTENCE.split(text) if re.search(r"[A-Za-z]", s)]), 1)
    syllables = sum(count_syllables(t) for t in tokens)
    return 206.835 - 1.015 * (len(tokens) / sentences) - 84.6 * (syllables / len(tokens))


# --- bootstrap ------------------------------------------------------------------------------------------

Statistic = Callable[[list[Any]], dict[str, float]]


def bootstrap_change(
    base: Sequence[Any],
    new: Sequence[Any],
    statistic: Statistic,
    *,
    paired: bool,
    draws: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Confidence interval of statistic(new) − statistic(base) for each metric, by resampling cases.

    Paired (the same cases in the same order on both sides, the usual case when re-running a dataset): one
    set of resampled indices is used for both, so case difficulty cancels out. Unpaired: each side is
    resampled on its own. Seeded, so a report is reproducible.
    """
    if not base or not new:
        return {}
    if paired and len(base) != len(new):
        raise ValueError("paired bootstrap needs the same number of cases on both sides")
    rng = np.random.default_rng(seed)
    deltas: dict[str, list[float]] = {}
    for _ in range(draws):
        idx_new = rng.integers(0, len(new), len(new))
        idx_base = idx_new if paired else rng.integers(0, len(base), len(base))
        after = statistic([new[i] for i in idx_new])
        before = statistic([base[i] for i in idx_base])
        for name, value in after.items():
            if name in before and value is not None and before[name] is not None:
                deltas.setdefault(name, []).append(value - before[name])
    tail = (1 - level) / 2 * 100
    return {
        name: (float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail)))
        for name, values in deltas.items()
        if len(values) >= draws // 2  # a metric undefined in most resamples has no meaningful interval
    }
