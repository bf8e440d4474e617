"""Name → implementation registries: signals, schedules, engines, verifiers.

Built-ins register themselves exactly as a user extension would, through `Registry.register`
or the `curate.plugins` entry-point group (`<kind> = module:object`).

Lookups load as little as they can: a built-in whose module is known by name imports only that
module, and installed plugins (entry points, which means reading every installed package's
metadata) are loaded only for a name no built-in has, or when every name is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from curate.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of implementations, loaded lazily from modules on first lookup.

    `builtin_modules` lists the modules that register the built-ins, or maps each built-in's
    name to its module (then a lookup of that name imports only its module).
    """

    def __init__(self, kind: str, builtin_modules: tuple[str, ...] | Mapping[str, str] = ()):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._module_of: dict[str, str] = dict(builtin_modules) if isinstance(builtin_modules, Mapping) else {}
        self._builtin_modules = tuple(dict.fromkeys(self._module_of.values())) if self._module_of else tuple(builtin_modules)
        self._builtins_loaded = False
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

    @property
    def modules_by_name(self) -> dict[str, str]:
        """Built-in name → the module that registers it, for the built-ins the registry knows by name."""
        return dict(self._module_of)

    def add(self, name: str, obj: T) -> None:
        self._items[name] = obj

    @staticmethod
    def _import_builtin(mod: str) -> None:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:  # a built-in whose own import is broken must fail loudly
                raise

    def _load_builtins(self, name: str | None = None) -> None:
        """Import the module of built-in `name` when it is known, else every built-in module."""
        if self._builtins_loaded:
            return
        if name in self._module_of:
            self._import_builtin(self._module_of[name])
            if name in self._items:
                return
        self._builtins_loaded = True
        for mod in self._builtin_modules:
            self._import_builtin(mod)

    def _load(self) -> None:
        """Every built-in, then the installed plugins (a plugin never replaces a built-in)."""
        if self._loaded:
            return
        self._load_builtins()
        self._loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=f"curate.{self.kind}"):
            if ep.name in self._items:
                continue
            try:
                self._items[ep.name] = ep.load()
            except Exception as exc:  # one broken plugin must not break the others: it fails when it is asked for
                self._broken[ep.name] = f"{type(exc).__name__}: {exc}"

    def _find(self, name: str) -> bool:
        self._load_builtins(name)
        if name not in self._items:
            self._load()
        return name in self._items

    def get(self, name: str) -> T:
        if self._find(name):
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

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
