"""Praise or a problem: is the act a mentor describes one to recognise or one to correct?

Word lists alone miss most praise that uses no praise word ("Imani rewrote our FAQ and calls to the helpline
dropped by a third"). A logistic regression reads the encoder's sentence vector beside the parser's count of
praise words minus trouble words. It is trained on the dev split of evals/datasets/details.jsonl only
(`python -m assistant.understanding.train_tone`); the weights ship in tone_weights.json for the encoder that
trained them, and with any other encoder the word count decides as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources

import numpy as np

from assistant.embedders import Embedder
from assistant.understanding.details import Details

WEIGHTS_FILE = "tone_weights.json"


def features(vector: np.ndarray, praise_balance: int) -> np.ndarray:
    """The sentence vector, the praise-minus-trouble word count and its sign."""
    return np.r_[np.asarray(vector, dtype=np.float64), float(praise_balance), float(np.sign(praise_balance))]


@dataclass(frozen=True)
class ToneClassifier:
    embedder: Embedder
    weights: np.ndarray
    bias: float

    @classmethod
    def load(cls, embedder: Embedder) -> ToneClassifier | None:
        """The shipped weights, when they were trained with this encoder (another encoder's vectors mean
        nothing to them)."""
        text = resources.files(__package__).joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
        stored = json.loads(text)
        if stored.get("embedder") != embedder.name or len(stored["weights"]) != embedder.dim + 2:
            return None
        return cls(embedder, np.asarray(stored["weights"], dtype=np.float64), float(stored["bias"]))

    def judge(self, vector: np.ndarray, details: Details) -> Details:
        """The details with `is_praise` read by the classifier from the message's vector (this classifier's
        encoder's), for a message that describes an act."""
        if not details.behavior:
            return details
        praise = float(features(vector, details.praise_balance) @ self.weights + self.bias) > 0
        return replace(details, is_praise=praise)
