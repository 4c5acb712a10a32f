"""Reading a sweep directory, and the faults it must name: every broken file is one message
(file, line, column) and exit status 2, never a traceback and never a silently smaller report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from report_fixtures import EXPORT, VANILLA, rows, write_csv

from muppet.cli import main
from muppet.report.read import model_info, read_results, read_run


def test_model_info_and_run_log(sweep: Path) -> None:
    info = model_info(EXPORT, sweep)
    assert info.task_count == 3 and info.steps == 300 and info.run_dir == str((sweep.parent / "run").resolve())
    assert model_info(VANILLA, sweep).task_count == 0 and model_info(VANILLA, sweep).path is None
    log = read_run(sweep.parent / "run")
    assert len(log.steps) == 30 and log.loss[4] is None and len(log.dev) == 3
    assert set(log.task_scaled_loss) == {"rte", "mnli", "squad_v1"}


def test_results_are_converted_and_rows_without_a_value_kept_apart(sweep: Path) -> None:
    table = rows()
    table[3]["value"], table[7]["value"], table[9]["n_train"] = "nan", "", ""
    write_csv(sweep / "results.csv", table)
    results = read_results(sweep / "results.csv")
    assert len(results.rows) == len(table) - 2 and results.without_value["line"].tolist() == [5, 9]
    assert results.rows["seed"].map(type).eq(int).all() and results.rows["fraction"].map(type).eq(float).all()
    assert results.rows.loc[results.rows["line"] == 11, "n_train"].item() is None


def _edit_row(index: int, **changes: object) -> Callable[[Path], None]:
    def edit(sweep: Path) -> None:
        table = rows()
        table[index].update(changes)
        write_csv(sweep / "results.csv", table)
    return edit


def _write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def write(sweep: Path) -> None:
        path = sweep.parent / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return write


def _duplicate_row(sweep: Path) -> None:
    write_csv(sweep / "results.csv", [*rows(), rows()[0]])


def _grid_without_cells(sweep: Path) -> None:
    (sweep / "results.csv").unlink()
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({"models": [VANILLA], "tasks": []}), encoding="utf-8")


HEADER = "model,task,fraction,n_train,seed,split,metric,value,seconds\n"
TRAINING_ROW = json.dumps({"step": 10, "loss": 1.0, "tasks": {}}) + "\n"
FAULTS = {
    "header-only results.csv": (_write("sweep/results.csv", HEADER), "results.csv: a header and no rows"),
    "empty results.csv": (_write("sweep/results.csv", ""), "results.csv: empty file"),
    "results.csv not UTF-8": (_write("sweep/results.csv", HEADER.encode() + b"m,\xff\xfe,0.1,1,1,dev,f1,1,1\n"),
                              "results.csv: not UTF-8 text"),
    "a row with too many fields": (_write("sweep/results.csv", HEADER + "m,rte,0.1,10,1,dev,accuracy,0.5,1,9\n"),
                                   "results.csv:2: 10 fields where the header has 9"),
    "a row with too few fields": (_write("sweep/results.csv", HEADER + "m,rte,0.1\n"),
                                  "results.csv:2: 3 fields where the header has 9"),
    "a repeated column": (_write("sweep/results.csv", HEADER.strip() + ",seed\n" + "m,rte,0.1,10,1,dev,f1,1,1,2\n"),
                          "results.csv: missing or repeated column(s)"),
    "non-numeric value": (_edit_row(3, value="abc"), "results.csv:5: value 'abc': expected a number"),
    "fraction out of range": (_edit_row(0, fraction=0), "results.csv:2: fraction '0': expected a fraction in (0, 1]"),
    "fractional seed": (_edit_row(1, seed="1.5"), "results.csv:3: seed '1.5': expected an integer"),
    "negative n_train": (_edit_row(0, n_train=-3), "results.csv:2: n_train '-3'"),
    "non-numeric seconds": (_edit_row(0, seconds="soon"), "results.csv:2: seconds 'soon'"),
    "empty model": (_edit_row(0, model=" "), "results.csv:2: empty model"),
    "a stopped_early that is not a flag": (
        _write("sweep/results.csv", HEADER.strip() + ",stopped_early\nm,rte,0.1,10,1,dev,accuracy,0.5,1,maybe\n"),
        "results.csv:2: stopped_early 'maybe': expected true, false or nothing"),
    "a metric given twice": (_duplicate_row, "results.csv: lines 2, 146 give one metric of one run twice"),
    "sweep.yaml with an unknown key": (_write("sweep/sweep.yaml", "models: [a]\ntasks: [rte]\nfractons: [0.1]\n"),
                                      "sweep.yaml: unknown config key 'fractons'; did you mean 'fractions'?"),
    "sweep.yaml not UTF-8": (_write("sweep/sweep.yaml", b"models: [\xff]\n"), "sweep.yaml, line 1: not UTF-8 text"),
    "sweep.yaml without cells": (_grid_without_cells, "sweep.yaml: tasks: give at least one"),
    "muppet.json not JSON": (_write("run/export/muppet.json", "{"), "muppet.json: not valid JSON"),
    "muppet.json a list": (_write("run/export/muppet.json", "[1, 2]"), "muppet.json: expected an export's manifest"),
    "metrics.jsonl row not an object": (_write("run/metrics.jsonl", "[1]\n" + TRAINING_ROW),
                                        "metrics.jsonl:1: expected a JSON object, got list"),
    "metrics.jsonl step not a number": (_write("run/metrics.jsonl", TRAINING_ROW.replace("10", '"ten"') + TRAINING_ROW),
                                        "metrics.jsonl:1: expected an integer step"),
    "metrics.jsonl without training rows": (_write("run/metrics.jsonl", json.dumps({"step": 1, "dev": {}}) + "\n"),
                                            "metrics.jsonl: no training rows"),
    "metrics.jsonl not UTF-8": (_write("run/metrics.jsonl", b"\xff" + TRAINING_ROW.encode()),
                                "metrics.jsonl: not UTF-8 text"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_broken_file_is_one_message_and_exit_status_2(sweep: Path, fault: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    make, message = FAULTS[fault]
    make(sweep)
    assert main(["report", str(sweep)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err.startswith("muppet: error: ") and err.count("\n") == 1
    assert message in err, err
    assert not (sweep / "report.md").exists()  # no report from a file it could not read
