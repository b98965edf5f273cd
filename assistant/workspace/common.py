"""What every tab shares: constants, the signed-in owner, escaping and banners, error translation, downloads,
and the base of the callbacks (the runtime, the settings, the input checks)."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

import functools
import html
import json
import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.errors import USER_ERRORS, ConfigurationError
from assistant.rendering import render_markdown
from assistant.settings import Settings

log = logging.getLogger(__name__)

APP_TITLE = "Mentor Assistant"
MODE_CHOICES: list[tuple[str, str]] = [
    ("Auto", "auto"),
    ("Ask a question", "chat"),
    ("Prepare a conversation", "prepare"),
    ("Word feedback", "feedback"),
    ("Practise a conversation", "practice"),
]
EXAMPLES: list[str] = [
    "How do I give feedback to a mentee who gets defensive?",
    "Help me prepare to tell my mentee their project is cancelled",
    "What should I cover in my first meeting with a new mentee?",
    "My mentee is very quiet in our one-on-ones. How do I draw them out?",
    "How can I tell whether our mentoring is actually working?",
]
CRITERION_LABELS: dict[str, str] = {
    "situation": "Situation: when and where",
    "behavior": "Behaviour: what you saw or heard",
    "impact": "Impact: what it led to",
    "request": "Request: what to do next",
    "judgmental": "No labels or judgements",
    "absolute": "No always / never",
    "vague": "Specific, not vague",
    "hedging": "Direct, not hedged",
}
INTERNAL_ERROR = "Something went wrong on our side. The details are in the server log; please try again."
NO_MENTEE = ""
CANCELLED = "__cancelled__"
NEW_MENTEE = ""

_CITATION = re.compile(r"\[(\d{1,3})\]")
# --- small helpers --------------------------------------------------------------------------------------------


def owner_of(request: gr.Request | None) -> str:
    """Per-user data when auth is on (the login name), one shared local owner otherwise."""
    name = getattr(request, "username", None) if request is not None else None
    return str(name) if name else "local"


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """`user:pass` (or several, `ann:pw1,bob:pw2`) from settings → Gradio's credentials; None when auth is off."""
    if not value:
        return None
    users: list[tuple[str, str]] = []
    for entry in value.split(","):
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            raise ConfigurationError(
                "MENTOR_AUTH must look like user:password, or user1:pass1,user2:pass2 (no empty parts)."
            )
        users.append((user.strip(), password))
    return users


def md_to_html(text: str) -> str:
    """Markdown from documents or answers as HTML we control: parsed, allowlisted, outside images dropped."""
    return render_markdown(text or "")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def banner(kind: str, title: str, body: str = "") -> str:
    """A coloured notice; `title` and `body` are plain text and are escaped here."""
    text = f"<strong>{esc(title)}</strong>{esc(body)}" if body else f"<strong>{esc(title)}</strong>"
    return f'<div class="ma-banner ma-{kind}" role="status">{text}</div>'


def error_banner(message: str) -> str:
    return banner("error", "That didn't work", message)


def gradio_temp_dir(settings: Settings) -> Path:
    """Where Gradio keeps uploads and downloads: a folder of its own inside the data directory, nothing else."""
    return settings.data_dir / "gradio-tmp"


def blocked_paths(settings: Settings) -> list[str]:
    """Defence in depth: even if a path leaked, the database, index, caches and copies are never served."""
    paths = [
        settings.chroma_dir,
        settings.uploads_dir,
        settings.data_dir / "cache",
        settings.data_dir / "reports",
        settings.knowledge_dir,
        settings.prompts_dir,
    ]
    if settings.db_url.startswith("sqlite:///"):
        db = Path(settings.db_url.removeprefix("sqlite:///"))
        paths += [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]
    return [str(p) for p in paths]


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show user errors as a readable message in the page and log the rest; never a stack trace."""

    def translate(exc: Exception) -> gr.Error:
        if isinstance(exc, USER_ERRORS):
            return gr.Error(str(exc), title="That didn't work", print_exception=False)
        log.exception("UI callback %s failed", fn.__name__)
        return gr.Error(INTERNAL_ERROR, title="Unexpected error", print_exception=False)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise translate(exc) from None

    return wrapper


def _download(folder: Path, name: str, content: str) -> str:
    """Write a download into its own fresh folder under Gradio's temp dir (so two users never share a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(dir=folder)) / name
    target.write_text(content, encoding="utf-8")
    return str(target)


def _shown(path: str) -> Any:
    """A download widget that appears only once it has a file (an update, so the live widget copies it)."""
    return gr.update(value=path, visible=True)


def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48]
    return slug or fallback


def _confirm(question: str) -> str:
    """Browser-side confirmation for a one-input event; a cancelled click reaches Python as CANCELLED and changes
    nothing."""
    return f"(value) => window.confirm({json.dumps(question)}) ? value : {json.dumps(CANCELLED)}"
