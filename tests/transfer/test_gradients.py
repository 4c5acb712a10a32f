"""transfer.gradients: the cosine that affinity and the gradient monitor share."""

from __future__ import annotations

import pytest
import torch

from muppet.transfer.gradients import cosine, unit


def test_cosine_equals_torchs_and_is_zero_for_a_zero_gradient() -> None:
    a, b = torch.randn(2, 10_000, generator=torch.Generator().manual_seed(0))
    assert cosine(a, b) == pytest.approx(float(torch.nn.functional.cosine_similarity(a, b, dim=0)), abs=1e-6)
    assert cosine(a, 3 * a) == pytest.approx(1.0) and cosine(a, -a) == pytest.approx(-1.0)
    zero = torch.zeros(10_000)
    assert cosine(zero, a) == 0.0 == float(torch.nn.functional.cosine_similarity(zero, a, dim=0))
    assert float(unit(a).norm()) == pytest.approx(1.0) and torch.equal(unit(zero), zero)
