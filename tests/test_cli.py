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
    assert "| tiny_cls | 40 | 40 | 12 | dev | 0 | 0 | 0 | built |" in first
    assert main(args) == 0
    assert "| tiny_mc |" in (second := capsys.readouterr().out) and "built" not in second
    # an entry's cap is the run's: prepare builds the cache the run will read
    capped = [a if not a.startswith("tasks=") else "tasks=[tiny_cls, {name: tiny_mc, max_examples: 7}]" for a in args]
    assert main(capped) == 0
    assert "| tiny_mc | 7 |" in capsys.readouterr().out


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


def _err(capsys: pytest.CaptureFixture[str], argv: list[str], status: int = 2) -> str:
    assert main(argv) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_bad_model_folders_are_named_for_what_they_are(tiny_root: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    common = ["task=tiny_cls", f"data_dir={tiny_root / 'data'}", f"output_dir={tmp_path / 'out'}", "max_steps=1",
              "progress=false"]
    missing = tmp_path / "models" / "nowhere"
    assert f"the folder {missing} does not exist" in _err(capsys, ["finetune", f"model={missing}", *common])
    run = tmp_path / "run"
    shutil.copytree(tiny_root / "tiny-bert", run / "export")
    err = _err(capsys, ["finetune", f"model={run}", *common])
    assert f"is a pre-finetuning run folder; its model is {run / 'export'}" in err
    (tmp_path / "empty").mkdir()
    assert "has no config.json" in _err(capsys, ["finetune", f"model={tmp_path / 'empty'}", *common])
    cut = tmp_path / "cut"
    shutil.copytree(tiny_root / "tiny-bert", cut)
    weights = cut / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert "cannot load weights" in _err(capsys, ["finetune", f"model={cut}", *common])
    err = _err(capsys, ["finetune", f"model={tiny_root / 'tiny-bert'}", "max_length=300", *common])
    assert "max_length=300 exceeds the 256 positions" in err
    assert not (tmp_path / "out" / "results.json").exists()


def test_data_dir_and_task_file_messages(tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import tiny

    err = _err(capsys, ["data", "prepare", f"model={tiny_root / 'tiny-bert'}", "tasks=[tiny_cls]",
                        f"data_dir={tmp_path / 'missing'}"])
    assert f"data_dir '{tmp_path / 'missing'}' is not a folder" in err
    monkeypatch.delenv("MUPPET_DATA_DIR", raising=False)
    err = _err(capsys, ["data", "prepare", f"model={tiny_root / 'tiny-bert'}"])
    assert "mixture 'local' reads the tasks under data_dir, which is not set" in err and "MUPPET_DATA_DIR" in err
    # task files named in a config resolve against the config's folder; tasks show takes them too
    files = tiny.write_task_files(tmp_path / "cfg" / "tasks", tiny_root / "data")
    config = tmp_path / "cfg" / "run.yaml"
    config.write_text(yaml.safe_dump({"model": str(tiny_root / "tiny-bert"), "tasks": ["tasks/" + Path(files[0]).name],
                                      "cache_dir": str(tmp_path / "cache"), "max_length": 48, "progress": False}))
    monkeypatch.chdir(tmp_path)
    assert main(["data", "prepare", str(config)]) == 0
    assert "| file_cls |" in capsys.readouterr().out
    assert main(["tasks", "show", files[0]]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["name"] == "file_cls"


def test_tasks_list_filters_by_any_registered_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "list", "--family", "regression"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line.strip() and "tasks." not in line}
    assert rows["stsb"][1:3] == ["regression", "0..5"]
    assert {r[1] for r in rows.values()} == {"regression"} and "rte" not in rows  # tests may add tiny regression tasks
    assert main(["tasks", "list", "--family", "clasification"]) == 2
    assert "unknown task family 'clasification'; did you mean 'classification'" in capsys.readouterr().err
