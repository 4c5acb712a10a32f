"""The report's plots, read back from the figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixtures import png_size

from muppet.report import write_report
from muppet.report.plots import plot_gain_overview


def test_the_gain_overview_draws_each_gain_with_its_spread_and_wins(sweep: Path, tmp_path: Path) -> None:
    report = write_report(sweep)
    fig = plot_gain_overview(tmp_path / "gains.png", report)
    rte = next(ax for ax in fig.axes if ax.get_title() == "rte (dev)")
    gains = sorted((g for g in report.gains if g.task == "rte" and g.split == "dev"), key=lambda g: g.fraction)
    heights = [bar.get_height() for bar in rte.patches]  # one bar per fraction, in fraction order
    assert heights == pytest.approx([100 * g.mean for g in gains])
    assert heights[[g.fraction for g in gains].index(0.1)] == pytest.approx(4.0)  # the hand-computed gain above
    assert [t.get_text() for t in rte.texts] == [f"{g.wins}/{g.n}" for g in gains]
    qa = next(ax for ax in fig.axes if ax.get_title().startswith("toy_qa"))
    qa_gains = sorted((g for g in report.gains if g.task == "toy_qa" and g.split == report.plot_splits["toy_qa"]),
                      key=lambda g: g.fraction)
    assert [b.get_height() for b in qa.patches] == pytest.approx([g.mean for g in qa_gains])  # F1: already points
    assert png_size(tmp_path / "gains.png")[0] >= 500
