"""The Sessions tab: search, preview, rename, export and delete stored conversations."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

from typing import Any

import gradio as gr

from assistant.workspace import conversations
from assistant.workspace.coach_tab import CoachCallbacks
from assistant.workspace.common import (
    CANCELLED,
    _friendly,
    _shown,
    _slug,
    banner,
    md_to_html,
    owner_of,
)
from assistant.workspace.exports import write_session_export


class SessionsCallbacks(CoachCallbacks):
    """The Sessions tab's callbacks (opening a conversation is the Coach tab's)."""

    @_friendly
    def sessions_view(self, words: str, selected: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """(selected conversation, list, preview) for the Sessions tab: titles containing `words`, newest first;
        the selection stays if it is still listed, else the newest one is selected."""
        owner = owner_of(request)
        hidden = self.deletes.hidden(owner)  # deleted a moment ago, still undoable
        found = self.rt.sessions.search_sessions(words or "", owner=owner)
        ids = [r.id for r in found if r.id not in hidden]
        chosen = selected if selected in ids else (ids[0] if ids else "")
        listed = self._conversations(words, chosen, "sessions-list", request)
        return chosen, listed, self.preview_session(chosen, request)

    def pick_session(self, clicked: gr.EventData, words: str, request: gr.Request | None = None) -> tuple[Any, ...]:
        """A row clicked in the Sessions list: it is selected and previewed (Undo brings a deleted one back)."""
        session_id = str(getattr(clicked, "session", "") or "")
        if getattr(clicked, "action", "") == "undo":
            self.deletes.undo(owner_of(request), session_id)
        return self.sessions_view(words, session_id, request)

    @_friendly
    def preview_session(self, session_id: str | None, request: gr.Request | None = None) -> str:
        if not session_id:
            return md_to_html("*No conversation selected. Conversations you have in the Coach tab are saved here.*")
        return md_to_html(self.rt.sessions.export_markdown(session_id, owner=owner_of(request)))

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
        """(status, selected): the conversation leaves the list at once and can be brought back with Undo for a
        few seconds; nothing is selected afterwards, so the list's refresh selects the newest one."""
        if session_id == CANCELLED:
            return gr.skip(), gr.skip()
        if not session_id:
            raise gr.Error("Choose a conversation to delete.")
        owner = owner_of(request)
        record = self.rt.sessions.get_session(session_id, owner=owner)
        if record is None:
            raise gr.Error("That conversation no longer exists; refresh the list.")
        self.deletes.hide(owner, session_id, record.title)
        undo = f" Undo is at the top of the list for {self.deletes.seconds:g} seconds."
        return banner("ok", f"Deleted “{record.title}”.", undo), ""

    @_friendly
    def export_session(self, session_id: str | None, request: gr.Request | None = None) -> Any:
        if not session_id:
            raise gr.Error("Choose a conversation to export.")
        owner = owner_of(request)
        text = self.rt.sessions.export_markdown(session_id, owner=owner)
        record = self.rt.sessions.get_session(session_id, owner=owner)
        name = f"{_slug(record.title if record else '', 'conversation')}.md"
        # Filed under the conversation, so deleting it deletes its downloads too.
        return _shown(write_session_export(self.downloads, owner, session_id, name, text))


def layout(ws: SessionsCallbacks, coach: dict[str, Any], tabs: gr.Tabs) -> None:
    with gr.Tab("Sessions", id="sessions") as tab, gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=240):
            search = gr.Textbox(
                label="Search conversations",
                show_label=False,
                placeholder="Search conversations",
                container=False,
                max_lines=1,
                elem_id="session-search",
            )
            listed = gr.HTML(
                conversations.conversation_list([], None, "sessions-list"),
                elem_id="sessions-conversations",
                js_on_load=conversations.LIST_JS,
            )
        with gr.Column(scale=6):
            with gr.Row():
                open_btn = gr.Button("Open in Coach", variant="primary", elem_id="session-open")
                export_btn = gr.Button("Export Markdown", elem_id="session-export")
                # A delete is undone from the list, so it needs no confirmation and no red button.
                delete_btn = gr.Button("Delete", elem_id="session-delete")
            with gr.Row(equal_height=True):
                title = gr.Textbox(
                    label="New title",
                    show_label=False,
                    placeholder="New title",
                    scale=3,
                    container=False,
                    elem_id="session-title",
                )
                rename_btn = gr.Button("Rename", scale=1, size="sm", elem_id="session-rename")
            status = gr.HTML(elem_id="session-status")
            download = gr.File(label="Download", interactive=False, visible=False)
            preview = gr.HTML(elem_id="session-preview")
        # The selected conversation lives in the page (a hidden box), so the buttons' checks can read it.
        selected = gr.Textbox("", visible=False, elem_id="session-selected")

    view = [selected, listed, preview]
    tab.select(ws.sessions_view, [search, selected], view, api_visibility="private")
    search.change(ws.sessions_view, [search, selected], view, api_visibility="private", trigger_mode="always_last")
    refresh = coach["refresh"]
    refresh(listed.click(ws.pick_session, [search], view, api_visibility="private"))
    refresh(
        open_btn.click(
            ws.open_session,
            selected,
            [
                coach["chatbot"],
                coach["history"],
                coach["turns"],
                coach["session"],
                coach["mentee"],
                coach["sources"],
                coach["notice"],
                tabs,
            ],
            api_visibility="private",
            validator=ws.checks.conversation,
        )
    )
    export_btn.click(ws.export_session, selected, download, api_visibility="private", validator=ws.checks.conversation)
    refresh(
        rename_btn.click(
            ws.rename_session,
            [selected, title, search],
            [status, *view, title],
            api_visibility="private",
            validator=ws.checks.rename,
        )
    )
    # The list is drawn again afterwards: without the deleted conversation, with its Undo.
    refresh(
        delete_btn.click(
            ws.delete_session,
            selected,
            [status, selected],
            api_visibility="private",
            validator=ws.checks.conversation,
        ).then(
            ws.sessions_view,
            [search, selected],
            view,
            api_visibility="private",
        )
    )
