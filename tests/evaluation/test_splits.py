from __future__ import annotations

import numpy as np
import pytest

from muppet.errors import ConfigError
from muppet.evaluation.splits import nested_subset, subset_size


def test_subsets_are_nested_and_deterministic() -> None:
    candidates = np.arange(0, 1000, 2)
    subsets = {f: nested_subset(candidates, None, salt=7, seed=1, fraction=f) for f in (0.1, 0.25, 0.5, 1.0)}
    assert [len(s) for s in subsets.values()] == [50, 125, 250, 500]
    assert set(subsets[0.1]) <= set(subsets[0.25]) <= set(subsets[0.5]) <= set(subsets[1.0]) == set(candidates)
    assert np.array_equal(nested_subset(candidates, None, salt=7, seed=1, fraction=0.1), subsets[0.1])
    assert not np.array_equal(nested_subset(candidates, None, salt=7, seed=2, fraction=0.1), subsets[0.1])
    assert not np.array_equal(nested_subset(candidates, None, salt=8, seed=1, fraction=0.1), subsets[0.1])


def test_stratified_subsets_keep_class_proportions() -> None:
    labels = np.array([0] * 700 + [1] * 250 + [2] * 50)
    rng = np.random.default_rng(0)
    labels = labels[rng.permutation(1000)]
    candidates = np.arange(1000)
    previous: set[int] = set()
    for f in (0.02, 0.1, 0.25, 0.5):
        subset = nested_subset(candidates, labels, salt=3, seed=5, fraction=f)
        counts = np.bincount(labels[subset], minlength=3)
        expected = np.array([700, 250, 50]) * f
        assert np.all(np.abs(counts - expected) <= 1), (f, counts, expected)
        assert previous <= set(subset)
        previous = set(subset)


def test_sizes() -> None:
    assert subset_size(10, fraction=0.01) == 1
    assert subset_size(10, examples=50) == 10
    for bad in ({"fraction": 0.0}, {"fraction": 1.5}, {"examples": 0}, {}, {"fraction": 0.5, "examples": 3}):
        with pytest.raises(ConfigError):
            subset_size(10, **bad)
