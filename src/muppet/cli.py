"""The ``muppet`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from muppet import __version__
from muppet.errors import MuppetError


def _cmd_prefinetune(args: argparse.Namespace) -> int:
    from muppet.config import PrefinetuneConfig
    from muppet.train.loop import format_table, prefinetune

    path, overrides = args.config, list(args.overrides)
    if "=" in path and not os.path.exists(path):  # no config file: only key=value overrides
        path, overrides = None, [path, *overrides]
    cfg = PrefinetuneConfig.load(path, overrides)
    summary = prefinetune(cfg)
    if summary.get("results") is not None and int(os.environ.get("RANK", "0")) == 0:
        print(f"\nDev results after {summary['step']} updates ({summary['output_dir']}):\n")
        print(format_table(summary["results"]))
        if summary.get("export"):
            print(f"\nExport: {summary['export']}")
    return 0


def _splits_cell(spec: object, data_dir: str | None) -> str:
    from muppet.tasks.loading import available_splits

    local = spec.local_splits(data_dir)  # type: ignore[attr-defined]
    hub = [s for s in available_splits(spec, data_dir, "hub")]  # type: ignore[arg-type]
    return ",".join(local) if local else (f"hub:{','.join(hub)}" if hub else "-")


def _cmd_tasks_list(args: argparse.Namespace) -> int:
    from muppet.tasks.mixtures import MIXTURES
    from muppet.tasks.spec import all_tasks

    data_dir = args.data_dir or os.environ.get("MUPPET_DATA_DIR")
    specs = [s for s in all_tasks() if not args.family or s.family == args.family]
    rows = []
    for spec in specs:
        if spec.family == "classification":
            space = f"{spec.label_range[0]:g}..{spec.label_range[1]:g}" if spec.label_range else "/".join(spec.labels)
        elif spec.family == "multiple_choice":
            space = "choices"
        elif spec.family == "extractive_qa":
            space = "span" + (" or none" if spec.options.get("unanswerable") else "")
        else:
            space = "text"
        rows.append((spec.name, spec.family, space if len(space) <= 40 else space[:37] + "...", _splits_cell(spec, data_dir)))
    widths = [max(len(r[i]) for r in rows + [("task", "family", "labels", "local splits")]) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(("task", "family", "labels", "local splits"), widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print(f"\n{len(rows)} tasks. Mixtures: {', '.join(MIXTURES.names())}")
    return 0


def _cmd_tasks_show(args: argparse.Namespace) -> int:
    import dataclasses

    import yaml

    from muppet.tasks.loading import available_splits
    from muppet.tasks.spec import get_task

    spec = get_task(args.name)
    data_dir = args.data_dir or os.environ.get("MUPPET_DATA_DIR")
    info = dataclasses.asdict(spec)
    info["available_splits"] = available_splits(spec, data_dir)
    info["local_splits_here"] = spec.local_splits(data_dir)
    print(yaml.safe_dump(_plain(info), sort_keys=False, allow_unicode=True).rstrip())
    return 0


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="muppet", description="Multi-task pre-finetuning (MUPPET) for transformers.")
    parser.add_argument("--version", action="version", version=f"muppet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log library messages and show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prefinetune", help="pre-finetune a model on a mixture of tasks")
    p.add_argument("config", help="YAML config (see configs/); may be left out when only key=value overrides are given")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="override config keys")
    p.set_defaults(func=_cmd_prefinetune)

    tasks = sub.add_parser("tasks", help="the task catalogue")
    tsub = tasks.add_subparsers(dest="tasks_command", required=True)
    tl = tsub.add_parser("list", help="every task: family, labels, splits available here")
    tl.add_argument("--family", choices=["classification", "multiple_choice", "extractive_qa", "summarization"])
    tl.add_argument("--data-dir", help="default: $MUPPET_DATA_DIR")
    tl.set_defaults(func=_cmd_tasks_list)
    ts = tsub.add_parser("show", help="one task's full declaration")
    ts.add_argument("name")
    ts.add_argument("--data-dir", help="default: $MUPPET_DATA_DIR")
    ts.set_defaults(func=_cmd_tasks_show)
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


if __name__ == "__main__":
    raise SystemExit(main())
