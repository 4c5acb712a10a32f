"""``--help`` and the README's key tables, generated from the config fields.

``python -m muppet.config.docs README.md`` rewrites every block between
``<!-- keys:COMMAND -->`` and ``<!-- /keys:COMMAND -->``; a test fails when the README drifts.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import annotated_types
from pydantic.fields import FieldInfo

from muppet.config.base import Choices, Config, section_in
from muppet.config.commands import FinetuneConfig, PrefinetuneConfig
from muppet.config.evaluate import EvaluateConfig
from muppet.config.study import StudyConfig
from muppet.config.sweep import SweepConfig
from muppet.config.transfer import AffinityConfig
from muppet.tables import markdown_table

# The commands whose keys the README documents.
COMMANDS: dict[str, type[Config]] = {"prefinetune": PrefinetuneConfig, "finetune": FinetuneConfig,
                                     "sweep": SweepConfig, "study": StudyConfig, "affinity": AffinityConfig,
                                     "evaluate": EvaluateConfig}


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # a choice names its values; other metadata adds nothing here
        values = [m.values for m in annotation.__metadata__ if isinstance(m, Choices)]
        return " | ".join(values[0]) if values else _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in typing.get_args(annotation) else "")
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type) and issubclass(annotation, Config):
        return "section"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(annotation, str(annotation))


def allowed(field: FieldInfo) -> str:
    """The values a field accepts: its choices, or its bounds, or its type."""
    for meta in field.metadata:
        if isinstance(meta, Choices):
            return " | ".join(meta.values)
    lower = upper = None
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Gt):
            lower = f"> {_number(meta.gt)}"
        elif isinstance(meta, annotated_types.Ge):
            lower = f">= {_number(meta.ge)}"
        elif isinstance(meta, annotated_types.Lt):
            upper = f"< {_number(meta.lt)}"
        elif isinstance(meta, annotated_types.Le):
            upper = f"<= {_number(meta.le)}"
    kind = _type_name(field.annotation)
    bounds = ", ".join(b for b in (lower, upper) if b)
    return f"{kind}, {bounds}" if bounds else kind


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, Config):
        return "section"
    return _number(value)


def rows(cls: type[Config], prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    """(section, key, default, allowed, description) for every key, nested sections expanded."""
    out = []
    for title, names in cls.sections():
        for name in names:
            field = cls.model_fields[name]
            key = prefix + (field.alias or name)
            out.append((title, key, _default(field), allowed(field), field.description or ""))
            sub = section_in(field.annotation)
            if sub is not None:  # a list of entries: tasks[].weight
                inner = f"{key}[]." if typing.get_origin(field.annotation) is list else f"{key}."
                out += [(title, *rest) for _, *rest in rows(sub, prefix=inner)]
    return out


def _grouped(cls: type[Config], heading: Callable[[str], Any], line: Callable[[str, str, str, str], Any]) -> list[Any]:
    """``line(key, default, allowed, description)`` per key, with ``heading(title)`` before each
    section (one section: none)."""
    out: list[Any] = []
    section = None if len(cls.sections()) > 1 else cls.sections()[0][0]
    for title, key, default, ok, description in rows(cls):
        if title != section:
            out.append(heading(title))
            section = title
        out.append(line(key, default, ok, description))
    return out


def markdown(cls: type[Config]) -> str:
    body = _grouped(cls, lambda title: (f"**{title}**", "", "", ""),
                    lambda key, default, ok, description: (f"`{key}`", f"`{default}`", ok, description))
    return "\n".join(markdown_table(("key", "default", "allowed", "meaning"), body))


def help_text(cls: type[Config]) -> str:
    """The keys for an argparse epilog: one line each, grouped by section."""
    width = max(len(key) for _, key, *_ in rows(cls))
    lines = _grouped(cls, lambda title: f"\n  {title}:",
                     lambda key, default, ok, description: f"    {key:<{width}}  {description} [{ok}; default {default}]")
    return "\n".join(["keys (key=value on the command line, a.b=value inside a section):", *lines])


def render_readme(text: str) -> str:
    """The README with every generated key table brought up to date."""
    for command, cls in COMMANDS.items():
        pattern = re.compile(rf"(<!-- keys:{command} -->\n)(?:.*?\n)?(<!-- /keys:{command} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"the README has no <!-- keys:{command} --> block")
        text = pattern.sub(lambda m, c=cls: m.group(1) + markdown(c) + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "README.md")
    path.write_text(render_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
