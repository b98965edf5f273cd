"""The Coach tab: streaming answers with Stop, Retry and edit-and-resend, the conversation list beside the chat,
ratings, and loading a stored conversation into the chat."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

import functools
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import gradio as gr
from gradio.events import Dependency

from assistant.errors import USER_ERRORS
from assistant.types import Answer
from assistant.workspace import conversations
from assistant.workspace.base import Base
from assistant.workspace.common import (
    _CITATION,
    EXAMPLES,
    INTERNAL_ERROR,
    MODE_CHOICES,
    NO_MENTEE,
    _friendly,
    banner,
    error_banner,
    owner_of,
)
from assistant.workspace.render import (
    _answer_after,
    chat_message,
    message_text,
    render_notice,
    render_sources,
    typed_text,
)

log = logging.getLogger(__name__)


class CoachCallbacks(Base):
    """The Coach tab's callbacks."""

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
        started, finished = time.monotonic(), False
        cancel = self._cancel_event(request)
        try:
            stream = self.rt.coach.stream(
                message,
                mode=mode or "auto",
                session_id=session_id or None,
                mentee_id=mentee_id or None,
                owner=owner_of(request),
                cancel=cancel,
            )
            for text, answer in stream:
                if self._stop_pressed(request, started):
                    if isinstance(stream, Generator):
                        stream.close()  # before the answer is complete the coach stores nothing
                    self._forget(answer, session_id, request)
                    break
                pending[-1] = chat_message("assistant", text or "…")
                if answer is None:
                    yield pending, "", sources_now, "", history, turns, session_id
                    continue
                finished = True
                turns = [*turns, None, answer.extras.get("turn_id")]
                yield (
                    pending,
                    "",
                    render_sources(answer.sources, answer.citations),
                    render_notice(answer),
                    pending,
                    turns,
                    answer.session or session_id,
                )
            if not finished and (cancel.is_set() or self._stop_pressed(request, started)):
                # Stopped: the last step shown is the stopped answer, never the "…" of a request abandoned early
                # (the turn's last step is repeated once more when it ends).
                kept, kept_turns = _marked_stopped(pending, history, turns)
                yield kept, "", sources_now, STOPPED_NOTICE, kept, kept_turns, session_id
                return
        except USER_ERRORS as exc:
            yield history, message, sources_now, error_banner(str(exc)), history, turns, session_id
        except Exception:
            log.exception("chat turn failed")
            yield history, message, sources_now, error_banner(INTERNAL_ERROR), history, turns, session_id
        finally:
            self._release(cancel, request)

    def _cancel_event(self, request: gr.Request | None) -> threading.Event:
        """A fresh cancel event for the answer this browser tab is starting; Stop sets it, which abandons the
        model's request even before its first words (Gradio's own cancel cannot reach a step already running)."""
        cancel = threading.Event()
        key = getattr(request, "session_hash", None)
        if key:
            self._cancels[str(key)] = cancel
        return cancel

    def _release(self, cancel: threading.Event, request: gr.Request | None) -> None:
        """The answer is over: its event is forgotten (unless a newer answer in the tab has replaced it)."""
        key = str(getattr(request, "session_hash", None))
        if self._cancels.get(key) is cancel:
            del self._cancels[key]

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
        self,
        index: int,
        question: str,
        history: list[dict[str, str]],
        turns: list[int | None],
        mode: str,
        mentee_id: str,
        session_id: str,
        request: gr.Request | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Cut the conversation at question `index` (on screen and in the store), then ask `question` there."""
        history, turns = list(history or []), list(turns or [])
        if not 0 <= index < len(history):
            yield (
                history,
                gr.skip(),
                gr.skip(),
                banner("info", "That question is no longer in the chat."),
                history,
                turns,
                session_id,
            )
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
        self,
        retry: gr.RetryData,
        history: list[dict[str, str]],
        turns: list[int | None],
        mode: str,
        mentee_id: str,
        session_id: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """The chat's retry button under the last answer: the same question answered afresh, replacing the old
        answer (and anything after it) in the stored conversation."""
        index = retry.index if isinstance(retry.index, int) else retry.index[0]
        question = typed_text(retry.value) or typed_text(history[index] if 0 <= index < len(history or []) else "")
        yield from self._ask_again(index, question, history, turns, mode, mentee_id, session_id, request)

    def edit_question(
        self,
        edited: gr.EditData,
        history: list[dict[str, str]],
        turns: list[int | None],
        mode: str,
        mentee_id: str,
        session_id: str,
        request: gr.Request | None = None,
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
        self,
        shown: list[dict[str, Any]],
        history: list[dict[str, str]],
        turns: list[int | None],
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Stop pressed while an answer streams (Gradio cancels its event; `respond` ends a step still running):
        the words so far stay on screen, marked as stopped, and are not stored.
        (chatbot, history, turns, notice, send, stop)"""
        key = getattr(request, "session_hash", None)
        if key:
            self._stops[str(key)] = time.monotonic()
            running = self._cancels.pop(str(key), None)
            if running is not None:
                running.set()
        idle = (gr.update(visible=True), gr.update(visible=False))
        if len(shown or []) <= len(history or []):
            return list(history or []), list(history or []), list(turns or []), "", *idle
        kept, turns = _marked_stopped(shown, history, turns)
        return kept, kept, turns, STOPPED_NOTICE, *idle

    @staticmethod
    def answering(steps: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """A chat turn's steps plus the Ask and Stop buttons: Stop shows while the answer is written."""
        busy = (gr.update(visible=False), gr.update(visible=True))
        idle = (gr.update(visible=True), gr.update(visible=False))
        last: tuple[Any, ...] | None = None
        for step in steps:
            if step[3] == STOPPED_NOTICE:
                # The stopped step can reach the page after Stop's own output (Gradio may still deliver a step
                # that was on its way when it cancelled the turn, and then drops the rest): it must not bring
                # Stop back, since no later step would hide it again.
                yield (*step, *idle)
                return
            yield (*step, *busy)
            last = step
        if last is not None:  # the finished turn once more, with Ask back in place of Stop
            yield (*last, *idle)

    # The events the page wires: the same turns with the Ask / Stop buttons as two more outputs.
    def respond_ui(
        self,
        message: str,
        history: list[dict[str, str]],
        turns: list[int | None],
        mode: str,
        mentee_id: str,
        session_id: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        yield from self.answering(self.respond(message, history, turns, mode, mentee_id, session_id, request))

    def regenerate_ui(
        self,
        retry: gr.RetryData,
        history: list[dict[str, str]],
        turns: list[int | None],
        mode: str,
        mentee_id: str,
        session_id: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        yield from self.answering(self.regenerate(retry, history, turns, mode, mentee_id, session_id, request))

    def edit_ui(
        self,
        edited: gr.EditData,
        history: list[dict[str, str]],
        turns: list[int | None],
        mode: str,
        mentee_id: str,
        session_id: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        yield from self.answering(self.edit_question(edited, history, turns, mode, mentee_id, session_id, request))

    @_friendly
    def conversation_list(self, words: str, current: str, request: gr.Request | None = None) -> str:
        """The conversations beside the chat: titles containing `words`, newest first, the open one marked, each
        with Rename and Delete."""
        return self._conversations(words, current, "conversation-list", request, actions=True)

    @_friendly
    def list_action(
        self, clicked: gr.EventData, words: str, current: str, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """A click in the list beside the chat: open, rename, delete (with Undo) or undo.
        (list, chatbot, history, turns, session, mentee, sources, notice)"""
        action = str(getattr(clicked, "action", "") or "open")
        session_id = str(getattr(clicked, "session", "") or "")
        untouched = (gr.skip(),) * 7
        if action == "open":
            opened = self.open_session(session_id, request)[:-1]
            return (self.conversation_list(words, session_id, request), *opened)
        owner = owner_of(request)
        note = ""
        if action == "rename":
            note = self._rename_from_list(session_id, str(getattr(clicked, "title", "") or ""), owner)
        elif action == "undo":
            back = self.deletes.undo(owner, session_id)
            note = "" if back else "Too late to undo: that conversation has been deleted."
        elif action == "delete":
            record = self.rt.sessions.get_session(session_id, owner=owner)
            if record is None:
                note = "That conversation was already deleted."
            else:
                self.deletes.hide(owner, session_id, record.title)
                if session_id == current:  # the open conversation goes: the chat starts afresh
                    listed = self._conversations(words, "", "conversation-list", request, actions=True)
                    return (listed, *self.new_conversation()[:4], gr.skip(), render_sources([]), "")
        listed = self._conversations(words, current, "conversation-list", request, actions=True, note=note)
        return (listed, *untouched)

    def _rename_from_list(self, session_id: str, title: str, owner: str) -> str:
        """Rename a conversation typed in place in the list; returns a short message when it could not be."""
        title = title.strip()
        if not title:
            return "Type a title to rename the conversation."
        if len(title) > 200:
            return "Keep the title under 200 characters."
        try:
            self.rt.sessions.rename_session(session_id, title, owner=owner)
        except USER_ERRORS as exc:
            return str(exc)
        return ""

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
    def rate_message(
        self, data: gr.LikeData, comment: str, turns: list[int | None], request: gr.Request | None = None
    ) -> str:
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
        return (
            history,
            history,
            turns,
            session_id,
            record.mentee_id or NO_MENTEE,
            render_sources(last_sources, cited),
            notice,
            gr.Tabs(selected="coach"),
        )


def layout(ws: CoachCallbacks) -> dict[str, Any]:
    with gr.Tab("Coach", id="coach"):
        # The ids let the phone layout put the sources right under the conversation (see CSS).
        with gr.Row(equal_height=False, elem_id="coach-row"):
            with gr.Column(scale=3, min_width=210, elem_id="coach-sidebar"):
                new = gr.Button("New conversation", variant="secondary", elem_id="coach-new")
                search = gr.Textbox(
                    label="Search conversations",  # read out by screen readers; not shown
                    show_label=False,
                    placeholder="Search conversations",
                    container=False,
                    elem_id="conversation-search",
                    max_lines=1,
                )
                listed = gr.HTML(
                    conversations.conversation_list([], None, "conversation-list"),
                    elem_id="coach-conversations",
                    js_on_load=conversations.LIST_JS,
                )
            with gr.Column(scale=7, elem_id="coach-main"):
                notice = gr.HTML(elem_id="coach-notice")
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=500,
                    elem_id="coach-chat",
                    buttons=["copy"],
                    render_markdown=False,
                    latex_delimiters=[],
                    editable="user",
                    placeholder="Describe the situation or ask a question, or start from one of these. Answers "
                    "cite the guidance they use as [n]: click a number to open that passage.",
                    # New answers open at their first line (assistant/workspace/client.py), not at their end.
                    autoscroll=False,
                    examples=[{"text": example} for example in EXAMPLES],
                )
                with gr.Row(equal_height=True, elem_id="coach-ask-row"):
                    message = gr.Textbox(
                        label="Your question",
                        show_label=False,
                        placeholder="e.g. How do I give feedback to a mentee who gets defensive?",
                        lines=1,
                        max_lines=6,
                        scale=8,
                        elem_id="coach-input",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="coach-send")
                    stop = gr.Button("Stop", variant="stop", scale=1, visible=False, elem_id="coach-stop")
                with gr.Row():
                    mode = gr.Dropdown(MODE_CHOICES, value="auto", label="Mode", elem_id="coach-mode")
                    mentee = gr.Dropdown(
                        [("No mentee selected", NO_MENTEE)],
                        value=NO_MENTEE,
                        label="Tailor to mentee",
                        elem_id="coach-mentee",
                    )
                # One rating control per answer: the thumbs under it; this box adds an optional comment.
                with gr.Row(equal_height=True, elem_id="rating-row"):
                    comment = gr.Textbox(
                        label="Comment on the answer",
                        show_label=False,
                        placeholder="Optional comment, saved with your thumbs up or down",
                        elem_id="rate-comment",
                        container=False,
                    )
                rating = gr.Markdown(elem_id="rate-status")
            with gr.Column(scale=5, elem_id="sources-column"):
                sources = gr.HTML(render_sources([]), elem_id="sources-panel")
        history, turns, session = gr.State([]), gr.State([]), gr.State("")

    chat_inputs = [message, history, turns, mode, mentee, session]
    # Every way of starting an answer streams into the same outputs, with Ask swapped for Stop meanwhile.
    chat_outputs = [chatbot, message, sources, notice, history, turns, session, send, stop]

    def answer_on(trigger: Callable[..., Dependency], fn: Callable[..., Any], inputs: list[Any]) -> Dependency:
        return trigger(
            fn, inputs, chat_outputs, api_visibility="private", show_progress="minimal", concurrency_id="chat"
        )

    answering = [
        answer_on(functools.partial(trigger, validator=ws.checks.question), ws.respond_ui, chat_inputs)
        for trigger in (send.click, message.submit)
    ]
    # An example prompt is sent at once, as if typed and asked.
    picked = chatbot.example_select(ws.use_example, None, message, api_visibility="private")
    answering.append(
        answer_on(functools.partial(picked.then, validator=ws.checks.question), ws.respond_ui, chat_inputs)
    )
    answering.append(answer_on(chatbot.retry, ws.regenerate_ui, chat_inputs[1:]))
    answering.append(answer_on(chatbot.edit, ws.edit_ui, chat_inputs[1:]))
    stopped: list[dict[str, Any]] = [*answering]
    stop.click(
        ws.stop_answer,
        [chatbot, history, turns],
        [chatbot, history, turns, notice, send, stop],
        cancels=stopped,
        api_visibility="private",
    )

    def refresh(event: Dependency) -> Dependency:
        """The list beside the chat follows `event` (a new, renamed, deleted or opened conversation)."""
        return event.then(ws.conversation_list, [search, session], listed, api_visibility="private")

    for event in answering:
        refresh(event)
    search.change(ws.conversation_list, [search, session], listed, api_visibility="private", trigger_mode="always_last")
    cleared = [chatbot, history, turns, session, sources, notice, rating]
    refresh(new.click(ws.new_conversation, None, cleared, api_visibility="private"))
    refresh(chatbot.clear(ws.new_conversation, None, cleared, api_visibility="private"))
    listed.click(
        ws.list_action,
        [search, session],
        [listed, chatbot, history, turns, session, mentee, sources, notice],
        api_visibility="private",
    )
    chatbot.like(ws.rate_message, [comment, turns], rating, api_visibility="private")
    return {
        "chatbot": chatbot,
        "history": history,
        "turns": turns,
        "session": session,
        "mentee": mentee,
        "sources": sources,
        "notice": notice,
        "conversations": listed,
        "search": search,
        "refresh": refresh,
    }


STOPPED_NOTICE = banner("info", "Stopped.", " Retry under the answer, or edit the question, to ask it again.")


def _marked_stopped(
    shown: list[dict[str, Any]], history: list[dict[str, str]], turns: list[int | None]
) -> tuple[list[dict[str, Any]], list[int | None]]:
    """The chat as it stood when Stop was pressed: the words so far, marked as stopped and not saved."""
    history, turns = list(history or []), list(turns or [])
    kept = [{"role": m.get("role", "user"), "content": message_text(m)} for m in shown[: len(history) + 2]]
    if kept and kept[-1]["role"] == "assistant":
        partial = kept[-1]["content"].removesuffix("…") if kept[-1]["content"] != "…" else ""
        kept[-1]["content"] = partial + '<p class="ma-stopped"><em>Stopped. This answer was not saved.</em></p>'
    return kept, turns + [None] * (len(kept) - len(history))
