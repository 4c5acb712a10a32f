"""The sampler is a pure function: proportions, determinism, sharding and resumption."""

from __future__ import annotations

import numpy as np
import pytest

from muppet.data.sampler import (
    MixtureSampler,
    length_boundaries,
    plan_update,
    sampling_rates,
    sequential_schedule,
    stream_indices,
    task_key,
)
from muppet.errors import ConfigError

SIZES = [1000, 300, 100, 50]
NAMES = ["a", "b", "c", "d"]


def sampler(batching: str = "heterogeneous", sampling: str = "proportional", shards: int = 1, seed: int = 7, max_steps: int = 100) -> MixtureSampler:
    return MixtureSampler(NAMES, SIZES, sampling_rates(SIZES, sampling, 2.0), seed=seed, examples_per_update=32,
                          num_shards=shards, batching=batching, max_steps=max_steps)


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
        for shard in s.next_update().shards:
            for t, _ in shard:
                counts[t] += 1
    assert counts / counts.sum() == pytest.approx(s.rates, abs=0.02)


def test_heterogeneous_updates_mix_tasks() -> None:
    s = sampler(sampling="uniform")
    assert all(len(s.next_update().tasks) >= 3 for _ in range(50))


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
    again = plan_update(seed=7, step=4, cursors=plans[3].cursors, members=[[np.arange(n)] for n in SIZES],
                        keys=[task_key(n) for n in NAMES], rates=s.rates, examples_per_update=32)
    assert again == plans[4]


def test_shards_partition_the_same_update() -> None:
    one, four = sampler(shards=1), sampler(shards=4)
    for _ in range(5):
        p1, p4 = one.next_update(), four.next_update()
        assert len(p4.shards) == 4 and all(len(s) == 8 for s in p4.shards)
        assert sum(p4.shards, ()) == p1.shards[0]
    with pytest.raises(ConfigError, match="divisible"):
        sampler(shards=5).next_update()


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


LENGTHS = [np.random.default_rng(i).integers(5, 128, size=n) for i, n in enumerate(SIZES)]


def bucketed(shards: int = 2, seed: int = 7, buckets: int = 8) -> MixtureSampler:
    return MixtureSampler(NAMES, SIZES, sampling_rates(SIZES), seed=seed, examples_per_update=32, num_shards=shards,
                          batching="heterogeneous", max_steps=100, lengths=LENGTHS, length_buckets=buckets)


def test_one_bucket_is_plain_heterogeneous_sampling() -> None:
    a, b = sampler(), bucketed(shards=1, buckets=1)
    assert [a.next_update() for _ in range(5)] == [b.next_update() for _ in range(5)]


def test_length_buckets_keep_task_rates_and_make_shards_uniform_in_length() -> None:
    s = bucketed()
    assert 4 <= len(s.edges) <= 7
    counts = np.zeros(4)
    seen = [np.zeros(n) for n in SIZES]
    spread = []
    for _ in range(600):
        for shard in s.next_update().shards:
            lengths = [LENGTHS[t][i] for t, i in shard]
            spread.append(max(lengths) - min(lengths))
            for t, i in shard:
                counts[t] += 1
                seen[t][i] += 1
    assert counts / counts.sum() == pytest.approx(s.rates, abs=0.02)
    # a shard's rows come from one bucket: far narrower than the whole range 5..127
    assert np.mean(spread) < 30
    # within a task every example stays equally likely
    assert seen[3].min() > 0 and seen[3].std() / seen[3].mean() < 0.35


def test_bucketed_sampling_resumes_and_refuses_other_buckets() -> None:
    a = bucketed()
    plans = [a.next_update() for _ in range(6)]
    b = bucketed()
    for _ in range(3):
        b.next_update()
    c = bucketed()
    c.load_state_dict(b.state_dict())
    assert [c.next_update() for _ in range(3)] == plans[3:]
    with pytest.raises(ConfigError, match="other length buckets"):
        bucketed(buckets=4).load_state_dict(b.state_dict())


def test_length_boundaries_weigh_by_sampling_rate() -> None:
    short, long = np.full(1000, 10), np.full(10, 100)
    # by data the short task dominates; at equal rates half the draws are long
    edges = length_boundaries([short, long], np.array([0.5, 0.5]), 2)
    assert edges.tolist() == [10]
    assert length_boundaries([short], np.array([1.0]), 4).size == 0  # one length: one bucket
