"""The built wheel works on its own: installed into a clean virtualenv, `mentor ingest` and `mentor ask` run
from a folder outside the checkout, on the knowledge and prompts the wheel carries."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from assistant.settings import Settings, bundled

# Copying these would only slow the build: run-time data, caches and earlier builds.
NOT_SOURCES = (
    ".venv",
    ".git",
    "data",
    "test-artifacts",
    "reports",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".hypothesis",
    ".ruff_cache",
    ".mypy_cache",
    ".pytest_cache",
)
QUESTION = "My mentee keeps missing deadlines. How do I raise it without demotivating them?"


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 1500) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel of the working tree as it is, built offline by the project's own build backend."""
    source = shutil.copytree(REPO, tmp_path / "source", symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    _run([*pip, "--wheel-dir", str(dist), str(source)], cwd=tmp_path, env=dict(os.environ))
    (wheel,) = dist.glob("mentor_assistant-*.whl")
    return wheel


def _clean_venv(tmp_path: Path) -> Path:
    """A new virtualenv holding only the wheel. Its dependencies are the ones this test run already has: a .pth
    line appends this interpreter's site-packages to the new one's path (nothing is downloaded). Only .pth files
    in a site directory are executed, so the checkout's editable install there stays inert; `assistant` can only
    come from the wheel."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=dict(os.environ))
    (new_site,) = (venv / "lib").glob("python3.*/site-packages")
    (new_site / "_test_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return venv


# Builds, installs, then embeds the whole curated knowledge base with the default encoder (about 60 CPU-seconds,
# several minutes of wall time on a busy shared machine).
@pytest.mark.timeout(1800)
def test_installed_wheel_ingests_and_answers_from_outside_the_checkout(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    venv = _clean_venv(tmp_path)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index"]
    _run([*install, str(wheel)], cwd=tmp_path, env=dict(os.environ))

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    home = tmp_path / "home"
    # A user's environment: no MENTOR_ settings, no model server, a home of their own, no checkout on the path.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTOR_", "OPENAI_", "PYTHON"))}
    env |= {"HOME": str(home), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    env.pop("XDG_DATA_HOME", None)

    where = _run([str(python), "-c", "import assistant; print(assistant.__file__)"], cwd=outside, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), "assistant is imported from the installed wheel"

    ingest = _run([str(venv / "bin" / "mentor"), "ingest", "--json"], cwd=outside, env=env)
    report = json.loads(ingest.stdout)
    shipped = len(list((REPO / "knowledge").glob("*.md")))
    assert report["files"] == shipped and report["skipped"] == [] and report["chunks"] > shipped
    data_dir = home / ".local" / "share" / "mentor-assistant"
    assert (data_dir / "chroma").is_dir(), "an installed package keeps its data in the user's data folder"

    asked = _run([str(venv / "bin" / "mentor"), "ask", QUESTION, "--json"], cwd=outside, env=env)
    answer = json.loads(asked.stdout)
    assert answer["backend"] == "offline" and answer["grounded"] and answer["citations"]
    assert all("assistant/bundled/knowledge/" in s["source"] for s in answer["sources"])
    assert not list(outside.iterdir()), "nothing is written into the folder `mentor` runs from"


def test_shipped_folders_are_the_defaults_and_the_environment_overrides_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MENTOR_KNOWLEDGE_DIR", "MENTOR_PROMPTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    default = Settings()
    assert default.knowledge_dir == bundled("knowledge") and default.prompts_dir == bundled("prompts")
    assert (default.prompts_dir / "system.md").is_file() and any(default.knowledge_dir.glob("*.md"))
    assert default.knowledge_dir.resolve() == (REPO / "knowledge").resolve(), "a checkout reads its own folders"
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("MENTOR_PROMPTS_DIR", str(tmp_path / "prompts"))
    overridden = Settings()
    assert overridden.knowledge_dir == tmp_path / "mine" and overridden.prompts_dir == tmp_path / "prompts"
