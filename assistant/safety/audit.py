"""`python -m assistant.safety.audit`: how often the router takes coaching away from ordinary questions.

Two measurements, on the shipped artefact and the real encoder:

1. The corpus's held-out test families (never trained on): recall per category (the router's first category is
   the expected one, as tests/test_safety.py counts it), and the share of benign messages flagged at any level or
   escalated (the safety message replaces the coaching).
2. The project's mentoring questions (evals/datasets/answers.jsonl). Every one is an ordinary coaching question
   except those whose expected playbooks are about harassment, bullying or a crisis; for the ordinary ones it
   counts how many are escalated (coaching withheld) and how many get the warning-signs box (coaching kept).

The questions are only read to measure; they are never training data.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.safety.router import SafetyRouter
from assistant.safety.train import CORPUS_PATH
from assistant.settings import REPO_ROOT
from assistant.types import SAFETY_CATEGORIES

ANSWERS_PATH = REPO_ROOT / "evals" / "datasets" / "answers.jsonl"
# Playbooks whose questions describe harassment, bullying or a possible crisis: escalating those is expected.
SAFETY_PLAYBOOKS = frozenset(
    {
        "when-a-mentee-discloses-harassment-or-discrimination",
        "suspecting-your-mentee-is-being-bullied",
        "when-someone-may-be-in-crisis",
    }
)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def held_out(router: SafetyRouter, corpus: Path = CORPUS_PATH) -> dict[str, Any]:
    """Per-category recall and benign flag and escalation rates on the test families (every row of a file without
    splits), with recall (or, for benign families, the flag rate) per family."""
    rows = [r for r in _rows(corpus) if r.get("split", "test") == "test"]
    decisions = [router.classify(str(r["question"])) for r in rows]
    pairs = list(zip(rows, decisions, strict=True))
    report: dict[str, Any] = {"cases": len(rows)}
    for category in SAFETY_CATEGORIES:
        hits = [d.category == category for r, d in pairs if r["expected_safety"] == category]
        report[f"{category}_recall"] = _share(hits, total=True)
    for category in ("crisis", "harassment"):  # the categories with a possible level: how many escalate
        found = [d for r, d in pairs if r["expected_safety"] == category]
        report[f"{category}_escalated"] = _share([d.level(category) == "clear" for d in found], total=True)
    benign = [(r, d) for r, d in pairs if r["expected_safety"] is None]
    report["benign_flagged"] = _share([d.category is not None for _, d in benign], total=True)
    report["benign_escalated"] = _share([d.escalated for _, d in benign], total=True)
    report["per_family"] = _per_family(pairs)
    report["benign_flagged_cases"] = [
        {"family": r["family"], "levels": [list(level) for level in d.levels], "question": r["question"]}
        for r, d in benign
        if d.category is not None
    ]
    return report


def _per_family(pairs: list[tuple[dict[str, Any], Any]]) -> dict[str, str]:
    """Family → share right (its category first) or, for a benign family, share flagged at any level."""
    grouped: dict[str, list[bool]] = {}
    for row, decision in pairs:
        expected = row["expected_safety"]
        right = decision.category is not None if expected is None else decision.category == expected
        grouped.setdefault(str(row.get("family") or "(no family)"), []).append(right)
    return {family: str(_share(values, total=True)) for family, values in sorted(grouped.items())}


def coaching_questions(router: SafetyRouter, path: Path = ANSWERS_PATH) -> dict[str, Any]:
    """On the ordinary mentoring questions: how many are escalated, how many get only the warning-signs box."""
    # Off-topic rows (`answerable: false`: travel visas, tax, trivia) are no coaching questions; a visa or tax
    # question referred to a professional is not coaching taken away, so they are left out of this count.
    rows = [
        r
        for r in _rows(path)
        if not SAFETY_PLAYBOOKS & set(r.get("expected_playbooks", [])) and r.get("answerable", True) is not False
    ]
    escalated: list[dict[str, Any]] = []
    boxed = 0
    for row in rows:
        decision = router.classify(str(row["question"]))
        if decision.escalated:
            escalated.append({"levels": [list(level) for level in decision.levels], "question": row["question"]})
        elif decision.warning_signs:
            boxed += 1
    by_category = Counter(e["levels"][0][0] for e in escalated)
    return {
        "ordinary_questions": len(rows),
        "escalated": len(escalated),
        "escalated_by_category": dict(sorted(by_category.items())),
        "warning_box_only": boxed,
        "escalated_cases": escalated,
    }


def _share(values: list[bool], total: bool = False) -> str | float | None:
    if not values:
        return None
    rate = round(sum(values) / len(values), 3)
    return f"{rate} ({sum(values)} of {len(values)})" if total else rate


def main(argv: list[str] | None = None) -> int:
    from assistant.embedders import get_embedder
    from assistant.offline import prepare_offline
    from assistant.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="store_true", help="also list every flagged benign case")
    parser.add_argument("--model", type=Path, help="a classifier artefact other than the shipped one")
    parser.add_argument("--dataset", type=Path, default=CORPUS_PATH, help="held-out rows (split test, or no split)")
    parser.add_argument("--families", action="store_true", help="also show recall (benign: flagged) per family")
    args = parser.parse_args(argv)
    settings = get_settings()
    prepare_offline(settings.data_dir / "cache")
    router = SafetyRouter(get_embedder(settings), model_file=args.model)
    report = {"held_out": held_out(router, args.dataset), "answers": coaching_questions(router)}
    if not args.families:
        report["held_out"].pop("per_family")
    if not args.cases:
        report["held_out"].pop("benign_flagged_cases")
        report["answers"].pop("escalated_cases")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
