"""Security helpers: Markdown sanitising (checked by rendering with a real CommonMark parser), redaction,
message limits, upload names and zip-bomb .docx files."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from assistant.security import (
    IMAGE_PLACEHOLDER,
    LimitError,
    check_message,
    check_upload,
    redact,
    safe_upload_name,
    sanitize_markdown,
)

_md = MarkdownIt("commonmark")


def render(text: str) -> str:
    """HTML exactly as a CommonMark renderer (with raw HTML enabled, the worst case) would produce it."""
    return _md.render(sanitize_markdown(text))


def assert_inert(html: str) -> None:
    tags = {t.lower() for t in re.findall(r"<\s*([a-zA-Z][\w-]*)", html)}
    assert tags <= {"p", "a", "code", "pre", "em", "strong", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "br"}, (
        tags,
        html,
    )
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.IGNORECASE), html
    assert not re.search(r"href=\"\s*(?:javascript|vbscript|data):", html, re.IGNORECASE), html
    assert "<img" not in html


XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src='https://evil.example/'></iframe>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<a href='javascript:alert(1)'>click</a>",
    "<body onload=alert(1)>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!-- comment --><script>alert(1)</script>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<object data='javascript:alert(1)'></object>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "Text then\n<script>\nalert(1)\n</script>\nmore text",
    "<javascript:alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[a [b [c]]](javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click][r]\n\n[r]: javascript:alert(1)",
    "`code` <img src=x onerror=alert(1)> `more`",
    "\\`<img src=x onerror=alert(1)>`",
    "```\n<script>alert(1)</script>\n```",
    "```js`\n<img src=x onerror=alert(1)>\n```",
    "> ```\n> <img src=x onerror=alert(1)>\n",
    "1. item\n    ```\n   ```\n<img src=x onerror=alert(1)>",
    "~~~\n<b>unclosed fence\n<img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_render_inert(vector: str) -> None:
    assert_inert(render(vector))


def test_raw_html_is_shown_as_text() -> None:
    html = render("Watch out for <script>alert(1)</script> in answers.")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_code_keeps_a_readable_angle_bracket() -> None:
    out = sanitize_markdown("Use `a<b` here.\n\n```\nif x < y:\n```\n")
    assert "&lt;" not in out
    assert "`a‹b`" in out and "x ‹ y" in out


@pytest.mark.parametrize(
    "image",
    [
        "![tracker](https://evil.example/pixel.png)",
        "![tracker](http://evil.example/pixel.png)",
        "![tracker](HTTPS://EVIL.EXAMPLE/p.png)",
        '![tracker](https://evil.example/p.png "title")',
        "![tracker](<https://evil.example/p.png>)",
        "![tracker]( https://evil.example/p.png )",
        "![tracker](//evil.example/p.png)",
        "![tracker](&#104;ttps://evil.example/p.png)",
        "![a [nested] alt](https://evil.example/p.png)",
        "![a [b [c]]](https://evil.example/p.png)",
        "![tracker](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
        "![tracker][ref]\n\n[ref]: https://evil.example/p.png",
        "![Tracker][]\n\n[tracker]: https://evil.example/p.png",
        "![tracker]\n\n[tracker]: <https://evil.example/p.png>",
    ],
)
def test_external_images_are_replaced(image: str) -> None:
    out = sanitize_markdown(f"Before {image} after")
    assert IMAGE_PLACEHOLDER in out
    html = _md.render(out)
    assert "<img" not in html
    assert "Before" in out and "after" in out


def test_links_and_local_content_are_kept() -> None:
    text = (
        "# Giving feedback\n\nUse **SBI**: see [the guide](https://example.org/sbi) and [notes](notes/sbi.md).\n\n"
        "- Situation\n- Behaviour\n- Impact\n\n> Quote\n\n![diagram](images/sbi.png)\n\nVisit https://example.org too."
    )
    assert sanitize_markdown(text) == text
    html = _md.render(sanitize_markdown(text))
    assert '<a href="https://example.org/sbi">the guide</a>' in html
    assert '<img src="images/sbi.png"' in html


def test_sanitize_handles_empty_huge_and_control_text() -> None:
    assert sanitize_markdown("") == ""
    big = ("[a](b) ![c](d) <x> `e` " * 20_000)[:100_000]
    assert len(sanitize_markdown(big)) >= 90_000
    assert sanitize_markdown("a\x00b\x07c\u200b") == "abc\u200b"
    hostile = "]" * 50_000 + "(javascript:x)"
    assert "javascript" in sanitize_markdown(hostile)  # plain text, no link: left as is, and fast


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
    document.save(tmp_path / "real.docx")
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
