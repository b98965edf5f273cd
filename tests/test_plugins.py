"""Plugins: an installed package adds an embedder and a chat backend through entry points, and the product uses
them by name (tests/plugin_example, installed for real with pip into a temporary folder)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, make_settings

from assistant.embedders import EMBEDDERS, get_embedder
from assistant.errors import BackendError, ConfigurationError, MentorError
from assistant.llm import BACKENDS, ChatBackend, CoachRequest
from assistant.llm.offline import OfflineCoach
from assistant.retrieval import is_searched
from assistant.runtime import Runtime

PLUGIN_SOURCE = REPO / "tests" / "plugin_example"
DOCUMENT = "knowledge/feedback-on-missed-deadlines.md"
QUESTION = "How do I give feedback on a missed deadline without sounding harsh?"


@pytest.fixture(scope="module")
def plugin_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example package installed with pip (its wheel built from source, offline) into a folder on sys.path,
    so its entry points are found through importlib.metadata exactly as for any installed distribution."""
    # setuptools writes build/ and *.egg-info next to the sources it builds: build from a copy, not the checkout.
    source = shutil.copytree(PLUGIN_SOURCE, tmp_path_factory.mktemp("plugin") / "src")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*pip, "--target", str(target), str(source)], check=True, capture_output=True)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    for name in [m for m in sys.modules if m.startswith("mentor_plugin_example")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def test_installed_package_adds_names_to_both_registries(plugin_installed: Path) -> None:
    assert (plugin_installed / "mentor_plugin_example" / "hashing.py").is_file()
    assert "hashing" in EMBEDDERS.names() and "minilm" in EMBEDDERS.names()
    assert "extractive" in BACKENDS.names() and "offline" in BACKENDS.names()


def test_unknown_names_are_refused_with_the_valid_ones(plugin_installed: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as raised:
        get_embedder(make_settings(tmp_path, embedder="no-such-encoder"))
    message = str(raised.value)
    assert "MENTOR_EMBEDDER='no-such-encoder'" in message
    assert all(name in message for name in ("hashing", "minilm", "wordllama", "openai"))
    assert "mentor_assistant.embedders" in message
    with pytest.raises(MentorError, match=r"MENTOR_LLM_BACKEND='gpt-9'.*extractive.*offline"):
        BACKENDS.create("gpt-9", make_settings(tmp_path), None)


@pytest.fixture(scope="module")
def plugin_rt(plugin_installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The curated knowledge indexed with the plugin's embedder; the plugin's backend writes the answers."""
    settings = make_settings(tmp_path_factory.mktemp("data"), embedder="hashing", llm_backend="extractive")
    rt = Runtime(settings)
    report = rt.ingestor.run()
    assert report.chunks > 100 and not report.skipped
    return rt


def test_plugin_embedder_indexes_and_retrieves(plugin_rt: Runtime) -> None:
    embedder = plugin_rt.embedder
    vectors = embedder.embed(["give feedback kindly", "give feedback kindly", "quarterly tax filing"])
    assert vectors.shape == (3, 512) and embedder.name == "hashing-512"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] == pytest.approx(1.0) and vectors[0] @ vectors[2] < 0.5
    # Dense search ranks by the plugin's vectors alone: a passage's own text finds that passage first.
    passages = [p for p in plugin_rt.retriever.document_chunks(DOCUMENT) if is_searched(p)]
    assert passages, "the document was indexed with the plugin's vectors"
    for passage in passages[:3]:
        top = plugin_rt.retriever.search(passage.text, k=1, mode="dense")
        assert top[0].chunk.id == passage.id


def test_plugin_backend_streams_and_completes(plugin_rt: Runtime) -> None:
    settings = plugin_rt.settings
    backend = BACKENDS.create(settings.backend, settings, plugin_rt.embedder)
    assert backend.capabilities.completion and backend.complete("One. Two.") == "One."
    hits = plugin_rt.retriever.search(QUESTION, k=5)
    reply = backend.stream(CoachRequest(question=QUESTION, mode="chat", hits=hits))
    assert reply.sources_shown == 3, "it reads three of the five passages and says so"
    text = "".join(reply)
    assert text.startswith(f"About: {QUESTION}") and "[1]" in text and "[3]" in text and "[4]" not in text
    assert " ".join(hits[0].chunk.text.split())[:40] in text


def test_the_coach_answers_through_the_plugin_backend(plugin_rt: Runtime) -> None:
    answer = plugin_rt.coach.ask(QUESTION, persist=False)
    assert answer.backend == "extractive" and answer.model == "first-sentences"
    assert answer.answer.startswith("About:") and answer.sources, "the plugin's answer is cited and kept"
    # The coach is given the whole playbook (more than three passages); it lists only what the backend read.
    assert [s.n for s in answer.sources] == [1, 2, 3]


def test_the_offline_coach_declares_what_it_cannot_do(plugin_rt: Runtime) -> None:
    offline: ChatBackend = OfflineCoach(plugin_rt.settings, plugin_rt.embedder)
    assert not offline.capabilities.completion
    with pytest.raises(BackendError, match="cannot complete a prompt"):
        offline.complete("Rewrite this question.")
    hits = plugin_rt.retriever.search(QUESTION, k=4)
    reply = offline.stream(CoachRequest(question=QUESTION, mode="chat", hits=hits))
    assert reply.sources_shown == 4
    # Without the coach's reading of the message it does not guess a playbook: it says it has none.
    assert "".join(reply).strip() == "".join(offline.stream(CoachRequest("anything", "chat", []))).strip()
