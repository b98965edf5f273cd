"""Markdown from users, documents and models as HTML the page can show safely.

The text is parsed once by markdown-it (CommonMark, raw HTML off), so what counts as an image or a link is decided
by a real parser, never by patterns over the source. Images whose source is not a path on this app become a short
placeholder at the token level; the rendered HTML then goes through an nh3 allowlist, which keeps only plain
formatting tags and a few attributes, checks link schemes and drops any image source that is not local.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

IMAGE_PLACEHOLDER = "[image removed: external link]"
MAX_RENDER_CHARS = 100_000

_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_LINK_SCHEMES = {"http", "https", "mailto"}


def is_local_source(src: str) -> bool:
    """True only for a path on this app ("images/a.png", "/file=..."): no scheme, no host, no backslash tricks.

    Browsers drop tabs and newlines inside URLs and read `\\` like `/`, so both are judged after that clean-up;
    percent-escapes are decoded first so `%2F%2Fhost` cannot pose as a path."""
    text = unicodedata.normalize("NFKC", unquote(src or ""))
    text = "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] != "C").replace("\\", "/")
    if not text or text.startswith("//"):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc and ":" not in text.split("/", 1)[0]


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # The token pass already replaced outside images; this is the second lock on the same door.
    if tag == "img" and attribute == "src" and not is_local_source(value):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes=_LINK_SCHEMES,
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def _kept(token: Token) -> Token:
    """The token itself, or a text placeholder when it is an image from anywhere but this app."""
    if token.type != "image" or is_local_source(str(token.attrGet("src") or "")):
        return token
    text = Token("text", "", 0)
    text.content = IMAGE_PLACEHOLDER
    return text


def _drop_outside_images(tokens: Sequence[Token]) -> None:
    for token in tokens:
        if token.children:
            token.children = [_kept(child) for child in token.children]
            _drop_outside_images(token.children)


def render_markdown(text: str, limit: int = MAX_RENDER_CHARS) -> str:
    """HTML for `text`: raw HTML shown as text, outside images replaced by a placeholder, only allowlisted markup.

    Text past `limit` characters is not shown: hostile Markdown (tens of thousands of `![`) costs markdown-it
    about 0.2 ms a character, so the limit bounds one render to seconds."""
    text = "".join(ch for ch in text or "" if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    if not text:
        return ""
    note = ""
    if len(text) > limit:
        text, note = text[:limit], f"\n\n*… the rest is not shown here: it is longer than {limit:,} characters.*"
    env: dict[str, object] = {}
    tokens = _PARSER.parse(text + note, env)
    _drop_outside_images(tokens)
    return _CLEANER.clean(_PARSER.renderer.render(tokens, _PARSER.options, env))


def list_items(text: str, numbered_only: bool = False) -> list[str]:
    """The Markdown source of each item of the lists in `text` (only numbered lists' items when `numbered_only`),
    in order."""
    items: list[str] = []
    lists: list[str] = []  # the kinds of the lists open around the current token
    for token in _PARSER.parse(text):
        if token.type in ("ordered_list_open", "bullet_list_open"):
            lists.append(token.type)
        elif token.type in ("ordered_list_close", "bullet_list_close"):
            lists.pop()
        elif token.type == "inline" and lists and (lists[-1] == "ordered_list_open" or not numbered_only):
            items.append(token.content)
    return items
