"""The Gradio workspace: Coach, Sessions, Feedback studio, Practice, Mentees, Knowledge and Evals.

Each tab is a module of `assistant.workspace` (its callbacks and its layout); this module puts them on one page and
serves it. Every callback only translates between widgets and the core (coach, sessions, feedback, practice,
knowledge, evals); the decisions live in those modules. Everything that reaches the page is escaped or rendered by
`assistant.rendering.render_markdown` (markdown-it, then an nh3 allowlist, outside images dropped) and shown as HTML,
never re-parsed as Markdown in the browser; the Content-Security-Policy on every response (assistant.rendering.headers)
keeps any miss from running script or loading from another host.
"""

import importlib.util
import os
import sys
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.errors import USER_ERRORS
from assistant.rendering.headers import SecurityHeaders, install_origin_policy
from assistant.runtime import Runtime
from assistant.settings import Settings
from assistant.workspace import (
    api,
    coach_tab,
    conversations,
    evals_tab,
    feedback_tab,
    knowledge_tab,
    mentees_tab,
    practice_tab,
    sessions_tab,
)
from assistant.workspace.client import WORKSPACE_JS
from assistant.workspace.common import (
    APP_TITLE,
    EXAMPLES,
    MODE_CHOICES,
    _confirm,
    blocked_paths,
    gradio_temp_dir,
    owner_of,
    parse_auth,
)
from assistant.workspace.pending import UNDO_SECONDS
from assistant.workspace.render import (
    backend_label,
    chat_message,
    header_html,
    highlight,
    render_notice,
    render_sources,
    typed_text,
)
from assistant.workspace.signin import SignInLimiter
from assistant.workspace.style import CSS

# Names other modules and the tests read from here.
__all__ = [
    "APP_TITLE",
    "CSS",
    "EXAMPLES",
    "MODE_CHOICES",
    "Workspace",
    "_confirm",
    "backend_label",
    "blocked_paths",
    "build_app",
    "chat_message",
    "conversations",
    "gradio_temp_dir",
    "header_html",
    "highlight",
    "launch_options",
    "lighten_gradio_events",
    "main",
    "owner_of",
    "parse_auth",
    "render_notice",
    "render_sources",
    "serve",
    "theme",
    "typed_text",
    "warm_up",
    "with_queue",
]


class Workspace(
    sessions_tab.SessionsCallbacks,
    feedback_tab.FeedbackCallbacks,
    practice_tab.PracticeCallbacks,
    mentees_tab.MenteesCallbacks,
    knowledge_tab.KnowledgeCallbacks,
    evals_tab.EvalsCallbacks,
):
    """Every tab's callbacks on one object (the Coach tab's come through the Sessions tab's)."""


# --- layout -----------------------------------------------------------------------------------------------------


def build_app(rt: Runtime, undo_seconds: float = UNDO_SECONDS) -> gr.Blocks:
    """The whole workspace; wiring only, the callbacks live in the tab modules. `undo_seconds`: how long a
    deleted conversation can be brought back."""
    settings = rt.settings
    _route_gradio_files(settings)
    ws = Workspace(rt, undo_seconds)
    with gr.Blocks(title=APP_TITLE, analytics_enabled=False) as app:
        # The header also carries the page's small script (citations, scrolling): see assistant/workspace/client.py.
        header = gr.HTML(header_html(settings), elem_id="ma-header", js_on_load=WORKSPACE_JS)
        with gr.Tabs(selected="coach", elem_id="ma-tabs") as tabs:
            coach = coach_tab.layout(ws)
            sessions_tab.layout(ws, coach, tabs)
            feedback_tab.layout(ws)
            practice_tab.layout(ws)
            mentees = mentees_tab.layout(ws, coach)
            knowledge = knowledge_tab.layout(ws, header)
            evals_tab.layout(ws)
        app.load(ws.header, outputs=header, api_visibility="private")
        app.load(ws.mentee_choices, outputs=coach["mentee"], api_visibility="private")
        app.load(
            ws.conversation_list, [coach["search"], coach["session"]], coach["conversations"], api_visibility="private"
        )
        app.load(ws.mentee_list, outputs=mentees["pick"], api_visibility="private")
        # A guide named under a journey step opens in the Knowledge tab.
        mentees["guidance"].click(
            ws.open_guide,
            None,
            [
                tabs,
                knowledge["topic"],
                knowledge["step"],
                knowledge["contains"],
                knowledge["table"],
                knowledge["doc"],
                knowledge["viewer"],
            ],
            api_visibility="private",
        )
        gr.api(
            ws.chat_api,
            api_name="chat",
            api_description="Ask the coach; returns a Markdown answer citing [n].",
            concurrency_id="chat",
        )
        gr.api(ws.new_session_api, api_name="new_session", api_description="Open a stored conversation for /chat.")
        api.register(rt, owner_of)  # /chat_reply (the answer with its backend and any fallback), /export_conversation
    return app


def _route_gradio_files(settings: Settings) -> None:
    # Gradio reads its upload/cache folder from the environment when components and the server are created.
    folder = gradio_temp_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)


# --- serving ----------------------------------------------------------------------------------------------------


def theme() -> gr.themes.Base:
    # Gradio's bundled Source Sans Pro semibold file is a small subset (capitals fall back to another font), so
    # only the complete regular and bold files are declared; both are served locally, nothing from the internet.
    font: list[gr.themes.Font | str] = [
        gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)),
        "ui-sans-serif",
        "system-ui",
        "sans-serif",
    ]
    return gr.themes.Default(primary_hue="teal", secondary_hue="slate", neutral_hue="slate", font=font)


def launch_options(settings: Settings) -> dict[str, Any]:
    """Everything `launch()` needs besides host and port; shared by `serve` and the tests."""
    install_origin_policy()  # Gradio's CORS answers only this app's origin (and MENTOR_CORS_ORIGINS)
    return {
        "auth": parse_auth(settings.auth),
        "auth_message": "Sign in to your Mentor Assistant workspace.",
        "show_error": False,
        "max_file_size": int(settings.max_upload_mb * 1024 * 1024),
        "blocked_paths": blocked_paths(settings),
        "allowed_paths": [],
        "footer_links": ["api"],
        "ssr_mode": False,
        "mcp_server": False,
        "pwa": False,
        "enable_monitoring": False,
        "quiet": True,
        "theme": theme(),
        "css": CSS,
        # The Content-Security-Policy and friends on every response, the page's own scripts by nonce.
        # The sign-in limiter sits inside, so its 429 replies carry the policy too.
        "app_kwargs": {"middleware": [Middleware(SecurityHeaders), Middleware(SignInLimiter)]},
    }


def warm_up(rt: Runtime) -> None:
    """Build the index if there is none, then answer one question, so the first user waits for nothing."""
    from assistant.stores import IndexError_

    try:
        rt.store.count()
    except IndexError_:
        print("Building the knowledge index (first start)…", flush=True)
        print(rt.ingestor.run().summary(), flush=True)
    rt.coach.ask("How do I open a difficult conversation?", persist=False)


def with_queue(app: gr.Blocks, settings: Settings) -> gr.Blocks:
    """The queue every chat turn goes through: at most `chat_concurrency` turns at once (UI and API
    together), the rest wait in order; waiting browsers hear their place in line once a second, not
    after every dispatch (which, with 50 waiting, was thousands of messages a second)."""
    return app.queue(
        default_concurrency_limit=settings.chat_concurrency, max_size=settings.queue_size, status_update_rate=1
    )


def lighten_gradio_events() -> None:
    """Remove two costs Gradio adds to every event, which under load took about a tenth of the server's CPU:
    it rebuilds its monitoring summary (a pandas table of up to 10,000 past events) after each event, and
    it tries `import matplotlib` twice per event, a search of sys.path each time when it is not installed."""
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "200")
    if importlib.util.find_spec("matplotlib") is None:
        sys.modules.setdefault("matplotlib", None)  # type: ignore[arg-type]  # a failed import, remembered


def serve(rt: Runtime, host: str | None = None, port: int | None = None) -> None:
    """Build the workspace and serve it until interrupted."""
    settings = rt.settings
    options = launch_options(settings)  # first, so a bad MENTOR_AUTH is reported before anything starts
    warm_up(rt)
    lighten_gradio_events()
    app = with_queue(build_app(rt), settings)
    host = host or settings.host
    port = port or settings.port
    auth = " · sign-in required" if options["auth"] else ""
    print(f"Mentor Assistant: http://{host}:{port}  ({backend_label(settings)[1]}{auth})", flush=True)
    app.launch(server_name=host, server_port=port, **options)


def main() -> None:
    """`python app.py`: serve with settings from the environment; configuration mistakes are one readable line."""
    try:
        serve(Runtime())
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
