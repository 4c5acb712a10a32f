"""A study: named pre-finetuning runs and the fine-tuning sweeps that compare them, run in
order, resumably, into one folder with a report per sweep and a summary.

Every run is a :class:`PrefinetuneConfig` (the study's shared ``prefinetune`` settings, then the
run's own); every sweep is a :class:`SweepConfig` whose models may name runs (their exports).
Everything is validated before the first update. Rerunning skips finished runs and cells:

    output_dir/study.yaml                 the resolved study
    output_dir/runs/<run>/                a pre-finetuning run (config.yaml, metrics.jsonl, export/)
    output_dir/sweeps/<sweep>/            a sweep (sweep.yaml, cells/, results.csv, report.md, plots)
    output_dir/summary.md, timings.json   what ran, how long it took, where the reports are
"""

from __future__ import annotations

import json
import math
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from muppet import claims
from muppet.claims import take_turns
from muppet.config import PrefinetuneConfig, SweepConfig, SweepModel, read_yaml_mapping
from muppet.config.study import StudyConfig
from muppet.errors import ConfigError
from muppet.evaluation.finetune import RESULTS_FILE
from muppet.files import write_text_atomic
from muppet.report import fmt_points, fmt_seconds, metric_scale, write_report
from muppet.tables import markdown_table
from muppet.tasks.mixtures import select
from muppet.train.checkpoint import write_json_atomic


def check_run_tasks(name: str, cfg: PrefinetuneConfig) -> None:
    """A finished run must have trained on the tasks its config selects now: a config names a
    mixture file by path (``muppet affinity``'s output), so the file can change under it."""
    manifest = json.loads((Path(cfg.output_dir) / "export" / "muppet.json").read_text(encoding="utf-8"))
    trained = set((manifest.get("mixture") or {}).get("tasks") or [])
    now = {s.name for s in select(cfg.tasks, cfg.exclude, cfg.downstream, cfg.data_dir).specs}
    if trained - now:  # (a selected task may be missing from a run legitimately: no data left after leakage)
        raise ConfigError(
            f"runs.{name}: {cfg.output_dir} was trained on {sorted(trained - now)}, which its `tasks` no longer "
            f"select (selected now and not trained: {sorted(now - trained)}): a mixture file it names has changed. "
            "Use another output_dir, or delete that run to train it again.")


def run_finished(cfg: PrefinetuneConfig) -> bool:
    """The run trained all its updates: its export (written last, atomically) says so. The
    exported update itself may be an earlier one (``select_checkpoint: probe``)."""
    manifest = Path(cfg.output_dir) / "export" / "muppet.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return int((data.get("config") or {}).get("max_steps", data.get("steps", -1))) == cfg.max_steps
    except (ValueError, TypeError, AttributeError, json.JSONDecodeError):
        return False


def _model_line(variant: SweepModel) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in variant.finetune.items())
    return f"`{variant.name}`" + (f" ({extra})" if extra else "")


def run_study(cfg: StudyConfig) -> dict[str, Any]:
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "study.yaml"
    if saved.is_file():
        previous = StudyConfig.from_dict({**read_yaml_mapping(saved, "study file"), "progress": cfg.progress})
        changed = [n for n in cfg.runs if n in previous.runs and previous.run_config(n) != cfg.run_config(n)]
        if changed:
            raise ConfigError(f"{out} holds a study whose runs {changed} had other settings; their checkpoints "
                              "would not match. Use another output_dir.")
    cfg.save(saved)
    work = _Share(cfg)
    stopped = work.sweeps() or work.ensure(list(cfg.runs), wait=True)  # the latter: a study of runs alone
    if stopped is not None:
        return {"stopped": True, "run": stopped, "timings": work.timings}
    work.bar.close()
    return {"stopped": False, "reports": work.reports, "timings": work.timings, "summary": str(work.write_summary())}


class _Share:
    """This process's share of a study: the runs and cells it trains, what it has seen
    finished, the timings it adds to, and its progress bar."""

    def __init__(self, cfg: StudyConfig) -> None:
        self.cfg = cfg
        self.timings_path = Path(cfg.output_dir) / "timings.json"
        self.timings: dict[str, Any] = (json.loads(self.timings_path.read_text(encoding="utf-8"))
                                        if self.timings_path.is_file() else {})
        self.reports: dict[str, str] = {}
        self.done_runs: set[str] = set()
        self.bar = tqdm(total=len(cfg.runs) + len(cfg.sweeps), desc="study", unit="stage", disable=not cfg.progress)

    def record(self, key: str, seconds: float) -> None:
        if self.timings_path.is_file():  # read again: another process of the same study may have added to it
            self.timings.update(json.loads(self.timings_path.read_text(encoding="utf-8")))
        self.timings[key] = self.timings.get(key, 0.0) + seconds
        write_json_atomic(self.timings_path, self.timings)
        self.write_summary()  # after every stage, so that an interrupted study still says where it stands

    def write_summary(self) -> Path:
        return write_text_atomic(Path(self.cfg.output_dir) / "summary.md", render_summary(self.cfg, self.timings))

    def ensure(self, runs: list[str], wait: bool) -> str | None:
        """Train the runs that are not finished, waiting for those another process of the
        study is training, or with ``wait=False`` passing them over; the name of one that
        stopped on a signal."""
        from muppet.train.loop import prefinetune

        turns = take_turns([r for r in runs if r not in self.done_runs], self.cfg.run_dir,
                           lambda run: run_finished(self.cfg.run_configs[run]), wait)
        with closing(turns):
            for run, mine in turns:
                run_cfg = self.cfg.run_configs[run]
                if mine:
                    self.bar.set_postfix_str(f"run {run}")
                    started = time.perf_counter()
                    summary = prefinetune(run_cfg)
                    self.record(f"runs/{run}", time.perf_counter() - started)
                    if summary.get("stopped"):
                        return run
                else:
                    check_run_tasks(run, run_cfg)
                self.done_runs.add(run)
                self.bar.update(1)
        return None

    def sweeps(self) -> str | None:
        """Each sweep right after the runs it needs, so the first comparisons come before the
        last run; what stopped on a signal. Work another process of the study holds (a run, a
        sweep's last cells) is passed over for the next sweep's and looked at again on the
        next pass, so no process idles while any work is free."""
        pending = dict(self.cfg.sweep_configs)
        while pending:
            seen, worked = (len(self.done_runs), len(pending)), False
            for name, sweep_cfg in list(pending.items()):
                stopped = self.ensure(self.cfg.runs_of(sweep_cfg), wait=False)
                if stopped is not None:
                    return stopped
                if set(self.cfg.runs_of(sweep_cfg)) <= self.done_runs:
                    done, ran = self.sweep(name, sweep_cfg)
                    if done is None:
                        return f"sweep {name}"
                    worked |= ran
                    if done:
                        del pending[name]
            if pending and not worked and seen == (len(self.done_runs), len(pending)):
                time.sleep(claims.POLL_S)  # everything left is another process's now
        return None

    def sweep(self, name: str, sweep_cfg: SweepConfig) -> tuple[bool | None, bool]:
        """The sweep's free cells: (all its cells finished, or None when stopped on a signal;
        whether this process ran any). Its report, and the summary, are rewritten after every
        cell, so a long sweep shows its results so far (the report lists the missing cells)."""
        from muppet.evaluation.sweep import sweep

        def report() -> None:
            write_report(sweep_cfg.output_dir, run_dirs=[str(self.cfg.run_dir(r)) for r in self.cfg.runs_of(sweep_cfg)])
            self.write_summary()

        self.bar.set_postfix_str(f"sweep {name}")
        started = time.perf_counter()
        swept = sweep(sweep_cfg, wait=False, on_cell=report)
        ran = bool(swept["ran"]) or swept["stopped"]
        if ran:
            self.record(f"sweeps/{name}", time.perf_counter() - started)
        if swept["stopped"]:
            return None, ran
        if swept["pending"]:
            return False, ran
        report()
        self.reports[name] = str(Path(sweep_cfg.output_dir) / "report.md")
        self.bar.update(1)
        return True, ran


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else fmt_seconds(seconds)


def render_summary(cfg: StudyConfig, timings: dict[str, float]) -> str:
    lines = [f"# Study `{cfg.output_dir}`", "", "The resolved configuration is `study.yaml`; each run keeps its "
             "`config.yaml`, each fine-tuning cell its `results.json` with its config.", "",
             "## Pre-finetuning runs", ""]
    runs = []
    for name, run in cfg.run_configs.items():
        specs = select(run.tasks, run.exclude, run.downstream, run.data_dir).specs
        runs.append((f"`{name}`", len(specs), run.max_steps, run.batching, run.loss_scaling,
                     "on" if run.r3f is not None else "off", _duration(timings.get(f"runs/{name}"))))
    lines += markdown_table(("run", "tasks", "updates", "batching", "loss scaling", "R3F", "wall time"), runs)
    lines += ["", "## Fine-tuning sweeps", ""]
    sweeps = []
    for name, sw in cfg.sweep_configs.items():
        cells = list(sw.cells())
        done = [json.loads(p.read_text(encoding="utf-8")) for p in
                (sw.cell_dir(*c) / RESULTS_FILE for c in cells) if p.is_file()]
        # Measured per cell, so it survives interruptions; a cell shared with an earlier sweep counts in both.
        seconds = sum(float(r.get("seconds") or 0.0) for r in done) if done else None
        sweeps.append((f"`{name}`", ", ".join(_model_line(v) for v in sw.variants()), ", ".join(sw.tasks),
                       ", ".join(f"{f:g}" for f in sw.fractions), ", ".join(map(str, sw.seeds)),
                       f"{len(done)} of {len(cells)}", _duration(seconds), f"[report](sweeps/{name}/report.md)"))
    lines += markdown_table(("sweep", "models", "tasks", "fractions", "seeds", "cells done", "time in its cells",
                             "report"), sweeps)
    lines += own_task_table(cfg)
    for name, sw in cfg.sweep_configs.items():
        lines += sweep_table(name, Path(sw.output_dir))
    lines += ["", f"Wall time of the `muppet study` stages so far (timings.json): {_duration(sum(timings.values()))}.", ""]
    return "\n".join(lines)


def own_task_table(cfg: StudyConfig) -> list[str]:
    """What each finished run learned of its own tasks (its final evaluation, ``results.json``):
    how many score above their trivial baseline, and the mean margin per family, in points.

    The trivial baseline is the larger of chance and the majority class, so that a run stuck at
    the majority class counts as having learned nothing."""
    families: list[str] = []
    rows: list[tuple[str, int, int, dict[str, float]]] = []
    for name in cfg.runs:
        path = cfg.run_dir(name) / "results.json"
        if not path.is_file():
            continue
        try:
            table = json.loads(path.read_text(encoding="utf-8")).get("table") or []
        except (OSError, ValueError, AttributeError):
            continue  # a summary is rewritten after every stage: an unreadable file must not stop the study
        margins: dict[str, list[float]] = {}
        above = 0
        for row in table:
            try:
                score, random, trivial = (float(row[k]) for k in ("score", "random", "trivial"))
            except (KeyError, TypeError, ValueError):
                continue  # no score or no baseline (e.g. a generation metric without a trivial value)
            if not all(math.isfinite(v) for v in (score, random, trivial)):
                continue
            # in points: accuracy-like metrics are fractions, SQuAD F1 and ROUGE already percentages
            margin = metric_scale(row["metric"], row["family"]) * (score - max(random, trivial))
            above += margin > 0
            margins.setdefault(row["family"], []).append(margin)
            if row["family"] not in families:
                families.append(row["family"])
        rows.append((name, above, sum(len(m) for m in margins.values()), {f: sum(m) / len(m) for f, m in margins.items()}))
    if not rows:
        return []
    lines = ["", "## What each run learned of its own tasks", "",
             "From each run's final evaluation (`runs/<run>/results.json`); the trivial baseline is the larger "
             "of chance and the majority class. Margins are mean score − trivial baseline, in points.", ""]
    header = ("run", "tasks above their trivial baseline", *(f"margin, {f}" for f in families))
    return lines + markdown_table(header, [
        (f"`{name}`", f"{above} of {total}", *(f"{margin[f]:+.1f}" if f in margin else "–" for f in families))
        for name, above, total, margin in rows])


def sweep_table(name: str, sweep_dir: Path) -> list[str]:
    """Every (task, model, fraction) of a sweep: each seed's score, mean ± std, the paired gain
    over the baseline (and on how many seeds the model won), in points."""
    path = sweep_dir / "report.json"
    if not path.is_file():
        return ["", f"## Sweep `{name}`", "", "No report yet (the sweep has not run)."]
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # the summary is rewritten after every stage: it must not stop the study
        return ["", f"## Sweep `{name}`", "", f"Its report.json cannot be read ({exc}); `muppet report` rewrites it."]
    tasks = {t["task"]: t for t in report["tasks"]}
    labels = {m["model"]: m["label"] for m in report["models"]}
    gains = {(g["model"], g["task"], g["split"], g["fraction"]): g for g in report["gains"]}
    lines = ["", f"## Sweep `{name}`", "", f"Dev scores in points; the gain is over `{labels.get(report['baseline'], report['baseline'])}`, "
             "paired by seed (mean of the per-seed differences; wins = seeds on which the model scored higher).", ""]
    if report.get("missing"):
        lines += [f"**Partial:** {len(report['missing'])} cells of the grid have not finished yet "
                  "(listed in the report); the rows below are those that have.", ""]
    budget = (report.get("stopping") or {}).get("budget") or []
    if budget:
        lines += [f"**{len(budget)} cell(s) ran to their epoch budget** before early stopping ended them (listed in "
                  "the report): their scores may still have been rising.", ""]
    rows = []
    for cell in sorted(report["cells"], key=lambda c: (list(tasks).index(c["task"]) if c["task"] in tasks else 99,
                                                        c["fraction"], [m["model"] for m in report["models"]].index(c["model"]))):
        if cell["split"] != "dev":
            continue
        scale = tasks.get(cell["task"], {}).get("display_scale", 100.0)
        seeds = " / ".join(fmt_points(v, scale) for v in cell["values"].values())
        spread = f"{fmt_points(cell['mean'], scale)} ± {fmt_points(cell['std'], scale)}" if cell["std"] is not None \
            else fmt_points(cell["mean"], scale)
        gain = gains.get((cell["model"], cell["task"], "dev", cell["fraction"]))
        won = f"{fmt_points(gain['mean'], scale, signed=True)} ({gain['wins']}/{gain['n']})" if gain else "–"
        rows.append((f"{cell['task']} ({cell['metric']})", labels.get(cell["model"], cell["model"]),
                     f"{cell['fraction']:.0%}", cell["n_train"] if cell["n_train"] is not None else "–", seeds, spread, won))
    header = ("task (metric)", "model", "data", "n train", "per seed", "mean ± std", "gain (wins)")
    return lines + markdown_table(header, rows)
