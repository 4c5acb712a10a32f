"""Low-resource training subsets: deterministic per (task, seed), nested across fractions, and
stratified by class for classification tasks.

Every candidate gets a position in one fixed order per (task, seed); a subset is a prefix
of that order, so the 10% subset lies inside the 25% subset for the same seed. For
classification the order interleaves the classes systematically (the j-th example of class
c, in a random order within the class, sits at (j + u_c) / n_c with a random offset u_c),
so every prefix keeps the class proportions to within one example per class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from muppet.errors import ConfigError


def subset_size(total: int, fraction: float | None = None, examples: int | None = None) -> int:
    if (fraction is None) == (examples is None):
        raise ConfigError("give exactly one of train_fraction and train_examples")
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ConfigError(f"train_fraction must be in (0, 1], got {fraction}")
        return max(1, min(total, round(fraction * total)))
    assert examples is not None
    if examples < 1:
        raise ConfigError(f"train_examples must be >= 1, got {examples}")
    return min(total, examples)


def nested_order(n: int, labels: np.ndarray | None, salt: int, seed: int) -> np.ndarray:
    """A permutation of range(n); prefixes are the nested (stratified) subsets."""
    rng = np.random.default_rng([seed, salt, 0xF4AC])
    if labels is None:
        return rng.permutation(n)
    labels = np.asarray(labels)
    keys = np.empty(n, dtype=np.float64)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        order = rng.permutation(len(members))
        keys[members[order]] = (np.arange(len(members)) + rng.random()) / len(members)
    # ties (same key in two classes) break by a random tiebreak, not by class order
    return np.lexsort((rng.random(n), keys))


def nested_subset(
    candidates: np.ndarray,
    labels: np.ndarray | None,
    *,
    salt: int,
    seed: int,
    fraction: float | None = None,
    examples: int | None = None,
) -> np.ndarray:
    """The positions (from ``candidates``, kept in ascending order) of the training subset."""
    candidates = np.asarray(candidates, dtype=np.int64)
    k = subset_size(len(candidates), fraction, examples)
    order = nested_order(len(candidates), None if labels is None else np.asarray(labels)[candidates], salt, seed)
    return np.sort(candidates[order[:k]])


def task_subset(store: Any, candidates: np.ndarray, name: str, seed: int, *, fraction: float | None = None,
                examples: int | None = None, salt: int = 0) -> np.ndarray:
    """The nested subset of task ``name``'s training ``candidates`` in a RecordStore, stratified by
    its family's ``stratify_column``: what fine-tuning trains on (and transfer probes)."""
    from muppet.data.sampler import task_key

    return nested_subset(candidates, store.labels(), salt=task_key(name) ^ salt, seed=seed, fraction=fraction,
                         examples=examples)
