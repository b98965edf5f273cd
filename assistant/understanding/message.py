"""A mentor's message, read once at the top of the pipeline.

The coach normalises, encodes and parses each message here, one time; safety, the situation matcher, the
details of who did what, retrieval and the composer then read this record instead of going back to the raw
text. (Safety still reads `raw` too: a hidden character or a smuggled instruction is evidence for it, and the
readable text has those removed.)
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3
import numpy as np

from assistant.embedders import Embedder
from assistant.understanding.details import Details, details_of
from assistant.understanding.language import is_english
from assistant.understanding.parser import MessageParse, parse

_MARKDOWN_IMAGE_OR_URL = re.compile(r"!?\[[^\]]*\]\([^)]*\)|https?://\S+")


def readable_text(message: str) -> str:
    """The message as a mentor reads it: no HTML tags or scripts (nh3), no image links or bare addresses."""
    text = html.unescape(nh3.clean(message, tags=set()))
    return " ".join(_MARKDOWN_IMAGE_OR_URL.sub(" ", text).split()) or message


@dataclass(frozen=True, eq=False)
class Message:
    """One message: as sent, as read, its sentence vector, its English parse and the details taken from it."""

    raw: str  # as sent, after the length and character checks
    text: str  # readable_text(raw): what the matcher, the parser and the composer read
    vector: np.ndarray  # the encoder's vector of `text` (L2-normalised)
    encoder: str  # the embedder's name: a vector is only compared with vectors of the same embedder
    parse: MessageParse
    english: bool

    def vector_for(self, text: str, encoder: str) -> np.ndarray | None:
        """This message's vector when `text` is the message and `encoder` the one that encoded it, else None."""
        return self.vector if text == self.text and encoder == self.encoder else None

    @property
    def details(self) -> Details:
        """Who did what, when and to what effect, as the parse found them (before any tone classifier)."""
        return details_of(self.parse)


def read_message(raw: str, embedder: Embedder) -> Message:
    """Normalise, encode and parse `raw` once."""
    text = readable_text(raw)
    vector = np.asarray(embedder.embed([text]), dtype=np.float32)[0]
    return Message(raw, text, vector, embedder.name, parse(text), english=is_english(raw))
