"""The transfer card: an export's model card, in the Hub's model-card format.

It says what a reader needs to judge the checkpoint: the mixture (tasks, sizes, sampling
rates, the identity of each task's training data), the training settings, every task's dev
result next to its chance levels, and the leakage check. The metadata block is built with
``huggingface_hub`` (``ModelCardData`` with ``EvalResult`` rows: the ``model-index``), so the
Hub reads the results as such. Everything comes from the export's ``muppet.json``.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from muppet.config.base import RENAMED
from muppet.families import get_family
from muppet.integrations.st import MODULES_FILE
from muppet.tables import markdown_table

# Training settings shown on the card, in this order, when the export's config has them.
SETTINGS = (
    "max_steps", "batch_size", "grad_accum_steps", "lr", "weight_decay", "warmup_ratio", "max_grad_norm", "dropout",
    "precision", "seed", "batching", "loss_scaling", "sampling", "temperature", "max_train_examples", "max_length",
    "doc_stride", "r3f", "leakage", "leakage_unit",
)
TAGS = ["muppet", "pre-finetuning", "multi-task"]


def transfer_card(manifest: Mapping[str, Any], directory: str | os.PathLike[str], name: str | None = None) -> str:
    """The README.md of the export in ``directory`` (``name``: the model's name, e.g. its repo id)."""
    from huggingface_hub import ModelCardData

    st = (Path(directory) / MODULES_FILE).is_file()
    on_hub = _hub_id(str(manifest["base_model"]))
    base = str(manifest["base_model"]) if on_hub else Path(manifest["base_model"]).name  # no local paths on a card
    title = name or f"{Path(base).name}-muppet"
    data = ModelCardData(
        base_model=base if on_hub else None,
        library_name="sentence-transformers" if st else "transformers",
        tags=TAGS + (["sentence-transformers"] if st else []),
        datasets=sorted({t["spec"]["hub"]["path"] for t in manifest["tasks"] if t["spec"].get("hub")}) or None,
        model_name=title,
        eval_results=_eval_results(manifest) or None,
    )
    body = [
        f"# {title}", "",
        *_summary(manifest, base), "",
        *_usage(st), "",
        *_mixture(manifest), "",
        *_settings(manifest), "",
        *_results(manifest), "",
        *_probes(manifest), "",
        *_leakage(manifest),
    ]
    return f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body).rstrip() + "\n"


def _hub_id(name: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if os.path.exists(name):
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _score(task: Mapping[str, Any]) -> Any:
    return (task.get("dev") or {}).get(task.get("metric"))


def _eval_results(manifest: Mapping[str, Any]) -> list[Any]:
    from huggingface_hub import EvalResult

    results = []
    for t in manifest["tasks"]:
        value = _score(t)
        if not _finite(value):
            continue
        hub = t["spec"].get("hub") or {}
        split = t.get("eval_split") or ""
        results.append(EvalResult(
            task_type=get_family(t["family"]).hub_task,
            dataset_type=hub.get("path", t["name"]),
            dataset_name=t["name"],
            dataset_config=hub.get("name"),
            dataset_split="validation" if split == "dev" else split or None,
            metric_type=t["metric"],
            metric_value=float(value),
            metric_name=f"{t['metric']} (after pre-finetuning, no fine-tuning)",
        ))
    return results


def _summary(manifest: Mapping[str, Any], base: str) -> list[str]:
    families = Counter(t["family"] for t in manifest["tasks"])
    mix = ", ".join(f"{n} {family}" for family, n in families.most_common())
    return [f"`{base}` pre-finetuned (MUPPET, Aghajanyan et al. 2021) for {manifest['steps']} updates on "
            f"{len(manifest['tasks'])} tasks ({mix}) with muppet {manifest['muppet_version']}."]


def _usage(st: bool) -> list[str]:
    lines = [
        "## Usage", "",
        "```python",
        "from transformers import AutoModel, AutoTokenizer",
        'model = AutoModel.from_pretrained("REPO_OR_PATH")',
        'tokenizer = AutoTokenizer.from_pretrained("REPO_OR_PATH")',
        "```",
    ]
    if st:
        lines += ["", "It keeps the base model's sentence-transformers modules:", "", "```python",
                  "from sentence_transformers import SentenceTransformer",
                  'embeddings = SentenceTransformer("REPO_OR_PATH").encode(["A sentence."])', "```"]
    return lines + [
        "", "Every task's head is in `heads.safetensors`, described by `muppet.json`; "
        "`muppet export PATH --task NAME OUT` writes one task's head as a plain `AutoModelFor*` model.",
    ]


def _mixture(manifest: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Mixture", "",
        "`data id`: the identity of the task's training records (a hash of the task's declaration and of its "
        "source: file paths, sizes and content hashes, or the hub dataset's fingerprint).", "",
    ]
    rows = [(t["name"], t["family"], t["head"], _fmt(t.get("train_examples")), _fmt(t.get("sampling_rate")),
             "`" + t["data"][:16] + "`" if t.get("data") else "-") for t in manifest["tasks"]]
    return lines + markdown_table(("task", "family", "head", "train examples", "sampling rate", "data id"), rows)


def _settings(manifest: Mapping[str, Any]) -> list[str]:
    config = {RENAMED.get(k, k): v for k, v in (manifest.get("config") or {}).items()}  # an older export's names
    shown = [k for k in SETTINGS if k in config and not (k == "temperature" and config.get("sampling") != "temperature")]
    return ["## Training", "", *markdown_table(("setting", "value"), [(k, _fmt(config[k])) for k in shown])]


def _results(manifest: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Dev results", "",
        "Each task's headline metric on its evaluation examples right after pre-finetuning (no fine-tuning); "
        "`random` is a uniform guess, `trivial` the best constant answer.", "",
    ]
    rows = []
    for t in manifest["tasks"]:
        score, chance = _score(t), t.get("chance") or {}
        refs = [v for v in (chance.get("random"), chance.get("trivial")) if _finite(v)]
        above = ("yes" if score > max(refs) else "no") if _finite(score) and refs else "-"
        rows.append((t["name"], _fmt(t.get("eval_split")), _fmt(t.get("eval_examples")), _fmt(t.get("metric")),
                     _fmt(score), _fmt(chance.get("random")), _fmt(chance.get("trivial")), above))
    header = ("task", "eval split", "n", "metric", "score", "random", "trivial", "above both")
    return lines + markdown_table(header, rows)


def _probes(manifest: Mapping[str, Any]) -> list[str]:
    """The transfer-probe curve (update 0 is the base model) and which checkpoint was exported."""
    probe = manifest.get("probe")
    if not probe:
        return []
    tasks = list(probe["tasks"])
    lines = ["## Transfer probes", "",
             f"Each target task's {probe['method']} probe ({probe['examples']} training examples, {probe['steps']} "
             "updates, scored on dev) during pre-finetuning; update 0 is the base model, `gain` the mean gain over "
             "it in points.", ""]
    header = ("update", *(f"{t} ({probe['tasks'][t]})" for t in tasks), "gain")
    rows = [(f"{point['step']}{' (exported)' if point['step'] == probe.get('selected_step') else ''}",
             *(_fmt(point["scores"].get(t)) for t in tasks), _fmt(point.get("gain"))) for point in probe["curve"]]
    lines += markdown_table(header, rows)
    lines += ["", f"Exported: update {manifest['steps']} ("
              + ("the best mean probe gain" if probe.get("selected_step") == probe.get("best_step")
                 and (manifest.get("config") or {}).get("select_checkpoint") == "probe" else "the last update") + ")."]
    if probe.get("verdict"):
        lines.append(f"Note: {probe['verdict']}.")
    return lines


def _leakage(manifest: Mapping[str, Any]) -> list[str]:
    config = manifest.get("config") or {}
    mode = config.get("leakage")
    if mode is None:
        return []
    downstream = list(config.get("downstream") or [])
    recorded = any("dropped_leaks" in t for t in manifest["tasks"])
    dropped = ", ".join(f"{t['name']} {t['dropped_leaks']:,}" for t in manifest["tasks"] if t.get("dropped_leaks"))
    passages = config.get("leakage_unit") == "passage"
    outcome = {
        "error": "passed: no training text of the run is one of its evaluation texts"
                 + (" or reads one of their passages" if passages else "") + " (the run refuses to start otherwise)",
        "drop": "training copies of evaluation texts" + (" and training examples reading their passages" if passages
                                                         else "") + " were dropped: "
                + (dropped or ("none were found" if recorded else "the counts were not recorded")),
        "allow": "not enforced: overlaps between training and evaluation texts were only logged",
    }.get(str(mode), f"mode {mode}")
    unit = ", `leakage_unit: passage`" if passages else ""
    lines = ["## Leakage check", "", f"`leakage: {mode}`{unit}, {outcome}."]
    if downstream:
        lines.append(f"The dev and test texts of the downstream tasks {', '.join(downstream)} count as evaluated, "
                     "so the checkpoint never trained on what their fine-tuning scores.")
    return lines
