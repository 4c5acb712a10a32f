"""The one Markdown table printer: results after a run, ``data prepare``, ``tasks list`` and
``check-hub``, reports, study summaries, affinity rankings, model cards and the README's key
tables all go through it (a dependency-free helper: pandas' ``to_markdown`` needs tabulate)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def cell(value: Any) -> str:
    """A value as one table cell: a ``|`` inside is escaped and a line break becomes a space."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The header, the rule and one line per row."""
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
