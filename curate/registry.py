"""Name → implementation registries: signals, schedules, engines, verifiers.

Built-ins register themselves exactly as a user extension would, through `Registry.register`
or the `curate.plugins` entry-point group (`<kind> = module:object`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from curate.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of implementations, loaded lazily from modules on first lookup."""

    def __init__(self, kind: str, builtin_modules: tuple[str, ...] = ()):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._builtin_modules = builtin_modules
        self._loaded = False
        self._broken: dict[str, str] = {}  # plugin name → why its entry point failed to load

    def register(self, name: str | None = None) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            key = name or getattr(obj, "name")  # noqa: B009  (T is unbounded: any registered object with a `name`)
            self._items[key] = obj
            return obj

        return deco

    @property
    def builtin_modules(self) -> tuple[str, ...]:
        return self._builtin_modules

    def add(self, name: str, obj: T) -> None:
        self._items[name] = obj

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for mod in self._builtin_modules:
            try:
                importlib.import_module(mod)
            except ModuleNotFoundError as exc:
                if exc.name != mod:  # a built-in whose own import is broken must fail loudly
                    raise
        from importlib.metadata import entry_points

        for ep in entry_points(group=f"curate.{self.kind}"):
            if ep.name in self._items:
                continue
            try:
                self._items[ep.name] = ep.load()
            except Exception as exc:  # one broken plugin must not break the others: it fails when it is asked for
                self._broken[ep.name] = f"{type(exc).__name__}: {exc}"

    def get(self, name: str) -> T:
        self._load()
        if name in self._items:
            return self._items[name]
        if name in self._broken:
            raise UsageError(
                f"the {self.kind} plugin '{name}' failed to load ({self._broken[name]})", "fix or uninstall the package that provides it"
            )
        known = ", ".join(sorted(self._items)) or "none"
        raise UsageError(f"unknown {self.kind} '{name}'", f"choose one of: {known}")

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
