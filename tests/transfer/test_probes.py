"""Transfer probes during pre-finetuning: scores, an unchanged trajectory, checkpoint selection,
exact resume, and task files as targets."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tiny
import torch
from safetensors.torch import load_file

from muppet.backbone import Backbone
from muppet.config import PrefinetuneConfig
from muppet.data.batching import collate
from muppet.data.sampler import task_key
from muppet.errors import ConfigError
from muppet.families import FeatureSettings
from muppet.model import MultiTaskModel
from muppet.train.checkpoint import complete_checkpoints
from muppet.train.loop import prefinetune
from muppet.train.metrics_log import read_metrics
from muppet.train.step import build_batch
from muppet.transfer import probes as probes_module
from muppet.transfer.probes import SALT, Probes, probe_data, probe_specs

TRAIN = ["tiny_reg", "tiny_mc", "tiny_qa"]
PROBE = {"tasks": ["tiny_cls"], "every": 2, "examples": 12, "steps": 6, "batch_size": 4}


def config(tiny_root: Path, out: Path, **kw: object) -> PrefinetuneConfig:
    base = dict(
        model=str(tiny_root / "tiny-bert"), tasks=TRAIN, downstream=["tiny_cls"], data_dir=str(tiny_root / "data"),
        output_dir=str(out), max_steps=6, batch_size=8, lr=1e-3, max_length=48, doc_stride=16, log_every=1,
        eval_batch_size=16, progress=False, seed=3, dropout=0.1,
    )
    base.update(kw)
    return PrefinetuneConfig.from_dict(base)



def probe_rows(out: Path) -> list[dict]:
    return [r for r in read_metrics(out / "metrics.jsonl") if "probe" in r]


def setup_probes(tiny_root: Path, tmp_path: Path, tasks: list[str], **probe: object) -> tuple[Probes, MultiTaskModel]:
    cfg = config(tiny_root, tmp_path / "unused", probe={**PROBE, "tasks": tasks, **probe})
    settings = FeatureSettings(max_length=48, doc_stride=16)
    data = probe_data(probe_specs(cfg.probe, cfg.data_dir), cfg, tiny.tokenizer(), settings)
    probes = Probes(cfg.probe, data, settings, tiny.tokenizer(), seed=3, dropout=0.1, eval_batch_size=16, padding=1,
                    max_steps=6)
    torch.manual_seed(0)
    model = MultiTaskModel(Backbone.from_pretrained(str(tiny_root / "tiny-bert")), [data[0].spec])
    return probes, model


def test_head_probe_equals_a_direct_computation_and_leaves_the_model_alone(tiny_root: Path, tmp_path: Path) -> None:
    probes, model = setup_probes(tiny_root, tmp_path, ["tiny_cls"])
    task = probes.tasks[0]
    assert task.n_train_records == 12
    labels = [r["label"] for r in task.train.get(range(len(task.train)))]
    assert sorted(np.bincount(labels).tolist()) == [6, 6]  # stratified: both classes in equal shares
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    score = probes.run(0, model)["tiny_cls"]
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())

    # the same probe by hand: frozen pooled states, the classification head, cross-entropy, accuracy
    torch.manual_seed(int(np.random.SeedSequence([3, task_key("tiny_cls"), SALT]).generate_state(1)[0]))
    head = MultiTaskModel(model.backbone, [task.spec], 0.1).head("cls/tiny_cls")
    model.eval()
    batches = [build_batch([(0, i) for i in range(s, min(s + 4, 12))], [task], model.backbone) for s in range(0, 12, 4)]
    with torch.no_grad():
        pooled = [model.states(b)[:, 0] for b in batches]
    rng = np.random.default_rng([3, task_key("tiny_cls"), SALT])  # 6 steps over 3 batches: two shuffled epochs
    order = np.concatenate([rng.permutation(3), rng.permutation(3)]).tolist()
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.0)
    head.train()
    for i in order:
        optimizer.zero_grad()
        target = batches[i].segments[0].targets["labels"]
        loss = torch.nn.functional.cross_entropy(head(pooled[i]), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(head.parameters()), 1.0)
        optimizer.step()
    head.eval()
    batch = collate([(task.spec, task.head, task.eval_features)], model.backbone.pad_token_id, False, None, 1)
    with torch.no_grad():
        predicted = head(model.states(batch)[:, 0]).argmax(-1).tolist()
    gold = [r["label"] for r in task.eval_records]
    expected = sum(int(p == g) for p, g in zip(predicted, gold)) / len(gold)
    assert score == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("task", ["tiny_reg", "tiny_mc", "tiny_qa"])
def test_head_probes_serve_every_family_with_its_headline_metric(tiny_root: Path, tmp_path: Path, task: str) -> None:
    probes, model = setup_probes(tiny_root, tmp_path, [task])
    score = probes.run(0, model)[task]
    assert math.isfinite(score)


def test_a_head_probe_of_summarization_is_refused_before_any_data(tiny_root: Path, tmp_path: Path) -> None:
    cfg = config(tiny_root, tmp_path / "r", probe={**PROBE, "tasks": ["tiny_sum"]})
    with pytest.raises(ConfigError, match="probe.method=finetune"):
        prefinetune(cfg)
    assert not (tmp_path / "r").exists()


def test_select_checkpoint_probe_needs_probe_tasks() -> None:
    with pytest.raises(ConfigError, match="select_checkpoint: probe needs probe.tasks"):
        PrefinetuneConfig.from_dict({"select_checkpoint": "probe"})


@pytest.mark.parametrize("method", ["head", "finetune"])
def test_probes_and_the_monitor_leave_the_trajectory_bit_identical(tiny_root: Path, tmp_path: Path, method: str) -> None:
    prefinetune(config(tiny_root, tmp_path / "plain"))
    summary = prefinetune(config(tiny_root, tmp_path / "probed", probe={**PROBE, "method": method},
                                 monitor_gradients=2))
    a, b = tiny.export_weights(tmp_path / "plain" / "export"), tiny.export_weights(tmp_path / "probed" / "export")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    plain = [r for r in read_metrics(tmp_path / "plain" / "metrics.jsonl") if "loss" in r]
    probed = [r for r in read_metrics(tmp_path / "probed" / "metrics.jsonl") if "loss" in r]
    assert [r["loss"] for r in plain] == [r["loss"] for r in probed]
    rows = probe_rows(tmp_path / "probed")
    assert [r["step"] for r in rows] == [0, 2, 4, 6]  # the base model first
    assert all(0 <= r["probe"]["tiny_cls"] <= 1 for r in rows)
    assert (tmp_path / "probed" / "probe.png").stat().st_size > 0
    assert summary["probe"]["vanilla"] == rows[0]["probe"]
    grads = [r for r in read_metrics(tmp_path / "probed" / "metrics.jsonl") if "gradients" in r]
    assert [r["step"] for r in grads] == [2, 4, 6]
    assert (tmp_path / "probed" / "gradients.png").stat().st_size > 0


def scripted(monkeypatch: pytest.MonkeyPatch, by_step: dict[int, float]) -> None:
    """Probe scores scripted per probed update (the selection is what is tested, not the probe)."""
    calls: list[int] = []

    def score(self: Probes, task: object, core: object) -> float:
        calls.append(1)
        step = sorted(by_step)[len(calls) - 1]
        return by_step[step]

    monkeypatch.setattr(probes_module.Probes, "score", score)


def test_select_checkpoint_probe_keeps_and_exports_the_best_earlier_step(tiny_root: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, {0: 0.5, 2: 0.75, 4: 0.6, 6: 0.75})  # update 2 is best; 6 ties it later
    out = tmp_path / "sel"
    summary = prefinetune(config(tiny_root, out, probe=PROBE, select_checkpoint="probe", keep_checkpoints=1))
    assert [p.name for p in complete_checkpoints(out)] == ["step_00000002", "step_00000006"]
    checkpoint = load_file(str(out / "checkpoints" / "step_00000002" / "model.safetensors"))
    exported = tiny.export_weights(out / "export")
    backbone = {k: v for k, v in checkpoint.items() if k.startswith("backbone.model.")}
    assert backbone and all(torch.equal(exported[k.removeprefix("backbone.model.")], v) for k, v in backbone.items())
    last = load_file(str(out / "checkpoints" / "step_00000006" / "model.safetensors"))
    assert not all(torch.equal(last[k], v) for k, v in backbone.items())
    manifest = json.loads((out / "export" / "muppet.json").read_text())
    assert manifest["steps"] == 2 and manifest["probe"]["selected_step"] == 2
    assert [p["step"] for p in manifest["probe"]["curve"]] == [0, 2, 4, 6]
    assert manifest["probe"]["curve"][1]["gain"] == pytest.approx(25.0)
    card = (out / "export" / "README.md").read_text()
    assert "## Transfer probes" in card and "| 2 (exported) |" in card
    results = json.loads((out / "results.json").read_text())
    assert results["exported_step"] == 2 and results["probe"]["verdict"] is None
    assert summary["probe"]["beats_vanilla"]


def test_a_run_where_no_probe_beats_vanilla_says_so(tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    scripted(monkeypatch, {0: 0.7, 2: 0.6, 4: 0.7, 6: 0.5})
    out = tmp_path / "none"
    prefinetune(config(tiny_root, out, probe=PROBE, select_checkpoint="probe"))
    assert "no probe beat the base model on tiny_cls" in capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert "no probe beat the base model" in results["probe"]["verdict"]
    assert results["exported_step"] == 4  # the best of the trained checkpoints (gain 0: the earliest of the ties)
    assert "Note: no probe beat" in (out / "export" / "README.md").read_text()


def test_resume_with_probes_is_exact(tiny_root: Path, tmp_path: Path) -> None:
    kw = dict(probe=PROBE, select_checkpoint="probe", save_every=2)
    prefinetune(config(tiny_root, tmp_path / "full", **kw))
    assert prefinetune(config(tiny_root, tmp_path / "part", stop_after=3, **kw))["stopped"]
    assert [r["step"] for r in probe_rows(tmp_path / "part")] == [0, 2]
    prefinetune(config(tiny_root, tmp_path / "part", resume=True, **kw))
    a, b = tiny.export_weights(tmp_path / "full" / "export"), tiny.export_weights(tmp_path / "part" / "export")
    assert all(torch.equal(a[k], b[k]) for k in a)
    full, part = probe_rows(tmp_path / "full"), probe_rows(tmp_path / "part")
    assert [(r["step"], r["probe"]) for r in full] == [(r["step"], r["probe"]) for r in part]
    ra, rb = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("full", "part"))
    assert ra["exported_step"] == rb["exported_step"]
    assert [c["scores"] for c in ra["probe"]["curve"]] == [c["scores"] for c in rb["probe"]["curve"]]


def test_a_user_task_file_is_a_probe_target(tiny_root: Path, tmp_path: Path) -> None:
    files = tiny.write_task_files(tmp_path / "tasks", tiny_root / "data")
    out = tmp_path / "file"
    prefinetune(config(tiny_root, out, downstream=[], probe={**PROBE, "tasks": [files[0]], "method": "finetune"}))
    rows = probe_rows(out)
    assert [r["step"] for r in rows] == [0, 2, 4, 6]
    assert all(set(r["probe"]) == {"file_cls"} and 0 <= r["probe"]["file_cls"] <= 1 for r in rows)


def test_probe_plot_puts_every_metric_in_points_with_the_mean_gain(tiny_root: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An accuracy (0..1) and an F1 (0..100) on one axis only in points; the second panel is
    the gain over the base model whose mean select_checkpoint: probe maximises."""
    probes, _ = setup_probes(tiny_root, tmp_path, ["tiny_cls", "tiny_qa"])
    probes.history = {0: {"tiny_cls": 0.5, "tiny_qa": 4.0}, 10: {"tiny_cls": 0.6, "tiny_qa": 10.0}}
    drawn = {}
    monkeypatch.setattr(probes_module, "curves", lambda path, panels, baselines: drawn.update(
        panels=panels, baselines=baselines))
    probes.plot(tmp_path / "probe.png")
    (_, scores), (_, gains) = drawn["panels"]
    assert scores["tiny_cls"] == [(0, 50.0), (10, pytest.approx(60.0))] and scores["tiny_qa"] == [(0, 4.0), (10, 10.0)]
    assert drawn["baselines"] == {"tiny_cls": 50.0, "tiny_qa": 4.0}
    assert gains["mean"] == [(0, 0.0), (10, pytest.approx(8.0))] == [(0, 0.0), *probes.gains().items()]
