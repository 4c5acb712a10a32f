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
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        if name in self._items:
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
            return self._items[name]
        except KeyError:
            raise unknown(self.kind, name, list(self._items)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        return list(self._items.items())

    def unregister(self, name: str) -> None:
        """Remove a name (tests and user plug-ins that replace an entry)."""
        if name not in self._items:
            raise unknown(self.kind, name, list(self._items))
        del self._items[name]
