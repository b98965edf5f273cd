"""The fast unit-test tier (`make test-fast`): a pytest plugin, loaded with `-p fast_tier` (tests/ on PYTHONPATH).

It runs the tests that need no model against the in-memory vector store and the hashed embedder, which build an
index of the whole curated knowledge in seconds, and it proves that they needed none: the run fails if the
sentence encoder, the English parser, Chroma or WordLlama was imported. `make test` runs every test, this tier's
included, against the real components.

Left out, by rule rather than one by one:
- modules not in FAST_MODULES (they drive the coach, the safety router or the parser, which need the models);
- tests marked `real_backend`, `server` or `browser` (a contract test's real parameters, real servers, Chromium);
- tests that use the built index (`built_dir`, `rt`, `cli_env`): building it also trains the understanding stage;
- the tests in RUNS_MENTOR_INGEST, for the same reason.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PROFILE = {"MENTOR_VECTOR_STORE": "memory", "MENTOR_EMBEDDER": "hashed"}
FAST_MODULES = frozenset(
    {
        "test_architecture_doc.py",
        "test_cli_pipe.py",
        "test_complete_cancel.py",
        "test_docs.py",
        "test_embedder_contract.py",
        "test_feedback.py",
        "test_front_matter.py",
        "test_imports.py",
        "test_ingest.py",
        "test_llm_faults.py",
        "test_registry.py",
        "test_rendering.py",
        "test_security.py",
        "test_sessions.py",
        "test_store_contract.py",
        "test_upload_lifecycle.py",
        "test_workspace.py",
    }
)
# `mentor ingest` run in-process also prepares the understanding stage, which loads the parser.
RUNS_MENTOR_INGEST = frozenset(
    {
        "test_ingest.py::test_cli_ingest_summary_and_exit_codes",
        "test_ingest.py::test_cli_embedder_mismatch_is_one_clear_line",
    }
)
SLOW_MARKERS = ("real_backend", "server", "browser")
NEEDS_BUILT_INDEX = frozenset({"built_dir", "rt", "cli_env"})
MODEL_MODULES = ("onnxruntime", "spacy", "chromadb", "wordllama")  # importing one means a test used a model


def pytest_configure(config: pytest.Config) -> None:
    os.environ.update(PROFILE)  # read by every Settings the tests build (conftest's make_settings leaves these)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return collection_path.name not in FAST_MODULES
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        slow = any(item.get_closest_marker(m) for m in SLOW_MARKERS)
        uses_built = NEEDS_BUILT_INDEX & set(getattr(item, "fixturenames", ()))
        ingests = f"{item.path.name}::{item.name}" in RUNS_MENTOR_INGEST
        (drop if slow or uses_built or ingests else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


_FIRST_LOADED_BY: dict[str, str] = {}  # model module -> the test (or collection) after which it was first seen


def _note_models(where: str) -> None:
    for name in MODEL_MODULES:
        if name in sys.modules and name not in _FIRST_LOADED_BY:
            _FIRST_LOADED_BY[name] = where


def pytest_collection_finish(session: pytest.Session) -> None:
    _note_models("collecting the test modules")


def pytest_runtest_teardown(item: pytest.Item) -> None:
    _note_models(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _FIRST_LOADED_BY:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for name, where in _FIRST_LOADED_BY.items():
            reporter.write_line(f"fast tier: {name} was imported by {where}; it belongs to `make test` only", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
