"""The smaller breaks of issue 20 (part 7), each against the real component where it broke.

- invalid UTF-8 in a CLI question: a traceback; now one line, exit code 2, nothing stored (the real CLI);
- escape sequences in stored titles and names: printed raw by `mentor sessions list`; now shown, not obeyed;
- under MENTOR_AUTH the CLI could not choose a user; now `--user`;
- an exported conversation stayed downloadable after the conversation was deleted (a real server, signed in);
- no limit on failed sign-ins, and a foreign `Origin` echoed with credentials (`mentor serve` in its own process).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import REPO, free_port, make_settings

from assistant.bench import load_script
from assistant.runtime import Runtime
from assistant.sessions import SessionStore

LOAD = load_script()  # bench/load.py: the environment and start-up wait of a `mentor serve` child
ESCAPES = "Review \x1b[31mred\x1b[0m \x1b]0;pwned\x07 done\x9b2J"
AUTH = "ann:ann-secret,bob:bob-secret"


def mentor(
    data_dir: Path, *args: str | bytes, stdin: bytes | None = None, auth: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = LOAD.server_env(data_dir)
    if auth:
        env["MENTOR_AUTH"] = auth
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=300,
        check=False,
    )


def store_of(data_dir: Path) -> SessionStore:
    return Runtime(make_settings(data_dir)).sessions


@pytest.fixture(scope="module")
def data_dir(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built index, so the conversations written here stay here."""
    copy = tmp_path_factory.mktemp("small") / "data"
    shutil.copytree(built_dir, copy)
    return copy


# --- 1. invalid UTF-8 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["argument", "stdin"])
def test_invalid_utf8_in_a_question_is_one_clear_line_exit_2_and_nothing_is_stored(data_dir: Path, how: str) -> None:
    before = [s.id for s in store_of(data_dir).list_sessions()]
    if how == "argument":
        done = mentor(data_dir, "ask", b"\xff\xfe how do I give feedback?")
    else:
        done = mentor(data_dir, "ask", "-", stdin=b"how do I give \xfe feedback?\n")
    errors = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, errors
    assert "Traceback" not in errors and errors.count("\n") == 1, errors
    assert "not valid UTF-8" in errors and ("0xff" in errors if how == "argument" else "0xfe" in errors), errors
    assert done.stdout == b""
    assert [s.id for s in store_of(data_dir).list_sessions()] == before  # nothing half-stored


# --- 2. escape sequences -------------------------------------------------------------------------------------
def test_stored_escape_sequences_are_shown_not_obeyed_by_cli_listings(data_dir: Path) -> None:
    from assistant.sessions import MenteeProfile

    store = store_of(data_dir)
    session = store.create_session(title=ESCAPES)
    store.save_mentee(MenteeProfile(name=ESCAPES))
    listed = mentor(data_dir, "sessions", "list").stdout.decode()
    mentees = mentor(data_dir, "mentee", "list").stdout.decode()
    exported = mentor(data_dir, "sessions", "export", session).stdout.decode()
    for out in (listed, mentees, exported):
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out, repr(out)
        assert "Review \\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07 done\\x9b2J" in out, repr(out)
    assert "\n" in exported and exported.count("\n") > 2  # newlines are kept


# --- 3. choosing a user under MENTOR_AUTH --------------------------------------------------------------------
def test_sessions_and_mentees_of_a_signed_in_user_are_reached_with_user(data_dir: Path) -> None:
    from assistant.sessions import MenteeProfile

    store = store_of(data_dir)
    anns = store.create_session(title="Ann's quarterly check-in", owner="ann")
    store.save_mentee(MenteeProfile(name="Priya for Ann"), owner="ann")

    plain = mentor(data_dir, "sessions", "list", auth=AUTH)
    assert "Ann's quarterly" not in plain.stdout.decode()
    assert "--user: ann, bob" in plain.stderr.decode(), plain.stderr
    as_ann = mentor(data_dir, "sessions", "list", "--user", "ann", auth=AUTH).stdout.decode()
    assert anns in as_ann and "Ann's quarterly check-in" in as_ann, as_ann
    as_bob = mentor(data_dir, "sessions", "list", "--user", "bob", auth=AUTH).stdout.decode()
    assert "Ann's quarterly" not in as_bob
    exported = mentor(data_dir, "sessions", "export", anns, "--user", "ann", auth=AUTH)
    assert exported.returncode == 0 and "Ann's quarterly check-in" in exported.stdout.decode()
    refused = mentor(data_dir, "sessions", "export", anns, "--user", "bob", auth=AUTH)
    assert refused.returncode == 2 and "was not found" in refused.stderr.decode()
    assert "Priya for Ann" in mentor(data_dir, "mentee", "list", "--user", "ann").stdout.decode()
    assert "Priya for Ann" not in mentor(data_dir, "mentee", "list").stdout.decode()
    for command in ("sessions", "mentee"):
        assert "--user NAME" in mentor(data_dir, command, "--help").stdout.decode()


# --- 4. exports of a deleted conversation --------------------------------------------------------------------
@pytest.fixture
def signed_in_server(data_dir: Path) -> Iterator[tuple[str, Runtime]]:
    from assistant.workspace import app as ui

    rt = Runtime(make_settings(data_dir, auth=AUTH))
    app = ui.with_queue(ui.build_app(rt, undo_seconds=0.5), rt.settings)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **ui.launch_options(rt.settings))
    yield f"http://127.0.0.1:{port}", rt
    app.close()


def signed_in(url: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    assert client.post("/login", data={"username": name, "password": password}).status_code == 200
    return client


def test_deleting_a_conversation_deletes_its_exports(signed_in_server: tuple[str, Runtime]) -> None:
    from assistant.workspace.sessions_tab import SessionsCallbacks

    url, rt = signed_in_server
    session = rt.sessions.create_session(title="Local conversation to export")
    other = rt.sessions.create_session(title="Local conversation kept")
    callbacks = SessionsCallbacks(rt, undo_seconds=0.5)  # the Sessions tab's own callbacks, on the same folders
    exported = Path(callbacks.export_session(session)["value"])
    kept = Path(callbacks.export_session(other)["value"])
    bob = signed_in(url, "bob", "bob-secret")
    assert "Local conversation to export" in bob.get(f"/gradio_api/file={exported}").text  # served, as in the issue

    callbacks.delete_session(session)
    time.sleep(2.0)  # the undo window (0.5 s) passes, then the conversation is deleted for good
    assert rt.sessions.get_session(session) is None
    assert not exported.exists() and not exported.parent.exists()
    assert bob.get(f"/gradio_api/file={exported}").status_code in (403, 404)
    assert kept.exists() and "Local conversation kept" in bob.get(f"/gradio_api/file={kept}").text


# --- 5 and 6. sign-in limit and cross-origin requests on `mentor serve` ------------------------------------------
@pytest.fixture(scope="module")
def served(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = LOAD.server_env(data_dir)
    env["MENTOR_AUTH"] = AUTH
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_answering(f"http://127.0.0.1:{port}", proc, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_until_answering(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Up once the login page answers (under MENTOR_AUTH, /config answers 401 and the load test's wait never ends)."""
    deadline = time.monotonic() + 600  # the loaded test machine can take minutes to load the models
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`mentor serve` exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/config", timeout=5).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"`mentor serve` did not start:\n{log_path.read_text()[-2000:]}")


def test_failed_sign_ins_are_limited_per_name(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as client:
        for _ in range(5):
            assert client.post("/login", data={"username": "ann", "password": "guess"}).status_code == 400
        refused = client.post("/login", data={"username": "ann", "password": "guess"})
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Even the right password waits out the minute: the limiter answers before any password is checked.
        assert client.post("/login", data={"username": "ann", "password": "ann-secret"}).status_code == 429
        # Another name from the same address is not locked out by ann's failures.
        assert client.post("/login", data={"username": "bob", "password": "bob-secret"}).status_code == 200


@pytest.mark.parametrize("path", ["/config", "/gradio_api/info", "/"])
def test_a_foreign_origin_gets_no_cors_headers_and_the_own_origin_does(served: str, path: str) -> None:
    # Reached by a public name (not localhost): Gradio's own check let any origin through in that case.
    host = {"Host": "mentor.example.org"}
    with httpx.Client(base_url=served, timeout=30) as client:
        foreign = client.get(path, headers=host | {"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers, dict(foreign.headers)
        preflight = client.options(
            path,
            headers=host | {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers, dict(preflight.headers)
        same = client.get(path, headers=host | {"Origin": "https://mentor.example.org"})
        assert same.headers.get("access-control-allow-origin") == "https://mentor.example.org"


def test_the_origin_rule_and_its_allow_list() -> None:
    from assistant.rendering.headers import allowed_origin

    assert allowed_origin("http://127.0.0.1:7860", "127.0.0.1:7860", "")
    assert not allowed_origin("http://127.0.0.1:7861", "127.0.0.1:7860", "")
    assert not allowed_origin("null", "127.0.0.1:7860", "")
    assert not allowed_origin("https://mentor.example.org.evil.example", "mentor.example.org", "")
    assert allowed_origin("https://intranet.example/", "mentor.example.org", "https://intranet.example")
    assert not allowed_origin("https://intranet.example.evil", "mentor.example.org", "https://intranet.example")
