"""The conversation lists (beside the chat and in the Sessions tab): titles told apart, newest first, one button
per conversation (with Rename and Delete beside the chat), an Undo after a delete, and the page script that
reports what was clicked.

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
const report = (action, session, extra) => trigger('click', Object.assign({action, session}, extra || {}));

// Rename in place: the title becomes a text box; Enter (or leaving it) saves, Escape keeps the old title. An empty
// title is not sent: a short message under the box says what to do.
const rename = (item, session) => {
  if (item.querySelector('.ma-rename')) return;
  const shown = item.querySelector('.ma-convo-title');
  const before = shown ? shown.textContent : '';
  const form = document.createElement('div');
  form.className = 'ma-rename';
  const input = document.createElement('input');
  input.type = 'text';
  input.value = before;
  input.maxLength = 200;
  input.setAttribute('aria-label', 'New title');
  const hint = document.createElement('span');
  hint.className = 'ma-rename-hint';
  hint.setAttribute('role', 'status');
  form.append(input, hint);
  item.classList.add('ma-renaming');
  item.append(form);
  input.focus();
  input.select();
  let done = false;
  const finish = (save) => {
    if (done) return;
    const value = input.value.trim();
    if (save && !value) {
      hint.textContent = 'Type a title, or press Escape to keep the old one.';
      input.focus();
      return;
    }
    done = true;
    form.remove();
    item.classList.remove('ma-renaming');
    const open = item.querySelector('button.ma-convo');
    if (open) open.focus();
    if (save && value !== before.trim()) {
      if (shown) shown.textContent = value;
      report('rename', session, {title: value});
    }
  };
  input.addEventListener('keydown', (event) => {
    event.stopPropagation();  // typing here is not the page's keyboard shortcuts
    if (event.key === 'Enter') { event.preventDefault(); finish(true); }
    if (event.key === 'Escape') { event.preventDefault(); finish(false); }
  });
  input.addEventListener('blur', () => finish(Boolean(input.value.trim())));
};

element.addEventListener('click', (event) => {
  const button = event.target.closest && event.target.closest('button[data-session]');
  if (!button || !element.contains(button)) return;
  event.preventDefault();
  const session = button.dataset.session;
  const action = button.dataset.action || 'open';
  if (action === 'rename') { rename(button.closest('li'), session); return; }
  if (action === 'open') {
    element.querySelectorAll('button.ma-convo').forEach((other) => {
      other.classList.toggle('ma-convo-current', other === button);
      if (other === button) other.setAttribute('aria-current', 'true'); else other.removeAttribute('aria-current');
    });
  }
  if (action === 'delete') {
    const item = button.closest('li');
    if (item) item.classList.add('ma-convo-leaving');  // gone at once; the server's list follows
  }
  report(action, session);
});
"""


class Conversation(Protocol):
    """What a list shows of a stored conversation (read-only, as `SessionRecord` is frozen)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def turns(self) -> int: ...


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


# Drawn as lines, not emoji: a browser without an emoji font would show nothing.
_ICON = (
    '<svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" focusable="false" fill="none" '
    'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">{}</svg>'
)
PENCIL = _ICON.format('<path d="M4 20h4L19 9l-4-4L4 16v4z"/><path d="M14 6l4 4"/>')
BIN = _ICON.format('<path d="M4 7h16"/><path d="M9 7V4h6v3"/><path d="M6 7l1 13h10l1-13"/>')


def _actions(record_id: str, title: str) -> str:
    """Rename and Delete beside a conversation (the page script edits the title in place; Delete offers Undo)."""
    sid, name = html.escape(record_id), html.escape(title)
    return (
        '<span class="ma-convo-actions">'
        f'<button type="button" class="ma-convo-act" data-action="rename" data-session="{sid}" '
        f'aria-label="Rename “{name}”" title="Rename">{PENCIL}</button>'
        f'<button type="button" class="ma-convo-act" data-action="delete" data-session="{sid}" '
        f'aria-label="Delete “{name}”" title="Delete">{BIN}</button></span>'
    )


def _notices(undo: tuple[str, str] | None, note: str) -> str:
    """Above the list: the last delete with its Undo link, and a short message about the last action."""
    parts = []
    if undo:
        sid, title = html.escape(undo[0]), html.escape(undo[1])
        parts.append(
            f'<div class="ma-toast" role="status">Deleted “<span class="ma-toast-title">{title}</span>”. '
            f'<button type="button" class="ma-undo" data-action="undo" data-session="{sid}">Undo</button></div>'
        )
    if note:
        parts.append(f'<p class="ma-list-note" role="status">{html.escape(note)}</p>')
    return "".join(parts)


def conversation_list(
    records: Sequence[Conversation],
    current: str | None,
    list_id: str,
    searched: str = "",
    now: datetime | None = None,
    numbers: dict[str, int] | None = None,
    actions: bool = False,
    undo: tuple[str, str] | None = None,
    note: str = "",
) -> str:
    """One button per conversation, newest first; the open one is marked. `numbers` (from `title_numbers` over
    all of the user's conversations) keeps a title's number stable while a search narrows the list. With
    `actions`, each row has Rename and Delete; `undo` (id, title) offers to bring back the last deleted one."""
    now = now or datetime.now().astimezone()
    numbers = numbers or title_numbers(records)
    head = _notices(undo, note)
    if not records:
        empty = (
            f"No conversation title contains “{searched.strip()}”."
            if searched.strip()
            else "No conversations yet: your questions are saved here as you ask them."
        )
        return (
            f'<div class="ma-convos" id="{html.escape(list_id)}">{head}'
            f'<p class="ma-muted">{html.escape(empty)}</p></div>'
        )
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
            f'<li class="ma-convo-item"><button type="button" class="ma-convo{marked}" '
            f'data-session="{html.escape(record.id)}">'
            f'<span class="ma-convo-line"><span class="ma-convo-title">{html.escape(record.title)}</span>{badge}</span>'
            f'<span class="ma-convo-meta">{html.escape(meta)}</span></button>'
            f"{_actions(record.id, record.title) if actions else ''}</li>"
        )
    return (
        f'<nav class="ma-convos" id="{html.escape(list_id)}" aria-label="Conversations">{head}'
        f"<ul>{''.join(items)}</ul></nav>"
    )
