"""What the mentor did in a line of a role-play: one move per sentence, and the move that shapes the reply.

Each sentence is embedded with the configured sentence encoder (any `Embedder`) and classified by a small
softmax regression trained on the labelled examples in moves.yaml. A handful of form features ride along with
the embedding, because an encoder places "What got in the way?" and "Did anything get in the way?" almost on
top of each other while a mentee hears an open and a closed question: whether the sentence is a question,
whether it opens like an open question (what, how, tell me) or a yes/no question (did, is, can), whether it
is very short, and whether it is a stage direction such as "(waits)".
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from assistant.embedders import Embedder
from assistant.errors import InputError

DATA_FILE = Path(__file__).with_name("moves.yaml")
MOVES: tuple[str, ...] = (
    "open_question",
    "closed_question",
    "empathy",
    "blame",
    "advice",
    "sbi",
    "pause",
    "next_steps",
    "ending",
)
QUESTIONS = ("open_question", "closed_question")
# Which move names a line with several sentences (see moves.yaml): the ones that change how the rest lands first.
LEADING = ("blame", "ending", "next_steps", "sbi", "advice")
TRAILING = ("empathy", "pause")
ENDING_SURE = 0.5  # below this a closing line counts as its next likeliest move (see _sentence)
SURE_MOVE = 0.3  # below this a sentence names the line only when no sentence in it is surer

# Form features: their scale against unit-length embeddings, and the regression's settings (chosen on the dev
# split of evals/datasets/moves.jsonl; the test split was not used).
FORM_SCALE = 0.5
L2 = 3e-4
STEPS = 1500
LEARNING_RATE = 2.0

_LEAD_IN = r"^(?:(?:so|and|okay|ok|right|well|but|now|then|also|just|honestly)\b[\s,]*)*"
_OPENS_OPEN = re.compile(
    _LEAD_IN + r"(?:what|how|why|where|which|who|when|tell me|walk me|talk me|help me understand|describe"
    r"|say (?:a bit |a little )?more|i'm curious|i'd (?:like|love) to (?:hear|know|understand)"
    r"|(?:can|could|would|will) you (?:tell|describe|walk|talk|say|explain|share))\b",
    re.IGNORECASE,
)
_OPENS_YES_NO = re.compile(
    _LEAD_IN + r"(?:do|does|did|is|are|was|were|am|have|has|had|can|could|would|will|shall|should|may|might|must"
    r"|isn't|aren't|didn't|don't|doesn't|wasn't|weren't|haven't|hasn't|won't|wouldn't|can't|couldn't|shouldn't)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"\([^)]*\)|[^.!?()]+(?:[.!?]+|$)|[.!?]+")
_WORD = re.compile(r"[A-Za-z']+")


@dataclass(frozen=True)
class MoveInfo:
    id: str
    label: str
    plural: str
    description: str

    def count(self, n: int) -> str:
        """'1 open question', '2 open questions'."""
        return f"{n} {self.label if n == 1 else self.plural}"


@dataclass(frozen=True)
class Sentence:
    text: str
    move: str
    confidence: float


@dataclass(frozen=True)
class LineReading:
    """A mentor line: its sentences with their moves, the move that names the line, and the direct question
    the mentee has to answer (its kind is 'yes_no' or 'open'), if the line ends in one."""

    text: str
    sentences: tuple[Sentence, ...]
    move: str
    question: str | None
    question_kind: str | None

    @property
    def moves(self) -> list[str]:
        return effective_moves([s.move for s in self.sentences])


@lru_cache(maxsize=1)
def _data() -> dict[str, dict[str, object]]:
    raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))["moves"]
    if tuple(raw) != MOVES:
        raise ValueError(f"{DATA_FILE} must list the moves {', '.join(MOVES)} in that order")
    return raw


def move_info() -> dict[str, MoveInfo]:
    return {
        m: MoveInfo(m, str(raw["label"]), str(raw["plural"]), str(raw["description"])) for m, raw in _data().items()
    }


def training_examples() -> list[tuple[str, str]]:
    return [(str(text), move) for move, raw in _data().items() for text in raw["examples"]]  # type: ignore[attr-defined]


def split_sentences(text: str) -> list[str]:
    """Sentences and stage directions ("(waits)"), in order; a line of only dots is one pause."""
    parts = [p.strip() for p in _SENTENCE.findall(text or "") if p.strip()]
    return parts or ([text.strip()] if text and text.strip() else [])


def question_kind(sentence: str) -> str | None:
    """'open', 'yes_no' or None. A question that opens like neither ("You sent it on Friday, right?") invites
    a yes or a no too."""
    s = sentence.strip()
    if not s.endswith("?"):
        return None
    return "open" if _OPENS_OPEN.match(s) else "yes_no"


def form_features(sentence: str) -> np.ndarray:
    s = sentence.strip()
    is_question = s.endswith("?")
    opens_open = is_question and bool(_OPENS_OPEN.match(s))
    opens_yes_no = is_question and not opens_open and bool(_OPENS_YES_NO.match(s))
    words = _WORD.findall(s)
    return np.array(
        [
            is_question,
            opens_open,
            opens_yes_no,
            is_question and not opens_open and not opens_yes_no,
            len(words) <= 3,
            s.startswith("(") or not words,
        ],
        dtype=np.float32,
    )


def effective_moves(moves: list[str]) -> list[str]:
    """The sentence moves that count: a closing remark followed by a question ("Thanks for making time. How did
    the demo go?") is a pleasantry, since the question keeps the conversation going."""
    last_question = max((i for i, m in enumerate(moves) if m in QUESTIONS), default=-1)
    kept = [m for i, m in enumerate(moves) if not (m == "ending" and i < last_question)]
    return kept or moves


def leading_move(moves: list[str]) -> str:
    """The move that names a line with several sentences (the order is documented in moves.yaml)."""
    moves = effective_moves(moves)
    for move in LEADING:
        if move in moves:
            return move
    questions = [m for m in moves if m in QUESTIONS]
    if questions:
        return questions[-1]
    for move in TRAILING:
        if move in moves:
            return move
    return moves[-1]


class MoveClassifier:
    """Trained once per embedder on the examples in moves.yaml; `read` classifies a whole mentor line."""

    def __init__(
        self,
        embedder: Embedder,
        examples: list[tuple[str, str]] | None = None,
        weights: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.embedder = embedder
        if weights is not None:
            self.weights, self.bias = weights
            return
        examples = examples if examples is not None else training_examples()
        unknown = {m for _, m in examples} - set(MOVES)
        if unknown:
            raise ValueError(f"unknown move(s) in the examples: {', '.join(sorted(unknown))}")
        features = self._features([t for t, _ in examples])
        labels = np.array([MOVES.index(m) for _, m in examples])
        self.weights, self.bias = _fit(features, labels, len(MOVES))

    def _features(self, sentences: list[str]) -> np.ndarray:
        vectors = np.asarray(self.embedder.embed(sentences), dtype=np.float32)
        form = np.stack([form_features(s) for s in sentences]) * FORM_SCALE
        return np.hstack([vectors, form])

    def classify(self, sentences: list[str]) -> list[Sentence]:
        if not sentences:
            return []
        scores = self._features(sentences) @ self.weights + self.bias
        probs = _softmax(scores)
        return [_sentence(s, p) for s, p in zip(sentences, probs, strict=True)]

    def read(self, line: str) -> LineReading:
        text = " ".join((line or "").split())
        sentences = tuple(self.classify(split_sentences(text)))
        if not sentences:
            raise InputError("the mentor line is empty")
        last = sentences[-1].text
        kind = question_kind(last)
        # A sentence the classifier is unsure of ("Ravi, I wanted to talk to you about the new project") does not
        # name the line when another is clear ("You won't be on it this time": the news).
        sure = [s.move for s in sentences if s.confidence >= SURE_MOVE] or [s.move for s in sentences]
        return LineReading(text, sentences, leading_move(sure), last if kind else None, kind)


def _sentence(text: str, probs: np.ndarray) -> Sentence:
    """The likeliest move, except that an unsure closing line counts as the next likeliest: a practice mentee
    who hears an ending walks out, so "I wanted to talk to you about the new project" (an ending at 0.31) must not
    end the role-play."""
    order = np.argsort(-probs)
    best = int(order[0])
    if MOVES[best] == "ending" and probs[best] < ENDING_SURE and len(order) > 1:
        best = int(order[1])
    return Sentence(text, MOVES[best], round(float(probs[best]), 3))


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _fit(features: np.ndarray, labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch gradient descent: deterministic and small enough that
    training on a few hundred sentences takes well under a second."""
    n, dim = features.shape
    weights = np.zeros((dim, classes), dtype=np.float64)
    bias = np.zeros(classes, dtype=np.float64)
    target = np.eye(classes)[labels]
    x = features.astype(np.float64)
    for _ in range(STEPS):
        gradient = (_softmax(x @ weights + bias) - target) / n
        weights -= LEARNING_RATE * (x.T @ gradient + L2 * weights)
        bias -= LEARNING_RATE * gradient.sum(axis=0)
    return weights.astype(np.float32), bias.astype(np.float32)


_classifiers: dict[str, MoveClassifier] = {}
_lock = threading.Lock()


def _version(embedder: Embedder) -> str:
    """What the trained weights depend on: the encoder, the examples and the training settings."""
    settings = f"{embedder.name}|{FORM_SCALE}|{L2}|{STEPS}|{LEARNING_RATE}|".encode()
    return hashlib.sha256(settings + DATA_FILE.read_bytes()).hexdigest()[:16]


def classifier_for(embedder: Embedder, cache_dir: Path | None = None) -> MoveClassifier:
    """One trained classifier per encoder and version of moves.yaml, shared by every role-play. Training embeds
    every example (a few seconds), so with `cache_dir` the weights are kept on disk for the next process."""
    key = _version(embedder)
    with _lock:
        if key not in _classifiers:
            _classifiers[key] = _load_or_train(embedder, key, cache_dir)
        return _classifiers[key]


def _load_or_train(embedder: Embedder, key: str, cache_dir: Path | None) -> MoveClassifier:
    path = cache_dir / f"practice-moves-{key}.npz" if cache_dir else None
    if path and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as saved:
                weights, bias = saved["weights"], saved["bias"]
            if weights.shape[1] == len(MOVES) and bias.shape == (len(MOVES),):
                return MoveClassifier(embedder, weights=(weights, bias))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is retrained and replaced below
    classifier = MoveClassifier(embedder)
    if path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial.npz")
            np.savez(partial, weights=classifier.weights, bias=classifier.bias)
            partial.replace(path)
        except OSError:
            pass  # a read-only data directory only costs the next process the training time
    return classifier
