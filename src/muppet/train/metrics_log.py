"""metrics.jsonl: one JSON row per logged update, plus rows for dev evaluations (and any other
row a run logs). Every row also goes to the run's experiment trackers, when it has some."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a missing value reads better than an invalid file
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class MetricsLog:
    """``tracker(values, step)`` receives each row's numbers, flattened (accelerate's ``log``)."""

    def __init__(self, path: str | os.PathLike[str], resume_step: int | None = None,
                 tracker: Callable[..., Any] | None = None) -> None:
        self.path = Path(path)
        self.tracker = tracker
        if resume_step is None:
            self.path.write_text("", encoding="utf-8")
        elif self.path.exists():
            # Rows logged after the checkpoint we resume from will be logged again: drop them,
            # and a last line cut off by a crash.
            kept = []
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    if json.loads(line).get("step", 0) <= resume_step:
                        kept.append(line)
                except json.JSONDecodeError:
                    continue
            self.path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(_clean(row)) + "\n")
        if self.tracker is not None:
            from muppet.integrations.trackers import flatten

            values = flatten(row)
            if values:
                self.tracker(values, step=row["step"])


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def log_row(log: MetricsLog | None, row: dict[str, Any]) -> None:
    if log is not None:  # only the main process writes metrics.jsonl
        log.write(row)
