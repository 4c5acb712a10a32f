"""From task specs to featurized training and evaluation sets, read and checked up front."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from muppet.data.sampler import task_key
from muppet.errors import DataError
from muppet.families import Family, FeatureSettings, get_family
from muppet.families.base import Feature, Record
from muppet.tasks.loading import available_splits, carve_heldout, read_split
from muppet.tasks.spec import TaskSpec


@dataclass
class TaskData:
    spec: TaskSpec
    family: Family
    head: str
    train: list[Feature]
    train_records: int
    eval_records: list[Record]
    eval_features: list[Feature]
    eval_split: str  # where the evaluation examples come from, for reports
    source: str
    skipped: int  # malformed records skipped (on_bad_record=skip)

    @property
    def name(self) -> str:
        return self.spec.name


def subsample(records: list[Record], limit: int | None, salt: int, seed: int = 0) -> list[Record]:
    """At most ``limit`` records, a deterministic random subset kept in file order."""
    if limit is None or len(records) <= limit:
        return records
    keep = np.sort(np.random.default_rng([seed, salt]).permutation(len(records))[:limit])
    return [records[i] for i in keep]


def prepare_task(
    spec: TaskSpec,
    head: str,
    tokenizer: Any,
    settings: FeatureSettings,
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
) -> TaskData:
    family = get_family(spec.family)
    splits = available_splits(spec, data_dir, source)
    if "train" not in splits:
        where = f"under {data_dir}/{spec.directory}" if data_dir else "(data_dir is not set)"
        raise DataError(f"task {spec.name!r}: no training split {where}, and no hub source to fall back on")
    train = read_split(spec, "train", data_dir, source, on_bad_record, hub_loader)
    skipped = len(train.skipped)
    if "dev" in splits:
        dev = read_split(spec, "dev", data_dir, source, on_bad_record, hub_loader)
        skipped += len(dev.skipped)
        train_records, eval_records, eval_split = train.records, dev.records, "dev"
    else:
        train_records, eval_records = carve_heldout(spec.name, train.records, heldout_fraction, heldout_max)
        eval_split = f"held-out {len(eval_records)} of train"
    if not train_records:
        raise DataError(f"task {spec.name!r}: no training examples in {train.source}")
    train_records = subsample(train_records, max_train_examples, task_key(spec.name), seed)
    # The evaluation subset must not depend on the run's seed: runs stay comparable.
    eval_records = subsample(eval_records, max_eval_examples, task_key(spec.name))
    return TaskData(
        spec=spec,
        family=family,
        head=head,
        train=family.featurize(train_records, spec, tokenizer, settings, train=True),
        train_records=len(train_records),
        eval_records=eval_records,
        eval_features=family.featurize(eval_records, spec, tokenizer, settings, train=False),
        eval_split=eval_split,
        source=train.source,
        skipped=skipped,
    )


def prepare_tasks(
    specs: Sequence[TaskSpec], heads: dict[str, str], tokenizer: Any, settings: FeatureSettings,
    progress: bool = True, **kwargs: Any
) -> list[TaskData]:
    """Every task read and featurized; the problems of all tasks are reported together."""
    out = []
    problems: list[str] = []
    bar = tqdm(specs, desc="reading and tokenizing", unit="task", disable=not progress)
    for spec in bar:
        bar.set_postfix_str(spec.name)
        try:
            out.append(prepare_task(spec, heads[spec.name], tokenizer, settings, **kwargs))
        except DataError as exc:
            problems.append(str(exc))
    if problems:
        raise DataError("\n".join(problems))
    return out
