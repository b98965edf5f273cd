"""Understanding the mentor's words: an English parse (spaCy, offline) turned into a typed record."""

from assistant.understanding.model import ParserUnavailable
from assistant.understanding.parser import MessageParse, parse

__all__ = ["MessageParse", "ParserUnavailable", "parse"]
