"""YAML front matter read safely: a size cap, no aliases or anchors, shallow nesting, every value a bounded string.

YAML aliases let a few hundred bytes name billions of strings (`a: &a [x,x,...]`, `b: &b [*a,*a,...]`); PyYAML
shares the objects, but the first `str()` of such a value expands them all (a 383-byte file took 5.7 GB). Front
matter never needs aliases, so the loader refuses the first anchor or alias it meets, before anything is built.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent

from assistant.errors import InputError

MAX_FRONT_MATTER_BYTES = 16 * 1024
MAX_DEPTH = 4  # the mapping, a list inside it, and room for nothing deeper that front matter needs
MAX_KEYS = 64
MAX_ITEMS = 64
MAX_KEY_CHARS = 64
MAX_VALUE_CHARS = 2_000
MAX_INT = 10**9


class FrontMatterError(InputError):
    """Front matter that is refused; the message says why in words a document author understands."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases and stops at MAX_DEPTH nested collections."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise FrontMatterError("front matter uses a YAML alias (*name), which is not allowed")
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise FrontMatterError("front matter uses a YAML anchor (&name), which is not allowed")
        nested = isinstance(event, CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise FrontMatterError(f"front matter is nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1


def _text(value: Any, where: str) -> str | int:
    """A scalar as a bounded string; small integers stay integers (`step: 4`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) <= MAX_INT:
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        raise FrontMatterError(f"`{where}` in the front matter is binary data, not text")
    text = str(value)
    if len(text) > MAX_VALUE_CHARS:
        raise FrontMatterError(
            f"`{where}` in the front matter is {len(text):,} characters; the limit is {MAX_VALUE_CHARS:,}"
        )
    return text


def _field(key: str, value: Any) -> str | int | list[str]:
    if isinstance(value, dict):
        raise FrontMatterError(f"`{key}` in the front matter must be text or a list, not a mapping")
    if not isinstance(value, list):
        return _text(value, key)
    if len(value) > MAX_ITEMS:
        raise FrontMatterError(f"`{key}` in the front matter has {len(value):,} items; the limit is {MAX_ITEMS}")
    if any(isinstance(item, dict | list) for item in value):
        raise FrontMatterError(f"`{key}` in the front matter must be a flat list of words or sentences")
    return [str(_text(item, key)) for item in value if item is not None]


def _load(text: str) -> Any:
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_front_matter(text: str) -> dict[str, Any]:
    """The front matter between the `---` lines as a flat mapping of bounded strings, integers and lists of them.

    FrontMatterError when it is too large, uses aliases or anchors, nests too deeply, is not YAML or not a
    mapping, or holds a value past the limits."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise FrontMatterError(f"front matter is {size:,} bytes; the limit is {MAX_FRONT_MATTER_BYTES:,}")
    try:
        data = _load(text)
    except FrontMatterError:
        raise
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        # ValueError: PyYAML converts `step: 1e99999`-style scalars with int()/float(), which can refuse them.
        raise FrontMatterError(f"front matter is not valid YAML ({_first_line(exc)})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a YAML mapping (name: value lines)")
    if len(data) > MAX_KEYS:
        raise FrontMatterError(f"front matter has {len(data):,} fields; the limit is {MAX_KEYS}")
    meta: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        if len(name) > MAX_KEY_CHARS:
            raise FrontMatterError(
                f"a front matter field name is {len(name):,} characters; the limit is {MAX_KEY_CHARS}"
            )
        if value is not None:
            meta[name] = _field(name, value)
    return meta


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
