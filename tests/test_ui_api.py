"""The workspace without a browser: the `/chat` endpoint through gradio_client, file serving, and the callbacks."""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from conftest import free_port, make_settings
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.runtime import Runtime
from assistant.types import Answer, SafetyDecision
from assistant.workspace import app as ui
from assistant.workspace.coach_tab import STOPPED_NOTICE

QUESTION = "How do I give feedback to a mentee who gets defensive?"
CITATION = re.compile(r"\[\d+\]")


def _launch(rt: Runtime, settings_override: dict[str, Any] | None = None) -> tuple[gr.Blocks, str]:
    settings = rt.settings.model_copy(update=settings_override or {})
    app = ui.with_queue(ui.build_app(rt), settings)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **ui.launch_options(settings))
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def served(rt: Runtime) -> Iterator[str]:
    app, url = _launch(rt)
    yield url
    app.close()


@pytest.fixture(scope="module")
def client(served: str) -> Client:
    return Client(served, verbose=False)


@pytest.fixture(scope="module")
def wrt(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """A writable runtime over a copy of the built index: these tests store sessions, mentees and uploads."""
    data = tmp_path_factory.mktemp("ui-data") / "data"
    shutil.copytree(built_dir, data)
    return Runtime(make_settings(data))


@pytest.fixture(scope="module")
def ws(wrt: Runtime) -> ui.Workspace:
    return ui.Workspace(wrt, undo_seconds=1.0)


def _chat(ws: ui.Workspace, message: str, session: str = "", turns: list | None = None) -> list[tuple[Any, ...]]:
    return list(ws.respond(message, [], turns or [], "auto", "", session))


# --- the /chat endpoint ----------------------------------------------------------------------------------------


def test_chat_endpoint_returns_a_cited_answer(client: Client) -> None:
    answer = client.predict(QUESTION, api_name="/chat")
    assert isinstance(answer, str)
    assert CITATION.search(answer), answer
    assert "defensive" in answer.lower()


def test_chat_endpoint_accepts_a_mode(client: Client) -> None:
    answer = client.predict("My mentee's project is cancelled and I tell her tomorrow", "prepare", api_name="/chat")
    assert CITATION.search(answer)


def test_chat_endpoint_over_the_limit_is_a_readable_error(client: Client, rt: Runtime) -> None:
    limit = rt.settings.max_message_chars
    with pytest.raises(AppError) as caught:
        client.predict("a" * (limit + 1), api_name="/chat")
    message = str(caught.value)
    assert f"{limit:,}" in message and "characters" in message
    assert "Traceback" not in message


def test_only_the_chat_endpoints_are_offered_to_clients(client: Client) -> None:
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    # The chat and its stored conversations (assistant/workspace/api.py); no callback of the page is offered.
    assert named == {"/chat", "/new_session", "/chat_reply", "/export_conversation"}


def test_a_session_from_the_api_keeps_its_history(client: Client, rt: Runtime) -> None:
    session = client.predict(api_name="/new_session")
    first = client.predict("I need to tell Dana her promotion didn't come through", "auto", session, api_name="/chat")
    second = client.predict("and what if she cries?", "auto", session, api_name="/chat")
    assert "[1]" in first and "[1]" in second
    turns = rt.sessions.history(session)
    assert [t.content for t in turns if t.role == "user"] == [
        "I need to tell Dana her promotion didn't come through",
        "and what if she cries?",
    ]
    stateless = client.predict("How do I open a hard conversation?", api_name="/chat")
    assert stateless and len(rt.sessions.history(session)) == 4
    with pytest.raises(Exception, match="open one with /new_session"):
        client.predict("hello there mentor", "auto", "no-such-session", api_name="/chat")


def test_data_directory_is_never_served(served: str, rt: Runtime) -> None:
    data = rt.settings.data_dir
    secrets = [data / "mentor.db", *sorted(rt.settings.chroma_dir.rglob("*.sqlite3"))]
    assert secrets[0].exists() or secrets[1:], "the fixture should have created the database or the index"
    with httpx.Client(base_url=served, timeout=10) as http:
        for path in [p for p in secrets if p.exists()]:
            assert http.get(f"gradio_api/file={path}").status_code in (403, 404), path
        assert http.get("gradio_api/file=../../../../etc/passwd").status_code in (403, 404)
        # Control: a file the app itself received is served, so the refusals above are about the path.
        upload = http.post("gradio_api/upload", files={"files": ("note.txt", b"hello", "text/plain")})
        assert upload.status_code == 200
        stored = upload.json()[0]
        assert Path(stored).is_relative_to(ui.gradio_temp_dir(rt.settings))
        assert http.get(f"gradio_api/file={stored}").content == b"hello"


def test_basic_auth_from_settings(rt: Runtime) -> None:
    app, url = _launch(rt, {"auth": "ann:s3cret-pass"})
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("config").status_code == 401
            assert http.post("login", data={"username": "ann", "password": "wrong"}).status_code in (400, 401)
        answer = Client(url, auth=("ann", "s3cret-pass"), verbose=False).predict(QUESTION, api_name="/chat")
        assert CITATION.search(answer)
    finally:
        app.close()


def test_each_signed_in_user_sees_only_their_own_conversations(rt: Runtime) -> None:
    app, url = _launch(rt, {"auth": "ann:pw-ann,bob:pw-bob"})
    try:
        ann = Client(url, auth=("ann", "pw-ann"), verbose=False)
        bob = Client(url, auth=("bob", "pw-bob"), verbose=False)
        session = ann.predict(api_name="/new_session")
        ann.predict(QUESTION, "auto", session, api_name="/chat")
        assert rt.sessions.get_session(session, owner="ann") is not None
        assert rt.sessions.get_session(session, owner="bob") is None
        with pytest.raises(Exception, match="open one with /new_session"):
            bob.predict(QUESTION, "auto", session, api_name="/chat")
    finally:
        app.close()


def test_parse_auth() -> None:
    assert ui.parse_auth("ann:pw1,bob:pw2") == [("ann", "pw1"), ("bob", "pw2")]
    assert ui.parse_auth(None) is None
    assert ui.parse_auth("ann:pa:ss") == [("ann", "pa:ss")]
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(ValueError, match="user:password"):
            ui.parse_auth(bad)


# --- coach callbacks -------------------------------------------------------------------------------------------


def test_respond_streams_a_cited_answer_with_sources_and_saves_it(ws: ui.Workspace, wrt: Runtime) -> None:
    steps = _chat(ws, QUESTION)
    assert len(steps) >= 3  # the question shown at once, then the answer written, then the final answer
    _chatbot, box, sources, notice, history, turns, session = steps[-1]
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert CITATION.search(history[-1]["content"])
    assert 'class="ma-source"' in sources and "[1]" in sources and "cited" in sources
    assert notice == ""
    assert session and turns[0] is None and isinstance(turns[1], int)
    stored = wrt.sessions.history(session)
    assert [t.content for t in stored] == [QUESTION, stored[1].content] and stored[1].id == turns[1]


def test_ratings_are_stored_with_their_comment(ws: ui.Workspace, wrt: Runtime) -> None:
    *_, turns, session = _chat(ws, QUESTION)[-1]
    *_, other = _chat(ws, "What should I cover in a first meeting with a new mentee?")[-1]
    assert "saved" in ws.rate_down("Too long for a quick read", turns)
    assert [(r.value, r.comment) for r in wrt.sessions.ratings(session).values()] == [(-1, "Too long for a quick read")]
    ws.rate_up("", turns)  # a second rating replaces the first
    assert [(r.value, r.comment) for r in wrt.sessions.ratings(session).values()] == [(1, "")]
    assert wrt.sessions.ratings(other) == {}
    assert "Ask a question first" in ws.rate_up("", [])


def test_rating_a_chat_message_by_its_index(ws: ui.Workspace, wrt: Runtime) -> None:
    *_, turns, session = _chat(ws, QUESTION)[-1]
    ws.rate_message(gr.LikeData(None, {"index": 1, "value": "x", "liked": False}), "unclear", turns)
    assert [(r.value, r.comment) for r in wrt.sessions.ratings(session).values()] == [(-1, "unclear")]


def test_respond_over_the_limit_shows_the_message_and_keeps_the_draft(ws: ui.Workspace, wrt: Runtime) -> None:
    long = "x" * (wrt.settings.max_message_chars + 5)
    chatbot, box, _sources, notice, history, _turns, _session = _chat(ws, long)[-1]
    assert history == [] and chatbot == [] and box == long
    assert "ma-error" in notice and f"{wrt.settings.max_message_chars:,}" in notice


def test_respond_neutralises_html_and_outside_images(ws: ui.Workspace) -> None:
    attack = (
        '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
        "![x](http://example.invalid/leak.png) How do I build trust with a new mentee?"
    )
    history = _chat(ws, attack)[-1][4]
    shown = history[0]["content"]
    assert "<img" not in shown and "<script" not in shown and "<" not in shown  # the question is shown as text
    assert "&lt;img" in shown and ui.typed_text(shown) == attack  # and its edit box gets it back as typed


def test_safety_escalation_gets_a_distinct_banner(ws: ui.Workspace) -> None:
    notice = _chat(ws, "My mentee told me she has been thinking about ending her life.")[-1][3]
    assert "ma-safety" in notice and "Safety" in notice


def test_regenerate_and_edit_cut_the_stored_conversation_where_the_question_was(ws: ui.Workspace, wrt: Runtime) -> None:
    *_, history, turns, session = _chat(ws, QUESTION)[-1]
    *_, history, turns, session = list(
        ws.respond("How do I build trust with a new mentee?", history, turns, "auto", "", session)
    )[-1]
    first_answer = turns[1]
    retry = gr.RetryData(None, {"index": 2, "value": history[2]["content"]})
    *_, history, turns, _ = list(ws.regenerate(retry, history, turns, "auto", "", session))[-1]
    stored = wrt.sessions.history(session)
    assert [t.content for t in stored if t.role == "user"] == [QUESTION, "How do I build trust with a new mentee?"]
    assert turns[1] == first_answer and turns[3] == stored[3].id and len(history) == 4
    edit = gr.EditData(
        None, {"index": 0, "value": "What should I cover in a first meeting?", "previous_value": history[0]["content"]}
    )
    *_, history, turns, _ = list(ws.edit_question(edit, history, turns, "auto", "", session))[-1]
    assert [t.content for t in wrt.sessions.history(session) if t.role == "user"] == [
        "What should I cover in a first meeting?"
    ]  # everything after the edited question is gone
    record = wrt.sessions.get_session(session)
    assert len(history) == 2 and record is not None and record.title == "What should I cover in a first meeting?"


def test_stop_keeps_the_words_so_far_marked_and_unsaved(ws: ui.Workspace) -> None:
    history = [ui.chat_message("user", "Q1"), ui.chat_message("assistant", "A1 [1]")]
    shown: list[dict[str, Any]] = [
        *history,
        {"role": "user", "content": [{"type": "text", "text": "Q2"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "<p>Start with one</p>"}]},
    ]
    chatbot, kept, turns, notice, send, stop = ws.stop_answer(shown, history, [None, 7])
    assert kept == chatbot and len(kept) == 4 and turns == [None, 7, None, None]  # the stopped answer is not rateable
    assert "Start with one" in kept[3]["content"] and "not saved" in kept[3]["content"] and "Stopped" in notice
    assert send["visible"] is True and stop["visible"] is False


def test_a_stopped_step_never_brings_stop_back(ws: ui.Workspace) -> None:
    # The turn's stopped step may reach the page after Stop's own output; it must leave Ask shown and Stop hidden.
    steps: Iterator[tuple[Any, ...]] = iter(
        [("…", "", None, "", [], [], ""), ("kept", "", None, STOPPED_NOTICE, [], [], "")]
    )
    shown = list(ws.answering(steps))
    assert len(shown) == 2 and shown[0][-1]["visible"] is True  # Stop while the answer is written
    send, stop = shown[-1][-2:]
    assert shown[-1][3] == STOPPED_NOTICE and send["visible"] is True and stop["visible"] is False


def test_conversations_are_searched_by_title_and_told_apart(ws: ui.Workspace, wrt: Runtime) -> None:
    owner = "searcher"
    older = wrt.sessions.create_session("Quiet mentee in one-on-ones", owner=owner)
    newer = wrt.sessions.create_session("Quiet mentee in one-on-ones…", owner=owner)
    other = wrt.sessions.create_session("100% remote team", owner=owner)
    assert [r.id for r in wrt.sessions.search_sessions("QUIET", owner=owner)] == [newer, older]
    assert [r.id for r in wrt.sessions.search_sessions("100%", owner=owner)] == [other]
    assert wrt.sessions.search_sessions("0%r", owner=owner) == []  # % is a character, not a wildcard
    listed = ui.conversations.conversation_list(wrt.sessions.list_sessions(owner=owner), older, "x")
    assert listed.index(newer) < listed.index(older)  # newest first
    assert listed.count("(2)") == 1 and 'aria-current="true"' in listed


def test_open_session_resumes_into_the_coach_tab(ws: ui.Workspace) -> None:
    *_, session = _chat(ws, QUESTION)[-1]
    _chatbot, history, turns, session_id, _mentee, sources, notice, tabs = ws.open_session(session)
    assert session_id == session and len(history) == 2 and isinstance(turns[1], int)
    assert "ma-source" in sources and "Resumed" in notice
    assert isinstance(tabs, gr.Tabs)


def test_sessions_rename_export_and_delete(ws: ui.Workspace, wrt: Runtime) -> None:
    *_, session = _chat(ws, QUESTION)[-1]
    status, *_ = ws.rename_session(session, "Defensive mentee prep")
    record = wrt.sessions.get_session(session)
    assert "Renamed" in status and record is not None and record.title == "Defensive mentee prep"
    path = Path(ws.export_session(session)["value"])
    assert path.name == "defensive-mentee-prep.md"
    assert path.is_relative_to(ui.gradio_temp_dir(wrt.settings))
    assert QUESTION in path.read_text(encoding="utf-8")
    status, selected = ws.delete_session(session)
    assert "Deleted “Defensive mentee prep”" in status and "Undo" in status and selected == ""
    # Gone from the lists at once, kept in the store until the Undo has lapsed.
    row = re.compile(rf'class="ma-convo[^"]*"[^>]*data-session="{session}"')
    assert not row.search(ws.sessions_view("", None)[1])
    assert f'data-action="undo" data-session="{session}"' in ws.sessions_view("", None)[1]
    assert wrt.sessions.get_session(session) is not None
    assert ws.deletes.undo("local", session) is not None
    assert row.search(ws.sessions_view("", None)[1])
    ws.delete_session(session)
    deadline = time.monotonic() + ws.deletes.seconds + 10
    while wrt.sessions.get_session(session) is not None:
        assert time.monotonic() < deadline, "the delete never happened"
        time.sleep(0.1)
    assert ws.deletes.undo("local", session) is None  # too late
    with pytest.raises(gr.Error, match="Choose a conversation"):
        ws.delete_session("")
    with pytest.raises(gr.Error, match="not found"):
        ws.export_session(session)


# --- feedback studio -------------------------------------------------------------------------------------------


def test_feedback_check_scores_bars_highlights_and_suggests(ws: ui.Workspace) -> None:
    page = ws.check_feedback("You are always so lazy and careless with <b>reports</b>.")
    assert "Not ready yet" in page
    assert page.count('role="meter"') == 8
    assert 'data-criterion="judgmental" data-pass="false"' in page
    assert re.search(r'<mark class="ma-mark-bad" data-criterion="(judgmental|absolute)"[^>]*>always', page)
    assert "&lt;b&gt;reports&lt;/b&gt;" in page and "<b>" not in page
    assert re.search(r'<ul id="feedback-suggestions"><li>', page)


def test_feedback_draft_from_the_form_is_checked(ws: ui.Workspace) -> None:
    text, page = ws.draft(
        "In Tuesday's client demo",
        "you interrupted the client twice while she explained the budget",
        "we left without the numbers we needed",
        "let clients finish before you answer",
    )
    assert text.startswith("In Tuesday's client demo, you interrupted")
    shown_score = re.search(r'id="feedback-score">(\d+)<', page)
    assert shown_score is not None, "the page shows a score"
    score = int(shown_score.group(1))
    assert score >= 80 and "Ready to deliver" in page


def test_highlight_marks_overlaps_once_and_escapes() -> None:
    out = ui.highlight("a <x> always b", [(0, 9, "behavior"), (6, 12, "absolute")])
    assert out.count("<mark") == 3 and "&lt;x&gt;" in out
    assert '<mark class="ma-mark-bad" data-criterion="absolute"' in out


# --- practice --------------------------------------------------------------------------------------------------


def test_practice_round_trip_ends_with_a_debrief(ws: ui.Workspace) -> None:
    scenarios, personas = ws.practice_options()
    chat, state, _debrief, tension = ws.start_practice(scenarios[0][1], personas[0][1])
    assert len(chat) == 1 and chat[0]["role"] == "assistant" and "Mentee tension" in tension
    chat, box, state, tension = ws.practice_reply("How are you feeling about the project so far?", chat, state)
    assert len(chat) == 3 and box == "" and "open question" in tension
    markdown, cleared = ws.end_practice(state)
    assert "Practice debrief" in markdown and "1 open question" in markdown
    assert "Guidance to read" in markdown and cleared is None
    with pytest.raises(gr.Error, match="Start a practice session"):
        ws.practice_reply("hello", [], None)


# --- mentees ---------------------------------------------------------------------------------------------------


def test_mentee_profile_journey_reflections_and_export(ws: ui.Workspace, wrt: Runtime) -> None:
    status, pick, coach_pick = ws.save_mentee(
        "", "Priya", "early-career", "Lead a project", "", "Written first", "", ""
    )
    mentee_id = pick.value
    assert "Saved Priya" in status and mentee_id and (("Priya", mentee_id) in coach_pick.choices)
    status, ticked = ws.set_journey(mentee_id, [1, 2, 4])
    assert "3 of 10" in status and ticked == [1, 2, 4]
    assert ws.set_journey("", [3]) == ("*Save the profile first to track the journey.*", [])  # not left ticked
    assert wrt.sessions.journey(mentee_id)[4] is True and wrt.sessions.journey(mentee_id)[3] is False
    notes, box = ws.add_reflection(mentee_id, "She asked for more <i>stretch</i> work.")
    assert box == "" and "&lt;i&gt;stretch" in notes and "<i>" not in notes
    loaded = ws.load_mentee(mentee_id)
    assert loaded[0] == "Priya" and loaded[7] == [1, 2, 4]
    exported = json.loads(Path(ws.export_mentee(mentee_id)["value"]).read_text(encoding="utf-8"))
    assert exported["profile"]["name"] == "Priya" and exported["reflections"]
    ws.delete_mentee(mentee_id)
    assert wrt.sessions.get_mentee(mentee_id) is None
    with pytest.raises(gr.Error, match="name"):
        ws.save_mentee("", "  ", "", "", "", "", "", "")


def test_step_guidance_lists_documents_for_that_step(ws: ui.Workspace, wrt: Runtime) -> None:
    expected = {c.title for c in wrt.retriever.chunks if c.step == 7}
    text = ws.step_guidance(7)
    assert "Provide constructive feedback" in text
    assert expected and all(html.escape(title) in text for title in expected)
    sources = {html.unescape(s) for s in re.findall(r'data-source="([^"]+)"', text)}  # each title opens its document
    assert sources == {c.source for c in wrt.retriever.chunks if c.step == 7}


# --- knowledge -------------------------------------------------------------------------------------------------


def test_browse_filters_by_topic_and_step_and_shows_a_document(ws: ui.Workspace) -> None:
    table, dropdown = ws.browse("feedback", 0, "")
    topics = re.findall(r'<td data-col="Topic">([^<]*)</td>', table)
    assert len(topics) > 1 and set(topics) == {"Feedback"}  # the topic in words, not its slug
    table, _ = ws.browse("", 7, "")
    assert set(re.findall(r'<td data-col="Step">([^<]*)</td>', table)) == {"7"}
    assert "No guidance matches" in ws.browse("feedback", 0, "no such title at all")[0]
    source = dict((v, k) for k, v in dropdown.choices)
    first = next(iter(source))
    assert "feedback" in ws.view_document(first)


def test_upload_is_checked_copied_ingested_and_searchable(ws: ui.Workspace, wrt: Runtime, tmp_path: Path) -> None:
    doc = tmp_path / "Our 1-1 handbook.md"
    doc.write_text(
        "# Quarterly zebra reviews\n\nEvery quarter we hold a zebra review with each mentee to "
        "look back at goals and agree the next three.\n",
        encoding="utf-8",
    )
    bad = tmp_path / "payload.svg"
    bad.write_text("<svg onload=alert(1)>", encoding="utf-8")
    summary = ws.upload([str(doc), str(bad)])
    assert "Added 1 document" in summary and "Our 1-1 handbook.md): added, 1 passage" in summary
    assert "payload.svg" in summary and "not an accepted file type" in summary
    assert (wrt.settings.uploads_dir / "Our 1-1 handbook.md").exists()
    assert not (wrt.settings.uploads_dir / "payload.svg").exists()
    hits = wrt.retriever.search("zebra review each quarter", k=3)
    assert hits[0].chunk.user_source and "zebra" in hits[0].chunk.text
    with pytest.raises(gr.Error, match="at most"):
        ws.upload([str(doc)] * (wrt.settings.max_uploads + 1))


def test_rebuild_reindexes_everything_and_keeps_uploads(ws: ui.Workspace, wrt: Runtime, tmp_path: Path) -> None:
    doc = tmp_path / "walking-one-on-ones.txt"
    doc.write_text(
        "Walking one-on-ones: once a month we take the weekly check-in outside and walk the canal path.",
        encoding="utf-8",
    )
    ws.upload([str(doc)])
    summary = ws.rebuild()
    assert "Index rebuilt" in summary and "Could not index" not in summary
    assert "passages indexed" in ws.header()
    hits = wrt.retriever.search("walk the canal path for the monthly check-in", k=3)
    assert any(h.chunk.user_source and "canal" in h.chunk.text for h in hits)


def test_renderers_escape_document_text() -> None:
    html_out = ui.render_sources(
        [
            {
                "n": 1,
                "title": "<script>x</script>",
                "topic": "t",
                "snippet": "<img src=x>",
                "text": "**bold** <b>raw</b> ![i](http://example.invalid/a.png)",
            }
        ],
        [1],
    )
    assert "<script>" not in html_out and "<img" not in html_out and "<b>raw" not in html_out
    assert "<strong>bold</strong>" in html_out and "example.invalid" not in html_out


# --- evals -----------------------------------------------------------------------------------------------------


def test_eval_suite_runs_and_offers_the_html_report(ws: ui.Workspace) -> None:
    status, table, chart, report = ws.run_eval("feedback")
    assert "finished" in status and 'id="eval-table"' in table and 'data-col="Metric"' in table
    assert 'id="eval-chart"' in chart
    path = Path(report["value"])
    assert path.name == "report.html" and "<html" in path.read_text(encoding="utf-8").lower()
    assert (ws.settings.data_dir / "reports" / "report.html").exists()


# --- banners ---------------------------------------------------------------------------------------------------


def test_backend_banner_names_the_llm_and_model(tmp_path: Path) -> None:
    offline = make_settings(tmp_path)
    assert "Offline coach" in ui.header_html(offline, 3, 9) and "3 guides · 9 passages" in ui.header_html(offline, 3, 9)
    llm = make_settings(
        tmp_path, llm_backend="openai", llm_model="team-model-7b", openai_base_url="http://10.0.0.5:8080/v1"
    )
    label = ui.backend_label(llm)[1]
    assert "team-model-7b" in label and "10.0.0.5" in label and "fallback" in label
    assert "Knowledge index is empty" in ui.header_html(offline, 0, 0)


def test_notices_for_safety_fallback_and_abstention() -> None:
    def answer(**extra: Any) -> Answer:
        return Answer(answer="text", mode="chat", backend="offline", model="offline-coach", **extra)

    assert ui.render_notice(answer()) == ""
    crisis = ui.render_notice(answer(safety=SafetyDecision("crisis", "escalate", "risk to life")))
    assert "ma-safety" in crisis and "safety may be at risk" in crisis
    fallback = ui.render_notice(answer(fallback="The model timed out after 30 s. Answered offline."))
    assert "ma-fallback" in fallback and "timed out" in fallback
    assert "Outside the guidance" in ui.render_notice(answer(abstained=True))


def test_a_missing_index_is_explained_not_crashed(fresh_rt: Runtime) -> None:
    ws = ui.Workspace(fresh_rt)
    assert "mentor ingest" in ws.header()
    *_, notice, history, _turns, _session = list(ws.respond(QUESTION, [], [], "auto", "", ""))[-1]
    assert history == [] and "ma-error" in notice and "mentor ingest" in notice


def test_gradio_event_overheads_are_switched_off_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # so that the entry is put back as it was afterwards
    monkeypatch.delitem(sys.modules, "matplotlib")
    installed = importlib.util.find_spec("matplotlib") is not None
    ui.lighten_gradio_events()
    assert int(os.environ["GRADIO_ANALYTICS_CACHE_FREQUENCY"]) >= 100
    queue = gr.Blocks().queue()._queue
    assert queue.ANAYLTICS_CACHE_FREQUENCY >= 100, "Gradio reads the setting when the queue is made"
    if not installed:
        with pytest.raises(ImportError):
            importlib.import_module("matplotlib")  # by name: the module is not installed, so not typed either
    monkeypatch.setenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", "7")
    ui.lighten_gradio_events()
    assert os.environ["GRADIO_ANALYTICS_CACHE_FREQUENCY"] == "7", "an operator's own setting wins"


def test_chat_turns_at_once_follow_the_backend_unless_set(tmp_path: Path) -> None:
    offline = make_settings(tmp_path)
    assert offline.chat_concurrency == 2 * (os.cpu_count() or 1), "offline turns are CPU work: two per core"
    remote = make_settings(tmp_path, llm_backend="openai", openai_base_url="http://127.0.0.1:9/v1")
    assert remote.chat_concurrency == 16, "LLM turns mostly wait for the model server"
    assert make_settings(tmp_path, concurrency=3).chat_concurrency == 3
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        make_settings(tmp_path, concurrency=0)
    queue = ui.with_queue(gr.Blocks(), make_settings(tmp_path, concurrency=3))._queue
    assert queue.default_concurrency_limit == 3 and not queue.live_updates
