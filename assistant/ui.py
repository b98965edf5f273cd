"""The Gradio workspace: Coach, Sessions, Feedback studio, Practice, Mentees, Knowledge and Evals.

Every callback here only translates between widgets and the core (coach, sessions, feedback, practice, knowledge,
evals); the decisions live in those modules. Everything that reaches the page is escaped or rendered by
`assistant.rendering.render_markdown` (markdown-it, then an nh3 allowlist, outside images dropped) and shown as HTML,
never re-parsed as Markdown in the browser; the Content-Security-Policy on every response (assistant.rendering.headers)
keeps any miss from running script or loading from another host.
"""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.LikeData, the /chat
# endpoint's types) at runtime.

import functools
import html
import importlib.util
import itertools
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import gradio as gr
from starlette.middleware import Middleware

from assistant.errors import USER_ERRORS, ConfigurationError, InputError
from assistant.feedback import NEGATIVE, WEIGHTS, FeedbackChecker, FeedbackReport, draft_feedback
from assistant.ingestion import own_documents
from assistant.rendering import render_markdown
from assistant.rendering.headers import SecurityHeaders
from assistant.runtime import Runtime
from assistant.security import LimitError, check_message, check_upload, safe_upload_name
from assistant.sessions import EXPERIENCE_LEVELS, JOURNEY_STEPS, MenteeProfile
from assistant.settings import Settings
from assistant.types import TOPICS, Answer, Chunk, Source
from assistant.workspace import conversations, evals_view
from assistant.workspace.checks import InputChecks
from assistant.workspace.client import WORKSPACE_JS
from assistant.workspace.labels import topic_label

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
SAFETY_TITLES: dict[str, str] = {
    "crisis": "Someone's safety may be at risk",
    "harassment": "This may be harassment or discrimination",
    "legal": "This is a legal question",
    "harmful": "This request is declined",
    "injection": "Those instructions were ignored",
}
SUITE_NOTES: dict[str, str] = {
    "retrieval": "Does the search find the right guidance? Recall, MRR and nDCG over labelled questions.",
    "answers": "Are answers grounded, cited and shaped for their mode? Checks every claim against its sources.",
    "feedback": "Does the feedback checker agree with labelled drafts? Per-criterion precision and recall.",
    "safety": "Are crises, harassment, legal questions, harmful requests and injections escalated, and ordinary "
              "work stress left alone? Recall and false-positive rate.",
    "conversations": "Multi-turn conversations: follow-ups stay on topic and keep citing.",
    "moves": "Practice role-play: does the sentence encoder read what each mentor line does (open question, "
             "empathy, blame...)? Accuracy on the dev and test splits.",
    "details": "Does the parser read who, when, what happened, its effect and the request out of a mentor's "
               "message? Field accuracy on the dev and test halves.",
    "judge": "A language model grades answer quality (helpfulness, empathy, actionability, faithfulness).",
}
INTERNAL_ERROR = "Something went wrong on our side. The details are in the server log; please try again."
NO_MENTEE = ""
CANCELLED = "__cancelled__"
NEW_MENTEE = ""

_CITATION = re.compile(r"\[(\d{1,3})\]")
# The guides listed under a journey step report a click with the document's source (Gradio's `trigger`).
GUIDE_LINKS_JS = r"""
element.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('button[data-source]');
  if (!link || !element.contains(link)) return;
  event.preventDefault();
  trigger('click', {source: link.dataset.source});
});
"""

CSS = """
.ma-header {display:flex; justify-content:space-between; align-items:center; flex-wrap:wrap; gap:12px;
  padding:14px 18px; border-radius:10px; border:1px solid var(--border-color-primary);
  background:var(--background-fill-secondary);}
.ma-title {font-size:1.45rem; font-weight:600; letter-spacing:-0.01em;}
.ma-tagline {color:var(--body-text-color-subdued); font-size:0.95rem; margin-top:2px;}
.ma-status {display:flex; gap:8px; flex-wrap:wrap; align-items:center;}
.ma-pill {display:inline-block; padding:4px 11px; border-radius:999px; font-size:0.85rem;
  border:1px solid var(--border-color-primary); background:var(--background-fill-primary);}
.ma-pill-backend {border-color:#0f766e; color:#0f766e; font-weight:600;}
.ma-theme-switch {cursor:pointer; color:var(--body-text-color); font:inherit; font-size:0.85rem;}
.ma-theme-switch:focus-visible {outline:2px solid var(--color-accent);}
.ma-pill-llm {border-color:#4338ca; color:#4338ca; font-weight:600;}
.ma-pill-warn {border-color:#b45309; color:#b45309; font-weight:600;}
.ma-banner {padding:10px 14px; border-radius:8px; margin:2px 0 6px; border-left:5px solid; line-height:1.45;}
.ma-banner strong {display:block; margin-bottom:2px;}
.ma-safety {border-color:#b91c1c; background:rgba(220,38,38,0.09);}
.ma-fallback {border-color:#b45309; background:rgba(245,158,11,0.12);}
.ma-info {border-color:#1d4ed8; background:rgba(59,130,246,0.09);}
.ma-error {border-color:#b91c1c; background:rgba(220,38,38,0.09);}
.ma-ok {border-color:#15803d; background:rgba(34,197,94,0.10);}
.ma-sources h3 {margin:0 0 8px; font-size:1.05rem;}
.ma-muted {color:var(--body-text-color-subdued); font-size:0.9rem;}
.ma-source {border:1px solid var(--border-color-primary); border-radius:8px; padding:8px 10px; margin-bottom:8px;
  background:var(--background-fill-primary);}
.ma-source summary {cursor:pointer; list-style:revert;}
.ma-source-n {font-weight:600; color:#0f766e; margin-right:4px;}
.ma-source-title {font-weight:600;}
.ma-tag {display:inline-block; font-size:0.75rem; padding:1px 8px; border-radius:999px; margin-left:6px;
  background:var(--background-fill-secondary); border:1px solid var(--border-color-primary);}
.ma-cited {border-color:#0f766e; color:#0f766e;}
details[open] + .ma-snippet {display:none;}
.ma-snippet {margin:6px 0 0; font-size:0.9rem; color:var(--body-text-color-subdued);}
.ma-full {margin-top:8px; padding-top:8px; border-top:1px dashed var(--border-color-primary); font-size:0.92rem;}
.ma-full p, .ma-full li {margin:0.25em 0;}
.ma-score {display:flex; align-items:baseline; gap:10px; margin-bottom:10px;}
.ma-score-n {font-size:2.2rem; font-weight:600;}
.ma-verdict-good {color:#15803d; font-weight:600;}
.ma-verdict-bad {color:#b45309; font-weight:600;}
.ma-bars {display:grid; grid-template-columns:minmax(150px, 230px) 1fr 52px; gap:6px 10px; align-items:center;
  margin:8px 0 14px; font-size:0.9rem;}
.ma-bar {height:12px; border-radius:6px; background:var(--background-fill-secondary);
  border:1px solid var(--border-color-primary); overflow:hidden;}
.ma-bar > span {display:block; height:100%;}
.ma-bar-pass {background:#16a34a;}
.ma-bar-fail {background:#dc2626;}
.ma-bar-mid {background:#d97706;}
.ma-bar-value {text-align:right; font-variant-numeric:tabular-nums;}
.ma-highlight {white-space:pre-wrap; line-height:1.7; padding:10px 12px; border-radius:8px;
  border:1px solid var(--border-color-primary); background:var(--background-fill-primary);}
.ma-highlight mark {padding:1px 2px; border-radius:3px; color:inherit;}
.ma-mark-good {background:rgba(34,197,94,0.25);}
.ma-mark-bad {background:rgba(239,68,68,0.30); text-decoration:underline wavy #dc2626;}
.ma-legend span {margin-right:10px; font-size:0.85rem;}
.ma-chart {display:grid; grid-template-columns:minmax(160px, 260px) 1fr 64px; gap:6px 10px; align-items:center;
  font-size:0.9rem;}
.ma-chart .ma-bar > span {background:#0f766e;}
.ma-tension {font-size:0.9rem;}
#coach-input textarea {font-size:1rem;}
.ma-table-wrap {max-height:520px; overflow:auto; border:1px solid var(--border-color-primary); border-radius:8px;}
.ma-table {width:100%; border-collapse:collapse; font-size:0.9rem; border:none !important; margin:0 !important;}
.ma-table th, .ma-table td {border:none !important; border-bottom:1px solid var(--border-color-primary) !important;
  padding:6px 10px !important; text-align:left; vertical-align:top;}
.ma-table th {position:sticky; top:0; background:var(--background-fill-secondary); font-weight:600;}
.ma-table tr:last-child td {border-bottom:none !important;}
.ma-source-heading {display:block; font-size:0.85rem; color:var(--body-text-color-subdued); margin-left:1.3em;}
#session-preview, #knowledge-viewer {max-height:640px; overflow:auto; padding-right:6px;}
#session-preview h1, #knowledge-viewer h1 {font-size:1.3rem;}
#session-preview h2, #knowledge-viewer h2 {font-size:1.08rem;}
#session-preview h3, #knowledge-viewer h3 {font-size:1rem;}
#rating-row {align-items:center;}
.ma-cite {all:unset; cursor:pointer; color:#0f766e; font-weight:600; padding:0 2px; border-radius:4px;}
.ma-cite:hover, .ma-cite:focus-visible {background:rgba(15,118,110,0.14); outline:2px solid #0f766e;}
.ma-source-active {border-color:#0f766e; box-shadow:0 0 0 2px rgba(15,118,110,0.35);
  background:rgba(15,118,110,0.06);}
/* A failed handler is reported once, in its message; its outputs keep their content, no "Error" badge on each. */
div[data-testid="status-tracker"]:has(> .error) {display:none !important;}
.ma-eval-group {margin:8px 0;}
.ma-eval-group summary {cursor:pointer; font-weight:600;}
.ma-failing li {margin:6px 0;}
.ma-why {color:#b45309; font-size:0.9rem;}
/* The conversations beside the chat (and in the Sessions tab): one button per conversation, newest first. */
#coach-conversations, #sessions-conversations {max-height:560px; overflow:auto;}
.ma-convos {min-width:0; max-width:100%;}
.ma-convos ul {list-style:none; margin:0; padding:0; min-width:0;}
.ma-convos li {margin:0 0 4px;}
.ma-convo {all:unset; box-sizing:border-box; display:block; width:100%; max-width:100%; cursor:pointer;
  padding:7px 10px; border-radius:8px; border:1px solid transparent;}
.ma-convo:hover {background:var(--background-fill-secondary);}
.ma-convo:focus-visible {outline:2px solid var(--color-accent);}
.ma-convo-current {background:var(--background-fill-secondary); border-color:var(--border-color-primary);}
.ma-convo-line {display:flex; font-size:0.92rem; min-width:0;}
.ma-convo-title {overflow:hidden; text-overflow:ellipsis; white-space:nowrap; min-width:0;}
.ma-convo-n {flex:none; white-space:pre;}
.ma-convo-current .ma-convo-title {font-weight:600;}
.ma-convo-meta {display:block; font-size:0.78rem; color:var(--body-text-color-subdued);}
/* A mentor's question is plain text: its line breaks are kept. */
#coach-chat [data-testid="user"] .message-content {white-space:pre-wrap;}
#practice-chat [data-testid="user"] .message-content {white-space:pre-wrap;}
.ma-stopped {color:var(--body-text-color-subdued);}
.ma-doc-link {all:unset; cursor:pointer; color:var(--link-text-color); text-decoration:underline;}
.ma-doc-link:focus-visible {outline:2px solid var(--color-accent); border-radius:3px;}
/* Readable in both themes: the accent colours above are dark ink for a light page; on the dark page the same
   roles take light tints, and secondary text is a grey with enough contrast on either background. */
body {--ma-muted:#4b5563;}
body.dark {--ma-muted:#aab4c3;}
.ma-muted, .ma-snippet, .ma-convo-meta, .ma-tagline, .ma-source-heading, .ma-stopped {color:var(--ma-muted);}
/* One selector per rule: Gradio scopes a `.dark` rule by its first selector only. */
.dark .ma-pill-backend {color:#5eead4; border-color:#5eead4;}
.dark .ma-source-n {color:#5eead4;}
.dark .ma-cite {color:#5eead4;}
.dark .ma-cited {color:#5eead4; border-color:#5eead4;}
.dark .ma-cite:hover {outline-color:#5eead4; background:rgba(94,234,212,0.16);}
.dark .ma-cite:focus-visible {outline-color:#5eead4; background:rgba(94,234,212,0.16);}
.dark .ma-source-active {border-color:#5eead4; box-shadow:0 0 0 2px rgba(94,234,212,0.35);}
.dark .ma-pill-llm {color:#a5b4fc; border-color:#a5b4fc;}
.dark .ma-pill-warn {color:#fbbf24; border-color:#fbbf24;}
.dark .ma-why {color:#fbbf24;}
.dark .ma-verdict-bad {color:#fbbf24;}
.dark .ma-verdict-good {color:#4ade80;}
@media (max-width: 720px) {
  /* Gradio moves tabs that do not fit into a "more" menu by measuring hidden copies of the tab buttons; the
     copies are made narrow so every tab stays in the bar, and the bar wraps onto a second line instead. */
  #ma-tabs .tab-container.visually-hidden button {padding:0 !important; width:1px !important;
    min-width:0 !important; overflow:hidden;}
  #ma-tabs [role="tablist"] {flex-wrap:wrap; height:auto; row-gap:2px;}
  /* The chat column's widgets join the row, so the sources sit right under the conversation and its box. */
  #coach-row {flex-direction:column; flex-wrap:nowrap;}
  #coach-main {display:contents;}
  #coach-row > *, #coach-main > * {order:5;}
  #coach-notice {order:1;}
  #coach-chat {order:2;}
  #coach-ask-row {order:3;}
  #sources-column {order:4;}
  #coach-sidebar {order:6; min-width:0 !important; width:100%; max-width:100%;}
}
"""


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
    paths = [settings.chroma_dir, settings.uploads_dir, settings.data_dir / "cache", settings.data_dir / "reports",
             settings.knowledge_dir, settings.prompts_dir]
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


# --- renderers (pure functions: text in, escaped HTML out) -------------------------------------------------------


def backend_label(settings: Settings) -> tuple[str, str]:
    """(css class, text) saying who writes the answers."""
    if settings.backend == "offline":
        return "ma-pill-backend", "Offline coach · answers are composed on this machine"
    host = urlparse(settings.openai_base_url).hostname if settings.openai_base_url else "api.openai.com"
    return "ma-pill-llm", f"LLM: {settings.llm_model} via {host} (offline coach as fallback)"


def header_html(
    settings: Settings, documents: int | None = None, chunks: int | None = None, problem: str | None = None
) -> str:
    css, label = backend_label(settings)
    if problem:
        index = f'<span class="ma-pill ma-pill-warn">{esc(problem)}</span>'
    elif chunks is None:
        index = '<span class="ma-pill">Checking the knowledge index…</span>'
    elif chunks == 0:
        index = ('<span class="ma-pill ma-pill-warn">Knowledge index is empty: open Knowledge → Rebuild index '
                 "or run <code>mentor ingest</code></span>")
    else:
        index = f'<span class="ma-pill">{documents} guides · {chunks} passages indexed</span>'
    return (
        '<div class="ma-header"><div>'
        f'<div class="ma-title">{esc(APP_TITLE)}</div>'
        '<div class="ma-tagline">Grounded coaching for your next one-on-one: ask, prepare, word feedback, practise.'
        "</div></div>"
        f'<div class="ma-status"><span id="backend-banner" class="ma-pill {css}">{esc(label)}</span>{index}'
        # The page script names and runs the switch (assistant/workspace/client.py).
        '<button type="button" id="theme-switch" class="ma-pill ma-theme-switch" aria-pressed="false">'
        "Dark theme</button></div>"
        "</div>"
    )


def _source_fields(source: Source | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, Source):
        return dict(source.__dict__)
    return dict(source)


def render_sources(sources: Sequence[Source | dict[str, Any]], cited: Iterable[int] = ()) -> str:
    """The sources panel: one collapsible card per retrieved passage, the full text on expand."""
    head = '<div class="ma-sources" id="sources-list"><h3>Guidance behind the last answer</h3>'
    if not sources:
        return head + ('<p class="ma-muted">Ask a question and the passages the answer draws on appear here, '
                       "numbered like the [n] marks in the answer.</p></div>")
    cited_set = set(cited)
    cards = []
    for raw in sources:
        s = _source_fields(raw)
        n = int(s.get("n", 0))
        badge = '<span class="ma-tag ma-cited">cited</span>' if n in cited_set else ""
        full = s.get("text") or s.get("snippet") or ""
        where = esc(s.get("source") or "")
        # Headings are stored as "Title > Section"; the title is already on the card.
        section = str(s.get("heading") or "").split(" > ")[-1]
        heading = f'<span class="ma-source-heading">{esc(section)}</span>' if section else ""
        cards.append(
            f'<div class="ma-source" data-n="{n}"><details><summary>'
            f'<span class="ma-source-n">[{n}]</span><span class="ma-source-title">{esc(s.get("title", ""))}</span>'
            f'<span class="ma-tag">{esc(topic_label(s.get("topic", "")))}</span>{badge}{heading}</summary>'
            f'<div class="ma-full"><div class="ma-muted">{where}</div>{md_to_html(full)}</div></details>'
            f'<p class="ma-snippet">{esc(s.get("snippet", ""))}</p></div>'
        )
    return head + "".join(cards) + "</div>"


def render_notice(answer: Answer) -> str:
    """Banners for the last answer: safety first, then a failed LLM, then 'the guidance does not cover this'."""
    parts: list[str] = []
    from assistant.safety import banner as safety_banner

    safety = safety_banner(answer.safety)  # plain words for the mentor, never the router's internal labels
    if safety:
        parts.append(banner("safety", f"Safety: {safety[0]}", safety[1]))
    for note in getattr(answer.safety, "notices", ()):
        parts.append(banner("info", "About your message", note))
    if answer.fallback:
        parts.append(banner("fallback", "The language model could not answer", answer.fallback))
    if answer.abstained:
        parts.append(banner("info", "Outside the guidance",
                            "The knowledge base does not cover this question, so the coach did not guess."))
    return "".join(parts)


def highlight(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """The draft with the words that triggered each criterion marked; problems win over strengths on overlap."""
    if not text:
        return ""
    bounds = sorted({0, len(text), *(max(0, min(len(text), p)) for s, e, _ in spans for p in (s, e))})
    out: list[str] = []
    for start, end in itertools.pairwise(bounds):
        covering = [c for s, e, c in spans if s <= start and end <= e and s < e]
        piece = esc(text[start:end])
        if not covering:
            out.append(piece)
            continue
        bad = [c for c in covering if c in NEGATIVE]
        kind = "bad" if bad else "good"
        label = ", ".join(CRITERION_LABELS.get(c, c) for c in (bad or covering))
        out.append(f'<mark class="ma-mark-{kind}" data-criterion="{esc((bad or covering)[0])}" '
                   f'title="{esc(label)}">{piece}</mark>')
    return "".join(out)


def render_feedback(report: FeedbackReport) -> str:
    """Score, one bar per criterion (points earned out of its weight), the highlighted draft and suggestions."""
    verdict = ('<span class="ma-verdict-good">Ready to deliver</span>' if report.good
               else '<span class="ma-verdict-bad">Not ready yet</span>')
    rows = []
    for name, result in report.criteria.items():
        weight = WEIGHTS.get(name, 0)
        earned = weight if result.passed else 0
        # A failed criterion keeps a short red stub so "0 points" still reads as a bar, not a gap.
        fill, width = ("pass", 100) if result.passed else ("fail", 6)
        evidence = f' title="{esc(", ".join(result.evidence))}"' if result.evidence else ""
        rows.append(
            f'<div{evidence}>{esc(CRITERION_LABELS.get(name, name))}</div>'
            f'<div class="ma-bar" role="meter" aria-label="{esc(name)}" aria-valuenow="{earned}" '
            f'aria-valuemax="{weight}" data-criterion="{esc(name)}" data-pass="{str(result.passed).lower()}">'
            f'<span class="ma-bar-{fill}" style="width:{width}%"></span></div>'
            f'<div class="ma-bar-value">{earned}/{weight}</div>'
        )
    tips = "".join(f"<li>{esc(tip)}</li>" for tip in report.suggestions)
    template = (f'<p class="ma-muted">Try this shape:</p><blockquote>{esc(report.template)}</blockquote>'
                if report.template and not report.good else "")
    return (
        f'<div class="ma-feedback" id="feedback-report"><div class="ma-score"><span class="ma-score-n" '
        f'id="feedback-score">{report.score}</span><span>/ 100</span>{verdict}</div>'
        f'<div class="ma-bars">{"".join(rows)}</div>'
        '<div class="ma-legend"><span><mark class="ma-mark-good">green</mark> what works</span>'
        '<span><mark class="ma-mark-bad">red</mark> what to change</span></div>'
        f'<div class="ma-highlight">{highlight(report.text, report.spans)}</div>'
        f'<h4>Suggestions</h4><ul id="feedback-suggestions">{tips or "<li>Nothing to change.</li>"}</ul>'
        f"{template}</div>"
    )


def render_chart(metrics: dict[str, float], title: str) -> str:
    """Horizontal CSS bars for the metrics that live in [0, 1]; others are listed in the table only."""
    rows = []
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            continue
        if isinstance(value, int) or evals_view.is_count(name):
            continue  # a count of 0 or 1 is not a score
        label = evals_view.metric_name(name)
        rows.append(
            f'<div title="{esc(evals_view.metric_meaning(name))}">{esc(label)}</div><div class="ma-bar" '
            f'role="meter" aria-label="{esc(label)}" '
            f'aria-valuenow="{value:.3f}"><span style="width:{value * 100:.1f}%"></span></div>'
            f'<div class="ma-bar-value">{value:.2f}</div>'
        )
    if not rows:
        return f'<p class="ma-muted">{esc(title)}: no metric between 0 and 1 to chart.</p>'
    return f'<h4>{esc(title)}</h4><div class="ma-chart" id="eval-chart">{"".join(rows)}</div>'


def documents_of(chunks: Sequence[Chunk]) -> list[dict[str, Any]]:
    """One row per source document, in title order."""
    docs: dict[str, dict[str, Any]] = {}
    for c in chunks:
        doc = docs.setdefault(c.source, {"title": c.title, "topic": c.topic, "step": c.step or "",
                                         "source": c.source, "chunks": 0, "mine": c.user_source})
        doc["chunks"] += 1
    return sorted(docs.values(), key=lambda d: (d["title"].lower(), d["source"]))


def chat_message(role: str, text: str) -> dict[str, str]:
    """A chat message as HTML the chatbots show as it is (render_markdown=False): the browser never parses the text
    as Markdown. A mentor's own words are plain text, escaped (the page keeps their line breaks), so the chat's
    edit box shows them exactly as typed; answers are rendered Markdown."""
    if role == "user":
        return {"role": role, "content": html.escape(text, quote=False)}
    return {"role": role, "content": render_markdown(text)}


def message_text(message: Any) -> str:
    """The text of a message as the chatbot hands it back: a string, or Gradio's list of content parts."""
    content = message.get("content", "") if isinstance(message, dict) else message
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def typed_text(shown: Any) -> str:
    """A question as the mentor typed it, from the escaped text the chat shows (or its edit box returns)."""
    return html.unescape(message_text(shown))


def _answer_after(turns: Sequence[int | None], index: int) -> int | None:
    """The first stored answer at or after message `index`: where the stored conversation must be cut."""
    return next((t for t in turns[index:] if t), None)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]], table_id: str, empty: str) -> str:
    """A plain, escaped table; each row carries its cells as data attributes for tests and scripts."""
    if not rows:
        return f'<p class="ma-muted" id="{esc(table_id)}">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td data-col="{esc(h)}">{esc(v)}</td>' for h, v in zip(headers, row, strict=True)) + "</tr>"
        for row in rows
    )
    return f'<div class="ma-table-wrap"><table class="ma-table" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>' \
           f"<tbody>{body}</tbody></table></div>"


# --- the callbacks ----------------------------------------------------------------------------------------------


class Workspace:
    """Callbacks for every tab; each takes widget values and returns widget values, nothing more."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.settings = rt.settings
        self.checker = FeedbackChecker()
        self.downloads = gradio_temp_dir(self.settings) / "downloads"
        self.has_model = self.settings.backend != "offline"
        self.checks = InputChecks(self.settings.max_message_chars, self.settings.max_uploads, self.has_model)
        self._stops: dict[str, float] = {}  # browser tab → when Stop was last pressed there

    # --- header -------------------------------------------------------------------------------------------------
    def header(self) -> str:
        try:
            docs = documents_of(self.rt.retriever.chunks)
        except USER_ERRORS as exc:
            log.warning("index not readable: %s", exc)
            return header_html(self.settings, problem=str(exc))
        return header_html(self.settings, len(docs), sum(d["chunks"] for d in docs))

    # --- coach --------------------------------------------------------------------------------------------------
    def chat_api(
        self, message: str, mode: str = "auto", session_id: str = "", request: gr.Request | None = None
    ) -> str:
        """The `/chat` endpoint: one grounded answer (Markdown with [n] citations). With a `session_id` from
        `/new_session` the exchange is stored in that conversation and later calls see its history."""
        if mode not in {m for _, m in MODE_CHOICES}:
            raise gr.Error(f"Unknown mode {mode!r}: use one of auto, chat, prepare, feedback, practice.")
        try:
            if session_id and not self.rt.sessions.has_session(session_id, owner=owner_of(request)):
                raise gr.Error(f"No conversation {session_id!r}: open one with /new_session.", print_exception=False)
            answer = self.rt.coach.ask(
                message, mode=mode, session_id=session_id or None, owner=owner_of(request), persist=bool(session_id)
            )
        except USER_ERRORS as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return answer.answer

    def new_session_api(self, request: gr.Request | None = None) -> str:
        """The `/new_session` endpoint: opens a stored conversation and returns its id for `/chat`."""
        try:
            return self.rt.sessions.create_session(title="API conversation", owner=owner_of(request))
        except USER_ERRORS as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def respond(
        self,
        message: str,
        history: list[dict[str, str]],
        turns: list[int | None],
        mode: str,
        mentee_id: str,
        session_id: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat; yields (chatbot, input, sources, notice, history, turns, session)."""
        history, turns = list(history or []), list(turns or [])
        sources_now = gr.skip()
        if not (message or "").strip():
            yield history, message, sources_now, banner("info", "Type a question first."), history, turns, session_id
            return
        pending = [*history, chat_message("user", message), {"role": "assistant", "content": "…"}]
        yield pending, "", sources_now, "", history, turns, session_id
        started = time.monotonic()
        try:
            stream = self.rt.coach.stream(
                message, mode=mode or "auto", session_id=session_id or None, mentee_id=mentee_id or None,
                owner=owner_of(request),
            )
            for text, answer in stream:
                if self._stop_pressed(request, started):
                    stream.close()  # before the answer is complete the coach stores nothing
                    self._forget(answer, session_id, request)
                    return
                pending[-1] = chat_message("assistant", text or "…")
                if answer is None:
                    yield pending, "", sources_now, "", history, turns, session_id
                    continue
                turns = [*turns, None, answer.extras.get("turn_id")]
                yield (pending, "", render_sources(answer.sources, answer.citations), render_notice(answer),
                       pending, turns, answer.session or session_id)
        except USER_ERRORS as exc:
            yield history, message, sources_now, error_banner(str(exc)), history, turns, session_id
        except Exception:
            log.exception("chat turn failed")
            yield history, message, sources_now, error_banner(INTERNAL_ERROR), history, turns, session_id

    def _stop_pressed(self, request: gr.Request | None, since: float) -> bool:
        """Whether Stop was pressed in this browser tab after the turn began. Gradio cancels the turn's event,
        but a step already running (a model that is slow to start, then the offline coach taking over) finishes
        on its own; this check ends the turn there."""
        key = getattr(request, "session_hash", None)
        return bool(key) and self._stops.get(str(key), 0.0) > since

    def _forget(self, answer: Answer | None, session_id: str, request: gr.Request | None) -> None:
        """A stopped answer is not kept: if the coach stored it in the step that finished, it is taken out again
        (with the conversation, when this turn had started it)."""
        if answer is None or not answer.session or not answer.extras.get("turn_id"):
            return
        owner = owner_of(request)
        self.rt.sessions.drop_exchanges_from(answer.session, int(answer.extras["turn_id"]), owner=owner)
        if not session_id and not self.rt.sessions.history(answer.session, owner=owner):
            self.rt.sessions.delete_session(answer.session, owner=owner)

    def _ask_again(
        self, index: int, question: str, history: list[dict[str, str]], turns: list[int | None], mode: str,
        mentee_id: str, session_id: str, request: gr.Request | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Cut the conversation at question `index` (on screen and in the store), then ask `question` there."""
        history, turns = list(history or []), list(turns or [])
        if not 0 <= index < len(history):
            yield history, gr.skip(), gr.skip(), banner("info", "That question is no longer in the chat."), history, \
                turns, session_id
            return
        cut = _answer_after(turns, index)
        if cut and session_id:
            try:
                self.rt.sessions.drop_exchanges_from(session_id, int(cut), owner=owner_of(request))
            except USER_ERRORS as exc:
                yield history, gr.skip(), gr.skip(), error_banner(str(exc)), history, turns, session_id
                return
        yield from self.respond(question, history[:index], turns[:index], mode, mentee_id, session_id, request)

    def regenerate(
        self, retry: gr.RetryData, history: list[dict[str, str]], turns: list[int | None], mode: str,
        mentee_id: str, session_id: str, request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """The chat's retry button under the last answer: the same question answered afresh, replacing the old
        answer (and anything after it) in the stored conversation."""
        index = retry.index if isinstance(retry.index, int) else retry.index[0]
        question = typed_text(retry.value) or typed_text(history[index] if 0 <= index < len(history or []) else "")
        yield from self._ask_again(index, question, history, turns, mode, mentee_id, session_id, request)

    def edit_question(
        self, edited: gr.EditData, history: list[dict[str, str]], turns: list[int | None], mode: str,
        mentee_id: str, session_id: str, request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """A question edited in the chat is sent again: its old answer and what followed are replaced."""
        index = edited.index if isinstance(edited.index, int) else edited.index[0]
        question = typed_text(edited.value)
        if not question.strip() or question.strip() == typed_text(edited.previous_value).strip():
            history = list(history or [])
            yield history, gr.skip(), gr.skip(), gr.skip(), history, list(turns or []), session_id  # nothing changed
            return
        yield from self._ask_again(index, question, history, turns, mode, mentee_id, session_id, request)

    def stop_answer(
        self, shown: list[dict[str, Any]], history: list[dict[str, str]], turns: list[int | None],
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Stop pressed while an answer streams (Gradio cancels its event; `respond` ends a step still running):
        the words so far stay on screen, marked as stopped, and are not stored.
        (chatbot, history, turns, notice, send, stop)"""
        key = getattr(request, "session_hash", None)
        if key:
            self._stops[str(key)] = time.monotonic()
        history, turns = list(history or []), list(turns or [])
        idle = (gr.update(visible=True), gr.update(visible=False))
        if len(shown or []) <= len(history):
            return history, history, turns, "", *idle
        kept = [{"role": m.get("role", "user"), "content": message_text(m)} for m in shown[: len(history) + 2]]
        if kept[-1]["role"] == "assistant":
            partial = kept[-1]["content"].removesuffix("…") if kept[-1]["content"] != "…" else ""
            kept[-1]["content"] = partial + '<p class="ma-stopped"><em>Stopped. This answer was not saved.</em></p>'
        turns += [None] * (len(kept) - len(history))
        notice = banner("info", "Stopped.", " Retry under the answer, or edit the question, to ask it again.")
        return kept, kept, turns, notice, *idle

    @staticmethod
    def answering(steps: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """A chat turn's steps plus the Ask and Stop buttons: Stop shows while the answer is written."""
        busy = (gr.update(visible=False), gr.update(visible=True))
        idle = (gr.update(visible=True), gr.update(visible=False))
        last: tuple[Any, ...] | None = None
        for step in steps:
            yield (*step, *busy)
            last = step
        if last is not None:  # the finished turn once more, with Ask back in place of Stop
            yield (*last, *idle)

    # The events the page wires: the same turns with the Ask / Stop buttons as two more outputs.
    def respond_ui(
        self, message: str, history: list[dict[str, str]], turns: list[int | None], mode: str, mentee_id: str,
        session_id: str, request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        yield from self.answering(self.respond(message, history, turns, mode, mentee_id, session_id, request))

    def regenerate_ui(
        self, retry: gr.RetryData, history: list[dict[str, str]], turns: list[int | None], mode: str,
        mentee_id: str, session_id: str, request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        yield from self.answering(self.regenerate(retry, history, turns, mode, mentee_id, session_id, request))

    def edit_ui(
        self, edited: gr.EditData, history: list[dict[str, str]], turns: list[int | None], mode: str,
        mentee_id: str, session_id: str, request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        yield from self.answering(self.edit_question(edited, history, turns, mode, mentee_id, session_id, request))

    @_friendly
    def conversation_list(self, words: str, current: str, request: gr.Request | None = None) -> str:
        """The conversations beside the chat: titles containing `words`, newest first, the open one marked."""
        return self._conversations(words, current, "conversation-list", request)

    def _conversations(self, words: str, current: str | None, list_id: str, request: gr.Request | None) -> str:
        owner = owner_of(request)
        every = self.rt.sessions.list_sessions(owner=owner)
        found = self.rt.sessions.search_sessions(words or "", owner=owner) if (words or "").strip() else every
        return conversations.conversation_list(found, current, list_id, words or "",
                                               numbers=conversations.title_numbers(every))

    def open_clicked(self, clicked: gr.EventData, request: gr.Request | None = None) -> tuple[Any, ...]:
        """A conversation clicked in the list beside the chat opens in it (the Coach tab is already showing)."""
        return self.open_session(str(getattr(clicked, "session", "") or ""), request)[:-1]

    def use_example(self, picked: gr.SelectData) -> str:
        """The example prompt a user clicked, into the question box (the send chained after it reads the box)."""
        value = picked.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value or "")

    def new_conversation(self) -> tuple[Any, ...]:
        """(chatbot, history, turns, session, sources, notice, rating status)"""
        return [], [], [], "", render_sources([]), "", ""

    @_friendly
    def rate_last(self, value: int, comment: str, turns: list[int | None], request: gr.Request | None = None) -> str:
        turn_id = next((t for t in reversed(turns or []) if t), None)
        if turn_id is None:
            return "Ask a question first; then you can rate the answer."
        self.rt.sessions.rate(int(turn_id), value, (comment or "").strip(), owner=owner_of(request))
        return "Thanks: your rating was saved with the conversation." + (" Comment included." if comment else "")

    def rate_up(self, comment: str, turns: list[int | None], request: gr.Request | None = None) -> str:
        return self.rate_last(1, comment, turns, request)

    def rate_down(self, comment: str, turns: list[int | None], request: gr.Request | None = None) -> str:
        return self.rate_last(-1, comment, turns, request)

    @_friendly
    def rate_message(self, data: gr.LikeData, comment: str, turns: list[int | None],
                     request: gr.Request | None = None) -> str:
        """The thumbs under each answer in the chat: the one rating control, with the optional comment box."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn_id = turns[index] if 0 <= index < len(turns or []) else None
        if not turn_id:
            return "That message cannot be rated."
        if data.liked not in (True, False, "Like", "Dislike"):
            return "Thumb cleared. Your earlier rating stays saved until you choose again."
        value = 1 if data.liked in (True, "Like") else -1
        comment = (comment or "").strip()
        self.rt.sessions.rate(int(turn_id), value, comment, owner=owner_of(request))
        kind = "Helpful" if value == 1 else "Not helpful"
        return f"Thanks: “{kind}” was saved with the conversation." + (" Comment included." if comment else "")

    def mentee_choices(self, request: gr.Request | None = None) -> Any:
        mentees = self.rt.sessions.list_mentees(owner=owner_of(request))
        return gr.Dropdown(choices=[("No mentee selected", NO_MENTEE)] + [(m.name, m.id or "") for m in mentees])

    # --- sessions -----------------------------------------------------------------------------------------------
    @_friendly
    def sessions_view(self, words: str, selected: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """(selected conversation, list, preview) for the Sessions tab: titles containing `words`, newest first;
        the selection stays if it is still listed, else the newest one is selected."""
        owner = owner_of(request)
        found = self.rt.sessions.search_sessions(words or "", owner=owner)
        ids = [r.id for r in found]
        chosen = selected if selected in ids else (ids[0] if ids else "")
        listed = self._conversations(words, chosen, "sessions-list", request)
        return chosen, listed, self.preview_session(chosen, request)

    def pick_session(self, clicked: gr.EventData, words: str, request: gr.Request | None = None) -> tuple[Any, ...]:
        """A row clicked in the Sessions list: it is selected and previewed."""
        return self.sessions_view(words, str(getattr(clicked, "session", "") or ""), request)

    @_friendly
    def preview_session(self, session_id: str | None, request: gr.Request | None = None) -> str:
        if not session_id:
            return md_to_html("*No conversation selected. Conversations you have in the Coach tab are saved here.*")
        return md_to_html(self.rt.sessions.export_markdown(session_id, owner=owner_of(request)))

    @_friendly
    def open_session(self, session_id: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """Load a stored conversation into the Coach tab: (chatbot, history, turns, session, mentee, sources,
        notice, tabs)."""
        if not session_id:
            raise gr.Error("Choose a conversation to open.")
        owner = owner_of(request)
        record = self.rt.sessions.get_session(session_id, owner=owner)
        if record is None:
            raise gr.Error("That conversation no longer exists; refresh the list.")
        history: list[dict[str, str]] = []
        turns: list[int | None] = []
        last_sources: list[dict[str, Any]] = []
        for turn in self.rt.sessions.history(session_id, owner=owner):
            history.append(chat_message(turn.role, turn.content))
            turns.append(turn.id if turn.role == "assistant" else None)
            if turn.role == "assistant":
                last_sources = turn.sources
        cited = [int(n) for n in _CITATION.findall(history[-1]["content"])] if history else []
        notice = banner("info", f"Resumed: {record.title}", " New questions continue this conversation.")
        return (history, history, turns, session_id, record.mentee_id or NO_MENTEE,
                render_sources(last_sources, cited), notice, gr.Tabs(selected="coach"))

    @_friendly
    def rename_session(
        self, session_id: str | None, title: str, words: str = "", request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """(status, selected, list, preview, cleared title box): the new title shows in the list and the preview."""
        if not session_id:
            raise gr.Error("Choose a conversation to rename.")
        self.rt.sessions.rename_session(session_id, title, owner=owner_of(request))
        return (banner("ok", "Renamed."), *self.sessions_view(words, session_id, request), "")

    @_friendly
    def delete_session(self, session_id: str | None, request: gr.Request | None = None) -> tuple[Any, Any]:
        """(status, selected): nothing is selected afterwards, so the list's refresh selects the newest one."""
        if session_id == CANCELLED:
            return gr.skip(), gr.skip()
        if not session_id:
            raise gr.Error("Choose a conversation to delete.")
        self.rt.sessions.delete_session(session_id, owner=owner_of(request))
        return banner("ok", "Deleted the conversation and its ratings."), ""

    @_friendly
    def export_session(self, session_id: str | None, request: gr.Request | None = None) -> Any:
        if not session_id:
            raise gr.Error("Choose a conversation to export.")
        owner = owner_of(request)
        text = self.rt.sessions.export_markdown(session_id, owner=owner)
        record = self.rt.sessions.get_session(session_id, owner=owner)
        return _shown(_download(self.downloads, f"{_slug(record.title if record else '', 'conversation')}.md", text))

    # --- feedback studio ----------------------------------------------------------------------------------------
    def check_feedback(self, text: str) -> str:
        if not (text or "").strip():
            return banner("info", "Paste or write a draft first.", " Then check it here.")
        try:
            text = check_message(text, self.settings.max_message_chars)
        except LimitError as exc:
            return error_banner(f"{exc} Check one piece of feedback at a time.")
        return render_feedback(self.checker.check(text))

    def draft(self, situation: str, behavior: str, impact: str, request: str) -> tuple[str, str]:
        """(draft text, its check) from the four parts of the form."""
        if not any((p or "").strip() for p in (situation, behavior, impact, request)):
            return "", banner("info", "Fill in at least the situation and the behaviour.")
        text = draft_feedback(situation or "", behavior or "", impact or "", request or "")
        return text, self.check_feedback(text)

    # --- practice -----------------------------------------------------------------------------------------------
    def practice_options(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        from assistant.practice import PERSONAS, SCENARIOS
        from assistant.practice.own import OWN_ID

        scenarios = [(s.title, key) for key, s in SCENARIOS.items()] + [("Your own situation\u2026", OWN_ID)]
        return scenarios, [(p.label, key) for key, p in PERSONAS.items()]

    def scenario_brief(self, scenario_id: str | None, persona_id: str | None = None) -> str:
        from assistant.practice import PERSONAS, SCENARIOS
        from assistant.practice.own import OWN_ID

        scenario, persona = SCENARIOS.get(scenario_id or ""), PERSONAS.get(persona_id or "")
        own = ("**Your situation.** Describe the conversation you want to practise, in a sentence or two: who, "
               "what it is about, and how they tend to react (for example: *telling Omar he won't be on the new "
               "project; he gets defensive*). A persona named there replaces the one chosen here.")
        parts = [own if scenario_id == OWN_ID else f"**The situation.** {scenario.brief}" if scenario else "",
                 f"**Your mentee.** {persona.description}" if persona else ""]
        return md_to_html("\n\n".join(p for p in parts if p))

    def situation_box(self, scenario_id: str | None) -> Any:
        from assistant.practice.own import OWN_ID

        return gr.Textbox(visible=scenario_id == OWN_ID)

    def _practice_tools(self) -> dict[str, Any]:
        """The move classifier for the configured encoder, and the model's voice when a remote backend is set."""
        from assistant.practice import classifier_for
        from assistant.practice_chat import _voice

        classifier = classifier_for(self.rt.embedder, self.settings.data_dir / "cache")
        return {"classifier": classifier, "voice": _voice(self.rt)}

    @_friendly
    def start_practice(self, scenario_id: str | None, persona_id: str | None, situation: str = "") -> tuple[Any, ...]:
        """(practice chat, state, debrief, tension)"""
        from assistant.practice import PracticeSession
        from assistant.practice.own import OWN_ID, build_scenario

        if not scenario_id or not persona_id:
            raise gr.Error("Choose a scenario and a persona first.")
        scenario: Any = scenario_id
        if scenario_id == OWN_ID:
            if not (situation or "").strip():
                raise gr.Error("Describe your situation first: who you will talk to and what it is about.")
            situation = check_message(situation, self.settings.max_message_chars)
            scenario, persona_id = build_scenario(situation, self.rt.embedder, persona_id)
        # A fresh seed per role-play, so a second run of the same scenario does not replay the same lines.
        session = PracticeSession(scenario, persona_id, session_id=uuid.uuid4().hex, **self._practice_tools())
        intro = f"*{session.scenario.title}. You are talking to a {session.persona.label.lower()} mentee.*"
        chat = [chat_message("assistant", f"{intro}\n\n{session.opening()}")]
        return chat, session.to_dict(), "", tension_html(session.transcript[0])

    @_friendly
    def practice_reply(self, message: str, chat: list[dict[str, str]], state: dict[str, Any] | None) -> tuple[Any, ...]:
        """(practice chat, input, state, tension)"""
        from assistant.practice import PracticeSession

        if not state:
            raise gr.Error("Start a practice session first: choose a scenario and a persona, then press Start.")
        if not (message or "").strip():
            raise gr.Error("Type what you would say to your mentee.")
        message = check_message(message, self.settings.max_message_chars)
        session = PracticeSession.from_dict(state, **self._practice_tools())
        turn = session.reply(message)
        chat = [*(chat or []), chat_message("user", message), chat_message("assistant", turn.text)]
        note = session.fallbacks[-1] if session.fallbacks else ""
        return chat, "", session.to_dict(), tension_html(turn, note)

    @_friendly
    def end_practice(self, state: dict[str, Any] | None) -> tuple[str, Any]:
        """(debrief Markdown, cleared state)"""
        from assistant.practice import PracticeSession

        if not state:
            raise gr.Error("There is no practice session to end. Start one first.")
        session = PracticeSession.from_dict(state)
        debrief = session.debrief(guidance=self._guidance)
        return md_to_html(debrief.as_markdown()), None

    def end_or_explain(self, state: dict[str, Any] | None) -> tuple[Any, Any, Any]:
        """(debrief, state, note under the buttons): with nothing to end, a short note sits under End instead."""
        if not state:
            return gr.skip(), None, banner("info", "Nothing to end yet.", " Press Start practice first.")
        debrief, cleared = self.end_practice(state)
        return debrief, cleared, gr.skip()

    def _guidance(self, query: str) -> list[tuple[str, str]]:
        return [(h.chunk.title, h.chunk.source) for h in self.rt.retriever.search(query, k=3)]

    # --- mentees ------------------------------------------------------------------------------------------------
    def mentee_list(self, request: gr.Request | None = None, value: str | None = NEW_MENTEE) -> Any:
        mentees = self.rt.sessions.list_mentees(owner=owner_of(request))
        choices = [("New mentee…", NEW_MENTEE)] + [(m.name, m.id or "") for m in mentees]
        return gr.Dropdown(choices=choices, value=value)

    @_friendly
    def load_mentee(self, mentee_id: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """(name, level, goals, learning, communication, cultural, notes, journey, reflections)"""
        owner = owner_of(request)
        profile = self.rt.sessions.get_mentee(mentee_id, owner=owner) if mentee_id else None
        if profile is None:
            return "", "", "", "", "", "", "", [], "*Save the profile to keep reflection notes.*"
        done = [step for step, ok in self.rt.sessions.journey(profile.id or "", owner=owner).items() if ok]
        return (profile.name, profile.experience_level, profile.goals, profile.learning_preferences,
                profile.communication_preferences, profile.cultural_notes, profile.notes, done,
                self._reflections(profile.id or "", owner))

    @_friendly
    def save_mentee(
        self, mentee_id: str | None, name: str, level: str, goals: str, learning: str, communication: str,
        cultural: str, notes: str, request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """(status, mentee dropdown, coach mentee dropdown)"""
        if not (name or "").strip():
            raise gr.Error("Give the mentee a name or an alias before saving.")
        profile = MenteeProfile(
            id=mentee_id or None, name=name, experience_level=level or "", goals=goals or "",
            learning_preferences=learning or "", communication_preferences=communication or "",
            cultural_notes=cultural or "", notes=notes or "",
        )
        saved = self.rt.sessions.save_mentee(profile, owner=owner_of(request))
        return (banner("ok", f"Saved {name.strip()}."), self.mentee_list(request, saved),
                self.mentee_choices(request))

    @_friendly
    def delete_mentee(self, mentee_id: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """(status, mentee dropdown, coach mentee dropdown)"""
        if mentee_id == CANCELLED:
            return gr.skip(), gr.skip(), gr.skip()
        if not mentee_id:
            raise gr.Error("Choose a saved mentee to delete.")
        self.rt.sessions.delete_mentee(mentee_id, owner=owner_of(request))
        return (banner("ok", "Deleted the profile, its journey and its notes.", " Conversations are kept."),
                self.mentee_list(request), self.mentee_choices(request))

    @_friendly
    def set_journey(self, mentee_id: str | None, done: list[int], request: gr.Request | None = None) -> tuple[str, Any]:
        """(status, ticked steps): the boxes always show what is stored, so a step ticked before the profile is
        saved is unticked again rather than looking saved."""
        if not mentee_id:
            return "*Save the profile first to track the journey.*", []
        owner = owner_of(request)
        current = self.rt.sessions.journey(mentee_id, owner=owner)
        wanted = {int(step) for step in done or []}
        for step, was_done in current.items():
            if (step in wanted) != was_done:
                self.rt.sessions.set_step(mentee_id, step, step in wanted, owner=owner)
        stored = sorted(step for step, ok in self.rt.sessions.journey(mentee_id, owner=owner).items() if ok)
        return f"Journey saved: {len(stored)} of {len(JOURNEY_STEPS)} steps done.", stored

    def step_guidance(self, step: int | None) -> str:
        """The guidance written for one journey step, straight from the index; each title opens that document in
        the Knowledge tab (a click the page reports with the document's source)."""
        if not step:
            return ""
        step = int(step)
        docs = [d for d in documents_of(self.rt.retriever.chunks) if d["step"] == step]
        if not docs:
            hits = self.rt.retriever.search(JOURNEY_STEPS[step - 1], k=4)
            docs = [{"title": h.chunk.title, "topic": h.chunk.topic, "source": h.chunk.source} for h in hits]
        items = "".join(
            f'<li><button type="button" class="ma-doc-link" data-source="{esc(d["source"])}" '
            f'title="Open it in the Knowledge tab">{esc(d["title"])}</button>'
            f' <span class="ma-muted">({esc(topic_label(d["topic"]))})</span></li>'
            for d in docs
        )
        return (f'<div id="step-guidance-list"><p><strong>Step {step}: {esc(JOURNEY_STEPS[step - 1])}</strong></p>'
                f'<ul>{items}</ul><p class="ma-muted">Click a title to read it in the Knowledge tab.</p></div>')

    @_friendly
    def open_guide(self, clicked: gr.EventData) -> tuple[Any, ...]:
        """A guide clicked under a journey step, opened in the Knowledge tab:
        (tabs, topic, step, words, table, document picker, viewer)."""
        source = str(getattr(clicked, "source", "") or "")
        table, picker = self.browse("", 0, "")
        chosen = gr.Dropdown(choices=picker.choices, value=source)
        return gr.Tabs(selected="knowledge"), "", 0, "", table, chosen, self.view_document(source)

    @_friendly
    def add_reflection(self, mentee_id: str | None, text: str, request: gr.Request | None = None) -> tuple[str, str]:
        """(reflections, cleared box)"""
        if not mentee_id:
            raise gr.Error("Choose or save a mentee before adding a note.")
        if len(text or "") > self.settings.max_message_chars:
            raise LimitError(f"The note is {len(text)} characters; the limit is {self.settings.max_message_chars}.")
        owner = owner_of(request)
        self.rt.sessions.add_reflection(mentee_id, text, owner=owner)
        return self._reflections(mentee_id, owner), ""

    def _reflections(self, mentee_id: str, owner: str) -> str:
        notes = self.rt.sessions.reflections(mentee_id, owner=owner)
        if not notes:
            return md_to_html("*No reflection notes yet.*")
        return md_to_html("\n\n".join(f"**{n.created_at:%Y-%m-%d %H:%M}** · {n.text}" for n in notes))

    @_friendly
    def export_mentee(self, mentee_id: str | None, request: gr.Request | None = None) -> Any:
        if not mentee_id:
            raise gr.Error("Choose a saved mentee to export.")
        data = self.rt.sessions.export_mentee(mentee_id, owner=owner_of(request))
        name = _slug(str(data.get("profile", {}).get("name", "")), "mentee")
        return _shown(_download(self.downloads, f"{name}.json", json.dumps(data, indent=2, ensure_ascii=False)))

    # --- knowledge ----------------------------------------------------------------------------------------------
    @_friendly
    def browse(self, topic: str | None, step: int | None, contains: str, current: str | None = None) -> tuple[Any, Any]:
        """(table, document dropdown) filtered by topic, step and words in the title; the open document stays open
        while it is still listed."""
        docs = documents_of(self.rt.retriever.chunks)
        needle = (contains or "").strip().lower()
        docs = [d for d in docs if (not topic or d["topic"] == topic) and (not step or d["step"] == int(step))
                and (not needle or needle in d["title"].lower())]
        table = html_table(
            ["Title", "Topic", "Step", "Passages"],
            [[d["title"], topic_label(d["topic"]), d["step"], d["chunks"]] for d in docs],
            "knowledge-table", "No guidance matches these filters.",
        )
        choices = [(d["title"], d["source"]) for d in docs]
        if not current or current in {source for _, source in choices}:
            # The open document stays; an empty picker is left alone too, as a document opened from elsewhere
            # (a journey step's guide) may be arriving in the same moment as this refresh.
            return table, gr.Dropdown(choices=choices)
        return table, gr.Dropdown(choices=choices, value=None)

    @_friendly
    def view_document(self, source: str | None) -> str:
        if not source:
            return md_to_html("*Choose a document to read it here.*")
        chunks = [c for c in self.rt.retriever.chunks if c.source == source]
        if not chunks:
            return md_to_html("*That document is no longer in the index.*")
        first = chunks[0]
        meta = f"*{first.topic}" + (f" · step {first.step}: {JOURNEY_STEPS[first.step - 1]}" if first.step else "")
        body = "\n\n".join(c.text for c in chunks)
        return md_to_html(f"{meta} · {first.source}*\n\n{body}")

    @_friendly
    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        """Check each upload, copy it into the uploads folder under a safe name, then ingest and refresh."""
        if not files:
            raise gr.Error("Choose one or more documents (.md, .txt, .pdf, .docx) first.")
        if len(files) > self.settings.max_uploads:
            raise LimitError(
                f"{len(files)} files were chosen; at most {self.settings.max_uploads} can be added at once."
            )
        self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        accepted: list[Path] = []
        refused: list[str] = []
        for item in files:
            path = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
            try:
                accepted.append(self._accept_upload(path))
            except USER_ERRORS as exc:
                refused.append(f"{path.name}: {exc}")
        before = own_documents.indexed_ids(self.rt.ingestor)
        report = self._ingest(accepted, rebuild=False, progress=progress) if accepted else None
        kept, not_indexed = own_documents.upload_outcomes(
            self.rt.ingestor, accepted, before, report.skipped if report else []
        )
        # A copy the index did not take (unreadable, empty) is deleted, so a rebuild does not report it again.
        own_documents.drop_unindexed_uploads(self.rt.ingestor, accepted)
        return upload_summary(kept, not_indexed + refused)

    def _accept_upload(self, path: Path) -> Path:
        """Check the file, refuse a copy of a document already indexed, then keep it in the uploads folder."""
        target = self.settings.uploads_dir / safe_upload_name(path.name)
        check_upload(path, int(self.settings.max_upload_mb * 1024 * 1024))
        twin = own_documents.same_content_as(self.rt.ingestor, path, target)
        if twin:
            raise InputError(f"same content as “{twin}”, which is already in the index, so it was not added again")
        shutil.copyfile(path, target)
        return target

    @_friendly
    def own_document_choices(self) -> Any:
        """The documents users added, for the remove picker."""
        docs = own_documents.own_documents(self.rt.ingestor)
        return gr.Dropdown(choices=[(f"{d.title} ({Path(d.source).name})", d.source) for d in docs], value=None)

    @_friendly
    def remove_own_document(self, source: str | None) -> tuple[str, Any]:
        """(status, refreshed picker): the document's passages leave the index and its uploaded copy is deleted."""
        if source == CANCELLED:
            return gr.skip(), gr.skip()
        if not source:
            raise gr.Error("Choose one of your documents first.")
        removed = own_documents.remove_document(self.rt.ingestor, source)
        self.rt.retriever.refresh(force=True)
        copy = " and its uploaded copy" if removed.upload_deleted else ""
        status = banner("ok", f"Removed “{removed.title}”.",
                        f" Its {removed.chunks} passage{'s' if removed.chunks != 1 else ''}{copy} are gone; "
                        "answers no longer cite it.")
        return status, self.own_document_choices()

    @_friendly
    def rebuild(self, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        # A rebuild starts from an empty index, so the documents users added must be named again to stay in it.
        # The ingestor names the ones already indexed itself; naming them twice reported each as a duplicate.
        uploads = self.settings.uploads_dir
        indexed = set(own_documents.indexed_ids(self.rt.ingestor))
        mine = sorted(p for p in uploads.iterdir() if p.is_file()) if uploads.is_dir() else []
        from assistant.knowledge import source_name

        mine = [p for p in mine if source_name(p, self.settings) not in indexed]
        report = self._ingest(mine, rebuild=True, progress=progress)
        dropped = own_documents.drop_unindexed_uploads(self.rt.ingestor, mine)
        return rebuild_summary(report, dropped)

    def _ingest(self, paths: list[Path], rebuild: bool, progress: gr.Progress) -> Any:
        def tick(done: int, total: int, name: str) -> None:
            progress(done / total if total else 1.0, desc=f"Indexing {name}")

        progress(0.0, desc="Opening the index")
        report = self.rt.ingestor.run(paths, rebuild=rebuild, progress=tick)
        self.rt.retriever.refresh(force=True)
        return report


    # --- evals --------------------------------------------------------------------------------------------------
    def suites(self) -> list[str]:
        from assistant.evals import SUITES

        return evals_view.suite_choices(SUITES, self.has_model)

    def hidden_suites_note(self) -> str:
        from assistant.evals import SUITES

        return evals_view.hidden_suites_note(SUITES, self.has_model)

    def suite_note(self, suite: str | None) -> str:
        return SUITE_NOTES.get(suite or "", "")

    @_friendly
    def run_eval(self, suite: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """(status, metrics table, chart, report file)"""
        from assistant.evals import run_suite, write_reports

        if not suite:
            raise gr.Error("Choose a suite to run.")

        def tick(done: int, total: int) -> None:
            progress(done / total if total else 1.0, desc=f"{suite}: case {done} of {total}")

        progress(0.0, desc=f"Running the {suite} suite")
        result = run_suite(self.rt, suite, progress=tick)
        out_dir = self.settings.data_dir / "reports"
        html_report = Path(write_reports([result], out_dir)["html"])
        download = _download(self.downloads, "report.html", html_report.read_text(encoding="utf-8"))
        if result.skipped:
            status = banner("info", f"The {suite} suite did not run.", f" {result.metrics['skipped']}.")
            return status, "", "", _shown(download)
        headline = {k: v for k, v in result.metrics.items() if not isinstance(v, dict)}
        table = evals_view.headline_table(headline) + evals_view.group_tables(result.metrics)
        failing = len(result.failed_cases)
        status = banner("ok", f"The {suite} suite finished: {len(result.cases)} cases, {failing} failing.",
                        " The full report is below to download.")
        chart = render_chart(headline, f"{suite}: scores between 0 and 1") + evals_view.failing_cases(result.cases)
        return status, table, chart, _shown(download)


def upload_summary(kept: list[str], refused: list[str]) -> str:
    """What an upload did, file by file: the status names what was added and why anything was not."""
    changed = [line for line in kept if "unchanged" not in line]
    if changed:
        title = f"Added {len(changed)} document{'s' if len(changed) != 1 else ''}. Answers can cite it now."
    else:
        title = "Nothing new was added."
    lines = [f"<strong>{esc(title)}</strong>"]
    if kept:
        lines.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in kept) + "</ul>")
    if refused:
        lines.append(f"<strong>Not added ({len(refused)}):</strong><ul>"
                     + "".join(f"<li>{esc(line)}</li>" for line in refused) + "</ul>")
    kind = "ok" if changed and not refused else "info" if changed or not refused else "error"
    return f'<div class="ma-banner ma-{kind}" role="status" id="knowledge-outcome">{"".join(lines)}</div>'


def rebuild_summary(report: Any, dropped: list[Path]) -> str:
    """A rebuild's outcome: how much is indexed, and the files that could not be read (their copies deleted)."""
    title = f"Index rebuilt: {report.files} documents, {report.chunks} passages."
    problems = [f"{Path(p).name}: {why}" for p, why in report.skipped]
    body = ""
    if problems:
        body = (f"<strong>Could not index ({len(problems)}):</strong><ul>"
                + "".join(f"<li>{esc(p)}</li>" for p in problems) + "</ul>")
    if dropped:
        body += f'<p class="ma-muted">Deleted {len(dropped)} uploaded copies that could not be indexed.</p>'
    kind = "info" if problems else "ok"
    return f'<div class="ma-banner ma-{kind}" role="status" id="knowledge-outcome"><strong>{esc(title)}</strong>' \
           f"{body}</div>"


BAND_LABELS: dict[str, str] = {"low": "open and calm", "mid": "guarded", "high": "shut down or heated"}


def tension_html(turn: Any, note: str = "") -> str:
    """How the role-played mentee feels after the last exchange, and what the mentor's last line did."""
    from assistant.practice import MAX_TENSION, band_for, move_info

    if turn is None:
        return ""
    level = max(0, min(MAX_TENSION, int(turn.tension)))
    band_id = band_for(level)
    band = BAND_LABELS.get(band_id, "")
    colour = {"low": "pass", "mid": "mid"}.get(band_id, "fail")
    info = move_info()
    move = info[turn.move].label if getattr(turn, "move", None) in info else ""
    said = f'<p class="ma-muted">Your last line: {esc(move)}</p>' if move else ""
    revealed = getattr(turn, "revealed", None) is not None
    shared = '<p class="ma-muted">They told you something new.</p>' if revealed else ""
    fallback = f'<p class="ma-muted">{esc(note)}</p>' if note else ""
    return (
        f'<div class="ma-tension" id="practice-tension"><strong>Mentee tension: {level}/{MAX_TENSION}</strong> '
        f'<span class="ma-muted">({esc(band)})</span>'
        f'<div class="ma-bar" role="meter" aria-label="tension" aria-valuenow="{level}" aria-valuemax="{MAX_TENSION}">'
        f'<span class="ma-bar-{colour}" style="width:{max(6, level * 100 // MAX_TENSION)}%"></span></div>{said}'
        f"{shared}{fallback}</div>"
    )


# --- layout -----------------------------------------------------------------------------------------------------


def build_app(rt: Runtime) -> gr.Blocks:
    """The whole workspace; wiring only, the callbacks live in `Workspace`."""
    settings = rt.settings
    _route_gradio_files(settings)
    ws = Workspace(rt)
    with gr.Blocks(title=APP_TITLE, analytics_enabled=False) as app:
        # The header also carries the page's small script (citations, scrolling): see assistant/workspace/client.py.
        header = gr.HTML(header_html(settings), elem_id="ma-header", js_on_load=WORKSPACE_JS)
        with gr.Tabs(selected="coach", elem_id="ma-tabs") as tabs:
            coach = _coach_tab(ws)
            _sessions_tab(ws, coach, tabs)
            _feedback_tab(ws)
            _practice_tab(ws)
            mentees = _mentees_tab(ws, coach)
            knowledge = _knowledge_tab(ws, header)
            _evals_tab(ws)
        app.load(ws.header, outputs=header, api_visibility="private")
        app.load(ws.mentee_choices, outputs=coach["mentee"], api_visibility="private")
        app.load(**coach["refresh"])
        app.load(ws.mentee_list, outputs=mentees["pick"], api_visibility="private")
        # A guide named under a journey step opens in the Knowledge tab.
        mentees["guidance"].click(
            ws.open_guide, None,
            [tabs, knowledge["topic"], knowledge["step"], knowledge["contains"], knowledge["table"], knowledge["doc"],
             knowledge["viewer"]],
            api_visibility="private",
        )
        gr.api(ws.chat_api, api_name="chat", api_description="Ask the coach; returns a Markdown answer citing [n].",
               concurrency_id="chat")
        gr.api(ws.new_session_api, api_name="new_session", api_description="Open a stored conversation for /chat.")
    return app


def _route_gradio_files(settings: Settings) -> None:
    # Gradio reads its upload/cache folder from the environment when components and the server are created.
    folder = gradio_temp_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)


def _coach_tab(ws: Workspace) -> dict[str, Any]:
    with gr.Tab("Coach", id="coach"):
        # The ids let the phone layout put the sources right under the conversation (see CSS).
        with gr.Row(equal_height=False, elem_id="coach-row"):
            with gr.Column(scale=3, min_width=210, elem_id="coach-sidebar"):
                new = gr.Button("New conversation", variant="secondary", elem_id="coach-new")
                search = gr.Textbox(show_label=False, placeholder="Search conversations", container=False,
                                    elem_id="conversation-search", max_lines=1)
                listed = gr.HTML(conversations.conversation_list([], None, "conversation-list"),
                                 elem_id="coach-conversations", js_on_load=conversations.LIST_JS)
            with gr.Column(scale=7, elem_id="coach-main"):
                notice = gr.HTML(elem_id="coach-notice")
                chatbot = gr.Chatbot(
                    label="Conversation", height=500, elem_id="coach-chat", buttons=["copy"], render_markdown=False,
                    latex_delimiters=[], editable="user",
                    placeholder="Describe the situation or ask a question, or start from one of these. Answers "
                                "cite the guidance they use as [n]: click a number to open that passage.",
                    # New answers open at their first line (assistant/workspace/client.py), not at their end.
                    autoscroll=False,
                    examples=[{"text": example} for example in EXAMPLES],
                )
                with gr.Row(equal_height=True, elem_id="coach-ask-row"):
                    message = gr.Textbox(
                        label="Your question", show_label=False,
                        placeholder="e.g. How do I give feedback to a mentee who gets defensive?",
                        lines=1, max_lines=6, scale=8, elem_id="coach-input", autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="coach-send")
                    stop = gr.Button("Stop", variant="stop", scale=1, visible=False, elem_id="coach-stop")
                with gr.Row():
                    mode = gr.Dropdown(MODE_CHOICES, value="auto", label="Mode", elem_id="coach-mode")
                    mentee = gr.Dropdown([("No mentee selected", NO_MENTEE)], value=NO_MENTEE,
                                         label="Tailor to mentee", elem_id="coach-mentee")
                # One rating control per answer: the thumbs under it; this box adds an optional comment.
                with gr.Row(equal_height=True, elem_id="rating-row"):
                    comment = gr.Textbox(
                        show_label=False, placeholder="Optional comment, saved with your thumbs up or down",
                        elem_id="rate-comment", container=False,
                    )
                rating = gr.Markdown(elem_id="rate-status")
            with gr.Column(scale=5, elem_id="sources-column"):
                sources = gr.HTML(render_sources([]), elem_id="sources-panel")
        history, turns, session = gr.State([]), gr.State([]), gr.State("")

    chat_inputs = [message, history, turns, mode, mentee, session]
    # Every way of starting an answer streams into the same outputs, with Ask swapped for Stop meanwhile.
    chat_outputs = [chatbot, message, sources, notice, history, turns, session, send, stop]
    turn = {"api_visibility": "private", "show_progress": "minimal", "concurrency_id": "chat"}
    answering = [trigger(ws.respond_ui, chat_inputs, chat_outputs, validator=ws.checks.question, **turn)
                 for trigger in (send.click, message.submit)]
    # An example prompt is sent at once, as if typed and asked.
    answering.append(chatbot.example_select(ws.use_example, None, message, api_visibility="private").then(
        ws.respond_ui, chat_inputs, chat_outputs, validator=ws.checks.question, **turn))
    answering.append(chatbot.retry(ws.regenerate_ui, chat_inputs[1:], chat_outputs, **turn))
    answering.append(chatbot.edit(ws.edit_ui, chat_inputs[1:], chat_outputs, **turn))
    stop.click(ws.stop_answer, [chatbot, history, turns], [chatbot, history, turns, notice, send, stop],
               cancels=answering, api_visibility="private")

    refresh = {"fn": ws.conversation_list, "inputs": [search, session], "outputs": listed,
               "api_visibility": "private"}
    for event in answering:
        event.then(**refresh)
    search.change(trigger_mode="always_last", **refresh)
    cleared = [chatbot, history, turns, session, sources, notice, rating]
    new.click(ws.new_conversation, None, cleared, api_visibility="private").then(**refresh)
    chatbot.clear(ws.new_conversation, None, cleared, api_visibility="private").then(**refresh)
    listed.click(ws.open_clicked, None, [chatbot, history, turns, session, mentee, sources, notice],
                 api_visibility="private").then(**refresh)
    chatbot.like(ws.rate_message, [comment, turns], rating, api_visibility="private")
    return {"chatbot": chatbot, "history": history, "turns": turns, "session": session, "mentee": mentee,
            "sources": sources, "notice": notice, "conversations": listed, "refresh": refresh}


def _confirm(question: str) -> str:
    """Browser-side confirmation for a one-input event; a cancelled click reaches Python as CANCELLED and changes
    nothing."""
    return f"(value) => window.confirm({json.dumps(question)}) ? value : {json.dumps(CANCELLED)}"


def _sessions_tab(ws: Workspace, coach: dict[str, Any], tabs: gr.Tabs) -> None:
    with gr.Tab("Sessions", id="sessions") as tab, gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=240):
            search = gr.Textbox(show_label=False, placeholder="Search conversations", container=False, max_lines=1,
                                elem_id="session-search")
            listed = gr.HTML(conversations.conversation_list([], None, "sessions-list"),
                             elem_id="sessions-conversations", js_on_load=conversations.LIST_JS)
        with gr.Column(scale=6):
            with gr.Row():
                open_btn = gr.Button("Open in Coach", variant="primary", elem_id="session-open")
                export_btn = gr.Button("Export Markdown", elem_id="session-export")
            with gr.Row(equal_height=True):
                title = gr.Textbox(label="New title", show_label=False, placeholder="New title", scale=3,
                                   container=False, elem_id="session-title")
                rename_btn = gr.Button("Rename", scale=1, size="sm", elem_id="session-rename")
            status = gr.HTML(elem_id="session-status")
            download = gr.File(label="Download", interactive=False, visible=False)
            preview = gr.HTML(elem_id="session-preview")
            # Deleting is kept apart from the everyday actions, behind its own section and a confirmation.
            with gr.Accordion("Delete this conversation", open=False, elem_id="session-danger"):
                gr.Markdown("The conversation and its ratings are deleted for good; this cannot be undone.")
                with gr.Row():  # sized to its words, not a full-width red bar
                    delete_btn = gr.Button("Delete conversation", variant="stop", size="sm", scale=0, min_width=160,
                                           elem_id="session-delete")
        # The selected conversation lives in the page (a hidden box), not in a gr.State: a State's value is taken
        # from the server, so a cancelled delete confirmation could not replace it with CANCELLED.
        selected = gr.Textbox("", visible=False, elem_id="session-selected")

    view = [selected, listed, preview]
    tab.select(ws.sessions_view, [search, selected], view, api_visibility="private")
    search.change(ws.sessions_view, [search, selected], view, api_visibility="private",
                  trigger_mode="always_last")
    listed.click(ws.pick_session, [search], view, api_visibility="private")
    open_btn.click(
        ws.open_session, selected,
        [coach["chatbot"], coach["history"], coach["turns"], coach["session"], coach["mentee"], coach["sources"],
         coach["notice"], tabs],
        api_visibility="private", validator=ws.checks.conversation,
    ).then(**coach["refresh"])
    export_btn.click(ws.export_session, selected, download, api_visibility="private",
                     validator=ws.checks.conversation)
    rename_btn.click(ws.rename_session, [selected, title, search], [status, *view, title], api_visibility="private",
                     validator=ws.checks.rename).then(**coach["refresh"])
    # One input, so the confirmation can hand it back (or CANCELLED); the list is refreshed afterwards.
    delete_btn.click(ws.delete_session, selected, [status, selected], api_visibility="private",
                     js=_confirm("Delete this conversation and its ratings? This cannot be undone."),
                     validator=ws.checks.conversation,
                     ).then(ws.sessions_view, [search, selected], view, api_visibility="private",
                            ).then(**coach["refresh"])


def _feedback_tab(ws: Workspace) -> None:
    with gr.Tab("Feedback studio", id="feedback"), gr.Row(equal_height=False):
        with gr.Column(scale=5):
            gr.Markdown("### Draft it\nFill in the four parts; the studio writes the feedback and checks it.")
            situation = gr.Textbox(label="Situation: when and where", placeholder="In Tuesday's client demo")
            behaviour = gr.Textbox(label="Behaviour: what you saw or heard",
                                   placeholder="you answered the client's budget question before they finished")
            impact = gr.Textbox(label="Impact: what it led to",
                                placeholder="they stopped sharing details and we left without the numbers we needed")
            request = gr.Textbox(label="Request: what you would like next time",
                                 placeholder="let clients finish, then summarise what you heard before answering")
            draft_btn = gr.Button("Draft feedback", variant="primary", elem_id="feedback-draft")
        with gr.Column(scale=7):
            gr.Markdown("### Check any draft\nPaste feedback you plan to give; the words behind each score are "
                        "highlighted.")
            text = gr.Textbox(label="Your feedback", lines=6, max_lines=14, elem_id="feedback-text")
            check_btn = gr.Button("Check this draft", variant="primary", elem_id="feedback-check")
            report = gr.HTML(elem_id="feedback-result")

    check_btn.click(ws.check_feedback, text, report, api_visibility="private", validator=ws.checks.draft_text)
    draft_btn.click(ws.draft, [situation, behaviour, impact, request], [text, report], api_visibility="private",
                    validator=ws.checks.draft_parts)


def _practice_tab(ws: Workspace) -> None:
    from assistant.practice.own import OWN_ID

    scenarios, personas = ws.practice_options()
    with gr.Tab("Practice", id="practice"), gr.Row(equal_height=False):
        with gr.Column(scale=4):
            scenario = gr.Dropdown(scenarios, value=scenarios[0][1] if scenarios else None, label="Scenario",
                                   elem_id="practice-scenario")
            situation = gr.Textbox(label="Your situation", lines=3, max_lines=6, visible=False,
                                   placeholder="Telling Omar he won't be on the new project; he gets defensive.",
                                   elem_id="practice-situation")
            persona = gr.Dropdown(personas, value=personas[0][1] if personas else None, label="Your mentee is\u2026",
                                  elem_id="practice-persona")
            brief = gr.HTML(ws.scenario_brief(scenario.value, persona.value), elem_id="practice-brief")
            start = gr.Button("Start practice", variant="primary", elem_id="practice-start")
            end = gr.Button("End and debrief", elem_id="practice-end")
            tension = gr.HTML()
        with gr.Column(scale=8):
            chat = gr.Chatbot(
                label="Role-play", height=420, elem_id="practice-chat", feedback_options=None, buttons=["copy"],
                render_markdown=False, latex_delimiters=[],
                placeholder="Choose a scenario and a persona, then press **Start practice**. "
                            "The assistant plays your mentee; end the session for a debrief.",
            )
            with gr.Row(equal_height=True):
                message = gr.Textbox(label="Your line", show_label=False, placeholder="What do you say?", scale=8,
                                     max_lines=6, elem_id="practice-input")
                say = gr.Button("Say it", variant="primary", scale=1, elem_id="practice-send")
            debrief = gr.HTML(elem_id="practice-debrief")
        state = gr.State(None)

    for picker in (scenario, persona):
        picker.change(ws.scenario_brief, [scenario, persona], brief, api_visibility="private")
    scenario.change(ws.situation_box, scenario, situation, api_visibility="private")
    start.click(ws.start_practice, [scenario, persona, situation], [chat, state, debrief, tension],
                api_visibility="private", validator=lambda s, p, t: ws.checks.practice_start(s, p, t, OWN_ID))
    for trigger in (say.click, message.submit):
        trigger(ws.practice_reply, [message, chat, state], [chat, message, state, tension], api_visibility="private",
                validator=ws.checks.practice_line)
    end.click(ws.end_or_explain, state, [debrief, state, tension], api_visibility="private")


def _mentees_tab(ws: Workspace, coach: dict[str, Any]) -> dict[str, Any]:
    steps = [(f"{i}. {name}", i) for i, name in enumerate(JOURNEY_STEPS, 1)]
    with gr.Tab("Mentees", id="mentees"), gr.Row(equal_height=False):
        with gr.Column(scale=5):
            pick = gr.Dropdown([("New mentee…", NEW_MENTEE)], value=NEW_MENTEE, label="Mentee", elem_id="mentee-pick")
            name = gr.Textbox(label="Name or alias", elem_id="mentee-name")
            # "not set" first: it is the default, and the levels then run from new to senior.
            level = gr.Dropdown([("not set", "")] + [(lv, lv) for lv in EXPERIENCE_LEVELS if lv], value="",
                                label="Experience level", elem_id="mentee-level")
            goals = gr.Textbox(label="Goals", lines=2)
            learning = gr.Textbox(label="How they like to learn", lines=2)
            communication = gr.Textbox(label="Communication preferences", lines=2)
            cultural = gr.Textbox(label="Cultural notes", lines=2)
            notes = gr.Textbox(label="Notes", lines=2)
            with gr.Row():
                save = gr.Button("Save profile", variant="primary", elem_id="mentee-save")
                export = gr.Button("Export JSON")
                delete = gr.Button("Delete", variant="stop")
            status = gr.HTML()
            download = gr.File(label="Download", interactive=False, visible=False)
        with gr.Column(scale=5):
            journey = gr.CheckboxGroup(steps, label="Mentoring journey: steps done", elem_id="mentee-journey")
            journey_status = gr.Markdown()
            step = gr.Dropdown(steps, value=None, label="Guidance for a step", elem_id="mentee-step")
            guidance = gr.HTML(elem_id="step-guidance", js_on_load=GUIDE_LINKS_JS)
            note = gr.Textbox(label="Reflection note", lines=3, placeholder="What happened, what you noticed, "
                                                                             "what you will try next time")
            add_note = gr.Button("Add note")
            reflections = gr.HTML()

    fields = [name, level, goals, learning, communication, cultural, notes]
    pick.change(ws.load_mentee, pick, [*fields, journey, reflections], api_visibility="private")
    save.click(ws.save_mentee, [pick, *fields], [status, pick, coach["mentee"]], api_visibility="private",
               validator=ws.checks.mentee_profile)
    delete.click(ws.delete_mentee, pick, [status, pick, coach["mentee"]], api_visibility="private",
                 js=_confirm("Delete this mentee's profile, journey and notes?"), validator=ws.checks.saved_mentee)
    export.click(ws.export_mentee, pick, download, api_visibility="private", validator=ws.checks.saved_mentee)
    journey.input(ws.set_journey, [pick, journey], [journey_status, journey], api_visibility="private")
    step.change(ws.step_guidance, step, guidance, api_visibility="private")
    add_note.click(ws.add_reflection, [pick, note], [reflections, note], api_visibility="private",
                   validator=ws.checks.reflection)
    return {"pick": pick, "guidance": guidance}


def _knowledge_tab(ws: Workspace, header: gr.HTML) -> dict[str, Any]:
    steps = [("All steps", 0)] + [(f"{i}. {name}", i) for i, name in enumerate(JOURNEY_STEPS, 1)]
    with gr.Tab("Knowledge", id="knowledge") as tab:
        with gr.Row():
            topic = gr.Dropdown([("All topics", "")] + [(topic_label(t), t) for t in TOPICS], value="", label="Topic")
            step = gr.Dropdown(steps, value=0, label="Journey step")
            contains = gr.Textbox(label="Title contains", placeholder="e.g. feedback")
        with gr.Row(equal_height=False):
            with gr.Column(scale=6):
                table = gr.HTML(elem_id="knowledge-list")
            with gr.Column(scale=6):
                doc = gr.Dropdown([], label="Read a document", elem_id="knowledge-doc")
                viewer = gr.HTML(elem_id="knowledge-viewer")
        with gr.Accordion("Add your own documents", open=False):
            gr.Markdown(f"Markdown, text, PDF or Word files up to {ws.settings.max_upload_mb:g} MB, at most "
                        f"{ws.settings.max_uploads} at a time. They are indexed next to the curated guidance and "
                        "answers cite them like any other source.")
            files = gr.File(file_count="multiple", file_types=[".md", ".markdown", ".txt", ".pdf", ".docx"],
                            label="Documents", elem_id="knowledge-upload")
            with gr.Row():
                add = gr.Button("Add to knowledge", variant="primary", elem_id="knowledge-add")
                rebuild = gr.Button("Rebuild index", elem_id="knowledge-rebuild")
            ingest_status = gr.HTML(elem_id="knowledge-status")
        with gr.Accordion("Remove one of your documents", open=False, elem_id="knowledge-remove-box"):
            with gr.Row(equal_height=True):
                mine = gr.Dropdown([], label="Your documents", scale=3, elem_id="knowledge-mine")
                remove = gr.Button("Remove from knowledge", scale=1, elem_id="knowledge-remove")
            remove_status = gr.HTML(elem_id="knowledge-remove-status")

    filters = [topic, step, contains]
    tab.select(ws.own_document_choices, None, mine, api_visibility="private")
    tab.select(ws.browse, [*filters, doc], [table, doc], api_visibility="private")
    for f in filters:
        f.change(ws.browse, [*filters, doc], [table, doc], api_visibility="private")
    doc.change(ws.view_document, doc, viewer, api_visibility="private")
    add_event = add.click(ws.upload, files, ingest_status, api_visibility="private", concurrency_limit=1,
                          concurrency_id="index", validator=ws.checks.uploads)
    rebuild_event = rebuild.click(ws.rebuild, None, ingest_status, api_visibility="private", concurrency_limit=1,
                                  concurrency_id="index")
    remove_event = remove.click(ws.remove_own_document, mine, [remove_status, mine], api_visibility="private",
                                concurrency_limit=1, concurrency_id="index", validator=ws.checks.own_document,
                                js=_confirm("Remove this document and its passages from the knowledge?"))
    # After any change to the index the list, the remove picker and the header's counts follow at once.
    for event in (add_event, rebuild_event, remove_event):
        event.then(ws.browse, [*filters, doc], [table, doc], api_visibility="private")
        event.then(ws.own_document_choices, None, mine, api_visibility="private")
        event.then(ws.header, None, header, api_visibility="private")
    return {"topic": topic, "step": step, "contains": contains, "table": table, "doc": doc, "viewer": viewer}


def _evals_tab(ws: Workspace) -> None:
    suites = ws.suites()
    with gr.Tab("Evals", id="evals"):
        gr.Markdown("Run an evaluation suite against this installation and read the report here.")
        with gr.Row(equal_height=True):
            suite = gr.Dropdown(suites, value=suites[0] if suites else None, label="Suite", scale=3,
                                elem_id="eval-suite")
            run = gr.Button("Run suite", variant="primary", scale=1, elem_id="eval-run")
        note = gr.Markdown(ws.suite_note(suite.value))
        gr.Markdown(ws.hidden_suites_note(), elem_id="eval-hidden-note")
        status = gr.HTML()
        with gr.Row(equal_height=False):
            table = gr.HTML(elem_id="eval-metrics")
            chart = gr.HTML()
        report = gr.File(label="HTML report", interactive=False, visible=False)
    suite.change(ws.suite_note, suite, note, api_visibility="private")
    run.click(ws.run_eval, suite, [status, table, chart, report], api_visibility="private", concurrency_limit=1,
              concurrency_id="evals", validator=lambda name: ws.checks.suite(name, evals_view.NEEDS_MODEL))


# --- serving ----------------------------------------------------------------------------------------------------


def theme() -> gr.themes.Base:
    # Gradio's bundled Source Sans Pro semibold file is a small subset (capitals fall back to another font), so
    # only the complete regular and bold files are declared; both are served locally, nothing from the internet.
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(primary_hue="teal", secondary_hue="slate", neutral_hue="slate", font=font)


def launch_options(settings: Settings) -> dict[str, Any]:
    """Everything `launch()` needs besides host and port; shared by `serve` and the tests."""
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
        "app_kwargs": {"middleware": [Middleware(SecurityHeaders)]},
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
