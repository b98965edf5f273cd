"""The extraction child: `python -m assistant.ingestion.worker KIND PATH MEMORY_BYTES CPU_SECONDS MAX_CHARS`.

It caps its own address space and CPU time before importing any parser, reads one .pdf or .docx, and writes the
text to stdout as UTF-8. Exit codes tell the parent what went wrong; stderr carries a one-line reason."""

from __future__ import annotations

import resource
import sys

EXIT_OK = 0
EXIT_UNREADABLE = 3
EXIT_MEMORY = 4
EXIT_TOO_LONG = 5
NEAR_LIMIT = 0.7  # a parser that fails after using this share of its memory is taken to have run out


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # The soft limit sends SIGXCPU, the hard one SIGKILL a second later; the parent's wall clock is the main guard.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _peak_address_space() -> int:
    """The most address space this process has held (VmPeak), in bytes; 0 when /proc is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _read_pdf(path: str) -> str:
    from pypdf import PdfReader

    return "\n\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _read_docx(path: str) -> str:
    import docx

    return "\n\n".join(p.text for p in docx.Document(path).paragraphs)


READERS = {"pdf": _read_pdf, "docx": _read_docx}


def main(argv: list[str]) -> int:
    kind, path, memory_bytes, cpu_seconds, max_chars = argv[0], argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    _limit(memory_bytes, cpu_seconds)
    try:
        text = READERS[kind](path)
    except MemoryError:
        return EXIT_MEMORY
    except Exception as exc:  # any parser failure is the document's problem, reported in one line
        if _peak_address_space() >= NEAR_LIMIT * memory_bytes:
            return EXIT_MEMORY  # lxml reports a failed allocation as "XMLSyntaxError: unknown error"
        print(" ".join(f"{type(exc).__name__}: {exc}".split())[:300], file=sys.stderr)
        return EXIT_UNREADABLE
    if len(text) > max_chars:
        print(len(text), file=sys.stderr)
        return EXIT_TOO_LONG
    sys.stdout.buffer.write(text.encode("utf-8", "surrogatepass"))
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
