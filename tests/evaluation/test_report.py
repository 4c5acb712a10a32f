"""`muppet report`: aggregation, gains, missing cells, plots and the command, on a synthetic sweep."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import pytest
import yaml

from muppet.cli import main
from muppet.evaluation.report import (
    Cell,
    ModelInfo,
    build_report,
    fraction_key,
    headline_metric,
    model_info,
    moving_average,
    plot_gain_overview,
    read_run,
    scaling_budget,
    task_count_scaling,
    write_report,
)

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


def _rows(models: tuple[str, ...] = (VANILLA, EXPORT)) -> list[dict[str, object]]:
    rows = []
    for model in models:
        for task, metrics, size in (("rte", ("accuracy", "f1_macro"), 2000), ("toy_qa", ("exact_match", "f1"), 500)):
            for fraction in FRACTIONS:
                for seed in SEEDS:
                    for split in ("dev", "test"):
                        for metric in metrics:
                            value = _value(model, task, fraction, seed, split)
                            rows.append({
                                "model": model, "task": task, "fraction": fraction,
                                "n_train": int(size * fraction), "seed": seed, "split": split, "metric": metric,
                                "value": value if metric in ("accuracy", "f1") else value * 0.9,
                                "seconds": 10.0 if model == VANILLA else 20.0,
                            })
    return rows


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _write_run(run: Path, tasks: tuple[str, ...] = ("rte", "mnli", "squad_v1"), steps: int = 30) -> None:
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


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """tmp/sweep/results.csv (2 models x 2 tasks x 3 fractions x 3 seeds x dev/test), tmp/run/{export,metrics.jsonl}."""
    export = tmp_path / EXPORT
    export.mkdir(parents=True)
    (export / "muppet.json").write_text(json.dumps({
        "format_version": 1, "base_model": VANILLA, "steps": 300,
        "tasks": [{"name": "rte"}, {"name": "mnli"}, {"name": "squad_v1"}],
    }), encoding="utf-8")
    _write_run(tmp_path / "run")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    _write_csv(sweep / "results.csv", _rows())
    return sweep


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_headline_metrics_and_model_info(sweep: Path) -> None:
    assert headline_metric("rte", ["f1_macro", "accuracy"]) == "accuracy"
    assert headline_metric("cola", ["accuracy", "mcc"]) == "mcc"  # the catalogue's choice wins
    assert headline_metric("toy_qa", ["exact_match", "f1"]) == "f1"  # unknown task: fallback order
    assert headline_metric("toy_gen", ["bleu", "rouge2"]) == "bleu"
    info = model_info(EXPORT, sweep)
    assert info.task_count == 3 and info.steps == 300 and info.run_dir == str((sweep.parent / "run").resolve())
    assert model_info(VANILLA, sweep).task_count == 0 and model_info(VANILLA, sweep).path is None
    assert moving_average([1.0, 3.0, 5.0, 7.0, 9.0], 3) == [2.0, 3.0, 5.0, 7.0, 8.0]
    log = read_run(sweep.parent / "run")
    assert len(log.steps) == 30 and log.loss[4] is None and len(log.dev) == 3
    assert set(log.task_scaled_loss) == {"rte", "mnli", "squad_v1"}


def test_full_report(sweep: Path) -> None:
    report = write_report(sweep)
    md = (sweep / "report.md").read_text(encoding="utf-8")
    # mean ± sample std of (0.60, 0.62, 0.67) = 0.63 ± 0.0361, in points
    assert "| vanilla-encoder (baseline) | " in md and "63.00 ± 3.61" in md
    # paired gain: diffs (0.06, 0.03, 0.03) -> +4.00 ± 1.73, higher on 3 of 3 seeds
    assert "+4.00 ± 1.73 (3/3)" in md
    assert "run/export" in md and "| 3 | 300 |" in md and "0 (vanilla)" in md
    assert "toy_qa (f1)" in md and "rte (accuracy)" in md
    assert "| rte | 20 | 200 | 2,000 |" in md  # n_train per task and fraction
    assert "None: all 36" in md
    # wall time counts each run once although its seconds repeat on 4 metric rows
    assert "| vanilla-encoder | 18 | 0:03:00 | 0:00:10 |" in md and "| run/export | 18 | 0:06:00 |" in md

    expected = {f"sample_efficiency_{t}.png" for t in ("rte", "toy_qa")} | {f"gain_{t}.png" for t in ("rte", "toy_qa")}
    expected |= {"task_count_scaling.png", "prefinetune_loss.png", "gains.png"}
    assert set(report.plots.values()) == expected
    assert "## Gains at a glance" in md
    for name in expected:
        width, height = _png_size(sweep / name)
        assert 500 <= width <= 3000 and 300 <= height <= 3000, (name, width, height)
        assert f"]({name})" in md

    data = json.loads((sweep / "report.json").read_text(encoding="utf-8"))
    assert data["baseline"] == VANILLA and data["missing"] == []
    cell = next(c for c in data["cells"] if c["model"] == VANILLA and c["task"] == "rte"
                and c["split"] == "dev" and c["fraction"] == 0.1)
    assert cell["metric"] == "accuracy" and cell["n"] == 3 and cell["n_train"] == 200
    assert cell["mean"] == pytest.approx(0.63) and cell["std"] == pytest.approx(0.0013 ** 0.5)
    gain = next(g for g in data["gains"] if g["model"] == EXPORT and g["task"] == "rte"
                and g["split"] == "dev" and g["fraction"] == 0.1)
    assert gain["mean"] == pytest.approx(0.04) and gain["std"] == pytest.approx(0.0003 ** 0.5)
    assert gain["n"] == 3 and gain["wins"] == 3 and gain["paired"]
    qa = next(g for g in data["gains"] if g["task"] == "toy_qa" and g["split"] == "test" and g["fraction"] == 1.0)
    assert qa["metric"] == "f1" and qa["mean"] == pytest.approx(3.0)  # percent metrics stay in percent
    assert {m["model"]: m["task_count"] for m in data["models"]} == {VANILLA: 0, EXPORT: 3}
    scaling = next(s for s in data["task_count_scaling"] if s["task"] == "rte" and s["fraction"] == 0.01)
    assert [p["tasks"] for p in scaling["points"]] == [0, 3] and scaling["split"] == "dev"
    assert scaling["points"][0]["mean"] == pytest.approx(0.51)
    vanilla_cell = next(c for c in data["cells"] if c["model"] == VANILLA and c["task"] == "rte"
                        and c["split"] == "dev" and c["fraction"] == 0.01)
    assert scaling["points"][0]["std"] == pytest.approx(vanilla_cell["std"]) and vanilla_cell["std"] > 0
    assert len(data["runs"]) == 1 and data["runs"][0]["last_step"] == 300  # found through <run>/export
    assert data["wall_time"][EXPORT] == {"seconds": 360.0, "runs": 18}


def test_missing_cells_and_sweep_yaml(sweep: Path) -> None:
    rows = [r for r in _rows() if not (r["model"] == EXPORT and r["task"] == "rte" and r["fraction"] == 0.01
                                       and r["seed"] == 2)]
    # a cell that only has its test rows, and a failed metric (NaN)
    rows = [r for r in rows if not (r["model"] == VANILLA and r["task"] == "toy_qa" and r["fraction"] == 1.0
                                    and r["seed"] == 0 and r["split"] == "dev")]
    rows[0]["value"] = "nan"
    _write_csv(sweep / "results.csv", rows)
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({
        "models": [VANILLA, EXPORT], "tasks": ["rte", "toy_qa"], "fractions": [0.01, 0.1, 1], "seeds": [0, 1, 2, 3],
        "baseline": EXPORT,
    }), encoding="utf-8")
    report = write_report(sweep, out_dir=sweep.parent / "out", split="test")
    md = (sweep.parent / "out" / "report.md").read_text(encoding="utf-8")
    missing = {(m["model"], m["task"], m["fraction"], m["seed"]) for m in report.missing}
    assert (EXPORT, "rte", 0.01, 2) in missing and (VANILLA, "toy_qa", 1.0, 3) in missing
    assert len(missing) == 1 + 2 * 2 * 3  # the dropped run and the whole of seed 3
    assert "## Missing cells" in md and "13 of 48" in md and "from sweep.yaml" in md
    assert "| run/export | rte | 1%: seeds 2, 3; 10%: seed 3; 100%: seed 3 |" in md
    assert "| vanilla-encoder | toy_qa | 100% | 0 | dev |" in md  # has test rows but no dev rows
    assert "1 row(s) of results.csv have no finite value" in md
    assert "(n=2)" in md  # the cell with a dropped seed
    assert report.baseline == EXPORT and "run/export (baseline)" in md
    # the baseline changed sides: the vanilla model's gains are negative
    gain = next(g for g in report.gains if g.task == "rte" and g.split == "test" and g.fraction == 1.0)
    assert gain.model == VANILLA and gain.mean == pytest.approx(-0.03) and gain.n == 3 and gain.wins == 0
    assert not (sweep / "report.md").exists()  # --out was honoured


def test_the_gain_overview_draws_each_gain_with_its_spread_and_wins(sweep: Path, tmp_path: Path) -> None:
    report = write_report(sweep)
    fig = plot_gain_overview(tmp_path / "gains.png", report)
    rte = next(ax for ax in fig.axes if ax.get_title() == "rte (dev)")
    gains = sorted((g for g in report.gains if g.task == "rte" and g.split == "dev"), key=lambda g: g.fraction)
    heights = [bar.get_height() for bar in rte.patches]  # one bar per fraction, in fraction order
    assert heights == pytest.approx([100 * g.mean for g in gains])
    assert heights[[g.fraction for g in gains].index(0.1)] == pytest.approx(4.0)  # the hand-computed gain above
    assert [t.get_text() for t in rte.texts] == [f"{g.wins}/{g.n}" for g in gains]
    qa = next(ax for ax in fig.axes if ax.get_title().startswith("toy_qa"))
    qa_gains = sorted((g for g in report.gains if g.task == "toy_qa" and g.split == report.plot_splits["toy_qa"]),
                      key=lambda g: g.fraction)
    assert [b.get_height() for b in qa.patches] == pytest.approx([g.mean for g in qa_gains])  # F1: already points
    assert _png_size(tmp_path / "gains.png")[0] >= 500


def test_task_counts_are_compared_at_one_pre_finetuning_budget() -> None:
    infos = {
        "vanilla": ModelInfo("vanilla"),
        "t2": ModelInfo("t2", tasks=["a", "b"], steps=500),
        "t4": ModelInfo("t4", tasks=["a", "b", "c", "d"], steps=500),
        "t4-long": ModelInfo("t4-long", tasks=["a", "b", "c", "d"], steps=1000),  # a budget control
    }
    assert scaling_budget(infos.values()) == 500  # what most pre-finetuned models share
    assert scaling_budget([infos["vanilla"]]) is None
    assert scaling_budget([infos["t2"], infos["t4-long"]]) == 500  # a tie: the smaller budget
    cells = [Cell(m, "rte", "dev", "accuracy", 0.1, 50, {1: v, 2: v + 0.02})
             for m, v in (("vanilla", 0.50), ("t2", 0.60), ("t4", 0.70), ("t4-long", 0.90))]
    (series,) = task_count_scaling(cells, infos, {"rte": "dev"})
    # the 1000-update run is not averaged into the 4-task point: that would mix budgets
    assert [(p["tasks"], p["models"]) for p in series["points"]] == [(0, ["vanilla"]), (2, ["t2"]), (4, ["t4"])]
    assert series["points"][2]["mean"] == pytest.approx(0.71) and series["points"][2]["std"] is not None


def test_single_model_and_explicit_runs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    _write_csv(sweep / "results.csv", [r for r in _rows((VANILLA,)) if r["split"] == "test"])
    _write_run(tmp_path / "other_run", tasks=tuple(f"task_{i:02d}" for i in range(24)), steps=12)
    report = write_report(sweep, run_dirs=[tmp_path / "other_run"])
    md = (sweep / "report.md").read_text(encoding="utf-8")
    assert report.gains == [] and "Gain over" not in md and not list(sweep.glob("gain*.png"))
    assert "Gains at a glance" not in md
    assert not (sweep / "task_count_scaling.png").exists() and "Task-count scaling" not in md
    assert report.plot_splits == {"rte": "test", "toy_qa": "test"}  # dev absent: test is plotted
    assert _png_size(sweep / "sample_efficiency_rte.png")[0] >= 500
    assert _png_size(sweep / "prefinetune_loss.png")[0] >= 500 and "other_run" in md


def test_build_report_with_only_a_config(tmp_path: Path) -> None:
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({
        "models": [VANILLA], "tasks": ["rte"], "fractions": [0.1], "seeds": 2}), encoding="utf-8")
    report = build_report(tmp_path)  # no results.csv yet: everything is missing
    assert report.cells == [] and len(report.missing) == 1 and report.missing[0]["fraction"] == fraction_key(0.1)


def test_cli_end_to_end(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(sweep)]) == 0
    assert "report.md" in capsys.readouterr().out
    assert (sweep / "report.md").is_file() and (sweep / "report.json").is_file()
    assert main(["report", str(sweep), "--baseline", "nope"]) == 2
    assert "baseline 'nope' is not one of the swept models" in capsys.readouterr().err
    assert main(["report", str(sweep.parent / "absent")]) == 2
    (sweep / "results.csv").write_text("model,task,value\nm,t,1\n", encoding="utf-8")
    assert main(["report", str(sweep)]) == 2
    assert "missing column(s) fraction, n_train, seed" in capsys.readouterr().err
