"""Text out of .pdf and .docx files with bounded work, whichever path asked (CLI ingest, upload, rebuild).

A .docx is a zip archive: its declared unpacked size and compression ratio are checked before anything is
extracted. Then the parser runs in a child process (assistant.ingestion.worker) that caps its own memory and CPU
time; the parent waits at most `seconds` of wall-clock time and kills it after that. A document whose text is
longer than `text_chars` is refused too, since every character is chunked and embedded under the index lock.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import InputError
from assistant.ingestion import worker
from assistant.security import LimitError, check_docx_archive

EXTRACTED_SUFFIXES = (".pdf", ".docx")


@dataclass(frozen=True)
class Limits:
    seconds: float = 60.0  # wall clock for one document, parser start-up included
    memory_mb: int = 1_024  # address space of the child; python, lxml and pypdf take about 250 MB of it
    text_chars: int = 1_000_000  # about 700 chunks of 350 tokens


LIMITS = Limits()


class ExtractionError(InputError):
    """A document whose text could not be read within the limits; the message says which limit and why."""


def check_text_length(text: str, limits: Limits | None = None) -> str:
    limits = limits or LIMITS
    if len(text) > limits.text_chars:
        raise ExtractionError(f"has {len(text):,} characters of text; the limit is {limits.text_chars:,}")
    return text


def extract_text(path: Path, limits: Limits | None = None) -> str:
    """The text of a .pdf or .docx file, read in a child process under `limits`, or ExtractionError."""
    limits = limits or LIMITS
    kind = path.suffix.lower().lstrip(".")
    if kind not in worker.READERS:
        raise ExtractionError(f"cannot extract text from {path.suffix or 'a file without an extension'}")
    if kind == "docx":
        try:
            check_docx_archive(path)
        except LimitError as exc:
            raise ExtractionError(_without_name(str(exc), path)) from exc
    command = [
        sys.executable, "-m", worker.__name__, kind, str(path), str(limits.memory_mb * 1024 * 1024),
        str(max(1, int(limits.seconds))), str(limits.text_chars),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=limits.seconds, check=False)
    except subprocess.TimeoutExpired as exc:  # run() has already killed and reaped the child
        raise ExtractionError(f"took longer than {limits.seconds:g} s to read, so it was stopped") from exc
    return _result(done, kind, limits)


def _result(done: subprocess.CompletedProcess[bytes], kind: str, limits: Limits) -> str:
    reason = done.stderr.decode("utf-8", "replace").strip()
    what = "PDF" if kind == "pdf" else "Word document"
    if done.returncode == worker.EXIT_OK:
        return done.stdout.decode("utf-8", "replace")
    if done.returncode == worker.EXIT_TOO_LONG:
        length = int(reason) if reason.isdigit() else limits.text_chars + 1
        raise ExtractionError(f"has {length:,} characters of text; the limit is {limits.text_chars:,}")
    if done.returncode == worker.EXIT_MEMORY:
        raise ExtractionError(f"needs more than {limits.memory_mb:,} MB of memory to read, so it was stopped")
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise ExtractionError(f"took longer than {limits.seconds:g} s to read, so it was stopped")
    if done.returncode == worker.EXIT_UNREADABLE:
        raise ExtractionError(f"cannot read this {what} ({reason})")
    # A parser in C that fails to allocate may abort or crash instead of raising MemoryError.
    raise ExtractionError(
        f"cannot read this {what}: the reader stopped (exit {done.returncode}), most likely on the "
        f"{limits.memory_mb:,} MB memory limit"
    )


def _without_name(message: str, path: Path) -> str:
    """Limit messages start with the file name; the ingest report already shows it next to the reason."""
    return message.removeprefix(f"{path.name} ").removeprefix(path.name)
