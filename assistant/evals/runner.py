"""The `mentor eval` command: run suites with a progress bar, print, write reports, enforce bounds."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.errors import InputError
from assistant.evals.core import SUITES, SuiteResult, direction, flatten
from assistant.evals.datasets import DatasetError
from assistant.evals.harness import run_suite
from assistant.evals.meta import run_meta
from assistant.evals.reports import compare, regressions, report_meta, write_reports
from assistant.runtime import Runtime
from assistant.stores import IndexError_


class EvalUsageError(InputError):
    """A command-line mistake: printed as one line, exit code 2."""


@dataclass(frozen=True)
class Bound:
    raw: str
    suite: str | None
    metric: str
    value: float


def parse_bound(raw: str) -> Bound:
    """`metric=VALUE` or `suite.metric=VALUE` (nested metrics by dots: `safety.per_category.crisis.recall=1`)."""
    name, sep, value = raw.rpartition("=")
    if not sep or not name.strip():
        raise EvalUsageError(f"--fail-under {raw!r}: expected NAME=VALUE, e.g. retrieval.mrr=0.8")
    try:
        number = float(value)
    except ValueError:
        raise EvalUsageError(f"--fail-under {raw!r}: {value!r} is not a number") from None
    head, _, rest = name.strip().partition(".")
    if head in SUITES and rest:
        return Bound(raw, head, rest, number)
    return Bound(raw, None, name.strip(), number)


def check_bounds(results: list[SuiteResult], bounds: list[Bound]) -> tuple[list[str], list[str]]:
    """(violations, notes). A bound no run suite reports is an error: a typo must not pass a CI gate."""
    violations: list[str] = []
    notes: list[str] = []
    for bound in bounds:
        targets = [r for r in results if bound.suite in (None, r.suite)]
        checked = False
        for result in targets:
            if result.skipped:
                if bound.suite:
                    notes.append(f"--fail-under {bound.raw}: {result.suite} was skipped ({result.metrics['skipped']})")
                    checked = True
                continue
            value = flatten(result.metrics).get(bound.metric)
            if value is None:
                continue
            checked = True
            lower_better = direction(bound.metric) < 0
            if (value > bound.value) if lower_better else (value < bound.value):
                relation = "above the ceiling" if lower_better else "below the bound"
                violations.append(f"{result.suite}.{bound.metric} = {value:.4g}, {relation} {bound.value:g}")
        if not checked:
            problem = (
                f"suite {bound.suite!r} reports no metric {bound.metric!r} in this run"
                if bound.suite
                else f"no suite in this run reports a metric {bound.metric!r}"
            )
            raise EvalUsageError(f"--fail-under {bound.raw}: {problem}")
    return violations, notes


def _suites(arg: str) -> list[str]:
    names = list(SUITES) if arg == "all" else [s.strip() for s in arg.split(",") if s.strip()]
    unknown = [s for s in names if s not in SUITES]
    if unknown or not names:
        raise EvalUsageError(f"--suite: unknown suite {', '.join(unknown) or arg!r}; choose from {', '.join(SUITES)}")
    return names


def _load_baseline(path: Path | None) -> dict[str, Any] | list[Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalUsageError(f"--baseline {path}: file not found") from None
    except (OSError, ValueError) as exc:
        raise EvalUsageError(f"--baseline {path}: not a readable report.json ({exc})") from None
    if not isinstance(data, dict | list):
        raise EvalUsageError(f"--baseline {path}: expected a report.json written by `mentor eval --out`")
    return data


def _ensure_index(rt: Runtime) -> None:
    """Build the knowledge index on first use, so `mentor eval` works right after a fresh checkout."""
    try:
        count = rt.store.count()
    except IndexError_ as exc:
        if type(exc) is not IndexError_:  # locked, unavailable or a different embedder: the user must act
            raise
        count = 0
    if count == 0:
        print("The knowledge index is empty; building it first (same as `mentor ingest`).", file=sys.stderr)
        rt.ingestor.run()


def main(args: Any) -> int:
    try:
        return _main(args)
    except (EvalUsageError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _main(args: Any) -> int:
    names = _suites(args.suite)
    bounds = [parse_bound(b) for b in args.fail_under or []]
    if args.dataset and len(names) != 1:
        raise EvalUsageError("--dataset needs exactly one --suite (the file's format depends on the suite)")
    if args.repeat < 1:
        raise EvalUsageError("--repeat must be at least 1")
    baseline = _load_baseline(args.baseline)
    rt = Runtime()
    _ensure_index(rt)
    started = time.perf_counter()
    results = _run_all(rt, names, args)
    diff = _report_diff(results, baseline)
    out = sys.stderr if args.json else sys.stdout
    _print_summary(results, out)
    if diff:
        lines = regressions(diff)
        print("\nCompared with the baseline:" + ("" if lines else " no change beyond noise"), file=out)
        for line in lines:
            print(f"  {line}", file=out)
    if args.out:
        meta = report_meta(results, total_seconds=round(time.perf_counter() - started, 2))
        paths = write_reports(results, args.out, baseline=None, diff=diff, meta=meta)
        print("\nReports: " + ", ".join(str(p) for p in paths.values()), file=out)
    violations, notes = check_bounds(results, bounds)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for violation in violations:
        print(f"FAIL: {violation}", file=sys.stderr)
    return 1 if violations else 0


def _run_all(rt: Runtime, names: list[str], args: Any) -> list[SuiteResult]:
    meta = run_meta(rt)
    results: list[SuiteResult] = []
    answer_cases = None
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        for name in names:
            task = bar.add_task(f"eval {name}", total=None)

            def tick(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            result = run_suite(
                rt, name, args.dataset, tick, repeat=args.repeat, answer_cases=answer_cases, run_meta=meta
            )
            if name == "answers" and not args.dataset:
                answer_cases = result.cases
            results.append(result)
            bar.update(task, visible=False)
            if args.json:
                print(json.dumps(result.as_dict(), ensure_ascii=False, default=str), flush=True)
    return results


def _report_diff(results: list[SuiteResult], baseline: dict[str, Any] | list[Any] | None) -> dict[str, Any] | None:
    if baseline is None:
        return None

    return compare(results, baseline)


def _print_summary(results: list[SuiteResult], out: Any) -> None:
    for result in results:
        if result.skipped:
            print(f"{result.suite:13} skipped: {result.metrics['skipped']}", file=out)
            continue
        flat = {k: v for k, v in result.metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        shown = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in flat.items())
        print(f"{result.suite:13} {shown}  ({result.meta.get('seconds')} s)", file=out)
        by = result.metrics.get("by_retriever")
        if by:
            metrics = list(next(iter(by.values())).keys())
            print(f"{'':13} {'retriever':9} " + " ".join(f"{m:>7}" for m in metrics), file=out)
            for retriever, row in by.items():
                print(f"{'':13} {retriever:9} " + " ".join(f"{row[m]:7.3f}" for m in metrics), file=out)
        for warning in result.meta.get("warnings", []):
            print(f"{'':13} warning: {warning}", file=out)
        failed = len(result.failed_cases)
        if failed:
            print(f"{'':13} {failed} of {len(result.cases)} cases failed (see the reports for which)", file=out)
