"""The `mentor` command: a thin layer over the same core the UI uses."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.progress import Progress

from assistant import __version__
from assistant.errors import InputError, MentorError
from assistant.feedback import FeedbackChecker
from assistant.ingestion.own_documents import listing, remove_document
from assistant.runtime import Runtime
from assistant.security import check_message
from assistant.settings import get_settings

Handler = Callable[[argparse.Namespace], int]


class UserError(InputError):
    """A command-line mistake; printed as one line, exit code 2."""


def _runtime() -> Runtime:
    return Runtime()


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _text_arg(value: str) -> str:
    return _valid_text(sys.stdin.read(), "The text on standard input") if value == "-" else value


def _valid_text(value: str, what: str) -> str:
    """`value` if it is valid UTF-8. Python keeps undecodable bytes of the command line and standard input as lone
    surrogates, which failed deep inside the encoder with a traceback; they are refused here, before anything runs."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = value[exc.start].encode("utf-8", "surrogateescape")[:1].hex()
        raise UserError(
            f"{what} is not valid UTF-8 text (byte 0x{byte} at character {exc.start + 1}); nothing was run or "
            "saved. Type it again, or convert the file to UTF-8 (for example with iconv)."
        ) from None
    return value


def _check_arguments(args: argparse.Namespace) -> None:
    for name, value in vars(args).items():
        if isinstance(value, str):
            _valid_text(value, f"The {name.replace('_', ' ')} argument")


# C0 and C1 control characters except tab and newline: an escape sequence stored in a title or message could
# recolour the terminal, move the cursor, rewrite the window title or hide what is printed after it.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Stored text made safe to print: each control character is shown as its escape (`\\x1b`), not obeyed."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _owner(args: argparse.Namespace) -> str:
    """Whose data a sessions or mentee command reads: `--user` (a MENTOR_AUTH sign-in name), else the local user."""
    from assistant.sessions import DEFAULT_OWNER

    return str(args.user).strip() if getattr(args, "user", None) else DEFAULT_OWNER


def _auth_names() -> list[str]:
    auth = get_settings().auth or ""
    return [entry.partition(":")[0].strip() for entry in auth.split(",") if entry.partition(":")[0].strip()]


# --- commands --------------------------------------------------------------------------------
# A command whose module pulls in a heavy library (SQLAlchemy for mentees, spaCy and scikit-learn for practice,
# the eval harness, Gradio for serve) imports it in the command, so `mentor --help` and the other commands start
# without loading it.
def cmd_ingest(args: argparse.Namespace) -> int:
    rt = _runtime()
    with Progress(transient=True, disable=args.json or not sys.stderr.isatty()) as progress:
        task = progress.add_task("Indexing", total=None)

        def tick(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total, description=f"Indexing {name}")

        report = rt.ingestor.run([Path(p) for p in args.paths], rebuild=args.rebuild, progress=tick)
        # Encoding every playbook phrasing and training the situation matcher takes seconds on a cold cache; doing
        # it here keeps the first question after `make run` (which ingests first) as fast as the rest.
        progress.update(task, description="Preparing situation matching")
        rt.understanding  # noqa: B018 - built for its cache files
    if args.json:
        _print_json(report.__dict__ | {"summary": report.summary()})
        return 0
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_knowledge(args: argparse.Namespace) -> int:
    ingestor = _runtime().ingestor
    if args.action == "list":
        rows = listing(ingestor)
        if args.json:
            _print_json(rows)
        elif not rows:
            print("No documents of your own yet: add some with `mentor ingest FILE` or in the Knowledge tab.")
        else:
            print(_printable("\n".join(f"{r['title']} ({r['source']}, {r['chunks']} passages)" for r in rows)))
        return 0
    removed = remove_document(ingestor, _need(args.name))
    if args.json:
        _print_json(removed.__dict__)
        return 0
    copy = "; its uploaded copy was deleted" if removed.upload_deleted else ""
    passages = f"{removed.chunks} passage{'s' if removed.chunks != 1 else ''}"
    print(f"removed {removed.title} ({removed.source}): {passages}{copy}")
    return 0


def cmd_retrieve(args: argparse.Namespace) -> int:
    rt = _runtime()
    query = check_message(_text_arg(args.query), rt.settings.max_message_chars)
    hits = rt.retriever.search(query, k=args.k, topic=args.topic, mode=args.retriever)
    rows: list[dict[str, Any]] = [
        {
            "id": h.chunk.id,
            "title": h.chunk.title,
            "topic": h.chunk.topic,
            "source": h.chunk.source,
            "heading": h.chunk.heading,
            "score": round(h.score, 5),
            "text": h.chunk.text,
        }
        for h in hits
    ]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No guidance found.")
    for i, row in enumerate(rows, 1):
        print(f"[{i}] {row['title']} — {row['heading']} ({row['topic']}, {row['source']}, score {row['score']})")
        print("    " + row["text"][:300].replace("\n", " ") + ("…" if len(row["text"]) > 300 else ""))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    rt = _runtime()
    answer = rt.coach.ask(
        _text_arg(args.question),
        mode=args.mode,
        session_id=args.session,
        mentee_id=args.mentee,
        persist=not args.no_save,
    )
    if args.json:
        _print_json(answer.as_dict())
        return 0
    if answer.fallback:
        print(f"note: {answer.fallback}", file=sys.stderr)
    print(_printable(answer.answer))
    if answer.sources:
        print("\nSources:")
        for s in answer.sources:
            section = s.heading.rsplit(" > ", 1)[-1] if " > " in s.heading else ""
            print(f"  [{s.n}] {s.title}{f' › {section}' if section else ''} — {s.source}")
    if answer.session:
        print(f"\n(session {answer.session}; continue with --session {answer.session})")
    return 0


def cmd_check_feedback(args: argparse.Namespace) -> int:
    report = FeedbackChecker().check(check_message(_text_arg(args.text), get_settings().max_message_chars))
    if args.json:
        _print_json(report.as_dict())
        return 0
    print(f"Score: {report.score}/100 — {'ready to deliver' if report.good else 'not ready yet'}")
    for name, result in report.criteria.items():
        mark = "pass" if result.passed else "FAIL"
        evidence = f"  ({', '.join(result.evidence)})" if result.evidence else ""
        print(f"  {mark:4}  {name}{evidence}")
    for tip in report.suggestions:
        print(f"- {tip}")
    if not report.good and report.template:
        print(f"\nTry this shape:\n  {report.template}")
    return 0


def cmd_practice(args: argparse.Namespace) -> int:
    from assistant.practice import PERSONAS, SCENARIOS, PracticeSession

    if args.list or not (args.scenario and args.persona):
        print("Scenarios:")
        for key, scenario in SCENARIOS.items():
            print(f"  {key:24} {scenario.title}")
        print("Personas:")
        for key, persona in PERSONAS.items():
            print(f"  {key:24} {persona.label}")
        print("\nStart with: mentor practice --scenario ID --persona ID  (type /end for the debrief)")
        return 0
    session = PracticeSession(args.scenario, args.persona)
    print(f"{SCENARIOS[args.scenario].brief}\n\nMentee: {session.opening()}")
    for line in sys.stdin:
        if line.strip().lower() in ("/end", "end", "/quit"):
            break
        if line.strip():
            print(f"Mentee: {session.reply(line.strip()).text}")
    rt = _runtime()
    print(
        "\n"
        + session.debrief(
            guidance=lambda q: [(h.chunk.title, h.chunk.source) for h in rt.retriever.search(q, k=3)]
        ).as_markdown()
    )
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    rt = _runtime()
    store, owner = rt.sessions, _owner(args)
    if args.action == "list":
        found = store.list_sessions(owner=owner)
        for s in found:
            print(_printable(f"{s.id}  {s.updated_at:%Y-%m-%d %H:%M}  {s.turns:3} turns  {s.title}"))
        names = _auth_names()
        if names and not args.user:  # signed-in users' conversations are theirs, not the local user's
            print(
                f"(the local user's conversations; choose a MENTOR_AUTH user with --user: {', '.join(names)})",
                file=sys.stderr,
            )
    elif args.action == "export":
        print(_printable(store.export_markdown(_need(args.id), owner=owner)))
    elif args.action == "delete":
        from assistant.workspace.common import gradio_temp_dir
        from assistant.workspace.exports import remove_session_exports

        store.delete_session(_need(args.id), owner=owner)
        # Markdown exports made in the web app go with the conversation (their download links stop working).
        remove_session_exports(gradio_temp_dir(rt.settings) / "downloads", owner, args.id)
        print(f"deleted {args.id}")
    return 0


def cmd_mentee(args: argparse.Namespace) -> int:
    from assistant.sessions import JOURNEY_STEPS, MenteeProfile

    store, owner = _runtime().sessions, _owner(args)
    if args.action == "list":
        for m in store.list_mentees(owner=owner):
            print(_printable(f"{m.id}  {m.name}  ({m.experience_level or 'level not set'})"))
    elif args.action == "add":
        profile = MenteeProfile(
            id=None,
            name=_need(args.name),
            experience_level=args.level or "",
            goals=args.goals or "",
            learning_preferences="",
            communication_preferences=args.communication or "",
            cultural_notes="",
            notes="",
        )
        print(store.save_mentee(profile, owner=owner))
    elif args.action == "show":
        data = store.export_mentee(_need(args.id), owner=owner)
        journey = store.journey(args.id, owner=owner)
        _print_json(data)
        for step, name in enumerate(JOURNEY_STEPS, 1):
            print(f"[{'x' if journey.get(step) else ' '}] {step}. {name}")
    elif args.action == "export":
        _print_json(store.export_mentee(_need(args.id), owner=owner))
    elif args.action == "delete":
        store.delete_mentee(_need(args.id), owner=owner)
        print(f"deleted {args.id}")
    return 0


def _need(value: str | None) -> str:
    if not value:
        raise UserError("this action needs an ID or name; see --help")
    return value


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evals import run_cli

    return run_cli(args)


def cmd_safety(args: argparse.Namespace) -> int:
    from assistant.safety.train import run_cli

    return run_cli(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from assistant.bench import run_cli

    return run_cli(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.workspace.app import serve

    serve(_runtime(), host=args.host, port=args.port)
    return 0


# --- parser ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentor", description="Mentor Assistant: grounded coaching for mentors and managers."
    )
    parser.add_argument("--version", action="version", version=f"mentor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add(
        "ingest", cmd_ingest, "Build or update the knowledge index (knowledge/ plus any files or folders you name)."
    )
    p.add_argument("paths", nargs="*", help="your own documents or folders (.md, .txt, .pdf, .docx)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it from scratch")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = add("knowledge", cmd_knowledge, "List the documents you added, or remove one (its passages and its upload).")
    p.add_argument("action", choices=["list", "remove"])
    p.add_argument("name", nargs="?", help="remove: the document's title or file name")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("retrieve", cmd_retrieve, "Show the guidance the assistant would retrieve for a question.")
    p.add_argument("query", help="the question ('-' reads standard input)")
    p.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    p.add_argument("--topic", help="only this topic slug")
    p.add_argument("--retriever", choices=["hybrid", "bm25", "dense"], default="hybrid", help="retriever to use")
    p.add_argument("--json", action="store_true", help="print a JSON array, best first")

    p = add("ask", cmd_ask, "Ask the coach; answers are grounded in the knowledge and cite it as [n].")
    p.add_argument("question", help="your question ('-' reads standard input)")
    p.add_argument("--mode", choices=["auto", "chat", "prepare", "feedback", "practice"], default="auto")
    p.add_argument("--session", help="continue this session ID")
    p.add_argument("--mentee", help="tailor to this mentee profile ID")
    p.add_argument("--no-save", action="store_true", help="do not store the exchange")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = add(
        "check-feedback",
        cmd_check_feedback,
        "Score a feedback draft: situation, behavior, impact, request, and pitfalls.",
    )
    p.add_argument("text", help="the feedback ('-' reads standard input)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = add("practice", cmd_practice, "Practise a conversation: the assistant plays your mentee, then debriefs you.")
    p.add_argument("--scenario", help="scenario ID (see --list)")
    p.add_argument("--persona", help="persona ID (see --list)")
    p.add_argument("--list", action="store_true", help="list scenarios and personas")

    p = add("sessions", cmd_sessions, "List, export or delete stored conversations.")
    p.add_argument("action", choices=["list", "export", "delete"])
    p.add_argument("id", nargs="?", help="session ID")
    p.add_argument(
        "--user",
        metavar="NAME",
        help="whose data: a sign-in name from MENTOR_AUTH (each signed-in user has their own); default the local user",
    )

    p = add("mentee", cmd_mentee, "Manage mentee profiles and their ten-step journey.")
    p.add_argument("action", choices=["list", "add", "show", "export", "delete"])
    p.add_argument("id", nargs="?", help="mentee ID (show, export, delete)")
    p.add_argument("--name", help="name or alias (add)")
    p.add_argument("--level", choices=["new", "early-career", "mid-career", "senior"], help="experience level (add)")
    p.add_argument("--goals", help="goals (add)")
    p.add_argument("--communication", help="communication preferences (add)")
    p.add_argument(
        "--user",
        metavar="NAME",
        help="whose data: a sign-in name from MENTOR_AUTH (each signed-in user has their own); default the local user",
    )

    p = add("eval", cmd_eval, "Run evaluation suites and write reports (json, md, html, junit).")
    p.add_argument(
        "--suite",
        default="all",
        help="retrieval, answers, feedback, safety, conversations, judge, all, or a comma-separated list",
    )
    p.add_argument("--dataset", type=Path, help="run the suite on your own JSON Lines file")
    p.add_argument("--out", type=Path, help="write report.json, report.md, report.html and junit.xml here")
    p.add_argument("--json", action="store_true", help="print one JSON object per suite run")
    p.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fail when a metric is below VALUE (suite.metric or metric)",
    )
    p.add_argument("--baseline", type=Path, help="compare with an earlier report.json")
    p.add_argument("--repeat", type=int, default=1, help="run non-deterministic suites N times and report the spread")

    p = add(
        "safety",
        cmd_safety,
        "Train the safety classifier (train), show how a message is routed (check), or time the router (bench).",
    )
    p.add_argument("action", choices=["train", "check", "bench"])
    p.add_argument("text", nargs="?", help="check: the message ('-' or nothing reads standard input)")
    p.add_argument("--dataset", type=Path, help="train: a JSON Lines corpus instead of evals/datasets/safety.jsonl")
    p.add_argument("--out", type=Path, help="train: write the artefact into this folder (default: the package)")

    p = add(
        "bench",
        cmd_bench,
        "Benchmark retrieval quality and latency, query encoding, ingestion throughput and memory against peers.",
    )
    p.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes in chunks (comma-separated)")
    p.add_argument("--queries", type=int, default=200, help="queries per size")
    p.add_argument(
        "--compare-embedder",
        default="wordllama",
        help="also measure retrieval quality with this embedder (default wordllama; 'none' to skip)",
    )
    p.add_argument("--load", action="store_true", help="also run the concurrent-users load test against the real app")
    p.add_argument("--users", default="1,10,50", help="concurrent users for --load")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", type=Path, help="write the Markdown table to this file")

    p = add("serve", cmd_serve, "Start the web app (same as `python app.py`).")
    p.add_argument("--host", default=None, help="bind address (default from MENTOR_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default from MENTOR_PORT, 7860)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_arguments(args)
        code = int(args.handler(args))
        sys.stdout.flush()  # inside the try: a reader that went away shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The output was piped into something that stopped reading (`mentor sessions | head -1`): stop quietly,
        # as other command-line tools do, and keep the interpreter from failing again on its final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the broken pipe
    except MentorError as exc:  # only these messages are written for the user; anything else is a bug
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to finish (the index stays consistent)", file=sys.stderr)
        return 130
