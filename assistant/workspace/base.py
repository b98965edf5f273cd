"""The base of every tab's callbacks: the runtime and settings they work on, the input checks, and what several
tabs read (the header's counts, the conversation lists)."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

import logging
import threading
from typing import Any

import gradio as gr

from assistant.errors import USER_ERRORS
from assistant.feedback import FeedbackChecker
from assistant.ingestion import own_documents
from assistant.runtime import Runtime
from assistant.types import Chunk
from assistant.workspace import conversations
from assistant.workspace.checks import InputChecks
from assistant.workspace.common import NO_MENTEE, gradio_temp_dir, owner_of
from assistant.workspace.exports import remove_session_exports
from assistant.workspace.pending import UNDO_SECONDS, PendingDeletes
from assistant.workspace.render import documents_of, header_html

log = logging.getLogger(__name__)


class Base:
    """What every tab's callbacks share; each callback takes widget values and returns widget values."""

    def __init__(self, rt: Runtime, undo_seconds: float = UNDO_SECONDS) -> None:
        self.rt = rt
        self.settings = rt.settings
        self.checker = FeedbackChecker()
        self.downloads = gradio_temp_dir(self.settings) / "downloads"
        self.has_model = self.settings.backend != "offline"
        self.checks = InputChecks(self.settings.max_message_chars, self.settings.max_uploads, self.has_model)
        self._stops: dict[str, float] = {}  # browser tab → when Stop was last pressed there
        # browser tab → the running answer's cancel event: Stop sets it, and the model's request is abandoned.
        self._cancels: dict[str, threading.Event] = {}
        # A deleted conversation stays in the store until its Undo has lapsed.
        self.deletes = PendingDeletes(self._delete_for_good, undo_seconds)

    def _delete_for_good(self, session_id: str, owner: str) -> None:
        """The conversation and every export of it: a deleted conversation leaves nothing to download."""
        self.rt.sessions.delete_session(session_id, owner=owner)
        remove_session_exports(self.downloads, owner, session_id)

    def _visible_chunks(self, request: gr.Request | None) -> list[Chunk]:
        """The indexed passages the signed-in user may see: not those of another user's private uploads."""
        hidden = own_documents.hidden_sources(self.rt.ingestor, owner_of(request))
        chunks = self.rt.retriever.chunks
        return [c for c in chunks if c.source not in hidden] if hidden else list(chunks)

    def header(self, request: gr.Request | None = None) -> str:
        """The header with the counts of guides and passages this user can draw on."""
        try:
            docs = documents_of(self._visible_chunks(request))
        except USER_ERRORS as exc:
            log.warning("index not readable: %s", exc)
            return header_html(self.settings, problem=str(exc))
        return header_html(self.settings, len(docs), sum(d["chunks"] for d in docs))

    def _conversations(
        self,
        words: str,
        current: str | None,
        list_id: str,
        request: gr.Request | None,
        actions: bool = False,
        note: str = "",
    ) -> str:
        """A conversation list: titles containing `words`, newest first, without the ones deleted a moment ago
        (the latest of those is offered back with Undo)."""
        owner = owner_of(request)
        hidden = self.deletes.hidden(owner)
        every = [r for r in self.rt.sessions.list_sessions(owner=owner) if r.id not in hidden]
        found = self.rt.sessions.search_sessions(words, owner=owner) if (words or "").strip() else every
        latest = self.deletes.latest(owner)
        return conversations.conversation_list(
            [r for r in found if r.id not in hidden],
            current,
            list_id,
            words or "",
            numbers=conversations.title_numbers(every),
            actions=actions,
            undo=(latest.session_id, latest.title) if latest else None,
            note=note,
        )

    def mentee_choices(self, request: gr.Request | None = None) -> Any:
        """The Coach tab's mentee picker, with the signed-in user's saved mentees."""
        mentees = self.rt.sessions.list_mentees(owner=owner_of(request))
        return gr.Dropdown(choices=[("No mentee selected", NO_MENTEE)] + [(m.name, m.id or "") for m in mentees])
