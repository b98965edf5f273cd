"""Plugins by name: vector stores, embedders and chat backends are chosen by a plain string setting.

A name comes from one of two places, so adding one is one new file:

- a module of the plugin package itself: `assistant/embedders/hashed.py` with
  `@EMBEDDERS.register("hashed") def create(settings): ...`. The package's modules are imported on first use
  (each imports its heavy libraries inside the factory, so listing the names stays cheap);
- an entry point of an installed distribution, in the group the registry names (for example
  `mentor_assistant.embedders`): `hashing = "my_package.hashing:create"` in that package's pyproject.toml.
  Entry points are loaded only when their name is asked for.

A name in both places is the built-in one: an installed package cannot silently replace a shipped component.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Generic, TypeVar

from assistant.errors import ConfigurationError

T = TypeVar("T")
log = logging.getLogger(__name__)


class Registry(Generic[T]):
    """Name → factory for one kind of plugin: the modules of one package, then one entry-point group."""

    def __init__(
        self, kind: str, package: ModuleType, entry_point_group: str | None = None, setting: str | None = None
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.setting = setting  # the environment variable that picks one, named in error messages
        self._package = package
        self._factories: dict[str, Callable[..., T]] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return decorator

    def _load(self) -> None:
        if self._loaded:
            return
        for info in pkgutil.iter_modules(self._package.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{self._package.__name__}.{info.name}")
        self._loaded = True

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        # Read on every call (milliseconds, and only when a component is built or a name is checked), so a
        # package installed while the process runs is seen without a restart.
        if self.entry_point_group is None:
            return {}
        return {ep.name: ep for ep in importlib.metadata.entry_points(group=self.entry_point_group)}

    def names(self) -> list[str]:
        self._load()
        return sorted({*self._factories, *self._entry_points()})

    def check(self, name: str) -> str:
        """`name` if something provides it, else a ConfigurationError listing the names that would work."""
        self._load()
        if name in self._factories or name in self._entry_points():
            return name
        chosen = f"{self.setting}={name!r}" if self.setting else repr(name)
        plugins = (
            f" An installed package adds one through the entry-point group {self.entry_point_group!r}."
            if self.entry_point_group
            else ""
        )
        raise ConfigurationError(
            f"{chosen} is not a known {self.kind}; choose one of: {', '.join(self.names())}.{plugins}"
        )

    def factory(self, name: str) -> Callable[..., T]:
        self.check(name)
        if name in self._factories:
            return self._factories[name]
        entry_point = self._entry_points()[name]
        log.info("%s %r comes from %s", self.kind, name, entry_point.value)
        loaded: Callable[..., T] = entry_point.load()
        return loaded

    def create(self, name: str, *args: object, **kwargs: object) -> T:
        return self.factory(name)(*args, **kwargs)
