"""`mentor ... | head` : when the reader goes away the command stops quietly, with no traceback."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

FEEDBACK = "On Tuesday's standup you interrupted Priya twice; please let her finish next time."


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    command = [sys.executable, "-m", "assistant", "check-feedback", FEEDBACK]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    # Closed before the command (still importing) writes anything: its first write meets a broken pipe.
    child.stdout.close()
    errors = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors


def test_the_same_command_prints_its_report_to_an_open_pipe() -> None:
    command = [sys.executable, "-m", "assistant", "check-feedback", FEEDBACK]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.startswith("Score: ") and "situation" in done.stdout
