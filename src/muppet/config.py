"""One typed source of truth for a run: dataclasses validated on construction, YAML presets,
``key=value`` overrides. Unknown keys are errors that name the nearest keys; the resolved
config is written next to every run and checkpoint."""

from __future__ import annotations

import copy
import dataclasses
import os
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from muppet.data.sampler import BATCHING, SAMPLING
from muppet.errors import ConfigError
from muppet.registry import nearest

LOSS_SCALING = ("log", "none")
PRECISION = ("fp32", "bf16", "fp16")
SOURCES = ("auto", "local", "hub")
ON_BAD_RECORD = ("error", "skip")
LEAKAGE = ("error", "drop", "allow")
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

C = TypeVar("C", bound="BaseConfig")


def _choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        near = nearest(str(value), list(allowed), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ConfigError(f"{name}: {value!r} is not one of {list(allowed)}{hint}")


def _positive(name: str, value: float | None, allow_zero: bool = False) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name}: must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """``value`` as type ``hint`` (YAML and key=value give strings for some numbers)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(name, value, option)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[-1] if errors else f"{name}: invalid value {value!r}")
    if isinstance(hint, type) and issubclass(hint, BaseConfig):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}: expected a mapping of {', '.join(hint.keys())}, got {value!r}")
        return hint.from_dict(value, prefix=f"{name}.")
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}: expected a mapping, got {value!r}")
        return dict(value)
    if origin is list:
        (item,) = typing.get_args(hint)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, got {value!r}")
        return [_coerce(f"{name}[{i}]", v, item) for i, v in enumerate(value)]
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected an integer, got {value!r}") from None
    if hint is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if hint is str:
        if isinstance(value, (dict, list)) or value is None:
            raise ConfigError(f"{name}: expected text, got {value!r}")
        return str(value)
    raise ConfigError(f"{name}: unsupported type {hint}")


def _plain(value: Any) -> Any:
    """A config value as YAML-safe data (nested configs, also inside lists, as mappings)."""
    if isinstance(value, BaseConfig):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)


@dataclass
class BaseConfig:
    # YAML keys that are not valid Python names (e.g. ``lambda``) -> field names
    ALIASES: ClassVar[dict[str, str]] = {}

    @classmethod
    def keys(cls) -> list[str]:
        back = {v: k for k, v in cls.ALIASES.items()}
        return [back.get(f.name, f.name) for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any], prefix: str = "") -> C:
        hints = typing.get_type_hints(cls)
        names = cls.keys()
        unknown = [k for k in data if k not in names]
        if unknown:
            key = unknown[0]
            near = nearest(str(key), names)
            hint = f"; did you mean {', '.join(repr(prefix + n) for n in near)}?" if near else ""
            raise ConfigError(f"unknown config key {prefix + str(key)!r}{hint}")
        values = {}
        for key, value in data.items():
            name = cls.ALIASES.get(key, key)
            values[name] = _coerce(prefix + key, value, hints[name])
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}" if prefix else str(exc)) from None

    @classmethod
    def load(cls: type[C], path: str | os.PathLike[str] | None, overrides: Sequence[str] = ()) -> C:
        data = read_yaml_mapping(path, "config file") if path is not None else {}
        data = task_files_relative_to(data, Path(path).parent) if path is not None else data
        return cls.from_dict(merge(data, parse_overrides(overrides)))

    def to_dict(self) -> dict[str, Any]:
        back = {v: k for k, v in self.ALIASES.items()}
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[back.get(f.name, f.name)] = _plain(value)
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")


def read_yaml_mapping(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """A YAML file holding one mapping (empty file: empty mapping), read with safe_load."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} {p} not found")
    try:
        loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: invalid YAML ({exc})") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{p}: expected a mapping of keys, got {type(loaded).__name__}")
    return dict(loaded or {})


TASK_LIST_KEYS = ("tasks", "task", "exclude", "downstream")


def task_files_relative_to(data: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Task files named in a config file, relative to that file's folder (as a task file's own
    paths are to it); a path found only from the working directory is kept, for old configs."""

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if not isinstance(value, str) or not value.endswith((".yaml", ".yml")) or os.path.isabs(value):
            return value
        beside = os.path.normpath(folder / value)
        return beside if os.path.exists(beside) or not os.path.exists(value) else value

    return {k: task_files_relative_to(v, folder) if isinstance(v, Mapping) else resolve(v) if k in TASK_LIST_KEYS else v
            for k, v in data.items()}


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs, values read as YAML; ``a.b=value`` sets key ``b`` of section ``a``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        *sections, leaf = key.split(".")
        target = out
        for section in sections:
            target = target.setdefault(section, {})
            if not isinstance(target, dict):
                raise ConfigError(f"override {item!r}: {section!r} is set to a value, not a section")
        target[leaf] = value
    return out


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` on top of ``base``, section by section."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class R3FConfig(BaseConfig):
    """R3F (Aghajanyan et al. 2020): a symmetric-KL term between predictions on clean and
    noised input embeddings; ``spectral_norm`` adds R4F's spectral normalisation of the heads."""

    ALIASES: ClassVar[dict[str, str]] = {"lambda": "lambda_"}
    eps: float = 1e-5
    lambda_: float = 1.0
    noise: str = "uniform"
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        _choice("noise", self.noise, ("uniform", "normal"))
        _positive("eps", self.eps)
        _positive("lambda", self.lambda_, allow_zero=True)


@dataclass
class PrefinetuneConfig(BaseConfig):
    # what to train
    model: str = DEFAULT_MODEL
    tasks: list[str] = field(default_factory=lambda: ["local"])  # task and mixture names
    exclude: list[str] = field(default_factory=list)  # task and mixture names removed from ``tasks``
    # Tasks kept for fine-tuning later: removed from the mixture, and their evaluation texts
    # (dev or held-out, and a test split) count as evaluated for ``leakage``, so the checkpoint
    # never trains on what its downstream evaluation scores.
    downstream: list[str] = field(default_factory=list)
    data_dir: str | None = None  # default: $MUPPET_DATA_DIR
    source: str = "auto"  # auto: local files where present, else the hub
    output_dir: str = "runs/prefinetune"
    trust_remote_code: bool = False
    # optimisation
    max_steps: int = 1000
    batch_size: int = 32  # examples per optimizer update (all processes together)
    grad_accum_steps: int = 1
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_grad_norm: float = 1.0
    dropout: float = 0.1  # in the new heads
    precision: str = "fp32"
    seed: int = 42
    cpu: bool = False  # force the CPU even where an accelerator is present
    # the multi-task recipe
    batching: str = "heterogeneous"
    loss_scaling: str = "log"
    sampling: str = "proportional"
    temperature: float = 2.0  # used by sampling=temperature
    max_examples_per_task: int | None = None
    length_buckets: int = 16  # length-aware batching: shards draw rows of similar length (1: off)
    pad_to_multiple_of: int | None = None  # default: 8 on a GPU, 1 on a CPU
    # data
    max_length: int = 256
    doc_stride: int | None = None  # overlap of QA windows; default max_length // 2
    max_target_length: int = 64
    heldout_fraction: float = 0.1  # of a task without a dev split, carved off for evaluation
    heldout_max: int = 1000
    on_bad_record: str = "error"
    leakage: str = "error"  # a training text that is also evaluated: error, drop (it) or allow
    cache_dir: str | None = None  # records and features; default $MUPPET_CACHE_DIR or ~/.cache/muppet
    num_proc: int = 1  # processes for tokenizing (fast tokenizers also use threads)
    # evaluation
    eval_every: int = 0  # updates between dev evaluations; 0: only at the end
    eval_max_examples: int | None = 1000  # per task, None for the whole dev split
    eval_batch_size: int = 64
    max_answer_length: int = 30
    num_beams: int = 1
    max_new_tokens: int = 64
    # bookkeeping
    log_every: int = 10
    save_every: int = 0  # updates between checkpoints; 0: only at the end
    keep_checkpoints: int = 2
    r3f: R3FConfig | None = None  # e.g. {eps: 1e-5, lambda: 1.0, noise: uniform, spectral_norm: false}
    resume: bool = False  # continue from the last complete checkpoint in output_dir
    stop_after: int | None = None  # checkpoint and stop after this update (a job's time limit)
    max_bad_updates: int = 5  # consecutive updates with a non-finite loss before the run stops
    overwrite: bool = False  # start afresh in an output_dir that already holds a run
    export: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.tasks, str):
            self.tasks = [self.tasks]
        if not self.tasks:
            raise ConfigError("tasks: name at least one task or mixture")
        if self.data_dir is None:
            self.data_dir = os.environ.get("MUPPET_DATA_DIR") or None
        _choice("batching", self.batching, BATCHING)
        _choice("loss_scaling", self.loss_scaling, LOSS_SCALING)
        _choice("sampling", self.sampling, SAMPLING)
        _choice("precision", self.precision, PRECISION)
        _choice("source", self.source, SOURCES)
        _choice("on_bad_record", self.on_bad_record, ON_BAD_RECORD)
        _choice("leakage", self.leakage, LEAKAGE)
        _positive("num_proc", self.num_proc)
        for name in ("max_steps", "batch_size", "grad_accum_steps", "max_length", "eval_batch_size", "lr",
                     "temperature", "max_target_length", "max_answer_length", "num_beams", "max_new_tokens",
                     "log_every", "keep_checkpoints"):
            _positive(name, getattr(self, name))
        for name in ("weight_decay", "max_grad_norm", "dropout", "eval_every", "save_every", "doc_stride"):
            _positive(name, getattr(self, name), allow_zero=True)
        _positive("max_examples_per_task", self.max_examples_per_task)
        _positive("eval_max_examples", self.eval_max_examples)
        _positive("stop_after", self.stop_after)
        _positive("length_buckets", self.length_buckets)
        _positive("pad_to_multiple_of", self.pad_to_multiple_of)
        _positive("max_bad_updates", self.max_bad_updates)
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"warmup_ratio: must be in [0, 1), got {self.warmup_ratio}")
        if not 0 < self.heldout_fraction < 1:
            raise ConfigError(f"heldout_fraction: must be in (0, 1), got {self.heldout_fraction}")
        if self.dropout >= 1:
            raise ConfigError(f"dropout: must be < 1, got {self.dropout}")
        if self.batch_size % self.grad_accum_steps:
            raise ConfigError(
                f"batch_size ({self.batch_size}) must be divisible by grad_accum_steps ({self.grad_accum_steps})"
            )
        if self.doc_stride is None:
            self.doc_stride = self.max_length // 2
        if self.doc_stride >= self.max_length:
            raise ConfigError(f"doc_stride ({self.doc_stride}) must be smaller than max_length ({self.max_length})")
