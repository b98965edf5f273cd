"""Citation markers in an answer: keep those that point at a shown source, drop the rest without leaving debris.

A model sometimes cites a passage it was never shown ("See also [7] and [8] and [9]." with three sources). Removing
only the markers leaves "See also  and  and ."; here a dropped marker takes along the words that only served it
(a "see also" lead-in, the "and" between two dropped markers, the parentheses around it) and nothing else. Only
lines that held a dropped marker are touched, so the rest of the Markdown (tables, code, line breaks) is unchanged.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"\[(\d{1,3})\]")
_HOLE = "\x00"  # stands where a dropped marker was, until the line around it is tidied
_GAP = r"[ \t]*"
_JOIN = r"(?:,|;|&|/|\band\b|\bor\b)"
# Words that only introduce a reference: "see also [7]", "as set out in [7]", "sources: [7]".
_LEAD = (
    r"(?:see also|see|cf\.?|refer to|according to|sources?:|as (?:described|explained|noted|shown|set out|covered) in)"
)
_AT_END = r"(?=[ \t]*(?:[.,;:!?)]|$))"  # a lead-in is dropped only when the reference ended its clause

_RUN = re.compile(rf"{_HOLE}(?:{_GAP}{_JOIN}?{_GAP}{_HOLE})+")  # "[7], [8] and [9]" -> one hole
_PARENS = re.compile(rf"{_GAP}\({_GAP}(?:{_LEAD}{_GAP})?{_HOLE}{_GAP}[.,;]?{_GAP}\)", re.IGNORECASE)
_SENTENCE = re.compile(rf"(?:^|(?<=[.!?])){_GAP}{_LEAD}{_GAP}{_HOLE}{_GAP}(?:[.;!]|$)", re.IGNORECASE)
# "See also [7] for more." is only a pointer: without the reference the whole sentence goes.
_POINTER = re.compile(rf"(?:^|(?<=[.!?])){_GAP}(?:see also|see|cf\.?){_GAP}{_HOLE}[^.!?\n]*[.!?]?", re.IGNORECASE)
# "As set out in [9], ask first." -> "Ask first."
_OPENING = re.compile(rf"(^|(?<=[.!?])[ \t]+){_LEAD}{_GAP}{_HOLE}{_GAP},{_GAP}(\w)", re.IGNORECASE)
_LEAD_IN = re.compile(rf",?{_GAP}\b{_LEAD}{_GAP}{_HOLE}{_AT_END}", re.IGNORECASE)
_LINE_START = re.compile(rf"^([ \t]*(?:[-*+]|\d+[.)])?[ \t]*){_HOLE}{_GAP}")  # "- [7] Do this" -> "- Do this"
_LEFT = re.compile(rf"{_GAP}{_HOLE}")
_EMPTY_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])?[ \t]*[.,;:]?[ \t]*$")


def drop_unknown_citations(text: str, n_sources: int) -> tuple[str, list[int]]:
    """Keep [n] for 1 <= n <= n_sources; drop the others with the words that only served them. Returns the text
    and the cited numbers, sorted."""
    cited: set[int] = set()

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= n_sources:
            cited.add(n)
            return match.group(0)
        return _HOLE

    marked = _MARKER.sub(keep, text)
    if _HOLE not in marked:
        return marked, sorted(cited)
    kept: list[str] = []
    for line in marked.split("\n"):
        tidied = _tidy(line) if _HOLE in line else line
        if tidied is None:
            continue  # the line was only a reference
        if not tidied.strip() and kept and not kept[-1].strip():
            continue  # no second blank line where a dropped line stood between two paragraphs
        kept.append(tidied)
    return "\n".join(kept), sorted(cited)


def _tidy(line: str) -> str | None:
    """One line with holes, tidied; None when nothing but the reference was on it."""
    line = _RUN.sub(_HOLE, line)
    line = _PARENS.sub("", line)
    line = _SENTENCE.sub("", line)
    line = _POINTER.sub("", line)
    line = _OPENING.sub(lambda m: m.group(1) + m.group(2).upper(), line)
    line = _LEAD_IN.sub("", line)
    line = _LINE_START.sub(r"\1", line)
    line = _LEFT.sub("", line).rstrip()
    return None if _EMPTY_ITEM.match(line) else line
