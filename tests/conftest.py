"""Shared fixtures: real components on temporary data directories; only remote LLMs are ever faked."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.runtime import Runtime
from assistant.settings import Settings

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings isolated from the caller's environment: offline backend, a private data directory."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "llm_backend": "offline",
        "openai_api_key": None,
        "openai_base_url": None,
        "chroma_host": None,
        "database_url": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose index holds the whole curated knowledge base (built once per run)."""
    data_dir = tmp_path_factory.mktemp("built")
    built = Runtime(make_settings(data_dir))
    built.ingestor.run()
    # Encoding the playbook phrasings and training the situation classifier are cached in the data directory;
    # doing it here once lets every copy of this directory start without that work.
    assert built.understanding.playbooks
    return data_dir


@pytest.fixture(scope="session")
def rt(built_dir: Path) -> Runtime:
    """A read-mostly runtime over the built index; tests that change the index make their own."""
    return Runtime(make_settings(built_dir))


@pytest.fixture
def own_data(tmp_path: Path, built_dir: Path) -> Path:
    """A private copy of the built data directory, for a test that writes sessions or changes the index."""
    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    return data


@pytest.fixture
def own_rt(own_data: Path) -> Runtime:
    """A runtime over a private copy of the built index (see own_data)."""
    return Runtime(make_settings(own_data))


@pytest.fixture
def fresh_rt(tmp_path: Path) -> Runtime:
    """An empty data directory: nothing indexed, no sessions."""
    return Runtime(make_settings(tmp_path / "data"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def cli_env(built_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`mentor` as a user runs it, configured (as users do) through the environment, on the built index."""
    from assistant.settings import get_settings

    monkeypatch.setenv("MENTOR_DATA_DIR", str(built_dir))
    monkeypatch.setenv("MENTOR_LLM_BACKEND", "offline")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MENTOR_CHROMA_HOST", "MENTOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def server() -> Iterator[object]:
    """A scripted OpenAI-compatible server on loopback (tests/fake_openai.py)."""
    from fake_openai import FakeOpenAI

    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(autouse=True, scope="session")
def _offline_env() -> Iterator[None]:
    # Any accidental attempt to reach a hub fails fast instead of hanging.
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield
