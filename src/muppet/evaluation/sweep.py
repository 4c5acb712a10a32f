"""The grid models x tasks x fractions x seeds of fine-tuning runs, resumable, into one tidy CSV.

Each cell runs in its own folder ``cells/<model>/<task>/f<fraction>/s<seed>/`` and is done
when its ``results.json`` exists (written atomically): a rerun skips finished cells.
``results.csv`` is rebuilt from the cells after each one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from muppet.claims import take_turns
from muppet.config.sweep import SweepConfig
from muppet.errors import ConfigError
from muppet.evaluation.finetune import RESULTS_FILE, finetune, stopped_early
from muppet.files import write_text_atomic

CSV_COLUMNS = ["model", "task", "fraction", "n_train", "seed", "split", "metric", "value", "seconds", "stopped_early"]


def result_rows(result: dict[str, Any], fraction: float, model: str | None = None) -> list[dict[str, Any]]:
    """The CSV rows of one cell; ``model`` is the model's name in the grid (default: as run)."""
    rows = []
    early = {True: "true", False: "false", None: ""}[stopped_early(result)]
    for split in ("dev", "test"):
        for metric, value in (result.get(split) or {}).items():
            rows.append({
                "model": model or result["model"], "task": result["task"], "fraction": fraction, "n_train": result["n_train"],
                "seed": result["seed"], "split": split, "metric": metric, "value": value, "seconds": result["seconds"],
                "stopped_early": early,
            })
    return rows


def write_results_csv(cfg: SweepConfig) -> Path:
    rows: list[dict[str, Any]] = []
    for model, task, fraction, seed in cfg.cells():
        path = cfg.cell_dir(model, task, fraction, seed) / RESULTS_FILE
        if path.is_file():
            rows += result_rows(json.loads(path.read_text(encoding="utf-8")), fraction, model)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomic(Path(cfg.output_dir) / "results.csv", text.getvalue())  # several processes write it


def sweep(cfg: SweepConfig, wait: bool = True, on_cell: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run the grid's unfinished cells, calling ``on_cell`` after each one this process
    finishes (``results.csv`` is up to date by then). Several processes may run the same
    sweep (one per device, or per machine on a shared folder): each cell is claimed by one of
    them (:mod:`muppet.claims`), and each process returns once every cell is finished; with
    ``wait=False``, once none is left that another process does not hold (``pending``: the
    cells not finished yet)."""
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_saved(cfg, out / "sweep.yaml")
    cfg.save(out / "sweep.yaml")
    cells = list(cfg.cells())
    skipped = ran = 0
    bar = tqdm(total=len(cells), desc="sweep", unit="cell", disable=not cfg.progress)

    def finished(cell: tuple[str, str, float, int]) -> bool:
        return (cfg.cell_dir(*cell) / RESULTS_FILE).is_file()

    turns = take_turns(cells, lambda cell: cfg.cell_dir(*cell), finished, wait)
    with closing(turns):
        for (model, task, fraction, seed), mine in turns:
            if mine:
                bar.set_postfix_str(f"{Path(model).name} {task} f={fraction:g} s={seed}")
                result = finetune(cfg.cell_config(model, task, fraction, seed))
                if result.get("stopped"):  # a signal: the cell has a checkpoint, and a rerun continues it
                    bar.close()
                    return {"cells": len(cells), "skipped": skipped, "ran": ran, "stopped": True,
                            "results": str(write_results_csv(cfg)), "signal": result.get("signal")}
                ran += 1
                write_results_csv(cfg)
                if on_cell is not None:
                    on_cell()
            else:
                skipped += 1
            bar.update(1)
    bar.close()
    csv_path = write_results_csv(cfg)
    return {"cells": len(cells), "skipped": skipped, "ran": ran, "results": str(csv_path), "stopped": False,
            "pending": sum(not finished(cell) for cell in cells)}


def check_saved(cfg: SweepConfig, saved: Path) -> None:
    """A sweep continued in its folder must have the settings its finished cells ran with."""
    if not saved.is_file():
        return
    previous = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
    if previous.get("finetune") != cfg.finetune:
        raise ConfigError(
            f"{saved.parent} holds a sweep with other shared settings ({previous.get('finetune')}); finished cells "
            "would not be comparable. Use another output_dir."
        )
    before = {v.name: v for v in SweepConfig.from_dict({**previous, "progress": False}).variants()}
    changed = [v.name for v in cfg.variants() if v.name in before and before[v.name] != v]
    if changed:
        raise ConfigError(f"{saved.parent} holds a sweep in which the models {changed} stood for another model or "
                          "other settings; finished cells would not be comparable. Use another output_dir.")
