"""`mentor safety train`: fit the safety classifier on the corpus's train families and write the artefact.

Reproducible: the same data and encoder give the same weights (fixed folds, deterministic solvers). The training
data is the rows of evals/datasets/safety.jsonl marked `"split": "train"` (rows without a split count as training
rows in a file of your own) plus benign_questions.txt. Test families never reach this module.

Calibration and thresholds come from out-of-fold scores: the train families are split into folds by family, each
fold is scored by a model that never saw its families, and a one-feature logistic regression (Platt scaling)
turns those scores into probabilities. So the probabilities, and the thresholds set on them, describe how the
model does on kinds of message it was not shown, which is what the held-out test families measure.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.embedders import Embedder, RecentTextsCache
from assistant.safety.model import FORMAT_VERSION, SafetyModel, model_path
from assistant.safety.patterns import PATTERNS_PATH, load_patterns
from assistant.safety.router import NEEDS_EVIDENCE, NEEDS_RISK_INDICATOR, SUPPORT_SHARE
from assistant.safety.text import clean, for_patterns, segments
from assistant.settings import REPO_ROOT
from assistant.types import SAFETY_CATEGORIES

CORPUS_PATH = REPO_ROOT / "evals" / "datasets" / "safety.jsonl"
BENIGN_PATH = Path(__file__).with_name("benign_questions.txt")
FOLDS = 8
REGULARISATION = 4.0  # scikit-learn's C, chosen by out-of-fold recall on the train families (0.3, 1, 4, 16 tried)
# Thresholds (the stated rule; docs/safety.md). The folds by family are the dev split: every threshold is chosen on
# out-of-fold scores of the train families, never on test families. A budget is a *number* of benign training
# messages allowed at or above a threshold out of fold, per kind: (look-alikes, the corpus's benign rows; ordinary
# questions, benign_questions.txt); the stricter bar wins. A count, not a share of all benign rows: adding easy
# benign rows (scored near zero) no longer lowers the thresholds on the next retrain, and adding hard ones raises
# them. The counts were 1% (crisis) and 0.5% (others) of the look-alikes when the rule was a share, and half that
# share of the ordinary questions.
CLEAR_ALLOWED = (7, 6)  # crisis
CLEAR_ALLOWED_OTHER = (3, 3)
# The `possible` band (crisis: the warning-signs box; harassment: a note on where to find guidance) keeps the
# coaching answer, so it may reach further than the clear threshold, and for crisis as far as it takes to catch
# POSSIBLE_RECALL of the train families' crisis messages out of fold (a missed warning sign costs more than a box
# above a coaching answer to a mentee who is grieving or upset).
POSSIBLE_ALLOWED = (21, 18)
# Injection's floor already catches most of it (70% of the train families' injections), so its band is narrower.
POSSIBLE_ALLOWED_FOR = {"injection": (14, 12)}
POSSIBLE_RECALL = 0.9
# Harmful and injection have a possible band too: the coaching comes under a short note saying the assistant helps
# only with fair, open ways to reach the goal, or that instructions to change how it works are ignored.
POSSIBLE_CATEGORIES = ("crisis", "harassment", "harmful", "injection")
MIN_THRESHOLD = 0.2
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Example:
    text: str  # normalised (text.clean)
    label: str | None
    family: str
    ordinary: bool = False  # from benign_questions.txt


def data_sha256(corpus: Path = CORPUS_PATH, benign: Path = BENIGN_PATH) -> str:
    """One hash over the training rows, the benign questions and the evidence lists the clear thresholds depend
    on (test rows are left out: editing a test family does not make the model stale, and changing a train row or
    the risk indicators does)."""
    digest = hashlib.sha256()
    for row in _corpus_rows(corpus):
        if row.get("split", "train") == "train":
            digest.update(json.dumps([row["question"], row["expected_safety"]], ensure_ascii=False).encode())
    digest.update(b"\0")
    for line in _benign_lines(benign):
        digest.update(line.encode() + b"\n")
    digest.update(b"\0" + _gate_definitions().encode())
    return digest.hexdigest()


def _gate_definitions() -> str:
    """The parts of patterns.yaml that decide which benign messages could escalate (see _never_escalates) and the
    figures of speech the classifier reads in plain words (`idioms`)."""
    data = yaml.safe_load(PATTERNS_PATH.read_text(encoding="utf-8"))
    gates = {c: data["evidence"].get(c) for c in (*NEEDS_RISK_INDICATOR, *NEEDS_EVIDENCE)}
    context = data["context"]
    return json.dumps([gates, context["distress"], context["kind_wording"], data.get("idioms")], sort_keys=True)


def _corpus_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _benign_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def load_examples(corpus: Path = CORPUS_PATH, benign: Path = BENIGN_PATH) -> list[Example]:
    plain = load_patterns().plain  # the classifier reads figures of speech in plain words, as the router does
    examples = [
        Example(plain(clean(row["question"]).text), row["expected_safety"], row.get("family") or f"unnamed/{row['_n']}")
        for row in ({**r, "_n": n} for n, r in enumerate(_corpus_rows(corpus)))
        if row.get("split", "train") == "train"
    ]
    # Ordinary questions form pseudo-families of 50, so each fold holds some of them out too.
    examples += [
        Example(plain(clean(q).text), None, f"ordinary/{n // 50}", ordinary=True)
        for n, q in enumerate(_benign_lines(benign))
    ]
    return examples


class _Vectors:
    """Encoder vectors for every text the training needs, computed once."""

    def __init__(self, embedder: Embedder, texts: list[str]) -> None:
        unique = list(dict.fromkeys(texts))
        vectors = [embedder.embed(unique[i : i + 256]) for i in range(0, len(unique), 256)]
        matrix = np.vstack(vectors) if vectors else np.zeros((0, embedder.dim), dtype=np.float32)
        self.rows = {t: i for i, t in enumerate(unique)}
        self.matrix = matrix.astype(np.float32)

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.matrix[[self.rows[t] for t in texts]]


def _instances(examples: list[Example]) -> tuple[list[str], list[str | None]]:
    """Whole messages, plus each sentence of a benign message (a benign sentence is benign on its own)."""
    texts: list[str] = []
    labels: list[str | None] = []
    for ex in examples:
        parts = segments(ex.text)
        texts.append(parts[0] if parts else ex.text)
        labels.append(ex.label)
        if ex.label is None and len(parts) > 1:
            texts += parts[1:]
            labels += [None] * (len(parts) - 1)
    return texts, labels


class _Fitted:
    """One training run: vocabulary, then a logistic regression per category, then a second pass that adds, for
    each multi-sentence positive, the sentence the first pass found most telling (the sign is often one clause)."""

    def __init__(self, examples: list[Example], vectors: _Vectors) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts, labels = _instances(examples)
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        self.vectorizer.fit(texts)
        self.vectors = vectors
        self.models = self._fit(texts, labels)
        extra_texts: list[str] = []
        extra_labels: list[str | None] = []
        for ex in examples:
            parts = segments(ex.text)
            if ex.label is not None and len(parts) > 1:
                scores = self.scores(parts[1:])[ex.label]
                extra_texts.append(parts[1 + int(scores.argmax())])
                extra_labels.append(ex.label)
        self.models = self._fit(texts + extra_texts, labels + extra_labels)

    def _features(self, texts: list[str]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(self.vectors(texts)), self.vectorizer.transform(texts)]).tocsr()

    def _fit(self, texts: list[str], labels: list[str | None]) -> dict[str, Any]:
        from sklearn.linear_model import LogisticRegression

        features = self._features(texts)
        models = {}
        for category in SAFETY_CATEGORIES:
            target = np.array([label == category for label in labels])
            model = LogisticRegression(C=REGULARISATION, max_iter=5000, class_weight="balanced")
            models[category] = model.fit(features, target)
        return models

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        features = self._features(texts)
        return {c: m.decision_function(features) for c, m in self.models.items()}

    def part_scores(self, text: str) -> dict[str, np.ndarray]:
        """Scores of every segment the router reads (the whole message first when there are several)."""
        return self.scores(segments(text) or [text])


@dataclass
class _OutOfFold:
    """Out-of-fold scores per category: the message's (its highest segment), its whole text's, and the highest of
    its other segments (-inf for a message read as one segment)."""

    top: dict[str, np.ndarray]
    whole: dict[str, np.ndarray]
    parts: dict[str, np.ndarray]


def _out_of_fold(examples: list[Example], vectors: _Vectors, progress: Progress) -> _OutOfFold:
    from sklearn.model_selection import GroupKFold

    families = [ex.family for ex in examples]
    oof = _OutOfFold(*({c: np.full(len(examples), -np.inf) for c in SAFETY_CATEGORIES} for _ in range(3)))
    folds = GroupKFold(n_splits=min(FOLDS, len(set(families))))
    for k, (train_idx, test_idx) in enumerate(folds.split(examples, groups=families), start=1):
        progress(f"fold {k}/{folds.n_splits}: training on {len(train_idx)} messages")
        fitted = _Fitted([examples[i] for i in train_idx], vectors)
        for i in test_idx:
            for category, scores in fitted.part_scores(examples[i].text).items():
                oof.top[category][i] = scores.max()
                oof.whole[category][i] = scores[0] if _whole_first(examples[i].text) else np.inf
                if scores.size > 1:
                    oof.parts[category][i] = scores[1:].max()
    return oof


def _whole_first(text: str) -> bool:
    parts = segments(text)
    return len(parts) > 1 and parts[0] == text.strip()


def _segment_band(whole: np.ndarray, parts: np.ndarray, positive: np.ndarray, band: float, clear: float) -> float:
    """The band a segment must reach when its message as a whole scores below SUPPORT_SHARE of the lowest band
    (router.supported_score): halfway from the lowest band to the weakest out-of-fold positive that only such a
    segment finds (or to the clear threshold when none does), so no train-family sign found before is lost and
    half the gap is left for signs of families not seen."""
    alone = positive & (whole < SUPPORT_SHARE * band) & (parts >= band)
    weakest = float(parts[alone].min()) if alone.any() else clear
    return band + 0.5 * (min(weakest, clear) - band)


def _calibrated(scores: np.ndarray, a: float, b: float) -> np.ndarray:
    with np.errstate(over="ignore"):  # infinite scores stand for "no such segment" and map to 0 or 1
        return np.asarray(1.0 / (1.0 + np.exp(-(a * scores + b))))


def _platt(scores: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4, max_iter=1000).fit(scores.reshape(-1, 1), target)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _threshold(lookalikes: np.ndarray, ordinary: np.ndarray, allowed: tuple[int, int]) -> float:
    """The lowest probability that lets at most `allowed` look-alikes and ordinary questions reach it (benign
    messages scored low never move it)."""
    bars = [MIN_THRESHOLD]
    for scores, count in zip((lookalikes, ordinary), allowed, strict=True):
        if scores.size > count:
            bars.append(float(np.sort(scores)[::-1][count]) + 1e-6)
    return min(max(bars), 0.99)


def _stays_possible(examples: list[Example], category: str) -> np.ndarray:
    """For each example: the router would keep a clear score of `category` at the possible level (a message about
    distress or a life event that names none of its evidence; router.SafetyRouter._level)."""
    patterns = load_patterns()
    words = [for_patterns(ex.text) for ex in examples]
    return np.array([patterns.about_distress(w) and not patterns.has_evidence(category, w) for w in words])


def _never_escalates(examples: list[Example], category: str) -> np.ndarray:
    """For each example: the router would not escalate it on a classifier score of `category`, whatever the score
    (a crisis score about distress without a risk indicator stays possible; a request to word thanks, praise or a
    critique kindly is never harmful by score). The clear budget is spent only on messages that would escalate."""
    if category in NEEDS_RISK_INDICATOR:
        return _stays_possible(examples, category)
    if category in NEEDS_EVIDENCE:
        patterns = load_patterns()
        return np.array([not patterns.has_evidence(category, for_patterns(ex.text)) for ex in examples])
    if category == "harmful":
        patterns = load_patterns()
        return np.array([patterns.asks_kind_wording(for_patterns(ex.text)) for ex in examples])
    return np.zeros(len(examples), dtype=bool)


def _recall_threshold(positives: np.ndarray, recall: float) -> float:
    """The highest probability that still reaches `recall` of the positives (scored out of fold)."""
    if not positives.size:
        return 1.0
    return max(float(np.quantile(positives, 1 - recall)), MIN_THRESHOLD)


def train(
    embedder: Embedder,
    corpus: Path = CORPUS_PATH,
    benign: Path = BENIGN_PATH,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train on the train families and return the artefact (a JSON-able dict, with out-of-fold metrics)."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    examples = load_examples(corpus, benign)
    say(f"{len(examples)} training messages in {len({e.family for e in examples})} families; embedding")
    texts = [t for ex in examples for t in segments(ex.text) or [ex.text]]
    vectors = _Vectors(embedder, texts)
    oof_scores = _out_of_fold(examples, vectors, say)
    oof = oof_scores.top
    say("final fit on every train family")
    final = _Fitted(examples, vectors)
    labels = np.array([ex.label or "" for ex in examples], dtype=object)
    lookalike = np.array([ex.label is None and not ex.ordinary for ex in examples])
    ordinary = np.array([ex.ordinary for ex in examples])
    categories: dict[str, Any] = {}
    oof_prob: dict[str, np.ndarray] = {}
    for index, category in enumerate(SAFETY_CATEGORIES):
        a, b = _platt(oof[category], labels == category)
        prob = 1.0 / (1.0 + np.exp(-(a * oof[category] + b)))
        oof_prob[category] = prob
        # The clear budget counts the benign messages that would escalate: one the router keeps at the possible
        # level (distress without a risk indicator) shows the box at most, so it does not use the budget up.
        escalating = np.where(_never_escalates(examples, category), 0.0, prob)
        model = final.models[category]
        dim = embedder.dim
        coef = model.coef_[0]
        entry: dict[str, Any] = {
            "index": index,
            "weights_vector": [round(float(x), 6) for x in coef[:dim]],
            "weights_words": [round(float(x), 6) for x in coef[dim:]],
            "bias": float(model.intercept_[0]),
            "calibration": [a, b],
            "threshold": _threshold(
                escalating[lookalike],
                escalating[ordinary],
                CLEAR_ALLOWED if category == "crisis" else CLEAR_ALLOWED_OTHER,
            ),
        }
        if category in POSSIBLE_CATEGORIES:
            # A crisis box still shows for distress; a kindly worded request never gets a harmful note.
            shown = escalating if category == "harmful" else prob
            allowed = POSSIBLE_ALLOWED_FOR.get(category, POSSIBLE_ALLOWED)
            band = _threshold(shown[lookalike], shown[ordinary], allowed)
            if category == "crisis":
                band = min(band, _recall_threshold(prob[labels == category], POSSIBLE_RECALL))
            entry["possible"] = min(band, entry["threshold"])
        entry["segment_band"] = _segment_band(
            _calibrated(oof_scores.whole[category], a, b),
            _calibrated(oof_scores.parts[category], a, b),
            labels == category,
            entry.get("possible", entry["threshold"]),
            entry["threshold"],
        )
        categories[category] = entry
    vocabulary = sorted(final.vectorizer.vocabulary_, key=final.vectorizer.vocabulary_.get)
    artefact = {
        "format": FORMAT_VERSION,
        "embedder": embedder.name,
        "dim": embedder.dim,
        "data_sha256": data_sha256(corpus, benign),
        "trained_on": {"messages": len(examples), "families": len({e.family for e in examples})},
        "vocabulary": vocabulary,
        "idf": [round(float(x), 6) for x in final.vectorizer.idf_],
        "categories": categories,
        "cross_validation": _cv_report(examples, oof_prob, categories),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return artefact


def _cv_report(examples: list[Example], prob: dict[str, np.ndarray], categories: dict[str, Any]) -> dict[str, Any]:
    """Out-of-fold recall per category and benign flag rates at the chosen thresholds (classifier alone)."""
    flagged = {c: prob[c] >= categories[c].get("possible", categories[c]["threshold"]) for c in prob}
    report: dict[str, Any] = {}
    for category in SAFETY_CATEGORIES:
        rows = [i for i, ex in enumerate(examples) if ex.label == category]
        report[f"{category}_recall"] = round(float(np.mean(flagged[category][rows])), 3) if rows else None
    anything = np.any(np.vstack(list(flagged.values())), axis=0)
    for name, keep in (("lookalike", lambda e: e.label is None and not e.ordinary), ("ordinary", lambda e: e.ordinary)):
        rows = [i for i, ex in enumerate(examples) if keep(ex)]
        report[f"benign_{name}_flagged"] = round(float(np.mean(anything[rows])), 3) if rows else None
    return report


def save(artefact: dict[str, Any], directory: Path | None = None) -> Path:
    path = model_path(artefact["embedder"], *((directory and [directory]) or []))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(artefact, separators=(",", ":")) + "\n", encoding="utf-8")
    SafetyModel.load(path)  # what was written must load
    return path


def run_cli(args: Any) -> int:
    """`mentor safety train`, `mentor safety check TEXT` and `mentor safety bench`."""
    import sys

    from assistant.embedders import get_embedder
    from assistant.offline import prepare_offline
    from assistant.settings import get_settings

    settings = get_settings()
    prepare_offline(settings.data_dir / "cache")
    embedder = get_embedder(settings)
    if args.action == "bench":
        print(json.dumps(bench(embedder), indent=2))
        return 0
    if args.action == "train":
        artefact = train(embedder, Path(args.dataset) if args.dataset else CORPUS_PATH, progress=_stderr)
        path = save(artefact, Path(args.out) if args.out else None)
        cv = artefact["cross_validation"]
        print(
            f"wrote {path} (encoder {artefact['embedder']}, data sha256 {artefact['data_sha256'][:12]}, "
            f"{artefact['seconds']} s)"
        )
        print("out-of-fold on train families, classifier alone: " + ", ".join(f"{k} {v}" for k, v in cv.items()))
        return 0
    from assistant.safety.router import SafetyRouter

    text = sys.stdin.read() if args.text in (None, "-") else args.text
    decision = SafetyRouter(embedder).classify(text)
    print(json.dumps({**decision.as_dict(), "matched": list(decision.matched)}, indent=2, ensure_ascii=False))
    return 0


def bench(embedder: Embedder, corpus: Path = CORPUS_PATH, messages: int = 200) -> dict[str, float]:
    """Milliseconds per message (p50, p95) for the whole router, for the encoder on the message alone (a vector
    the turn needs anyway: the search reuses it through the encoder's cache) and for what the router adds on top,
    measured with the bare encoder so nothing is served from a cache."""
    import random
    import statistics

    from assistant.safety.router import SafetyRouter

    bare = embedder.inner if isinstance(embedder, RecentTextsCache) else embedder
    rows = [str(r["question"]) for r in _corpus_rows(corpus)]
    sample = random.Random(0).sample(rows, min(messages, len(rows)))
    router = SafetyRouter(bare)
    for text in sample[:5]:
        router.classify(text)

    def timed(run: Callable[[str], object]) -> list[float]:
        times = []
        for text in sample:
            started = time.perf_counter()
            run(text)
            times.append(1000 * (time.perf_counter() - started))
        return times

    whole = timed(router.classify)
    encoder = timed(lambda text: bare.embed([clean(text).text]))
    added = [w - e for w, e in zip(whole, encoder, strict=True)]

    def p(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=100)[q - 1], 2)

    return {
        "messages": len(sample),
        "router_p50_ms": round(statistics.median(whole), 2),
        "router_p95_ms": p(whole, 95),
        "message_vector_p50_ms": round(statistics.median(encoder), 2),
        "added_by_router_p50_ms": round(statistics.median(added), 2),
        "added_by_router_p95_ms": p(added, 95),
    }


def _stderr(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)
