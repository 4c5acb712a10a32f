"""What a format reader yields, and the registry of readers.

A reader turns one file into ``(Loc, raw)`` pairs. ``raw`` is a dict of source fields, or a
:class:`BadRecord` for a record it could not parse; it never raises for one bad record, so
that every problem in a file is reported at once (or skipped with ``on_bad_record: skip``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muppet.errors import DataError
from muppet.registry import Registry


@dataclass(frozen=True)
class Loc:
    """Where a record came from: a file and a 1-based line or record number."""

    path: str
    line: int | None = None
    record: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.record is not None:
            return f"{self.path} record {self.record}"
        return self.path


@dataclass(frozen=True)
class BadRecord:
    reason: str
    field: str | None = None


class RecordError(Exception):
    """Raised while turning one raw record into a canonical one."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


Raw = dict[str, Any]
FormatReader = Callable[..., Iterator[tuple[Loc, "Raw | BadRecord"]]]
FORMATS: Registry[FormatReader] = Registry("data format")
# Row adapters turn one row of a hub dataset into source fields (they raise RecordError).
RowAdapter = Callable[..., Raw]
ROW_FORMATS: Registry[RowAdapter] = Registry("hub row format")


def read_text(path: Path) -> str:
    """The file's text; undecodable bytes survive as lone surrogates, caught per record later."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return data.decode("utf-8-sig", errors="surrogateescape")


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline) for every line of a text file."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        yield number, line


def has_bad_bytes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)
