"""Exceptions whose message is meant for the user: the CLI prints them, the UI shows them."""

from __future__ import annotations


def _user_errors() -> tuple[type[Exception], ...]:
    from assistant.embedders import EmbedderError
    from assistant.knowledge import DocumentError
    from assistant.security import LimitError
    from assistant.sessions import NotFound, StorageError
    from assistant.stores import IndexError_

    return (
        IndexError_,
        EmbedderError,
        DocumentError,
        LimitError,
        NotFound,
        StorageError,
        ValueError,
        FileNotFoundError,
    )


def __getattr__(name: str) -> object:  # resolved on first use so `mentor --help` stays fast
    if name == "USER_ERRORS":
        return _user_errors()
    raise AttributeError(name)
