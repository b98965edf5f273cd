"""The same SessionStore behaviours against a real PostgreSQL server on loopback (see tests/pg.py).

Every test registered with @shared in test_sessions.py runs here again; only the fixtures differ.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg import fresh_database, postgres_server
from test_sessions import SHARED

from assistant.sessions import SessionStore, StorageError

pytestmark = pytest.mark.server

# Collected by pytest as this module's own tests, so they use the PostgreSQL fixtures below.
globals().update({test.__name__: test for test in SHARED})


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def db_url(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url


@pytest.fixture
def readonly_url(db_url: str) -> str:
    # What a hot standby or a read-only role looks like to the app: every transaction refuses writes.
    return f"{db_url}?options=-c%20default_transaction_read_only%3Don"


@pytest.fixture
def store(db_url: str) -> Iterator[SessionStore]:
    s = SessionStore(db_url)
    yield s
    s.close()


def test_store_really_uses_postgresql(store: SessionStore) -> None:
    assert store.engine.dialect.name == "postgresql"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW server_version").scalar()
        tables = set(conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars())
    assert {"sessions", "turns", "ratings", "mentees", "journey", "reflections"} <= tables


def test_shared_tests_are_collected_here() -> None:
    assert len(SHARED) >= 20
    assert all(globals()[test.__name__] is test for test in SHARED)


def test_workers_starting_together_create_the_schema_once(db_url: str) -> None:
    import threading

    stores: list[SessionStore] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            stores.append(SessionStore(db_url))
        except BaseException as exc:  # asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == [] and len(stores) == 4
        sid = stores[0].create_session(title="from worker 0")
        assert all(getattr(s.get_session(sid), "title", None) == "from worker 0" for s in stores)
    finally:
        for s in stores:
            s.close()


def test_unreachable_server_gives_a_clear_error() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    with pytest.raises(StorageError, match=r"Conversation database postgresql\+psycopg://postgres@127.0.0.1:1/x: "):
        SessionStore("postgresql+psycopg://postgres@127.0.0.1:1/x")
