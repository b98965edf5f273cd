"""The answers suite: ask the coach each question and score the answer deterministically.

Scores per answer: citation validity, groundedness (claims supported by a cited chunk), answer relevance,
mode structure, length and readability, expected-topic coverage, and abstention on unanswerable questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.coaching.composer import content_words
from assistant.embedders import Embedder
from assistant.evals.core import Case, Progress, case_ids, rounded, words
from assistant.evals.datasets import Dataset, DatasetError
from assistant.evals.metrics import flesch_reading_ease, mean, share
from assistant.feedback import FeedbackChecker
from assistant.retrieval import tokenize
from assistant.runtime import Runtime
from assistant.security import LimitError
from assistant.types import Answer, Source
from assistant.understanding.details import extract

# A claim counts as supported when a cited chunk has a sentence whose cosine similarity to it reaches
# GROUNDING_COSINE, or when GROUNDING_OVERLAP of the claim's content words (stemmed, stop words removed)
# appear in the cited chunk. Set for WordLlama, a static embedding: close paraphrases of a guidance
# sentence score about 0.45-0.7 against it, unrelated sentences below 0.15.
GROUNDING_COSINE = 0.50
GROUNDING_OVERLAP = 0.50
# Bounds for a usable answer: long enough to carry advice, short enough to read in a few minutes, and
# no harder than plain business prose (Flesch reading ease 30 is the usual floor for "difficult").
WORDS_MIN, WORDS_MAX = 60, 600
FLESCH_MIN = 30.0
# An answer passes when at least this share of its claims is supported.
PASS_GROUNDEDNESS = 0.5

_CITATION = re.compile(r"\[(\d{1,3})\]")
# Anything in square brackets that is not a citation is a template gap that reached the mentor.
_PLACEHOLDER = re.compile(r"\[(?!\d{1,3}\])[^\]\n]{2,}\]")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.+)$")
# A required point counts as covered when a sentence of the answer is this close to it, or shares this share of
# its content words. Read off 60 answers by hand (MiniLM cosine): a guidance line that makes the point in other
# words scores 0.47-0.6 against it; the closest line of an answer that misses the point, 0.24-0.40.
POINT_COSINE = 0.45
POINT_OVERLAP = 0.6
# Signs of a sentence assembled badly: two function words that cannot meet ("like and", but not "than I'd like
# and"; "your before"),
# a doubled word, or quotation marks left open.
_BROKEN = re.compile(
    r"(?<!'d )(?<!would )(?<!-)\blike (?:and|but|or)\b"
    r"|\byour (?:before|after|and|but|or|the|a|an)\b|\b(?:the|a|an) (?:the|a|an|and|but|or)\b"
    r"|\b(?!(?:that|had)\b)(\w+) \1\b(?!')",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+(?P<md>.+?)|\*\*(?P<bold>[^*]+?)\*\*:?|(?P<colon>[A-Z][^.!?]{2,60}):)\s*$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
_QUESTION_LINE = re.compile(r"^\W*a question for you\b", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*(?:>|[\"“‘'])")
_PREPARE_SECTIONS = {
    "an opening line": re.compile(r"\bopen(?:ing|er)?\b|\bhow to start\b|\bfirst words\b", re.IGNORECASE),
    "a plan for the conversation": re.compile(r"\bplan\b|\bhow to run\b|\bsteps?\b", re.IGNORECASE),
    "questions to ask": re.compile(r"\bquestions?\b", re.IGNORECASE),
}


@dataclass(frozen=True)
class Claim:
    text: str
    cites: tuple[int, ...]


def strip_markup(text: str) -> str:
    """Answer text as a reader hears it: no citation markers, emphasis or list markers."""
    text = _CITATION.sub("", text)
    text = re.sub(r"[*_`#>]+", "", text)
    return "\n".join(_LIST_MARKER.sub("", line).strip() for line in text.splitlines())


def headings(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            title = next(g for g in match.groups() if g)
            if not _QUESTION_LINE.match(title):
                found.append(title.strip())
    return found


def claims(text: str) -> list[Claim]:
    """The sentences that make a claim: not headings, not the closing question, not quoted wording."""
    found: list[Claim] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _HEADING.match(line) or _QUESTION_LINE.match(line.replace("*", "")):
            continue
        body = _LIST_MARKER.sub("", line).replace("**", "").strip()
        if _QUOTED.match(body):
            continue
        line_cites = tuple(int(n) for n in _CITATION.findall(body))
        for sentence in _SENTENCE_END.split(body):
            cites = tuple(int(n) for n in _CITATION.findall(sentence)) or line_cites
            plain = _CITATION.sub("", sentence).strip()
            if len(words(plain)) >= 3:
                found.append(Claim(plain, cites))
    return found


def citations_valid(text: str, n_sources: int) -> bool:
    return all(1 <= int(n) <= n_sources for n in _CITATION.findall(text))


def chunk_sentences(text: str) -> list[str]:
    pieces = []
    for block in re.split(r"\n+", text):
        block = _LIST_MARKER.sub("", block).replace("**", "").strip()
        pieces += [s.strip() for s in _SENTENCE_END.split(block) if len(words(s)) >= 3]
    return pieces or [text]


class Grounder:
    """Checks claims against the chunks they cite; chunk sentence vectors are cached across answers."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.tokenize = tokenize
        self._chunks: dict[str, tuple[np.ndarray, set[str]]] = {}

    def _chunk(self, source: Source) -> tuple[np.ndarray, set[str]]:
        if source.id not in self._chunks:
            text = source.text or source.snippet
            self._chunks[source.id] = (self.embedder.embed(chunk_sentences(text)), set(self.tokenize([text])[0]))
        return self._chunks[source.id]

    def supported(self, found: list[Claim], sources: list[Source]) -> list[bool]:
        if not found:
            return []
        by_n = {s.n: s for s in sources}
        cited_anywhere = sorted({n for c in found for n in c.cites if n in by_n})
        vectors = self.embedder.embed([c.text for c in found])
        tokens = self.tokenize([c.text for c in found])
        result = []
        for claim, vector, claim_tokens in zip(found, vectors, tokens, strict=True):
            numbers = [n for n in claim.cites if n in by_n] or cited_anywhere
            result.append(any(self._supports(by_n[n], vector, set(claim_tokens)) for n in numbers))
        return result

    def _supports(self, source: Source, vector: np.ndarray, claim_tokens: set[str]) -> bool:
        sentence_vectors, chunk_tokens = self._chunk(source)
        if float(np.max(sentence_vectors @ vector)) >= GROUNDING_COSINE:
            return True
        return bool(claim_tokens) and len(claim_tokens & chunk_tokens) / len(claim_tokens) >= GROUNDING_OVERLAP


def drafted_feedback(text: str) -> str | None:
    """The feedback the answer drafts for the user: its block quote (or the first quote under a 'draft' heading)."""
    quoted = [line.strip()[1:].strip() for line in text.splitlines() if line.strip().startswith(">")]
    if quoted:
        return " ".join(q for q in quoted if q).strip('"“” ') or None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _HEADING.match(line) and "draft" in line.lower():
            for after in lines[i + 1 :]:
                body = _LIST_MARKER.sub("", after).strip()
                if body:
                    return body.strip('"“” ')
    return None


def detailed_enough(question: str) -> bool:
    """The question says when it happened and what the person did, so a good draft is possible."""
    details = extract(question)
    return bool(details.situation and details.behavior)


def structure(mode: str, text: str, question: str, cited_claims: int) -> tuple[bool | None, str, bool | None]:
    """(structure ok, what is missing, drafted feedback passes the checker) for the answer's mode."""
    if mode == "prepare":
        titles = " | ".join(headings(text))
        missing = [name for name, rx in _PREPARE_SECTIONS.items() if not rx.search(titles)]
        return not missing, ("missing " + ", ".join(missing)) if missing else "", None
    if mode == "feedback":
        draft = drafted_feedback(text)
        if not detailed_enough(question):
            # Too little to draft from: asking for the missing detail is the right answer, a made-up draft is not.
            return True, "", None
        if draft is None:
            return False, "no drafted feedback", None

        good = FeedbackChecker().check(draft).good
        return good, "" if good else "the drafted feedback does not pass the feedback checker", good
    if mode == "chat":
        return cited_claims > 0, "" if cited_claims else "no cited tip", None
    return None, "", None


def run(rt: Runtime, dataset: Dataset, progress: Progress | None = None) -> tuple[list[Case], dict[str, Any]]:
    grounder = Grounder(rt.embedder)
    rows = dataset.rows
    ids = case_ids([r["question"] for r in rows])
    cases = []
    for i, row in enumerate(rows):
        answer = ask(rt, dataset, row, row["question"], mode=row.get("mode", "auto"), persist=False)
        cases.append(score_answer(rt, grounder, row, ids[i], answer))
        if progress:
            progress(i + 1, len(rows))
    return cases, {"thresholds": thresholds()}


def ask(rt: Runtime, dataset: Dataset, row: dict[str, Any], question: str, **kwargs: Any) -> Answer:
    """coach.ask, with a refused message (too long, empty) reported as a dataset problem at its line."""
    try:
        return rt.coach.ask(question, **kwargs)
    except LimitError as exc:
        raise DatasetError(dataset.path, row["_line"], f"the coach refuses this message: {exc}") from None


def thresholds() -> dict[str, float]:
    return {
        "grounding_cosine": GROUNDING_COSINE,
        "grounding_overlap": GROUNDING_OVERLAP,
        "words_min": WORDS_MIN,
        "words_max": WORDS_MAX,
        "flesch_min": FLESCH_MIN,
        "pass_groundedness": PASS_GROUNDEDNESS,
    }


def bullets(text: str) -> list[str]:
    return [_CITATION.sub("", m.group(1)).replace("**", "").strip() for m in map(_BULLET.match, text.splitlines()) if m]


def duplicate_bullets(text: str) -> int:
    """Bullets that repeat an earlier one, word for word or nearly (80% of content words shared)."""
    seen: list[frozenset[str]] = []
    repeats = 0
    for item in bullets(text):
        found = content_words(item)
        if any(found and other and len(found & other) / min(len(found), len(other)) >= 0.8 for other in seen):
            repeats += 1
        seen.append(found)
    return repeats


def broken_lines(text: str) -> list[str]:
    """Lines with an unclosed quotation or words that cannot follow each other."""
    found = []
    for line in strip_markup(text).splitlines():
        quotes = line.count('"') + line.count("“") + line.count("”")
        if quotes % 2 or _BROKEN.search(line):
            found.append(line)
    return found


def playbook_of(source: str) -> str:
    return source.rsplit("/", 1)[-1].removesuffix(".md")


def point_coverage(embedder: Embedder, points: list[str], text: str) -> list[bool]:
    """Which required points the answer makes, by meaning (encoder) or by shared content words."""
    sentences = chunk_sentences(strip_markup(text))
    if not points or not sentences:
        return [False] * len(points)
    similarity = embedder.embed(points) @ embedder.embed(sentences).T
    covered = []
    for point, row in zip(points, similarity, strict=True):
        wanted = content_words(point)
        overlap = max((len(wanted & content_words(s)) / len(wanted) for s in sentences), default=0.0) if wanted else 0
        covered.append(float(row.max()) >= POINT_COSINE or overlap >= POINT_OVERLAP)
    return covered


def score_answer(rt: Runtime, grounder: Grounder, row: dict[str, Any], case_id: str, answer: Answer) -> Case:
    text, question = answer.answer, row["question"]
    answerable = bool(row.get("answerable", True))
    expected = set(row.get("expected_topics") or [])
    escalated = answer.safety.category
    coaching = not answer.abstained and not escalated
    found = claims(text) if coaching else []
    support = grounder.supported(found, answer.sources) if coaching else []
    cited_claims = sum(1 for c in found if c.cites)
    ok, note, draft_pass = structure(answer.mode, text, question, cited_claims) if coaching else (None, "", None)
    plain = strip_markup(text)
    n_words = len(words(plain))
    flesch = flesch_reading_ease(plain)
    vectors = rt.embedder.embed([question, plain])
    cited_topics = {s.topic for s in answer.sources if s.n in answer.citations}
    case: Case = {
        "id": case_id,
        "line": row["_line"],
        "input": question,
        "mode": answer.mode,
        "answerable": answerable,
        "expected_topics": sorted(expected),
        "abstained": answer.abstained,
        "escalated": escalated,
        "citations_valid": citations_valid(text, len(answer.sources)) if coaching else None,
        "cited": list(answer.citations),
        "groundedness": rounded(sum(support) / len(support)) if support else (0.0 if coaching else None),
        "claims": len(found),
        "unsupported": [c.text for c, s in zip(found, support, strict=True) if not s][:3],
        "relevance": rounded(float(vectors[0] @ vectors[1])) if coaching else None,
        "structure": ok,
        "structure_note": note,
        "draft_pass": draft_pass,
        "words": n_words,
        "flesch": rounded(flesch, 1),
        "length_ok": WORDS_MIN <= n_words <= WORDS_MAX if coaching else None,
        "readability_ok": (flesch is not None and flesch >= FLESCH_MIN) if coaching else None,
        "topic_hit": bool(cited_topics & expected) if answerable and expected else None,
        "split": row.get("split", ""),
        "expected_playbooks": row.get("expected_playbooks", []),
        "playbooks": [playbook_of(s.source) for s in answer.sources if s.n in answer.citations],
        "placeholders": _PLACEHOLDER.findall(text),
        "duplicate_bullets": duplicate_bullets(text) if coaching else 0,
        "broken": broken_lines(text)[:3] if coaching else [],
        "answer": text,
        "sources": [{"n": s.n, "id": s.id, "title": s.title, "topic": s.topic} for s in answer.sources],
    }
    expected_books = set(case["expected_playbooks"])
    if expected_books and coaching:
        cited_books = [playbook_of(s.source) for s in answer.sources]
        case["playbook_first"] = bool(cited_books) and cited_books[0] in expected_books
        cites = [int(n) for line in text.splitlines() if _BULLET.match(line) for n in _CITATION.findall(line)]
        by_n = {s.n: playbook_of(s.source) for s in answer.sources}
        outside = [n for n in cites if by_n.get(n) not in expected_books]
        case["off_situation"] = rounded(len(outside) / len(cites)) if cites else 0.0
    else:
        case["playbook_first"], case["off_situation"] = None, None
    points = row.get("required_points") or []
    covered = point_coverage(rt.embedder, points, text) if points and coaching else []
    case["points_covered"] = rounded(sum(covered) / len(covered)) if covered else None
    case["points_missed"] = [p for p, ok in zip(points, covered, strict=False) if not ok]
    case["failures"] = _failures(case)
    case["passed"] = not case["failures"]
    return case


def _failures(c: Case) -> list[str]:
    if not c["answerable"]:
        return [] if c["abstained"] else ["answered a question the knowledge cannot answer (should abstain)"]
    if c["escalated"]:  # the safety reply is fixed text; what matters is that it points at the right guidance
        return [] if c["topic_hit"] is not False else [f"escalated as {c['escalated']} without guidance on the topic"]
    if c["abstained"]:
        return ["abstained on an answerable question"]
    checks = [
        (c["citations_valid"], "a citation points at no source"),
        (bool(c["cited"]), "cites no source"),
        ((c["groundedness"] or 0.0) >= PASS_GROUNDEDNESS, f"groundedness {c['groundedness']} < {PASS_GROUNDEDNESS}"),
        (c["structure"] is not False, f"{c['mode']} structure: {c['structure_note']}"),
        (c["length_ok"], f"{c['words']} words (expected {WORDS_MIN}-{WORDS_MAX})"),
        (c["readability_ok"], f"Flesch reading ease {c['flesch']} < {FLESCH_MIN}"),
        (c["topic_hit"] is not False, "no cited source on an expected topic"),
        (c["playbook_first"] is not False, f"first cited playbook is not one of {c['expected_playbooks']}"),
        (not c["placeholders"], f"template placeholders reached the answer: {c['placeholders']}"),
        (not c["duplicate_bullets"], f"{c['duplicate_bullets']} repeated bullet(s)"),
        (not c["broken"], f"badly assembled line: {c['broken'][:1]}"),
    ]
    return [message for ok, message in checks if not ok]


def _playbook_metrics(cases: list[Case], coached: list[Case]) -> dict[str, Any]:
    """The playbook-level metrics, over all cases and per split (tune on dev; test is reported, never tuned on)."""
    metrics: dict[str, Any] = {
        "placeholder_leaks": sum(len(c["placeholders"]) for c in cases),
        "duplicate_bullets": sum(c["duplicate_bullets"] for c in cases),
        "broken_lines": sum(len(c["broken"]) for c in cases),
    }
    for split in ("", "dev", "test"):
        chosen = [c for c in coached if not split or c.get("split") == split]
        prefix = f"{split}." if split else ""
        for name, key, kind in (
            ("playbook_first", "playbook_first", share),
            ("off_situation_bullets", "off_situation", mean),
            ("required_points", "points_covered", mean),
        ):
            value = kind([c.get(key) for c in chosen])
            if value is not None:
                metrics[prefix + name] = rounded(value)
    return metrics


def compute(cases: list[Case]) -> dict[str, Any]:
    coached = [c for c in cases if not c["abstained"] and not c["escalated"]]
    answerable = [c for c in cases if c["answerable"]]
    unanswerable = [c for c in cases if not c["answerable"]]
    metrics: dict[str, Any] = {
        "citation_validity": share([c["citations_valid"] for c in coached]),
        "groundedness": mean([c["groundedness"] for c in coached]),
        "answer_relevance": mean([c["relevance"] for c in coached]),
        "mode_structure": share([c["structure"] for c in coached]),
        "feedback_draft_pass": share([c["draft_pass"] for c in coached]),
        "length_ok": share([c["length_ok"] for c in coached]),
        "readability_ok": share([c["readability_ok"] for c in coached]),
        "topic_coverage": share([c["topic_hit"] for c in answerable]),
        "abstention_rate": share([c["abstained"] for c in unanswerable]),
        "false_abstention_rate": share([c["abstained"] for c in answerable]),
        "pass_rate": share([c["passed"] for c in cases]),
        "flesch": mean([c["flesch"] for c in coached]),
        "mean_words": mean([c["words"] for c in coached]),
    }
    metrics.update(_playbook_metrics(cases, coached))
    for mode in ("chat", "prepare", "feedback"):
        in_mode = [c for c in coached if c["mode"] == mode]
        if in_mode:
            metrics[f"structure_{mode}"] = share([c["structure"] for c in in_mode])
            metrics[f"groundedness_{mode}"] = mean([c["groundedness"] for c in in_mode])
    metrics = {k: rounded(v) for k, v in metrics.items() if v is not None}
    metrics.update(
        cases=len(cases),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        detailed_feedback_cases=sum(1 for c in coached if c["draft_pass"] is not None),
        escalated=sum(1 for c in cases if c["escalated"]),
    )
    return metrics
