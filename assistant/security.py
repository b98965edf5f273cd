"""Input hygiene: redaction before remote LLMs, message and upload limits.

Markdown is made safe for the page by parsing it, in assistant.rendering, not here."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from assistant.errors import InputError

ALLOWED_UPLOAD_EXTENSIONS: tuple[str, ...] = (".md", ".markdown", ".txt", ".pdf", ".docx")
# A real .docx compresses its XML 5-20 times; far beyond this it is a decompression bomb. 20 MB of unpacked
# parts is a Word document of over a thousand pages; every byte of it is parsed, chunked and embedded.
MAX_DOCX_UNCOMPRESSED = 20 * 1024 * 1024
MAX_DOCX_RATIO = 100
MAX_DOCX_MEMBERS = 5_000
MAX_NAME_CHARS = 120


class LimitError(InputError):
    """A message or file broke a limit; the text says which limit and what is allowed."""

    def __init__(self, message: str, limit: str = "", allowed: object = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.allowed = allowed


# ---------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Optional +country code, optional (area), then groups of digits split by spaces, dots or dashes.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{8,15}|(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,8}){1,5})(?![\w-])"
)
# Digit runs that look like phone numbers but are dates, year ranges or times.
_NOT_PHONE = re.compile(
    r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$|^(?:19|20)\d{2}\s?-\s?(?:19|20)?\d{2}$"
    r"|^\d{1,2}[.:]\d{2}\s?-\s?\d{1,2}[.:]\d{2}$|^\d{1,3}(?:[ .]\d{3})+$"
)

_NAME = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_FULL_NAME = _NAME + r"(?: " + _NAME + r")?"
_ROLES = (
    r"mentee|mentor|manager|boss|colleague|co-?worker|coworker|report|direct report|teammate|lead|team lead"
    r"|supervisor|director|intern|employee|friend|partner|husband|wife|client|peer|assistant|sister|brother"
)
# "my mentee Priya", "her manager, John Smith", "named Ana", "called Tom"
_CUED_NAME = re.compile(
    r"(?i:\b(?:my|his|her|their|our|your|a|the|new)\s+(?:" + _ROLES + r")s?)(,?\s+)(" + _FULL_NAME + r")\b"
    r"|(?i:\b(?:named|called))(\s+)(" + _FULL_NAME + r")\b"
    r"|\b(?:Mr|Mrs|Ms|Mx|Dr|Prof)\.?(\s+)(" + _FULL_NAME + r")\b"
)
# Two capitalised words in a row, not at the start of a sentence: "I talked to John Smith".
_PAIR = re.compile(r"(?<=[a-z,;:] )(" + _NAME + r" " + _NAME + r")\b")
# Capitalised words that are not names: kept even when they look like one.
_NOT_NAMES_TEXT = """
    I Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July
    August September October November December English Spanish French German Chinese Indian British American
    HR EAP Zoom Teams Slack Google Microsoft Amazon Apple Excel Word PowerPoint Jira Python Java Radical Candor
    Crucial Conversations Situation Behavior Behaviour Impact GROW Model Mentor Assistant Sales Marketing
    Engineering Finance Product Design Legal Operations Support Customer Success New York London Paris Berlin
    Christmas Easter Ramadan Diwali The This That My Our Your Their His Her"""
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


def _phone(match: re.Match[str]) -> str:
    value = match.group(0)
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15 or _NOT_PHONE.match(value):
        return value
    return "[phone]"


def _cued(match: re.Match[str]) -> str:
    for name in (2, 4, 6):
        if match.group(name):
            if match.group(name).split()[0] in _NOT_NAMES:
                return match.group(0)
            start = match.start(name) - match.start(0)
            return match.group(0)[:start] + "[name]"
    return match.group(0)


def _pair(match: re.Match[str]) -> str:
    words = match.group(1).split()
    return match.group(0) if any(w in _NOT_NAMES for w in words) else "[name]"


def redact(text: str) -> str:
    """Replace emails, phone numbers and personal names with [email], [phone] and [name]."""
    if not text:
        return text
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub(_phone, text)
    text = _CUED_NAME.sub(_cued, text)
    return _PAIR.sub(_pair, text)


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------


def check_message(text: str, max_chars: int) -> str:
    """The message stripped of surrounding space, or LimitError when it is empty or too long."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise LimitError("Your message is empty. Type a question first.", "message_empty", 1)
    if len(cleaned) > max_chars:
        raise LimitError(
            f"Your message is {len(cleaned):,} characters; the limit is {max_chars:,}. "
            "Shorten it or split it into two questions.",
            "max_message_chars",
            max_chars,
        )
    return cleaned


def safe_upload_name(name: str) -> str:
    """A safe file name for an upload (basename only), or LimitError saying what is wrong with it."""
    allowed = ", ".join(ALLOWED_UPLOAD_EXTENSIONS)
    if not name or not name.strip():
        raise LimitError("The file has no name.", "upload_name")
    if "\x00" in name or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise LimitError(f"The file name {name!r} contains control characters.", "upload_name")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive:
        raise LimitError(f"The file name {name!r} is an absolute path; send the file name only.", "upload_name")
    parts = re.split(r"[\\/]+", name)
    if any(part in {"..", "."} for part in parts):
        raise LimitError(f"The file name {name!r} points outside the upload folder.", "upload_name")
    base = unicodedata.normalize("NFC", parts[-1].strip())
    if not base or base.startswith("."):
        raise LimitError(f"The file name {name!r} is hidden or empty; rename the file.", "upload_name")
    stem, dot, ext = base.rpartition(".")
    if not dot or f".{ext.lower()}" not in ALLOWED_UPLOAD_EXTENSIONS:
        raise LimitError(
            f"{base} is not an accepted file type; the allowed types are {allowed}.", "upload_extension", allowed
        )
    stem = re.sub(r"[^\w .()-]+", "_", stem).strip(" ._") or "upload"
    stem = re.sub(r"\s+", " ", stem)[: MAX_NAME_CHARS - len(ext) - 1]
    return f"{stem}.{ext.lower()}"


def check_upload(path: Path, max_bytes: int) -> None:
    """LimitError when the file is missing, larger than `max_bytes`, or a .docx that would inflate absurdly."""
    if not path.is_file():
        raise LimitError(f"{path.name} was not found or is not a file.", "upload_missing")
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitError(
            f"{path.name} is {_size(size)}; the limit is {_size(max_bytes)}.", "max_upload_bytes", max_bytes
        )
    if path.suffix.lower() == ".docx":
        check_docx_archive(path)


def check_docx_archive(path: Path) -> None:
    """LimitError unless the .docx zip declares at most MAX_DOCX_MEMBERS parts, MAX_DOCX_UNCOMPRESSED bytes
    unpacked and a ratio within MAX_DOCX_RATIO; reads only the zip directory, never the contents."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LimitError(f"{path.name} is not a valid Word document (.docx files are zip archives).", "docx") from exc
    if len(members) > MAX_DOCX_MEMBERS:
        raise LimitError(
            f"{path.name} holds {len(members):,} parts; the limit is {MAX_DOCX_MEMBERS:,}.",
            "docx_members",
            MAX_DOCX_MEMBERS,
        )
    # Declared sizes are what zipfile enforces while reading, so a lying header cannot inflate past them.
    total = sum(m.file_size for m in members)
    if total > MAX_DOCX_UNCOMPRESSED:
        raise LimitError(
            f"{path.name} would unpack to {_size(total)}; the limit is {_size(MAX_DOCX_UNCOMPRESSED)}.",
            "docx_uncompressed",
            MAX_DOCX_UNCOMPRESSED,
        )
    ratio = total / max(size, 1)
    if ratio > MAX_DOCX_RATIO:
        raise LimitError(
            f"{path.name} would unpack to {ratio:,.0f} times its size; the limit is {MAX_DOCX_RATIO} times.",
            "docx_ratio",
            MAX_DOCX_RATIO,
        )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f} MB"
    if n >= 1024:
        return f"{n / 1024:,.1f} KB"
    return f"{n:,} bytes"
