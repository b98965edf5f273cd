"""Normalisation before any safety check: what the router reads is what a person would read, plus whatever the
message hides or encodes.

- NFKC folds full-width and "mathematical" letters into plain ones.
- Zero-width characters (often pasted inside words to slip past filters) are removed; tag characters
  (U+E0000-U+E007F, invisible on screen) are removed too, and the ASCII text they spell is kept aside as a
  hidden message, which is checked on its own.
- Letters from other scripts that look like Latin ones, inside Latin words, are mapped back ("іgnore").
- Base64, hex and rot13 spans, text written backwards, and words in leetspeak are decoded so the decoded text is
  checked as well (the well-known ways of smuggling an instruction past a reader).

Every removal is reported in plain words so the mentor can be told what happened to their message.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass, field

# Patterns and the encoder look at the start and the end of a very long message, where a disclosure pasted
# after a long document would be. The UI caps messages far below this; it only bounds the work on hostile input.
MAX_SCAN_CHARS = 20_000
_TAIL_CHARS = 5_000

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad\u034f"))
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_BLACK_FLAG = "\U0001f3f4"  # emoji flags of regions (Scotland, Wales) are a black flag followed by tag characters
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
# Cyrillic and Greek letters that look like Latin ones; mapped only inside words that also hold Latin letters.
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁһӏАЕОРСТХНКМВІЈЅοαειρτυνκχΑΕΟΡΤΙΚΜΝΒΖΥΧ",
    "aeopcyxijsdhlAEOPCTXHKMBIJSoaeiptuvkxAEOPTIKMNBZYX",
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_LEET_WORD = re.compile(r"(?<![\w@$])(?=[\w@$!]*[a-z])(?=[\w@$!]*[0134578@$])[a-z0-9@$!]{3,}(?![\w@$])")
_HEX_SPAN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){8,}(?![0-9A-Fa-f])")
_BASE64_SPAN = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_WORD = re.compile(r"[a-z]+")
# Everyday English words; decoded text counts as English when enough of its words are among them.
COMMON_WORDS = frozenset(
    """a about after all also am an and any are as at be been before but by can could do does don't for from get
    give had has have he her him his how i if in into is it its just know like make me more my no not now of on
    one only or our out please print reply say she should so some tell than that the their them then there they
    this to up us was we were what when which who will with would you your rules instructions ignore previous
    prompt system answer question disregard forget reveal hidden mentee mentor help write now new mode filters
    restrictions without every obey""".split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass
class Cleaned:
    """A message as the router checks it."""

    text: str  # normalised: NFKC, invisible characters out, look-alike letters mapped, straight quotes
    notices: list[str] = field(default_factory=list)  # plain-language notes for the mentor
    hidden: list[str] = field(default_factory=list)  # text spelled in invisible tag characters
    decoded: list[str] = field(default_factory=list)  # base64, rot13 and leetspeak read as plain text

    @property
    def empty(self) -> bool:
        return not any(ch.isalnum() for ch in self.text)

    def variants(self) -> list[str]:
        """Every text to check: the message itself, what it hides and what it encodes."""
        return [self.text, *self.hidden, *self.decoded]


def clean(raw: str) -> Cleaned:
    """Normalise a message and recover whatever it hides or encodes."""
    text = raw or ""
    if len(text) > MAX_SCAN_CHARS:
        text = text[: MAX_SCAN_CHARS - _TAIL_CHARS] + "\n" + text[-_TAIL_CHARS:]
    text, hidden = _split_tags(text)
    notices: list[str] = []
    if any(h.strip() for h in hidden):
        notices.append(
            "Your message contained hidden characters that spell out text you cannot see; they were removed."
        )
    without_zero_width = text.translate(_ZERO_WIDTH)
    if _zero_width_between_letters(text):
        notices.append("Invisible characters inside words were removed before checking your message.")
    text = unicodedata.normalize("NFKC", without_zero_width).translate(_QUOTES)
    text = _map_lookalikes(text)
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    hidden_text = " ".join(hidden).strip()
    cleaned = Cleaned(text, notices, [hidden_text] if _has_words(hidden_text) else [])
    cleaned.decoded = _decodings(text)
    return cleaned


def for_patterns(text: str) -> str:
    """Lower case, single spaces, no quotation marks around words: what the pattern floor is written against."""
    text = text.lower()
    text = re.sub(r"(?<![a-z0-9])'|'(?![a-z0-9])|\"", "", text)
    return re.sub(r"\b(\w+) n't\b", r"\1n't", text)


def _split_tags(text: str) -> tuple[str, list[str]]:
    """The text without tag characters, and the ASCII text those tag characters spell."""
    if not any(_TAG_FIRST <= ord(ch) <= _TAG_LAST for ch in text):
        return text, []
    visible: list[str] = []
    hidden: list[str] = []
    in_flag = False
    for ch in text:
        code = ord(ch)
        if _TAG_FIRST <= code <= _TAG_LAST:
            if in_flag:  # part of an emoji flag: keep it, it spells a region code, not a message
                visible.append(ch)
                in_flag = code != 0xE007F
            elif 0xE0020 <= code <= 0xE007E:
                hidden.append(chr(code - _TAG_FIRST))
            continue
        in_flag = ch == _BLACK_FLAG
        visible.append(ch)
    spelled = "".join(hidden)
    return "".join(visible), [spelled] if spelled else []


def _zero_width_between_letters(text: str) -> bool:
    zero = "".join(map(chr, _ZERO_WIDTH))
    return bool(re.search(rf"\w[{zero}]+\w", text))


def _map_lookalikes(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        mapped = word.translate(_LOOKALIKES)
        has_latin = any("a" <= ch.lower() <= "z" for ch in word)
        return mapped if has_latin and mapped != word else word

    return re.sub(r"\w+", fix, text)


def _has_words(text: str) -> bool:
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 2


def english_share(text: str) -> float:
    words = _WORD.findall(text.lower())
    return sum(w in COMMON_WORDS for w in words) / len(words) if words else 0.0


def _decodings(text: str) -> list[str]:
    found: list[str] = []
    for span in _BASE64_SPAN.findall(text):
        plain = _from_base64(span)
        if plain:
            found.append(plain)
    for span in _HEX_SPAN.findall(text):
        plain = _from_hex(span)
        if plain:
            found.append(plain)
    for flip in (_from_rot13, _from_reversed):
        plain = flip(text)
        if plain:
            found.append(plain)
    leet = _from_leet(text)
    if leet:
        found.append(leet)
    return found


def _from_base64(span: str) -> str | None:
    if len(span) % 4:
        span += "=" * (-len(span) % 4)
    try:
        raw = base64.b64decode(span, validate=True)
        plain = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in plain)
    if printable < 0.95 * len(plain) or not _has_words(plain) or english_share(plain) < 0.2:
        return None
    return plain.strip()


def _from_hex(span: str) -> str | None:
    """Hex-encoded bytes read as text, when that text is printable and reads as English (a commit hash or a colour
    code decodes to noise and is left alone)."""
    digits = re.sub(r"[ :]", "", span)
    try:
        plain = bytes.fromhex(digits).decode("utf-8")
    except ValueError:
        return None
    printable = sum(ch.isprintable() for ch in plain)
    if printable < 0.95 * len(plain) or not _has_words(plain) or english_share(plain) < 0.3:
        return None
    return plain.strip()


def _from_reversed(text: str) -> str | None:
    """The message read backwards, per line or after a colon, when that reads as English and the text itself
    does not."""
    decoded: list[str] = []
    for piece in re.split(r"[\n:]", text):
        if len(_WORD.findall(piece.lower())) < 3:
            continue
        flipped = piece[::-1]
        if english_share(flipped) >= 0.35 and english_share(flipped) > english_share(piece) + 0.2:
            decoded.append(flipped.strip())
    return " ".join(decoded) or None


def _from_rot13(text: str) -> str | None:
    """The message read as rot13, when that reads as English and the message itself does not (per line or
    after a colon, so 'Decode this: Vtaber nyy ...' is found)."""
    decoded: list[str] = []
    for piece in re.split(r"[\n:]", text):
        words = _WORD.findall(piece.lower())
        if len(words) < 3:
            continue
        flipped = codecs.encode(piece, "rot13")
        if english_share(flipped) >= 0.35 and english_share(flipped) > english_share(piece) + 0.2:
            decoded.append(flipped.strip())
    return " ".join(decoded) or None


def _from_leet(text: str) -> str | None:
    """Words that mix letters with digits or symbols read as letters ('1gn0r3' → 'ignore'), when at least two
    words change: one alone is more likely a product name or a code ('q3', 'h1b')."""
    lower = text.lower()
    changed = _LEET_WORD.findall(lower)
    if len(changed) < 2:
        return None
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), lower)


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")
MAX_SEGMENTS = 40
SEGMENT_CHARS = 400


def sentences(text: str) -> list[str]:
    """The message's sentences (and lines), each cut to SEGMENT_CHARS, at most MAX_SEGMENTS of them: a warning
    sign can be one sentence in a long question about something else."""
    pieces = [s.strip()[:SEGMENT_CHARS] for s in _SENTENCE_SPLIT.split(text)]
    return [s for s in pieces if sum(ch.isalnum() for ch in s) >= 3][:MAX_SEGMENTS]


# Where a long sentence turns to another thought: "..., and I also wanted to ask about her promotion".
_CLAUSE = re.compile(
    r",\s+(?=(?:and|but|so|then|also|plus|which|because|while|although|though|she|he|they|i|we)\b)"
    r"|\s+(?=(?:and|but) (?:also|then|said|told|says|keeps)\b)"
)
CLAUSE_MIN_WORDS = 4
LONG_SENTENCE_WORDS = 14


def clauses(sentence: str) -> list[str]:
    """The clauses of a long sentence (empty for a short one): a sign is often one clause of a longer question."""
    if len(sentence.split()) <= LONG_SENTENCE_WORDS:
        return []
    parts = [p.strip() for p in _CLAUSE.split(sentence) if len(p.split()) >= CLAUSE_MIN_WORDS]
    return parts if len(parts) > 1 else []


def segments(text: str) -> list[str]:
    """What the classifier scores for one text: the whole of it (when short enough to stay one thought), each
    sentence when there is more than one, and the clauses of long sentences. Chosen by out-of-fold recall on the
    train families: adding clauses raised every category but injection at the same benign rate."""
    parts = sentences(text)
    pieces = [c for p in parts for c in clauses(p)][:MAX_SEGMENTS]
    whole = text.strip()
    if len(parts) <= 1 and not pieces:
        return [whole[:2000]] if whole else []
    return ([whole] if len(whole) <= 2000 else []) + (parts if len(parts) > 1 else []) + pieces
