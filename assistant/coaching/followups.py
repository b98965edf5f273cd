"""Which playbook answers a follow-up: stay with the conversation's playbook, or move to one the follow-up names.

A follow-up is read three ways: by its own point (its words, or the reaction it asks about), with the last turns,
and with the conversation's first message; each reading ranks the playbooks. The candidates are the
conversation's playbook, each reading's three leaders and, for a follow-up that reports news, the closest playbook
for that kind of outcome. A logistic regression trained on the dev conversations only (train_followups.py) scores
each candidate from how the readings place it, the old blended score, and what kind of turn the follow-up is
(news, a how-to question, what the mentee said, the mentor about themselves; followup_cues.yaml), so how much each
reading counts depends on the kind of turn instead of on fixed weights.

Retrain after changing the features, the cues or the playbooks: `python -m assistant.coaching.train_followups`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from assistant.coaching.matcher import SETBACK, Matches, reports_only_success, reports_setback
from assistant.coaching.playbooks import Playbook

# The follow-up's own point: the reaction it asks about when it asks about one ("what if he gets defensive and
# says the client has no taste?" is about defensiveness, not clients), else its own words.
READINGS = ("own", "context", "opening")
CUES = ("news", "how_to", "mentee_reported", "mentor_self", "reaction")
LEADERS = 3  # each reading's top three join the candidates (the right playbook is among them for 0.94 of dev)
LONG_WORDS = 25  # a follow-up's length counts up to this many words
WEIGHTS_FILE = "followup_weights.json"
OWN_WORDS_WEIGHT = 0.25  # in the blended score: the follow-up read alone, against the follow-up read in context
OPENING_WEIGHT = 0.5  # in the blended score: the follow-up read with the conversation's first message


@cache
def cue_file() -> dict[str, Any]:
    """followup_cues.yaml, read once."""
    text = resources.files(__package__).joinpath("followup_cues.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def any_of(patterns: list[str]) -> re.Pattern[str]:
    """One case-insensitive pattern that holds when any of `patterns` is found."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@cache
def _cue_patterns() -> dict[str, re.Pattern[str]]:
    return {cue: any_of(cue_file()[cue]) for cue in CUES}


@cache
def _part_patterns() -> dict[str, re.Pattern[str]]:
    return {part: any_of(patterns) for part, patterns in cue_file().get("parts", {}).items()}


def part_asked(message: str) -> str | None:
    """The part of the guidance a follow-up asks for ("what questions could I ask him?" → questions), if any."""
    return next((part for part, pattern in _part_patterns().items() if pattern.search(message)), None)


def asks_how_to_open(message: str) -> bool:
    """ "How do I start the conversation?", "what do I say first?" (followup_cues.yaml, opening)."""
    return bool(_opening_pattern().search(message))


@cache
def _opening_pattern() -> re.Pattern[str]:
    return any_of(cue_file()["opening"])


def outcome(message: str) -> str | None:
    """A follow-up that reports news tells of a success or a setback; anything else reports no outcome."""
    if not _cue_patterns()["news"].search(message):
        return None
    if reports_only_success(message):
        return "success"
    return "setback" if reports_setback(message) else None


def fits_outcome(book: Playbook, kind: str | None) -> bool:
    """Success is met with recognition (the praise playbooks), a setback by the playbooks tagged for one."""
    return (kind == "success" and book.need == "praise") or (kind == "setback" and SETBACK in book.tags)


def turn_cues(message: str) -> dict[str, float]:
    """What kind of turn the follow-up is, plus its length and whether it asks a question."""
    found = {cue: float(bool(pattern.search(message))) for cue, pattern in _cue_patterns().items()}
    found["question"] = float(message.rstrip().endswith("?"))
    found["length"] = min(len(message.split()), LONG_WORDS) / LONG_WORDS
    return found


def _place(matches: Matches | None, playbook_id: str) -> tuple[float, float, float, float]:
    """Closeness, closeness behind the reading's best, 1/rank among its leaders (0 outside them) and the fused
    score relative to the leader's."""
    if matches is None or not matches.similarity or not matches.ranked:
        return 0.0, 0.0, 0.0, 0.0
    closeness = matches.similarity.get(playbook_id, 0.0)
    best = max(matches.similarity.values())
    ids = [m.playbook.id for m in matches.ranked]
    if playbook_id not in ids:
        return closeness, closeness - best, 0.0, 0.0
    place = ids.index(playbook_id)
    return closeness, closeness - best, 1.0 / (1 + place), matches.ranked[place].score / matches.ranked[0].score


def _reading(readings: dict[str, Matches | None], name: str) -> Matches | None:
    if name == "own":
        return readings.get("reaction") or readings.get("alone")
    return readings.get(name)


def blended_scores(message: str, readings: dict[str, Matches | None]) -> dict[str, float]:
    """The readings' fused scores added up, the follow-up's own words counting less unless it asks about a
    reaction (the way follow-ups were routed before the chooser; one feature among the others now)."""
    own = 1.0 if turn_cues(message)["reaction"] else OWN_WORDS_WEIGHT
    own_words, context, opening = _reading(readings, "own"), readings.get("context"), readings.get("opening")
    weighted = ((own_words, own), (context, 1.0), (opening, OPENING_WEIGHT))
    scores: dict[str, float] = {}
    for matches, weight in weighted:
        for match in matches.ranked if matches else []:
            scores[match.playbook.id] = scores.get(match.playbook.id, 0.0) + weight * match.score
    return scores


def candidate_ids(
    message: str, readings: dict[str, Matches | None], previous: Sequence[Playbook], catalogue: dict[str, Playbook]
) -> list[str]:
    """The conversation's playbook first, then each reading's leaders, then, for news, the playbook for that kind
    of outcome closest to the conversation (the readings rarely rank it: "she got it!!!" names no situation)."""
    ids = [previous[0].id] if previous else []
    for name in READINGS:
        found = _reading(readings, name)
        if found is not None:
            ids += [m.playbook.id for m in found.ranked[:LEADERS]]
    kind = outcome(message)
    context = readings.get("context")
    if kind and context is not None:
        fitting = [i for i in context.similarity if i in catalogue and fits_outcome(catalogue[i], kind)]
        ids += sorted(fitting, key=lambda i: -context.similarity[i])[:1]
    return list(dict.fromkeys(ids))


def feature_names() -> list[str]:
    names = [f"{r}.{p}" for r in READINGS for p in ("closeness", "behind", "rank", "fused")]
    names += ["blend", "current", "related", "fits_outcome", *[f"current*{c}" for c in (*CUES, "question", "length")]]
    names += [f"own.rank*{c}" for c in (*CUES, "question", "length")]
    return names


def features(
    message: str,
    readings: dict[str, Matches | None],
    previous: Sequence[Playbook],
    ids: list[str],
    catalogue: dict[str, Playbook],
) -> np.ndarray:
    """One row per candidate (see feature_names)."""
    cues = turn_cues(message)
    kind = outcome(message)
    cue_values = [cues[c] for c in (*CUES, "question", "length")]
    current = previous[0].id if previous else None
    related = set(previous[0].related) if previous else set()
    blend = blended_scores(message, readings)
    top_blend = max(blend.values(), default=0.0) or 1.0
    rows = []
    for playbook_id in ids:
        places = [v for name in READINGS for v in _place(_reading(readings, name), playbook_id)]
        is_current = float(playbook_id == current)
        own_rank = places[2]
        row = [*places, blend.get(playbook_id, 0.0) / top_blend, is_current, float(playbook_id in related)]
        row.append(float(fits_outcome(catalogue[playbook_id], kind)))
        row += [is_current * v for v in cue_values] + [own_rank * v for v in cue_values]
        rows.append(row)
    return np.asarray(rows, dtype=np.float64)


@dataclass(frozen=True)
class FollowUpChooser:
    """Scores the candidates for a follow-up with weights trained on the dev conversations."""

    weights: np.ndarray
    bias: float

    @classmethod
    def load(cls) -> FollowUpChooser | None:
        try:
            text = resources.files(__package__).joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        stored = json.loads(text)
        if stored.get("features") != feature_names():
            return None  # weights for other features would score nonsense; the fused scores decide instead
        return cls(np.asarray(stored["weights"], dtype=np.float64), float(stored["bias"]))

    def scores(
        self,
        message: str,
        readings: dict[str, Matches | None],
        previous: Sequence[Playbook],
        catalogue: dict[str, Playbook],
    ) -> dict[str, float]:
        ids = candidate_ids(message, readings, previous, catalogue)
        if not ids:
            return {}
        logits = features(message, readings, previous, ids, catalogue) @ self.weights + self.bias
        return dict(zip(ids, logits.tolist(), strict=True))
