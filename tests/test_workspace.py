"""The workspace's pieces without a browser: input checks, plain labels, the Evals view, and the user's own documents
(list, remove through `mentor knowledge`, duplicates, failed uploads), on a real index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import make_settings

from assistant.ingestion import own_documents
from assistant.runtime import Runtime
from assistant.workspace import app as ui
from assistant.workspace import evals_view
from assistant.workspace.checks import InputChecks
from assistant.workspace.labels import topic_label

# --- input checks ---------------------------------------------------------------------------------------------------


def _problems(marks: object) -> list[str]:
    marks = marks if isinstance(marks, list) else [marks]
    return [m["message"] for m in marks if isinstance(m, dict) and m.get("is_valid") is False]


def test_checks_name_the_input_at_fault() -> None:
    checks = InputChecks(max_message_chars=50, max_uploads=2, has_model=False)
    assert _problems(checks.question("   ", [], [], "auto", "", "")) == ["Type a question first."]
    assert _problems(checks.question("x" * 60, [], [], "auto", "", ""))[0].startswith("Your message is 60 characters")
    assert _problems(checks.question("How do I start?", [], [], "auto", "", "")) == []
    assert checks.rename("abc", "")[1]["message"] == "Type the new title first."
    assert checks.rename("abc", "")[0]["is_valid"] is True
    assert _problems(checks.practice_line("hello", [], None)) == [
        "Press Start practice first, then say your line here."
    ]
    assert _problems(checks.practice_start("own", "quiet", "", "own"))[0].startswith("Describe your situation")
    assert _problems(checks.uploads(["a", "b", "c"])) == ["3 files chosen; add at most 2 at a time."]
    assert _problems(checks.suite("judge", evals_view.NEEDS_MODEL)) == [
        "This suite needs a language model, and none is configured."
    ]


def test_a_single_input_check_is_one_mark_not_a_list() -> None:
    # Gradio wraps a single output's value in a list; a list of one would be read as valid.
    checks = InputChecks(max_message_chars=50, max_uploads=2, has_model=True)
    for mark in (checks.draft_text(""), checks.conversation(None), checks.own_document(""), checks.uploads([])):
        assert isinstance(mark, dict) and mark["is_valid"] is False, mark
    assert checks.draft_text("You were late.")["is_valid"] is True


# --- labels and the Evals view -------------------------------------------------------------------------------------


def test_topics_and_metrics_read_as_words() -> None:
    assert topic_label("difficult-conversations") == "Difficult conversations"
    assert topic_label("your-handbook") == "Your documents"
    assert evals_view.metric_name("hit@1") == "Right topic first" and evals_view.metric_meaning("hit@1")
    assert evals_view.humanise("by_retriever") == "By search method"
    assert evals_view.humanise("crisis/self-harm") == "Crisis: self harm"
    assert evals_view.format_value("cases", 84.0) == "84"
    assert evals_view.format_value("doc_cases", 84.0) == "84"
    assert evals_view.format_value("mrr", 0.76956) == "0.770"
    assert evals_view.format_value("parse_ms_p50", 12.34) == "12.3 ms"
    table = evals_view.headline_table({"hit@1": 0.5, "cases": 84.0})
    assert "Right topic first" in table and ">84<" in table and "84.000" not in table and "hit@1<" not in table


def test_nested_metrics_become_one_table_per_group() -> None:
    html = evals_view.group_tables({"by_retriever": {"bm25": {"mrr": 0.5}, "dense": {"mrr": 0.25}}, "cases": 3})
    assert 'data-group="by_retriever"' in html and "By search method" in html
    assert "Keywords only (BM25)" in html and "Meaning only (dense)" in html and "0.250" in html


def test_failing_cases_say_why_in_plain_words() -> None:
    cases = [
        {"line": 3, "input": "Talk me through it.", "passed": False, "failures": ["expected open_question, got None"]},
        {"line": 4, "input": "Fine", "passed": True, "failures": []},
        {"line": 5, "input": "Q", "passed": False, "failures": ["no expected topic in the top 5: got ['trust', 'x']"]},
    ]
    html = evals_view.failing_cases(cases)
    assert "Failing cases (2 of 3)" in html and html.count("<li>") == 2
    assert "expected open question, got nothing" in html and "got trust, x" in html and "Fine" not in html
    assert "Every case passed" in evals_view.failing_cases(cases[1:2])


def test_suites_that_need_a_model_are_offered_only_with_one() -> None:
    suites = ("retrieval", "answers", "judge")
    assert evals_view.suite_choices(suites, has_model=False) == ["retrieval", "answers"]
    assert evals_view.suite_choices(suites, has_model=True) == list(suites)
    assert "judge" in evals_view.hidden_suites_note(suites, has_model=False)
    assert evals_view.hidden_suites_note(suites, has_model=True) == ""


# --- the user's own documents --------------------------------------------------------------------------------------


@pytest.fixture
def own_rt(built_dir: Path, tmp_path: Path) -> Runtime:
    """A writable copy of the built index: these tests add and remove documents."""
    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    return Runtime(make_settings(data))


def _zebra(folder: Path, name: str = "zebra-reviews.md") -> Path:
    path = folder / name
    path.write_text(
        "# Quarterly zebra reviews\n\nEvery quarter we hold a zebra review with each mentee to look back "
        "at goals and agree the next three.\n",
        encoding="utf-8",
    )
    return path


def test_uploads_report_each_file_and_keep_only_what_was_indexed(own_rt: Runtime, tmp_path: Path) -> None:
    ws = ui.Workspace(own_rt)
    good = _zebra(tmp_path, "Zebra reviews.md")
    twin = tmp_path / "bad-news-copy.md"
    twin.write_text((own_rt.settings.knowledge_dir / "delivering-bad-news.md").read_text("utf-8"), "utf-8")
    headings = tmp_path / "only-headings.md"
    headings.write_text("# Just a title\n\n## And a section\n", encoding="utf-8")
    summary = ws.upload([str(good), str(twin), str(headings)])
    assert "Added 1 document" in summary and "Quarterly zebra reviews (Zebra reviews.md): added, 1 passage" in summary
    assert "bad-news-copy.md: same content as “Delivering bad news to a mentee”" in summary
    # Named among the files not added, with the ingestion's reason (its wording belongs to the ingestion stage).
    refused = summary.split("Not added (2):", 1)[-1]
    assert "Not added (2):" in summary and "<li>only-headings.md: " in refused
    assert sorted(p.name for p in own_rt.settings.uploads_dir.iterdir()) == ["Zebra reviews.md"]

    again = ws.upload([str(good)])
    assert "Nothing new was added" in again and "already indexed, unchanged" in again

    rebuilt = ws.rebuild()
    assert "Index rebuilt" in rebuilt and "duplicate" not in rebuilt
    assert any(c.user_source and "zebra" in c.text for c in own_rt.retriever.chunks)

    status, _picker = ws.remove_own_document("uploads/Zebra reviews.md")
    assert "Removed “Quarterly zebra reviews”" in status and "1 passage and its uploaded copy" in status
    assert not (own_rt.settings.uploads_dir / "Zebra reviews.md").exists()
    assert not [c for c in own_rt.retriever.chunks if "zebra" in c.text]
    assert own_documents.own_documents(own_rt.ingestor) == []
