"""The curated knowledge base: enough documents, valid front matter, every topic and seed step covered."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_settings

from assistant.coaching.playbooks import NEEDS, parse_playbook, playbook_problems
from assistant.ingestion.ingestor import load_document, parse_front_matter, validate_curated
from assistant.types import TOPICS

KNOWLEDGE = REPO / "knowledge"
DOCS = sorted(KNOWLEDGE.iterdir())
MIN_DOCS = 120
MIN_PER_TOPIC = 2
MIN_BODY_WORDS = 250  # "much deeper than the seed": a stub of a few lines is not guidance


def _front_matter(path: Path) -> tuple[dict[str, Any], str]:
    return parse_front_matter(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def metas() -> dict[str, dict[str, Any]]:
    return {p.name: _front_matter(p)[0] for p in DOCS}


def test_there_are_enough_documents() -> None:
    assert len(DOCS) >= MIN_DOCS, f"knowledge/ holds {len(DOCS)} documents; at least {MIN_DOCS} are needed"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_front_matter_is_valid(path: Path) -> None:
    assert path.suffix == ".md", f"{path.name}: curated documents are Markdown"
    meta, _ = _front_matter(path)
    assert meta, f"{path.name}: no YAML front matter"
    assert validate_curated(meta) == [], f"{path.name}: {validate_curated(meta)}"
    assert isinstance(meta["title"], str) and meta["title"].strip()
    assert isinstance(meta["summary"], str) and len(meta["summary"].split()) >= 5, f"{path.name}: summary too short"
    assert meta["tags"] and all(isinstance(t, str) and t.strip() for t in meta["tags"]), f"{path.name}: tags"
    # YAML turns `step: yes` into True, which is an int to Python; the taxonomy wants a real step number.
    assert "step" not in meta or (type(meta["step"]) is int and 1 <= meta["step"] <= 10), f"{path.name}: step"
    refs = meta.get("references", [])
    assert isinstance(refs, list) and all(isinstance(r, str) for r in refs), f"{path.name}: references must be a list"
    known = {"id", "title", "topic", "tags", "summary", "step", "references"}
    known |= {"situation", "need", "asked_as", "related"}  # the playbook fields
    unknown = set(meta) - known
    assert not unknown, f"{path.name}: unknown front matter fields {sorted(unknown)}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_document_is_substantial_and_loads(path: Path, tmp_path: Path) -> None:
    _, body = _front_matter(path)
    words = len(re.findall(r"\w+", body))
    assert words >= MIN_BODY_WORDS, f"{path.name}: only {words} words of guidance"
    assert len(re.findall(r"^##\s+\S", body, re.MULTILINE)) >= 2, f"{path.name}: needs sections (## headings)"
    doc = load_document(path, make_settings(tmp_path), user_source=False)
    assert doc.source == f"knowledge/{path.name}"
    assert not doc.user_source


def test_titles_are_unique(metas: dict[str, dict[str, Any]]) -> None:
    titles = Counter(str(m["title"]).strip().lower() for m in metas.values())
    assert [t for t, n in titles.items() if n > 1] == []


def test_every_topic_has_at_least_two_documents(metas: dict[str, dict[str, Any]]) -> None:
    per_topic = Counter(m["topic"] for m in metas.values())
    thin = {t: per_topic.get(t, 0) for t in TOPICS if per_topic.get(t, 0) < MIN_PER_TOPIC}
    assert thin == {}, f"topics with fewer than {MIN_PER_TOPIC} documents: {thin}"


def test_every_seed_step_is_deepened(metas: dict[str, dict[str, Any]]) -> None:
    steps = {m["step"] for m in metas.values() if "step" in m}
    assert set(range(1, 11)) - steps == set(), f"seed steps without a document: {sorted(set(range(1, 11)) - steps)}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_document_is_a_complete_playbook(path: Path) -> None:
    book = parse_playbook(path, f"knowledge/{path.name}")
    assert book is not None, f"{path.name}: no `situation` in the front matter"
    assert book.id == path.stem, f"{path.name}: `id` must be the file name"
    assert book.need in NEEDS and _front_matter(path)[0].get("need") == book.need, f"{path.name}: need"
    assert playbook_problems(book, {p.stem for p in DOCS}) == [], f"{path.name}: {playbook_problems(book, set())}"
    assert book.why and book.phrases and book.questions and book.donts, f"{path.name}: a section is empty"
    assert len(set(book.asked_as)) == len(book.asked_as), f"{path.name}: repeated asked_as"
    assert 5 <= len(book.answers) <= 7, f"{path.name}: needs 5 to 7 quick answers, has {len(book.answers)}"
    # The bottom line is read first, ten minutes before a meeting: a few sentences, not a second essay.
    assert 20 <= len(book.in_short.split()) <= 70, f"{path.name}: 'In short' should be 20 to 70 words"
    # No template gap may reach a mentor through a playbook.
    body = _front_matter(path)[1]
    assert not re.search(r"\[(?! \]|x\])[^\]]*\]", body), f"{path.name}: placeholder in brackets"
