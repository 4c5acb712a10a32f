"""The gradient-conflict monitor: per-task backbone gradient norms and their cosine with the
update's mean gradient, against a direct computation (the trajectory test is in test_probes)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny
import torch

from muppet.backbone import Backbone
from muppet.data.pipeline import TaskData
from muppet.data.sampler import MixtureSampler, sampling_rates
from muppet.model import MultiTaskModel
from muppet.train.objective import mixed_loss
from muppet.train.step import build_batch
from muppet.transfer.monitor import GradientMonitor

TASKS = ["tiny_cls", "tiny_reg", "tiny_mc", "tiny_qa"]


@pytest.fixture(scope="module")
def tasks(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> list[TaskData]:
    return tiny.prepared_tasks(tiny_root, TASKS, tmp_path_factory.mktemp("cache"))


def flat_grad(model: MultiTaskModel, loss: torch.Tensor) -> torch.Tensor:
    model.zero_grad(set_to_none=True)
    loss.backward()
    return torch.cat([p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel())
                      for p in model.backbone.parameters()])


def test_norms_and_cosines_equal_a_direct_computation(tiny_root: Path, tasks: list[TaskData], tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MultiTaskModel(Backbone.from_pretrained(str(tiny_root / "tiny-bert")), [t.spec for t in tasks])
    sampler = MixtureSampler(TASKS, [len(t.train) for t in tasks], sampling_rates([t.n_train_records for t in tasks]),
                             seed=4, batch_size=16, batching="heterogeneous", max_steps=1)
    plan = sampler.next_update()
    model.train()
    row = GradientMonitor(1, tasks, "log", 1, tmp_path).run(1, plan, model)
    assert model.training and all(p.grad is None for p in model.parameters())  # nothing left behind
    assert (tmp_path / "gradients.png").is_file()

    model.eval()  # the monitor measures with dropout off
    # the update's gradient: one backward of the mean loss over all its examples together
    whole = build_batch(plan.examples, tasks, model.backbone)
    mean = flat_grad(model, mixed_loss(whole, model(whole), "log")[0])
    seen = {}
    for t in {t for t, _ in plan.examples}:
        batch = build_batch([s for s in plan.examples if s[0] == t], tasks, model.backbone)
        seen[tasks[t].name] = flat_grad(model, mixed_loss(batch, model(batch), "log")[0])
    assert set(row["gradients"]) == set(seen) and len(seen) >= 2
    for name, g in seen.items():
        got = row["gradients"][name]
        assert got["norm"] == pytest.approx(float(g.norm()), rel=1e-4)
        assert got["cosine"] == pytest.approx(float(torch.nn.functional.cosine_similarity(g, mean, dim=0)), abs=1e-4)
    assert sum(v["n"] for v in row["gradients"].values()) == len(plan.examples)
