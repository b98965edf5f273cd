"""Load test: the real app (`mentor serve`) in its own process on loopback, driven through `gradio_client` by
concurrent simulated users; afterwards the session store is checked turn by turn.

Run it alone with `python bench/load.py --users 1,10,50 --turns 3`, or as `mentor bench --load`.
Every request goes to 127.0.0.1 only; each level is bounded in turns (users x turns) and in time.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import os
import random
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
QUESTION_FILES = (REPO / "evals" / "datasets" / "retrieval.jsonl", REPO / "evals" / "datasets" / "answers.jsonl")
# Later passes over the question pool reword each question a little, so no turn repeats an earlier one
# and the server's memory of recent searches helps only as much as it would with real people.
LEAD_INS = ("", "Quick question before my one-on-one: ", "Asking for a colleague: ", "Still unsure about this: ")
HOST = "127.0.0.1"  # loopback only: a load test never targets another address
DEFAULT_USERS = (1, 10, 50)
DEFAULT_TURNS = 3
LEVEL_TIMEOUT_S = 240.0  # a whole level stops by itself after this, whatever is still pending
START_TIMEOUT_S = 120.0
TARGET_P95_S = 2.0
Progress = Callable[[str], None]


@dataclass
class TurnResult:
    user: int
    index: int
    question: str
    seconds: float
    ok: bool
    error: str = ""
    start: float = 0.0  # perf_counter when sent; the level's wall time runs from the first send to the last answer


# --- the server ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    """The child's environment: the offline default on a private data directory, nothing remote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTOR_", "OPENAI_"))}
    env.update({"MENTOR_DATA_DIR": str(data_dir), "MENTOR_LLM_BACKEND": "offline", "HF_HUB_OFFLINE": "1"})
    return env


def build_index(data_dir: Path) -> None:
    """`mentor ingest` in a child process, so this process never opens the embedded index itself."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ingest"],
        env=server_env(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        # The curated knowledge plus the situation matcher's training: about a minute on an idle 2-core machine,
        # over 300 s when the machine is shared (a fresh-clone run failed there).
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`mentor ingest` failed before the load test:\n{done.stderr[-2000:]}")


@contextlib.contextmanager
def running_app(data_dir: Path, log_path: Path) -> Iterator[str]:
    """`mentor serve` on a free loopback port; yields its URL and stops it afterwards."""
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--host", HOST, "--port", str(port)],
            env=server_env(data_dir),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://{HOST}:{port}/"
            wait_until_up(url, proc, log_path)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"The app exited with code {proc.returncode}:\n{log_path.read_text()[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "config", timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(
        f"The app did not answer at {url} within {START_TIMEOUT_S:.0f} s:\n{log_path.read_text()[-2000:]}"
    )


# --- the users -------------------------------------------------------------------------------------------
def load_questions() -> list[str]:
    """Every distinct question in the retrieval and answer datasets, in file order."""
    lines = [line for path in QUESTION_FILES for line in path.read_text().splitlines() if line.strip()]
    questions = [json.loads(line)["question"] for line in lines]
    return list(dict.fromkeys(questions))


def distinct_questions() -> Iterator[str]:
    """Questions that never repeat within a run: the pool, then the pool again with a lead-in each pass."""
    pool = load_questions()
    for n in itertools.count():
        lead = LEAD_INS[(n // len(pool)) % len(LEAD_INS)]
        again = f"(pass {n // len(pool) // len(LEAD_INS) + 1}) " if n >= len(pool) * len(LEAD_INS) else ""
        yield f"{again}{lead}{pool[n % len(pool)]}"


def endpoints(client: Any) -> dict[str, list[str]]:
    """Public endpoint name -> parameter names, as the app advertises them to API clients."""
    info = client.view_api(print_info=False, return_format="dict")
    named = {
        name: [p.get("parameter_name") or p.get("label", "") for p in spec["parameters"]]
        for name, spec in info["named_endpoints"].items()
    }
    if "/chat" not in named or not ("/new_session" in named or "session_id" in named["/chat"]):
        raise RuntimeError(
            "The load test needs the app's /chat endpoint with a session_id (and /new_session to open one), "
            f"so that every turn can be checked in the session store; the app offers {sorted(named)}."
        )
    return named


def answer_text(result: Any) -> str:
    """The answer out of whatever /chat returns: the Markdown string itself or a tuple holding it first."""
    if isinstance(result, list | tuple):
        result = result[0] if result else ""
    if isinstance(result, dict):
        result = result.get("answer", "")
    return str(result or "")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every request: `gradio_client` opens a new httpx client per request, and without
    this each one loads the CA bundle again (about 10 ms of CPU), which the load generator would spend on the
    same two cores as the server. Loopback is plain HTTP, so the context is never used for a handshake."""
    return ssl.create_default_context()


def open_client(url: str) -> Any:
    from gradio_client import Client

    return Client(
        url,
        verbose=False,
        max_workers=2,
        download_files=False,
        analytics_enabled=False,
        ssl_verify=tls_context(),  # passed through to httpx as `verify`, which takes a ready context
    )


@dataclass
class User:
    """One simulated person: their questions and, when the app keeps sessions, the session they write to."""

    number: int
    questions: list[str]
    session_id: str | None = None


def simulate_user(
    url: str, user: User, api: dict[str, list[str]], deadline: float, ready: threading.Barrier, think: float = 0.0
) -> tuple[User, list[TurnResult]]:
    """A client of their own, their own session, then their turns one after another, each timed end to end;
    with `think`, a start spread over 0-1 x think seconds and a pause of 0.5-1.5 x think after each answer."""
    results: list[TurnResult] = []
    pause = random.Random(user.number)
    try:
        client = open_client(url)
        if "/new_session" in api:
            user.session_id = str(client.predict(api_name="/new_session"))
    except Exception as exc:  # the app refused a connection: every turn of this user is an error
        ready.abort()
        return user, [
            TurnResult(user.number, i, q, 0.0, False, f"connect: {exc}") for i, q in enumerate(user.questions)
        ]
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait(timeout=max(1.0, deadline - time.monotonic()))  # all users start together
    for i, question in enumerate(user.questions):
        if think:  # people arrive spread over one think time, then read each answer before the next question
            wait = think * (pause.uniform(0.5, 1.5) if i else pause.uniform(0.0, 1.0))
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            results.append(TurnResult(user.number, i, question, 0.0, False, "not sent: level time limit reached"))
            continue
        extra = {"session_id": user.session_id} if user.session_id else {}
        started = time.perf_counter()
        try:
            job = client.submit(question, "auto", api_name="/chat", **extra)
            text = answer_text(job.result(timeout=remaining))
            ok, error = bool(text.strip()), "" if text.strip() else "empty answer"
        except Exception as exc:
            ok, error = False, f"{type(exc).__name__}: {str(exc)[:200]}"
        results.append(TurnResult(user.number, i, question, time.perf_counter() - started, ok, error, started))
    with contextlib.suppress(Exception):
        client.close()
    return user, results


def run_level(
    url: str,
    n_users: int,
    turns: int,
    api: dict[str, list[str]],
    sessions: Any,
    owner: str,
    questions: Iterator[str],
    think: float = 0.0,
) -> dict[str, Any]:
    users = [User(u, [next(questions) for _ in range(turns)]) for u in range(n_users)]
    if "/new_session" not in api and "session_id" in api["/chat"]:
        # The app takes a session but offers no way to open one: open it in the shared store, as another worker would.
        for user in users:
            user.session_id = sessions.create_session(title=f"load user {user.number}", owner=owner)
    deadline = time.monotonic() + LEVEL_TIMEOUT_S
    ready = threading.Barrier(n_users)
    with ThreadPoolExecutor(max_workers=n_users) as executor:
        futures = [executor.submit(simulate_user, url, u, api, deadline, ready, think) for u in users]
        done = [f.result() for f in futures]
    results = [r for _, rs in done for r in rs]
    sent = [r for r in results if r.start]
    wall = max(r.start + r.seconds for r in sent) - min(r.start for r in sent) if sent else 0.0
    return summarise(n_users, turns, results, wall) | {"users_detail": [u for u, _ in done], "think_s": think}


def summarise(n_users: int, turns: int, results: list[TurnResult], wall: float) -> dict[str, Any]:
    ok = [r.seconds for r in results if r.ok]
    errors = [r for r in results if not r.ok]
    return {
        "users": n_users,
        "turns_per_user": turns,
        "turns_sent": len(results),
        "turns_answered": len(ok),
        "errors": len(errors),
        "error_examples": sorted({e.error for e in errors})[:5],
        "wall_s": round(wall, 2),
        "throughput_turns_per_s": round(len(ok) / wall, 2) if wall else 0.0,
        "p50_s": round(float(np.percentile(ok, 50)), 3) if ok else None,
        "p95_s": round(float(np.percentile(ok, 95)), 3) if ok else None,
        "max_s": round(max(ok), 3) if ok else None,
        "mean_s": round(statistics.fmean(ok), 3) if ok else None,
    }


def warm_up(url: str, question: str) -> tuple[dict[str, list[str]], float]:
    """One untimed turn first: the server loads its embedder and indexes on first use, as after any restart."""
    client = open_client(url)
    try:
        api = endpoints(client)
        started = time.perf_counter()
        client.predict(question, "auto", api_name="/chat")
        return api, time.perf_counter() - started
    finally:
        client.close()


# --- verification ----------------------------------------------------------------------------------------
def verify_sessions(sessions: Any, level: dict[str, Any], owner: str) -> dict[str, Any]:
    """Every user's session must hold exactly their turns, in order, each a complete user+assistant pair."""
    lost, wrong = 0, 0
    for user in level["users_detail"]:
        history = sessions.history(user.session_id, owner=owner) if user.session_id else []
        asked = [t.content for t in history if t.role == "user"]
        replies = [t for t in history if t.role == "assistant"]
        lost += max(0, len(user.questions) - min(len(asked), sum(t.complete for t in replies)))
        if asked != user.questions or len(replies) != len(user.questions) or not all(t.complete for t in replies):
            wrong += 1
    return {"method": "per-session history (each user's own session)", "lost_turns": lost, "sessions_wrong": wrong}


# --- the whole test --------------------------------------------------------------------------------------
def run_load(
    users: Sequence[int] = DEFAULT_USERS,
    turns: int = DEFAULT_TURNS,
    progress: Progress | None = None,
    data_dir: Path | None = None,
    think: float = 0.0,
) -> dict[str, Any]:
    """Start the app once, run each concurrency level against it, verify the store after each level."""
    from assistant.sessions import DEFAULT_OWNER, SessionStore
    from assistant.settings import Settings

    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix="mentor-load-") as tmp:
        data = data_dir or Path(tmp) / "data"
        say(f"load: building the index in {data}")
        build_index(data)
        with running_app(data, Path(tmp) / "server.log") as url:
            say(f"load: app up at {url}")
            questions = distinct_questions()
            api, cold_s = warm_up(url, next(questions))
            say(f"load: first answer after start took {cold_s:.2f} s (not counted in the levels)")
            sessions = SessionStore(Settings(data_dir=data, database_url=None).db_url)
            levels = []
            for n in users:
                level = run_level(url, n, turns, api, sessions, DEFAULT_OWNER, questions, think)
                level |= verify_sessions(sessions, level, DEFAULT_OWNER)
                level.pop("users_detail")
                levels.append(level)
                say(
                    f"load: {n} users: p50 {level['p50_s']} s, p95 {level['p95_s']} s, "
                    f"{level['throughput_turns_per_s']} turns/s, {level['errors']} errors, {level['lost_turns']} lost"
                )
            sessions.close()
    result = {
        "chat_parameters": api["/chat"],
        "cold_first_turn_s": round(cold_s, 3),
        "levels": levels,
        "target_p95_s": TARGET_P95_S,
        "turns_per_user": turns,
        "think_s": think,
        "cpus": os.cpu_count(),
        "load_average_end": round(os.getloadavg()[0], 2),
    }
    result["markdown"] = to_markdown(result)
    return result


def to_markdown(result: dict[str, Any]) -> str:
    think = (
        f"arrivals spread over {result['think_s']:g} s, think time 0.5-1.5 x {result['think_s']:g} s"
        if result["think_s"]
        else "all users start at once, no think time"
    )
    lines = [
        f"### Load: concurrent users on the real app (offline backend, {result['turns_per_user']} turns per user, "
        f"{think})",
        "",
        "| users | turns sent | answered | errors | lost turns | throughput turns/s | p50 s | p95 s | max s | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in result["levels"]:
        lines.append(
            f"| {lv['users']} | {lv['turns_sent']} | {lv['turns_answered']} | {lv['errors']} | {lv['lost_turns']} "
            f"| {lv['throughput_turns_per_s']} | {lv['p50_s']} | {lv['p95_s']} | {lv['max_s']} | {lv['wall_s']} |"
        )
    method = result["levels"][0]["method"] if result["levels"] else ""
    lines += [
        "",
        f"Verified by: {method}. First answer after start (untimed warm-up, not counted): "
        f"{result['cold_first_turn_s']} s. Load average at the end: {result['load_average_end']} on "
        f"{result['cpus']} CPUs. Target: zero errors, zero lost turns, p95 <= {TARGET_P95_S} s.",
    ]
    return "\n".join(lines) + "\n"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", default=",".join(map(str, DEFAULT_USERS)), help="concurrency levels, e.g. 1,10,50")
    parser.add_argument("--turns", type=int, default=DEFAULT_TURNS, help="turns per simulated user")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause in seconds between a user's turns")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    users = [int(u) for u in args.users.split(",") if u.strip()]
    result = run_load(users, args.turns, progress=_stderr, think=args.think)
    print(json.dumps(result, indent=2) if args.json else result["markdown"])
    failed = any(lv["errors"] or lv["lost_turns"] for lv in result["levels"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
