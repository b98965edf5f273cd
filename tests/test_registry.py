"""Registries: a component is one module of its package, found by name; settings name components with plain
strings and an unknown one is refused with the names that would work. (Entry points: tests/test_plugins.py.)"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings

from assistant.embedders import EMBEDDERS, get_embedder
from assistant.errors import ConfigurationError
from assistant.registry import Registry
from assistant.stores import STORES, open_store
from assistant.stores.memory import MemoryStore


@pytest.fixture
def widget_package(tmp_path: Path) -> Iterator[str]:
    """A package `widgets_<n>` with a registry in its __init__ and one module per widget, as the real ones are."""
    name = f"widgets_{tmp_path.name.replace('-', '_')}"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text(
        "import sys\nfrom assistant.registry import Registry\n"
        "WIDGETS = Registry('widget', sys.modules[__name__], setting='MENTOR_WIDGET')\n"
    )
    for module, widget in (("round", "round"), ("square", "square-ish"), ("_helpers", "hidden")):
        (package / f"{module}.py").write_text(
            textwrap.dedent(f"""
                from {name} import WIDGETS

                @WIDGETS.register({widget!r})
                def create(size):
                    return ({widget!r}, size)
            """)
        )
    sys.path.insert(0, str(tmp_path))
    yield name
    sys.path.remove(str(tmp_path))
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]


def test_each_module_of_the_package_adds_its_names(widget_package: str) -> None:
    widgets: Registry[tuple[str, int]] = importlib.import_module(widget_package).WIDGETS
    assert widgets.names() == ["round", "square-ish"], "modules starting with _ hold helpers, not widgets"
    assert widgets.create("square-ish", 3) == ("square-ish", 3)
    assert widgets.check("round") == "round"


def test_an_unknown_name_lists_the_known_ones_and_the_setting(widget_package: str) -> None:
    widgets: Registry[object] = importlib.import_module(widget_package).WIDGETS
    with pytest.raises(ConfigurationError, match=r"MENTOR_WIDGET='oval' is not a known widget.*round, square-ish"):
        widgets.create("oval", 1)


def test_the_shipped_registries_include_the_fast_tier_components() -> None:
    assert {"memory", "chroma-embedded", "chroma-http"} <= set(STORES.names())
    assert {"hashed", "minilm", "wordllama", "openai"} <= set(EMBEDDERS.names())


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"vector_store": "auto"}, "chroma-embedded"),
        ({"vector_store": "auto", "chroma_host": "127.0.0.1"}, "chroma-http"),
        ({"vector_store": "memory", "chroma_host": "127.0.0.1"}, "memory"),
    ],
)
def test_auto_picks_the_chroma_server_only_when_a_host_is_set(
    tmp_path: Path, overrides: dict[str, object], expected: str
) -> None:
    assert make_settings(tmp_path, **overrides).store_name == expected


def test_settings_choose_the_store_and_embedder_by_name(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, vector_store="memory", embedder="hashed")
    assert isinstance(open_store(settings), MemoryStore)
    assert get_embedder(settings).name == "hashed-384"
    with pytest.raises(ConfigurationError, match=r"MENTOR_VECTOR_STORE='redis'.*chroma-embedded.*memory"):
        open_store(make_settings(tmp_path, vector_store="redis"))
