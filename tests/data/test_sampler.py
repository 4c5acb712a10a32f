"""The sampler is a pure function: proportions, determinism, sharding and resumption."""

from __future__ import annotations

import numpy as np
import pytest

from muppet.data.sampler import (
    MixtureSampler,
    plan_update,
    sampling_rates,
    sequential_schedule,
    stream_indices,
    task_key,
)
from muppet.errors import ConfigError

SIZES = [1000, 300, 100, 50]
NAMES = ["a", "b", "c", "d"]


def sampler(batching: str = "heterogeneous", sampling: str = "proportional", seed: int = 7, max_steps: int = 100,
            sizes: list[int] = SIZES, batch: int = 32) -> MixtureSampler:
    names = [f"t{i}" for i in range(len(sizes))] if sizes is not SIZES else NAMES
    return MixtureSampler(names, sizes, sampling_rates(sizes, sampling, 2.0), seed=seed, batch_size=batch,
                          batching=batching, max_steps=max_steps)


def test_rates() -> None:
    assert sampling_rates(SIZES, "proportional") == pytest.approx(np.array(SIZES) / sum(SIZES))
    assert sampling_rates(SIZES, "uniform") == pytest.approx([0.25] * 4)
    t = np.sqrt(SIZES)
    assert sampling_rates(SIZES, "temperature", 2.0) == pytest.approx(t / t.sum())
    w = sampling_rates(SIZES, "uniform", weights=[2, 1, 1, 0])
    assert w == pytest.approx([0.5, 0.25, 0.25, 0.0])
    with pytest.raises(ConfigError):
        sampling_rates([10, 0], "proportional")
    with pytest.raises(ConfigError, match="sampling"):
        sampling_rates(SIZES, "natural")


@pytest.mark.parametrize("sampling", ["proportional", "uniform", "temperature"])
def test_empirical_proportions_follow_the_rates(sampling: str) -> None:
    s = sampler(sampling=sampling)
    counts = np.zeros(4)
    for _ in range(400):
        for t, _ in s.next_update().examples:
            counts[t] += 1
    assert counts / counts.sum() == pytest.approx(s.rates, abs=0.02)


def test_heterogeneous_updates_mix_tasks() -> None:
    s = sampler(sampling="uniform")
    assert all(len(s.next_update().tasks) >= 3 for _ in range(50))


@pytest.mark.parametrize("sizes", [[2241, 384, 1062], [2490, 400, 87599]])
def test_small_mixtures_of_unequal_lengths_get_mixed_updates(sizes: list[int]) -> None:
    # rte, copa, squad_v1 (the local sizes, then the full SQuAD), batch 8, as a new user tries:
    # short pairs, short options and long QA windows. Slots draw tasks independently with no
    # length constraint, so P(>= 2 tasks) = 1 - sum_t p_t^8 (length buckets had given 3
    # single-task updates out of 5 on the first mixture).
    s = sampler(sizes=sizes, batch=8)
    expected = 1 - float(np.sum(s.rates**8))
    mixed = np.mean([len(s.next_update().tasks) >= 2 for _ in range(2000)])
    assert mixed >= expected - 0.03, (mixed, expected)


def test_homogeneous_and_sequential_updates_hold_one_task() -> None:
    s = sampler("homogeneous")
    assert all(len(s.next_update().tasks) == 1 for _ in range(50))
    s = sampler("sequential", max_steps=40)
    seen = [s.next_update().tasks.pop() for _ in range(40)]
    assert seen == sorted(seen)  # task after task, in mixture order
    starts = sequential_schedule(s.rates, 40)
    assert [seen.count(t) for t in range(4)] == list(np.diff(np.append(starts, 40)))


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    a, b, c = sampler(seed=1), sampler(seed=1), sampler(seed=2)
    pa = [a.next_update() for _ in range(5)]
    assert pa == [b.next_update() for _ in range(5)]
    assert pa != [c.next_update() for _ in range(5)]


def test_plan_is_pure_and_resumes_from_state() -> None:
    s = sampler()
    plans = [s.next_update() for _ in range(10)]
    r = sampler()
    for _ in range(4):
        r.next_update()
    state = r.state_dict()
    resumed = sampler()
    resumed.load_state_dict(state)
    assert [resumed.next_update() for _ in range(6)] == plans[4:]
    again = plan_update(seed=7, step=4, cursors=plans[3].cursors, sizes=SIZES,
                        keys=[task_key(n) for n in NAMES], rates=s.rates, batch_size=32)
    assert again == plans[4]


def test_every_example_once_per_epoch() -> None:
    idx = stream_indices(3, task_key("x"), 50, 0, 150)
    for epoch in range(3):
        assert sorted(idx[epoch * 50 : (epoch + 1) * 50]) == list(range(50))
    assert idx[:50] != idx[50:100]  # a new order every epoch
    assert stream_indices(3, task_key("x"), 50, 37, 20) == idx[37:57]


def test_resuming_with_another_mixture_is_refused() -> None:
    s = sampler()
    state = s.state_dict()
    state["cursors"] = {"a": [1], "z": [2]}
    with pytest.raises(ConfigError, match="another mixture"):
        s.load_state_dict(state)


def test_resuming_a_length_bucketed_checkpoint_is_refused() -> None:
    s = sampler()
    state = {"step": 3, "cursors": {n: [1, 2] for n in NAMES}, "length_edges": [12, 40]}
    with pytest.raises(ConfigError, match="length buckets"):
        s.load_state_dict(state)
