"""From task specs to featurized training and evaluation sets, read and checked up front.

Three phases, each over every task before the next starts:
1. plan: read (or reuse) each split's records, carve a held-out slice where there is no dev
   split, apply caps; every malformed record of every task is reported together here;
2. leakage: no evaluation text of any task may be a training text of any task in the run
   (with ``leakage_unit: passage``, no training example may read an evaluated passage either);
3. featurize: tokenize the selected records (or reuse cached features).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from muppet.config.sections import LEAKAGE, LEAKAGE_UNITS
from muppet.data.sampler import task_key
from muppet.data.store import FeatureStore, RecordStore, build_features, build_records, tokenizer_fingerprint
from muppet.errors import ConfigError, DataError
from muppet.families import Family, FeatureSettings, get_family
from muppet.families.base import Feature, Record
from muppet.tasks.hub_check import preflight
from muppet.tasks.loading import available_splits, carve_indices, open_split
from muppet.tasks.spec import TaskSpec

log = logging.getLogger(__name__)
# A hook that narrows a task's training examples (e.g. a low-resource fraction): it gets the
# record store and the candidate positions and returns the positions to keep.
TrainSelection = Callable[[RecordStore, np.ndarray], np.ndarray]


@dataclass
class TaskPlan:
    spec: TaskSpec
    head: str
    train_store: RecordStore
    train_idx: np.ndarray
    eval_store: RecordStore
    eval_idx: np.ndarray
    eval_split: str
    skipped: int
    dropped_leaks: int = 0
    filtered: int = 0


@dataclass
class TaskData:
    spec: TaskSpec
    family: Family
    head: str
    train: FeatureStore
    n_train_records: int
    eval_records: list[Record]
    eval_features: list[Feature]
    eval_split: str  # where the evaluation examples come from, for reports
    source: str
    skipped: int  # malformed records skipped (on_bad_record=skip)
    dropped_leaks: int = 0  # training examples dropped because their text (or passage) is evaluated (leakage=drop)
    cached: bool = False  # features read back from the cache
    filtered: int = 0  # source rows the hub filter left out on purpose (e.g. SNLI's unlabeled rows)
    data_key: str | None = None  # the training records' identity (declaration + source files or hub fingerprint)

    @property
    def name(self) -> str:
        return self.spec.name


def subsample(positions: np.ndarray, limit: int | None, salt: int, seed: int = 0) -> np.ndarray:
    """At most ``limit`` of ``positions``, a deterministic random subset kept in order."""
    if limit is None or len(positions) <= limit:
        return positions
    keep = np.sort(np.random.default_rng([seed, salt]).permutation(len(positions))[:limit])
    return positions[keep]


def plan_task(
    spec: TaskSpec,
    head: str,
    *,
    data_dir: str | None,
    source: str = "auto",
    on_bad_record: str = "error",
    heldout_fraction: float = 0.1,
    heldout_max: int = 1000,
    max_train_examples: int | None = None,
    max_eval_examples: int | None = None,
    seed: int = 0,
    hub_loader: Any = None,
    cache_dir: str | None = None,
    train_selection: TrainSelection | None = None,
    eval_split: str = "dev",
) -> TaskPlan:
    splits = available_splits(spec, data_dir, source)
    if "train" not in splits:
        root = spec.local_root(data_dir)
        where = f"no training files under {root}" if root else "no local source (or data_dir is not set)"
        raise DataError(f"task {spec.name!r}: {where}, and no hub source to fall back on")

    def store(split: str) -> RecordStore:
        return build_records(open_split(spec, split, data_dir, source, hub_loader), on_bad_record, cache_dir)

    train = store("train")
    skipped, filtered = len(train.skipped), train.filtered
    train_idx = np.arange(len(train), dtype=np.int64)
    if eval_split != "dev" and eval_split not in splits:
        raise ConfigError(f"task {spec.name!r} has no {eval_split!r} split here (it has {splits})")
    if eval_split in splits and eval_split != "train":
        evals = store(eval_split)
        skipped += len(evals.skipped)
        filtered += evals.filtered
        eval_idx, described = np.arange(len(evals), dtype=np.int64), eval_split
    else:
        evals = train
        train_idx, eval_idx = carve_indices(spec.name, train.hashes("_group"), heldout_fraction, heldout_max)
        described = f"held-out {len(eval_idx)} of train"
    if train_selection is not None:
        train_idx = np.asarray(train_selection(train, train_idx), dtype=np.int64)
    train_idx = subsample(train_idx, max_train_examples, task_key(spec.name), seed)
    if len(train_idx) == 0:
        raise DataError(f"task {spec.name!r}: no training examples in {train.description}")
    # The evaluation subset must not depend on the run's seed: runs stay comparable.
    eval_idx = subsample(eval_idx, max_eval_examples, task_key(spec.name))
    if filtered:
        log.info("task %r: %d source row(s) left out by its hub filter", spec.name, filtered)
    return TaskPlan(spec, head, train, train_idx, evals, eval_idx, described, skipped, filtered=filtered)


@dataclass(frozen=True)
class Evaluated:
    """What identifies a task's evaluated examples: their text hashes, and the hashes of the
    passages they read (none of the 0s of examples without one)."""

    texts: np.ndarray
    passages: np.ndarray

    @classmethod
    def of(cls, store: RecordStore, idx: np.ndarray) -> Evaluated:
        passages = store.hashes("_passage")[idx]
        return cls(store.hashes("_text")[idx], np.unique(passages[passages != 0]))

    @classmethod
    def join(cls, parts: Sequence[Evaluated]) -> Evaluated:
        empty = np.zeros(0, np.uint64)
        return cls(np.concatenate([p.texts for p in parts] or [empty]),
                   np.unique(np.concatenate([p.passages for p in parts] or [empty])))


def _hits(texts: np.ndarray, passages: np.ndarray | None, evaluated: Evaluated) -> tuple[np.ndarray, np.ndarray]:
    """Of training examples with these text and passage hashes (None: unit example), those that
    are evaluated examples, and those that only read an evaluated passage, as two masks."""
    same = np.isin(texts, evaluated.texts)
    if passages is None:
        return same, np.zeros_like(same)
    return same, np.isin(passages, evaluated.passages) & ~same  # evaluated.passages holds no 0


def check_leakage(plans: Sequence[TaskPlan], mode: str = "error",
                  protected: Mapping[str, Evaluated] | None = None, unit: str = "example") -> dict[tuple[str, str], int]:
    """Training examples whose text is an evaluation example in this run, per (train, eval) task;
    with ``unit="passage"`` also those that read a passage an evaluation example reads (a
    QA paragraph shared by two datasets, with other questions on it).

    ``protected`` adds what is evaluated elsewhere (a downstream task's dev and test).
    ``error`` refuses the run with the first offending examples named; ``drop`` removes those
    training examples; ``allow`` only reports them.
    """
    if mode not in LEAKAGE:
        raise ConfigError(f"leakage must be one of {LEAKAGE}, not {mode!r}")
    if unit not in LEAKAGE_UNITS:
        raise ConfigError(f"leakage_unit must be one of {LEAKAGE_UNITS}, not {unit!r}")
    evaluated = {p.spec.name: Evaluated.of(p.eval_store, p.eval_idx) for p in plans}
    for name, hashes in (protected or {}).items():
        evaluated[name if name not in evaluated else f"{name} (downstream)"] = hashes
    # One membership test per task against everything evaluated; per-task tests only on a hit.
    every = Evaluated.join(list(evaluated.values()))
    found: dict[tuple[str, str], int] = {}
    lines: list[str] = []
    for plan in plans:
        texts = plan.train_store.hashes("_text")[plan.train_idx]
        passages = plan.train_store.hashes("_passage")[plan.train_idx] if unit == "passage" else None
        same, shared = _hits(texts, passages, every)
        leaked = same | shared
        if not leaked.any():
            continue
        for other, theirs in evaluated.items():
            same_here, shared_here = _hits(texts, passages, theirs)
            if (hit_here := same_here | shared_here).any():
                found[(plan.spec.name, other)] = int(hit_here.sum())
            for hit, what in ((same_here, "are evaluation examples of {}"),
                              (shared_here, "read a passage that evaluation examples of {} read")):
                if hit.any():
                    where = plan.train_store.locations(plan.train_idx[hit][:3].tolist())
                    lines.append(f"{int(hit.sum())} training example(s) of {plan.spec.name!r} "
                                 f"{what.format(repr(other))} (e.g. {'; '.join(where)})")
        if mode == "drop":
            plan.dropped_leaks = int(leaked.sum())
            plan.train_idx = plan.train_idx[~leaked]
            if len(plan.train_idx) == 0:
                raise DataError(f"task {plan.spec.name!r}: every training example is evaluated somewhere")
    if lines and mode == "error":
        raise DataError(
            "the run would train on examples it evaluates on:\n  " + "\n  ".join(lines)
            + "\nSet leakage=drop to drop those training examples, or leakage=allow to keep them."
        )
    for line in lines:
        log.warning("leakage (%s): %s", mode, line)
    return found


def featurize_plan(
    plan: TaskPlan, tokenizer: Any, settings: FeatureSettings, *, cache_dir: str | None = None,
    num_proc: int = 1, tokenizer_key: str | None = None, train_features: bool = True,
) -> TaskData:
    """The plan's features; ``train_features=False``: evaluation only (no training features)."""
    selected = plan.train_idx if train_features else plan.train_idx[:0]
    train = build_features(plan.train_store, selected, tokenizer, settings, True, cache_dir, num_proc, tokenizer_key)
    evals = build_features(plan.eval_store, plan.eval_idx, tokenizer, settings, False, cache_dir, 1, tokenizer_key)
    return TaskData(
        spec=plan.spec,
        family=get_family(plan.spec.family),
        head=plan.head,
        train=train,
        n_train_records=len(plan.train_idx),
        eval_records=plan.eval_store.records(plan.eval_idx),
        eval_features=evals.all(),
        eval_split=plan.eval_split,
        source=plan.train_store.description,
        skipped=plan.skipped,
        dropped_leaks=plan.dropped_leaks,
        cached=train.cached and evals.cached,
        filtered=plan.filtered,
        data_key=plan.train_store.key,
    )


def downstream_texts(specs: Sequence[TaskSpec], **kwargs: Any) -> dict[str, Evaluated]:
    """What identifies every example a later fine-tune of these tasks evaluates on: the whole dev
    split (or the held-out slice carved as fine-tuning carves it) and a test split, if any."""
    kwargs = {**kwargs, "max_eval_examples": None, "max_train_examples": None, "train_selection": None}
    out: dict[str, Evaluated] = {}
    for spec in specs:
        splits = available_splits(spec, kwargs.get("data_dir"), kwargs.get("source", "auto"))
        parts = []
        for split in ("dev", "test") if "test" in splits else ("dev",):
            plan = plan_task(spec, "", eval_split=split, **kwargs)
            parts.append(Evaluated.of(plan.eval_store, plan.eval_idx))
        out[spec.name] = Evaluated.join(parts)
    return out


def plan_tasks(specs: Sequence[TaskSpec], heads: dict[str, str], progress: bool = True,
               caps: Mapping[str, int] | None = None, **kwargs: Any) -> list[TaskPlan]:
    """Phase 1 for every task; the problems of all tasks are reported together. ``caps``: a
    task's own cap on its training examples, over ``max_train_examples`` (every task's)."""
    # Every hub source is checked on its first rows before any dataset is read in full.
    problems = preflight(specs, kwargs.get("data_dir"), kwargs.get("source", "auto"), kwargs.get("hub_loader"))
    if problems:
        raise DataError("\n".join(problems))
    plans = []
    bar = tqdm(specs, desc="reading", unit="task", disable=not progress)
    for spec in bar:
        bar.set_postfix_str(spec.name)
        try:
            cap = (caps or {}).get(spec.name, kwargs.get("max_train_examples"))
            plans.append(plan_task(spec, heads[spec.name], **{**kwargs, "max_train_examples": cap}))
        except DataError as exc:
            problems.append(str(exc))
    if problems:
        raise DataError("\n".join(problems))
    return plans


def prepare_tasks(
    specs: Sequence[TaskSpec],
    heads: dict[str, str],
    tokenizer: Any,
    settings: FeatureSettings,
    progress: bool = True,
    leakage: str = "error",
    leakage_unit: str = "example",
    num_proc: int = 1,
    protect: Sequence[TaskSpec] = (),
    caps: Mapping[str, int] | None = None,
    **kwargs: Any,
) -> list[TaskData]:
    plans = plan_tasks(specs, heads, progress, caps, **kwargs)
    check_leakage(plans, leakage, downstream_texts(protect, **kwargs), leakage_unit)
    key = tokenizer_fingerprint(tokenizer)
    cache_dir = kwargs.get("cache_dir")
    bar = tqdm(plans, desc="tokenizing", unit="task", disable=not progress)
    out = []
    for plan in bar:
        bar.set_postfix_str(plan.spec.name)
        out.append(featurize_plan(plan, tokenizer, settings, cache_dir=cache_dir, num_proc=num_proc, tokenizer_key=key))
    return out
