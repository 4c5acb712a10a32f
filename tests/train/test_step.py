"""One update: token-budget micro-batches give the unsplit update's loss and gradient."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny
import torch

from muppet.backbone import Backbone
from muppet.data.pipeline import TaskData
from muppet.data.sampler import MixtureSampler, sampling_rates
from muppet.families import get_family
from muppet.model import MultiTaskModel
from muppet.train.step import Stepper, UpdateResult, build_batch, make_accelerator

TASKS = ["tiny_cls", "tiny_reg", "tiny_mc", "tiny_qa"]


@pytest.fixture(scope="module")
def tasks(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> list[TaskData]:
    return tiny.prepared_tasks(tiny_root, TASKS, tmp_path_factory.mktemp("cache"))


def one_update(tiny_root: Path, tasks: list[TaskData], max_tokens: int | None, accum: int = 1,
               scaling: str = "log", pad: int = 1) -> tuple[UpdateResult, dict[str, torch.Tensor]]:
    """Weights after one SGD step at lr 1 from the same start: the difference is the gradient."""
    torch.manual_seed(0)
    accelerator, _ = make_accelerator(True, "fp32", accum, 16)
    model = MultiTaskModel(Backbone.from_pretrained(str(tiny_root / "tiny-bert")), [t.spec for t in tasks], dropout=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    model, optimizer = accelerator.prepare(model, optimizer)
    sampler = MixtureSampler(TASKS, [len(t.train) for t in tasks], sampling_rates([t.n_train_records for t in tasks]),
                             seed=4, batch_size=16, batching="heterogeneous", max_steps=1)
    stepper = Stepper(accelerator, model, optimizer, tasks, 4, accum, scaling, max_grad_norm=0.0, max_tokens=max_tokens,
                      pad_to_multiple_of=pad)
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


def test_padding_to_a_multiple_pads_every_collated_batch_and_changes_no_loss_or_gradient(
    tiny_root: Path, tasks: list[TaskData]
) -> None:
    backbone = Backbone.from_pretrained(str(tiny_root / "tiny-bert"))
    slots = [(t, i) for t in range(len(tasks)) for i in range(3)]  # 7: a width the rows (<= 48) never have
    plain, padded = build_batch(slots, tasks, backbone, 1), build_batch(slots, tasks, backbone, 7)
    assert padded.input_ids.shape[1] % 7 == 0 and padded.input_ids.shape[1] > plain.input_ids.shape[1]
    assert padded.attention_mask.sum() == plain.attention_mask.sum()  # only padding was added
    (base, w_base), (wide, w_wide) = one_update(tiny_root, tasks, 96), one_update(tiny_root, tasks, 96, pad=7)
    assert wide.padded > base.padded and wide.padded % 7 == 0  # every micro-batch was padded to the multiple
    assert wide.tokens == base.tokens and wide.loss == pytest.approx(base.loss, rel=1e-5)
    for k in w_base:
        torch.testing.assert_close(w_wide[k], w_base[k], rtol=1e-4, atol=1e-6)


def test_an_update_with_a_non_finite_loss_changes_no_weight_and_no_optimizer_state(
    tiny_root: Path, tasks: list[TaskData], monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    accelerator, _ = make_accelerator(True, "fp32", 1, 16)
    model = MultiTaskModel(Backbone.from_pretrained(str(tiny_root / "tiny-bert")), [t.spec for t in tasks], dropout=0.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model, optimizer = accelerator.prepare(model, optimizer)
    sampler = MixtureSampler(TASKS, [len(t.train) for t in tasks], sampling_rates([t.n_train_records for t in tasks]),
                             seed=4, batch_size=16, batching="heterogeneous", max_steps=9)
    stepper = Stepper(accelerator, model, optimizer, tasks, 4, 1, "log", max_grad_norm=1.0, max_tokens=96)
    start = {k: v.detach().clone() for k, v in accelerator.unwrap_model(model).state_dict().items()}
    family = get_family("regression")  # tiny_reg's
    finite = family.loss
    monkeypatch.setattr(family, "loss", lambda logits, targets: finite(logits, targets) * float("nan"))
    plan = sampler.next_update()
    while "tiny_reg" not in {TASKS[t] for t in plan.tasks}:  # the first update that draws it
        plan = sampler.next_update()
    assert len(plan.tasks) > 1
    skipped = stepper.update(sampler.step, plan)
    assert skipped.bad == {"tiny_reg"}  # the other tasks' finite losses do not rescue the update
    after = accelerator.unwrap_model(model).state_dict()
    assert all(torch.equal(after[k], start[k]) for k in start)
    assert not optimizer.state_dict()["state"]  # AdamW never stepped: no moments, no step count
    assert all(p.grad is None for p in model.parameters())  # nothing left over for the next update
    monkeypatch.setattr(family, "loss", finite)
    applied = stepper.update(sampler.step + 1, sampler.next_update())
    assert not applied.bad and any(not torch.equal(after[k], start[k]) for k in start)
