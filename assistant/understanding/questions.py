"""The questions a message asks outright ("Should I cancel our session?"), sentence by sentence on the parse."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.understanding.parser import message_doc

# Questions a yes, a no or a choice answers: "Should I cancel?", "Is it OK to...?", "Do I tell her manager?"
_DECIDES = r"(?:should|shall|must|do|does|is|are|am|would|will|can|could|may|ought)\b"
# A question typed without its question mark ("..., should i say something") still opens like one.
_UNMARKED = re.compile(rf"(?:^|[,;:]\s+|\bso\s+)(?:{_DECIDES}|how|what|when|which|whether)\s+\w", re.IGNORECASE)
_CLOSED = re.compile(rf"^(?:{_DECIDES}|or\b)", re.IGNORECASE)
_OPENER = re.compile(r"^\W*(\w+)\W+(\w+)")
UNMARKED_WORDS = 25  # longer sentences without a question mark are accounts of what happened, not questions


@dataclass(frozen=True)
class DirectQuestion:
    text: str  # the question as asked
    context: str  # the sentence before and the question: "Is it OK?" means little alone

    @property
    def closed(self) -> bool:
        """Answered by a yes, a no or a choice, rather than by a how-to."""
        return bool(_CLOSED.match(self.text))

    def opens_like(self, other: str) -> bool:
        """Both start with the same two words ("how long ...", "what if ...")."""
        mine, theirs = _OPENER.match(self.text.lower()), _OPENER.match(other.lower())
        return bool(mine and theirs and mine.groups() == theirs.groups())


def direct_questions(text: str) -> list[DirectQuestion]:
    """The message's sentences that ask something, in order."""
    found = []
    previous = ""
    for sentence in message_doc(text).sents:
        words = sentence.text.strip()
        unmarked = _UNMARKED.search(words) if len(words.split()) <= UNMARKED_WORDS else None
        if words.endswith("?") or unmarked:
            asked = words[unmarked.start() :].lstrip(",;: ") if unmarked else words
            asked = re.sub(r"^so\s+", "", asked, flags=re.IGNORECASE)
            found.append(DirectQuestion(asked, f"{previous} {words}".strip()))
        previous = words
    return found
