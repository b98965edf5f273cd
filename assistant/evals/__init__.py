"""`mentor eval`: the evaluation harness (retrieval, answers, feedback, safety, conversations, judge).

    run_suite(rt, "retrieval") -> SuiteResult(suite, metrics, cases, meta)
    write_reports(results, Path("reports"))  # report.json, report.md, report.html, junit.xml
    run_cli(args)                              # the CLI command

Dataset formats, metrics and thresholds are documented in docs/evals.md.
"""

from __future__ import annotations

from typing import Any

from assistant.evals import runner
from assistant.evals.core import SUITES, SuiteResult
from assistant.evals.datasets import DatasetError
from assistant.evals.harness import COMPUTE, run_suite
from assistant.evals.reports import compare, write_reports

__all__ = ["COMPUTE", "SUITES", "DatasetError", "SuiteResult", "compare", "run_cli", "run_suite", "write_reports"]


def run_cli(args: Any) -> int:
    return runner.main(args)
