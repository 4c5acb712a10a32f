"""A name -> object registry that fails loudly on duplicates and unknown names."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from muppet.errors import DuplicateNameError, UnknownNameError

T = TypeVar("T")


def nearest(name: str, candidates: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    """The candidates closest to ``name``, best first (substring matches count as close)."""
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)
    if len(close) < n:
        close += [c for c in sorted(candidates) if name and name in c and c not in close]
    return close[:n]


def unknown(kind: str, name: str, candidates: list[str] | tuple[str, ...]) -> UnknownNameError:
    near = nearest(name, candidates)
    hint = f"; did you mean {', '.join(repr(c) for c in near)}?" if near else ""
    return UnknownNameError(f"unknown {kind} {name!r}{hint}")


class Registry(Generic[T]):
    """``builtins`` registers the built-in entries; it runs once, before the registry is first
    read or written, so an entry registered by a user never keeps the built-ins out."""

    def __init__(self, kind: str, builtins: Callable[[], object] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._builtins = builtins

    @property
    def _entries(self) -> dict[str, T]:
        if self._builtins is not None:
            # Cleared first: the loader registers through this registry.
            load, self._builtins = self._builtins, None
            load()
        return self._items

    def register(self, name: str, item: T) -> T:
        if name in self._entries:
            raise DuplicateNameError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def add(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`register`."""

        def deco(item: T) -> T:
            return self.register(name, item)

        return deco

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise unknown(self.kind, name, list(self._entries)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def unregister(self, name: str) -> None:
        """Remove a name (tests and user plug-ins that replace an entry)."""
        if name not in self._entries:
            raise unknown(self.kind, name, list(self._entries))
        del self._entries[name]
