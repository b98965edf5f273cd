"""Conversations, ratings, mentee profiles and the mentoring journey, stored in a real database.

SQLite (WAL) by default, any SQLAlchemy URL (PostgreSQL for a shared deployment) otherwise. Every write runs in
its own transaction, so a killed process never leaves half an exchange behind. Callers only ever see frozen
dataclasses; ORM rows and database sessions stay inside this module.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from assistant.errors import InputError, NotFoundError
from assistant.errors import StorageError as StorageError  # re-exported for older callers
from assistant.types import MenteeProfile as MenteeProfile  # re-exported: defined with the other shared records

DEFAULT_TITLE = "New conversation"
DEFAULT_OWNER = "local"
TITLE_CHARS = 60
MENTEE_NAME_CHARS = 120  # a first name or a nickname, with room to spare
MENTEE_FIELD_CHARS = 4000  # goals, preferences, notes; a reflection too (the length of a chat message)
FALLBACK_CHARS = 1000
BUSY_TIMEOUT_S = 30
EXPERIENCE_LEVELS: tuple[str, ...] = ("new", "early-career", "mid-career", "senior", "")
JOURNEY_STEPS: tuple[str, ...] = (
    "Reflect on your experiences",
    "Set clear goals",
    "Seek opportunities",
    "Build trust and rapport",
    "Tailor your approach",
    "Share knowledge and insights",
    "Provide constructive feedback",
    "Foster networking opportunities",
    "Demonstrate continued support",
    "Reflect and evolve",
)
# Any constant works: it only has to be the same in every worker that creates the schema.
_SCHEMA_LOCK_KEY = 0x6D656E746F72


class NotFound(NotFoundError):
    """A session, turn or mentee that does not exist, or belongs to another owner."""


# --- records handed to callers ------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRecord:
    id: str
    title: str
    owner: str
    mentee_id: str | None
    created_at: datetime
    updated_at: datetime
    turns: int


@dataclass(frozen=True)
class TurnRecord:
    id: int
    session_id: str
    idx: int
    role: str
    content: str
    mode: str
    backend: str
    model: str
    prompt_version: str
    sources: list[dict[str, Any]]
    safety: dict[str, Any] | None
    complete: bool
    created_at: datetime
    # Why the configured language model did not answer this turn (the offline coach did); None when it did.
    fallback: str | None = None


@dataclass(frozen=True)
class RatingRecord:
    turn_id: int
    value: int
    comment: str
    created_at: datetime


@dataclass(frozen=True)
class ReflectionRecord:
    id: int
    mentee_id: str
    text: str
    created_at: datetime


_PROFILE_FIELDS = (
    "name",
    "experience_level",
    "goals",
    "learning_preferences",
    "communication_preferences",
    "cultural_notes",
    "notes",
)


# --- schema -------------------------------------------------------------------------------------


class StoredText(TypeDecorator[str]):
    """Text as every database can keep it: PostgreSQL refuses a NUL character (and with it the whole exchange), so
    NUL is stored as U+FFFD on every database, and a conversation reads back the same on SQLite and PostgreSQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value.replace("\x00", "\ufffd") if value is not None else None


class Base(DeclarativeBase):
    pass


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(StoredText)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    mentee_id: Mapped[str | None] = mapped_column(ForeignKey("mentees.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TurnRow(Base):
    __tablename__ = "turns"
    # AUTOINCREMENT: a deleted turn's id is never handed out again, so a stale id cannot rate someone else's turn.
    __table_args__ = (
        UniqueConstraint("session_id", "idx"),
        CheckConstraint("role IN ('user', 'assistant')", name="turn_role"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(StoredText)
    mode: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    prompt_version: Mapped[str] = mapped_column(String(255))
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    safety: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    complete: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fallback: Mapped[str | None] = mapped_column(StoredText, nullable=True)  # added after 0.x: see _ADDED_COLUMNS


# Columns added to existing tables after their first release: a database made before gets them at startup.
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (("turns", "fallback", "TEXT"),)


class RatingRow(Base):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("value IN (-1, 1)", name="rating_value"),)

    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(StoredText)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MenteeRow(Base):
    __tablename__ = "mentees"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(StoredText)
    experience_level: Mapped[str] = mapped_column(String(32))
    goals: Mapped[str] = mapped_column(StoredText)
    learning_preferences: Mapped[str] = mapped_column(StoredText)
    communication_preferences: Mapped[str] = mapped_column(StoredText)
    cultural_notes: Mapped[str] = mapped_column(StoredText)
    notes: Mapped[str] = mapped_column(StoredText)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JourneyRow(Base):
    __tablename__ = "journey"
    __table_args__ = (
        UniqueConstraint("mentee_id", "step"),
        CheckConstraint("step BETWEEN 1 AND 10", name="journey_step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentee_id: Mapped[str] = mapped_column(ForeignKey("mentees.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReflectionRow(Base):
    __tablename__ = "reflections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentee_id: Mapped[str] = mapped_column(ForeignKey("mentees.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(StoredText)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- helpers ------------------------------------------------------------------------------------


class _Clock:
    """UTC timestamps that never repeat within a process, so "newest first" is a strict order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = datetime.min.replace(tzinfo=UTC)

    def now(self) -> datetime:
        with self._lock:
            now = datetime.now(UTC)
            if now <= self._last:
                now = self._last + timedelta(microseconds=1)
            self._last = now
            return now


_clock = _Clock()


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes, PostgreSQL the server's zone; everything we store is UTC.
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _title_from(question: str) -> str:
    flat = " ".join(question.split())
    if len(flat) <= TITLE_CHARS:
        return flat
    cut = flat[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:!?-") + "…"


def _check_owner(owner: str) -> None:
    if not owner or not owner.strip():
        raise InputError("The owner is empty: every conversation and mentee belongs to a user.")


def _check_json(sources: list[dict[str, Any]], safety: dict[str, Any] | None) -> list[dict[str, Any]]:
    copied = [dict(s) for s in sources]
    try:
        json.dumps(copied)
        json.dumps(safety)
    except (TypeError, ValueError) as exc:
        raise InputError(f"Sources and safety must be plain JSON (strings, numbers, lists, dicts): {exc}") from exc
    return copied


def _check_fallback(fallback: str | None) -> str | None:
    if fallback is None or not fallback.strip():
        return None
    if len(fallback) > FALLBACK_CHARS:  # an error message, not a document; a runaway one is cut, not refused
        return fallback[: FALLBACK_CHARS - 1].rstrip() + "…"
    return fallback.strip()


def _missing_columns(conn: Connection) -> list[tuple[str, str, str]]:
    """Added columns that an existing table lacks (none for a table about to be created with all of them)."""
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    return [
        (table, column, kind)
        for table, column, kind in _ADDED_COLUMNS
        if table in tables and column not in {c["name"] for c in inspector.get_columns(table)}
    ]


def _turn_record(row: TurnRow) -> TurnRecord:
    return TurnRecord(
        id=row.id,
        session_id=row.session_id,
        idx=row.idx,
        role=row.role,
        content=row.content,
        mode=row.mode,
        backend=row.backend,
        model=row.model,
        prompt_version=row.prompt_version,
        sources=list(row.sources or []),
        safety=row.safety,
        complete=row.complete,
        created_at=_utc(row.created_at),
        fallback=row.fallback,
    )


def _session_record(row: SessionRow, turns: int) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        title=row.title,
        owner=row.owner,
        mentee_id=row.mentee_id,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        turns=turns,
    )


def _profile(row: MenteeRow) -> MenteeProfile:
    return MenteeProfile(id=row.id, **{name: getattr(row, name) for name in _PROFILE_FIELDS})


def _validate_profile(profile: MenteeProfile) -> None:
    if not profile.name or not profile.name.strip():
        raise InputError("The mentee's name is empty: give at least a first name or a nickname.")
    for field in _PROFILE_FIELDS:
        limit = MENTEE_NAME_CHARS if field == "name" else MENTEE_FIELD_CHARS
        _check_length(f"The mentee's {field.replace('_', ' ')}", getattr(profile, field) or "", limit)
    if profile.experience_level not in EXPERIENCE_LEVELS:
        allowed = ", ".join(repr(level) for level in EXPERIENCE_LEVELS)
        raise InputError(f"Unknown experience level {profile.experience_level!r}; use one of {allowed}.")


def _check_length(what: str, value: str, limit: int) -> None:
    if len(value.strip()) > limit:
        raise InputError(f"{what} is {len(value.strip()):,} characters; the limit is {limit:,}. Shorten it.")


def _check_step(step: int) -> None:
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= len(JOURNEY_STEPS):
        raise InputError(f"Journey step {step!r} does not exist; steps are numbered 1 to {len(JOURNEY_STEPS)}.")


def _sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):
        database = database[len("file:") :]
    return Path(database).expanduser().resolve()


def _explain(exc: DBAPIError) -> str:
    """Say in plain words what went wrong; the driver's message is only the last resort."""
    message = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    lowered = message.lower()
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if "readonly" in lowered or "read-only" in lowered or sqlstate == "25006":
        return "it is read-only, so nothing can be saved (check the file and folder permissions or the server's setup)"
    if "disk is full" in lowered or "disk full" in lowered or sqlstate == "53100":
        return "the disk is full; free some space and try again"
    if "database is locked" in lowered:
        return f"another process kept it locked for more than {BUSY_TIMEOUT_S} seconds; try again"
    if "unable to open database file" in lowered:
        return "the file cannot be opened (check that its folder exists and is writable)"
    if "disk i/o error" in lowered:
        return "the disk reported an I/O error (it may be full, removed or failing)"
    return f"the database reported: {message}"


# --- the store ----------------------------------------------------------------------------------


class SessionStore:
    """Thread-safe storage for conversations and mentee data; one instance per process is enough."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StorageError(f"The database URL {url!r} is not valid: {exc}") from exc
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self._path = _sqlite_path(parsed) if self._sqlite else None
        self._where = str(self._path) if self._path else parsed.render_as_string(hide_password=True)
        # One in-memory connection is shared by every thread, so its transactions must take turns.
        in_memory = self._sqlite and self._path is None
        self._serial: AbstractContextManager[Any] = threading.RLock() if in_memory else nullcontext()
        self._engine = self._create_engine(parsed)
        # Writes on SQLite begin IMMEDIATE: they queue on the busy timeout instead of failing on lock upgrade.
        writer = self._engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(self._engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(writer, expire_on_commit=False)
        try:
            self._create_schema(writer)
        except DBAPIError as exc:
            self._engine.dispose()
            raise self._error(exc) from exc

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for health checks and tests; data access goes through the methods)."""
        return self._engine

    @property
    def location(self) -> str:
        """The database file, or the URL without its password."""
        return self._where

    def close(self) -> None:
        self._engine.dispose()

    # --- engine and transactions ----------------------------------------------------------------

    def _create_engine(self, url: URL) -> Engine:
        if self._path is not None and url.query.get("mode") != "ro":
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"Cannot create the folder for the database {self._where}: {exc.strerror}.") from exc
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if self._sqlite:
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
            if self._path is None:
                kwargs["poolclass"] = StaticPool
        try:
            engine = create_engine(url, **kwargs)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StorageError(f"Cannot use the database {self._where}: {exc}.") from exc
        if self._sqlite:
            event.listen(engine, "connect", _configure_sqlite)
            event.listen(engine, "begin", _begin_sqlite)
        return engine

    def _create_schema(self, writer: Engine) -> None:
        with self._serial:
            with self._engine.connect() as conn:
                missing = set(Base.metadata.tables) - set(inspect(conn).get_table_names())
                columns = _missing_columns(conn)
            if not missing and not columns:
                return  # a read-only database with the schema in place is still readable
            with writer.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # Several app workers may start at once; only one creates the tables or adds the columns.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
                Base.metadata.create_all(conn)
                for table, column, kind in _missing_columns(conn):  # read again: another worker may have added them
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))

    def _error(self, exc: DBAPIError) -> StorageError:
        return StorageError(f"Conversation database {self._where}: {_explain(exc)}.")

    @contextmanager
    def _tx(self, write: bool) -> Iterator[Session]:
        factory = self._write_sessions if write else self._read
        try:
            with self._serial, factory.begin() as session:
                yield session
        except DBAPIError as exc:
            raise self._error(exc) from exc

    def _session_row(self, s: Session, session_id: str, owner: str, lock: bool = False) -> SessionRow:
        query = select(SessionRow).where(SessionRow.id == session_id, SessionRow.owner == owner)
        row = s.scalars(query.with_for_update() if lock else query).one_or_none()
        if row is None:
            raise NotFound(f"Conversation {session_id!r} was not found (it was deleted or belongs to another user).")
        return row

    def _mentee_row(self, s: Session, mentee_id: str, owner: str, lock: bool = False) -> MenteeRow:
        query = select(MenteeRow).where(MenteeRow.id == mentee_id, MenteeRow.owner == owner)
        row = s.scalars(query.with_for_update() if lock else query).one_or_none()
        if row is None:
            raise NotFound(f"Mentee {mentee_id!r} was not found (it was deleted or belongs to another user).")
        return row

    # --- sessions ---------------------------------------------------------------------------------

    def create_session(
        self, title: str = DEFAULT_TITLE, owner: str = DEFAULT_OWNER, mentee_id: str | None = None
    ) -> str:
        _check_owner(owner)
        session_id = uuid.uuid4().hex
        now = _clock.now()
        with self._tx(write=True) as s:
            if mentee_id is not None:
                self._mentee_row(s, mentee_id, owner)
            s.add(
                SessionRow(
                    id=session_id,
                    title=title.strip() or DEFAULT_TITLE,
                    owner=owner,
                    mentee_id=mentee_id,
                    created_at=now,
                    updated_at=now,
                )
            )
        return session_id

    def add_exchange(
        self,
        session_id: str,
        question: str,
        answer: str,
        *,
        mode: str,
        backend: str,
        model: str,
        prompt_version: str,
        sources: list[dict[str, Any]],
        safety: dict[str, Any] | None,
        complete: bool = True,
        owner: str = DEFAULT_OWNER,
        fallback: str | None = None,
    ) -> tuple[int, int]:
        """Store a question and its answer together, or neither; returns (user_turn_id, assistant_turn_id).
        `fallback` says why the language model did not answer (the offline coach did); it goes on the answer."""
        if not question or not question.strip():
            raise InputError("The question is empty: there is nothing to store.")
        sources = _check_json(sources, safety)
        fallback = _check_fallback(fallback)
        with self._tx(write=True) as s:
            # The row lock serialises writers of one conversation (PostgreSQL), so turn numbers never collide.
            row = self._session_row(s, session_id, owner, lock=True)
            last = s.scalar(select(func.max(TurnRow.idx)).where(TurnRow.session_id == session_id))
            idx = 0 if last is None else last + 1
            now = _clock.now()
            common = {
                "session_id": session_id,
                "mode": mode,
                "backend": backend,
                "model": model,
                "prompt_version": prompt_version,
                "safety": safety,
                "created_at": now,
            }
            user = TurnRow(idx=idx, role="user", content=question, sources=[], complete=True, **common)
            reply = TurnRow(
                idx=idx + 1,
                role="assistant",
                content=answer,
                sources=sources,
                complete=complete,
                fallback=fallback,
                **common,
            )
            s.add(user)
            s.flush()
            s.add(reply)
            s.flush()
            if idx == 0 and row.title.strip() in ("", DEFAULT_TITLE):
                row.title = _title_from(question)
            row.updated_at = now
            return user.id, reply.id

    def history(self, session_id: str, owner: str = DEFAULT_OWNER) -> list[TurnRecord]:
        with self._tx(write=False) as s:
            rows = s.scalars(
                select(TurnRow)
                .join(SessionRow, SessionRow.id == TurnRow.session_id)
                .where(TurnRow.session_id == session_id, SessionRow.owner == owner)
                .order_by(TurnRow.idx)
            ).all()
            return [_turn_record(r) for r in rows]

    def _sessions_query(self, owner: str) -> Select[SessionRow, int]:  # 2.1 types a select by its columns
        return (
            select(SessionRow, func.count(TurnRow.id))
            .outerjoin(TurnRow, TurnRow.session_id == SessionRow.id)
            .where(SessionRow.owner == owner)
            .group_by(SessionRow.id)
        )

    def list_sessions(self, owner: str = DEFAULT_OWNER, limit: int = 100) -> list[SessionRecord]:
        """Newest activity first."""
        if limit < 1:
            raise InputError(f"limit must be at least 1, not {limit}.")
        query = self._sessions_query(owner).order_by(SessionRow.updated_at.desc(), SessionRow.created_at.desc())
        with self._tx(write=False) as s:
            return [_session_record(row, count) for row, count in s.execute(query.limit(limit)).all()]

    def search_sessions(self, words: str, owner: str = DEFAULT_OWNER, limit: int = 100) -> list[SessionRecord]:
        """Conversations whose title contains `words` (any case), newest activity first; all of them for no words."""
        needle = " ".join((words or "").split()).lower()
        if not needle:
            return self.list_sessions(owner, limit)
        if limit < 1:
            raise InputError(f"limit must be at least 1, not {limit}.")
        query = (
            self._sessions_query(owner)
            .where(func.lower(SessionRow.title).contains(needle, autoescape=True))
            .order_by(SessionRow.updated_at.desc(), SessionRow.created_at.desc())
        )
        with self._tx(write=False) as s:
            return [_session_record(row, count) for row, count in s.execute(query.limit(limit)).all()]

    def drop_exchanges_from(self, session_id: str, answer_turn_id: int, owner: str = DEFAULT_OWNER) -> str:
        """Delete the exchange whose answer is `answer_turn_id` and every turn after it, with their ratings, so an
        answer can be asked again (regenerate) or its question changed (edit and resend). Returns that question."""
        with self._tx(write=True) as s:
            row = self._session_row(s, session_id, owner, lock=True)
            answer = s.get(TurnRow, answer_turn_id)
            if answer is None or answer.session_id != session_id or answer.role != "assistant":
                raise NotFound(f"Answer {answer_turn_id} is not in conversation {session_id!r}.")
            first = answer.idx - 1
            question = s.scalar(select(TurnRow).where(TurnRow.session_id == session_id, TurnRow.idx == first))
            text = question.content if question is not None else ""
            dropped = select(TurnRow.id).where(TurnRow.session_id == session_id, TurnRow.idx >= first)
            s.execute(delete(RatingRow).where(RatingRow.turn_id.in_(dropped)))
            s.execute(delete(TurnRow).where(TurnRow.session_id == session_id, TurnRow.idx >= first))
            # A title the first question gave is given again by the next first question.
            if first == 0 and row.title == _title_from(text):
                row.title = DEFAULT_TITLE
            row.updated_at = _clock.now()
            return text

    def has_session(self, session_id: str, owner: str = DEFAULT_OWNER) -> bool:
        """Whether the conversation exists and is this owner's; cheaper than `get_session` (no turn count)."""
        query = select(SessionRow.id).where(SessionRow.id == session_id, SessionRow.owner == owner)
        with self._tx(write=False) as s:
            return s.scalar(query) is not None

    def get_session(self, session_id: str, owner: str = DEFAULT_OWNER) -> SessionRecord | None:
        with self._tx(write=False) as s:
            found = s.execute(self._sessions_query(owner).where(SessionRow.id == session_id)).one_or_none()
            return _session_record(found[0], found[1]) if found else None

    def rename_session(self, session_id: str, title: str, owner: str = DEFAULT_OWNER) -> None:
        if not title or not title.strip():
            raise InputError("The new title is empty: type a title for the conversation.")
        with self._tx(write=True) as s:
            row = self._session_row(s, session_id, owner, lock=True)
            row.title = " ".join(title.split())
            row.updated_at = _clock.now()

    def delete_session(self, session_id: str, owner: str = DEFAULT_OWNER) -> None:
        with self._tx(write=True) as s:
            self._session_row(s, session_id, owner, lock=True)
            turn_ids = select(TurnRow.id).where(TurnRow.session_id == session_id)
            # Explicit deletes: correct even on a connection where foreign-key cascades are off.
            s.execute(delete(RatingRow).where(RatingRow.turn_id.in_(turn_ids)))
            s.execute(delete(TurnRow).where(TurnRow.session_id == session_id))
            s.execute(delete(SessionRow).where(SessionRow.id == session_id))

    def export_markdown(self, session_id: str, owner: str = DEFAULT_OWNER) -> str:
        """The conversation as readable Markdown; raises NotFound for an unknown or foreign session."""
        session = self.get_session(session_id, owner)
        if session is None:
            raise NotFound(f"Conversation {session_id!r} was not found (it was deleted or belongs to another user).")
        mentee = self.get_mentee(session.mentee_id, owner) if session.mentee_id else None
        return _markdown(session, self.history(session_id, owner), mentee)

    def export_json(self, session_id: str, owner: str = DEFAULT_OWNER) -> dict[str, Any]:
        """The conversation as a JSON-ready dict: every turn with how it was answered (backend, model, fallback,
        sources, safety) and its rating; raises NotFound for an unknown or foreign session."""
        session = self.get_session(session_id, owner)
        if session is None:
            raise NotFound(f"Conversation {session_id!r} was not found (it was deleted or belongs to another user).")
        mentee = self.get_mentee(session.mentee_id, owner) if session.mentee_id else None
        ratings = self.ratings(session_id, owner)
        return {
            "id": session.id,
            "title": session.title,
            "created_at": session.created_at.isoformat(),
            "updated_at": session.updated_at.isoformat(),
            "mentee": {"id": mentee.id, "name": mentee.name} if mentee else None,
            "turns": [_turn_json(t, ratings.get(t.id)) for t in self.history(session_id, owner)],
        }

    # --- ratings ----------------------------------------------------------------------------------

    def rate(self, turn_id: int, value: int, comment: str = "", owner: str = DEFAULT_OWNER) -> None:
        """Thumbs up (+1) or down (-1) on an answer; a second rating replaces the first."""
        if isinstance(value, bool) or value not in (1, -1):
            raise InputError(f"A rating is +1 (helpful) or -1 (not helpful), not {value!r}.")
        with self._tx(write=True) as s:
            turn = s.scalars(
                select(TurnRow)
                .join(SessionRow, SessionRow.id == TurnRow.session_id)
                .where(TurnRow.id == turn_id, SessionRow.owner == owner)
                .with_for_update(of=TurnRow)
            ).one_or_none()
            if turn is None:
                raise NotFound(f"Turn {turn_id} was not found (it was deleted or belongs to another user).")
            if turn.role != "assistant":
                raise InputError(f"Turn {turn_id} is a question; only answers can be rated.")
            rating = s.get(RatingRow, turn_id)
            if rating is None:
                rating = RatingRow(turn_id=turn_id)
                s.add(rating)
            rating.value, rating.comment, rating.created_at = value, comment, _clock.now()

    def ratings(self, session_id: str, owner: str = DEFAULT_OWNER) -> dict[int, RatingRecord]:
        with self._tx(write=False) as s:
            rows = s.scalars(
                select(RatingRow)
                .join(TurnRow, TurnRow.id == RatingRow.turn_id)
                .join(SessionRow, SessionRow.id == TurnRow.session_id)
                .where(TurnRow.session_id == session_id, SessionRow.owner == owner)
            ).all()
            return {r.turn_id: RatingRecord(r.turn_id, r.value, r.comment, _utc(r.created_at)) for r in rows}

    # --- mentees ----------------------------------------------------------------------------------

    def save_mentee(self, profile: MenteeProfile, owner: str = DEFAULT_OWNER) -> str:
        """Create (profile.id is None) or update a mentee; returns the id."""
        _check_owner(owner)
        _validate_profile(profile)
        values = {name: getattr(profile, name) or "" for name in _PROFILE_FIELDS}
        values["name"] = values["name"].strip()
        now = _clock.now()
        with self._tx(write=True) as s:
            if profile.id is None:
                mentee_id = uuid.uuid4().hex
                s.add(MenteeRow(id=mentee_id, owner=owner, created_at=now, updated_at=now, **values))
                return mentee_id
            row = self._mentee_row(s, profile.id, owner, lock=True)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            return row.id

    def get_mentee(self, mentee_id: str, owner: str = DEFAULT_OWNER) -> MenteeProfile | None:
        with self._tx(write=False) as s:
            row = s.scalars(select(MenteeRow).where(MenteeRow.id == mentee_id, MenteeRow.owner == owner)).one_or_none()
            return _profile(row) if row else None

    def list_mentees(self, owner: str = DEFAULT_OWNER) -> list[MenteeProfile]:
        """Alphabetical by name."""
        with self._tx(write=False) as s:
            rows = s.scalars(
                select(MenteeRow).where(MenteeRow.owner == owner).order_by(func.lower(MenteeRow.name), MenteeRow.id)
            ).all()
            return [_profile(r) for r in rows]

    def delete_mentee(self, mentee_id: str, owner: str = DEFAULT_OWNER) -> None:
        """Removes the profile, journey and reflections; conversations stay but are no longer linked."""
        with self._tx(write=True) as s:
            self._mentee_row(s, mentee_id, owner, lock=True)
            s.execute(delete(JourneyRow).where(JourneyRow.mentee_id == mentee_id))
            s.execute(delete(ReflectionRow).where(ReflectionRow.mentee_id == mentee_id))
            s.execute(update(SessionRow).where(SessionRow.mentee_id == mentee_id).values(mentee_id=None))
            s.execute(delete(MenteeRow).where(MenteeRow.id == mentee_id))

    def export_mentee(self, mentee_id: str, owner: str = DEFAULT_OWNER) -> dict[str, Any]:
        """Everything stored about a mentee as a JSON-ready dict; raises NotFound if there is no such mentee."""
        with self._tx(write=False) as s:
            row = self._mentee_row(s, mentee_id, owner)
            steps = {j.step: j for j in s.scalars(select(JourneyRow).where(JourneyRow.mentee_id == mentee_id))}
            notes = s.scalars(
                select(ReflectionRow)
                .where(ReflectionRow.mentee_id == mentee_id)
                .order_by(ReflectionRow.created_at.desc(), ReflectionRow.id.desc())
            ).all()
            linked = s.scalars(
                select(SessionRow)
                .where(SessionRow.mentee_id == mentee_id, SessionRow.owner == owner)
                .order_by(SessionRow.created_at)
            ).all()
            profile = asdict(_profile(row))
            profile.update(created_at=_utc(row.created_at).isoformat(), updated_at=_utc(row.updated_at).isoformat())
            return {
                "profile": profile,
                "journey": [_journey_entry(n, steps.get(n)) for n in range(1, len(JOURNEY_STEPS) + 1)],
                "reflections": [
                    {"id": r.id, "text": r.text, "created_at": _utc(r.created_at).isoformat()} for r in notes
                ],
                "sessions": [
                    {"id": x.id, "title": x.title, "created_at": _utc(x.created_at).isoformat()} for x in linked
                ],
            }

    # --- journey and reflections ------------------------------------------------------------------

    def set_step(self, mentee_id: str, step: int, done: bool, owner: str = DEFAULT_OWNER) -> None:
        _check_step(step)
        with self._tx(write=True) as s:
            # Locking the mentee serialises concurrent ticks of the same checklist (no duplicate insert).
            self._mentee_row(s, mentee_id, owner, lock=True)
            row = s.scalars(
                select(JourneyRow).where(JourneyRow.mentee_id == mentee_id, JourneyRow.step == step)
            ).one_or_none()
            if row is None:
                row = JourneyRow(mentee_id=mentee_id, step=step)
                s.add(row)
            row.done, row.updated_at = bool(done), _clock.now()

    def journey(self, mentee_id: str, owner: str = DEFAULT_OWNER) -> dict[int, bool]:
        """All ten steps (1-10) with their done flag; {} for an unknown mentee."""
        with self._tx(write=False) as s:
            if s.scalar(select(MenteeRow.id).where(MenteeRow.id == mentee_id, MenteeRow.owner == owner)) is None:
                return {}
            done = dict(
                s.execute(select(JourneyRow.step, JourneyRow.done).where(JourneyRow.mentee_id == mentee_id))
                .tuples()
                .all()
            )
            return {n: bool(done.get(n, False)) for n in range(1, len(JOURNEY_STEPS) + 1)}

    def add_reflection(self, mentee_id: str, text: str, owner: str = DEFAULT_OWNER) -> None:
        if not text or not text.strip():
            raise InputError("The reflection is empty: write a few words before saving it.")
        _check_length("The reflection", text, MENTEE_FIELD_CHARS)
        with self._tx(write=True) as s:
            self._mentee_row(s, mentee_id, owner)
            s.add(ReflectionRow(mentee_id=mentee_id, text=text.strip(), created_at=_clock.now()))

    def reflections(self, mentee_id: str, owner: str = DEFAULT_OWNER) -> list[ReflectionRecord]:
        """Newest first."""
        with self._tx(write=False) as s:
            rows = s.scalars(
                select(ReflectionRow)
                .join(MenteeRow, MenteeRow.id == ReflectionRow.mentee_id)
                .where(ReflectionRow.mentee_id == mentee_id, MenteeRow.owner == owner)
                .order_by(ReflectionRow.created_at.desc(), ReflectionRow.id.desc())
            ).all()
            return [ReflectionRecord(r.id, r.mentee_id, r.text, _utc(r.created_at)) for r in rows]


# --- SQLite connection setup --------------------------------------------------------------------


def _configure_sqlite(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # SQLAlchemy emits BEGIN itself (see _begin_sqlite); the driver's implicit transactions would defeat that.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            # A read-only file keeps its journal mode; its writes then fail with a clear StorageError.
            if "readonly" not in str(exc):
                raise
        # NORMAL in WAL mode: a killed process loses nothing committed; only a power cut may lose the last commits.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}")


# --- export helpers -----------------------------------------------------------------------------


def _journey_entry(step: int, row: JourneyRow | None) -> dict[str, Any]:
    return {
        "step": step,
        "name": JOURNEY_STEPS[step - 1],
        "done": bool(row.done) if row else False,
        "updated_at": _utc(row.updated_at).isoformat() if row else None,
    }


def _turn_json(turn: TurnRecord, rating: RatingRecord | None) -> dict[str, Any]:
    entry = asdict(turn)
    entry["created_at"] = turn.created_at.isoformat()
    del entry["session_id"]  # the same for every turn: it is the export's own id
    if turn.role == "assistant":
        entry["rating"] = {"value": rating.value, "comment": rating.comment} if rating else None
    return entry


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _markdown(session: SessionRecord, turns: list[TurnRecord], mentee: MenteeProfile | None) -> str:
    exchanges = sum(1 for t in turns if t.role == "user")
    lines = [f"# {session.title}", "", f"Started {_stamp(session.created_at)} · {exchanges} exchange(s)"]
    if mentee is not None:
        lines.append(f"Mentee: {mentee.name}")
    lines += ["", "---"]
    for turn in turns:
        lines += ["", *_turn_markdown(turn)]
    return "\n".join(lines).rstrip() + "\n"


def _turn_markdown(turn: TurnRecord) -> list[str]:
    who = "You" if turn.role == "user" else "Mentor Assistant"
    lines = [f"## {who} · {turn.mode} · {_stamp(turn.created_at)}", "", turn.content.strip() or "*(no text)*"]
    if turn.role != "assistant":
        return lines
    if not turn.complete:
        lines += ["", "*This answer was interrupted before it finished.*"]
    if turn.fallback:
        lines += ["", f"*Fallback: {turn.fallback}*"]  # the reason names what answered instead
    if turn.sources:
        lines += ["", "**Sources**", ""]
        for n, src in enumerate(turn.sources, start=1):
            lines.append(f"- [{src.get('n', n)}] {src.get('title', 'Untitled')} — {src.get('source', '')}".rstrip(" —"))
    if turn.safety and turn.safety.get("category"):
        lines += ["", f"*Safety: handled as {turn.safety['category']}.*"]
    return lines
