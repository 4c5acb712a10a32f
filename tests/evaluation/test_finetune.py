"""Fine-tuning, head reuse, early stopping, R3F/R4F and resumable sweeps, on tiny models."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import tiny
import torch
import yaml

from muppet.cli import main
from muppet.config import FinetuneConfig, PrefinetuneConfig, SweepConfig
from muppet.data.batching import collate
from muppet.errors import ConfigError, DataError
from muppet.evaluation.finetune import EarlyStopping, finetune, stopped_early
from muppet.evaluation.sweep import sweep
from muppet.families import FeatureSettings, get_family
from muppet.train.loop import prefinetune
from muppet.train.objective import embedding_noise, r3f_term


def ft(tiny_root: Path, out: Path, **kw: object) -> FinetuneConfig:
    base = dict(model=str(tiny_root / "tiny-bert"), task="tiny_cls", data_dir=str(tiny_root / "data"), output_dir=str(out),
                epochs=2, batch_size=4, lr=1e-3, max_length=48, doc_stride=16, progress=False, seed=1)
    base.update(kw)
    return FinetuneConfig.from_dict(base)


def task_file(path: Path, data: Path, name: str, test: str) -> str:
    path.write_text(yaml.safe_dump({
        "name": name, "family": "classification", "labels": ["entailment", "not_entailment"],
        "local": {"format": "jsonl", "directory": str(data), "splits": {"train": "train.jsonl", "dev": "dev.jsonl", "test": test},
                  "columns": {"text_a": "premise", "text_b": "hypothesis", "label": "label"}},
    }))
    return str(path)


def test_finetune_writes_results_with_dev_and_test(tiny_root: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train.jsonl", "dev.jsonl"):
        (data / name).write_text((tiny_root / "data" / "tiny_cls" / name).read_text())
    tiny.write_jsonl(data / "test.jsonl", tiny.cls_rows(10, seed=9))
    # a test split that is the training file: the run refuses to evaluate on what it trains on
    leaky = task_file(tmp_path / "leaky.yaml", data, "tiny_cls_leaky", "train.jsonl")
    with pytest.raises(DataError, match="evaluation examples of 'tiny_cls_leaky'"):
        finetune(ft(tiny_root, tmp_path / "leak", task=leaky, train_fraction=0.5))
    task = task_file(tmp_path / "t.yaml", data, "tiny_cls_test", "test.jsonl")
    result = finetune(ft(tiny_root, tmp_path / "run", task=task, train_fraction=0.5))
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["n_train"] == result["n_train"] == 20 and saved["task"] == "tiny_cls_test"
    assert saved["steps"] == 10 and saved["dev_split"] == "dev"  # 2 epochs x ceil(20 / 4)
    assert set(saved["dev"]) == set(saved["test"]) == {"accuracy", "f1_macro", "mcc"}
    assert [h["step"] for h in saved["history"]] == [5, 10]


def test_train_examples_and_nested_selection(tiny_root: Path, tmp_path: Path) -> None:
    small = finetune(ft(tiny_root, tmp_path / "a", train_examples=6, max_steps=1))
    assert small["n_train"] == 6 and small["train_fraction"] is None


def test_early_stopping_keeps_the_best(tiny_root: Path, tmp_path: Path) -> None:
    result = finetune(ft(tiny_root, tmp_path / "es", lr=1e-12, eval_every=1, early_stopping_patience=2, max_steps=20))
    # with no learning the first evaluation stays the best: stop after two more
    assert result["steps"] == 3 and result["best_step"] == 1 and stopped_early(result) is True
    capped = finetune(ft(tiny_root, tmp_path / "cap", lr=1e-12, eval_every=1, early_stopping_patience=2, max_steps=2))
    assert capped["steps"] == 2 and stopped_early(capped) is False  # the budget ended it one evaluation short


def test_the_finetune_command_says_how_the_run_ended(tiny_root: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    common = [f"model={tiny_root / 'tiny-bert'}", "task=tiny_cls", f"data_dir={tiny_root / 'data'}", "batch_size=4",
              "max_length=48", "progress=false", "lr=1e-12", "eval_every=1", "early_stopping_patience=2"]
    assert main(["finetune", *common, f"output_dir={tmp_path / 'a'}", "max_steps=20"]) == 0
    assert "best at 1, ended by early stopping" in capsys.readouterr().out
    assert main(["finetune", *common, f"output_dir={tmp_path / 'b'}", "max_steps=2"]) == 0
    assert "ran to its budget: the score may still be rising" in capsys.readouterr().out


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
@pytest.mark.parametrize("scores", [[0.5, 0.6, 0.7], [0.5, 0.4, 0.4, 0.6, 0.6], [0.5, float("nan"), 0.5, 0.7],
                                    [0.9, 0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.2]])
def test_stopped_early_agrees_with_the_stopping_rule(scores: list[float], patience: int) -> None:
    """Read back from a results.json's history, whether early stopping ended the run is exactly
    what EarlyStopping.record decided during it: stop, or run out of evaluations first."""
    early, stopped = EarlyStopping("accuracy", patience), False
    for i, score in enumerate(scores):
        if early.record(10 * (i + 1), {"accuracy": score}, torch.nn.Linear(1, 1)):
            stopped = True
            break
    result = {"history": early.history, "best_step": early.step, "config": {"early_stopping_patience": patience}}
    assert stopped_early(result) is (stopped if patience else None)


def test_reuse_head_from_an_export(tiny_root: Path, tmp_path: Path) -> None:
    prefinetune(PrefinetuneConfig.from_dict(dict(
        model=str(tiny_root / "tiny-bert"), tasks=["tiny_cls", "tiny_mc"], data_dir=str(tiny_root / "data"),
        output_dir=str(tmp_path / "pft"), max_steps=2, batch_size=4, max_length=48, progress=False,
    )))
    export = str(tmp_path / "pft" / "export")
    for task, key in (("tiny_cls", "cls/tiny_cls"), ("tiny_mc", "mc")):
        result = finetune(ft(tiny_root, tmp_path / task, model=export, task=task, reuse_head=True, max_steps=1))
        assert result["reused_head"] == key
    # reuse_head that reuses nothing is said and recorded, or (not an export at all) an error
    result = finetune(ft(tiny_root, tmp_path / "no", model=export, task="tiny_reg", reuse_head=True, max_steps=1))
    assert result["reused_head"] is None and "no head 'cls/tiny_reg' for task 'tiny_reg'" in result["reuse_head_skipped"]
    with pytest.raises(ConfigError, match="is not a muppet export"):
        finetune(ft(tiny_root, tmp_path / "plain", task="tiny_cls", reuse_head=True, max_steps=1))
    assert finetune(ft(tiny_root, tmp_path / "off", model=export, max_steps=1))["reused_head"] is None


def test_r3f_term_matches_a_direct_computation() -> None:
    spec_targets = {"labels": torch.tensor([0, 1])}
    a = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    b = torch.tensor([[1.5, 1.0, 0.5], [0.2, -1.0, 2.0]])
    p, q = a.softmax(-1), b.softmax(-1)
    expected = ((p * (p / q).log()).sum(-1) + (q * (q / p).log()).sum(-1))
    got = get_family("classification").symmetric_kl(a, b, spec_targets)
    assert torch.allclose(got, expected, atol=1e-6)
    # masked options (-inf in both) add nothing
    a_mc = torch.tensor([[1.0, 2.0, float("-inf")]])
    b_mc = torch.tensor([[1.5, 1.0, float("-inf")]])
    p2, q2 = a_mc[:, :2].softmax(-1), b_mc[:, :2].softmax(-1)
    direct = (p2 * (p2 / q2).log()).sum() + (q2 * (q2 / p2).log()).sum()
    assert torch.allclose(get_family("multiple_choice").symmetric_kl(a_mc, b_mc, {}), direct.view(1), atol=1e-6)
    # regression: the squared gap
    assert torch.allclose(get_family("regression").symmetric_kl(torch.tensor([1.0]), torch.tensor([3.0]),
                                                                 {"labels": torch.tensor([0.5])}), torch.tensor([4.0]))


def test_r3f_term_over_a_mixed_batch_and_noise() -> None:
    from muppet.tasks.spec import HubSource, TaskSpec

    spec = TaskSpec("r", "classification", hub=HubSource("x/y"), labels=("a", "b"))
    fam, tok = get_family("classification"), tiny.tokenizer()
    feats = fam.featurize([fam.make_record({"text_a": "the cat", "label": "a"}, spec)] * 3, spec, tok, FeatureSettings(), True)
    batch = collate([(spec, "cls/r", feats)], 0)
    clean, noisy = [torch.tensor([[0.0, 1.0]] * 3)], [torch.tensor([[1.0, 0.0]] * 3)]
    p, q = torch.tensor([0.0, 1.0]).softmax(-1), torch.tensor([1.0, 0.0]).softmax(-1)
    per = ((p - q) * (p.log() - q.log())).sum()
    assert r3f_term(batch, clean, noisy).item() == pytest.approx(per.item(), rel=1e-5)
    e = torch.zeros(1000, 8)
    u = embedding_noise(1e-3, "uniform")(e)
    assert u.abs().max() <= 1e-3 and u.std() > 0
    n = embedding_noise(1e-3, "normal")(e)
    assert n.std().item() == pytest.approx(1e-3, rel=0.1)


def test_finetune_and_prefinetune_with_r3f_and_r4f(tiny_root: Path, tmp_path: Path) -> None:
    r3f = {"eps": 1e-3, "lambda": 0.5, "noise": "normal", "spectral_norm": True}
    result = finetune(ft(tiny_root, tmp_path / "r3f", r3f=r3f, max_steps=2))
    assert result["r3f"] == r3f and math.isfinite(result["dev"]["accuracy"])
    prefinetune(PrefinetuneConfig.from_dict(dict(
        model=str(tiny_root / "tiny-bert"), tasks=["tiny_cls", "tiny_qa"], data_dir=str(tiny_root / "data"),
        output_dir=str(tmp_path / "pft"), max_steps=2, batch_size=4, max_length=48, doc_stride=16, progress=False, r3f=r3f,
    )))
    from muppet.train.export import load_export

    load_export(tmp_path / "pft" / "export")  # spectral norm is baked into plain heads


def test_sweep_runs_resumes_and_reports(tiny_root: Path, tmp_path: Path) -> None:
    prefinetune(PrefinetuneConfig.from_dict(dict(
        model=str(tiny_root / "tiny-bert"), tasks=["tiny_mc", "tiny_qa"], data_dir=str(tiny_root / "data"),
        output_dir=str(tmp_path / "pft"), max_steps=2, batch_size=4, max_length=48, doc_stride=16, progress=False,
    )))
    models = [str(tiny_root / "tiny-bert"), str(tmp_path / "pft" / "export")]
    cfg = SweepConfig.from_dict(dict(
        models=models, tasks=["tiny_cls"], fractions=[0.25, 0.5], seeds=[1, 2], output_dir=str(tmp_path / "sweep"),
        progress=False,
        finetune=dict(data_dir=str(tiny_root / "data"), epochs=1, batch_size=4, lr=1e-3, max_length=48),
    ))
    first = sweep(cfg)
    assert first == {"cells": 8, "skipped": 0, "ran": 8, "results": str(tmp_path / "sweep" / "results.csv"),
                     "stopped": False, "pending": 0}
    rows = list(csv.DictReader((tmp_path / "sweep" / "results.csv").open()))
    assert len(rows) == 8 * 3  # accuracy, f1_macro, mcc on dev
    assert set(rows[0]) == {"model", "task", "fraction", "n_train", "seed", "split", "metric", "value", "seconds",
                            "stopped_early"}
    assert {r["stopped_early"] for r in rows} == {""}  # early stopping off: nothing to say
    assert {(r["fraction"], r["n_train"]) for r in rows} == {("0.25", "10"), ("0.5", "20")}
    # resumable: finished cells are skipped; a missing one is rerun
    assert sweep(cfg)["ran"] == 0
    victim = cfg.cell_dir(models[1], "tiny_cls", 0.5, 2) / "results.json"
    victim.unlink()
    assert sweep(cfg)["ran"] == 1
    # the 10% subset of a seed lies inside its 25% subset: same seed, nested training sets
    assert main(["report", str(tmp_path / "sweep")]) == 0
    assert (tmp_path / "sweep" / "report.md").is_file()
    assert list((tmp_path / "sweep").glob("*.png"))


def test_sweep_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="set per cell"):
        SweepConfig.from_dict(dict(models=["m"], tasks=["rte"], finetune={"seed": 3}))
    with pytest.raises(ConfigError, match="unknown config key 'finetune.lrr'"):
        SweepConfig.from_dict(dict(models=["m"], tasks=["rte"], finetune={"lrr": 3}))
    with pytest.raises(ConfigError, match="not in"):
        SweepConfig.from_dict(dict(models=["m"], tasks=["rte"], fractions=[0.0]))
    with pytest.raises(ConfigError, match="baseline"):
        SweepConfig.from_dict(dict(models=["m"], tasks=["rte"], baseline="x"))


def test_a_training_pool_is_the_same_data_for_every_seed(tiny_root: Path, tmp_path: Path) -> None:
    import numpy as np

    from muppet.data.store import build_records
    from muppet.evaluation.finetune import _selection
    from muppet.tasks.loading import open_split
    from muppet.tasks.spec import get_task

    spec = get_task("tiny_cls")
    store = build_records(open_split(spec, "train", tiny_root / "data"), cache_dir=tmp_path)
    candidates = np.arange(len(store))

    def chosen(seed: int, fraction: float) -> set[int]:
        cfg = ft(tiny_root, tmp_path, max_train_examples=20, train_fraction=fraction, seed=seed)
        return set(_selection(spec, cfg)(store, candidates).tolist())

    pool = chosen(1, 1.0)
    assert len(pool) == 20 and chosen(2, 1.0) == pool  # 100% means the same 20 examples for every seed
    halves = [chosen(seed, 0.5) for seed in (1, 2, 3)]
    assert all(len(h) == 10 and h < pool for h in halves) and len({frozenset(h) for h in halves}) > 1
    labels = np.asarray(store.labels())
    assert abs(int(labels[sorted(pool)].sum()) - 10) <= 1  # stratified like every subset


def test_sweep_models_with_names_and_settings_of_their_own(tiny_root: Path, tmp_path: Path) -> None:
    prefinetune(PrefinetuneConfig.from_dict(dict(
        model=str(tiny_root / "tiny-bert"), tasks=["tiny_mc"], data_dir=str(tiny_root / "data"),
        output_dir=str(tmp_path / "pft"), max_steps=2, batch_size=4, max_length=48, doc_stride=16, progress=False,
    )))
    export = str(tmp_path / "pft" / "export")
    base = dict(tasks=["tiny_mc"], fractions=[0.5], seeds=[1], output_dir=str(tmp_path / "sweep"), progress=False,
                finetune=dict(data_dir=str(tiny_root / "data"), epochs=1, batch_size=4, lr=1e-3, max_length=48))
    cfg = SweepConfig.from_dict({**base, "models": [
        {"name": "fresh", "model": export}, {"name": "heads", "model": export, "finetune": {"reuse_head": True}}]})
    assert cfg.cell_config("heads", "tiny_mc", 0.5, 1).reuse_head and not cfg.cell_config("fresh", "tiny_mc", 0.5, 1).reuse_head
    sweep(cfg)
    rows = list(csv.DictReader((tmp_path / "sweep" / "results.csv").open()))
    assert {r["model"] for r in rows} == {"fresh", "heads"}
    reused = {m: json.loads((cfg.cell_dir(m, "tiny_mc", 0.5, 1) / "results.json").read_text())["reused_head"]
              for m in ("fresh", "heads")}
    assert reused["fresh"] is None and reused["heads"] is not None
    # the same name standing for other settings in the same folder is refused
    other = SweepConfig.from_dict({**base, "models": [{"name": "heads", "model": export}]})
    with pytest.raises(ConfigError, match=r"the models \['heads'\] stood for another model"):
        sweep(other)
    # a shared cells folder: identical cells meet, different settings never do
    shared = {**base, "cells_dir": str(tmp_path / "cells")}
    a = SweepConfig.from_dict({**shared, "output_dir": str(tmp_path / "a"), "models": [{"name": "m", "model": export}]})
    b = SweepConfig.from_dict({**shared, "output_dir": str(tmp_path / "b"), "models": [{"name": "m", "model": export}]})
    c = SweepConfig.from_dict({**shared, "output_dir": str(tmp_path / "c"),
                               "models": [{"name": "m", "model": export, "finetune": {"lr": 1e-4}}]})
    assert a.cell_dir("m", "tiny_mc", 0.5, 1) == b.cell_dir("m", "tiny_mc", 0.5, 1) != c.cell_dir("m", "tiny_mc", 0.5, 1)
    assert sweep(a)["ran"] == 1 and sweep(b)["ran"] == 0
    with pytest.raises(ConfigError, match="need a name and a model|needs a name and a model"):
        SweepConfig.from_dict({**base, "models": [{"name": "x"}]})
