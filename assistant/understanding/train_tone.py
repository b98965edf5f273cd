"""Trains the praise-or-problem classifier (tone.py) on the dev split of evals/datasets/details.jsonl.

`python -m assistant.understanding.train_tone` (the built runtime's encoder; a few seconds). The test and holdout
splits are never read here; C is chosen by five-fold cross-validation on dev.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from assistant.understanding import tone
from assistant.understanding.details import extract

C_CHOICES = (0.3, 1.0, 3.0, 10.0, 30.0)
WEIGHTS_PATH = Path(tone.__file__).with_name(tone.WEIGHTS_FILE)


def main() -> None:
    from assistant.evals.datasets import DATASET_DIR
    from assistant.runtime import Runtime

    rows = [json.loads(line) for line in (DATASET_DIR / "details.jsonl").read_text(encoding="utf-8").splitlines()]
    dev = [r for r in rows if r.get("split") == "dev" and r.get("kind") in ("praise", "problem")]
    embedder = Runtime().embedder
    vectors = embedder.embed([r["text"] for r in dev])
    found = np.vstack([tone.features(v, extract(r["text"]).praise_balance) for v, r in zip(vectors, dev, strict=True)])
    labels = np.array([r["kind"] == "praise" for r in dev])
    scores = {
        c: float(cross_val_score(LogisticRegression(C=c, max_iter=5000), found, labels, cv=5).mean()) for c in C_CHOICES
    }
    best = max(scores, key=scores.__getitem__)
    model = LogisticRegression(C=best, max_iter=5000).fit(found, labels)
    stored = {
        "embedder": embedder.name,
        "C": best,
        "dev_cases": len(dev),
        "cv_accuracy": round(scores[best], 4),
        "weights": model.coef_[0].round(6).tolist(),
        "bias": round(float(model.intercept_[0]), 6),
    }
    WEIGHTS_PATH.write_text(json.dumps(stored) + "\n", encoding="utf-8")
    print(f"{len(dev)} dev cases, C={best}, cross-validated accuracy {scores[best]:.3f}; wrote {WEIGHTS_PATH}")


if __name__ == "__main__":
    main()
