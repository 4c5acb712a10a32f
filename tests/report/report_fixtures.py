"""A synthetic sweep for the report's tests: 2 models x 2 tasks x 3 fractions x 3 seeds x dev/test,
with hand-picked values in one cell, an export with its manifest and its run's metrics.jsonl."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

VANILLA = "example-org/vanilla-encoder"  # a hub id: no local folder, so 0 pre-finetuning tasks
EXPORT = "run/export"  # relative to the sweep's parent folder
FRACTIONS = (0.01, 0.1, 1.0)
SEEDS = (0, 1, 2)
COLUMNS = ("model", "task", "fraction", "n_train", "seed", "split", "metric", "value", "seconds")
# Hand-picked values of one cell (rte, dev, 10%): the numbers the report must reproduce.
RTE_DEV_10 = {VANILLA: (0.60, 0.62, 0.67), EXPORT: (0.66, 0.65, 0.70)}


def _value(model: str, task: str, fraction: float, seed: int, split: str) -> float:
    if task == "rte" and split == "dev" and fraction == 0.1:
        return RTE_DEV_10[model][seed]
    base = 0.5 + 0.1 * FRACTIONS.index(fraction) + 0.01 * seed + (0.03 if model == EXPORT else 0.0)
    base -= 0.02 if split == "test" else 0.0
    return base if task == "rte" else 100 * base  # the QA task's F1/EM are in percent


def rows(models: tuple[str, ...] = (VANILLA, EXPORT)) -> list[dict[str, object]]:
    out = []
    for model in models:
        for task, metrics, size in (("rte", ("accuracy", "f1_macro"), 2000), ("toy_qa", ("exact_match", "f1"), 500)):
            for fraction in FRACTIONS:
                for seed in SEEDS:
                    for split in ("dev", "test"):
                        for metric in metrics:
                            value = _value(model, task, fraction, seed, split)
                            out.append({
                                "model": model, "task": task, "fraction": fraction,
                                "n_train": int(size * fraction), "seed": seed, "split": split, "metric": metric,
                                "value": value if metric in ("accuracy", "f1") else value * 0.9,
                                "seconds": 10.0 if model == VANILLA else 20.0,
                            })
    return out


def write_csv(path: Path, table: list[dict[str, object]], columns: tuple[str, ...] = COLUMNS) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(table)


def write_run(run: Path, tasks: tuple[str, ...] = ("rte", "mnli", "squad_v1"), steps: int = 30) -> None:
    run.mkdir(parents=True, exist_ok=True)
    lines = []
    for step in range(10, steps * 10 + 1, 10):
        lines.append({
            "step": step, "loss": None if step == 50 else 2.0 / (1 + step / 100), "lr": 1e-4, "examples_per_s": 50.0,
            "tasks": {t: {"n": 4, "loss": 1.0 / (1 + step / 200), "scaled_loss": (i + 1) / (1 + step / 150)}
                      for i, t in enumerate(tasks)},
        })
        if step % 100 == 0:
            lines.append({"step": step, "dev": {t: {"accuracy": 0.5 + step / 1000} for t in tasks}})
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")


def make_sweep(root: Path) -> Path:
    """root/sweep/results.csv, root/run/{export/muppet.json, metrics.jsonl}; returns root/sweep."""
    export = root / EXPORT
    export.mkdir(parents=True)
    (export / "muppet.json").write_text(json.dumps({
        "format_version": 1, "base_model": VANILLA, "steps": 300,
        "tasks": [{"name": "rte"}, {"name": "mnli"}, {"name": "squad_v1"}],
    }), encoding="utf-8")
    write_run(root / "run")
    sweep = root / "sweep"
    sweep.mkdir()
    write_csv(sweep / "results.csv", rows())
    return sweep


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])
