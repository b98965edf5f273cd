"""A throwaway PostgreSQL server on loopback for tests, built from Debian's postgresql binaries.

`postgres_server()` runs initdb + pg_ctl in a temporary directory (as the `postgres` user when we are root,
because initdb refuses root), listens on 127.0.0.1 on a free port with trust auth, and removes everything at
the end. `fresh_database(server_url)` gives each test its own empty database on that server.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 30


def find_pg_bin() -> Path:
    """Newest installed server's bin dir; a missing server is a failed test, never a skip."""
    found = [Path(p) for p in glob.glob(PG_GLOB)]
    candidates = [p for p in found if (p / "initdb").exists() and (p / "pg_ctl").exists()]
    if not candidates:
        pytest.fail(
            f"PostgreSQL server binaries (initdb, pg_ctl) not found in {PG_GLOB}. "
            "Run `make test` (it installs Debian's postgresql) or `apt-get install postgresql`.",
            pytrace=False,
        )
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; Debian's package provides the `postgres` account.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], cwd: Path, what: str, log: Path | None = None) -> None:
    done = subprocess.run(_as_server_user(cmd), cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        pytest.fail(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}\n{detail}", pytrace=False)


def _wait_ready(url: str) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields `postgresql+psycopg://postgres@127.0.0.1:PORT/postgres` for a private, running server."""
    bin_dir = find_pg_bin()
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="mentor-pg-"))
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = _free_port()
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            root,
            "initdb",
        )
        # Durability settings are off: the server is thrown away, and the tests kill clients, not the server.
        options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
            ],
            root,
            "pg_ctl start",
            log,
        )
        started = True
        _wait_ready(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                cwd=root,
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """An empty database on the server for one test; dropped afterwards even if connections linger."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
