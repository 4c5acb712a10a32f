"""Predictions with an export's own heads: ``muppet.load(EXPORT).predict(...)`` and ``muppet predict``.

An input is a record in the task's own format: the canonical fields of its family (what
``make_record`` reads: ``text_a``/``text_b``, ``context``/``question``/``choices``, ...) or
the column names of the task's declared source (its files' fields); a family with a
``text_field`` also takes a plain string. Targets (``label``, ``answers``, ``summary``) are
ignored. Every input is checked before the model runs, and every malformed one is reported
together, with the field and the nearest field names the record does have.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from muppet.errors import ConfigError, DataError
from muppet.families import Family, FeatureSettings, get_family
from muppet.families.base import Record
from muppet.registry import nearest, unknown
from muppet.tasks.formats import Loc, RecordError
from muppet.tasks.formats.base import BadRecord
from muppet.tasks.loading import MAX_ERRORS_SHOWN, Problem, map_columns
from muppet.tasks.spec import Column, TaskSpec

CHUNK = 1024  # inputs featurized and predicted at a time: a long file never sits in memory as features
OUTPUT_FIELD = "prediction"  # where `muppet predict` writes each line's prediction
SETTINGS = tuple(f.name for f in dataclasses.fields(FeatureSettings))


def inherited(saved: Mapping[str, Any], given: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """``given`` with the ``keys`` it leaves out taken from ``saved`` (an export's training
    config); a ``max_length`` given without ``doc_stride`` does not take the saved stride."""
    out = {k: saved[k] for k in keys if saved.get(k) is not None and k not in given}
    if "max_length" in given and "doc_stride" not in given:
        out.pop("doc_stride", None)
    return {**out, **given}


def export_settings(config: Mapping[str, Any], overrides: Mapping[str, Any]) -> FeatureSettings:
    """The featurizing and decoding settings the export was trained with (its saved config),
    with ``overrides`` on top."""
    bad = [k for k in overrides if k not in SETTINGS]
    if bad:
        near = nearest(bad[0], SETTINGS)
        raise ConfigError(f"unknown setting {bad[0]!r}" + (f"; did you mean {near[0]!r}?" if near else "")
                          + f" (settings: {', '.join(SETTINGS)})")
    for key, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "doc_stride" else 1):
            raise ConfigError(f"{key}: expected a whole number {'>= 0' if key == 'doc_stride' else '> 0'}, got {value!r}")
    values = inherited(config, overrides, SETTINGS)
    if "max_length" in values and "doc_stride" not in values:
        values["doc_stride"] = values["max_length"] // 2  # the config's default
    return FeatureSettings(**values)


def _columns(spec: TaskSpec) -> Mapping[str, Column]:
    """The task's own field names: its local files' column mapping, else its hub source's."""
    if spec.local is not None and spec.local.columns:
        return spec.local.columns
    return spec.hub.columns if spec.hub is not None else {}


def _names(source: Column) -> list[str]:
    return [source] if isinstance(source, str) else list(source)


def _source_fields(raw: Mapping[str, Any], spec: TaskSpec) -> tuple[dict[str, Any], dict[str, str]]:
    """Canonical fields of ``raw``, and canonical -> source name where the record uses the
    task's own column names (then the columns it holds are mapped; the rest stay missing)."""
    renamed = {c: s for c, s in _columns(spec).items() if _names(s) != [c]}
    if not any(n in raw for s in renamed.values() for n in _names(s)) or any(c in raw for c in renamed):
        return map_columns(raw, {}, {}), {}  # as given (checked for undecodable bytes)
    present = {c: s for c, s in renamed.items() if all(n in raw for n in _names(s))}
    kept = {k: v for k, v in raw.items() if k not in {n for s in renamed.values() for n in _names(s)}}
    return {**kept, **map_columns(raw, present, {})}, {c: _names(s)[0] for c, s in renamed.items()}


def input_record(raw: Any, spec: TaskSpec, family: Family) -> Record:
    """One input as a record to predict on; RecordError (with the nearest field names) if malformed."""
    if isinstance(raw, str) and family.text_field is not None:
        raw = {family.text_field: raw}
    if not isinstance(raw, Mapping):
        what = "a record (a mapping of fields)" + (" or a text" if family.text_field else "")
        raise RecordError(f"expected {what}, got {type(raw).__name__}")
    fields, source = _source_fields(raw, spec)
    try:
        return family.make_input(fields, spec)
    except RecordError as exc:
        name = source.get(exc.field or "", exc.field)
        if name is None or name in raw:
            raise RecordError(exc.reason, name) from None
        near = nearest(name, [str(k) for k in raw])
        hint = f"nearest in the record: {', '.join(map(repr, near))}" if near else \
            f"the record has {', '.join(map(repr, raw)) or 'no fields'}"
        raise RecordError(f"{exc.reason} ({hint})", name) from None


def input_records(items: Iterable[tuple[Loc, Any]], spec: TaskSpec, where: str) -> list[Record]:
    """Every input checked; all malformed ones reported in one DataError naming where each is."""
    family = get_family(spec.family)
    records: list[Record] = []
    problems: list[str] = []
    for loc, raw in items:
        try:
            if isinstance(raw, BadRecord):
                raise RecordError(raw.reason, raw.field)
            records.append(input_record(raw, spec, family))
        except RecordError as exc:
            problems.append(str(Problem(loc, exc.reason, exc.field)))
    if problems:
        more = f"\n  ... and {len(problems) - MAX_ERRORS_SHOWN} more" if len(problems) > MAX_ERRORS_SHOWN else ""
        raise DataError(f"task {spec.name!r}: {len(problems)} malformed input(s) in {where}:\n  "
                        + "\n  ".join(problems[:MAX_ERRORS_SHOWN]) + more)
    if not records:
        raise DataError(f"task {spec.name!r}: no inputs in {where}")
    return records


class Pretrained:
    """A muppet export loaded for prediction with its own heads (``muppet.load``).

    ``tasks`` are the tasks the export holds; ``predict(inputs, task=...)`` returns one dict
    per input, by family: ``label``/``score``/``scores`` (classification, probabilities of
    every label), ``value`` (regression, in the task's units), ``choice``/``text``/``score``/
    ``scores`` (multiple choice), ``answer``/``start``/``end``/``score`` (extractive QA:
    character offsets into the context, the span's start + end logit), ``summary``.
    """

    def __init__(self, path: str | os.PathLike[str], device: str | None = None, **settings: Any) -> None:
        import torch

        from muppet.train.export import export_specs, load_export
        from muppet.train.loop import load_tokenizer

        self.path = str(path)
        model, manifest = load_export(path)
        specs = export_specs(path, manifest)
        self._specs = {spec.name: spec for spec in specs}
        self._settings = export_settings(manifest.get("config") or {}, settings)
        self._tokenizer = load_tokenizer(self.path, specs)
        try:
            self._device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
            self._model = model.to(self._device).eval()
        except (RuntimeError, AssertionError) as exc:  # an unknown or absent device
            raise ConfigError(f"device {device!r}: {str(exc).splitlines()[0][:200]}") from None

    @property
    def tasks(self) -> list[str]:
        return list(self._specs)

    def __repr__(self) -> str:
        return f"Pretrained({self.path!r}, tasks={self.tasks})"

    def _spec(self, task: str) -> TaskSpec:
        if task not in self._specs:
            raise unknown(f"task of the export {self.path}:", task, self.tasks)
        return self._specs[task]

    def predict(self, inputs: Iterable[Any], task: str, batch_size: int = 64) -> list[dict[str, Any]]:
        """One prediction per input (records in the task's format; texts where the family takes
        them); ``batch_size``: backbone rows per batch (a multiple-choice option is a row)."""
        if isinstance(inputs, (str, Mapping)) or not isinstance(inputs, Iterable):
            raise ConfigError(f"predict takes a list of inputs, got {type(inputs).__name__} (wrap one input in [...])")
        spec = self._spec(task)
        records = input_records(((Loc("input", record=i + 1), x) for i, x in enumerate(inputs)), spec, "the inputs")
        return list(self._predictions(records, spec, batch_size))

    def _predictions(self, records: Sequence[Record], spec: TaskSpec, batch_size: int = 64,
                    progress: Any = None) -> Iterator[dict[str, Any]]:
        """Predictions for checked records, a chunk at a time (``progress``: a tqdm bar to advance)."""
        import torch

        from muppet.evaluation.evaluate import in_order, raw_predictions
        from muppet.train.step import pad_multiple

        if batch_size < 1:
            raise ConfigError(f"batch_size: expected a whole number > 0, got {batch_size!r}")
        family = get_family(spec.family)
        head = self._model.head_keys[spec.name]
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            features = family.featurize(chunk, spec, self._tokenizer, self._settings, train=False)
            with torch.autocast(self._device.type, enabled=False):
                pairs = raw_predictions(self._model, spec, head, features, self._settings, self._tokenizer,
                                        self._device, batch_size, pad_multiple(None, self._device))
            yield from family.present(chunk, features, in_order(pairs, len(features)), spec)
            if progress is not None:
                progress.update(len(chunk))


def predict_file(
    export: str | os.PathLike[str], task: str, input_path: str | os.PathLike[str], output_path: str | os.PathLike[str],
    batch_size: int = 64, progress: bool = True, device: str | None = None,
) -> int:
    """``muppet predict``: each line of ``input_path`` (JSON lines) with its prediction under
    ``"prediction"``, written to ``output_path`` complete or not at all; the number of lines."""
    from tqdm.auto import tqdm

    from muppet.tasks.formats.common import read_jsonl
    from muppet.train.export import export_spec

    source, out = Path(input_path), Path(output_path)
    spec = export_spec(export, task)  # a task the export lacks fails before the model loads
    if not source.is_file():
        raise DataError(f"input {source} not found")
    if not out.parent.is_dir():
        raise ConfigError(f"output {out}: the folder {out.parent} does not exist")
    clash = BadRecord(f"holds a field {OUTPUT_FIELD!r}, where the prediction goes; rename it", OUTPUT_FIELD)
    lines = [(loc, clash if isinstance(raw, dict) and OUTPUT_FIELD in raw else raw) for loc, raw in read_jsonl(source)]
    records = input_records(lines, spec, str(source))
    model = Pretrained(export, device)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f, tqdm(total=len(records), desc="predicting", unit="input",
                                                        disable=not progress) as bar:
            for (_, raw), prediction in zip(lines, model._predictions(records, spec, batch_size, bar)):
                f.write(json.dumps({**raw, OUTPUT_FIELD: prediction}, ensure_ascii=False) + "\n")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(records)
