"""The ``muppet`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from muppet import __version__
from muppet.config import (
    DEFAULT_MODEL,
    Config,
    EvaluateConfig,
    FinetuneConfig,
    PrefinetuneConfig,
    StudyConfig,
    SweepConfig,
)
from muppet.config.transfer import AffinityConfig
from muppet.errors import MuppetError
from muppet.tables import markdown_table


def _config_args(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    """The config file and overrides; the file may be left out when only overrides are given."""
    path, overrides = args.config, list(args.overrides)
    if "=" in path and not os.path.exists(path):
        return None, [path, *overrides]
    return path, overrides


def _cmd_prefinetune(args: argparse.Namespace) -> int:
    from muppet.train.loop import format_table, prefinetune

    cfg = PrefinetuneConfig.load(*_config_args(args))
    summary = prefinetune(cfg)
    if summary.get("stopped"):
        return _stopped(summary)
    if summary.get("results") is not None and int(os.environ.get("RANK", "0")) == 0:
        print(f"\nDev results after {summary['step']} updates ({summary['output_dir']}):\n")
        print(format_table(summary["results"]))
        if summary.get("export"):
            print(f"\nExport: {summary['export']}")
        if summary.get("pushed"):
            print(f"Pushed: {summary['pushed']}")
    return 0


def _stopped(summary: dict[str, Any]) -> int:
    """A run stopped with a checkpoint: say how to continue; 130 for a signal."""
    if int(os.environ.get("RANK", "0")) == 0:
        why = "on a signal" if summary.get("signal") else f"after update {summary['step']} (stop_after)"
        print(f"\nStopped {why} at update {summary['step']}, checkpoint saved in {summary['output_dir']}/checkpoints; "
              "continue with resume=true.")
    return 130 if summary.get("signal") else 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    import json

    from muppet.evaluation.finetune import finetune, stopped_early

    cfg = FinetuneConfig.load(*_config_args(args))
    result = finetune(cfg)
    if result.get("stopped"):
        return _stopped(result)
    if int(os.environ.get("RANK", "0")) == 0:
        ended = {True: ", ended by early stopping", False: ", ran to its budget: the score may still be rising",
                 None: ""}[stopped_early(result)]
        print(f"\n{result['task']} ({result['n_train']:,} training examples, {result['steps']} updates, "
              f"best at {result['best_step']}{ended}, {result['seconds']:.0f} s)")
        for split in ("dev", "test"):
            if result.get(split):
                print(f"  {split}: " + json.dumps({k: round(v, 4) for k, v in result[split].items()}))
        print(f"Results: {cfg.output_dir}/results.json")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from muppet.evaluation.sweep import sweep

    cfg = SweepConfig.load(*_config_args(args))
    summary = sweep(cfg)
    if summary["stopped"]:
        why = "on a signal" if summary.get("signal") else "by stop_after"
        print(f"Stopped {why} after {summary['ran']} cells run now; rerun the same command to continue (the "
              f"stopped cell resumes from its checkpoint). Results so far: {summary['results']}")
        return 130 if summary.get("signal") else 0
    print(f"{summary['cells']} cells: {summary['ran']} run now, {summary['skipped']} already done. "
          f"Results: {summary['results']}")
    return 0


def _cmd_affinity(args: argparse.Namespace) -> int:
    from muppet.transfer.affinity import affinity

    cfg = AffinityConfig.load(*_config_args(args))
    summary = affinity(cfg)
    print(f"\nSelected for {', '.join(cfg.targets)}: {', '.join(summary['selected']) or 'nothing (no positive affinity)'}")
    print(f"Rankings: {summary['output_dir']}/affinity.md; mixture: {summary['output_dir']}/mixture.yaml "
          f"(muppet prefinetune tasks=[{summary['output_dir']}/mixture.yaml])")
    return 0


def _cmd_data_prepare(args: argparse.Namespace) -> int:
    from muppet.data.pipeline import prepare_tasks
    from muppet.families import get_family
    from muppet.tasks.mixtures import select
    from muppet.train.loop import check_backbone, feature_settings, load_tokenizer

    cfg = PrefinetuneConfig.load(*_config_args(args))
    selection = select(cfg.tasks, cfg.exclude, cfg.downstream, cfg.data_dir)  # the run's tasks and caps
    specs = selection.specs
    check_backbone(specs, cfg.model, cfg.trust_remote_code, cfg.max_length)
    tokenizer = load_tokenizer(cfg.model, specs, cfg.trust_remote_code)
    heads = {s.name: get_family(s.family).head_key(s) for s in specs}
    tasks = prepare_tasks(
        specs, heads, tokenizer, feature_settings(cfg), progress=cfg.progress, leakage=cfg.leakage,
        leakage_unit=cfg.leakage_unit, num_proc=cfg.num_proc, protect=selection.downstream, caps=selection.caps, data_dir=cfg.data_dir,
        source=cfg.source, on_bad_record=cfg.on_bad_record, cache_dir=cfg.cache_dir,
        heldout_fraction=cfg.heldout_fraction, heldout_max=cfg.heldout_max,
        max_train_examples=cfg.max_train_examples, max_eval_examples=cfg.max_eval_examples, seed=cfg.seed,
    )
    header = ("task", "train examples", "train features", "eval examples", "eval split", "dropped (leakage)",
              "filtered (hub)", "skipped (malformed)", "cache")
    print("\n".join(markdown_table(header, [
        (t.name, f"{t.n_train_records:,}", f"{len(t.train):,}", f"{len(t.eval_records):,}", t.eval_split,
         f"{t.dropped_leaks:,}", f"{t.filtered:,}", f"{t.skipped:,}", "hit" if t.cached else "built") for t in tasks])))
    return 0


def _cmd_tasks_list(args: argparse.Namespace) -> int:
    from muppet.families import get_family
    from muppet.tasks.mixtures import MIXTURES
    from muppet.tasks.spec import all_tasks

    data_dir = args.data_dir or os.environ.get("MUPPET_DATA_DIR")
    if args.family:
        get_family(args.family)  # an unknown name fails with the nearest ones
    specs = [s for s in all_tasks() if not args.family or s.family == args.family]
    header = ("task", "family", "labels", "local splits", "hub")
    rows = []
    for spec in specs:
        space = get_family(spec.family).label_space(spec)
        hub = "-" if spec.hub is None else spec.hub.path + (f"/{spec.hub.name}" if spec.hub.name else "")
        local = ",".join(spec.local_splits(data_dir)) or ("-" if spec.local is None else "(not here)")
        rows.append((spec.name, spec.family, space if len(space) <= 40 else space[:37] + "...", local, hub))
    print("\n".join(markdown_table(header, rows)))
    print(f"\n{len(rows)} tasks. Mixtures: {', '.join(MIXTURES.names())}")
    return 0


def _cmd_tasks_show(args: argparse.Namespace) -> int:
    import dataclasses

    import yaml

    from muppet.tasks.loading import available_splits
    from muppet.tasks.mixtures import expand
    from muppet.tasks.spec import get_task
    from muppet.tasks.user import is_task_file

    data_dir = args.data_dir or os.environ.get("MUPPET_DATA_DIR")
    spec = expand([args.name], data_dir)[0][0] if is_task_file(args.name) else get_task(args.name)
    info = dataclasses.asdict(spec)
    info["available_splits"] = available_splits(spec, data_dir)
    info["local_splits_here"] = spec.local_splits(data_dir)
    print(yaml.safe_dump(_plain(info), sort_keys=False, allow_unicode=True).rstrip())
    return 0


def _cmd_tasks_validate(args: argparse.Namespace) -> int:
    from muppet.tasks.mixtures import expand
    from muppet.tasks.spec import all_tasks
    from muppet.tasks.validate import format_report, validate_tasks

    data_dir = args.data_dir or os.environ.get("MUPPET_DATA_DIR")
    if args.local:
        specs = [s for s in all_tasks() if s.local_splits(data_dir)]
        if not specs:
            raise MuppetError(f"no local task data under {data_dir!r} (set --data-dir or $MUPPET_DATA_DIR)")
    elif args.names:
        specs, _ = expand(args.names, data_dir)
    else:
        raise MuppetError("name tasks (or mixtures, or task files) to validate, or pass --local")
    tokenizer = None
    if not args.no_tokenize:
        from muppet.train.loop import load_tokenizer

        tokenizer = load_tokenizer(args.model, specs)
    failed = records = 0
    source = "local" if args.local else args.source
    for report in validate_tasks(specs, data_dir, source, tokenizer, args.max_length):
        print(format_report(report, args.max_length), flush=True)
        failed += not report.ok
        records += sum(s.records for s in report.splits)
    print(f"\n{len(specs)} task(s), {records:,} records: {len(specs) - failed} OK, {failed} with problems")
    return 1 if failed else 0


def _cmd_tasks_check_hub(args: argparse.Namespace) -> int:
    from muppet.tasks.hub_check import check_task, format_checks
    from muppet.tasks.mixtures import expand
    from muppet.tasks.spec import all_tasks

    if args.all:
        specs = [s for s in all_tasks() if s.hub is not None]
    elif args.names:
        specs, _ = expand(args.names, None)
    else:
        raise MuppetError("name tasks (or mixtures, or task files) to check, or pass --all")
    without = [s.name for s in specs if s.hub is None]
    if without:
        raise MuppetError(f"no hub source: {', '.join(without)}")
    checks = []
    for spec in specs:
        checks += check_task(spec, rows=args.rows)
    for line in format_checks(checks):
        print(line, flush=True)
    failed = len({c.task for c in checks if not c.ok})
    print(f"\n{len(specs)} task(s), {sum(c.rows for c in checks):,} rows checked: {len(specs) - failed} OK, {failed} failed")
    return 1 if failed else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from muppet.report import write_report

    report = write_report(args.dir, args.out, args.runs, args.baseline, args.split)
    print(f"Report: {report.out_dir / 'report.md'} ({len(report.plots)} plot(s), "
          f"{len(report.gaps.missing)} missing run(s))")
    if report.gaps.incomplete or report.gaps.without_value:
        print(f"muppet: warning: {len(report.gaps.incomplete)} run(s) lack their headline metric on a split, "
              f"{len(report.gaps.without_value)} row(s) of {report.results.path} have no finite value: "
              "named under 'Missing cells' in report.md", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from muppet.integrations.heads import export_task

    out = export_task(args.export, args.task, args.out)
    print(f"{args.task}: {out} (loads with plain transformers)")
    return 0


def _cmd_push(args: argparse.Namespace) -> int:
    from muppet.integrations.hub_push import push

    url = push(args.export, args.repo_id, private=True if args.private else None, revision=args.revision)
    print(f"Pushed {args.export} to {args.repo_id}: {url}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from muppet.api import evaluate
    from muppet.config import parse_overrides
    from muppet.errors import ConfigError
    from muppet.train.loop import format_table

    given = parse_overrides(args.overrides)
    flags = {"export": args.export, "tasks": args.tasks, "split": args.split, "output_dir": args.output_dir}
    flags = {k: v for k, v in flags.items() if v is not None}
    twice = sorted(set(flags) & set(given))
    if twice:
        raise ConfigError(f"{twice[0]!r} is given twice (as an option and as {twice[0]}=...)")
    summary = evaluate({**given, **flags})
    print(f"\n{summary['split']} results of {summary['export']} (its own heads, no fine-tuning):\n")
    print(format_table(summary["table"]))
    if summary.get("output_dir"):
        print(f"\nResults: {summary['output_dir']}/results.json")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from muppet.evaluation.predict import predict_file

    count = predict_file(args.export, args.task, args.input, args.output, args.batch_size,
                         progress=not args.no_progress, device="cpu" if args.cpu else None)
    print(f"{count:,} prediction(s) of {args.task}: {args.output}")
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {text!r}")
    return int(text)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

def _cmd_study(args: argparse.Namespace) -> int:
    from muppet.study import run_study

    cfg = StudyConfig.load(*_config_args(args))
    result = run_study(cfg)
    if result.get("stopped"):
        print(f"\nStopped during run {result['run']!r}; rerun the same command to continue.")
        return 130
    print(f"\nSummary: {result['summary']}")
    for name, path in result["reports"].items():
        print(f"  {name}: {path}")
    return 0


def _keys_help(cls: type[Config]) -> dict[str, Any]:
    """--help lists every key of the command's config, generated from its fields."""
    from muppet.config.docs import help_text

    return {"epilog": help_text(cls), "formatter_class": argparse.RawDescriptionHelpFormatter}


def _config_command(sub: Any, name: str, help: str, cls: type[Config], func: Any, config_help: str) -> None:
    """A subcommand run from one config: a YAML file and/or key=value overrides, its keys in --help."""
    p = sub.add_parser(name, help=help, **_keys_help(cls))
    p.add_argument("config", help=config_help)
    p.add_argument("overrides", nargs="*", metavar="key=value", help="override config keys")
    p.set_defaults(func=func)


def _add_tasks_commands(sub: Any) -> None:
    tasks = sub.add_parser("tasks", help="the task catalogue")
    tsub = tasks.add_subparsers(dest="tasks_command", required=True)
    tl = tsub.add_parser("list", help="every task: family, labels, where it can be read from")
    tl.add_argument("--family", help="only this family's tasks")
    tl.add_argument("--data-dir", help="default: $MUPPET_DATA_DIR")
    tl.set_defaults(func=_cmd_tasks_list)
    ts = tsub.add_parser("show", help="one task's full declaration")
    ts.add_argument("name")
    ts.add_argument("--data-dir", help="default: $MUPPET_DATA_DIR")
    ts.set_defaults(func=_cmd_tasks_show)
    tv = tsub.add_parser("validate", help="read every split: counts, labels, duplicates, overlong and malformed records")
    tv.add_argument("names", nargs="*", help="tasks, mixtures or task files")
    tv.add_argument("--local", action="store_true", help="every task with files under the data directory")
    tv.add_argument("--data-dir", help="default: $MUPPET_DATA_DIR")
    tv.add_argument("--source", choices=["auto", "local", "hub"], default="auto")
    tv.add_argument("--model", default=DEFAULT_MODEL, help="tokenizer used to count overlong examples")
    tv.add_argument("--max-length", type=int, default=256, help="tokens; longer examples count as overlong")
    tv.add_argument("--no-tokenize", action="store_true", help="skip the overlong count")
    tv.set_defaults(func=_cmd_tasks_validate)
    tc = tsub.add_parser("check-hub", help="stream a few rows of every hub split through its declaration (needs network)")
    tc.add_argument("names", nargs="*", help="tasks, mixtures or task files")
    tc.add_argument("--all", action="store_true", help="every catalogued task with a hub source")
    tc.add_argument("--rows", type=int, default=20, help="rows read per split (default: 20)")
    tc.set_defaults(func=_cmd_tasks_check_hub)


def _add_export_commands(sub: Any) -> None:
    """The commands that take an export: per-task heads, the Hub, evaluation, prediction."""
    ex = sub.add_parser("export", help="one task's head on its AutoModelFor* class, for plain transformers")
    ex.add_argument("export", help="a muppet export folder")
    ex.add_argument("out", help="the new folder")
    ex.add_argument("--task", required=True, help="the task whose head to write")
    ex.set_defaults(func=_cmd_export)

    pu = sub.add_parser("push", help="upload an export to the Hugging Face Hub with its transfer card")
    pu.add_argument("export", help="a muppet export folder")
    pu.add_argument("repo_id", help="the Hub model repo (created when missing)")
    pu.add_argument("--private", action="store_true", help="create the repo private")
    pu.add_argument("--revision", help="a branch to push to (created when missing)")
    pu.set_defaults(func=_cmd_push)

    ev = sub.add_parser("evaluate", help="score an export's own heads on its tasks' dev or test splits, without "
                        "fine-tuning", description="The featurizing, decoding and held-out keys left unset are the "
                        "export's own (its saved config). Options go after the key=value overrides.",
                        **_keys_help(EvaluateConfig))
    ev.add_argument("export", help="a muppet export folder")
    ev.add_argument("overrides", nargs="*", metavar="key=value", help="override config keys")
    ev.add_argument("--tasks", metavar="NAMES", help="tasks of the export to score, comma-separated (default: all)")
    ev.add_argument("--split", choices=["dev", "test"], help="default: dev")
    ev.add_argument("--output-dir", help="write results.json and results.md here")
    ev.set_defaults(func=_cmd_evaluate)

    pr = sub.add_parser("predict", help="predictions of an export's head for a file of inputs (JSON lines in and out)")
    pr.add_argument("export", help="a muppet export folder")
    pr.add_argument("--task", required=True, help="the task whose head predicts")
    pr.add_argument("--input", required=True, help="JSON lines: one record per line in the task's format")
    pr.add_argument("--output", required=True, help="JSON lines: each input with its prediction under 'prediction' "
                    "(written complete or not at all)")
    pr.add_argument("--batch-size", type=_positive, default=64, help="backbone rows per batch (default: 64)")
    pr.add_argument("--cpu", action="store_true", help="run on the CPU even where an accelerator is present")
    pr.add_argument("--no-progress", action="store_true", help="no progress bar")
    pr.set_defaults(func=_cmd_predict)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="muppet", description="Multi-task pre-finetuning (MUPPET) for transformers.")
    parser.add_argument("--version", action="version", version=f"muppet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log library messages and show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    or_overrides = "YAML config (or only key=value overrides)"
    _config_command(sub, "prefinetune", "pre-finetune a model on a mixture of tasks", PrefinetuneConfig,
                    _cmd_prefinetune, "YAML config (see configs/); may be left out when only key=value overrides "
                    "are given")
    _config_command(sub, "finetune", "fine-tune a model (hub, local or muppet export) on one task", FinetuneConfig,
                    _cmd_finetune, or_overrides)
    _config_command(sub, "sweep", "fine-tune the grid models x tasks x fractions x seeds (resumable)", SweepConfig,
                    _cmd_sweep, or_overrides)
    _config_command(sub, "study", "pre-finetuning runs and the sweeps comparing them, with reports (resumable)",
                    StudyConfig, _cmd_study, "YAML study (see configs/reproduce.yaml), or only key=value overrides")
    _config_command(sub, "affinity", "which candidate tasks help your target tasks: gradient affinity from a short "
                    "co-training run, and the mixture it selects", AffinityConfig, _cmd_affinity, or_overrides)

    data = sub.add_parser("data", help="data preparation")
    dsub = data.add_subparsers(dest="data_command", required=True)
    _config_command(dsub, "prepare", "read, check and tokenize a run's tasks into the cache, ahead of the run",
                    PrefinetuneConfig, _cmd_data_prepare, "the run's YAML config (or only key=value overrides)")

    _add_tasks_commands(sub)
    _add_export_commands(sub)

    rp = sub.add_parser("report", help="tables, gains over a baseline and plots from a fine-tuning sweep's results.csv")
    rp.add_argument("dir", help="sweep directory holding results.csv (and sweep.yaml)")
    rp.add_argument("--out", help="write report.md, report.json and plots here (default: DIR)")
    rp.add_argument("--runs", nargs="+", default=[], metavar="RUN_DIR",
                    help="pre-finetuning output directories (metrics.jsonl) to plot losses from")
    rp.add_argument("--baseline", help="model to compare against (default: sweep.yaml's baseline, else the first)")
    rp.add_argument("--split", choices=["dev", "test"], default="dev", help="split for the plots (default: dev)")
    rp.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # transformers reports every unused pretrained weight (e.g. the pooler); noise here.
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    try:
        return int(args.func(args))
    except MuppetError as exc:
        if args.verbose:
            raise
        print(f"muppet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("muppet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `muppet tasks list | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
