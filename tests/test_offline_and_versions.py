"""Nothing may need the internet at run time, and installed versions must be at or above the security fixes."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import REPO
from packaging.version import Version

from assistant.offline import prepare_offline

# Minimums that carry security fixes; pyproject.toml must not allow anything older.
SECURITY_FLOORS = {"gradio": "6.16"}


def _declared_minimums() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = {}
    for spec in project["dependencies"]:
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9.]*)", spec)
        if match:
            floors[match.group(1).lower()] = match.group(2)
    return floors


def test_pyproject_pins_security_floors() -> None:
    declared = _declared_minimums()
    for package, floor in SECURITY_FLOORS.items():
        assert Version(declared[package]) >= Version(floor), f"{package} must be pinned at >= {floor}"


@pytest.mark.parametrize("package", sorted(_declared_minimums()))
def test_installed_versions_meet_declared_minimums(package: str) -> None:
    assert Version(version(package)) >= Version(_declared_minimums()[package])


def test_installed_gradio_has_the_2026_advisory_fixes() -> None:
    assert Version(version("gradio")) >= Version(SECURITY_FLOORS["gradio"])


def test_tiktoken_cl100k_loads_from_the_bundled_file(tmp_path: Path) -> None:
    """tiktoken would download cl100k_base; the seeded cache makes it load offline in a fresh process."""
    code = (
        "import sys; from pathlib import Path; from assistant.offline import prepare_offline;"
        "prepare_offline(Path(sys.argv[1])); import tiktoken;"
        "print(len(tiktoken.get_encoding('cl100k_base').encode('hello mentor')))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_PROXY": "*", "HTTPS_PROXY": "http://127.0.0.1:9"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache")], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == 2


def test_wordllama_and_chroma_start_with_no_route_to_the_internet(tmp_path: Path) -> None:
    """With every proxy pointing at a dead port, a full ingest and query still work."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, 'tests');"
        "from conftest import make_settings; from assistant.runtime import Runtime;"
        "rt = Runtime(make_settings(Path(sys.argv[1]))); rt.ingestor.run();"
        "print(rt.retriever.search('how do I open a difficult conversation', k=1)[0].chunk.topic)"
    )
    dead = "http://127.0.0.1:9"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "data")], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "difficult-conversations"


def test_prepare_offline_turns_off_telemetry(tmp_path: Path) -> None:
    import os

    prepare_offline(tmp_path)
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
