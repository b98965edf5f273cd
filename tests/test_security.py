"""Security helpers: redaction, message limits, upload names and zip-bomb .docx files.

Markdown rendering (parsed, then allowlisted) is tested in test_rendering.py."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from assistant.security import LimitError, check_message, check_upload, redact, safe_upload_name

# --- redaction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to priya.n+work@example.co.uk today", "Write to [email] today"),
        ("Call +44 20 7946 0958 or +1-202-555-0143.", "Call [phone] or [phone]."),
        ("Her number is (555) 123-4567.", "Her number is [phone]."),
        ("Reach him on +14155552671 or 07700 900123", "Reach him on [phone] or [phone]"),
        ("In Berlin: +49 30 1234567.", "In Berlin: [phone]."),
        ("my mentee Priya is shy", "my mentee [name] is shy"),
        ("I met her manager, John Smith, on Friday.", "I met her manager, [name], on Friday."),
        ("Our new hire is called Tomasz and he is great.", "Our new hire is called [name] and he is great."),
        ("Yesterday I talked to Ana Lopez about it.", "Yesterday I talked to [name] about it."),
        ("Meet Dr. Okafor at noon.", "Meet Dr. [name] at noon."),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We meet on 2024-05-01 from 10.30-11.30.",
        "She worked there 2019-2023 and has 3 mentees.",
        "Priya asked me about her goals.",  # sentence start: not redacted without a cue
        "We read Crucial Conversations on Monday.",
        "The team uses Google Docs for notes.",
        "Your message is 5,210 characters.",
        "",
    ],
)
def test_redact_leaves_ordinary_text(text: str) -> None:
    assert redact(text) == text


# --- message limits --------------------------------------------------------------------------


def test_check_message_strips_and_accepts() -> None:
    assert check_message("  How do I start?  \n", 4000) == "How do I start?"


def test_check_message_too_long_says_size_and_limit() -> None:
    with pytest.raises(LimitError) as err:
        check_message("x" * 5210, 4000)
    assert str(err.value) == (
        "Your message is 5,210 characters; the limit is 4,000. Shorten it or split it into two questions."
    )
    assert err.value.allowed == 4000


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_check_message_empty(text: str) -> None:
    with pytest.raises(LimitError, match="empty"):
        check_message(text, 4000)


def test_limit_error_is_a_value_error() -> None:
    assert issubclass(LimitError, ValueError)


# --- upload names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.md", "notes.md"),
        ("Guide.MARKDOWN", "Guide.markdown"),
        ("my plan (v2).docx", "my plan (v2).docx"),
        ("résumé.pdf", "résumé.pdf"),
        ("folder/sub/notes.txt", "notes.txt"),
        ("weird<>|name?.md", "weird_name.md"),
    ],
)
def test_safe_upload_name_accepts(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../secrets.md", "outside"),
        ("docs/../../etc/passwd.txt", "outside"),
        ("..\\..\\windows\\win.ini.txt", "outside"),
        ("/etc/passwd.md", "absolute"),
        ("C:\\Users\\me\\notes.md", "absolute"),
        ("\\\\server\\share\\notes.md", "absolute"),
        ("notes\x00.md", "control"),
        (".env.md", "hidden"),
        ("page.html", "not an accepted file type"),
        ("page.htm", "not an accepted file type"),
        ("logo.svg", "not an accepted file type"),
        ("notes.md.html", "not an accepted file type"),
        ("script.js", "not an accepted file type"),
        ("noextension", "not an accepted file type"),
        ("", "no name"),
    ],
)
def test_safe_upload_name_refuses(name: str, why: str) -> None:
    with pytest.raises(LimitError, match=why):
        safe_upload_name(name)


def test_refused_extension_lists_allowed_types() -> None:
    with pytest.raises(LimitError) as err:
        safe_upload_name("x.svg")
    assert ".md, .markdown, .txt, .pdf, .docx" in str(err.value)


# --- upload files ----------------------------------------------------------------------------


def _docx(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_check_upload_accepts_small_files(tmp_path: Path) -> None:
    note = tmp_path / "a.md"
    note.write_text("# Notes\n\nHello.\n", encoding="utf-8")
    check_upload(note, 5 * 1024 * 1024)
    import docx

    document = docx.Document()
    document.add_paragraph("A real Word document about mentoring. " * 50)
    document.save(str(tmp_path / "real.docx"))
    check_upload(tmp_path / "real.docx", 5 * 1024 * 1024)


def test_check_upload_refuses_oversized(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024))
    with pytest.raises(LimitError, match=r"big\.pdf is 2\.0 MB; the limit is 1\.0 MB"):
        check_upload(big, 1024 * 1024)


def test_check_upload_refuses_zip_bomb_docx(tmp_path: Path) -> None:
    # 60 MB of zeros compresses to ~60 KB: over both the size and the ratio limits.
    bomb = _docx(tmp_path / "bomb.docx", {"word/document.xml": b"0" * (60 * 1024 * 1024)})
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(LimitError, match="unpack"):
        check_upload(bomb, 5 * 1024 * 1024)


def test_check_upload_refuses_high_ratio_docx(tmp_path: Path) -> None:
    dense = _docx(tmp_path / "dense.docx", {"word/document.xml": b"a" * (5 * 1024 * 1024)})
    with pytest.raises(LimitError, match="times its size"):
        check_upload(dense, 5 * 1024 * 1024)


def test_check_upload_refuses_fake_docx_and_missing(tmp_path: Path) -> None:
    fake = tmp_path / "fake.docx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(LimitError, match="not a valid Word document"):
        check_upload(fake, 1024)
    with pytest.raises(LimitError, match="not found"):
        check_upload(tmp_path / "gone.md", 1024)
