"""Named mixtures: a list of tasks, optional per-task weights, first-class and registered."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from muppet.config.base import read_yaml_mapping
from muppet.config.sections import TaskEntry, entry_name
from muppet.errors import ConfigError
from muppet.families import family_names
from muppet.registry import Registry, nearest, unknown
from muppet.tasks.spec import TASKS, TaskSpec, all_tasks, register_catalog
from muppet.tasks.user import is_file_task, is_task_file, register_task_file


@dataclass(frozen=True)
class Mixture:
    name: str
    description: str
    # The member tasks; a callable is evaluated against the data directory (e.g. "every task
    # readable here").
    tasks: Sequence[str] | Callable[[str | None], Sequence[str]]
    weights: Mapping[str, float] = field(default_factory=dict)  # multiply the sampling rates

    def resolve(self, data_dir: str | None) -> list[str]:
        names = list(self.tasks(data_dir) if callable(self.tasks) else self.tasks)
        if not names and data_dir is None:
            raise ConfigError(f"mixture {self.name!r} reads the tasks under data_dir, which is not set: pass "
                              "data_dir=PATH or set MUPPET_DATA_DIR to the folder holding one sub-folder per task")
        if not names:
            raise ConfigError(f"mixture {self.name!r} has no tasks here (data_dir={data_dir!r})")
        return names


def _local(data_dir: str | None) -> list[str]:
    """Built-in tasks whose training files are here (task files are named explicitly instead)."""
    return [s.name for s in all_tasks() if not is_file_task(s.name) and "train" in s.local_splits(data_dir)]


def _family(family: str) -> Callable[[str | None], list[str]]:
    def tasks(data_dir: str | None) -> list[str]:
        return [n for n in _local(data_dir) if TASKS[n].family == family]

    return tasks


def _register_builtin() -> None:
    MIXTURES.register("local", Mixture("local", "every task whose training files are under data_dir", _local))
    for family in family_names():
        MIXTURES.register(f"local_{family}", Mixture(f"local_{family}", f"every local {family} task", _family(family)))
    register_catalog()  # the catalogue's named mixtures


MIXTURES: Registry[Mixture] = Registry("mixture", builtins=_register_builtin)


MIXTURE_KEYS = ("mixture", "description", "tasks", "weights")


def mixture_file(path: str | os.PathLike[str]) -> Mixture | None:
    """The mixture a YAML file declares, as ``muppet affinity`` writes them: ``mixture`` (name),
    ``tasks`` (names or task files, relative to the file's folder), optional ``weights`` (task ->
    rate multiplier) and ``description``. None for a file without ``mixture:`` (a task file)."""
    p = Path(path)
    if not p.is_file():
        return None  # a task file that does not exist: its own loader says so
    data = read_yaml_mapping(p, "mixture file")
    if "mixture" not in data:
        return None
    for key in data:
        if key not in MIXTURE_KEYS:
            near = nearest(str(key), list(MIXTURE_KEYS))
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ConfigError(f"{p}: unknown key {key!r}{hint} (allowed: {', '.join(MIXTURE_KEYS)})")
    entries, weights = data.get("tasks") or [], data.get("weights") or {}
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ConfigError(f"{p}: tasks: expected a list of task names or task files, got {entries!r}")
    if not isinstance(weights, dict):
        raise ConfigError(f"{p}: weights: expected a mapping of task -> weight, got {weights!r}")
    names, by_entry = [], {}
    for entry in entries:
        if is_task_file(entry):
            file = Path(entry) if Path(entry).is_absolute() else p.parent / entry
            by_entry[entry] = register_task_file(file).name
        elif entry not in TASKS:
            raise unknown(f"task (in {p})", entry, TASKS.names())
        names.append(by_entry.get(entry, entry))
    rates = {}
    for key, value in weights.items():
        if key not in by_entry and key not in names:
            raise ConfigError(f"{p}: weights: {key!r} is not one of the mixture's tasks")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise ConfigError(f"{p}: weights: {key}: expected a positive number, got {value!r}")
        rates[by_entry.get(key, key)] = float(value)
    return Mixture(str(data.get("mixture") or p.stem), str(data.get("description") or ""), names, rates)


def expand(names: Sequence[str], data_dir: str | os.PathLike[str] | None) -> tuple[list[TaskSpec], dict[str, float]]:
    """Task specs for a list of task and mixture names (deduplicated, in order) and their weights."""
    specs, weights, _ = expand_entries(names, data_dir)
    return specs, weights


def _members(name: str, data: str | None, files: dict[str, str]) -> tuple[list[str], dict[str, float] | None]:
    """The tasks one name stands for, and the weights its mixture gives them (None: a task)."""
    from_file = mixture_file(name) if is_task_file(name) else None
    if from_file is not None:
        return from_file.resolve(data), dict(from_file.weights)
    if is_task_file(name):
        declared = register_task_file(name).name
        if declared in files:
            raise ConfigError(f"tasks: {files[declared]} and {name} both declare a task named {declared!r}; "
                              "give each task file its own name")
        files[declared] = name
        return [declared], None
    if name in TASKS:
        return [name], None
    if name in MIXTURES:
        mixture = MIXTURES[name]
        return mixture.resolve(data), dict(mixture.weights)
    raise unknown("task or mixture", name, TASKS.names() + MIXTURES.names())


def expand_entries(
    entries: Sequence[str | TaskEntry], data_dir: str | os.PathLike[str] | None,
) -> tuple[list[TaskSpec], dict[str, float], dict[str, int]]:
    """Task specs for ``tasks:`` entries (deduplicated, in order), their sampling weights and
    their caps on training examples. An entry's weight multiplies its mixture's weights and
    its ``max_examples`` caps every task it stands for; an entry naming one task sets that
    task's options over a mixture's, wherever the two stand in the list."""
    if data_dir is not None and not os.path.isdir(data_dir):  # not a silent fall-back to the hub
        raise ConfigError(f"data_dir {str(data_dir)!r} is not a folder (it should hold one sub-folder per task)")
    names = names_of(entries)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"tasks: {repeated} listed more than once")
    data = str(data_dir) if data_dir else None
    weights: dict[str, float] = {}  # in order of first appearance
    caps: dict[str, int] = {}
    direct: set[str] = set()  # tasks an entry names on its own: their options win over a mixture's
    files: dict[str, str] = {}  # task name -> the task file in ``entries`` that declared it
    for entry, name in zip(entries, names):
        options = entry if isinstance(entry, TaskEntry) else TaskEntry(name=name)
        members, mix_weights = _members(name, data, files)
        for member in members:
            if member in weights and (member in direct or mix_weights is not None):
                continue  # first come among mixtures; a direct entry is never overridden
            weights[member] = options.weight * (mix_weights or {}).get(member, 1.0)
            caps.pop(member, None)
            if options.max_examples is not None:
                caps[member] = options.max_examples
            if mix_weights is None:
                direct.add(member)
    return [TASKS[m] for m in weights], weights, caps


class Selection(NamedTuple):
    specs: list[TaskSpec]  # the training tasks
    weights: dict[str, float]  # task -> multiplier of its sampling rate
    caps: dict[str, int]  # task -> at most this many training examples (over the run's global cap)
    downstream: list[TaskSpec]  # tasks whose evaluation texts the run must not train on


def select(
    entries: Sequence[str | TaskEntry], exclude: Sequence[str], downstream: Sequence[str],
    data_dir: str | os.PathLike[str] | None,
) -> Selection:
    """The training tasks of a run (``entries`` minus ``exclude`` minus ``downstream``), with
    their weights and caps, and the downstream tasks."""
    specs, weights, caps = expand_entries(entries, data_dir)
    removed = {s.name for s in expand(exclude, data_dir)[0]} if exclude else set()
    held = expand(downstream, data_dir)[0] if downstream else []
    removed |= {s.name for s in held}
    kept = [s for s in specs if s.name not in removed]
    if not kept:
        raise ConfigError(f"tasks: nothing is left of {names_of(entries)} after exclude/downstream remove "
                          f"{sorted(removed)}")
    return Selection(kept, {s.name: weights[s.name] for s in kept},
                     {s.name: caps[s.name] for s in kept if s.name in caps}, held)


def names_of(entries: Sequence[str | TaskEntry]) -> list[str]:
    return [entry_name(e) for e in entries]
