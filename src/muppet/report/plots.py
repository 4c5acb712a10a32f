"""The report's PNG plots, with matplotlib's object API (no pyplot state, no GUI backend)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from muppet.report.aggregate import SMOOTHING_WINDOW, Cell, Gain, moving_average, ordered
from muppet.report.format import fmt_fraction, fmt_n_train, safe_name
from muppet.report.read import ModelInfo, RunLog

if TYPE_CHECKING:
    from muppet.report.build import Report


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _fraction_axis(ax: Any, fractions: Sequence[float], n_train: Mapping[float, tuple[int, int]]) -> None:
    from matplotlib.ticker import NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(list(fractions))
    labels = []
    for f in fractions:
        lo_hi = n_train.get(f)
        labels.append(fmt_fraction(f) + ("" if lo_hi is None else f"\nn={fmt_n_train(lo_hi)}"))
    ax.set_xticklabels(labels, fontsize=8)
    if len(fractions) == 1:
        ax.set_xlim(fractions[0] / 2, min(fractions[0] * 2, 2.0))
    else:
        ax.set_xlim(min(fractions) / 1.4, max(fractions) * 1.4)
    ax.set_xlabel("training data used (log scale)")
    ax.grid(True, alpha=0.3)


def _y_axis(ax: Any, metric: str, unit: str) -> None:
    from matplotlib.ticker import PercentFormatter

    if unit == "%":
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    ax.set_ylabel(metric if unit == "%" else f"{metric} ({unit})")


def _legend_label(info: ModelInfo) -> str:
    if info.tasks:
        return f"{info.label} ({info.task_count} tasks)"
    return info.label if "vanilla" in info.label.lower() else f"{info.label} (vanilla)"


def _legend(ax: Any, count: int) -> None:
    if count > 6:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    else:
        ax.legend(fontsize=8, loc="best")


def _series(points: Sequence[Cell | Gain], model: str, scale: float) -> tuple[list[float], np.ndarray, np.ndarray]:
    """A model's means and spreads, in points, by fraction."""
    own = sorted((p for p in points if p.model == model), key=lambda p: p.fraction)
    return ([p.fraction for p in own], np.array([p.mean * scale for p in own]),
            np.array([(p.std or 0.0) * scale for p in own]))


def plot_sample_efficiency(path: Path, report: Report, task: str, split: str) -> None:
    cells = [c for c in report.cells if c.task == task and c.split == split]
    metric, scale, unit = report.metrics[task], report.scales[task], report.unit_label(task)
    fig = _figure(7.0, 4.4)
    ax = fig.add_subplot()
    for i, info in enumerate(report.models):
        x, y, sd = _series(cells, info.model, scale)
        if not x:
            continue
        is_base = info.model == report.baseline
        label = _legend_label(info) + (" — baseline" if is_base else "")
        (line,) = ax.plot(x, y, "--" if is_base else "-", marker="o", ms=4, color=f"C{i % 10}", label=label)
        ax.fill_between(x, y - sd, y + sd, color=line.get_color(), alpha=0.15, linewidth=0)
    _fraction_axis(ax, sorted({c.fraction for c in cells}), report.task_n_train(task))
    _y_axis(ax, metric, unit)
    ax.set_title(f"{task}: {metric} on {split} vs training data (mean ± std over seeds)", fontsize=10)
    _legend(ax, len(report.models))
    fig.savefig(path)


def plot_gains(path: Path, report: Report, task: str, split: str) -> None:
    gains = [g for g in report.gains if g.task == task and g.split == split]
    models = [i for i in report.models if i.model != report.baseline]
    scale = report.scales[task]
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot()
    ax.axhline(0.0, color="black", linewidth=0.8)
    for i, info in enumerate(models):
        x, y, sd = _series(gains, info.model, scale)
        if not x:
            continue
        (line,) = ax.plot(x, y, marker="o", ms=4, color=f"C{i % 10}", label=_legend_label(info))
        if len(x) == 1:  # a band over a single fraction has no width: draw the spread as a bar
            ax.errorbar(x, y, yerr=sd, color=line.get_color(), capsize=3, linewidth=1.0)
        else:
            ax.fill_between(x, y - sd, y + sd, color=line.get_color(), alpha=0.15, linewidth=0)
    _fraction_axis(ax, sorted({g.fraction for g in gains}), report.task_n_train(task))
    ax.set_ylabel(f"Δ {report.metrics[task]} (points)")
    ax.set_title(f"{task}: gain over {report.info(report.baseline).label} on {split} "
                 "(± std of per-seed differences)", fontsize=10)
    _legend(ax, len(models))
    fig.savefig(path)


def _gain_bars(ax: Any, gains: Mapping[tuple[str, float], Gain], models: Sequence[ModelInfo],
               fractions: Sequence[float], scale: float) -> None:
    """A group of bars per model, one bar per fraction, with the seed spread and the seeds won."""
    width = 0.8 / len(fractions)
    ax.axhline(0.0, color="black", linewidth=0.8)
    for j, fraction in enumerate(fractions):
        xs, ys, sds, wins = [], [], [], []
        for k, info in enumerate(models):
            gain = gains.get((info.model, fraction))
            if gain is None:
                continue
            xs.append(k + (j - (len(fractions) - 1) / 2) * width)
            ys.append(gain.mean * scale)
            sds.append((gain.std or 0.0) * scale)
            wins.append(f"{gain.wins}/{gain.n}" if gain.paired else "")
        label = f"{fmt_fraction(fraction)} of data" if len(fractions) > 1 else None
        ax.bar(xs, ys, width * 0.9, yerr=sds, capsize=3, color=f"C{j % 10}", alpha=0.85, label=label,
               error_kw={"linewidth": 0.9})
        for x, y, sd, won in zip(xs, ys, sds, wins):
            ax.annotate(won, (x, y + sd if y >= 0 else y - sd), xytext=(0, 2 if y >= 0 else -2),
                        textcoords="offset points", ha="center", va="bottom" if y >= 0 else "top", fontsize=7)
    ax.set_xticks(range(len(models)), [i.label for i in models], rotation=20, ha="right", fontsize=8)


def plot_gain_overview(path: Path, report: Report) -> Any:
    """Every task's gains over the baseline in one figure: a panel per task, a group of bars
    per model (one bar per fraction), the seed spread as error bars and the wins above them.

    The view for ablations, which compare many models at one fraction and would otherwise be
    one dot per model in each task's gain plot."""
    tasks = [t for t in report.grid.tasks if any(g.task == t and g.split == report.plot_splits.get(t) for g in report.gains)]
    models = [i for i in report.models if i.model != report.baseline]
    fractions = sorted({g.fraction for g in report.gains})
    ncols = min(2, len(tasks))
    nrows = math.ceil(len(tasks) / ncols)
    fig = _figure(max(5.0, 1.1 * len(models) * max(1, len(fractions)) ** 0.5 + 2.0) * ncols, 3.6 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        split = report.plot_splits[task]
        gains = {(g.model, g.fraction): g for g in report.gains if g.task == task and g.split == split}
        _gain_bars(ax, gains, models, fractions, report.scales[task])
        ax.set_ylabel(f"Δ {report.metrics[task]} (points)")
        ax.set_title(f"{task} ({split})", fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        ax.margins(y=0.15)
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    what = f"at {fmt_fraction(fractions[0])} of the data" if len(fractions) == 1 else "per fraction of the data"
    fig.suptitle(f"Gain over {report.info(report.baseline).label} {what} "
                 "(mean ± std of per-seed differences; seeds won / paired)", fontsize=10)
    if len(fractions) > 1:
        fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncol=len(fractions),
                   fontsize=8, frameon=False)
    fig.savefig(path)
    return fig  # for the tests, which read the bars back


def _scaling_panel(ax: Any, series: Sequence[Mapping[str, Any]], scale: float) -> None:
    counts: set[int] = set()
    for j, s in enumerate(sorted(series, key=lambda s: s["fraction"])):
        x = [p["tasks"] for p in s["points"]]
        y = np.array([p["mean"] * scale for p in s["points"]])
        sd = np.array([(p["std"] or 0.0) * scale for p in s["points"]])
        counts.update(x)
        color = f"C{j % 10}"
        ax.errorbar(x, y, yerr=sd, marker="o", ms=4, capsize=3, color=color,
                    label=f"{fmt_fraction(s['fraction'])} of data")
        # The vanilla level as a line, so that "hurts" and "helps" read at a glance.
        if x and x[0] == 0:
            ax.axhline(y[0], color=color, linestyle=":", linewidth=0.9)
    ax.set_xticks(sorted(counts))
    ax.set_xlabel("pre-finetuning tasks (0 = vanilla)")
    ax.grid(True, alpha=0.3)


def plot_task_count_scaling(path: Path, report: Report) -> None:
    tasks = ordered(s["task"] for s in report.scaling)
    ncols = min(3, len(tasks))
    nrows = math.ceil(len(tasks) / ncols)
    fig = _figure(4.2 * ncols + 0.8, 3.4 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        series = [s for s in report.scaling if s["task"] == task]
        _scaling_panel(ax, series, report.scales[task])
        _y_axis(ax, report.metrics[task], report.unit_label(task))
        ax.set_title(f"{task} ({series[0]['split']})", fontsize=10)
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    # One legend for all panels (the fractions are shared), outside so it hides no line.
    handles: dict[str, Any] = {}
    for ax in list(axes.flat)[:len(tasks)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside right upper", fontsize=8, title="fine-tuning data",
               title_fontsize=8)
    fig.suptitle("Task-count scaling: fine-tuned score vs number of pre-finetuning tasks "
                 "(mean ± std over seeds; dotted: vanilla)", fontsize=11)
    fig.savefig(path)


def _task_losses(ax: Any, run: RunLog, legend_cols: int) -> None:
    styles = ["-", "--", ":", "-."]
    for i, task in enumerate(sorted(run.task_steps)):
        smooth = moving_average(run.task_scaled_loss[task], SMOOTHING_WINDOW)
        ax.plot(run.task_steps[task], smooth, styles[(i // 10) % len(styles)], color=f"C{i % 10}",
                linewidth=1.1, label=task)
    ax.set_title(f"{run.label}: scaled loss per task (moving average of {SMOOTHING_WINDOW} logs)", fontsize=10)
    ax.set_xlabel("update step")
    ax.set_ylabel("scaled loss")
    ax.grid(True, alpha=0.3)
    if run.task_steps:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
                  ncol=legend_cols if len(run.task_steps) > 16 else 1)


def _total_loss(ax: Any, run: RunLog) -> None:
    from matplotlib.lines import Line2D

    points = [(s, v) for s, v in zip(run.steps, run.loss) if v is not None]
    if points:
        steps, loss = zip(*points)
        ax.plot(steps, loss, color="0.7", linewidth=0.8)
        ax.plot(steps, moving_average(loss, SMOOTHING_WINDOW), color="C0", linewidth=1.6)
        ax.legend(handles=[Line2D([], [], color="0.7", label="logged"),
                           Line2D([], [], color="C0", label=f"moving average ({SMOOTHING_WINDOW})")],
                  fontsize=7, loc="best")  # a fixed corner can hide the curve (sequential ends near its top)
    ax.set_title(f"{run.label}: total loss", fontsize=10)
    ax.set_xlabel("update step")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)


def plot_prefinetune_loss(path: Path, runs: Sequence[RunLog]) -> None:
    most_tasks = max((len(r.task_steps) for r in runs), default=0)
    legend_cols = 1 if most_tasks <= 16 else 2 if most_tasks <= 40 else 3
    fig = _figure(11.0 + 1.2 * legend_cols, 3.8 * len(runs))
    axes = fig.subplots(len(runs), 2, squeeze=False, width_ratios=[1.6, 1.0])
    for (left, right), run in zip(axes, runs):
        _task_losses(left, run, legend_cols)
        _total_loss(right, run)
    fig.savefig(path)


def _task_plots(report: Report, task: str) -> dict[str, str]:
    split = report.plot_splits[task]
    if split is None:
        return {}
    plots = {f"sample_efficiency:{task}": f"sample_efficiency_{safe_name(task)}.png"}
    plot_sample_efficiency(report.out_dir / plots[f"sample_efficiency:{task}"], report, task, split)
    if any(g.task == task and g.split == split for g in report.gains):
        plots[f"gain:{task}"] = f"gain_{safe_name(task)}.png"
        plot_gains(report.out_dir / plots[f"gain:{task}"], report, task, split)
    return plots


def write_plots(report: Report) -> dict[str, str]:
    """Draw every plot the report has data for; kind (or kind:task) -> file name in ``out_dir``."""
    plots: dict[str, str] = {}
    for task in report.grid.tasks:
        plots |= _task_plots(report, task)
    if any(g.split == report.plot_splits.get(g.task) for g in report.gains):
        plot_gain_overview(report.out_dir / "gains.png", report)
        plots["gains"] = "gains.png"
    if report.scaling:
        plot_task_count_scaling(report.out_dir / "task_count_scaling.png", report)
        plots["task_count_scaling"] = "task_count_scaling.png"
    if report.runs:
        plot_prefinetune_loss(report.out_dir / "prefinetune_loss.png", report.runs)
        plots["prefinetune_loss"] = "prefinetune_loss.png"
    return plots
