"""Curves against updates, one line per task: the transfer probes (probe.png) and the
gradient-conflict monitor (gradients.png) draw through this one function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def curves(path: Path, panels: Sequence[tuple[str, Mapping[str, Sequence[tuple[int, float]]]]],
           baselines: Mapping[str, float] | None = None) -> None:
    """One panel per (title, {task: [(update, value), ...]}); ``baselines`` draws each task's
    reference value (e.g. the base model's probe score) as a dashed horizontal line in the first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels):
        for task, points in series.items():
            steps, values = zip(*points) if points else ((), ())
            (line,) = ax.plot(steps, values, marker="o", markersize=3, label=task)
            if baselines and task in baselines and ax is axes[0][0]:
                ax.axhline(baselines[task], color=line.get_color(), linestyle="--", linewidth=1)
        ax.set_xlabel("update")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
