"""Is a message written in English? The guidance and the parser are English, so a question in another language
gets a short reply asking for English instead of a stitched answer.

py3langid (a maintained langid.py, its model shipped inside the wheel, no network) ranks the Latin-script
languages a mentor is likely to write in; a message in another script is never English. Short messages ("help",
"Priya") carry too little evidence and always count as English: the coach asks them for more anyway.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import LanguageIdentifier, _load_identifier

# Latin-script languages the identifier chooses among; restricting the set keeps short English from being read as
# a creole or a rare language that shares its spelling.
# fmt: off
CANDIDATES = [
    "en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "id", "vi", "sv", "ro", "hu", "cs", "da", "fi", "no",
    "ms", "tl", "sw", "af", "hr", "sk", "sl", "lt", "lv", "et",
]
# fmt: on
MIN_WORDS = 4
# Log-probability by which another language must beat English: a mentor's English with a foreign name or a
# borrowed word ("the kaizen board", "Sipho") stays English.
MARGIN = 8.0
MIN_LATIN_SHARE = 0.6


@cache
def _identifier() -> LanguageIdentifier:
    return _load_identifier(langs=CANDIDATES)


def is_english(text: str) -> bool:
    letters = [c for c in text[:5000] if c.isalpha()]
    if not letters:
        return True  # nothing to judge: the empty-message paths answer it
    if sum(1 for c in letters if c < "\u0250") / len(letters) < MIN_LATIN_SHARE:
        return False
    if len(text.split()) < MIN_WORDS:
        return True
    scores = dict(_identifier().rank(text[:5000]))
    best = max(scores.values())
    return scores["en"] >= best - MARGIN
