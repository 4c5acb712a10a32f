"""The gradient-conflict monitor of pre-finetuning (``monitor_gradients: N``).

Every N updates, before the update is applied, each task of the update gets its backbone
gradient on its own examples of that update (dropout off, the run's loss scaling), and the
row reports its norm and its cosine with the update's mean gradient, the examples-weighted
sum of the task gradients (the gradient the update follows, up to dropout and clipping). A
negative cosine: the task pulls against the rest of the mixture.

Memory stays at two backbone-sized vectors however many tasks an update holds: a first pass
sums the mean gradient, a second recomputes each task's gradient and compares. The monitor
reads no random number (eval mode, its own RNG fork), leaves ``.grad`` alone
(``torch.autograd.grad``) and runs on every process alike, so the trajectory is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from muppet.data.pipeline import TaskData
from muppet.data.sampler import UpdatePlan
from muppet.train.metrics_log import read_metrics
from muppet.train.step import build_batch
from muppet.transfer.gradients import backbone_gradient, cosine
from muppet.transfer.plots import curves

PLOT = "gradients.png"


class GradientMonitor:
    def __init__(self, every: int, tasks: Sequence[TaskData], loss_scaling: str, padding: int, out: Path | None) -> None:
        self.every, self.tasks, self.loss_scaling, self.padding, self.out = every, tasks, loss_scaling, padding, out

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def run(self, step: int, plan: UpdatePlan, core: Any) -> dict[str, Any]:
        """The row ``{"step", "gradients": {task: {"n", "norm", "cosine"}}}`` of the update ``plan``."""
        by_task: dict[int, list[tuple[int, int]]] = {}
        for t, i in plan.examples:
            by_task.setdefault(t, []).append((t, i))
        total = sum(len(slots) for slots in by_task.values())
        device = next(core.parameters()).device
        was_training = core.training
        core.eval()
        try:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                mean: torch.Tensor | None = None
                for slots in by_task.values():
                    g = self._gradient(slots, core, device) * (len(slots) / total)
                    mean = g if mean is None else mean.add_(g)
                row = {}
                for t, slots in by_task.items():
                    g = self._gradient(slots, core, device)
                    row[self.tasks[t].name] = {"n": len(slots), "norm": float(g.norm()), "cosine": cosine(g, mean)}
        finally:
            core.train(was_training)
        result = {"step": step, "gradients": dict(sorted(row.items()))}
        if self.out is not None:  # the main process draws
            self.plot(result)
        return result

    def _gradient(self, slots: list[tuple[int, int]], core: Any, device: Any) -> torch.Tensor:
        batch = build_batch(slots, self.tasks, core.backbone, self.padding).to(device)
        return backbone_gradient(core, batch, self.loss_scaling)[0]

    def plot(self, latest: dict[str, Any]) -> None:
        """gradients.png from the rows logged so far (metrics.jsonl holds them, resumed runs too) and ``latest``."""
        assert self.out is not None
        log = self.out / "metrics.jsonl"
        rows = [r for r in read_metrics(log) if "gradients" in r] if log.is_file() else []
        rows.append(latest)
        names = sorted({t for r in rows for t in r["gradients"]})
        series = {m: {t: [(r["step"], r["gradients"][t][m]) for r in rows if t in r["gradients"]] for t in names}
                  for m in ("norm", "cosine")}
        curves(self.out / PLOT, [("backbone gradient norm per task", series["norm"]),
                                 ("cosine with the update's mean gradient", series["cosine"])])
