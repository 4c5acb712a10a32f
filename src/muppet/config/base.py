"""The config base class: pydantic models that read YAML and ``key=value`` overrides.

Every setting is a pydantic field with its type, default, bounds and a one-line description;
``--help`` and the README's key tables are generated from them (``muppet.config.docs``).
Errors are :class:`ConfigError` naming the key (with the nearest names for an unknown key),
all of a config's problems at once.
"""

from __future__ import annotations

import logging
import os
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from muppet.errors import ConfigError
from muppet.files import write_text_atomic
from muppet.registry import nearest

C = TypeVar("C", bound="Config")
log = logging.getLogger(__name__)


class Choices:
    """Annotated metadata naming the allowed values of a text setting (read by the docs)."""

    def __init__(self, values: Sequence[str]) -> None:
        self.values = tuple(values)


def choice(*values: str) -> Any:
    """A text setting restricted to ``values``; a near miss names the closest one."""

    def check(value: str) -> str:
        if value not in values:
            near = nearest(str(value), list(values), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"{value!r} is not one of {list(values)}{hint}")
        return value

    return Annotated[str, AfterValidator(check), Choices(values)]


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return origin is list


# What pydantic says, in the words the rest of muppet uses for the same problems.
_MESSAGES = {
    "int_parsing": "expected an integer", "int_from_float": "expected an integer", "int_type": "expected an integer",
    "float_parsing": "expected a number", "float_type": "expected a number",
    "bool_parsing": "expected true or false", "bool_type": "expected true or false",
    "string_type": "expected text", "list_type": "expected a list", "dict_type": "expected a mapping",
    "finite_number": "must be a finite number",
}


# Keys renamed to one name per concept (old -> new). The old name still works, with a warning
# naming the new one, and a config is saved under the new name; unlike REMOVED, nothing changes.
RENAMED = {"max_examples_per_task": "max_train_examples", "eval_max_examples": "max_eval_examples"}
_warned: set[str] = set()


def renamed(data: Mapping[str, Any], keys: Sequence[str] | None = None, where: str = "") -> dict[str, Any]:
    """``data`` with the old names of RENAMED keys under their new names (only for the new names
    in ``keys``, when given); a key given under both names is an error."""
    out = dict(data)
    for old, new in RENAMED.items():
        if old not in out or (keys is not None and new not in keys):
            continue
        if new in out:
            raise ConfigError(f"{where}{': ' if where else ''}{old!r} is the old name of {new!r}; give only {new!r}")
        out[new] = out.pop(old)
        if old not in _warned:  # once a process: a sweep validates the same settings per cell
            _warned.add(old)
            log.warning("config key %r is deprecated: it is now %r", old, new)
    return out


def _new_names(data: Any, keys: Sequence[str]) -> Any:
    """``renamed`` as a validator: a conflict is reported with the config's other problems."""
    if not isinstance(data, Mapping):
        return data
    try:
        return renamed(data, keys)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def keys_of(model: type[Config]) -> Any:
    """A free-form mapping of ``model``'s keys (a sweep's ``finetune:``), merged with others
    before ``model`` reads it: old names are renamed first, so two layers cannot disagree."""
    return Annotated[dict[str, Any], BeforeValidator(lambda data: _new_names(data, model.keys()))]


# Keys that no longer exist, with what replaced them (their own error, not a nearest-name guess).
REMOVED = {"length_buckets": "updates draw their tasks slot by slot and padding is kept low by max_tokens "
                             "(an update's examples sorted by length and cut into micro-batches under it)"}


def _key(loc: tuple[Any, ...], prefix: str) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item and item[0].islower() and item.isidentifier() and item not in ("str", "int", "float", "bool", "list",
                                                                                    "dict", "none"):
            parts.append(("." if parts else "") + item)
        # anything else is a union member's tag (``SweepModel``, ``function-after[...]``): not a key
    return prefix + "".join(parts)


def _message(err: Mapping[str, Any], model: type[BaseModel], prefix: str) -> str:
    loc = tuple(err["loc"])
    key = _key(loc, prefix)
    if err["type"] == "extra_forbidden":
        if loc[-1] in REMOVED:
            return f"config key {key!r} was removed: {REMOVED[loc[-1]]}"
        names = _names_at(model, loc[:-1])
        near = nearest(str(loc[-1]), names)
        hint = f"; did you mean {', '.join(repr(_key((*loc[:-1], n), prefix)) for n in near)}?" if near else ""
        return f"unknown config key {key!r}{hint}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    kind = err["type"]
    if kind in _MESSAGES:
        msg = f"{_MESSAGES[kind]}, got {err.get('input')!r}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(err.get("ctx", {}).values()), "?")
        msg = f"must be {sign} {bound}, got {err.get('input')!r}"
    return f"{key}: {msg}" if key else msg


def section_in(annotation: Any) -> type[Config] | None:
    """The section class a field holds: itself, or inside an optional, a union or a list."""
    if isinstance(annotation, type) and issubclass(annotation, Config):
        return annotation
    return next((c for c in map(section_in, typing.get_args(annotation)) if c is not None), None)


def _names_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a (nested) section accepts, for the nearest-name hint of an unknown key."""
    current: Any = model
    for item in loc:
        if isinstance(item, int) or not (item[:1].islower() and item.isidentifier()):
            continue  # a list position or a union member's tag
        if not (isinstance(current, type) and issubclass(current, Config)) or item not in current.model_fields:
            return []
        current = section_in(current.model_fields[item].annotation)
    return current.keys() if isinstance(current, type) and issubclass(current, Config) else []


def config_error(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> ConfigError:
    messages = list(dict.fromkeys(_message(e, model, prefix) for e in exc.errors()))
    return ConfigError(messages[0] if len(messages) == 1 else "\n  ".join(["invalid config:", *messages]))


class Config(BaseModel):
    """A command's settings: unknown keys are errors, floats must be finite, and every field
    has a description (the source of ``--help`` and the README's key tables)."""

    title: ClassVar[str] = "Settings"  # the heading of this class's own keys in --help and the README
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, coerce_numbers_to_str=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        return _new_names(data, cls.keys())

    @model_validator(mode="before")
    @classmethod
    def _lists_from_text(cls, data: Any) -> Any:
        # ``tasks=rte,copa`` on the command line, or ``tasks: rte`` in YAML: a one-line list.
        if isinstance(data, Mapping):
            data = dict(data)
            for name, f in cls.model_fields.items():
                for key in (name, f.alias):
                    if key in data and isinstance(data[key], str) and _is_list(f.annotation):
                        data[key] = [v.strip() for v in data[key].split(",") if v.strip()]
        return data

    @classmethod
    def keys(cls) -> list[str]:
        return [f.alias or name for name, f in cls.model_fields.items()]

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any], prefix: str = "") -> C:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping of keys, got {data!r}")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise config_error(exc, cls, prefix) from None

    @classmethod
    def load(cls: type[C], path: str | os.PathLike[str] | None, overrides: Sequence[str] = ()) -> C:
        data = read_config_file(path) if path is not None else {}
        return cls.from_dict(merge(data, parse_overrides(overrides)))

    @classmethod
    def sections(cls) -> list[tuple[str, list[str]]]:
        """The field names grouped by the section that declares them (a command re-declaring a
        shared key for another default leaves it in its section), the command's own keys first,
        then its sections in the order of its bases: the layout of --help, docs and saved configs."""
        classes = [k for k in cls.__mro__ if isinstance(k, type) and issubclass(k, Config) and k is not Config]
        home = {name: [k for k in classes if name in k.__dict__.get("__annotations__", {})][-1]
                for name in cls.model_fields}
        groups = [(k.title, [n for n in cls.model_fields if home[n] is k]) for k in classes]
        return [(title, names) for title, names in groups if names]

    def to_dict(self) -> dict[str, Any]:
        dumped = self.model_dump(mode="json", by_alias=True)
        order = [self.model_fields[n].alias or n for _, names in self.sections() for n in names]
        return {k: dumped[k] for k in order}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Written aside and renamed: a reader (another process of the same sweep) never sees half."""
        write_text_atomic(Path(path), yaml.safe_dump(self.to_dict(), sort_keys=False))


class _StrictLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping (YAML keeps the last silently)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen and isinstance(key, (str, int, float, bool)):
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


TASK_LIST_KEYS = ("tasks", "task", "exclude", "downstream")


def task_files_relative_to(data: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Task files named in a config file, relative to that file's folder (as a task file's own
    paths are to it); a path found only from the working directory is kept, for old configs."""

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, Mapping) and "name" in value:  # a tasks: entry with options
            return {**value, "name": resolve(value["name"])}
        if not isinstance(value, str) or not value.endswith((".yaml", ".yml")) or os.path.isabs(value):
            return value
        beside = os.path.normpath(folder / value)
        return beside if os.path.exists(beside) or not os.path.exists(value) else value

    return {k: task_files_relative_to(v, folder) if isinstance(v, Mapping) else resolve(v) if k in TASK_LIST_KEYS else v
            for k, v in data.items()}


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A config file's settings, with the task files it names resolved against its folder."""
    return task_files_relative_to(read_yaml_mapping(path, "config file"), Path(path).parent)


def load_yaml(text: str, where: str | os.PathLike[str]) -> Any:
    """YAML text read safely, with a key given twice in one mapping an error naming the lines."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML ({exc})") from None


def read_yaml_mapping(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """A YAML file holding one mapping (empty file: empty mapping)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} {p} not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = p.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{p}, line {line}: not UTF-8 text (byte {exc.object[exc.start]:#x}); "
                          "save the file as UTF-8") from None
    loaded = load_yaml(text, p)
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{p}: expected a mapping of keys, got {type(loaded).__name__}")
    return dict(loaded or {})


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
        if leaf in target:
            raise ConfigError(f"override {item!r}: {key!r} is given twice")
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
