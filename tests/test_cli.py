"""The `muppet` command end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from muppet.cli import main


def test_tasks_list_shows_every_task(capsys: pytest.CaptureFixture[str], real_data_dir: Path) -> None:
    assert main(["tasks", "list", "--data-dir", str(real_data_dir)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip() and not line.startswith(("48", "Mixtures"))}
    assert {"rte", "copa", "squad_v1", "xsum", "race", "stsb"} <= set(lines)
    assert "entailment/not_entailment" in lines["rte"] and "train,dev" in lines["rte"]
    assert "0..5" in lines["stsb"] and "summarization" in lines["xsum"]
    assert main(["tasks", "list", "--family", "extractive_qa", "--data-dir", str(real_data_dir)]) == 0
    assert "copa" not in capsys.readouterr().out


def test_tasks_show_and_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "show", "cola"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["family"] == "classification" and shown["metric"] == "mcc"
    assert main(["tasks", "show", "colaa"]) == 2
    assert "unknown task 'colaa'; did you mean 'cola'" in capsys.readouterr().err


def test_prefinetune_from_a_config_file(tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({
        "model": str(tiny_root / "tiny-bert"), "tasks": ["tiny_cls", "tiny_mc", "tiny_qa"],
        "data_dir": str(tiny_root / "data"), "output_dir": str(tmp_path / "run"), "max_steps": 3,
        "batch_size": 6, "max_length": 48, "doc_stride": 16, "progress": False,
    }))
    assert main(["prefinetune", str(cfg), "lr=1e-3", "log_every=1"]) == 0
    out = capsys.readouterr().out
    assert "| tiny_cls | classification | dev |" in out and "Export:" in out
    assert (tmp_path / "run" / "export" / "muppet.json").is_file()
    assert main(["prefinetune", str(cfg), "lr_rate=1"]) == 2
    assert "unknown config key 'lr_rate'" in capsys.readouterr().err
    assert main(["prefinetune", str(cfg), "tasks=[tiny_cls,tiny_sum]"]) == 2
    assert "encoder-decoder" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "muppet", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("muppet ")
