"""The loop end to end on CPU with tiny models: train, log, evaluate, checkpoint, resume, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tiny
import torch
import yaml

from muppet.config import PrefinetuneConfig
from muppet.errors import ConfigError, DataError
from muppet.train.checkpoint import complete_checkpoints
from muppet.train.export import load_export
from muppet.train.loop import prefinetune
from muppet.train.metrics_log import read_metrics

ENCODER_TASKS = ["tiny_cls", "tiny_reg", "tiny_mc", "tiny_qa"]


def config(tiny_root: Path, out: Path, kind: str = "bert", **kw: object) -> PrefinetuneConfig:
    base = dict(
        model=str(tiny_root / f"tiny-{kind}"), tasks=ENCODER_TASKS, data_dir=str(tiny_root / "data"),
        output_dir=str(out), max_steps=6, batch_size=8, lr=1e-3, max_length=48, doc_stride=16,
        log_every=1, eval_batch_size=16, progress=False, seed=3, max_new_tokens=4, max_target_length=12,
    )
    base.update(kw)
    return PrefinetuneConfig.from_dict(base)



def test_run_writes_config_metrics_results_and_export(tiny_root: Path, tmp_path: Path) -> None:
    # the tiny tasks' lengths barely overlap: a small budget cuts each shard by task, yet every
    # update still mixes tasks
    cfg = config(tiny_root, tmp_path / "run", grad_accum_steps=2, eval_every=3, max_tokens=128)
    summary = prefinetune(cfg)
    out = tmp_path / "run"
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["tasks"] == ENCODER_TASKS and saved["grad_accum_steps"] == 2
    assert PrefinetuneConfig.from_dict(saved) == cfg  # the resolved config round-trips

    rows = read_metrics(out / "metrics.jsonl")
    train_rows = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4, 5, 6]
    for r in train_rows:
        assert {"step", "loss", "lr", "examples_per_s", "tasks"} <= set(r)
        assert sum(t["n"] for t in r["tasks"].values()) >= cfg.batch_size  # QA windows may add features
        for t in r["tasks"].values():
            assert set(t) == {"n", "loss", "scaled_loss"}
    # heterogeneous: updates mix tasks
    assert sum(len(r["tasks"]) >= 2 for r in train_rows) >= 5
    dev_rows = [r for r in rows if "dev" in r]
    assert [r["step"] for r in dev_rows] == [3, 6]
    assert set(dev_rows[-1]["dev"]) == set(ENCODER_TASKS)
    assert {r["task"] for r in summary["results"]} == set(ENCODER_TASKS)
    assert (out / "results.md").read_text().startswith("| task |")

    export = out / "export"
    manifest = json.loads((export / "muppet.json").read_text())
    assert [t["name"] for t in manifest["tasks"]] == ENCODER_TASKS
    assert {t["head"] for t in manifest["tasks"]} == {"cls/tiny_cls", "cls/tiny_reg", "mc", "span"}
    assert manifest["tasks"][0]["labels"] == ["entailment", "not_entailment"]
    assert "tiny_mc" in (export / "README.md").read_text()

    # the export reloads with its heads and computes what the trained model computed
    model, _ = load_export(export)
    assert set(model.head_keys.values()) == {"cls/tiny_cls", "cls/tiny_reg", "mc", "span"}
    from transformers import AutoModel, AutoTokenizer

    plain = AutoModel.from_pretrained(export).eval()
    tok = AutoTokenizer.from_pretrained(export)
    enc = tok(["the cat sat on the mat"], return_tensors="pt")
    with torch.no_grad():
        ours = model.backbone.eval()(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        theirs = plain(**enc).last_hidden_state
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_export_loads_without_muppet(tiny_root: Path, tmp_path: Path) -> None:
    prefinetune(config(tiny_root, tmp_path / "run", max_steps=2, tasks=["tiny_cls"]))
    code = (
        "import sys, transformers\n"
        f"m = transformers.AutoModel.from_pretrained({str(tmp_path / 'run' / 'export')!r})\n"
        f"t = transformers.AutoTokenizer.from_pretrained({str(tmp_path / 'run' / 'export')!r})\n"
        "print(type(m).__name__, m(**t(['a cat'], return_tensors='pt')).last_hidden_state.shape[-1])\n"
        "assert 'muppet' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["BertModel", "32"]


def test_resume_equals_an_uninterrupted_run(tiny_root: Path, tmp_path: Path) -> None:
    full = config(tiny_root, tmp_path / "full", save_every=2)
    prefinetune(full)
    part = config(tiny_root, tmp_path / "part", save_every=2, stop_after=3)
    stopped = prefinetune(part)
    assert stopped["stopped"] and [p.name for p in complete_checkpoints(tmp_path / "part")] == ["step_00000002", "step_00000003"]
    prefinetune(config(tiny_root, tmp_path / "part", save_every=2, resume=True))
    a, b = tiny.export_weights(tmp_path / "full" / "export"), tiny.export_weights(tmp_path / "part" / "export")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # the metrics log holds each update once
    steps = [r["step"] for r in read_metrics(tmp_path / "part" / "metrics.jsonl") if "loss" in r]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_resume_without_checkpoint_starts_fresh_and_reruns_are_guarded(tiny_root: Path, tmp_path: Path) -> None:
    prefinetune(config(tiny_root, tmp_path / "r", max_steps=2, tasks=["tiny_cls"], resume=True))
    assert (tmp_path / "r" / "export").is_dir()
    with pytest.raises(ConfigError, match="already holds a run"):
        prefinetune(config(tiny_root, tmp_path / "r", max_steps=2, tasks=["tiny_cls"]))
    prefinetune(config(tiny_root, tmp_path / "r", max_steps=2, tasks=["tiny_cls"], overwrite=True))


def test_seq2seq_backbone_serves_all_four_families(tiny_root: Path, tmp_path: Path) -> None:
    summary = prefinetune(config(tiny_root, tmp_path / "bart", kind="bart", tasks=["tiny_sum", "tiny_cls", "tiny_mc", "tiny_qa"], max_steps=3))
    scores = {r["task"]: r for r in summary["results"]}
    assert scores["tiny_sum"]["metric"] == "rougeL" and scores["tiny_sum"]["score"] >= 0
    manifest = json.loads((tmp_path / "bart" / "export" / "muppet.json").read_text())
    assert manifest["encoder_decoder"] and manifest["heads"]["lm"]["class"] == "lm_head"
    from transformers import AutoModelForSeq2SeqLM

    AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "bart" / "export")


def test_encoder_only_refuses_summarization_before_reading_data(tiny_root: Path, tmp_path: Path) -> None:
    (tmp_path / "no_data").mkdir()  # the tasks' files are not there: the refusal comes first
    cfg = config(tiny_root, tmp_path / "x", tasks=["tiny_cls", "tiny_sum"], data_dir=str(tmp_path / "no_data"))
    with pytest.raises(ConfigError, match="encoder-decoder"):
        prefinetune(cfg)


def test_bad_record_is_reported_with_file_and_line_before_training(tiny_root: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny_root / "data", data)
    lines = (data / "tiny_cls" / "train.jsonl").read_text().splitlines()
    lines[4] = lines[4].replace('"entailment"', '"maybe"')
    lines[6] = lines[6][:-5]
    (data / "tiny_cls" / "train.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        prefinetune(config(tiny_root, tmp_path / "bad", data_dir=str(data)))
    message = str(err.value)
    assert "train.jsonl:5 (field 'label'): label 'maybe' is not one of" in message
    assert "train.jsonl:7: invalid JSON" in message
    assert not (tmp_path / "bad" / "metrics.jsonl").exists()
    # skipping is explicit, and counted
    summary = prefinetune(config(tiny_root, tmp_path / "skip", data_dir=str(data), on_bad_record="skip", max_steps=1))
    assert summary["step"] == 1
    out = tmp_path / "skip"
    assert json.loads((out / "results.json").read_text())["skipped_records"] == {"tiny_cls": 2}
    assert read_metrics(out / "metrics.jsonl")[0] == {"step": 0, "skipped_records": {"tiny_cls": 2}}
    tasks = {t["name"]: t for t in json.loads((out / "export" / "muppet.json").read_text())["tasks"]}
    assert tasks["tiny_cls"]["skipped_records"] == 2 and tasks["tiny_reg"]["skipped_records"] == 0


@pytest.mark.parametrize("batching", ["homogeneous", "sequential"])
def test_ablation_batching_modes_run(tiny_root: Path, tmp_path: Path, batching: str) -> None:
    prefinetune(config(tiny_root, tmp_path / batching, batching=batching, max_steps=4, export=False))
    rows = [r for r in read_metrics(tmp_path / batching / "metrics.jsonl") if "loss" in r]
    assert all(len(r["tasks"]) == 1 for r in rows)  # one task per update


def test_bf16_on_cpu_and_fp16_refused(tiny_root: Path, tmp_path: Path) -> None:
    summary = prefinetune(config(tiny_root, tmp_path / "bf16", precision="bf16", max_steps=2, tasks=["tiny_cls", "tiny_mc"], export=False, cpu=True))
    assert summary["step"] == 2
    with pytest.raises(ConfigError, match="fp16 needs a GPU"):
        prefinetune(config(tiny_root, tmp_path / "fp16", precision="fp16", max_steps=2, tasks=["tiny_cls"], cpu=True))


def test_second_run_reads_cached_features(tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from muppet.families import get_family

    cfg = dict(max_steps=1, export=False, cache_dir=str(tmp_path / "cache"))
    prefinetune(config(tiny_root, tmp_path / "a", **cfg))
    calls: list[str] = []
    for name in ("classification", "regression", "multiple_choice", "extractive_qa"):
        family = get_family(name)
        original = family.featurize
        monkeypatch.setattr(family, "featurize", lambda *a, _o=original, _n=name, **k: calls.append(_n) or _o(*a, **k))
    prefinetune(config(tiny_root, tmp_path / "b", **cfg))
    assert calls == []


def test_task_entries_set_sampling_rates_and_caps_and_are_saved(tiny_root: Path, tmp_path: Path) -> None:
    from muppet.data.sampler import sampling_rates

    entries = ["tiny_cls", {"name": "tiny_mc", "weight": 3.0, "max_examples": 10}, {"name": "tiny_reg", "weight": 0.5}]
    cfg = config(tiny_root, tmp_path / "run", tasks=entries, max_train_examples=20, max_steps=2)
    prefinetune(cfg)
    tasks = json.loads((tmp_path / "run" / "export" / "muppet.json").read_text())["tasks"]
    info = {t["name"]: t for t in tasks}
    sizes = {name: info[name]["train_examples"] for name in ("tiny_cls", "tiny_mc", "tiny_reg")}
    assert sizes == {"tiny_cls": 20, "tiny_mc": 10, "tiny_reg": 20}  # the entry's cap over the global one
    # proportional rates of the capped sizes, times the weights
    expected = sampling_rates([20, 10, 20], "proportional", weights=[1.0, 3.0, 0.5])
    assert [info[n]["sampling_rate"] for n in sizes] == pytest.approx(expected.tolist())
    assert info["tiny_mc"]["sampling_rate"] / info["tiny_cls"]["sampling_rate"] == pytest.approx(1.5)
    assert PrefinetuneConfig.load(tmp_path / "run" / "config.yaml") == cfg
