"""The one Markdown table printer."""

from __future__ import annotations

from pathlib import Path

from muppet.tables import markdown_table


def test_a_table_is_header_rule_and_rows_with_cells_escaped() -> None:
    lines = markdown_table(("task", "message"), [("rte", "a | b\nc"), ("copa", "")])
    assert lines == ["| task | message |", "|---|---|", "| rte | a \\| b c |", "| copa |  |"]


def test_no_table_is_hand_rolled_elsewhere() -> None:
    # one printer: a rule line spelled out anywhere else in the package is a second one
    src = Path(__file__).resolve().parents[1] / "src" / "muppet"
    rolled = [str(p.relative_to(src)) for p in src.rglob("*.py") if '"|---' in p.read_text(encoding="utf-8")]
    assert rolled == []
