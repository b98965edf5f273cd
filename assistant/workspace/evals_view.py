"""The Evals tab's view of a suite run: readable metric names with a one-line meaning, counts as integers, nested
results as small tables, and the failing cases with why they failed. Everything returned is escaped HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

# Suites that grade with a language model; without one configured they are not offered.
NEEDS_MODEL: tuple[str, ...] = ("judge",)
MAX_FAILING_SHOWN = 50

# leaf metric name → (readable name, what the number means in one line)
METRICS: dict[str, tuple[str, str]] = {
    "hit@1": ("Right topic first", "Share of questions whose first passage is on an expected topic."),
    "hit@3": ("Right topic in top 3", "Share of questions with an on-topic passage among the first three."),
    "hit@5": ("Right topic in top 5", "Share of questions with an on-topic passage among the first five."),
    "mrr": (
        "Rank of the first good passage (MRR)",
        "1 when the first passage is on topic, 1/2 when the second is, and so on; averaged.",
    ),
    "ndcg@5": ("Ranking quality (nDCG@5)", "How many of the first five passages are on topic, weighted by position."),
    "doc_hit@1": ("Right guide first", "Share of questions whose first document is one that answers them."),
    "doc_hit@5": ("Right guide in top 5", "Share of questions with an answering document among the first five."),
    "doc_mrr": (
        "Rank of the right guide (MRR)",
        "1 when the answering document comes first, 1/2 when second; averaged.",
    ),
    "cases": ("Cases", "How many labelled examples were run."),
    "doc_cases": ("Cases with expected guides", "Examples labelled with the documents that answer them."),
    "accuracy": ("Accuracy", "Share of cases where the result matches the label."),
    "accuracy_dev": ("Accuracy (dev half)", "Accuracy on the half used while tuning."),
    "accuracy_test": ("Accuracy (test half)", "Accuracy on the held-back half, never used for tuning."),
    "precision": ("Precision", "Of the cases it flagged, the share that should have been flagged."),
    "recall": ("Recall", "Of the cases that should be flagged, the share it flagged."),
    "false_positive_rate": ("False alarms", "Share of harmless messages that were escalated (lower is better)."),
    "benign_escalated": ("Harmless messages escalated", "Share of harmless messages escalated (lower is better)."),
    "injection_resistance": ("Resists planted instructions", "Share of injection checks the answers survived."),
    "injection_doc_retrieved": (
        "Planted document retrieved",
        "Whether the document with planted instructions was found at all (1 = yes).",
    ),
    "planted_text_echoed": ("Planted text repeated", "Share of answers quoting the planted text (lower is better)."),
    "citation_validity": ("Valid citations", "Share of answers whose every [n] points at one of their sources."),
    "groundedness": ("Grounded claims", "Mean share of an answer's claims that a cited passage supports."),
    "answer_relevance": ("Relevance to the question", "Mean similarity between the answer and the question."),
    "mode_structure": ("Right shape for the mode", "Share of answers with their mode's structure."),
    "structure_chat": ("Shape: ask a question", "Share of chat answers with at least one cited tip."),
    "structure_prepare": ("Shape: prepare", "Share of plans with an opening, questions and next steps."),
    "structure_feedback": ("Shape: word feedback", "Share of feedback answers with a drafted message."),
    "feedback_draft_pass": ("Drafts that pass the checker", "Share of drafted feedback the checker passes."),
    "detailed_feedback_cases": ("Detailed feedback questions", "Feedback questions that give enough detail."),
    "length_ok": ("Reasonable length", "Share of answers between 60 and 600 words."),
    "readability_ok": ("Readable", "Share of answers with a Flesch reading ease of 30 or more."),
    "flesch": ("Reading ease (Flesch)", "Mean Flesch reading ease; higher is easier to read."),
    "mean_words": ("Words per answer", "Mean answer length in words."),
    "topic_coverage": ("Cites the right topic", "Share of answers citing a source on an expected topic."),
    "abstention_rate": ("Declines what it cannot answer", "Share of out-of-scope questions it did not guess at."),
    "false_abstention_rate": (
        "Declines answerable questions",
        "Share of answerable questions it declined (lower is better).",
    ),
    "pass_rate": ("Cases passing every check", "Share of cases that pass all checks."),
    "escalated": ("Escalated by safety", "Answers the safety router escalated (left out of quality scores)."),
    "answerable": ("Answerable questions", "Questions the guidance covers."),
    "unanswerable": ("Out-of-scope questions", "Questions the guidance does not cover."),
    "scored": ("Scored", "Cases that could be scored."),
    "unscored": ("Not scored", "Cases that could not be scored (lower is better)."),
    "turn_hit": ("Turns on topic", "Share of turns whose first five sources include an expected topic."),
    "followup_hit": ("Follow-ups on topic", "The same for the second turn onwards."),
    "followup_hit_without_history": (
        "Follow-ups on topic without history",
        "The same follow-ups asked on their own, for comparison.",
    ),
    "history_ok": ("History stored intact", "Share of conversations stored with every turn, in order."),
    "turns": ("Turns", "Conversation turns run."),
    "conversations": ("Conversations", "Scripted conversations run."),
    "name": ("Name", "Share of messages where the mentee's name was read right."),
    "situation": ("Situation", "Share of messages where when-and-where was read right."),
    "behavior": ("Behaviour", "Share of messages where what the person did was read right."),
    "impact": ("Impact", "Share of messages where the effect was read right."),
    "request": ("Request", "Share of messages where what to do next was read right."),
    "wrong_attribution": (
        "Words put in the wrong mouth",
        "Drafts that credit someone else's words or acts to the mentee (must be 0).",
    ),
    "praise_accuracy": ("Praise or problem", "Share of messages correctly read as praise or as a problem."),
    "parse_ms_p50": ("Parse time (median)", "Milliseconds to read one message."),
    "helpfulness": ("Helpfulness (1-5)", "The model grader's mean score."),
    "empathy": ("Empathy (1-5)", "The model grader's mean score."),
    "actionability": ("Actionability (1-5)", "The model grader's mean score."),
    "faithfulness": ("Faithfulness (1-5)", "The model grader's mean score."),
}
GROUPS: dict[str, str] = {
    "by_retriever": "By search method",
    "by_split": "Dev and test halves",
    "per_criterion": "Per feedback criterion",
    "per_category": "Per safety category",
    "per_family": "Per family of examples",
    "per_move": "Per mentor move",
    "found_at_any_level": "Found at any level, per category",
    "held_out": "Families held out of training",
    "train_families": "Families seen in training",
    "dev": "Dev half",
    "test": "Test half",
}
NAMES: dict[str, str] = {
    "hybrid": "Hybrid (keywords + meaning)",
    "bm25": "Keywords only (BM25)",
    "dense": "Meaning only (dense)",
    "judgmental": "No labels or judgements",
    "absolute": "No always / never",
    "vague": "Specific, not vague",
    "hedging": "Direct, not hedged",
}
# Descriptive counts (the harness reports them as floats); shown as integers.
COUNT_SUFFIXES = ("cases", "turns", "conversations", "answerable", "escalated", "scored")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def humanise(key: str) -> str:
    """An internal key in plain words: 'open_question' → 'Open question', 'crisis/self-harm' → 'crisis: self harm'."""
    if key in NAMES:
        return NAMES[key]
    if key in GROUPS:
        return GROUPS[key]
    if key in METRICS:
        return METRICS[key][0]
    family, _, member = key.partition("/")
    if member:
        return f"{humanise(family)}: {member.replace('-', ' ')}"
    return key.replace("_", " ").replace("-", " ").capitalize()


def metric_name(leaf: str) -> str:
    return METRICS.get(leaf, (humanise(leaf), ""))[0]


def metric_meaning(leaf: str) -> str:
    return METRICS.get(leaf, ("", ""))[1]


def is_count(leaf: str) -> bool:
    return leaf.endswith(COUNT_SUFFIXES)


def format_value(leaf: str, value: Any) -> str:
    """Counts as integers, times with their unit, scores with three decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if is_count(leaf) or isinstance(value, int):
        return f"{round(value):,}"
    if leaf.endswith("_ms_p50"):
        return f"{value:.1f} ms"
    if leaf in ("flesch", "mean_words"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def headline_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(key, readable name, value, meaning) for the top-level numbers."""
    return [
        (key, metric_name(key), format_value(key, value), metric_meaning(key))
        for key, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


def headline_table(metrics: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr data-metric="{esc(key)}"><td data-col="Metric" title="{esc(meaning)}">{esc(name)}</td>'
        f'<td data-col="Value">{esc(value)}</td><td data-col="Meaning" class="ma-muted">{esc(meaning)}</td></tr>'
        for key, name, value, meaning in headline_rows(metrics)
    )
    if not rows:
        return '<p class="ma-muted" id="eval-table">The suite reported no numbers.</p>'
    return (
        '<div class="ma-table-wrap"><table class="ma-table" id="eval-table"><thead><tr><th>Metric</th>'
        f"<th>Value</th><th>What it means</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _leaves(value: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], Any]]:
    for key, inner in value.items():
        if isinstance(inner, dict):
            yield from _leaves(inner, (*prefix, key))
        else:
            yield (*prefix, key), inner


def group_table(key: str, value: dict[str, Any]) -> str:
    """A nested metric group as one table: a row per entry (its path in plain words), a column per metric."""
    rows: dict[str, dict[str, Any]] = {}
    columns: list[str] = []
    for path, number in _leaves(value):
        if isinstance(number, bool) or not isinstance(number, int | float):
            continue
        row = " · ".join(humanise(p) for p in path[:-1]) or humanise(key)
        rows.setdefault(row, {})[path[-1]] = number
        if path[-1] not in columns:
            columns.append(path[-1])
    if not rows:
        return ""
    head = "".join(f'<th title="{esc(metric_meaning(c))}">{esc(metric_name(c))}</th>' for c in columns)
    body = "".join(
        f"<tr><td>{esc(row)}</td>"
        + "".join(f"<td>{esc(format_value(c, cells[c])) if c in cells else ''}</td>" for c in columns)
        + "</tr>"
        for row, cells in rows.items()
    )
    return (
        f'<details class="ma-eval-group" data-group="{esc(key)}"><summary>{esc(humanise(key))} '
        f'<span class="ma-muted">({len(rows)} rows)</span></summary><div class="ma-table-wrap"><table '
        f'class="ma-table"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table></div></details>'
    )


def group_tables(metrics: dict[str, Any]) -> str:
    return "".join(group_table(k, v) for k, v in metrics.items() if isinstance(v, dict) and k != "spread")


_LABEL_WORD = re.compile(r"\b([a-z]+(?:_[a-z]+)+)\b")


_QUOTED_LIST = re.compile(r"\[((?:'[^']*'(?:, )?)+)\]")


def plain_failure(text: str) -> str:
    """A failure reason with internal labels in words: 'expected open_question, got None' → '... got nothing',
    "got ['trust', 'feedback']" → 'got trust, feedback'."""
    text = re.sub(r"\bgot None\b", "got nothing", str(text))
    text = _QUOTED_LIST.sub(lambda m: m.group(1).replace("'", ""), text)
    return _LABEL_WORD.sub(lambda m: m.group(1).replace("_", " "), text)


def failing_cases(cases: Sequence[dict[str, Any]]) -> str:
    """The failing cases in the page: what was asked and why it failed (the first MAX_FAILING_SHOWN)."""
    failed = [c for c in cases if c.get("passed") is False]
    if not failed:
        return '<p id="eval-failing" class="ma-muted">Every case passed.</p>'
    items = []
    for case in failed[:MAX_FAILING_SHOWN]:
        why = "; ".join(plain_failure(f) for f in case.get("failures") or []) or "did not pass its checks"
        line = f'<span class="ma-muted">line {esc(case["line"])}</span> ' if case.get("line") else ""
        items.append(
            f'<li>{line}<q>{esc(str(case.get("input", ""))[:300])}</q><br><span class="ma-why">'
            f"Why: {esc(why)}</span></li>"
        )
    more = (
        f'<p class="ma-muted">{len(failed) - MAX_FAILING_SHOWN} more in the downloadable report.</p>'
        if len(failed) > MAX_FAILING_SHOWN
        else ""
    )
    return (
        f'<div id="eval-failing"><h4>Failing cases ({len(failed)} of {len(cases)})</h4>'
        f'<ol class="ma-failing">{"".join(items)}</ol>{more}</div>'
    )


def suite_choices(suites: Sequence[str], has_model: bool) -> list[str]:
    """The suites to offer: those that need a model only when one is configured."""
    return [s for s in suites if has_model or s not in NEEDS_MODEL]


def hidden_suites_note(suites: Sequence[str], has_model: bool) -> str:
    hidden = [s for s in suites if s not in suite_choices(suites, has_model)]
    if not hidden:
        return ""
    return (
        f"The {', '.join(hidden)} suite grades answers with a language model, so it is offered once one is "
        "configured (MENTOR_LLM_BACKEND and its settings)."
    )
