"""The export: a folder that plain ``transformers`` loads, plus the heads and a description.

- the backbone and tokenizer (``save_pretrained``; ``AutoModel.from_pretrained`` loads them);
- ``heads.safetensors``: every head's weights, keyed ``<module>.<parameter>``;
- ``muppet.json``: the tasks (full specs, label maps), the heads, the mixture and the config;
- ``README.md``: the transfer card (``muppet.integrations.card``): mixture, settings, dev results
  against chance, the leakage check, in the Hub's model-card format;
- ``modules.json`` and module folders when the base model is a sentence-transformers model.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from muppet import __version__
from muppet.backbone import Backbone
from muppet.errors import ConfigError
from muppet.integrations import card, st
from muppet.model import MultiTaskModel
from muppet.registry import unknown
from muppet.tasks.spec import TaskSpec, spec_from_dict, spec_to_dict

HEADS_FILE = "heads.safetensors"
MANIFEST_FILE = "muppet.json"
FORMAT_VERSION = 1


def export_model(
    model: MultiTaskModel,
    tokenizer: Any,
    specs: Sequence[TaskSpec],
    directory: str | os.PathLike[str],
    *,
    base_model: str,
    step: int,
    task_info: Mapping[str, Mapping[str, Any]] | None = None,
    mixture: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    probe: Mapping[str, Any] | None = None,
) -> Path:
    """Write the export atomically (a temporary folder renamed into place); ``probe``: the run's
    transfer-probe curve and checkpoint choice, when it probed."""
    final = Path(directory)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.backbone.model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    st.copy_modules(base_model, tmp)
    heads = {
        f"{name}.{key}": value.detach().cpu().contiguous()
        for name, module in model.heads.items()
        for key, value in module.state_dict().items()
    }
    if heads:
        save_file(heads, str(tmp / HEADS_FILE), metadata={"format": "pt", "muppet": __version__})
    info = task_info or {}
    manifest = {
        "format_version": FORMAT_VERSION,
        "muppet_version": __version__,
        "base_model": base_model,
        "architecture": type(model.backbone.model).__name__,
        "encoder_decoder": model.backbone.is_encoder_decoder,
        "hidden_size": model.backbone.hidden_size,
        "steps": step,
        "heads": {key: {**value, "module": key.replace("/", "__")} for key, value in model.head_info.items()},
        "tasks": [
            {
                "name": spec.name,
                "family": spec.family,
                "head": model.head_keys[spec.name],
                "labels": list(spec.labels),
                "label_range": list(spec.label_range) if spec.label_range else None,
                **dict(info.get(spec.name, {})),
                "spec": spec_to_dict(spec),
            }
            for spec in specs
        ],
        "mixture": dict(mixture or {}),
        "config": dict(config or {}),
        **({"probe": dict(probe)} if probe else {}),
    }
    text = json.dumps(manifest, indent=2, default=str)
    (tmp / MANIFEST_FILE).write_text(text, encoding="utf-8")
    (tmp / "README.md").write_text(card.transfer_card(json.loads(text), tmp), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_FILE
    if not path.is_file():
        raise ConfigError(f"{directory} is not a muppet export (no {MANIFEST_FILE})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is corrupt ({exc}); export the run again (resume=true in its output_dir)") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("tasks"), list):
        raise ConfigError(f"{path} is not a muppet manifest (no task list)")
    return manifest


def read_heads(directory: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Every head's weights of an export, or one message naming the file."""
    path = Path(directory) / HEADS_FILE
    if not path.is_file():
        raise ConfigError(f"{path} is missing: the export is incomplete (export the run again)")
    try:
        return load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise ConfigError(f"{path} is corrupt or truncated ({exc}); export the run again") from None


def export_specs(directory: str | os.PathLike[str], manifest: Mapping[str, Any] | None = None) -> list[TaskSpec]:
    """The tasks an export holds (its muppet.json), as specs."""
    manifest = manifest if manifest is not None else read_manifest(directory)
    return [spec_from_dict(t["spec"], where=f"{directory}/{MANIFEST_FILE}") for t in manifest["tasks"]]


def export_spec(directory: str | os.PathLike[str], task: str) -> TaskSpec:
    """One task of an export; a name it does not hold is an error with the nearest ones."""
    specs = {spec.name: spec for spec in export_specs(directory)}
    if task not in specs:
        raise unknown(f"task of the export {directory}:", task, list(specs))
    return specs[task]


def load_export(directory: str | os.PathLike[str], dropout: float = 0.1) -> tuple[MultiTaskModel, dict[str, Any]]:
    """The multi-task model of an export, heads included, and its manifest."""
    manifest = read_manifest(directory)
    specs = export_specs(directory, manifest)
    model = MultiTaskModel(Backbone.from_pretrained(str(directory)), specs, dropout)
    heads_path = Path(directory) / HEADS_FILE
    if len(model.heads):
        state = read_heads(directory)
        missing, unexpected = model.heads.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ConfigError(f"{heads_path}: heads do not match muppet.json (missing {missing}, unexpected {unexpected})")
    return model, manifest


def head_state(directory: str | os.PathLike[str], key: str) -> dict[str, torch.Tensor]:
    """One head's weights from an export (fine-tuning reuses heads by key)."""
    prefix = key.replace("/", "__") + "."
    state = read_heads(directory)
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
