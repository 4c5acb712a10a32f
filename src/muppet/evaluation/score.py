"""``muppet evaluate``: an export's own heads scored on its tasks' dev or test splits, no fine-tuning.

The data comes through the pipeline's plan phase (the same records, held-out slices and
caches as a run); only evaluation features are built. The table is the one printed after
pre-finetuning, with chance levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from muppet.config.evaluate import EvaluateConfig
from muppet.evaluation.predict import SETTINGS, inherited
from muppet.families import get_family
from muppet.registry import unknown
from muppet.tasks.spec import TaskSpec

# What a run's saved config decides about its evaluation data: features, decoding, held-out slices.
INHERITED = (*SETTINGS, "heldout_fraction", "heldout_max")


def export_defaults(settings: Mapping[str, Any]) -> dict[str, Any]:
    """An evaluate config's ``settings`` with the keys of INHERITED it leaves out taken from the
    export's training config, so that a held-out slice is the one its run held out."""
    from muppet.train.export import read_manifest

    export = settings.get("export", EvaluateConfig.model_fields["export"].default)
    return inherited(read_manifest(export).get("config") or {}, settings, INHERITED)


def chosen_tasks(export: str, names: list[str]) -> list[TaskSpec]:
    from muppet.train.export import export_specs

    specs = {spec.name: spec for spec in export_specs(export)}
    for name in names:
        if name not in specs:
            raise unknown(f"task of the export {export}:", name, list(specs))
    return [specs[name] for name in names] if names else list(specs.values())


def evaluate(cfg: EvaluateConfig) -> dict[str, Any]:
    """Every chosen task's metrics, the results table, and where they were written."""
    import torch

    from muppet.data.pipeline import featurize_plan, plan_tasks
    from muppet.data.store import tokenizer_fingerprint
    from muppet.evaluation.evaluate import evaluate_task
    from muppet.train.checkpoint import write_json_atomic
    from muppet.train.export import load_export
    from muppet.train.loop import check_backbone, feature_settings, format_table, load_tokenizer, results_table
    from muppet.train.step import pad_multiple

    specs = chosen_tasks(cfg.export, cfg.tasks)
    check_backbone(specs, cfg.export, False, cfg.max_length)
    tokenizer = load_tokenizer(cfg.export, specs)
    settings = feature_settings(cfg)
    # Every task's data is read and checked before the model loads.
    plans = plan_tasks(
        specs, {s.name: get_family(s.family).head_key(s) for s in specs}, cfg.progress, data_dir=cfg.data_dir,
        source=cfg.source, on_bad_record=cfg.on_bad_record, cache_dir=cfg.cache_dir,
        heldout_fraction=cfg.heldout_fraction, heldout_max=cfg.heldout_max, max_eval_examples=cfg.max_eval_examples,
        eval_split=cfg.split,
    )
    key = tokenizer_fingerprint(tokenizer)
    tasks = [featurize_plan(p, tokenizer, settings, cache_dir=cfg.cache_dir, tokenizer_key=key, train_features=False)
             for p in plans]
    device = torch.device("cuda" if torch.cuda.is_available() and not cfg.cpu else "cpu")
    model = load_export(cfg.export)[0].to(device).eval()
    padding = pad_multiple(cfg.pad_to_multiple_of, device)
    results = {t.name: evaluate_task(model, t, settings, tokenizer, None, cfg.eval_batch_size, padding) for t in tasks}
    rows = results_table(tasks, results)
    summary: dict[str, Any] = {"export": cfg.export, "split": cfg.split, "results": results, "table": rows}
    if cfg.output_dir is not None:
        out = Path(cfg.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "results.json", {**summary, "config": cfg.to_dict()})
        (out / "results.md").write_text(format_table(rows) + "\n", encoding="utf-8")
        summary["output_dir"] = str(out)
    return summary
