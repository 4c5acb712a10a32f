"""``muppet report``: tables, gains and plots from a fine-tuning sweep's ``results.csv``.

A pure function of the sweep directory (and optional pre-finetuning run directories):
:mod:`~muppet.report.read` reads and checks the files, :mod:`~muppet.report.aggregate`
computes the headline metric over seeds, the gains paired by seed and what is missing,
:mod:`~muppet.report.plots` and :mod:`~muppet.report.markdown` draw and write them, and
:mod:`~muppet.report.build` ties them together. No training code is imported; the task
catalogue and the families are imported lazily, for headline metrics and their units.
"""

from __future__ import annotations

from muppet.report.aggregate import metric_scale
from muppet.report.build import Report, build_report, write_report
from muppet.report.format import fmt_points, fmt_seconds

__all__ = ["Report", "build_report", "fmt_points", "fmt_seconds", "metric_scale", "write_report"]
