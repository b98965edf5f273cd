"""SessionStore on real SQLite files. Tests marked @shared also run against PostgreSQL (test_sessions_postgres.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from assistant.errors import InputError
from assistant.sessions import (
    DEFAULT_TITLE,
    FALLBACK_CHARS,
    JOURNEY_STEPS,
    MENTEE_FIELD_CHARS,
    MENTEE_NAME_CHARS,
    MenteeProfile,
    NotFound,
    SessionRecord,
    SessionStore,
    StorageError,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED: list[Callable[..., None]] = []


def shared(test: Callable[..., None]) -> Callable[..., None]:
    """Registers a backend-agnostic test; the PostgreSQL module runs every registered test again."""
    SHARED.append(test)
    return test


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'mentor.db'}"


@pytest.fixture
def readonly_url(db_url: str) -> str:
    # As root, chmod does not stop writes; SQLite's own read-only open mode does, for every user.
    return f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true"


@pytest.fixture
def store(db_url: str) -> Iterator[SessionStore]:
    s = SessionStore(db_url)
    yield s
    s.close()


def _record(store: SessionStore, sid: str, **kw: Any) -> SessionRecord:
    """The stored session, which the test has just made (so it is there)."""
    record = store.get_session(sid, **kw)
    assert record is not None, sid
    return record


def _profile(store: SessionStore, mentee_id: str, **kw: Any) -> MenteeProfile:
    profile = store.get_mentee(mentee_id, **kw)
    assert profile is not None, mentee_id
    return profile


def add(store: SessionStore, sid: str, question: str, answer: str = "An answer.", **kw: object) -> tuple[int, int]:
    fields: dict[str, object] = {
        "mode": "chat",
        "backend": "offline",
        "model": "coach",
        "prompt_version": "chat@1",
        "sources": [],
        "safety": None,
    }
    fields.update(kw)
    return store.add_exchange(sid, question, answer, **fields)  # type: ignore[arg-type]


def run_child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def assert_whole_exchanges(turns: list, prefix: str = "") -> int:
    """Every question has its answer right after it, numbered without gaps; returns the number of exchanges."""
    assert len(turns) % 2 == 0, f"odd number of turns: {[(t.idx, t.role) for t in turns]}"
    assert [t.idx for t in turns] == list(range(len(turns)))
    for question, answer in zip(turns[::2], turns[1::2], strict=True):
        assert (question.role, answer.role) == ("user", "assistant")
        assert question.content.startswith(prefix)
        assert answer.content.endswith(f"[{question.content}]"), (question.content, answer.content[-40:])
    return len(turns) // 2


def count_rows(store: SessionStore, table: str, column: str, value: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {column} = :v"), {"v": value}).scalar_one())


# --- conversations --------------------------------------------------------------------------------


@shared
def test_create_add_history_in_order(store: SessionStore) -> None:
    sid = store.create_session()
    ids1 = add(store, sid, "How do I open a first meeting?", "Start with their goals.")
    ids2 = add(store, sid, "And the second one?", "Review what changed since.")
    turns = store.history(sid)
    assert [(t.idx, t.role, t.content) for t in turns] == [
        (0, "user", "How do I open a first meeting?"),
        (1, "assistant", "Start with their goals."),
        (2, "user", "And the second one?"),
        (3, "assistant", "Review what changed since."),
    ]
    assert [t.id for t in turns] == [*ids1, *ids2]
    assert ids1[0] < ids1[1] < ids2[0] < ids2[1]
    assert all(t.session_id == sid and t.created_at.tzinfo is not None for t in turns)


@shared
def test_exchange_keeps_metadata_sources_safety_and_partial_flag(store: SessionStore) -> None:
    sid = store.create_session()
    sources = [{"n": 1, "title": "Trust in three meetings", "source": "knowledge/trust.md", "topic": "trust"}]
    safety = {"category": "crisis", "action": "escalate", "reason": "mentions self-harm"}
    add(
        store,
        sid,
        "My mentee talks about giving up on everything",
        "Please reach out to ...",
        mode="prepare",
        backend="safety",
        model="safety-router",
        prompt_version="safety_crisis",
        sources=sources,
        safety=safety,
        complete=False,
    )
    question, answer = store.history(sid)
    assert (answer.mode, answer.backend, answer.model, answer.prompt_version) == (
        "prepare",
        "safety",
        "safety-router",
        "safety_crisis",
    )
    assert answer.sources == sources and question.sources == []
    assert answer.safety == safety
    assert answer.complete is False and question.complete is True


@shared
def test_untitled_session_is_titled_from_first_question_only(store: SessionStore) -> None:
    sid = store.create_session()
    assert _record(store, sid).title == DEFAULT_TITLE
    long_question = "How can I help a mentee who keeps missing   our agreed deadlines without sounding like a manager?"
    add(store, sid, long_question)
    title = _record(store, sid).title
    assert title.startswith("How can I help a mentee who keeps missing our agreed") and title.endswith("…")
    assert len(title) <= 61 and "  " not in title
    add(store, sid, "A second question that must not become the title")
    assert _record(store, sid).title == title

    named = store.create_session(title="Quarterly check-in")
    add(store, named, "Short question")
    assert _record(store, named).title == "Quarterly check-in"
    short = store.create_session()
    add(store, short, "  Where do I start?  ")
    assert _record(store, short).title == "Where do I start?"


def refuse_marked_answers(store: SessionStore) -> None:
    """A database trigger (real DB behaviour, not a mock) that rejects answers whose text is 'REFUSE'."""
    statements = {
        "sqlite": [
            "CREATE TRIGGER refuse_marked BEFORE INSERT ON turns WHEN NEW.role = 'assistant' "
            "AND NEW.content = 'REFUSE' BEGIN SELECT RAISE(ABORT, 'answer refused by test trigger'); END",
        ],
        "postgresql": [
            "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.role = 'assistant' AND NEW.content = 'REFUSE' THEN "
            "RAISE EXCEPTION 'answer refused by test trigger'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_marked BEFORE INSERT ON turns FOR EACH ROW EXECUTE FUNCTION refuse_marked()",
        ],
    }[store.engine.dialect.name]
    with store.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


@shared
def test_exchange_is_atomic_when_the_answer_insert_fails(store: SessionStore) -> None:
    sid = store.create_session()
    add(store, sid, "First question", "First answer")
    before = store.get_session(sid)
    refuse_marked_answers(store)
    with pytest.raises(StorageError, match="answer refused by test trigger"):
        add(store, sid, "This question reaches the database before its answer fails", "REFUSE")
    # The question row was inserted before the answer failed: the rollback must have removed it too.
    assert [t.content for t in store.history(sid)] == ["First question", "First answer"]
    assert store.get_session(sid) == before
    add(store, sid, "Next question", "Next answer")
    assert [t.idx for t in store.history(sid)] == [0, 1, 2, 3]


@shared
def test_persists_across_a_new_store_instance(db_url: str) -> None:
    first = SessionStore(db_url)
    sid = first.create_session(title="Kept")
    _, answer_id = add(first, sid, "Will this survive?", "Yes.")
    first.rate(answer_id, 1, "clear")
    first.close()
    second = SessionStore(db_url)
    try:
        assert [t.content for t in second.history(sid)] == ["Will this survive?", "Yes."]
        assert _record(second, sid).title == "Kept"
        assert second.ratings(sid)[answer_id].comment == "clear"
    finally:
        second.close()


CHILD_WRITES = """
import sys
from assistant.sessions import MenteeProfile, SessionStore
store = SessionStore(sys.argv[1])
mentee = store.save_mentee(MenteeProfile(name="Priya", experience_level="early-career"), owner="ana")
sid = store.create_session(owner="ana", mentee_id=mentee)
for n in range(3):
    ids = store.add_exchange(sid, f"question {n}", f"answer {n}", mode="chat", backend="offline", model="coach",
                             prompt_version="chat@1", sources=[{"n": 1, "title": "T", "source": "s.md"}],
                             safety=None, owner="ana")
store.rate(ids[1], -1, "too vague", owner="ana")
store.set_step(mentee, 4, True, owner="ana")
print(sid, mentee, ids[1])
"""


@shared
def test_persists_across_processes(store: SessionStore, db_url: str) -> None:
    done = run_child(CHILD_WRITES, db_url)
    assert done.returncode == 0, done.stderr
    sid, mentee, answer_id = done.stdout.split()
    turns = store.history(sid, owner="ana")
    assert [t.content for t in turns] == [f"{kind} {n}" for n in range(3) for kind in ("question", "answer")]
    assert turns[1].sources == [{"n": 1, "title": "T", "source": "s.md"}]
    assert store.ratings(sid, owner="ana")[int(answer_id)].value == -1
    assert _profile(store, mentee, owner="ana").name == "Priya"
    assert store.journey(mentee, owner="ana")[4] is True
    assert _record(store, sid, owner="ana").mentee_id == mentee


@shared
def test_list_sessions_newest_first_with_turn_counts(store: SessionStore) -> None:
    a = store.create_session(title="A")
    b = store.create_session(title="B")
    c = store.create_session(title="C")
    add(store, a, "Bring A back to the top")
    add(store, a, "Again")
    listed = store.list_sessions()
    assert [s.id for s in listed] == [a, c, b]
    assert [s.turns for s in listed] == [4, 0, 0]
    assert listed[0].updated_at > listed[0].created_at
    assert [s.id for s in store.list_sessions(limit=2)] == [a, c]
    with pytest.raises(ValueError, match="limit"):
        store.list_sessions(limit=0)


@shared
def test_rename_and_delete_session(store: SessionStore) -> None:
    sid = store.create_session()
    _, answer = add(store, sid, "Question")
    store.rate(answer, 1)
    store.rename_session(sid, "  Feedback   for Sam ")
    assert _record(store, sid).title == "Feedback for Sam"
    with pytest.raises(ValueError, match="title is empty"):
        store.rename_session(sid, "   ")
    assert store.has_session(sid)
    store.delete_session(sid)
    assert store.get_session(sid) is None and not store.has_session(sid)
    assert store.history(sid) == [] and store.list_sessions() == []
    assert count_rows(store, "turns", "session_id", sid) == 0
    assert count_rows(store, "ratings", "turn_id", str(answer)) == 0
    with pytest.raises(NotFound, match=sid):
        store.delete_session(sid)
    with pytest.raises(NotFound):
        store.rename_session(sid, "Gone")
    with pytest.raises(NotFound):
        add(store, sid, "Into a deleted conversation?")


@shared
def test_export_markdown(store: SessionStore) -> None:
    mentee = store.save_mentee(MenteeProfile(name="Jordan"))
    sid = store.create_session(title="Preparing a hard talk", mentee_id=mentee)
    add(
        store,
        sid,
        "How do I raise missed deadlines?",
        "Describe one specific example [1].",
        mode="prepare",
        sources=[
            {"n": 1, "title": "Opening a difficult conversation", "source": "knowledge/opening.md"},
            {"n": 2, "title": "Feedback that lands", "source": "knowledge/feedback.md"},
        ],
    )
    add(store, sid, "And if they get defensive?", "Pause and", complete=False)
    md = store.export_markdown(sid)
    lines = md.splitlines()
    assert lines[0] == "# Preparing a hard talk"
    assert datetime.now(UTC).strftime("%Y-%m-%d") in md
    assert "Mentee: Jordan" in lines
    assert "- [1] Opening a difficult conversation — knowledge/opening.md" in lines
    assert "- [2] Feedback that lands — knowledge/feedback.md" in lines
    assert any(line.startswith("## You · prepare") for line in lines)
    assert any(line.startswith("## Mentor Assistant · prepare") for line in lines)
    assert (
        md.index("How do I raise missed deadlines?")
        < md.index("Describe one specific example")
        < md.index("And if they get defensive?")
        < md.index("Pause and")
    )
    assert "interrupted" in md
    with pytest.raises(NotFound):
        store.export_markdown("no-such-session")


REASON = (
    "The language model did not answer in time (the limit is 45 s per answer). Answered by the offline coach instead."
)


@shared
def test_a_fallback_is_kept_on_the_answer_and_shown_in_both_exports(store: SessionStore) -> None:
    sid = store.create_session(title="Model down")
    add(store, sid, "How do I start?", "Ask about their goals [1].", fallback=REASON)
    add(store, sid, "And then?", "Agree a next step.", backend="openai", model="gpt-x")
    add(store, sid, "And after that?", "Review it.", backend="openai", model="gpt-x", fallback="   ")
    turns = store.history(sid)
    assert [t.fallback for t in turns] == [None, REASON, None, None, None, None]  # blank means none
    md = store.export_markdown(sid)
    assert md.count("*Fallback: ") == 1 and f"*Fallback: {REASON}*" in md.splitlines()
    assert md.index("Ask about their goals") < md.index(REASON) < md.index("And then?")
    data = json.loads(json.dumps(store.export_json(sid)))  # JSON-ready
    assert data["id"] == sid and data["title"] == "Model down" and data["mentee"] is None
    answers = [t for t in data["turns"] if t["role"] == "assistant"]
    assert [(t["backend"], t["fallback"]) for t in answers] == [("offline", REASON), ("openai", None), ("openai", None)]
    assert [t["content"] for t in data["turns"][::2]] == ["How do I start?", "And then?", "And after that?"]
    assert all("rating" not in t for t in data["turns"] if t["role"] == "user")
    with pytest.raises(NotFound):
        store.export_json(sid, owner="someone-else")


@shared
def test_export_json_carries_ratings_mentee_sources_and_safety(store: SessionStore) -> None:
    mentee = store.save_mentee(MenteeProfile(name="Rui"))
    sid = store.create_session(mentee_id=mentee)
    sources = [{"n": 1, "title": "Trust", "source": "knowledge/trust.md"}]
    safety = {"category": "crisis", "action": "escalate", "reason": "risk"}
    _, answer = add(store, sid, "Rui talks about giving up", "Please reach out [1].", sources=sources, safety=safety)
    store.rate(answer, -1, "too generic")
    data = store.export_json(sid)
    assert data["mentee"] == {"id": mentee, "name": "Rui"}
    reply = data["turns"][1]
    assert reply["id"] == answer and reply["sources"] == sources and reply["safety"] == safety
    assert reply["rating"] == {"value": -1, "comment": "too generic"}
    assert datetime.fromisoformat(reply["created_at"]).tzinfo is not None


@shared
def test_a_long_fallback_reason_is_cut_not_refused(store: SessionStore) -> None:
    sid = store.create_session()
    add(store, sid, "Q", "A", fallback="x" * 5000)
    stored = store.history(sid)[1].fallback
    assert stored is not None and len(stored) == FALLBACK_CHARS and stored.endswith("…")


@shared
def test_a_database_from_before_the_fallback_column_gains_it_in_place(db_url: str) -> None:
    old = SessionStore(db_url)
    sid = old.create_session(title="Kept")
    add(old, sid, "Asked before the upgrade", "Answered before it.")
    with old.engine.begin() as conn:  # the turns table as the previous release created it
        conn.execute(text("ALTER TABLE turns DROP COLUMN fallback"))
    old.close()
    upgraded = SessionStore(db_url)
    try:
        with upgraded.engine.connect() as conn:
            assert "fallback" in {c["name"] for c in inspect(conn).get_columns("turns")}
        assert [t.content for t in upgraded.history(sid)] == ["Asked before the upgrade", "Answered before it."]
        assert upgraded.history(sid)[1].fallback is None
        add(upgraded, sid, "After", "Offline answer.", fallback=REASON)
        assert upgraded.history(sid)[3].fallback == REASON
        again = SessionStore(db_url)  # a second start finds nothing to add
        assert again.history(sid)[3].fallback == REASON
        again.close()
    finally:
        upgraded.close()


@shared
def test_a_nul_character_never_loses_the_exchange(store: SessionStore) -> None:
    """PostgreSQL refused text with NUL, so the turn was lost there (SQLite kept it): both keep it now, as U+FFFD."""
    mentee = store.save_mentee(MenteeProfile(name="Nu\x00l", notes="a\x00b"))
    sid = store.create_session(mentee_id=mentee)
    add(store, sid, "Why\x00 does this fail?", "It does\x00 not.", fallback="reason\x00", sources=[{"t": "x\x00"}])
    store.add_reflection(mentee, "note\x00")
    question, answer = store.history(sid)
    assert (question.content, answer.content, answer.fallback) == (
        "Why\ufffd does this fail?",
        "It does\ufffd not.",
        "reason\ufffd",
    )
    assert _record(store, sid).title == "Why\ufffd does this fail?"
    assert _profile(store, mentee).name == "Nu\ufffdl" and store.reflections(mentee)[0].text == "note\ufffd"
    assert "It does\ufffd not." in store.export_markdown(sid)


@shared
def test_mentee_fields_and_reflections_have_a_size_limit(store: SessionStore) -> None:
    with pytest.raises(InputError, match=f"name is 1,048,576 characters; the limit is {MENTEE_NAME_CHARS}"):
        store.save_mentee(MenteeProfile(name="x" * 1024 * 1024))
    with pytest.raises(InputError, match=f"cultural notes is 4,001 characters; the limit is {MENTEE_FIELD_CHARS:,}"):
        store.save_mentee(MenteeProfile(name="Kim", cultural_notes="y" * 4001))
    assert store.list_mentees() == []
    mentee = store.save_mentee(MenteeProfile(name="k" * MENTEE_NAME_CHARS, goals="g" * MENTEE_FIELD_CHARS))
    with pytest.raises(InputError, match="reflection is 4,001 characters"):
        store.add_reflection(mentee, "r" * 4001)
    assert store.reflections(mentee) == []


@shared
def test_ratings_replace_and_validate(store: SessionStore) -> None:
    sid = store.create_session()
    question, answer = add(store, sid, "Question")
    store.rate(answer, 1, "useful")
    store.rate(answer, -1, "on reflection, too generic")
    ratings = store.ratings(sid)
    assert list(ratings) == [answer]
    assert (ratings[answer].value, ratings[answer].comment) == (-1, "on reflection, too generic")
    for bad in (0, 2, -2, True):
        with pytest.raises(ValueError, match="rating"):
            store.rate(answer, bad)
    with pytest.raises(ValueError, match="only answers"):
        store.rate(question, 1)
    with pytest.raises(NotFound):
        store.rate(999_999, 1)
    assert store.ratings(sid)[answer].value == -1


@shared
def test_owner_isolation(store: SessionStore) -> None:
    sid = store.create_session(owner="ana")
    _, answer = add(store, sid, "Ana's question", owner="ana")
    store.rate(answer, 1, owner="ana")
    mentee = store.save_mentee(MenteeProfile(name="Lee"), owner="ana")
    store.set_step(mentee, 1, True, owner="ana")
    store.add_reflection(mentee, "Lee opened up today", owner="ana")

    # Reads by someone else find nothing...
    assert store.has_session(sid, owner="ana") and not store.has_session(sid, owner="ben")
    assert store.get_session(sid, owner="ben") is None
    assert store.history(sid, owner="ben") == [] and store.list_sessions(owner="ben") == []
    assert store.ratings(sid, owner="ben") == {}
    assert store.get_mentee(mentee, owner="ben") is None and store.list_mentees(owner="ben") == []
    assert store.journey(mentee, owner="ben") == {} and store.reflections(mentee, owner="ben") == []
    # ...and writes behave as if the records did not exist.
    writes: list[Callable[[], object]] = [
        lambda: add(store, sid, "Ben writing into Ana's conversation", owner="ben"),
        lambda: store.rename_session(sid, "taken", owner="ben"),
        lambda: store.delete_session(sid, owner="ben"),
        lambda: store.export_markdown(sid, owner="ben"),
        lambda: store.rate(answer, -1, owner="ben"),
        lambda: store.save_mentee(MenteeProfile(name="Renamed", id=mentee), owner="ben"),
        lambda: store.delete_mentee(mentee, owner="ben"),
        lambda: store.export_mentee(mentee, owner="ben"),
        lambda: store.set_step(mentee, 2, True, owner="ben"),
        lambda: store.add_reflection(mentee, "not mine", owner="ben"),
        lambda: store.create_session(owner="ben", mentee_id=mentee),
    ]
    for write in writes:
        with pytest.raises(NotFound, match="not found"):
            write()
    # Ana's data is untouched.
    assert _record(store, sid, owner="ana").title == "Ana's question"
    assert len(store.history(sid, owner="ana")) == 2
    assert store.ratings(sid, owner="ana")[answer].value == 1
    assert _profile(store, mentee, owner="ana").name == "Lee"
    assert store.journey(mentee, owner="ana")[2] is False
    assert [r.text for r in store.reflections(mentee, owner="ana")] == ["Lee opened up today"]
    assert store.list_sessions() == []  # the default "local" owner is a different user too


# --- mentees, journey, reflections ----------------------------------------------------------------


@shared
def test_mentee_create_update_list(store: SessionStore) -> None:
    profile = MenteeProfile(
        name="  Sam  ",
        experience_level="mid-career",
        goals="Lead a team",
        learning_preferences="examples first",
        communication_preferences="async notes",
        cultural_notes="prefers indirect feedback",
        notes="met at the meetup",
    )
    mentee = store.save_mentee(profile)
    stored = store.get_mentee(mentee)
    assert stored == replace(profile, id=mentee, name="Sam")  # every field kept; only the name's spaces trimmed
    updated = MenteeProfile(id=mentee, name="Sam", experience_level="senior", goals="Run the platform team")
    assert store.save_mentee(updated) == mentee
    again = _profile(store, mentee)
    assert (again.experience_level, again.goals, again.notes) == ("senior", "Run the platform team", "")
    store.save_mentee(MenteeProfile(name="alex"))
    store.save_mentee(MenteeProfile(name="Bea"))
    assert [m.name for m in store.list_mentees()] == ["alex", "Bea", "Sam"]
    assert store.get_mentee("missing") is None
    with pytest.raises(NotFound):
        store.save_mentee(MenteeProfile(name="Ghost", id="missing"))


@shared
def test_mentee_validation(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="name is empty"):
        store.save_mentee(MenteeProfile(name="   "))
    with pytest.raises(ValueError, match="experience level 'expert'"):
        store.save_mentee(MenteeProfile(name="Kim", experience_level="expert"))
    assert store.list_mentees() == []


@shared
def test_delete_mentee_removes_journey_and_reflections(store: SessionStore) -> None:
    mentee = store.save_mentee(MenteeProfile(name="Noor"))
    other = store.save_mentee(MenteeProfile(name="Other"))
    store.set_step(mentee, 2, True)
    store.add_reflection(mentee, "First session went well")
    store.set_step(other, 2, True)
    sid = store.create_session(mentee_id=mentee)
    add(store, sid, "How to support Noor?")
    store.delete_mentee(mentee)
    assert store.get_mentee(mentee) is None
    assert count_rows(store, "journey", "mentee_id", mentee) == 0
    assert count_rows(store, "reflections", "mentee_id", mentee) == 0
    assert count_rows(store, "mentees", "id", mentee) == 0
    # The mentor's own conversation stays, unlinked; the other mentee is untouched.
    assert _record(store, sid).mentee_id is None and len(store.history(sid)) == 2
    assert store.journey(other)[2] is True
    with pytest.raises(NotFound):
        store.delete_mentee(mentee)


@shared
def test_export_mentee_has_everything(store: SessionStore) -> None:
    mentee = store.save_mentee(MenteeProfile(name="Ira", experience_level="new", goals="Find a first role"))
    store.set_step(mentee, 1, True)
    store.set_step(mentee, 5, True)
    store.add_reflection(mentee, "Older note")
    store.add_reflection(mentee, "Newer note")
    sid = store.create_session(title="Ira's CV", mentee_id=mentee)
    data = store.export_mentee(mentee)
    json.dumps(data)  # JSON-ready, as a data-access request needs
    assert data["profile"]["name"] == "Ira" and data["profile"]["goals"] == "Find a first role"
    assert data["profile"]["id"] == mentee and data["profile"]["created_at"]
    assert [(s["step"], s["name"], s["done"]) for s in data["journey"]] == [
        (n, JOURNEY_STEPS[n - 1], n in (1, 5)) for n in range(1, 11)
    ]
    assert [r["text"] for r in data["reflections"]] == ["Newer note", "Older note"]
    assert [s["id"] for s in data["sessions"]] == [sid]
    with pytest.raises(NotFound):
        store.export_mentee("missing")


def test_every_journey_step_has_guidance_in_the_knowledge() -> None:
    """Ten distinct steps, and the curated playbooks (their `step:` field) cover each of them and no other, so the
    Knowledge tab's step filter and the Mentees tab's guidance for a step are never empty."""
    steps = Counter(
        int(number)
        for path in (REPO_ROOT / "knowledge").glob("*.md")
        for number in re.findall(r"(?m)^step: *(\d+) *$", path.read_text(encoding="utf-8"))
    )
    assert len(set(JOURNEY_STEPS)) == len(JOURNEY_STEPS) == 10
    assert set(steps) == set(range(1, len(JOURNEY_STEPS) + 1)), steps


@shared
def test_journey_steps(store: SessionStore) -> None:
    mentee = store.save_mentee(MenteeProfile(name="Tomas"))
    assert store.journey(mentee) == {n: False for n in range(1, 11)}
    store.set_step(mentee, 3, True)
    store.set_step(mentee, 10, True)
    store.set_step(mentee, 3, False)
    store.set_step(mentee, 1, True)
    assert store.journey(mentee) == {n: n in (1, 10) for n in range(1, 11)}
    assert count_rows(store, "journey", "mentee_id", mentee) == 3  # one row per step, updated in place
    for bad in (0, 11, -1):
        with pytest.raises(ValueError, match="steps are numbered 1 to 10"):
            store.set_step(mentee, bad, True)
    assert store.journey("missing") == {}


@shared
def test_reflections_newest_first(store: SessionStore) -> None:
    mentee = store.save_mentee(MenteeProfile(name="Ada"))
    for note in ("Set goals together", "Ada asked for more stretch", "Celebrated the promotion"):
        store.add_reflection(mentee, note)
    found = store.reflections(mentee)
    assert [r.text for r in found] == ["Celebrated the promotion", "Ada asked for more stretch", "Set goals together"]
    assert found[0].created_at > found[1].created_at > found[2].created_at
    assert all(r.mentee_id == mentee for r in found)
    with pytest.raises(ValueError, match="reflection is empty"):
        store.add_reflection(mentee, "  ")
    with pytest.raises(NotFound):
        store.add_reflection("missing", "text")


@shared
def test_validation_errors(store: SessionStore) -> None:
    sid = store.create_session()
    for blank in ("", "   ", "\n\t"):
        with pytest.raises(ValueError, match="question is empty"):
            add(store, sid, blank)
    with pytest.raises(ValueError, match="JSON"):
        add(store, sid, "Question", sources=[{"n": 1, "title": object()}])
    with pytest.raises(ValueError, match="owner is empty"):
        store.create_session(owner=" ")
    with pytest.raises(NotFound):
        store.create_session(mentee_id="missing")
    assert store.history(sid) == []
    assert _record(store, sid).title == DEFAULT_TITLE


# --- concurrency, crashes, broken storage ---------------------------------------------------------


def run_threads(count: int, work: Callable[[int], object]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def runner(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as exc:  # collected and asserted on in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@shared
def test_threads_write_concurrently(store: SessionStore) -> None:
    session_ids = [store.create_session(title=f"thread {n}") for n in range(8)]

    def work(n: int) -> None:
        for i in range(20):
            question = f"t{n} q{i}"
            add(store, session_ids[n], question, f"answer [{question}]")

    assert run_threads(8, work) == []
    assert sum(s.turns for s in store.list_sessions()) == 8 * 20 * 2
    for n, sid in enumerate(session_ids):
        turns = store.history(sid)
        assert assert_whole_exchanges(turns, prefix=f"t{n} ") == 20
        assert [t.content for t in turns[::2]] == [f"t{n} q{i}" for i in range(20)]


@shared
def test_two_stores_write_the_same_conversation_concurrently(db_url: str) -> None:
    """Two app workers (two SessionStore instances), three threads each, all on one conversation."""
    workers = [SessionStore(db_url), SessionStore(db_url)]
    try:
        sid = workers[0].create_session(title="shared")
        own = [workers[0].create_session(title="worker 0"), workers[1].create_session(title="worker 1")]

        def work(n: int) -> None:
            store = workers[n % 2]
            for i in range(10):
                question = f"w{n % 2} t{n} q{i}"
                add(store, sid, question, f"answer [{question}]")
                add(store, own[n % 2], question, f"answer [{question}]")

        assert run_threads(6, work) == []
        views = [w.history(sid) for w in workers]
        assert views[0] == views[1]
        assert assert_whole_exchanges(views[0], prefix="w") == 60
        assert len({t.content for t in views[0][::2]}) == 60
        for n, mine in enumerate(own):
            for store in workers:  # each worker sees what the other one wrote
                assert assert_whole_exchanges(store.history(mine), prefix=f"w{n} ") == 30
    finally:
        for w in workers:
            w.close()


@shared
def test_read_only_database_raises_storage_error(store: SessionStore, readonly_url: str) -> None:
    sid = store.create_session(title="Before the disk went read-only")
    add(store, sid, "Stored while writable")
    reader = SessionStore(readonly_url)
    try:
        assert [t.content for t in reader.history(sid)] == ["Stored while writable", "An answer."]
        for write in (
            lambda: add(reader, sid, "Cannot be stored"),
            lambda: reader.create_session(),
            lambda: reader.rename_session(sid, "New name"),
        ):
            with pytest.raises(StorageError) as caught:
                write()
            message = str(caught.value)
            assert "read-only" in message
            assert store.location.split("?")[0] in message  # names the database
            assert "Traceback" not in message
    finally:
        reader.close()
    assert len(store.history(sid)) == 2 and _record(store, sid).title == "Before the disk went read-only"


CHILD_WRITES_FOREVER = """
import sys
from assistant.sessions import SessionStore
store = SessionStore(sys.argv[1])
sid = store.create_session(owner="crash")
print(sid, flush=True)
n = 0
while True:
    question = f"q{n}"
    # A long answer keeps each transaction busy, so the kill likely lands in the middle of one.
    store.add_exchange(sid, question, "words " * 20000 + f"[{question}]", mode="chat", backend="offline",
                       model="coach", prompt_version="chat@1", sources=[{"n": 1, "title": "T", "source": "s"}],
                       safety=None, owner="crash")
    n += 1
    print(n, flush=True)
"""


@shared
@pytest.mark.timeout(90)
def test_kill_9_never_leaves_half_an_exchange(db_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_WRITES_FOREVER, db_url],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        sid = child.stdout.readline().strip()
        written = 0
        while written < 15:
            line = child.stdout.readline()
            assert line, f"writer died early: {child.stderr.read()}"
            written = int(line)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    reopened = SessionStore(db_url)
    try:
        turns = reopened.history(sid, owner="crash")
        exchanges = assert_whole_exchanges(turns, prefix="q")
        assert exchanges >= written
        assert [t.content for t in turns[::2]] == [f"q{n}" for n in range(exchanges)]
        add(reopened, sid, "after the crash", owner="crash")
        if reopened.engine.dialect.name == "sqlite":
            with reopened.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        reopened.close()


# --- SQLite specifics -----------------------------------------------------------------------------


def test_sqlite_runs_in_wal_mode_with_safe_pragmas(store: SessionStore, db_url: str) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "turns", "ratings", "mentees", "journey", "reflections"} <= tables


def test_sqlite_file_is_created_in_missing_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "mentor.db"
    store = SessionStore(f"sqlite:///{path}")
    try:
        store.create_session()
        assert path.is_file()
        assert store.location == str(path)
    finally:
        store.close()


def test_unusable_database_folder_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(StorageError, match=r"Cannot create the folder for the database .*not-a-folder"):
        SessionStore(f"sqlite:///{blocker / 'mentor.db'}")


def test_invalid_url_gives_a_clear_error() -> None:
    with pytest.raises(StorageError, match="not valid"):
        SessionStore("not a url at all")


def test_in_memory_database_works_from_threads() -> None:
    store = SessionStore("sqlite://")
    try:
        ids = [store.create_session() for _ in range(4)]
        assert run_threads(4, lambda n: [add(store, ids[n], f"m{n} q{i}", f"a [m{n} q{i}]") for i in range(5)]) == []
        assert all(assert_whole_exchanges(store.history(sid)) == 5 for sid in ids)
    finally:
        store.close()


CHILD_FILLS_DISK = """
import json, os, resource, signal, sys
from assistant.sessions import SessionStore, StorageError
store = SessionStore(sys.argv[1])
sid = store.create_session()
# No file may grow past ~250 kB: a write beyond that fails, as on a full disk, without needing a mount.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (250_000, 250_000))
stored = 0
try:
    for n in range(200):
        question = f"q{n}"
        store.add_exchange(sid, question, "x" * 20000 + f"[{question}]", mode="chat", backend="offline",
                           model="coach", prompt_version="chat@1", sources=[], safety=None)
        stored += 1
    print(json.dumps({"sid": sid, "stored": stored, "error": None}))
except StorageError as exc:
    print(json.dumps({"sid": sid, "stored": stored, "error": str(exc)}))
"""


def test_full_disk_gives_storage_error_and_keeps_whole_exchanges(db_url: str) -> None:
    done = run_child(CHILD_FILLS_DISK, db_url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    path = db_url.removeprefix("sqlite:///")
    assert result["error"] is not None, "the file-size limit never stopped a write"
    assert result["error"].startswith(f"Conversation database {path}:")
    assert "full" in result["error"] or "I/O error" in result["error"]
    assert result["stored"] >= 1
    store = SessionStore(db_url)
    try:
        assert assert_whole_exchanges(store.history(result["sid"]), prefix="q") == result["stored"]
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        store.close()
