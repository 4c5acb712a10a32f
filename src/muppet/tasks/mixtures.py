"""Named mixtures: a list of tasks, optional per-task weights, first-class and registered."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from muppet.config.base import read_yaml_mapping
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
    if data_dir is not None and not os.path.isdir(data_dir):  # not a silent fall-back to the hub
        raise ConfigError(f"data_dir {str(data_dir)!r} is not a folder (it should hold one sub-folder per task)")
    specs: list[TaskSpec] = []
    weights: dict[str, float] = {}
    seen: set[str] = set()
    data = str(data_dir) if data_dir else None
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise ConfigError(f"tasks: {repeated} listed more than once")
    files: dict[str, str] = {}  # task name -> the task file in ``names`` that declared it
    for name in names:
        from_file = mixture_file(name) if is_task_file(name) else None
        if from_file is not None:
            members, mix_weights = from_file.resolve(data), dict(from_file.weights)
        elif is_task_file(name):
            declared = register_task_file(name).name
            if declared in files:
                raise ConfigError(f"tasks: {files[declared]} and {name} both declare a task named {declared!r}; "
                                  "give each task file its own name")
            files[declared] = name
            members, mix_weights = [declared], {}
        elif name in TASKS:
            members, mix_weights = [name], {}
        elif name in MIXTURES:
            mixture = MIXTURES[name]
            members, mix_weights = mixture.resolve(data), dict(mixture.weights)
        else:
            raise unknown("task or mixture", name, TASKS.names() + MIXTURES.names())
        for member in members:
            if member in seen:
                continue
            seen.add(member)
            specs.append(TASKS[member])
            weights[member] = float(mix_weights.get(member, 1.0))
    return specs, weights


def select(
    names: Sequence[str], exclude: Sequence[str], downstream: Sequence[str], data_dir: str | os.PathLike[str] | None,
) -> tuple[list[TaskSpec], dict[str, float], list[TaskSpec]]:
    """The training tasks of a run (``names`` minus ``exclude`` minus ``downstream``), their
    weights, and the downstream tasks whose evaluation texts the run must not train on."""
    specs, weights = expand(names, data_dir)
    removed = {s.name for s in expand(exclude, data_dir)[0]} if exclude else set()
    held = expand(downstream, data_dir)[0] if downstream else []
    removed |= {s.name for s in held}
    kept = [s for s in specs if s.name not in removed]
    if not kept:
        raise ConfigError(f"tasks: nothing is left of {list(names)} after exclude/downstream remove {sorted(removed)}")
    return kept, {s.name: weights[s.name] for s in kept}, held
