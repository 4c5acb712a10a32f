"""`muppet report` end to end on a synthetic sweep: the tables, gains, missing cells and plots it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from report_fixtures import COLUMNS, EXPORT, VANILLA, png_size, rows, write_csv, write_run

from muppet.cli import main
from muppet.report import build_report, write_report
from muppet.report.read import fraction_key


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
        width, height = png_size(sweep / name)
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


def test_cells_that_ran_to_their_budget_are_named(sweep: Path) -> None:
    """A cell that early stopping did not end is listed (its score may still have been rising); a
    results.csv without the column (older sweeps) says nothing about it rather than guessing."""
    old = write_report(sweep)
    assert old.stopping == {"early": 0, "unknown": 36, "budget": []}
    assert "## How the fine-tunes ended" not in (sweep / "report.md").read_text(encoding="utf-8")
    table = rows()
    for row in table:  # every metric row of a cell carries its cell's flag
        budget = (row["model"], row["task"], row["fraction"], row["seed"]) == (EXPORT, "rte", 0.1, 1)
        row["stopped_early"] = "false" if budget else "true"
    write_csv(sweep / "results.csv", table, columns=(*COLUMNS, "stopped_early"))
    write_report(sweep)
    md = (sweep / "report.md").read_text(encoding="utf-8")
    assert "**1 of 36 cells ran to their epoch or step budget**" in md and "| run/export | rte | 10% | 1 |" in md
    data = json.loads((sweep / "report.json").read_text(encoding="utf-8"))
    assert data["stopping"] == {"early": 35, "unknown": 0,
                                "budget": [{"model": EXPORT, "task": "rte", "fraction": 0.1, "seed": 1}]}
    for row in table:
        row["stopped_early"] = "true"
    write_csv(sweep / "results.csv", table, columns=(*COLUMNS, "stopped_early"))
    write_report(sweep)
    assert "Early stopping ended all 36 cells" in (sweep / "report.md").read_text(encoding="utf-8")


def test_missing_cells_and_sweep_yaml(sweep: Path) -> None:
    table = [r for r in rows() if not (r["model"] == EXPORT and r["task"] == "rte" and r["fraction"] == 0.01
                                       and r["seed"] == 2)]
    # a cell that only has its test rows, and a failed metric (NaN)
    table = [r for r in table if not (r["model"] == VANILLA and r["task"] == "toy_qa" and r["fraction"] == 1.0
                                    and r["seed"] == 0 and r["split"] == "dev")]
    table[0]["value"] = "nan"
    write_csv(sweep / "results.csv", table)
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({
        "models": [VANILLA, EXPORT], "tasks": ["rte", "toy_qa"], "fractions": [0.01, 0.1, 1], "seeds": [0, 1, 2, 3],
        "baseline": EXPORT,
    }), encoding="utf-8")
    report = write_report(sweep, out_dir=sweep.parent / "out", split="test")
    md = (sweep.parent / "out" / "report.md").read_text(encoding="utf-8")
    missing = {(m["model"], m["task"], m["fraction"], m["seed"]) for m in report.gaps.missing}
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


def test_single_model_and_explicit_runs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    write_csv(sweep / "results.csv", [r for r in rows((VANILLA,)) if r["split"] == "test"])
    write_run(tmp_path / "other_run", tasks=tuple(f"task_{i:02d}" for i in range(24)), steps=12)
    report = write_report(sweep, run_dirs=[tmp_path / "other_run"])
    md = (sweep / "report.md").read_text(encoding="utf-8")
    assert report.gains == [] and "Gain over" not in md and not list(sweep.glob("gain*.png"))
    assert "Gains at a glance" not in md
    assert not (sweep / "task_count_scaling.png").exists() and "Task-count scaling" not in md
    assert report.plot_splits == {"rte": "test", "toy_qa": "test"}  # dev absent: test is plotted
    assert png_size(sweep / "sample_efficiency_rte.png")[0] >= 500
    assert png_size(sweep / "prefinetune_loss.png")[0] >= 500 and "other_run" in md


def test_build_report_with_only_a_config(tmp_path: Path) -> None:
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({
        "models": [VANILLA], "tasks": ["rte"], "fractions": [0.1], "seeds": [2]}), encoding="utf-8")
    report = build_report(tmp_path)  # no results.csv yet: everything is missing
    assert report.cells == [] and len(report.gaps.missing) == 1 and report.gaps.missing[0]["fraction"] == fraction_key(0.1)


def test_cli_end_to_end(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(sweep)]) == 0
    out, err = capsys.readouterr()
    assert "report.md" in out and err == ""
    assert (sweep / "report.md").is_file() and (sweep / "report.json").is_file()
    assert main(["report", str(sweep), "--baseline", "nope"]) == 2
    assert "baseline 'nope' is not one of the swept models" in capsys.readouterr().err
    assert main(["report", str(sweep.parent / "absent")]) == 2
    capsys.readouterr()
    (sweep.parent / "taken").write_text("a file, not a folder", encoding="utf-8")
    assert main(["report", str(sweep), "--out", str(sweep.parent / "taken")]) == 2
    out, err = capsys.readouterr()
    assert f"cannot write the report into {sweep.parent / 'taken'}" in err and "Traceback" not in out + err
    (sweep / "results.csv").write_text("model,task,value\nm,t,1\n", encoding="utf-8")
    assert main(["report", str(sweep)]) == 2
    assert "missing or repeated column(s) fraction, n_train, seed" in capsys.readouterr().err


def test_rows_without_a_value_are_named_by_line_and_cell(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = rows()
    # every row of one run (rte, 1%, seed 1) is NaN: it has rows but no result, so it counts as incomplete
    lines = [i + 2 for i, r in enumerate(table) if r["model"] == EXPORT and r["task"] == "rte"
             and r["fraction"] == 0.01 and r["seed"] == 1]
    for line in lines:
        table[line - 2]["value"] = "nan"
    table[0]["value"] = ""  # a non-headline metric without a value
    write_csv(sweep / "results.csv", table)
    assert main(["report", str(sweep)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert f"{len(lines) + 1} row(s) of {sweep / 'results.csv'} have no finite value" in err
    md = (sweep / "report.md").read_text(encoding="utf-8")
    assert "None: all" not in md and f"{len(lines) + 1} row(s) of results.csv have no finite value" in md
    assert "| 2 | vanilla-encoder | rte | 1% | 0 | dev | accuracy | (empty) |" in md
    for line in lines:
        assert f"| {line} | run/export | rte | 1% | 1 |" in md
    assert "| run/export | rte | 1% | 1 | dev, test |" in md  # the run lacks its headline on both splits
    data = json.loads((sweep / "report.json").read_text(encoding="utf-8"))
    assert data["rows_without_value"] == len(lines) + 1 and [r["line"] for r in data["without_value"]] == [2, *lines]
    cell = next(c for c in data["cells"] if c["model"] == EXPORT and c["task"] == "rte"
                and c["split"] == "dev" and c["fraction"] == 0.01)
    assert sorted(cell["values"]) == ["0", "2"]  # the NaN seed is left out of the mean, not averaged in


def test_a_metric_no_family_declares_is_shown_as_reported(tmp_path: Path) -> None:
    write_csv(tmp_path / "results.csv", [
        {"model": VANILLA, "task": "toy_gen", "fraction": 0.5, "n_train": 10, "seed": s, "split": "dev",
         "metric": "bleu", "value": v, "seconds": 1.0} for s, v in ((1, 0.25), (2, 0.35))])
    report = write_report(tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    # a guess from the values (all below 1) would have shown 30.00
    assert report.scales["toy_gen"] == 1.0 and "**bleu** (as reported)" in md and "| 0.30 ± 0.07 |" in md
