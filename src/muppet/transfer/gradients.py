"""Per-task gradients on the shared backbone: what task affinity (``muppet affinity``) and the
gradient-conflict monitor of pre-finetuning both measure.

``torch.autograd.grad`` computes them without touching any parameter's ``.grad`` (nor the
autograd hooks DDP registers there), so measuring inside a training run leaves its next
update exactly as it was.
"""

from __future__ import annotations

from typing import Any

import torch

from muppet.train.objective import mixed_loss


def backbone_gradient(model: Any, batch: Any, loss_scaling: str = "log") -> tuple[torch.Tensor, float]:
    """The backbone gradient of the batch's mean (scaled) loss, flattened, and the loss."""
    params = list(model.backbone.parameters())
    loss = mixed_loss(batch, model(batch), loss_scaling)[0]
    wanted = [p for p in params if p.requires_grad]
    grads = iter(torch.autograd.grad(loss, wanted, allow_unused=True))
    flat = []
    for p in params:
        g = next(grads) if p.requires_grad else None
        flat.append(g.reshape(-1) if g is not None else torch.zeros(p.numel(), device=p.device))
    return torch.cat(flat), float(loss.detach())


EPS = 1e-8  # as torch's cosine_similarity: a zero gradient has cosine 0 with everything


def unit(a: torch.Tensor) -> torch.Tensor:
    return a / a.norm().clamp_min(EPS)


def cosine_of(dot: float, norm_a: float, norm_b: float) -> float:
    """The cosine from a dot product and the two norms, for callers that reuse the dot product."""
    return dot / max(norm_a * norm_b, EPS)


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    # torch's cosine_similarity takes 0.27 s on a 22.7M-coordinate gradient, five times a dot
    # product and two norms: it was a quarter of an affinity measurement
    return cosine_of(float(torch.dot(a, b)), float(a.norm()), float(b.norm()))
