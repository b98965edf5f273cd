"""LLM-as-judge: rubric prompts from prompts/judge_*.md score the coach's answers 1-5 with a reason.

Only runs with an LLM configured. Judgments are cached on disk by (prompt version, model, input, repeat),
so a re-run costs nothing; a timeout, an error or output that is not the requested JSON leaves the
judgment unscored (counted, never a 0 and never a fail).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant.evals import answers
from assistant.evals.core import Case, Progress, rounded
from assistant.evals.datasets import Dataset
from assistant.evals.metrics import mean
from assistant.prompts import PromptFile, load_prompt
from assistant.runtime import Runtime

RUBRICS: tuple[str, ...] = ("helpfulness", "empathy", "actionability", "faithfulness")
MAX_WORKERS = 4
PASS_SCORE = 3.0  # a case passes when its mean rubric score reaches this
SKIPPED = {"skipped": "no LLM configured"}
_JSON = re.compile(r"\{.*?\}", re.DOTALL)


def parse_judgment(raw: str) -> tuple[int | None, str]:
    """(score 1-5, reason) from the judge's reply; (None, why) when it is not the requested JSON."""
    for candidate in _JSON.findall(raw or ""):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        score = data.get("score") if isinstance(data, dict) else None
        number = score if isinstance(score, int | float) and not isinstance(score, bool) else None
        if number is not None and float(number).is_integer() and 1 <= int(number) <= 5:
            return int(number), str(data.get("reason", "")).strip()
        return None, f"score out of range or not an integer: {score!r}"
    return None, "unparsable output (no JSON object with a score)"


class JudgeCache:
    """One small JSON file per judgment under data_dir/judge-cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def key(prompt: PromptFile, model: str, rendered: str, repeat: int) -> str:
        return hashlib.sha256(json.dumps([prompt.tag, model, rendered, repeat]).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value), encoding="utf-8")
        tmp.replace(path)  # atomic: a concurrent reader never sees half a file


def sources_block(sources: list[dict[str, Any]], texts: dict[str, str]) -> str:
    return "\n\n".join(f"[{s['n']}] {s['title']}\n{texts.get(s['id'], '')}" for s in sources) or "(no sources)"


def run(
    rt: Runtime,
    dataset: Dataset,
    progress: Progress | None = None,
    repeat: int = 1,
    answer_cases: list[Case] | None = None,
) -> tuple[list[Case], dict[str, Any]]:
    backend = rt.coach.backend
    if not backend.capabilities.completion:  # the offline coach cannot read a judge prompt
        return [], {"skipped": SKIPPED["skipped"]}
    complete = backend.complete
    if answer_cases is None:
        answer_cases, _ = answers.run(rt, dataset)
    judged = [c for c in answer_cases if not c["abstained"] and not c["escalated"]]
    texts = {c.id: c.text for c in rt.retriever.chunks}
    prompts = {r: load_prompt(f"judge_{r}", rt.settings.prompts_dir) for r in RUBRICS}
    model = f"{rt.coach.backend.name}:{rt.coach.backend.model}"
    cache = JudgeCache(rt.settings.data_dir / "judge-cache")
    jobs = [(ci, r, k) for ci in range(len(judged)) for r in RUBRICS for k in range(repeat)]
    results: dict[tuple[int, str, int], tuple[int | None, str, bool]] = {}

    def judge(job: tuple[int, str, int]) -> tuple[int | None, str, bool]:
        case, rubric, k = judged[job[0]], job[1], job[2]
        rendered = prompts[rubric].format(
            question=case["input"], answer=case["answer"], sources=sources_block(case["sources"], texts)
        )
        key = JudgeCache.key(prompts[rubric], model, rendered, k)
        hit = cache.get(key)
        if hit is not None:
            return int(hit["score"]), str(hit.get("reason", "")), True
        try:
            score, reason = parse_judgment(complete(rendered))
        except Exception as exc:  # timeouts and server errors: unscored, the run goes on
            return None, f"judge failed: {exc}", False
        if score is not None:
            cache.put(key, {"score": score, "reason": reason, "rubric": rubric, "model": model})
        return score, reason, False

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        for n, (job, outcome) in enumerate(zip(jobs, pool.map(judge, jobs), strict=True), start=1):
            results[job] = outcome
            if progress:
                progress(n, len(jobs))
    cases = [_case(c, ci, results, repeat) for ci, c in enumerate(judged)]
    cached = sum(1 for v in results.values() if v[2])
    return cases, {
        "judge_model": model,
        "repeat": repeat,
        "cached_judgments": cached,
        "judgments": len(results),
        "prompt_versions": {r: p.tag for r, p in prompts.items()},
    }


def _case(c: Case, ci: int, results: dict[tuple[int, str, int], tuple[int | None, str, bool]], repeat: int) -> Case:
    scores = {r: [results[(ci, r, k)][0] for k in range(repeat)] for r in RUBRICS}
    reasons = {r: results[(ci, r, 0)][1] for r in RUBRICS}
    overall = mean([s for values in scores.values() for s in values])
    passed = None if overall is None else overall >= PASS_SCORE
    failures = [f"{r}: {reasons[r]}" for r in RUBRICS if (mean(scores[r]) or 5) < PASS_SCORE]
    return {
        "id": c["id"],
        "line": c["line"],
        "input": c["input"],
        "answer": c["answer"],
        "scores": scores,
        "reasons": reasons,
        "passed": passed,
        "failures": failures if passed is False else [],
    }


def compute(cases: list[Case]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    values = [s for c in cases for r in RUBRICS for s in c["scores"][r]]
    repeat = max((len(c["scores"][RUBRICS[0]]) for c in cases), default=1)
    spread: dict[str, Any] = {}
    for rubric in RUBRICS:
        metrics[rubric] = rounded(mean([s for c in cases for s in c["scores"][rubric]]))
        per_run = [mean([c["scores"][rubric][k] for c in cases if k < len(c["scores"][rubric])]) for k in range(repeat)]
        runs = [r for r in per_run if r is not None]
        if repeat > 1 and len(runs) > 1:
            metrics[f"{rubric}_std"] = rounded(statistics.stdev(runs))
            spread[rubric] = {"runs": [rounded(r) for r in runs], "min": rounded(min(runs)), "max": rounded(max(runs))}
    metrics = {k: v for k, v in metrics.items() if v is not None}
    metrics.update(
        scored=sum(1 for v in values if v is not None), unscored=sum(1 for v in values if v is None), cases=len(cases)
    )
    if spread:
        metrics["spread"] = spread
    return metrics
