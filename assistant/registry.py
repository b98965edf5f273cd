"""A tiny plugin registry: a backend is one module that registers a factory under a name."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → factory, filled by the modules of one package on first use."""

    def __init__(self, kind: str, package: ModuleType) -> None:
        self.kind = kind
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

    def names(self) -> list[str]:
        self._load()
        return sorted(self._factories)

    def create(self, name: str, *args: object, **kwargs: object) -> T:
        self._load()
        if name not in self._factories:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}")
        return self._factories[name](*args, **kwargs)
