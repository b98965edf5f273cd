"""A real Chroma server (`chroma run` from the installed chromadb) on loopback, for tests of the server path.

`ChromaServer(path, port)` starts `chroma run --path PATH --host 127.0.0.1 --port PORT`, waits for its v2
heartbeat, and stops it (SIGTERM, then SIGKILL). It can be stopped and started again on the same path and port,
which is how the tests prove that a client recovers after a server restart. `pause()`/`resume()` freeze the
process (SIGSTOP/SIGCONT) to imitate a server that accepts connections but never answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def chroma_executable() -> Path:
    """The `chroma` console script installed next to this interpreter; missing means a broken install."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.fail(
            f"{exe} not found: chromadb's `chroma` command is missing; reinstall with `make install-test`.",
            pytrace=False,
        )
    return exe


class ChromaServer:
    """One `chroma run` process; restartable on the same data path and port."""

    def __init__(self, path: Path, port: int, log: Path | None = None) -> None:
        self.path = path
        self.port = port
        self.host = HOST
        self.log = log or path.parent / f"chroma-{port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def heartbeat(self, timeout: float = 1.0) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=timeout) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError, TimeoutError):
            return False

    def start(self) -> ChromaServer:
        if self.running:
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        cmd = [str(chroma_executable()), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)]
        env = os.environ | {"ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
        with self.log.open("ab") as log:
            # Own process group, so stopping it never touches the test runner.
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.heartbeat():
            if self._proc.poll() is not None:
                pytest.fail(f"`chroma run` exited with {self._proc.returncode}:\n{self._tail()}", pytrace=False)
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"`chroma run` gave no heartbeat within {START_TIMEOUT_S:.0f}s:\n{self._tail()}", pytrace=False
                )
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        self._signal(proc, signal.SIGCONT)  # a paused server cannot act on SIGTERM
        self._signal(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._signal(proc, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_S)
        # The port must be free again before a restart may bind it.
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.heartbeat(timeout=0.2) and time.monotonic() < deadline:
            time.sleep(0.1)

    def pause(self) -> None:
        assert self._proc is not None
        self._signal(self._proc, signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._signal(self._proc, signal.SIGCONT)

    def restart(self) -> ChromaServer:
        self.stop()
        return self.start()

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"


@contextmanager
def chroma_server(path: Path, port: int) -> Iterator[ChromaServer]:
    """A running server for the `with` block; always stopped afterwards."""
    server = ChromaServer(path, port)
    try:
        yield server.start()
    finally:
        server.stop()
