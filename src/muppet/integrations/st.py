"""sentence-transformers: an export of a sentence-transformers model keeps its module stack.

Without ``modules.json`` ``SentenceTransformer(export)`` guesses a stack (mean pooling, no
normalisation) and embeds differently from the base model. The base model's files other
than the transformer itself (``modules.json``, ``1_Pooling/``, ``2_Normalize/``, a dense
projection, ...) are copied into the export unchanged; the transformer module points at the
export's root, where ``save_pretrained`` wrote the trained backbone and the tokenizer.
muppet trains the transformer only, so the modules after it stay the base model's.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from muppet.backbone import resolve_model_path

logger = logging.getLogger(__name__)

MODULES_FILE = "modules.json"
ROOT_FILES = ("config_sentence_transformers.json", "sentence_bert_config.json")


def copy_modules(base_model: str, directory: str | os.PathLike[str]) -> bool:
    """Copy ``base_model``'s sentence-transformers modules into ``directory`` (an export being
    written); False when the base model is not a sentence-transformers model."""
    source = _source(base_model)
    if source is None:
        return False
    modules: list[dict[str, Any]] = json.loads((source / MODULES_FILE).read_text(encoding="utf-8"))
    transformers = [m for m in modules if str(m.get("type", "")).rsplit(".", 1)[-1] == "Transformer"]
    if len(transformers) != 1:
        logger.warning("%s: %d transformer modules in %s; the export keeps no sentence-transformers stack",
                       base_model, len(transformers), MODULES_FILE)
        return False
    out = Path(directory)
    for name in ROOT_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
    for module in modules:
        path = str(module.get("path", ""))
        if module is transformers[0]:
            # its settings (max_seq_length, lower-casing) go to the root, beside the trained weights
            if path and (source / path / "sentence_bert_config.json").is_file():
                shutil.copyfile(source / path / "sentence_bert_config.json", out / "sentence_bert_config.json")
            module["path"] = ""
        elif path:
            if (source / path).is_dir():
                shutil.copytree(source / path, out / path, dirs_exist_ok=True)
            else:  # modules without files (Normalize) may ship no folder
                (out / path).mkdir(parents=True, exist_ok=True)
    (out / MODULES_FILE).write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")
    return True


def _source(base_model: str) -> Path | None:
    """A local folder holding the base model's ``modules.json`` and module folders, or None."""
    local = resolve_model_path(base_model)
    if os.path.isdir(local):
        return Path(local) if (Path(local) / MODULES_FILE).is_file() else None
    from huggingface_hub import hf_hub_download, snapshot_download

    try:
        modules = json.loads(Path(hf_hub_download(base_model, MODULES_FILE)).read_text(encoding="utf-8"))
        folders = [f"{m['path']}/*" for m in modules if m.get("path")]
        return Path(snapshot_download(base_model, allow_patterns=[MODULES_FILE, *ROOT_FILES, *folders]))
    except (OSError, ValueError) as exc:  # the hub's errors (404, offline, not cached) are OSErrors
        # An export must not fail for want of optional metadata; a 404 is what a non-ST model gives.
        logger.info("%s: no sentence-transformers modules found (%s)", base_model, str(exc).splitlines()[0][:200])
        return None
