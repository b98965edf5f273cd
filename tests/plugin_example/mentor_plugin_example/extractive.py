"""A chat backend that answers with the first sentence of each passage it is given, cited as [n].

It implements the whole ChatBackend contract (name, model, prompt_version, capabilities, stream, complete). The
contract is a Protocol, so the class inherits nothing; it imports only the host's records (Capabilities, Reply).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from assistant.llm import Capabilities, CoachRequest, Reply

PASSAGES = 3  # it reads only the first three passages, so only those can be cited
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def _first_sentence(text: str) -> str:
    line = " ".join(text.split())
    return _SENTENCE_END.split(line, maxsplit=1)[0]


class ExtractiveBackend:
    name = "extractive"
    model = "first-sentences"
    prompt_version = "extractive@1"
    capabilities = Capabilities(completion=True, streaming=True)

    def stream(self, request: CoachRequest) -> Reply:
        shown = min(len(request.hits), PASSAGES)
        return Reply(self._pieces(request, shown), sources_shown=shown)

    def _pieces(self, request: CoachRequest, shown: int) -> Iterator[str]:
        yield f"About: {request.question.strip()}\n\n"
        for n, hit in enumerate(request.hits[:shown], start=1):
            yield f"- {_first_sentence(hit.chunk.text)} [{n}]\n"

    def complete(self, prompt: str, cancel: threading.Event | None = None) -> str:
        return _first_sentence(prompt)  # answers at once: nothing to stop


def create(settings: object, embedder: object = None) -> ExtractiveBackend:
    del settings, embedder  # nothing to configure
    return ExtractiveBackend()
