"""Numbers as the report's tables and plots show them."""

from __future__ import annotations

import re

# How each unit a family declares (``Family.metric_units``) is shown: the factor to points
# (0..100) and the label of the axis or table. "as reported": a metric no family declares.
UNITS = {
    "fraction": (100.0, "%"),
    "percent": (1.0, "%"),
    "correlation": (100.0, "×100"),
    "points": (1.0, "points"),
    "as reported": (1.0, "as reported"),
}


def fmt_fraction(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def fmt_points(value: float | None, scale: float, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value * scale:+.2f}" if signed else f"{value * scale:.2f}"


def fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def fmt_n_train(lo_hi: tuple[int, int] | None) -> str:
    if lo_hi is None:
        return "–"
    return f"{lo_hi[0]:,}" if lo_hi[0] == lo_hi[1] else f"{lo_hi[0]:,}–{lo_hi[1]:,}"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "task"

