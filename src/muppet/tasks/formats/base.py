"""What a format reader yields, and the registry of readers.

A reader turns one file into ``(Loc, raw)`` pairs. ``raw`` is a dict of source fields, or a
:class:`BadRecord` for a record it could not parse; it never raises for one bad record, so
that every problem in a file is reported at once (or skipped with ``on_bad_record: skip``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
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
# Row adapters turn one row of a hub dataset into source fields (they raise RecordError for a
# bad row and return None for a row that is not part of the task).
RowAdapter = Callable[..., "Raw | None"]
ROW_FORMATS: Registry[RowAdapter] = Registry("hub row format")


def read_text(path: Path) -> str:
    """The file's text; undecodable bytes survive as lone surrogates, caught per record later."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return data.decode("utf-8-sig", errors="surrogateescape")


def split_lines(text: str) -> list[str]:
    """Lines ended by \\n, \\r\\n or \\r. Not ``str.splitlines()``: it also splits at U+2028,
    U+0085, form feeds and the like, which are text inside a record, not line ends."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline) for every line of a text file."""
    for number, line in enumerate(split_lines(read_text(path)), start=1):
        yield number, line


# Lone surrogates: raw bytes kept by surrogateescape, or half a pair escaped in JSON (\ud83d);
# neither can be encoded as UTF-8 (tokenizers and Arrow would fail on them later).
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_bad_bytes(value: Any) -> bool:
    """Whether a text, or any text inside nested lists and mappings, holds undecodable bytes."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False
