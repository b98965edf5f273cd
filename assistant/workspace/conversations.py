"""The conversation lists (beside the chat and in the Sessions tab): titles told apart, newest first, one button
per conversation, and the page script that reports which one was clicked.

Rendering only: the records come from `SessionStore.search_sessions`; nothing here reads or writes the store.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

# Each list is a gr.HTML whose buttons report a click as a `click` event carrying the conversation's id
# (Gradio's `trigger`); one listener on the list covers buttons drawn later, after a search or a refresh.
LIST_JS = r"""
element.addEventListener('click', (event) => {
  const button = event.target.closest && event.target.closest('button[data-session]');
  if (!button || !element.contains(button)) return;
  event.preventDefault();
  element.querySelectorAll('button[data-session]').forEach((other) => {
    other.classList.toggle('ma-convo-current', other === button);
    if (other === button) other.setAttribute('aria-current', 'true'); else other.removeAttribute('aria-current');
  });
  trigger('click', {session: button.dataset.session});
});
"""


class Conversation(Protocol):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    turns: int


def _title_key(title: str) -> str:
    """Titles that differ only in case, spacing, punctuation or a trailing '…' read as the same title."""
    return re.sub(r"[\W_]+", " ", title.lower()).strip()


def title_numbers(records: Sequence[Conversation]) -> dict[str, int]:
    """id → 1 for a title no other conversation shares; a title shared by several is numbered 1, 2, 3... in the
    order they began, so two conversations that opened with the same question can be told apart."""
    by_key: dict[str, list[Conversation]] = {}
    for record in records:
        by_key.setdefault(_title_key(record.title), []).append(record)
    numbers: dict[str, int] = {}
    for group in by_key.values():
        for n, record in enumerate(sorted(group, key=lambda r: r.created_at), 1):
            numbers[record.id] = n
    return numbers


def numbered_title(title: str, number: int) -> str:
    return title if number <= 1 else f"{title} ({number})"


def _when(moment: datetime, now: datetime) -> str:
    if moment.date() == now.date():
        return f"today {moment:%H:%M}"
    return f"{moment:%d %b %H:%M}" if moment.year == now.year else f"{moment:%d %b %Y}"


def conversation_list(
    records: Sequence[Conversation],
    current: str | None,
    list_id: str,
    searched: str = "",
    now: datetime | None = None,
    numbers: dict[str, int] | None = None,
) -> str:
    """One button per conversation, newest first; the open one is marked. `numbers` (from `title_numbers` over
    all of the user's conversations) keeps a title's number stable while a search narrows the list."""
    now = now or datetime.now().astimezone()
    numbers = numbers or title_numbers(records)
    if not records:
        empty = (
            f"No conversation title contains “{searched.strip()}”."
            if searched.strip()
            else "No conversations yet: your questions are saved here as you ask them."
        )
        return f'<div class="ma-convos" id="{html.escape(list_id)}"><p class="ma-muted">{html.escape(empty)}</p></div>'
    items = []
    for record in records:
        is_current = record.id == current
        marked = ' ma-convo-current" aria-current="true' if is_current else ""
        number = numbers.get(record.id, 1)
        # The number sits outside the title, so a long title cut short with "…" still shows it.
        badge = f'<span class="ma-convo-n"> ({number})</span>' if number > 1 else ""
        questions = record.turns // 2
        meta = f"{_when(record.updated_at, now)} · {questions} question{'s' if questions != 1 else ''}"
        items.append(
            f'<li><button type="button" class="ma-convo{marked}" data-session="{html.escape(record.id)}">'
            f'<span class="ma-convo-line"><span class="ma-convo-title">{html.escape(record.title)}</span>{badge}</span>'
            f'<span class="ma-convo-meta">{html.escape(meta)}</span></button></li>'
        )
    return (
        f'<nav class="ma-convos" id="{html.escape(list_id)}" aria-label="Conversations"><ul>{"".join(items)}</ul></nav>'
    )
