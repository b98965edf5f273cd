"""Trains the follow-up chooser (followups.py) on the dev conversations and the training conversations, and writes
followup_weights.json.

`python -m assistant.coaching.train_followups` (uses the built runtime's encoder; about a minute).

Each dev conversation is replayed the way the coach reads it, with the fused scores routing every turn (not the
chooser being trained), so the examples carry the mistakes a real conversation state carries: a follow-up after a
misrouted turn. Every follow-up gives one example per candidate playbook, labelled by whether the conversation
lists it as expected for that turn. Test conversations are never read. C was chosen by five-fold
cross-validation over dev conversations (0.3: 0.69 top-1, against 0.66 at 0.03 and 10).

The dev split of evals/datasets/conversations.jsonl has 75 conversations; evals/datasets/conversations_train.jsonl
adds 120 written for training only, by other hands and in other workplaces (hospitals, schools, trades, public
services; tech, finance, law; shops, hotels, charities, factories, labs, airlines). With them, top-1 on 30
conversations written without sight of the system went from 0.52 to 0.55, and on the test split stayed at 0.685.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.coaching import followups
from assistant.coaching.understanding import NEED_BY_MODE, ConversationState, Reading, Understanding
from assistant.evals.datasets import DATASET_DIR, load_dataset
from assistant.understanding.details import extract
from assistant.understanding.message import readable_text

C = 0.3
WEIGHTS_PATH = Path(followups.__file__).with_name(followups.WEIGHTS_FILE)


@dataclass(frozen=True)
class Example:
    candidates: list[str]
    features: np.ndarray
    expected: frozenset[str]


def training_conversations(*paths: Path) -> list[dict[str, Any]]:
    """The dev and train rows of the given files (test rows never), each file checked as a conversations dataset."""
    rows = [row for path in paths for row in load_dataset("conversations", path).rows]
    return [r for r in rows if r.get("split") in ("dev", "train")]


def next_state(
    understanding: Understanding, state: ConversationState, message: str, reading: Reading
) -> ConversationState:
    """The state the coach rebuilds from the stored turns once this reading has been answered."""
    users = (*state.user_turns, message)
    name = extract(message).name or state.mentee_name
    if not reading.understood:
        return ConversationState(state.playbook_ids, name, state.need, users, state.thread_needs)
    ids = tuple(b.id for b in reading.playbooks)
    need = NEED_BY_MODE.get(reading.mode, "advice")
    if need == "feedback" and understanding.playbooks[ids[0]].need == "praise":
        need = "praise"
    return ConversationState(ids, name, need, users, state.thread_needs | {need})


def examples(understanding: Understanding, rows: list[dict[str, Any]]) -> Iterator[Example]:
    """One example per follow-up, replayed with the fused scores routing the conversation."""
    chooser, understanding.chooser = understanding.chooser, None
    try:
        for row in rows:
            state = ConversationState()
            for k, message in enumerate(row["turns"]):
                if k and state.playbook_ids:
                    text = readable_text(message)
                    previous = [understanding.playbooks[i] for i in state.playbook_ids]
                    readings = understanding.follow_up_readings(text, state)
                    ids = followups.candidate_ids(text, readings, previous, understanding.playbooks)
                    found = followups.features(text, readings, previous, ids, understanding.playbooks)
                    yield Example(ids, found, frozenset(row["expected_playbooks"][k]))
                state = next_state(understanding, state, message, understanding.read(message, state))
    finally:
        understanding.chooser = chooser


def fit(found: list[Example], c: float = C) -> tuple[np.ndarray, float]:
    features = np.vstack([e.features for e in found])
    labels = np.concatenate([[i in e.expected for i in e.candidates] for e in found])
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(features, labels)
    return model.coef_[0], float(model.intercept_[0])


def top1(found: list[Example], weights: np.ndarray, bias: float) -> float:
    """Share of follow-ups whose best-scored candidate is an expected playbook."""
    return float(np.mean([e.candidates[int(np.argmax(e.features @ weights + bias))] in e.expected for e in found]))


def main() -> None:
    from assistant.runtime import Runtime

    understanding = Runtime().understanding
    paths = (DATASET_DIR / "conversations.jsonl", DATASET_DIR / "conversations_train.jsonl")
    found = list(examples(understanding, training_conversations(*paths)))
    weights, bias = fit(found)
    stored = {"features": followups.feature_names(), "weights": weights.round(6).tolist(), "bias": round(bias, 6)}
    stored |= {"C": C, "follow_ups": len(found), "train_top1": round(top1(found, weights, bias), 4)}
    WEIGHTS_PATH.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    print(f"{len(found)} dev and train follow-ups, training top-1 {stored['train_top1']}; wrote {WEIGHTS_PATH}")


if __name__ == "__main__":
    main()
