"""Pure renderers: text and records in, escaped HTML out (header, sources, notices, feedback report, charts,
tables, chat messages, upload and rebuild outcomes, practice tension)."""

import html
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from assistant.feedback import NEGATIVE, WEIGHTS, FeedbackReport
from assistant.rendering import render_markdown
from assistant.settings import Settings
from assistant.types import Answer, Chunk, Source
from assistant.workspace import evals_view
from assistant.workspace.common import APP_TITLE, CRITERION_LABELS, banner, esc, md_to_html
from assistant.workspace.labels import topic_label

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
        index = (
            '<span class="ma-pill ma-pill-warn">Knowledge index is empty: open Knowledge → Rebuild index '
            "or run <code>mentor ingest</code></span>"
        )
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
    """The sources panel, itself foldable: one collapsible card per retrieved passage, the full text on expand."""
    if not sources:
        return (
            '<div class="ma-sources" id="sources-list"><h3>Guidance behind the last answer</h3>'
            '<p class="ma-muted">Ask a question and the passages the answer draws on appear here, '
            "numbered like the [n] marks in the answer.</p></div>"
        )
    # The whole panel folds away too (on a phone it sits under the answer and would push the question box down).
    count = f"{len(sources)} passage{'s' if len(sources) != 1 else ''}"
    head = (
        '<div class="ma-sources" id="sources-list"><details class="ma-sources-box" open>'
        '<summary class="ma-sources-head"><h3>Guidance behind the last answer '
        f'<span class="ma-muted">({count})</span></h3></summary>'
    )
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
    return head + "".join(cards) + "</details></div>"


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
        parts.append(
            banner(
                "info",
                "Outside the guidance",
                "The knowledge base does not cover this question, so the coach did not guess.",
            )
        )
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
        out.append(
            f'<mark class="ma-mark-{kind}" data-criterion="{esc((bad or covering)[0])}" '
            f'title="{esc(label)}">{piece}</mark>'
        )
    return "".join(out)


def render_feedback(report: FeedbackReport) -> str:
    """Score, one bar per criterion (points earned out of its weight), the highlighted draft and suggestions."""
    verdict = (
        '<span class="ma-verdict-good">Ready to deliver</span>'
        if report.good
        else '<span class="ma-verdict-bad">Not ready yet</span>'
    )
    rows = []
    for name, result in report.criteria.items():
        weight = WEIGHTS.get(name, 0)
        earned = weight if result.passed else 0
        # A failed criterion keeps a short red stub so "0 points" still reads as a bar, not a gap.
        fill, width = ("pass", 100) if result.passed else ("fail", 6)
        evidence = f' title="{esc(", ".join(result.evidence))}"' if result.evidence else ""
        rows.append(
            f"<div{evidence}>{esc(CRITERION_LABELS.get(name, name))}</div>"
            f'<div class="ma-bar" role="meter" aria-label="{esc(name)}" aria-valuenow="{earned}" '
            f'aria-valuemax="{weight}" data-criterion="{esc(name)}" data-pass="{str(result.passed).lower()}">'
            f'<span class="ma-bar-{fill}" style="width:{width}%"></span></div>'
            f'<div class="ma-bar-value">{earned}/{weight}</div>'
        )
    tips = "".join(f"<li>{esc(tip)}</li>" for tip in report.suggestions)
    template = (
        f'<p class="ma-muted">Try this shape:</p><blockquote>{esc(report.template)}</blockquote>'
        if report.template and not report.good
        else ""
    )
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
        doc = docs.setdefault(
            c.source,
            {
                "title": c.title,
                "topic": c.topic,
                "step": c.step or "",
                "source": c.source,
                "chunks": 0,
                "mine": c.user_source,
            },
        )
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
    return (
        f'<div class="ma-table-wrap"><table class="ma-table" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


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
        lines.append(
            f"<strong>Not added ({len(refused)}):</strong><ul>"
            + "".join(f"<li>{esc(line)}</li>" for line in refused)
            + "</ul>"
        )
    kind = "ok" if changed and not refused else "info" if changed or not refused else "error"
    return f'<div class="ma-banner ma-{kind}" role="status" id="knowledge-outcome">{"".join(lines)}</div>'


def rebuild_summary(report: Any, dropped: list[Path]) -> str:
    """A rebuild's outcome: how much is indexed, and the files that could not be read (their copies deleted)."""
    title = f"Index rebuilt: {report.files} documents, {report.chunks} passages."
    problems = [f"{Path(p).name}: {why}" for p, why in report.skipped]
    body = ""
    if problems:
        body = (
            f"<strong>Could not index ({len(problems)}):</strong><ul>"
            + "".join(f"<li>{esc(p)}</li>" for p in problems)
            + "</ul>"
        )
    if dropped:
        body += f'<p class="ma-muted">Deleted {len(dropped)} uploaded copies that could not be indexed.</p>'
    kind = "info" if problems else "ok"
    return (
        f'<div class="ma-banner ma-{kind}" role="status" id="knowledge-outcome"><strong>{esc(title)}</strong>'
        f"{body}</div>"
    )


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
