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


def test_tasks_validate_reports_counts_and_malformed_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tiny

    data = tiny.write_tiny_data(tmp_path / "data")
    assert main(["tasks", "validate", "tiny_cls", "tiny_qa", "--data-dir", str(data), "--model", str(tmp_path / "nowhere"),
                 "--no-tokenize"]) == 0
    out = capsys.readouterr().out
    assert "tiny_cls (classification)" in out and "train        40 records" in out and "entailment 20 (50%)" in out
    assert "2 task(s), 92 records: 2 OK, 0 with problems" in out
    lines = (data / "tiny_cls" / "train.jsonl").read_text().splitlines()
    lines[1] = lines[1].replace('"not_entailment"', '"neutral"')
    lines.append(lines[0])  # a duplicate
    (data / "tiny_cls" / "train.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["tasks", "validate", "tiny_cls", "--data-dir", str(data), "--no-tokenize"]) == 1
    out = capsys.readouterr().out
    assert "train.jsonl:2 (field 'label'): label 'neutral' is not one of" in out
    assert "duplicates 1" in out and "FAILED: 1 malformed record(s)" in out


def test_tasks_validate_counts_overlong_examples(tiny_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "validate", "tiny_qa", "--data-dir", str(tiny_root / "data"), "--model", str(tiny_root / "tiny-bert"),
                 "--max-length", "32"]) == 0
    out = capsys.readouterr().out
    overlong = int(out.split("overlong (> 32 tokens) ")[1].split()[0])
    assert 0 < overlong <= 40


def test_data_prepare_builds_then_hits_the_cache(tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["data", "prepare", f"model={tiny_root / 'tiny-bert'}", "tasks=[tiny_cls,tiny_mc]", f"data_dir={tiny_root / 'data'}",
            f"cache_dir={tmp_path / 'cache'}", "max_length=48", "progress=false"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "| tiny_cls | 40 | 40 | 12 | dev | 0 | 0 | built |" in first
    assert main(args) == 0
    assert "| tiny_mc |" in (second := capsys.readouterr().out) and "built" not in second


@pytest.mark.parametrize("damage", ["train header-only", "train empty", "dev empty"])
def test_tasks_validate_fails_on_an_empty_or_header_only_split(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             damage: str) -> None:
    import yaml

    rows = "text,label\n" + "".join(f"sentence {i},{'pos' if i % 2 else 'neg'}\n" for i in range(6))
    split, kind = damage.split()
    for name in ("train", "dev"):
        content = rows if name != split else ("text,label\n" if kind == "header-only" else "")
        (tmp_path / f"{name}.csv").write_text(content)
    task = tmp_path / "t.yaml"
    task.write_text(yaml.safe_dump({"name": "empty_t", "family": "classification", "labels": ["neg", "pos"],
                                    "local": {"format": "csv", "splits": {"train": "train.csv", "dev": "dev.csv"},
                                              "columns": {"text_a": "text", "label": "label"}}}))
    assert main(["tasks", "validate", str(task), "--no-tokenize"]) == 1
    out = capsys.readouterr().out
    assert f"FAILED: no records in split(s) {split} (empty or header-only file)" in out
    assert "0 OK, 1 with problems" in out
