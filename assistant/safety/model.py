"""The safety classifier: one logistic regression per category over the sentence encoder's vector of a text and
its words (TF-IDF of single words and word pairs), with probabilities calibrated on families the model did not
see during training.

The artefact is a small JSON file: the weights, the vocabulary, the calibration and thresholds per category, the
name of the embedder it was trained with, and the sha256 of its training data. Scoring needs only numpy.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.types import SAFETY_CATEGORIES

MODEL_DIR = Path(__file__).with_name("models")
FORMAT_VERSION = 1
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # words of two or more characters, as scikit-learn's default


class ModelMismatch(RuntimeError):
    """The artefact was trained with another encoder than the one in use; the message says what to run."""


def model_path(embedder_name: str, directory: Path = MODEL_DIR) -> Path:
    """Where the artefact for an encoder lives: one file per encoder, named after it."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_name).strip("_")
    return directory / f"safety-{safe}.json"


def ngrams(text: str) -> list[str]:
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


@dataclass(frozen=True)
class CategoryModel:
    weights_vector: np.ndarray  # over the encoder's dimensions
    weights_words: np.ndarray  # over the vocabulary
    bias: float
    calibration: tuple[float, float]  # Platt scaling: p = sigmoid(a * score + b)
    threshold: float  # calibrated probability at which the category counts as clear
    possible: float | None = None  # lower band for "possible warning signs" (crisis only)
    # The band a sentence or clause must reach on its own when the whole message scores almost nothing for the
    # category (router.SUPPORT_SHARE); set on out-of-fold scores by train.py. None: the lowest band, as for the whole.
    segment_band: float | None = None


class SafetyModel:
    """Scores texts for every safety category; built from an artefact written by `mentor safety train`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.embedder: str = data["embedder"]
        self.dim: int = int(data["dim"])
        self.data_sha256: str = data["data_sha256"]
        self.vocabulary: dict[str, int] = {w: i for i, w in enumerate(data["vocabulary"])}
        self.idf = np.asarray(data["idf"], dtype=np.float32)
        self.categories: dict[str, CategoryModel] = {
            name: CategoryModel(
                np.asarray(c["weights_vector"], dtype=np.float32),
                np.asarray(c["weights_words"], dtype=np.float32),
                float(c["bias"]),
                (float(c["calibration"][0]), float(c["calibration"][1])),
                float(c["threshold"]),
                None if c.get("possible") is None else float(c["possible"]),
                None if c.get("segment_band") is None else float(c["segment_band"]),
            )
            for name, c in data["categories"].items()
        }
        unknown = set(self.categories) - set(SAFETY_CATEGORIES)
        if unknown:
            raise ValueError(f"safety model has unknown categories: {sorted(unknown)}")

    @classmethod
    def load(cls, path: Path) -> SafetyModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: safety model format {data.get('format')!r}, expected {FORMAT_VERSION}")
        return cls(data)

    def check_embedder(self, name: str, dim: int) -> None:
        if name != self.embedder or dim != self.dim:
            raise ModelMismatch(
                f"The safety classifier was trained with the encoder {self.embedder!r} ({self.dim} dimensions), "
                f"but the encoder in use is {name!r} ({dim} dimensions). Run `mentor safety train` to train one "
                "for this encoder."
            )

    def words(self, texts: list[str]) -> np.ndarray:
        """TF-IDF rows (sublinear counts, L2-normalised), the same transform the training used."""
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram, count in Counter(ngrams(text)).items():
                column = self.vocabulary.get(gram)
                if column is not None:
                    out[row, column] = (1.0 + math.log(count)) * self.idf[column]
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out

    def probabilities(self, texts: list[str], vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Category → calibrated probability for each text."""
        words = self.words(texts)
        result: dict[str, np.ndarray] = {}
        for name, c in self.categories.items():
            score = vectors @ c.weights_vector + words @ c.weights_words + c.bias
            a, b = c.calibration
            result[name] = 1.0 / (1.0 + np.exp(-(a * score + b)))
        return result
