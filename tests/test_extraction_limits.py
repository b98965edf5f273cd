"""Every document costs bounded work on every path: zip limits before a .docx is opened, then a child process
with memory and time limits for the parser, and a cap on the text that gets chunked and embedded.

Real files, real parsers (pypdf, python-docx), the real ingestor and Chroma; the CLI runs as a child process.
"""

from __future__ import annotations

import io
import os
import random
import resource
import time
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from conftest import make_settings
from test_front_matter import run_cli_measured

from assistant.ingestion import extract
from assistant.ingestion.extract import ExtractionError, Limits, extract_text
from assistant.runtime import Runtime
from assistant.security import MAX_DOCX_UNCOMPRESSED, LimitError, check_upload

WORDS = [
    "mentor", "mentee", "feedback", "trust", "goal", "meeting", "listen", "question", "career", "plan", "growth",
    "skill", "review", "project", "team", "manager", "support", "challenge", "progress", "learn", "coach",
]  # fmt: skip


def wordy_docx(path: Path, unpacked_bytes: int, distinct_sentences: int = 90) -> Path:
    """A valid Word document whose body XML is `unpacked_bytes` long, made of sentences drawn from a small pool
    (so it compresses about 35 times, like the 1.5 MB file in issue 20 that unpacked to 50 MB)."""
    rng = random.Random(20)
    pool = [" ".join(rng.choice(WORDS) for _ in range(12)) + "." for _ in range(distinct_sentences)]
    namespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{namespace}"><w:body>']
    size = len(parts[0])
    while size < unpacked_bytes:
        paragraph = f"<w:p><w:r><w:t>{rng.choice(pool)}</w:t></w:r></w:p>"
        parts.append(paragraph)
        size += len(paragraph)
    parts.append("</w:body></w:document>")
    template = io.BytesIO()
    docx.Document().save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in source.infolist():
            body = "".join(parts).encode() if item.filename == "word/document.xml" else source.read(item.filename)
            out.writestr(item.filename, body)
    return path


def many_page_pdf(path: Path, pages: int) -> Path:
    """A small, valid PDF with `pages` pages of ordinary text: cheap to store, slow to extract page by page."""
    line = b"(Meet your mentee every fortnight and agree one next step.) Tj T* "
    stream = zlib.compress(b"BT /F1 12 Tf 72 720 Td 14 TL " + line * 40 + b"ET", 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{4 + i} 0 R' for i in range(pages))}] /Count {pages} >>".encode(),
        f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream",
    ]
    font = 4 + pages
    objects += [
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
        f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        for _ in range(pages)
    ]
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def small_knowledge(root: Path) -> Path:
    folder = root / "knowledge"
    folder.mkdir()
    (folder / "guide.md").write_text(
        "---\ntitle: Guide\ntopic: trust\ntags: [trust]\nsummary: Trust.\n---\n# Guide\n\nKeep your promises.\n",
        encoding="utf-8",
    )
    return folder


def workers_reading(path: Path) -> list[int]:
    """Process ids of extraction children still reading `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"assistant.ingestion.worker" in command and str(path).encode() in command:
            found.append(int(entry.name))
    return found


# --- the CLI: the path that had no zip check at all ----------------------------------------------------------
def test_cli_refuses_a_docx_that_unpacks_to_50_mb_within_seconds(tmp_path: Path) -> None:
    big = wordy_docx(tmp_path / "handbook.docx", 47 * 1024 * 1024)
    assert big.stat().st_size < 1.6 * 1024 * 1024, "a small upload, well inside the 5 MB limit"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTOR_", "OPENAI_"))}
    env |= {"MENTOR_DATA_DIR": str(tmp_path / "data"), "MENTOR_KNOWLEDGE_DIR": str(small_knowledge(tmp_path)),
            "MENTOR_LLM_BACKEND": "offline", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    started = time.monotonic()
    result = run_cli_measured(["ingest", str(big)], env, cap_bytes=3 * 1024**3)
    seconds = time.monotonic() - started
    err = str(result["err"])
    assert result["code"] == 0 and "Traceback" not in err, err[-2000:]
    assert f"skipped {big}: would unpack to 47.8 MB; the limit is 20.0 MB" in err, err
    # Before: still ingesting after 400 s. Now the zip directory is read and the file refused.
    assert seconds < 120, f"took {seconds:.0f} s"
    assert int(result["peak"]) < 1_200 * 1024**2, f"peak resident memory {int(result['peak']) / 1024**2:.0f} MB"


def test_the_upload_check_uses_the_same_unpacked_limit(tmp_path: Path) -> None:
    big = wordy_docx(tmp_path / "handbook.docx", MAX_DOCX_UNCOMPRESSED + 1024 * 1024)
    with pytest.raises(LimitError, match=r"would unpack to 21\.8 MB; the limit is 20\.0 MB"):
        check_upload(big, 5 * 1024 * 1024)


# --- the child process ----------------------------------------------------------------------------------------
def test_ordinary_documents_read_through_the_child(tmp_path: Path) -> None:
    word = tmp_path / "buddy.docx"
    document = docx.Document()
    document.add_paragraph("Every buddy brings a marmalade sandwich to the first lunch.")
    document.save(str(word))
    assert "marmalade sandwich" in extract_text(word)
    pdf = many_page_pdf(tmp_path / "policy.pdf", 2)
    assert extract_text(pdf).count("agree one next step") == 80


def test_a_parser_that_runs_too_long_is_stopped_and_the_index_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = many_page_pdf(tmp_path / "minutes.pdf", 6_000)  # about 2 MB; pypdf needs well over a minute for it
    good = tmp_path / "notes.md"
    good.write_text("# Notes\n\nThe heron rota starts on Monday.\n", encoding="utf-8")
    monkeypatch.setattr(extract, "LIMITS", Limits(seconds=3))
    rt = Runtime(make_settings(tmp_path / "data", knowledge_dir=small_knowledge(tmp_path)))
    started = time.monotonic()
    report = rt.ingestor.run([slow, good])
    held = time.monotonic() - started
    reasons = {Path(p).name: why for p, why in report.skipped}
    assert reasons == {"minutes.pdf": "took longer than 3 s to read, so it was stopped"}
    assert {Path(c.source).name for c in rt.store.all_records()[0]} == {"guide.md", "notes.md"}
    assert held < 45, f"the index lock was held {held:.0f} s"
    assert workers_reading(slow) == [], "the stopped child is gone"
    again = rt.ingestor.run([good])  # the lock is free again
    assert again.unchanged == 2 and not again.changed


def test_a_parser_that_needs_too_much_memory_is_stopped_without_touching_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heavy = wordy_docx(tmp_path / "heavy.docx", 19 * 1024 * 1024)  # inside the zip limits; lxml needs ~190 MB
    monkeypatch.setattr(extract, "LIMITS", Limits(memory_mb=150))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ExtractionError, match="needs more than 150 MB of memory to read, so it was stopped"):
        extract_text(heavy)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50 * 1024, f"this process grew by {grown_kb // 1024} MB"


def test_text_past_the_limit_is_refused_on_every_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = Runtime(make_settings(tmp_path / "data", knowledge_dir=small_knowledge(tmp_path)))
    long_md = tmp_path / "long.md"
    long_md.write_text("# Long\n\n" + "Agree one next step with your mentee. " * 30_000, encoding="utf-8")
    assert long_md.stat().st_size < 5_000_000
    word = tmp_path / "long.docx"
    document = docx.Document()
    document.add_paragraph("Agree one next step. " * 200)
    document.save(str(word))
    report = rt.ingestor.run([long_md])
    assert report.skipped == [(str(long_md), "has 1,140,008 characters of text; the limit is 1,000,000")]
    monkeypatch.setattr(extract, "LIMITS", Limits(text_chars=1_000))
    report = rt.ingestor.run([word])
    assert report.skipped == [(str(word), "has 4,200 characters of text; the limit is 1,000")]


def test_unreadable_files_say_what_they_are(tmp_path: Path) -> None:
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(ExtractionError, match=r"^cannot read this PDF \("):
        extract_text(fake_pdf)
    fake_docx = tmp_path / "fake.docx"
    fake_docx.write_bytes(b"PK\x03\x04 not a real zip archive")
    with pytest.raises(ExtractionError, match=r"^is not a valid Word document"):
        extract_text(fake_docx)
