"""Any OpenAI-compatible chat model (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio) via langchain-openai."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from assistant.llm import (
    BACKENDS,
    BackendError,
    Capabilities,
    CoachRequest,
    Reply,
    RequestCancelled,
    describe_mentee,
)
from assistant.prompts import load_prompt
from assistant.security import redact
from assistant.settings import Settings
from assistant.tokens import count_tokens, trim_history

_SAFETY_MARGIN = 64  # tokens for message framing the count cannot see
T = TypeVar("T")


def format_context(request: CoachRequest, budget: int) -> tuple[str, int]:
    """Numbered guidance blocks, best first, as many as fit in `budget` tokens; and how many fitted."""
    blocks: list[str] = []
    used = 0
    for n, hit in enumerate(request.hits, start=1):
        block = f"[{n}] {hit.chunk.title} — {hit.chunk.heading}\n{hit.chunk.text}"
        cost = count_tokens(block)
        if blocks and used + cost > budget:
            break
        blocks.append(block)
        used += cost
    return ("\n\n".join(blocks) if blocks else "(no guidance found)"), len(blocks)


class OpenAICompatibleBackend:
    name = "openai"
    capabilities = Capabilities(completion=True, streaming=True)

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI

        self.settings = settings
        self.model = settings.llm_model
        self.prompt_version = "+".join(
            load_prompt(n).tag for n in ("system", "mode_chat", "mode_prepare", "mode_feedback")
        )
        # llama.cpp, vLLM and Ollama read the classic `max_tokens`; OpenAI itself rejects it on newer models.
        compatible = bool(settings.openai_base_url) and "api.openai.com" not in (settings.openai_base_url or "")
        # No single read may outlast the whole answer's deadline either.
        options = settings.openai_client_options() | {"timeout": min(settings.llm_timeout, settings.llm_deadline)}
        self.chat = ChatOpenAI(
            model=settings.llm_model,
            **options,
            max_completion_tokens=settings.llm_max_answer_tokens,
            extra_body={"max_tokens": settings.llm_max_answer_tokens} if compatible else None,
            streaming=True,
            temperature=0.3,
        )

    def clean(self, text: str) -> str:
        """What may leave the machine: with MENTOR_REDACT, no emails, phone numbers or names."""
        return redact(text) if self.settings.redact else text

    def messages(self, request: CoachRequest) -> tuple[list[BaseMessage], int]:
        """System prompt with fenced guidance, trimmed history, then the mode prompt — all within budget; and how
        many of the request's passages fitted (citations beyond these point at nothing the model saw)."""
        clean = self.clean
        mode = request.mode if request.mode in ("prepare", "feedback") else "chat"
        user = load_prompt(f"mode_{mode}").format(question=clean(request.question))
        window = self.settings.llm_context_window - self.settings.llm_max_answer_tokens - _SAFETY_MARGIN
        system_frame = load_prompt("system").format(mentee="", context="")
        room = window - count_tokens(system_frame) - count_tokens(user)
        mentee = f"Mentee profile:\n{describe_mentee(request.mentee)}" if request.mentee else ""
        context, shown = format_context(request, max(room * 2 // 3, 200))
        system = load_prompt("system").format(mentee=clean(mentee), context=context)
        history_budget = max(window - count_tokens(system) - count_tokens(user), 0)
        history = trim_history([(r, clean(t)) for r, t in request.history], history_budget)
        messages: list[BaseMessage] = [SystemMessage(system)]
        messages += [HumanMessage(t) if r == "user" else AIMessage(t) for r, t in history]
        messages.append(HumanMessage(user))
        return messages, shown

    def stream(self, request: CoachRequest) -> Reply:
        messages, shown = self.messages(request)
        return Reply(self._pieces(messages, request.cancel), sources_shown=shown)

    def _pieces(self, messages: list[BaseMessage], cancel: threading.Event | None) -> Iterator[str]:
        started = finished = False
        try:
            for chunk in within_deadline(lambda: self.chat.astream(messages), self.settings.llm_deadline, cancel):
                finished |= bool(chunk.response_metadata.get("finish_reason"))
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    started = True
                    yield text
        except DeadlineExceeded:
            raise BackendError(late_answer(self.settings.llm_deadline, mid_answer=started)) from None
        except RequestCancelled:
            raise
        except Exception as exc:  # openai/httpx raise many types; the user needs one readable message
            raise BackendError(describe_failure(exc, mid_answer=started)) from exc
        if not finished:
            raise BackendError("The language model's answer was cut off before it finished.")
        if not started:
            raise BackendError("The language model sent an empty answer.")

    def complete(self, prompt: str, cancel: threading.Event | None = None) -> str:
        """One non-streamed completion (query rewriting, safety checks, judging), within the same deadline; when
        `cancel` is set the request's connection is closed at once and RequestCancelled raised, as in `stream`."""
        message = [HumanMessage(self.clean(prompt))]
        try:
            (reply,) = within_deadline(
                lambda: _one(self.chat.ainvoke(message, stream=False)), self.settings.llm_deadline, cancel
            )
        except DeadlineExceeded:
            raise BackendError(late_answer(self.settings.llm_deadline)) from None
        except RequestCancelled:
            raise  # not a failure: the caller stops, and nothing answers in the model's place
        except Exception as exc:
            raise BackendError(describe_failure(exc)) from exc
        text = reply.content if isinstance(reply.content, str) else ""
        if not text.strip():
            raise BackendError("The language model sent an empty answer.")
        return text


class DeadlineExceeded(TimeoutError):
    """The model's whole answer took longer than the deadline."""


def late_answer(deadline: float, mid_answer: bool = False) -> str:
    what = "finish its answer" if mid_answer else "answer"
    return f"The language model did not {what} in time (the limit is {deadline:g} s per answer), so it was cut off."


_POLL_SECONDS = 0.1  # how soon a Stop is noticed while the model has not sent anything
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _request_loop() -> asyncio.AbstractEventLoop:
    """The one event loop, in a daemon thread, that runs every model request of the process. An async client's
    connection pool belongs to the loop that opened it, and a task on a loop can be cancelled from any thread:
    cancelling it is what closes a request's HTTP connection, even before the first byte of the answer."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="llm-requests", daemon=True).start()
        return _loop


def within_deadline(
    produce: Callable[[], AsyncIterator[T]], deadline: float, cancel: threading.Event | None = None
) -> Iterator[T]:
    """The items of `produce()` as they come; DeadlineExceeded once `deadline` seconds have passed in all, or
    RequestCancelled once `cancel` is set.

    The client's timeout bounds each read, so a model that trickles a word a second, or a retry after a retry, can
    take far longer than any one timeout. The request runs as a task on the request loop; this side waits on the
    wall clock and, on the deadline, on `cancel` or when the caller stops reading, cancels the task, which closes
    the connection at once (the model stops writing an answer nobody will read)."""
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()

    async def drain() -> None:
        try:
            async for item in produce():
                pieces.put(("item", item))
            pieces.put(("end", None))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the waiting side, which decides what it means
            pieces.put(("error", exc))

    ends_at = time.monotonic() + deadline
    task = asyncio.run_coroutine_threadsafe(drain(), _request_loop())
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise RequestCancelled
            left = ends_at - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded
            try:
                kind, value = pieces.get(timeout=min(left, _POLL_SECONDS) if cancel is not None else left)
            except queue.Empty:
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        task.cancel()  # also when the caller stops reading early; a finished task ignores it


async def _one(result: Awaitable[T]) -> AsyncIterator[T]:
    yield await result


def describe_failure(exc: Exception, mid_answer: bool = False) -> str:
    import openai

    if isinstance(exc, openai.RateLimitError):
        return "The language model is rate-limiting requests (HTTP 429)."
    if isinstance(exc, openai.APITimeoutError):
        return "The language model did not answer in time."
    if isinstance(exc, openai.APIConnectionError):
        if mid_answer:
            return "The connection to the language model broke off mid-answer, so the answer was cut off."
        if _server_hung_up(exc):
            return "The language model server stopped while answering (it closed the connection without a reply)."
        return "Cannot reach the language model server."
    if isinstance(exc, openai.AuthenticationError):
        return "The language model rejected the API key (check OPENAI_API_KEY)."
    if isinstance(exc, openai.APIStatusError):
        return f"The language model server returned an error (HTTP {exc.status_code})."
    if isinstance(exc, ValueError):  # json.JSONDecodeError and pydantic validation errors
        return "The language model server sent a malformed response (invalid JSON)."
    return "The language model failed unexpectedly."


def _server_hung_up(exc: BaseException) -> bool:
    """A server that accepted the request and then vanished (a crash) closes the connection with no reply;
    one that is not running refuses the connection. httpx tells the two apart; the OpenAI client wraps both.

    Matched by class name: the openai SDK ships its own copy of httpx (httpx2), whose classes are not httpx's."""
    cause: BaseException | None = exc
    while cause is not None:
        transport = type(cause).__module__.split(".")[0].rstrip("0123456789") in ("httpx", "httpcore", "h11")
        if transport and type(cause).__name__ in ("RemoteProtocolError", "ReadError"):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


@BACKENDS.register("openai")
def create(settings: Settings, embedder: object = None) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(settings)
