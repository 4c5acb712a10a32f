"""MultiTaskModel: the spectral-norm bake exports the weights the parametrized heads compute with."""

from __future__ import annotations

import tiny
import torch
from torch import nn
from torch.nn.utils import parametrize

from muppet.backbone import Backbone
from muppet.model import MultiTaskModel, remove_head_parametrizations, spectral_normalize_heads
from muppet.tasks.spec import get_task


def _linears(model: MultiTaskModel) -> dict[str, nn.Linear]:
    return {f"{h}.{n}": m for h, head in model.heads.items() for n, m in head.named_modules() if isinstance(m, nn.Linear)}


def test_baking_spectral_norm_keeps_the_weights_and_outputs_the_parametrized_heads_gave_at_evaluation() -> None:
    tiny.register_tiny_tasks()
    torch.manual_seed(0)
    model = MultiTaskModel(Backbone.from_config(tiny.bert_config()), [get_task(n) for n in ("tiny_cls", "tiny_mc")])
    spectral_normalize_heads(model)
    linears = _linears(model)
    assert linears and all(parametrize.is_parametrized(m, "weight") for m in linears.values())
    with torch.no_grad():
        for m in linears.values():  # unnormalised weights far from norm 1, then training-mode power iterations
            m.parametrizations.weight.original.mul_(3.0)
        states = torch.randn(5, model.backbone.hidden_size)
        model.train()
        for _ in range(3):
            [head(states) for head in model.heads.values()]
        model.eval()  # what the last evaluation scored with
        weights = {k: m.weight.clone() for k, m in linears.items()}
        outputs = [head(states) for head in model.heads.values()]
    assert all(torch.linalg.matrix_norm(w, ord=2) < 1.0 + 1e-3 for w in weights.values())  # normalised, not the raw 3x
    model.train()  # as the run leaves the model after its final evaluation, before the export
    remove_head_parametrizations(model)
    after = _linears(model)
    assert not any(parametrize.is_parametrized(m) for m in after.values())
    assert all(type(m.weight) is nn.Parameter and torch.equal(m.weight, weights[k]) for k, m in after.items())
    assert not any("parametrizations" in k for k in model.heads.state_dict())  # plain keys in heads.safetensors
    assert all(head.training for head in model.heads.values())  # the bake leaves the mode as it was
    model.eval()
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(outputs, [head(states) for head in model.heads.values()]))
