"""``report.md``: what was swept, the results and gains per task, task-count scaling, the
pre-finetuning runs, what is missing (and why), and wall time."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from muppet.report.aggregate import SMOOTHING_WINDOW, SPLITS, Cell, Gain, run_summary, scaling_budget
from muppet.report.format import fmt_fraction, fmt_n_train, fmt_points, fmt_seconds
from muppet.tables import markdown_table as table

if TYPE_CHECKING:
    from muppet.report.build import Report

MAX_MISSING_ROWS = 200


def _mean_std(cell: Cell | None, scale: float, expected_seeds: int) -> str:
    if cell is None:
        return "–"
    text = fmt_points(cell.mean, scale)
    if cell.std is not None:
        text += f" ± {cell.std * scale:.2f}"
    if cell.n != expected_seeds:
        text += f" (n={cell.n})"
    return text


def _gain_text(gain: Gain | None, scale: float) -> str:
    if gain is None:
        return "–"
    if not gain.paired:
        return f"{fmt_points(gain.mean, scale, signed=True)} (unpaired)"
    text = fmt_points(gain.mean, scale, signed=True)
    if gain.std is not None:
        text += f" ± {gain.std * scale:.2f}"
    return text + f" ({gain.wins}/{gain.n})"


def _score_tables(report: Report, task: str, splits: list[str], fractions: list[float]) -> list[str]:
    cells = {(c.model, c.split, c.fraction): c for c in report.cells if c.task == task}
    header = ["model", *(fmt_fraction(f) for f in fractions)]
    lines = []
    for split in splits:
        lines += [f"**{split}**, mean ± std over seeds:", ""]
        rows = []
        for info in report.models:
            name = info.label + (" (baseline)" if info.model == report.baseline else "")
            rows.append([name, *(_mean_std(cells.get((info.model, split, f)), report.scales[task], len(report.grid.seeds))
                                 for f in fractions)])
        lines += table(header, rows) + [""]
    return lines


def _gain_tables(report: Report, task: str, splits: list[str], fractions: list[float]) -> list[str]:
    gains = {(g.model, g.split, g.fraction): g for g in report.gains if g.task == task}
    header = ["model", *(fmt_fraction(f) for f in fractions)]
    lines = []
    for split in splits:
        if not any(k[1] == split for k in gains):
            continue
        lines += [f"**Gain over {report.info(report.baseline).label}** on {split}, in points "
                  "(mean ± std of per-seed differences, (seeds where the model is higher / paired seeds)):", ""]
        rows = [[info.label, *(_gain_text(gains.get((info.model, split, f)), report.scales[task]) for f in fractions)]
                for info in report.models if info.model != report.baseline]
        lines += table(header, rows) + [""]
    return lines


def _task_section(report: Report, task: str) -> list[str]:
    lines = [f"### {task}", "", f"Headline metric: **{report.metrics[task]}** ({report.unit_label(task)}).", ""]
    keys = {(c.split, c.fraction) for c in report.cells if c.task == task}
    if not keys:
        return lines + ["No results yet.", ""]
    present = {split for split, _ in keys}
    splits = [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))
    fractions = sorted({f for _, f in keys})
    lines += _score_tables(report, task, splits, fractions) + _gain_tables(report, task, splits, fractions)
    for kind, title in (("sample_efficiency", "sample efficiency"), ("gain", "gain over baseline")):
        name = report.plots.get(f"{kind}:{task}")
        if name:
            lines += [f"![{task}: {title}]({name})", ""]
    return lines


def _missing_what(report: Report, by_fraction: dict[float, list[int]]) -> str:
    if len(by_fraction) == len(report.grid.fractions) and all(len(s) == len(report.grid.seeds) for s in by_fraction.values()):
        return "all fractions and seeds"
    return "; ".join(
        f"{fmt_fraction(f)}: " + ("all seeds" if len(s) == len(report.grid.seeds) else
                                  ("seed " if len(s) == 1 else "seeds ") + ", ".join(str(x) for x in s))
        for f, s in sorted(by_fraction.items())
    )


def _missing_runs(report: Report) -> list[str]:
    grouped: dict[tuple[str, str], dict[float, list[int]]] = defaultdict(lambda: defaultdict(list))
    for m in report.gaps.missing:
        grouped[(m["model"], m["task"])][m["fraction"]].append(m["seed"])
    rows = [[report.info(model).label, task, _missing_what(report, by_fraction)]
            for (model, task), by_fraction in grouped.items()]
    if not rows:
        return []
    lines = table(["model", "task", "missing"], rows[:MAX_MISSING_ROWS]) + [""]
    if len(rows) > MAX_MISSING_ROWS:
        lines += [f"… and {len(rows) - MAX_MISSING_ROWS} more (model, task) pairs; see report.json.", ""]
    return lines


def _incomplete_runs(report: Report) -> list[str]:
    if not report.gaps.incomplete:
        return []
    lines = [f"{len(report.gaps.incomplete)} run(s) have rows but lack the headline metric on a split:", ""]
    rows = [[report.info(i["model"]).label, i["task"], fmt_fraction(i["fraction"]), str(i["seed"]),
             ", ".join(i["splits"])] for i in report.gaps.incomplete[:MAX_MISSING_ROWS]]
    return lines + table(["model", "task", "fraction", "seed", "missing split"], rows) + [""]


def _rows_without_value(report: Report) -> list[str]:
    if not report.gaps.without_value:
        return []
    lines = [f"{len(report.gaps.without_value)} row(s) of results.csv have no finite value (NaN or empty) and were "
             f"left out (`{report.results.path}`, by line):", ""]
    rows = [[str(r["line"]), report.info(r["model"]).label, r["task"], fmt_fraction(r["fraction"]), str(r["seed"]),
             r["split"], r["metric"], r["value"] or "(empty)"] for r in report.gaps.without_value[:MAX_MISSING_ROWS]]
    lines += table(["line", "model", "task", "fraction", "seed", "split", "metric", "value"], rows) + [""]
    if len(report.gaps.without_value) > MAX_MISSING_ROWS:
        lines += [f"… and {len(report.gaps.without_value) - MAX_MISSING_ROWS} more; see report.json.", ""]
    return lines


def _missing_section(report: Report) -> list[str]:
    lines = ["## Missing cells", ""]
    source = "sweep.yaml" if report.grid.config else "the union of the values present in results.csv"
    total = len(report.models) * len(report.grid.tasks) * len(report.grid.fractions) * len(report.grid.seeds)
    if not report.gaps.missing and not report.gaps.incomplete and not report.gaps.without_value:
        return lines + [f"None: all {total} (model, task, fraction, seed) runs of the grid (from {source}) "
                        "have results.", ""]
    lines += [f"{len(report.gaps.missing)} of {total} (model, task, fraction, seed) runs of the grid (from {source}) "
              "have no row in results.csv (still running, or failed):", ""]
    return lines + _missing_runs(report) + _incomplete_runs(report) + _rows_without_value(report)


def _stopping_section(report: Report) -> list[str]:
    ended = report.stopping
    budget, used = ended["budget"], ended["early"] + len(ended["budget"])
    if not used:
        return []  # early stopping off, or a results.csv older than its column: nothing to say
    lines = ["## How the fine-tunes ended", ""]
    unknown = (f" ({ended['unknown']} cell(s) do not say: early stopping off, or rows written before "
               "results.csv recorded it)" if ended["unknown"] else "")
    if not budget:
        return lines + [f"Early stopping ended all {used} cells that used it{unknown}: each score is its run's "
                        "best before `early_stopping_patience` evaluations in a row brought no new best.", ""]
    lines += [f"**{len(budget)} of {used} cells ran to their epoch or step budget** before early stopping ended "
              f"them{unknown}: their best dev score came within the last `early_stopping_patience` evaluations "
              "and may still have been rising, so more `epochs` (or `max_steps`) could change it.", ""]
    rows = [[report.info(c["model"]).label, c["task"], fmt_fraction(c["fraction"]), str(c["seed"])]
            for c in budget[:MAX_MISSING_ROWS]]
    lines += table(["model", "task", "fraction", "seed"], rows) + [""]
    if len(budget) > MAX_MISSING_ROWS:
        lines += [f"… and {len(budget) - MAX_MISSING_ROWS} more; see report.json.", ""]
    return lines


def _n_train_table(report: Report) -> list[str]:
    if not report.n_train:
        return []
    rows = [[task, *(fmt_n_train(report.n_train.get((task, f))) for f in report.grid.fractions)] for task in report.grid.tasks]
    return ["Training examples per task and fraction:", ""] + \
        table(["task", *(fmt_fraction(f) for f in report.grid.fractions)], rows) + [""]


def _sweep_section(report: Report) -> list[str]:
    lines = ["## What was swept", ""]
    rows = []
    for info in report.models:
        role = "baseline" if info.model == report.baseline else ""
        rows.append([info.label, f"`{info.model}`", str(info.task_count) if info.tasks else "0 (vanilla)",
                     "–" if info.steps is None else f"{info.steps:,}", info.base_model or "–", role])
    lines += table(["model", "as given", "pre-finetuning tasks", "steps", "base model", ""], rows) + [""]
    lines += [
        f"- Tasks: {', '.join(f'{t} ({report.metrics[t]})' for t in report.grid.tasks) or '–'}",
        f"- Fractions of the training data: {', '.join(fmt_fraction(f) for f in report.grid.fractions) or '–'}",
        f"- Seeds: {', '.join(str(s) for s in report.grid.seeds) or '–'}",
        f"- Grid from: {'sweep.yaml' if report.grid.config else 'the values present in results.csv'}; "
        f"{len(report.results.rows):,} result rows.",
        "",
    ]
    return lines + _n_train_table(report)


def _scaling_section(report: Report) -> list[str]:
    if not report.scaling:
        return []
    lines = ["## Task-count scaling", "",
             "Headline metric (mean over seeds) against the number of pre-finetuning tasks of each model; "
             "models with the same count are averaged.", ""]
    budget = scaling_budget(report.models)
    other = [i.label for i in report.models if i.task_count and i.steps != budget]
    if other:
        lines += [f"Compared at one pre-finetuning budget ({budget if budget is not None else 'unknown'} updates); "
                  f"left out, trained for another number of updates: {', '.join(other)}.", ""]
    counts = sorted({p["tasks"] for s in report.scaling for p in s["points"]})
    rows = []
    for s in report.scaling:
        by_count = {p["tasks"]: p["mean"] for p in s["points"]}
        rows.append([s["task"], fmt_fraction(s["fraction"]), s["split"],
                     *(fmt_points(by_count.get(c), report.scales[s["task"]]) for c in counts)])
    lines += table(["task", "fraction", "split", *(f"{c} tasks" for c in counts)], rows) + [""]
    return lines + [f"![task-count scaling]({report.plots['task_count_scaling']})", ""]


def _runs_section(report: Report) -> list[str]:
    if not report.runs:
        return []
    rows = []
    for run in report.runs:
        s = run_summary(run)
        loss = "–" if s["first_loss"] is None else f"{s['first_loss']:.3f} → {s['last_loss']:.3f}"
        rows.append([run.label, f"`{run.path}`", str(len(s["tasks"])), str(s["last_step"] or "–"), loss,
                     str(s["dev_evaluations"])])
    header = ["run", "directory", "tasks", "last step", f"loss (moving avg. {SMOOTHING_WINDOW})", "dev evaluations"]
    return ["## Pre-finetuning runs", ""] + table(header, rows) + \
        ["", f"![pre-finetuning loss]({report.plots['prefinetune_loss']})", ""]


def _wall_section(report: Report) -> list[str]:
    lines = ["## Wall time", ""]
    if not report.wall:
        return lines + ["No timings recorded.", ""]
    rows = [[report.info(m).label, str(int(w["runs"])), fmt_seconds(w["seconds"]),
             fmt_seconds(w["seconds"] / w["runs"]) if w["runs"] else "–"]
            for m, w in report.wall.items()]
    total = sum(w["seconds"] for w in report.wall.values())
    rows.append(["**total**", str(int(sum(w["runs"] for w in report.wall.values()))), fmt_seconds(total), ""])
    return lines + table(["model", "runs", "total (h:mm:ss)", "per run"], rows) + [""]


def render_markdown(report: Report) -> str:
    lines = [f"# Fine-tuning report: {report.sweep_dir.resolve().name}", ""]
    lines += [
        f"Sweep directory `{report.sweep_dir}`. Scores are shown in points (×100 for metrics in [0, 1]). "
        f"Plots use the {report.split} split (the other split where a task has no {report.split} results). "
        "Mean ± sample standard deviation over seeds; `(n=k)` marks cells with fewer seeds than the grid. "
        "Gains are paired by seed: the spread of the per-seed differences and the count of seeds where the "
        "model is higher describe the runs; with a handful of seeds they are not a significance test.",
        "",
    ]
    lines += _sweep_section(report)
    if "gains" in report.plots:
        lines += ["## Gains at a glance", "",
                  f"![gain over {report.info(report.baseline).label}]({report.plots['gains']})", ""]
    lines += ["## Results per task", ""]
    for task in report.grid.tasks:
        lines += _task_section(report, task)
    lines += _scaling_section(report) + _runs_section(report) + _stopping_section(report)
    lines += _missing_section(report) + _wall_section(report)
    return "\n".join(lines).rstrip() + "\n"
