"""The `details` suite: how well the parser reads a mentor's incident description, and whether any draft gives
another person's words or actions to the mentee.

Dataset: evals/datasets/details.jsonl, one hand-labelled description a line:
    {"id", "split": "dev"|"test"|"holdout", "text", "name", "situation", "behavior", "impact", "request",
     "kind": "praise"|"problem"|null, "others_did": [phrases other people did, as the mentor wrote them]}
Fields are in the mentor's words (null where the message has none). Tune on `dev`; `test` and `holdout` are only
measured. `holdout` is a second held-out set, written before its failures were looked at and never tuned on; its
numbers are reported apart from `test`, whose numbers stay the headline.

Lenient match: both texts are lower-cased and cut into words (letters, digits, apostrophes); a few joining words
(the, a, an, and, to, of, in, on, at, that, which, so, for) are dropped; the field matches when the F1 of the
two word multisets is at least 0.6, or both are null. A name matches on the same rule, so "Wei" matches "Wei Chen".

Wrong attribution: the draft is composed from assistant.understanding.details.feedback_parts (what the offline coach
uses) with assistant.feedback.draft_feedback. Each phrase another person did is looked for in the draft (its first
word by its first three letters, so "told" and "tells" both count; any auxiliary for "has", "is" and the like), and
a hit is a wrong attribution when the nearest word before it, passing over auxiliaries and adverbs, is "you" (or
"you've", "you're", "yourself").
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from typing import Any

from assistant.evals import datasets
from assistant.evals.core import Case, Progress, SuiteOutput, case_ids, rounded
from assistant.evals.datasets import Dataset
from assistant.feedback import draft_feedback
from assistant.runtime import Runtime
from assistant.understanding.details import extract, feedback_parts

FIELDS: tuple[str, ...] = ("name", "situation", "behavior", "impact", "request")
SPLITS: tuple[str, ...] = ("dev", "test", "holdout")
MATCH_F1 = 0.6
_JOINERS = {"the", "a", "an", "and", "to", "of", "in", "on", "at", "that", "which", "so", "for"}
_PASS_OVER = {
    "has",
    "have",
    "had",
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "will",
    "would",
    "could",
    "can",
    "then",
    "also",
    "just",
    "later",
    "since",
    "still",
    "even",
    "never",
    "always",
    "not",
    "n't",
    "been",
    "be",
    "now",
}
_AUXILIARIES = {"has", "have", "had", "is", "are", "was", "were", "does", "do", "did"}
_AUX_FORMS = r"(?:has|have|'ve|had|is|are|'re|was|were|does|do|did)"
_YOU = {"you", "you've", "you're", "yourself", "you'd", "you'll"}


def words(text: str | None) -> list[str]:
    if not text:
        return []
    return [w for w in re.findall(r"[a-z0-9']+", text.lower().replace("’", "'")) if w not in _JOINERS]


def overlap_f1(expected: str | None, got: str | None) -> float:
    if not expected and not got:
        return 1.0
    a, b = Counter(words(expected)), Counter(words(got))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(b.values()), common / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def matches(expected: str | None, got: str | None) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    return overlap_f1(expected, got) >= MATCH_F1


def wrong_attributions(draft: str, others_did: list[str]) -> list[str]:
    """The phrases another person did that the draft puts after "you"."""
    text = draft.lower().replace("’", "'")
    tokens = [(m.group(0), m.start()) for m in re.finditer(r"[a-z0-9']+", text)]
    found: list[str] = []
    for phrase in others_did:
        parts = re.findall(r"[a-z0-9']+", phrase.lower())
        if not parts:
            continue
        first = _AUX_FORMS if parts[0] in _AUXILIARIES else re.escape(parts[0][:3]) + r"[a-z']*"
        pattern = first + "".join(r"\W+" + re.escape(p) for p in parts[1:])
        for match in re.finditer(r"\b" + pattern + r"\b", text):
            before = [w for w, start in tokens if start < match.start()]
            while before and before[-1] in _PASS_OVER:
                before.pop()
            if before and before[-1] in _YOU:
                found.append(phrase)
                break
    return found


def validate(row: dict[str, Any]) -> None:
    """Dataset line check, registered with the harness's loader (errors name the file and line)."""
    required = {"split", "text", *FIELDS, "kind", "others_did"}
    missing = sorted(required - row.keys())
    if missing:
        raise datasets._Invalid(f"missing field {', '.join(repr(m) for m in missing)}")
    unknown = sorted(row.keys() - required - {"id", "notes"})
    if unknown:
        raise datasets._Invalid(f"unknown field {', '.join(repr(u) for u in unknown)}")
    if row["split"] not in SPLITS:
        raise datasets._Invalid(f"'split' must be one of {', '.join(SPLITS)}; got {row['split']!r}")
    if not isinstance(row["text"], str) or not row["text"].strip():
        raise datasets._Invalid("'text' must be a non-empty string")
    for name in FIELDS:
        if row[name] is not None and not (isinstance(row[name], str) and row[name].strip()):
            raise datasets._Invalid(f"{name!r} must be null or a non-empty string")
    if row["kind"] not in ("praise", "problem", None):
        raise datasets._Invalid(f"'kind' must be praise, problem or null; got {row['kind']!r}")
    if not isinstance(row["others_did"], list) or not all(isinstance(p, str) for p in row["others_did"]):
        raise datasets._Invalid("'others_did' must be a list of strings")


def register() -> None:
    """Tell the dataset loader about this suite's file and line format."""
    datasets.DATASET_FOR.setdefault("details", "details")
    datasets._VALIDATORS.setdefault("details", validate)


def run(rt: Runtime, dataset: Dataset, progress: Progress | None = None) -> SuiteOutput:
    # The parser needs no index or model server; praise or problem is read as the coach reads it.
    tone = rt.understanding.tone
    extract("warm-up: Sam was late.")  # load the pipeline outside the timings
    ids = case_ids([r["text"] for r in dataset.rows])
    cases: list[Case] = []
    for i, row in enumerate(dataset.rows):
        started = time.perf_counter()
        details = extract(row["text"], fresh=True)
        seconds = time.perf_counter() - started
        if tone:
            details = tone.judge(tone.embedder.embed([row["text"]])[0], details)
        got = {
            "name": details.name,
            "situation": details.situation,
            "behavior": details.behavior,
            "impact": details.impact,
            "request": details.request,
        }
        draft = draft_feedback(**{k: v or "" for k, v in feedback_parts(details).items()})
        wrong = wrong_attributions(draft, row["others_did"])
        fields = {
            f: {
                "expected": row[f],
                "got": got[f],
                "f1": rounded(overlap_f1(row[f], got[f]), 3),
                "match": matches(row[f], got[f]),
            }
            for f in FIELDS
        }
        failures = [f"{f}: expected {v['expected']!r}, got {v['got']!r}" for f, v in fields.items() if not v["match"]]
        failures += [f"draft gives {p!r} to the mentee: {draft!r}" for p in wrong]
        cases.append(
            {
                "id": ids[i],
                "line": row["_line"],
                "split": row["split"],
                "input": row["text"],
                "fields": fields,
                "kind": row["kind"],
                "praise_predicted": details.is_praise,
                "draft": draft,
                "wrong_attribution": wrong,
                "parse_ms": round(seconds * 1000, 2),
                "failures": failures,
                "passed": not failures,
            }
        )
        if progress:
            progress(i + 1, len(dataset.rows))
    return cases, {"match": f"token F1 >= {MATCH_F1}", "splits": list(SPLITS)}


def _praise_accuracy(cases: list[Case]) -> float | None:
    labelled = [c for c in cases if c["kind"] is not None]
    if not labelled:
        return None
    return rounded(statistics.fmean((c["praise_predicted"] is True) == (c["kind"] == "praise") for c in labelled))


def compute(cases: list[Case]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    held_out = [c for c in cases if c["split"] == "test"]
    for field in FIELDS:  # the headline numbers are the held-out split's
        if held_out:
            metrics[field] = rounded(statistics.fmean(c["fields"][field]["match"] for c in held_out))
    for split in SPLITS:
        subset = [c for c in cases if c["split"] == split]
        if subset:
            metrics[split] = {f: rounded(statistics.fmean(c["fields"][f]["match"] for c in subset)) for f in FIELDS}
            metrics[split]["cases"] = len(subset)
            accuracy = _praise_accuracy(subset)
            if accuracy is not None:
                metrics[split]["praise_accuracy"] = accuracy
    # The tone classifier is trained on the dev split: like the fields, the headline is the held-out split's.
    metrics["praise_accuracy"] = _praise_accuracy(held_out)
    metrics["wrong_attribution"] = sum(bool(c["wrong_attribution"]) for c in cases)
    metrics["parse_ms_p50"] = rounded(statistics.median(c["parse_ms"] for c in cases), 2) if cases else None
    metrics["cases"] = len(cases)
    return {k: v for k, v in metrics.items() if v is not None}
