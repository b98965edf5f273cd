"""What kind of help a message asks for: a conversation to have, a mentee to prepare, feedback or praise to word,
general advice, or practice. Compared by encoder with the examples in needs.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import yaml

from assistant.embedders import Embedder
from assistant.understanding.practice_ask import asks_to_practise

# The matched playbook's own need wins when another need is only this much closer.
PLAYBOOK_PRIOR = 0.04
TOP_EXAMPLES = 3


@dataclass(frozen=True)
class NeedGuess:
    need: str
    scores: dict[str, float]


class NeedClassifier:
    def __init__(self, embedder: Embedder) -> None:
        examples = yaml.safe_load(resources.files(__package__).joinpath("needs.yaml").read_text(encoding="utf-8"))
        self.embedder = embedder
        self._needs = list(examples)
        self._vectors = {need: np.asarray(embedder.embed(texts), dtype=np.float32) for need, texts in examples.items()}

    def classify(self, message: str, playbook_need: str | None = None) -> NeedGuess:
        if asks_to_practise(message):
            return NeedGuess("practice", {})
        query = np.asarray(self.embedder.embed([message]), dtype=np.float32)[0]
        scores = {
            need: float(np.sort(vectors @ query)[-TOP_EXAMPLES:].mean()) for need, vectors in self._vectors.items()
        }
        if playbook_need in scores:
            scores[playbook_need] += PLAYBOOK_PRIOR
        return NeedGuess(max(scores, key=scores.__getitem__), scores)
