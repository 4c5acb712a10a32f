"""Which example comes at which step: a pure function of the seed, the step and the cursors.

Every task is read as an endless stream: epoch ``e`` of task ``t`` is a permutation of its
examples drawn from ``(seed, key(t), e)``, and a cursor counts how far into its stream a task
is. An update draws ``batch_size`` slots; which task fills each slot depends on the
batching mode and is drawn from ``(seed, step)``: heterogeneous updates draw every slot's
task independently from the mixture, with no length constraint (the paper's heterogeneous
update). The cursors are the only state, so a checkpoint that stores them resumes exactly,
with no replay.

The sampler decides *which* examples an update holds; how they are cut into shards and
micro-batches (by length, under a token budget) is ``muppet.data.batching.arrange``'s job.
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


@dataclass(frozen=True)
class UpdatePlan:
    examples: tuple[Slot, ...]  # the update's examples in draw order (all processes together)
    cursors: tuple[int, ...]  # per task, after this update

    @property
    def tasks(self) -> set[int]:
        return {t for t, _ in self.examples}


def plan_update(
    *,
    seed: int,
    step: int,
    cursors: Sequence[int],
    sizes: Sequence[int],
    keys: Sequence[int],
    rates: np.ndarray,
    batch_size: int,
    batching: str = "heterogeneous",
    max_steps: int = 1,
) -> UpdatePlan:
    """The examples of update ``step`` and the cursors after it (pure; no hidden state)."""
    rng = np.random.default_rng([seed, step, 0x5EED])
    if batching == "heterogeneous":
        tasks = rng.choice(len(sizes), size=batch_size, p=rates)
    elif batching == "homogeneous":
        tasks = np.full(batch_size, int(rng.choice(len(sizes), p=rates)))
    elif batching == "sequential":
        tasks = np.full(batch_size, int(np.searchsorted(sequential_schedule(rates, max_steps), step, side="right") - 1))
    else:
        raise ConfigError(f"batching must be one of {BATCHING}, not {batching!r}")
    new_cursors = list(cursors)
    drawn: dict[int, Any] = {}
    for t in sorted(set(tasks.tolist())):
        count = int(np.sum(tasks == t))
        drawn[t] = iter(stream_indices(seed, keys[t], sizes[t], cursors[t], count))
        new_cursors[t] += count
    return UpdatePlan(tuple((t, next(drawn[t])) for t in tasks.tolist()), tuple(new_cursors))


class MixtureSampler:
    """Holds the cursors and step between updates; checkpointed through state_dict()."""

    def __init__(
        self,
        names: Sequence[str],
        sizes: Sequence[int],
        rates: np.ndarray,
        *,
        seed: int,
        batch_size: int,
        batching: str,
        max_steps: int,
    ) -> None:
        self.names = list(names)
        self.keys = [task_key(n) for n in names]
        self.sizes = list(sizes)
        self.rates = rates
        self.seed = seed
        self.batch_size = batch_size
        self.batching = batching
        self.max_steps = max_steps
        self.step = 0
        self.cursors: tuple[int, ...] = tuple(0 for _ in names)

    def next_update(self) -> UpdatePlan:
        plan = plan_update(
            seed=self.seed,
            step=self.step,
            cursors=self.cursors,
            sizes=self.sizes,
            keys=self.keys,
            rates=self.rates,
            batch_size=self.batch_size,
            batching=self.batching,
            max_steps=self.max_steps,
        )
        self.step += 1
        self.cursors = plan.cursors
        return plan

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "cursors": dict(zip(self.names, self.cursors))}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        cursors = state["cursors"]
        if set(cursors) != set(self.names):
            raise ConfigError(
                "the checkpoint was written for another mixture "
                f"(tasks {sorted(cursors)} vs {sorted(self.names)}); resume with the same tasks"
            )
        if len(state.get("length_edges") or []) or any(isinstance(c, list) for c in cursors.values()):
            raise ConfigError("the checkpoint was written with length buckets (removed: updates now draw tasks slot "
                              "by slot, see max_tokens); it cannot resume exactly, start the run afresh")
        self.step = int(state["step"])
        self.cursors = tuple(int(cursors[n]) for n in self.names)
