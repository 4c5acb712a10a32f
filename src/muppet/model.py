"""MultiTaskModel: one backbone, heads by key, one backbone pass per mixed micro-batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from muppet.backbone import Backbone
from muppet.data.batching import MixedBatch
from muppet.errors import ConfigError
from muppet.families import get_family
from muppet.families.base import RowView

if TYPE_CHECKING:
    from muppet.tasks.spec import TaskSpec


def _module_name(key: str) -> str:
    # nn.Module names cannot contain '.', and '/' reads badly in state dicts: cls/rte -> cls__rte
    return key.replace("/", "__")


class MultiTaskModel(nn.Module):
    def __init__(self, backbone: Backbone, specs: Sequence[TaskSpec], dropout: float = 0.1) -> None:
        super().__init__()
        self.backbone = backbone
        # FSDP's transformer-based wrapping looks for the layer classes here (accelerate).
        self._no_split_modules = getattr(backbone.model, "_no_split_modules", None)
        self.heads = nn.ModuleDict()
        self.head_keys: dict[str, str] = {}  # task -> head key
        self.head_info: dict[str, dict[str, object]] = {}
        for spec in specs:
            self.add_task(spec, dropout)

    def add_task(self, spec: TaskSpec, dropout: float = 0.1) -> str:
        family = get_family(spec.family)
        if family.needs_decoder and not self.backbone.is_encoder_decoder:
            raise ConfigError(
                f"task {spec.name!r} ({spec.family}) needs an encoder-decoder backbone (BART, T5, ...); "
                f"{type(self.backbone.model).__name__} is encoder-only"
            )
        key = family.head_key(spec)
        self.head_keys[spec.name] = key
        if key not in self.head_info:
            head = family.build_head(spec, self.backbone.hidden_size, dropout)
            if head is not None:
                self.heads[_module_name(key)] = head
            self.head_info[key] = {"family": spec.family, "class": type(head).__name__ if head else "lm_head"}
        return key

    def head(self, key: str) -> nn.Module | None:
        name = _module_name(key)
        return self.heads[name] if name in self.heads else None

    def forward(self, batch: MixedBatch, noise: Callable[[torch.Tensor], torch.Tensor] | None = None) -> list[torch.Tensor]:
        """Logits for each segment of the batch, in segment order (``noise``: see Backbone)."""
        return self.apply_heads(batch, self.states(batch, noise))

    def states(self, batch: MixedBatch, noise: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """The backbone's states of every row of the batch."""
        return self.backbone(batch.input_ids, batch.attention_mask, batch.token_type_ids, batch.decoder_input_ids,
                             batch.decoder_attention_mask, noise)

    def apply_heads(self, batch: MixedBatch, states: torch.Tensor) -> list[torch.Tensor]:
        """Logits for each segment from the backbone's ``states`` of the batch (transfer probes
        train a head on states computed once)."""
        outputs = []
        for seg in batch.segments:
            view = RowView(states[seg.rows], batch.input_ids[seg.rows], batch.attention_mask[seg.rows], self.backbone)
            outputs.append(get_family(seg.family).forward(self.head(seg.head), view, seg.targets))
        return outputs


def spectral_normalize_heads(model: MultiTaskModel) -> None:
    """R4F: spectral normalisation of every linear layer of the heads."""
    from torch.nn.utils.parametrizations import spectral_norm

    for head in model.heads.values():
        for module in list(head.modules()):
            if isinstance(module, nn.Linear):
                spectral_norm(module)


def remove_head_parametrizations(model: MultiTaskModel) -> None:
    """Bake parametrized weights (spectral norm) into plain ones, e.g. before an export: the
    weights evaluation computes with. Spectral norm runs a power iteration on every weight read
    in training mode, so a bake in training mode (where a run is after its final evaluation)
    would export weights one iteration past the ones that were scored."""
    from torch.nn.utils import parametrize

    for head in model.heads.values():
        training = head.training
        head.eval()
        for module in head.modules():
            if parametrize.is_parametrized(module):
                for name in list(module.parametrizations):
                    parametrize.remove_parametrizations(module, name)
        head.train(training)
