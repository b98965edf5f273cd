"""Poisoned guidance: lines in uploaded documents that are not advice but an attack on the reader.

A line is held back when it asks for passwords, sign-in codes or login details to be sent or typed somewhere,
sends the reader to an outside link to sign in (or a link of the kind phishing uses), tells the reader to distrust
HR or never to report a concern, or speaks to the assistant instead of to mentors. Two layers decide:

- a rule floor (poison_rules.yaml): narrow patterns for the blatant cases, in any wording;
- a classifier over the project's sentence encoder: a logistic regression on the line's vector and a few cue
  flags, trained on the dev families of evals/datasets/poisoned_lines.jsonl (the test families are held out).

The guard runs per line (and per sentence of a long line) when a user's document is ingested: held-back lines
are left out of the index and reported to the uploader with the reason. It runs again on answers and on the
passages handed to a model (`screen_answer`, `screen_hits`), for indexes built before the guard existed.

`python -m assistant.ingestion.poison train|evaluate` writes the artefact and reports precision and recall.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.rules import Rule, read_rules
from assistant.settings import REPO_ROOT

if TYPE_CHECKING:
    from assistant.embedders import Embedder
    from assistant.types import Hit

RULES_PATH = Path(__file__).with_name("poison_rules.yaml")
MODEL_DIR = Path(__file__).with_name("models")
DATASET = REPO_ROOT / "evals" / "datasets" / "poisoned_lines.jsonl"
FORMAT_VERSION = 1
MAX_LINE_CHARS = 1_000  # longer lines are scored by sentence only
# The classifier's threshold is the lowest at which, out of fold on the dev families, the guard (rules or
# classifier) holds back at most this share of ordinary guidance lines: a wrongly held line is reported to the
# uploader, but it is still good advice kept out of answers.
ORDINARY_HELD_BUDGET = 0.05
REGULARISATION = 0.5  # strong: a few hundred lines against 384 dimensions
REASONS = {
    "credentials": "asks for a password, sign-in code or login details to be sent or typed somewhere",
    "links": "sends the reader to an outside link to sign in, or to a link of the kind phishing uses",
    "reporting": "tells the reader to distrust HR or the reporting channels, or never to report a concern",
    "assistant": "gives instructions to the assistant instead of guidance to mentors",
}

# Cue flags beside the vector: the encoder reads meaning, but whether a line carries an address or a link, or
# names a secret, is a matter of a few characters it can blur.
_CUES: dict[str, re.Pattern[str]] = {
    "link": re.compile(r"https?://|www\.|\b[\w-]+\.(com|net|org|info|biz|xyz|top|ru|click|shop|win|co|ly|example)/"),
    "email_address": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+"),
    "secret": re.compile(
        r"\b(passwords?|passcodes?|pin|credentials|login|log-?in|sign-?in|2fa|mfa|one-?time|authenticator|token)\b"
    ),
    "hand_over": re.compile(r"\b(send|e-?mail|forward|reply|paste|give|submit|enter|type|dm|text|share|read)\b"),
    "reporting_channel": re.compile(
        r"\b(hr|human resources|people team|ethics|hotline|compliance|ombuds\w*|whistle-?blow\w*|grievance)\b"
    ),
    "negation": re.compile(r"\b(never|not|don'?t|no one|nobody|won'?t)\b"),
    "addressed_to_machine": re.compile(r"\b(ai|assistant|chatbot|bot|language model|model|system prompt)\b"),
}
_MARKDOWN = re.compile(r"^\s{0,3}(?:[-*+]\s+|\d+[.)]\s+|>\s*|#{1,6}\s+)+")
_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class HeldLine:
    """A line kept out of the index (or out of an answer), with why."""

    line: str
    reason: str
    kind: str
    by: str  # "rule" or "classifier"
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "kind": self.kind, "by": self.by, "score": self.score}


def _pattern(value: str | list[str]) -> re.Pattern[str]:
    return re.compile(value if isinstance(value, str) else "".join(value), re.IGNORECASE)


@lru_cache(maxsize=2)
def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    return tuple(
        Rule(r["kind"], r["reason"], _pattern(r["pattern"]), unless=_pattern(r["unless"]) if r.get("unless") else None)
        for r in read_rules(path)["rules"]
    )


def plain(line: str) -> str:
    """The words of a Markdown line: list marks, quote marks and heading marks dropped, links as text and target."""
    text = _MARKDOWN.sub("", line)
    text = _LINK.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)
    text = re.sub(r"[*_`~]{1,3}", "", text)
    return " ".join(text.split())


def units(line: str) -> list[str]:
    """What is scored for one line: the line (when not too long) and each of its sentences when it has several."""
    text = plain(line)
    if not text:
        return []
    parts = [p for p in _SENTENCE.split(text) if p.strip()]
    whole = [text] if len(text) <= MAX_LINE_CHARS else []
    # A sentence too long to score whole is scored in overlapping windows, so length is no hiding place.
    step = MAX_LINE_CHARS // 2
    pieces = [w for p in parts for w in ([p] if len(p) <= MAX_LINE_CHARS else _windows(p, step))]
    return whole + (pieces if len(pieces) > 1 or not whole else [])


def _windows(text: str, step: int) -> list[str]:
    return [text[i : i + 2 * step] for i in range(0, max(len(text) - step, 1), step)]


def cue_flags(texts: list[str]) -> np.ndarray:
    return np.array([[1.0 if cue.search(t.lower()) else 0.0 for cue in _CUES.values()] for t in texts], np.float32)


# --- the classifier ---------------------------------------------------------------------------------------------
def model_path(embedder_name: str, directory: Path = MODEL_DIR) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_name).strip("_")
    return directory / f"poison-{safe}.json"


@dataclass(frozen=True)
class PoisonModel:
    embedder: str
    weights: np.ndarray
    bias: float
    threshold: float
    kinds: dict[str, np.ndarray]  # a centroid per kind, to name what a flagged line does

    @classmethod
    def load(cls, path: Path) -> PoisonModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path} has format {data.get('format')}, this program reads {FORMAT_VERSION}")
        return cls(
            data["embedder"],
            np.asarray(data["weights"], np.float32),
            float(data["bias"]),
            float(data["threshold"]),
            {k: np.asarray(v, np.float32) for k, v in data["kinds"].items()},
        )

    def scores(self, vectors: np.ndarray, flags: np.ndarray) -> np.ndarray:
        logits = np.hstack([vectors, flags]) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-logits))

    def kind_of(self, vector: np.ndarray) -> str:
        return max(self.kinds, key=lambda k: float(self.kinds[k] @ vector))


class PoisonGuard:
    """Decides, line by line, what of an uploaded text may be indexed and quoted."""

    def __init__(self, embedder: Embedder | None, model: PoisonModel | None, rules: tuple[Rule, ...]) -> None:
        self.embedder = embedder
        self.model = model
        self.rules = rules
        # Stored with every screened chunk: a document screened by another guard is screened again.
        parts = [r.category + r.regex.pattern + (r.unless.pattern if r.unless else "") for r in rules]
        if model is not None:
            parts += [model.embedder, f"{model.threshold:.4f}", f"{float(np.sum(model.weights)):.6f}"]
        self.fingerprint = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]

    def verdicts(self, lines: list[str]) -> list[HeldLine | None]:
        """For each line, why it is held back, or None when it may stay."""
        found: list[HeldLine | None] = [self._by_rule(line) for line in lines]
        pending = [(i, u) for i, line in enumerate(lines) if found[i] is None for u in units(line)]
        if not pending or self.model is None or self.embedder is None:
            return found
        texts = [u for _, u in pending]
        vectors = self.embedder.embed(texts)
        scores = self.model.scores(vectors, cue_flags(texts))
        for (i, _), vector, score in zip(pending, vectors, scores, strict=True):
            held = found[i]
            if score >= self.model.threshold and (held is None or score > held.score):
                kind = self.model.kind_of(vector)
                found[i] = HeldLine(lines[i].strip(), REASONS[kind], kind, "classifier", round(float(score), 3))
        return found

    def _by_rule(self, line: str) -> HeldLine | None:
        for text in units(line):
            for rule in self.rules:
                if rule.matches(text):
                    return HeldLine(line.strip(), rule.name, rule.category, "rule", 1.0)
        return None

    def screen_text(self, text: str) -> tuple[str, list[HeldLine]]:
        """The text without its poisoned lines (blank lines stand in, so Markdown structure holds), and those lines."""
        lines = text.split("\n")
        candidates = [i for i, line in enumerate(lines) if plain(line)]
        verdicts = self.verdicts([lines[i] for i in candidates])
        held: list[HeldLine] = []
        for i, verdict in zip(candidates, verdicts, strict=True):
            if verdict is not None:
                held.append(verdict)
                lines[i] = ""
        return "\n".join(lines), held

    def screen_answer(self, answer: str) -> tuple[str, list[HeldLine]]:
        """An answer with every poisoned line taken out (the answer-time guard)."""
        kept, held = self.screen_text(answer)
        return (re.sub(r"\n{3,}", "\n\n", kept).strip(), held) if held else (answer, held)

    def screen_hits(self, hits: list[Hit]) -> list[Hit]:
        """The passages of users' documents with poisoned lines taken out, before any backend reads them; curated
        guidance passes as it is. A passage left with nothing to say is dropped."""
        out: list[Hit] = []
        for hit in hits:
            if not hit.chunk.user_source:
                out.append(hit)
                continue
            text, held = self.screen_text(hit.chunk.text)
            if not held:
                out.append(hit)
            elif text.strip():
                out.append(replace(hit, chunk=replace(hit.chunk, text=text.strip())))
        return out


@lru_cache(maxsize=4)
def _model_for(embedder_name: str) -> PoisonModel | None:
    path = model_path(embedder_name)
    return PoisonModel.load(path) if path.is_file() else None


def guard_for(embedder: Embedder | None) -> PoisonGuard:
    """The guard for this encoder: rules and classifier, or the rules alone when no classifier was trained with it
    (another MENTOR_EMBEDDER); `mentor`'s ingest report says which."""
    model = _model_for(embedder.name) if embedder is not None else None
    return PoisonGuard(embedder, model, load_rules())


# --- training and evaluation ------------------------------------------------------------------------------------
def load_dataset(path: Path = DATASET) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=3000).fit(x, y)
    return fitted.coef_[0].astype(np.float32), float(fitted.intercept_[0])


def _features(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    vectors = embedder.embed(texts)
    return vectors, np.hstack([vectors, cue_flags(texts)])


def train(embedder: Embedder, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An artefact trained on the dev split; its threshold keeps the guard within ORDINARY_HELD_BUDGET out of fold
    (folds by family, so every score comes from a model that never saw that family)."""
    from sklearn.model_selection import GroupKFold

    dev = [r for r in (rows or load_dataset()) if r["split"] == "dev"]
    texts = [plain(r["text"]) for r in dev]
    y = np.array([r["label"] == "poisoned" for r in dev], dtype=int)
    vectors, x = _features(embedder, texts)
    families = [r["family"] for r in dev]
    oof = np.zeros(len(dev))
    for fit_rows, held_rows in GroupKFold(n_splits=5).split(x, y, families):
        w, b = _fit(x[fit_rows], y[fit_rows])
        oof[held_rows] = 1.0 / (1.0 + np.exp(-(x[held_rows] @ w + b)))
    threshold = _threshold(oof, y.astype(bool), [r["text"] for r in dev])
    weights, bias = _fit(x, y)
    kinds: dict[str, list[float]] = {}
    for kind in REASONS:
        rows_of = [i for i, r in enumerate(dev) if r["kind"] == kind]
        centroid = vectors[rows_of].mean(axis=0)
        kinds[kind] = (centroid / np.linalg.norm(centroid)).round(6).tolist()
    return {
        "format": FORMAT_VERSION,
        "embedder": embedder.name,
        "weights": weights.round(6).tolist(),
        "bias": round(bias, 6),
        "threshold": round(threshold, 4),
        "kinds": kinds,
        "cues": list(_CUES),
        "trained_on": {"split": "dev", "lines": len(dev), "sha256": _sha256(DATASET)},
        "out_of_fold_dev": _counts(oof >= threshold, y.astype(bool)),
    }


def _threshold(oof: np.ndarray, poisoned: np.ndarray, lines: list[str]) -> float:
    rules = PoisonGuard(None, None, load_rules())
    by_rule = np.array([rules._by_rule(line) is not None for line in lines])
    budget = int(np.floor(ORDINARY_HELD_BUDGET * int((~poisoned).sum())))
    for candidate in sorted(set(np.round(oof, 4).tolist())):
        held = (oof >= candidate) | by_rule
        if int(np.sum(held & ~poisoned)) <= budget:
            return float(candidate)
    return 1.0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counts(flagged: np.ndarray, poisoned: np.ndarray) -> dict[str, float]:
    tp = int(np.sum(flagged & poisoned))
    fp = int(np.sum(flagged & ~poisoned))
    fn = int(np.sum(~flagged & poisoned))
    return {
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
    }


def evaluate(guard: PoisonGuard, split: str = "test", rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Precision and recall of the rules alone, the classifier alone and both, on one split of the dataset."""
    chosen = [r for r in (rows or load_dataset()) if r["split"] == split]
    poisoned = np.array([r["label"] == "poisoned" for r in chosen])
    lines = [r["text"] for r in chosen]
    by_rule = np.array([guard._by_rule(line) is not None for line in lines])
    classifier_only = PoisonGuard(guard.embedder, guard.model, ())
    by_model = np.array([v is not None for v in classifier_only.verdicts(lines)])
    both = by_rule | by_model
    missed = [r["text"] for r, hit, bad in zip(chosen, both, poisoned, strict=True) if bad and not hit]
    wrongly = [r["text"] for r, hit, bad in zip(chosen, both, poisoned, strict=True) if hit and not bad]
    return {
        "split": split,
        "lines": len(chosen),
        "poisoned": int(poisoned.sum()),
        "rules": _counts(by_rule, poisoned),
        "classifier": _counts(by_model, poisoned),
        "guard": _counts(both, poisoned),
        "missed": missed,
        "wrongly_held": wrongly,
    }


def main(argv: list[str]) -> int:
    from assistant.embedders import get_embedder
    from assistant.settings import get_settings

    embedder = get_embedder(get_settings())
    command = argv[0] if argv else "evaluate"
    if command == "train":
        artefact = train(embedder)
        path = model_path(embedder.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(artefact, indent=1) + "\n", encoding="utf-8")
        _model_for.cache_clear()
        print(f"wrote {path.relative_to(REPO_ROOT)}: threshold {artefact['threshold']}, "
              f"dev out of fold {artefact['out_of_fold_dev']}")  # fmt: skip
        command = "evaluate"
    if command == "evaluate":
        for split in ("dev", "test"):
            print(json.dumps(evaluate(guard_for(embedder), split), indent=1))
        return 0
    print("usage: python -m assistant.ingestion.poison train|evaluate", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
