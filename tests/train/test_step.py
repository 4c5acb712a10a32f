"""One update: token-budget micro-batches give the unsplit update's loss and gradient."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny
import torch

from muppet.backbone import Backbone
from muppet.data.pipeline import TaskData
from muppet.data.sampler import MixtureSampler, sampling_rates
from muppet.model import MultiTaskModel
from muppet.train.step import Stepper, UpdateResult, make_accelerator

TASKS = ["tiny_cls", "tiny_reg", "tiny_mc", "tiny_qa"]


@pytest.fixture(scope="module")
def tasks(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> list[TaskData]:
    return tiny.prepared_tasks(tiny_root, TASKS, tmp_path_factory.mktemp("cache"))


def one_update(tiny_root: Path, tasks: list[TaskData], max_tokens: int | None, accum: int = 1,
               scaling: str = "log") -> tuple[UpdateResult, dict[str, torch.Tensor]]:
    """Weights after one SGD step at lr 1 from the same start: the difference is the gradient."""
    torch.manual_seed(0)
    accelerator, _ = make_accelerator(True, "fp32", accum, 16)
    model = MultiTaskModel(Backbone.from_pretrained(str(tiny_root / "tiny-bert")), [t.spec for t in tasks], dropout=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    model, optimizer = accelerator.prepare(model, optimizer)
    sampler = MixtureSampler(TASKS, [len(t.train) for t in tasks], sampling_rates([t.train_records for t in tasks]),
                             seed=4, examples_per_update=16, batching="heterogeneous", max_steps=1)
    stepper = Stepper(accelerator, model, optimizer, tasks, 4, accum, scaling, max_grad_norm=0.0, max_tokens=max_tokens)
    result = stepper.update(1, sampler.next_update())
    return result, {k: v.detach().clone() for k, v in accelerator.unwrap_model(model).state_dict().items()}


@pytest.mark.parametrize("accum", [1, 2])
def test_token_budget_micro_batches_match_one_padded_batch(tiny_root: Path, tasks: list[TaskData], accum: int) -> None:
    whole, w_whole = one_update(tiny_root, tasks, None)  # the whole update as one padded batch
    split, w_split = one_update(tiny_root, tasks, 96, accum)
    start = one_update(tiny_root, tasks, None, scaling="none")[1]  # a different objective: another step
    assert split.padded < whole.padded  # the budget really cut the update and removed padding
    assert split.features == whole.features and split.tokens == whole.tokens
    assert split.loss == pytest.approx(whole.loss, rel=1e-5)
    assert {t: v[0] for t, v in split.stats.items()} == {t: v[0] for t, v in whole.stats.items()}
    moved = max(float((w_whole[k] - start[k]).abs().max()) for k in w_whole)
    assert moved > 1e-3  # the two objectives' steps differ: the comparison below can fail
    for k in w_whole:
        torch.testing.assert_close(w_split[k], w_whole[k], rtol=1e-4, atol=1e-6)
