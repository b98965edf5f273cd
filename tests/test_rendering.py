"""Markdown to HTML by parsing (markdown-it, then the nh3 allowlist): what comes out is inert and never loads
anything from another host, whatever the text says.

The output is inspected with Python's own HTML parser, not with patterns: every element and attribute the browser
would see is listed and checked.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from markdown_it import MarkdownIt

from assistant.rendering import IMAGE_PLACEHOLDER, is_local_source, render_markdown
from assistant.rendering.markdown import MAX_RENDER_CHARS, list_items

OUT = "https://evil.example"
SAFE_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
FETCHING = {"src", "srcset", "poster", "data", "background", "lowsrc", "dynsrc", "xlink:href", "formaction"}


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of any <style> element."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def resolves_outside(url: str) -> bool:
    """True when a browser on http://app.local/ would fetch `url` from another host (tabs and newlines dropped,
    backslashes read as slashes, as browsers do for http URLs)."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("\x00 ").replace("\\", "/")
    parts = urlsplit(urljoin("http://app.local/page/", cleaned))
    return parts.scheme in {"http", "https"} and parts.hostname != "app.local"


def outside_fetches(html: str) -> list[str]:
    """What in this HTML would make a browser request something from another host on its own."""
    found = []
    for tag, attrs in Elements(html).tags:
        for name, value in attrs.items():
            urls = [item.split()[0] for item in value.split(",") if item.split()] if name == "srcset" else [value]
            if name in FETCHING and any(resolves_outside(u) for u in urls):
                found.append(f"<{tag} {name}={value}>")
            if name == "style" and "url(" in value:
                found.append(f"<{tag} style={value}>")
            if tag in {"link", "image", "use"} and name == "href":
                found.append(f"<{tag} href={value}>")
        if tag in {"style", "script", "iframe", "object", "embed", "svg", "math", "base", "meta", "link"}:
            found.append(f"<{tag}>")
    return found


def assert_inert(html: str) -> None:
    elements = Elements(html)
    assert {tag for tag, _ in elements.tags} <= SAFE_TAGS, html
    for tag, attrs in elements.tags:
        assert not [a for a in attrs if a.startswith("on") or a in {"style", "class", "id"}], (tag, attrs)
        # As a browser reads it: tabs and newlines removed, then a scheme only if it is spelled like one.
        href = re.sub(r"[\t\n\r]", "", attrs.get("href", "")).strip("\x00 ")
        scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", href)
        assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto"}, (tag, attrs)
    assert outside_fetches(html) == [], html


# --- the payload families of issue 20, fuzzed -----------------------------------------------------------------
def long_alt(n: int) -> str:
    return "a long description " * (n // 19 + 1)


PAYLOADS: dict[str, str] = {
    # very long alt text (the old sanitiser looked back at most 2,000 characters for the opening bracket)
    "alt-1990": f"![{long_alt(1990)[:1990]}]({OUT}/1.png)",
    "alt-2001": f"![{long_alt(2001)[:2001]}]({OUT}/2.png)",
    "alt-2100-title": f'![{long_alt(2100)}]({OUT}/3.png "title")',
    "alt-5000": f"Intro text. ![{long_alt(5000)}]({OUT}/4.png) outro.",
    "alt-long-nested": f"![{long_alt(2100)} [with] [brackets]]({OUT}/5.png)",
    "alt-long-in-list": f"- item\n- ![{long_alt(2500)}]({OUT}/6.png)",
    "alt-long-in-quote": f"> ![{long_alt(2500)}]({OUT}/7.png)",
    "alt-long-ref": f"![{long_alt(2500)}][r]\n\n[r]: {OUT}/8.png",
    # reference-style images inside a > quote
    "quote-full-ref": f"> ![x][q]\n>\n> [q]: {OUT}/9.png",
    "quote-collapsed-ref": f"> ![q][]\n>\n> [q]: {OUT}/10.png",
    "quote-shortcut-ref": f"> ![q]\n>\n> [q]: {OUT}/11.png",
    "quote-nested": f"> > ![x][q]\n> >\n> > [q]: {OUT}/12.png",
    "quote-def-outside": f"> ![x][q]\n\n[q]: {OUT}/13.png",
    "quote-def-indented": f">    [q]: {OUT}/14.png\n>\n> ![x][q]",
    "quote-lazy": f"> text ![x][q]\nlazy line\n\n> [q]: {OUT}/15.png",
    "quote-def-title": f'> ![x][q]\n>\n> [q]: {OUT}/16.png "t"',
    # reference-style images inside a - list item
    "list-dash": f"- ![x][l]\n- [l]: {OUT}/17.png",
    "list-star": f"* ![x][l]\n* [l]: {OUT}/18.png",
    "list-ordered": f"1. ![x][l]\n2. [l]: {OUT}/19.png",
    "list-nested": f"- a\n  - ![x][l]\n  - [l]: {OUT}/20.png",
    "list-same-item": f"- ![x][l]\n\n  [l]: {OUT}/21.png",
    "list-shortcut": f"- ![l]\n- [l]: {OUT}/22.png",
    "list-in-quote": f"> - ![x][l]\n> - [l]: {OUT}/23.png",
    "list-plus": f"+ ![x][l]\n+ [l]: <{OUT}/24.png>",
    # \] inside a reference label
    "label-escaped": f"![x][a\\]b]\n\n[a\\]b]: {OUT}/25.png",
    "label-escaped-shortcut": f"![a\\]b]\n\n[a\\]b]: {OUT}/26.png",
    "label-escaped-collapsed": f"![a\\]b][]\n\n[a\\]b]: {OUT}/27.png",
    "label-escaped-open": f"![x][a\\[b]\n\n[a\\[b]: {OUT}/28.png",
    "label-escaped-case": f"![x][A\\]B]\n\n[a\\]b]: {OUT}/29.png",
    "label-escaped-spaces": f"![x][a  \\]  b]\n\n[a \\] b]: {OUT}/30.png",
    "label-escaped-in-quote": f"> ![x][a\\]b]\n>\n> [a\\]b]: {OUT}/31.png",
    "label-escaped-in-list": f"- ![x][a\\]b]\n- [a\\]b]: {OUT}/32.png",
    # destinations written another way
    "entity-scheme": "![x](&#104;ttps://evil.example/33.png)",
    "protocol-relative": "![x](//evil.example/34.png)",
    "angle-brackets": f"![x](<{OUT}/35.png>)",
    "upper-case": "![x](HTTPS://EVIL.EXAMPLE/36.png)",
    "percent-slashes": "![x](%2F%2Fevil.example/37.png)",
    "backslash-host": "![x](/\\evil.example/38.png)",
    "data-svg": "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    "newline-in-ref": f"![x][r]\n\n[r]:\n  {OUT}/40.png",
    # raw HTML that would fetch
    "html-img": f"<img src={OUT}/41.png>",
    "html-picture": f"<picture><source srcset={OUT}/42.png><img></picture>",
    "html-svg-image": f"<svg><image href={OUT}/43.png /></svg>",
    "html-video-poster": f"<video poster={OUT}/44.png></video>",
    "html-link": f"<link rel=stylesheet href={OUT}/45.css>",
    "html-style-import": f"<style>@import url({OUT}/46.css)</style>",
    "html-inline-style": f"<div style='background:url({OUT}/47.png)'>x</div>",
    "html-input-image": f"<input type=image src={OUT}/48.png>",
}


def test_there_are_48_payloads() -> None:
    assert len(PAYLOADS) == 48


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_no_payload_fetches_from_another_host(name: str) -> None:
    html = render_markdown(f"Before\n\n{PAYLOADS[name]}\n\nAfter")
    assert outside_fetches(html) == [], html
    assert_inert(html)
    assert "Before" in html and "After" in html


def images_seen_by_a_plain_parser(text: str) -> int:
    """How many images an unmodified CommonMark parser finds in `text` (markdown-it, as the oracle)."""
    tokens = MarkdownIt("commonmark").parse(text)
    return sum(child.type == "image" for token in tokens for child in token.children or [])


@pytest.mark.parametrize("name", sorted(n for n in PAYLOADS if not n.startswith("html-")))
def test_an_outside_image_leaves_a_visible_placeholder(name: str) -> None:
    """Where a parser sees an image, the reader is told one was removed; nothing is silently dropped."""
    html = render_markdown(PAYLOADS[name])
    assert "<img" not in html
    assert html.count(IMAGE_PLACEHOLDER) == images_seen_by_a_plain_parser(PAYLOADS[name]), html


# --- the classic XSS vectors ---------------------------------------------------------------------------------
XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src='https://evil.example/'></iframe>",
    "<svg onload=alert(1)>",
    "<a href='javascript:alert(1)'>click</a>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</script>",
    "Text then\n<script>\nalert(1)\n</script>\nmore text",
    "<javascript:alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[a [b [c]]](javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click][r]\n\n[r]: javascript:alert(1)",
    "`code` <img src=x onerror=alert(1)> `more`",
    "```\n<script>alert(1)</script>\n```",
    "> ```\n> <img src=x onerror=alert(1)>\n",
    "~~~\n<b>unclosed fence\n<img src=x onerror=alert(1)>",
    '[x](https://ok.example "title" onmouseover=alert(1))',
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [c](javascript:alert(1)) |",
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_render_inert(vector: str) -> None:
    assert_inert(render_markdown(vector))


def test_raw_html_is_shown_as_text() -> None:
    html = render_markdown("Watch out for <script>alert(1)</script> in answers.")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_formatting_links_and_local_images_are_kept() -> None:
    html = render_markdown(
        "# Giving feedback\n\nUse **SBI**: see [the guide](https://example.org/sbi) and `a<b`.\n\n"
        "- Situation\n- Behaviour\n\n> Quote\n\n![diagram](images/sbi.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    tags = [tag for tag, _ in Elements(html).tags]
    assert {"h1", "strong", "a", "code", "ul", "li", "blockquote", "img", "table", "td"} <= set(tags)
    assert '<a href="https://example.org/sbi" rel="noopener noreferrer nofollow">the guide</a>' in html
    assert '<img src="images/sbi.png" alt="diagram">' in html
    assert "<code>a&lt;b</code>" in html


@pytest.mark.parametrize(
    ("source", "local"),
    [
        ("images/a.png", True),
        ("/gradio_api/file=x.png", True),
        ("a.png?size=2", True),
        ("https://evil.example/a.png", False),
        ("//evil.example/a.png", False),
        ("/\\evil.example/a.png", False),
        ("\\\\evil.example\\a.png", False),
        ("%2F%2Fevil.example/a.png", False),
        ("/%5Cevil.example/a.png", False),
        ("data:image/png;base64,AAAA", False),
        ("ja\tvascript:alert(1)", False),
        ("", False),
    ],
)
def test_is_local_source(source: str, local: bool) -> None:
    assert is_local_source(source) is local


def test_empty_control_and_hostile_text_is_fast_and_bounded() -> None:
    assert render_markdown("") == ""
    assert "abc" in render_markdown("a\x00b\x07c")
    started = time.monotonic()
    for hostile in ("![" * 30_000, "]" * 50_000 + "(javascript:x)", "*a" * 30_000, "[" * 50_000):
        assert_inert(render_markdown(hostile))
    assert time.monotonic() - started < 60
    cut = render_markdown("word " * (MAX_RENDER_CHARS // 4))
    assert f"longer than {MAX_RENDER_CHARS:,} characters" in cut


def test_list_items_are_read_by_the_markdown_parser() -> None:
    text = (
        "**What to do**\n1. Ask first. [1]\n2. Then *listen*,\n   and wait.\n\n"
        "Not an item: 3 apples.\n\n- A line to say [2]\n"
    )
    assert list_items(text) == ["Ask first. [1]", "Then *listen*,\nand wait.", "A line to say [2]"]
