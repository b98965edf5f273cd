"""`mentor ingest` in another process while `mentor serve` answers (issue 20, part 5), with the real processes.

The break: a plain `mentor ingest` beside a running server made the server's next chat turn fail with "index ... is
damaged or unreadable ... Rebuild it" (it was not), until the server restarted. Chroma's embedded index caches its
vector graph per process, so rows written in place by another process did not match what the server held. Now a
writer that finds another process reading writes into a copy (a new generation) and switches to it, which the
server follows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from gradio_client import Client

from assistant.bench import load_script

LOAD = load_script()  # bench/load.py: starts `mentor serve` on a free loopback port and stops it
START_TIMEOUT_S = 600.0  # the loaded test machine can take minutes to load the models
HANDBOOK = (
    "# Heronfield mentoring handbook\n\n"
    "At Heronfield, mentors give feedback with the wombat method: name one thing the mentee did, say what it "
    "changed for the team, and agree one small next step before the first Monday of the month.\n"
)
QUESTION = "How do I give feedback to my mentee using our wombat method before the first Monday?"


@pytest.fixture
def serving(built_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """`mentor serve` in its own process over a copy of the built index (the load test's launcher)."""
    data_dir = tmp_path / "data"
    shutil.copytree(built_dir, data_dir)
    monkeypatch.setattr(LOAD, "START_TIMEOUT_S", START_TIMEOUT_S)
    with LOAD.running_app(data_dir, tmp_path / "serve.log") as url:
        yield url, data_dir


def test_a_plain_ingest_beside_a_running_server_is_followed_not_called_damaged(
    serving: tuple[str, Path], tmp_path: Path
) -> None:
    url, data_dir = serving
    client = Client(url, verbose=False)
    before: dict[str, Any] = client.predict(QUESTION, "auto", "", api_name="/chat_reply")
    assert before["answer"].strip() and not any("handbook" in s["source"] for s in before["sources"])

    handbook = tmp_path / "handbook.md"
    handbook.write_text(HANDBOOK, encoding="utf-8")
    ingest = subprocess.run(
        [sys.executable, "-m", "assistant", "ingest", str(handbook)],
        cwd=REPO,
        env=LOAD.server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stderr[-2000:]

    time.sleep(3)  # the server re-reads which generation is live every 2 s (and at once on a failed call)
    for _ in range(2):  # the first turn after the switch and the next one both answer
        after: dict[str, Any] = client.predict(QUESTION, "auto", "", api_name="/chat_reply")
        assert after["answer"].strip() and after["backend"] == "offline"
    assert any(s["source"].endswith("handbook.md") for s in after["sources"]), after["sources"]
