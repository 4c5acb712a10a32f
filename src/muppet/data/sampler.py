"""Which example comes at which step: a pure function of the seed, the step and the cursors.

Every task is read as endless streams, one per length bucket: epoch ``e`` of task ``t``'s
bucket ``b`` is a permutation of that bucket's examples drawn from ``(seed, key(t), b, e)``,
and a cursor counts how far into its stream a (task, bucket) is. An update draws
``examples_per_update`` slots; which task and bucket fill each slot depend on the batching
mode and are drawn from ``(seed, step)``. The cursors are the only state, so a checkpoint
that stores them resumes exactly, with no replay.

An update is cut into ``num_shards`` equal shards (processes x accumulation micro-batches),
so one process with k micro-batches and k processes with one each see the same examples.

Length-aware heterogeneous batching: with several length buckets, each shard first draws a
bucket b with probability sum_t rate_t * n_tb / n_t, then fills every slot with task t with
probability proportional to rate_t * n_tb / n_t and an example of t from bucket b. A task's
share of the slots stays its rate, and within a task every example stays equally likely,
while a micro-batch holds rows of similar length and little padding. With one bucket this is
plain heterogeneous sampling.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from muppet.errors import ConfigError

SAMPLING = ("proportional", "uniform", "temperature")
BATCHING = ("heterogeneous", "homogeneous", "sequential")

Slot = tuple[int, int]  # (task index, example index)


def task_key(name: str) -> int:
    """A stable integer per task name (seeds its permutations independently of mixture order)."""
    return zlib.crc32(name.encode("utf-8"))


def sampling_rates(
    sizes: Sequence[int],
    sampling: str = "proportional",
    temperature: float = 1.0,
    weights: Sequence[float] | None = None,
) -> np.ndarray:
    """Probability of each task: proportional to its size (the paper's natural sampling),
    uniform, or size^(1/temperature); ``weights`` multiply the result before normalising."""
    n = np.asarray(sizes, dtype=np.float64)
    if len(n) == 0 or np.any(n <= 0):
        raise ConfigError(f"every task needs at least one training example (sizes {list(sizes)})")
    if sampling == "proportional":
        p = n
    elif sampling == "uniform":
        p = np.ones_like(n)
    elif sampling == "temperature":
        if temperature <= 0:
            raise ConfigError(f"temperature must be > 0, not {temperature}")
        p = n ** (1.0 / temperature)
    else:
        raise ConfigError(f"sampling must be one of {SAMPLING}, not {sampling!r}")
    if weights is not None:
        p = p * np.asarray(weights, dtype=np.float64)
    return p / p.sum()


def sequential_schedule(rates: np.ndarray, max_steps: int) -> np.ndarray:
    """First step of each task's block when tasks run one after another (largest remainder)."""
    quota = rates * max_steps
    steps = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - steps), kind="stable")[: max_steps - steps.sum()]:
        steps[i] += 1
    return np.concatenate([[0], np.cumsum(steps)[:-1]])


def length_boundaries(lengths: Sequence[np.ndarray], rates: np.ndarray, buckets: int) -> np.ndarray:
    """Upper edges of ``buckets`` length buckets with about equal sampling mass each.

    A feature of task t weighs rate_t / n_t, so the buckets split what the sampler will draw,
    not what the data holds. Ties collapse: fewer buckets where lengths repeat.
    """
    if buckets <= 1:
        return np.zeros(0, dtype=np.int64)
    values = np.concatenate([np.asarray(x, dtype=np.int64) for x in lengths])
    weights = np.concatenate([np.full(len(x), r / max(len(x), 1)) for x, r in zip(lengths, rates)])
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    cumulative /= cumulative[-1]
    cuts = np.searchsorted(cumulative, np.arange(1, buckets) / buckets)
    edges = np.unique(values[order][np.minimum(cuts, len(values) - 1)])
    return edges[edges < values.max()]


def bucket_members(lengths: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    """Feature indices of each bucket (length <= edge[0], <= edge[1], ..., the rest)."""
    which = np.searchsorted(edges, np.asarray(lengths), side="left")
    return [np.flatnonzero(which == b) for b in range(len(edges) + 1)]


@lru_cache(maxsize=1024)
def _permutation(seed: int, key: int, epoch: int, size: int) -> np.ndarray:
    return np.random.default_rng([seed, key, epoch]).permutation(size)


def stream_indices(seed: int, key: int, size: int, start: int, count: int) -> list[int]:
    """Positions ``start .. start+count-1`` of an endless shuffled stream over ``range(size)``."""
    out: list[int] = []
    pos = start
    while len(out) < count:
        epoch, offset = divmod(pos, size)
        take = min(count - len(out), size - offset)
        out.extend(_permutation(seed, key, epoch, size)[offset : offset + take].tolist())
        pos += take
    return out


def _stream_key(task: int, bucket: int) -> int:
    # bucket 0 keeps the task's own key: one bucket reproduces the unbucketed streams
    return task if bucket == 0 else zlib.crc32(f"{task}/{bucket}".encode())


@dataclass(frozen=True)
class UpdatePlan:
    shards: tuple[tuple[Slot, ...], ...]
    cursors: tuple[tuple[int, ...], ...]  # per task, per bucket, after this update

    @property
    def tasks(self) -> set[int]:
        return {t for shard in self.shards for t, _ in shard}


def plan_update(
    *,
    seed: int,
    step: int,
    cursors: Sequence[Sequence[int]],
    members: Sequence[Sequence[np.ndarray]],
    keys: Sequence[int],
    rates: np.ndarray,
    examples_per_update: int,
    num_shards: int = 1,
    batching: str = "heterogeneous",
    max_steps: int = 1,
) -> UpdatePlan:
    """The examples of update ``step`` and the cursors after it (pure; no hidden state).

    ``members[t][b]`` are the example indices of task t in length bucket b (one bucket:
    every example).
    """
    if examples_per_update % num_shards:
        raise ConfigError(
            f"batch_size {examples_per_update} must be divisible by processes x grad_accum_steps ({num_shards})"
        )
    rng = np.random.default_rng([seed, step, 0x5EED])
    num_tasks, num_buckets = len(members), len(members[0])
    per_shard = examples_per_update // num_shards
    sizes = np.array([[len(m) for m in task] for task in members], dtype=np.float64)  # (tasks, buckets)
    within = sizes / sizes.sum(axis=1, keepdims=True)  # P(bucket | task)
    if batching == "heterogeneous":
        if num_buckets == 1:
            tasks = rng.choice(num_tasks, size=examples_per_update, p=rates)
            buckets = np.zeros(examples_per_update, dtype=np.int64)
        else:
            joint = rates[:, None] * within  # P(task, bucket)
            shard_buckets = rng.choice(num_buckets, size=num_shards, p=joint.sum(axis=0))
            tasks = np.concatenate([
                rng.choice(num_tasks, size=per_shard, p=joint[:, b] / joint[:, b].sum()) for b in shard_buckets
            ])
            buckets = np.repeat(shard_buckets, per_shard)
    elif batching in ("homogeneous", "sequential"):
        if batching == "homogeneous":
            task = int(rng.choice(num_tasks, p=rates))
        else:
            task = int(np.searchsorted(sequential_schedule(rates, max_steps), step, side="right") - 1)
        tasks = np.full(examples_per_update, task)
        buckets = np.repeat(rng.choice(num_buckets, size=num_shards, p=within[task]), per_shard)
    else:
        raise ConfigError(f"batching must be one of {BATCHING}, not {batching!r}")
    new_cursors = [list(c) for c in cursors]
    drawn: dict[tuple[int, int], Any] = {}
    for t, b in sorted(set(zip(tasks.tolist(), buckets.tolist()))):
        count = int(np.sum((tasks == t) & (buckets == b)))
        positions = stream_indices(seed, _stream_key(keys[t], b), len(members[t][b]), cursors[t][b], count)
        drawn[(t, b)] = iter(members[t][b][positions].tolist())
        new_cursors[t][b] += count
    filled = [(t, next(drawn[(t, b)])) for t, b in zip(tasks.tolist(), buckets.tolist())]
    shards = tuple(tuple(filled[i * per_shard : (i + 1) * per_shard]) for i in range(num_shards))
    return UpdatePlan(shards, tuple(tuple(c) for c in new_cursors))


class MixtureSampler:
    """Holds the cursors and step between updates; checkpointed through state_dict()."""

    def __init__(
        self,
        names: Sequence[str],
        sizes: Sequence[int],
        rates: np.ndarray,
        *,
        seed: int,
        examples_per_update: int,
        num_shards: int,
        batching: str,
        max_steps: int,
        lengths: Sequence[np.ndarray] | None = None,
        length_buckets: int = 1,
    ) -> None:
        self.names = list(names)
        self.keys = [task_key(n) for n in names]
        self.rates = rates
        self.seed = seed
        self.examples_per_update = examples_per_update
        self.num_shards = num_shards
        self.batching = batching
        self.max_steps = max_steps
        if lengths is not None and length_buckets > 1:
            self.edges = length_boundaries(lengths, rates, length_buckets)
            members = [bucket_members(x, self.edges) for x in lengths]
        else:
            self.edges = np.zeros(0, dtype=np.int64)
            members = [[np.arange(n)] for n in sizes]
        # A task with no example in a bucket is simply never drawn there (P(b | t) = 0).
        self.members = members
        self.step = 0
        self.cursors: tuple[tuple[int, ...], ...] = tuple(tuple(0 for _ in m) for m in members)

    def next_update(self) -> UpdatePlan:
        plan = plan_update(
            seed=self.seed,
            step=self.step,
            cursors=self.cursors,
            members=self.members,
            keys=self.keys,
            rates=self.rates,
            examples_per_update=self.examples_per_update,
            num_shards=self.num_shards,
            batching=self.batching,
            max_steps=self.max_steps,
        )
        self.step += 1
        self.cursors = plan.cursors
        return plan

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "cursors": {n: list(c) for n, c in zip(self.names, self.cursors)},
            "length_edges": self.edges.tolist(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        cursors = state["cursors"]
        if set(cursors) != set(self.names):
            raise ConfigError(
                "the checkpoint was written for another mixture "
                f"(tasks {sorted(cursors)} vs {sorted(self.names)}); resume with the same tasks"
            )
        if list(state.get("length_edges", [])) != self.edges.tolist():
            raise ConfigError("the checkpoint was written with other length buckets; resume with the same data and settings")
        self.step = int(state["step"])
        self.cursors = tuple(tuple(int(c) for c in cursors[n]) for n in self.names)
