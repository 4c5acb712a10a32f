"""The GPU path, measured in one short run (`make bench-gpu`, or `bench/gpu.sh` on the lent machine).

For a roberta-base-sized encoder and MiniLM (both random init from their configs), at
max_length 128 and 256, on a synthetic mixed-family mixture (pairs, 3-way pairs, 4-option
multiple choice, QA windows; token ids drawn at random, lengths drawn like real tasks):
real (non-pad) tokens/s and model FLOPs utilisation against the chip's bf16 dense peak for

- ``fp32``: fp32, one padded micro-batch per shard, default AdamW;
- ``bf16``: the same under bf16 autocast;
- ``bf16_fast``: bf16, SDPA attention, ``torch.compile`` (dynamic shapes), fused AdamW,
  ``pad_to_multiple_of`` 8 and token-budget micro-batches (``max_tokens``);
- ``plain``: a plain loop on the same rows with the fast options (sorted by length,
  pre-padded, on the GPU beforehand, one linear head): the ratio muppet / plain.

then a one-GPU FSDP and a one-GPU DeepSpeed `muppet prefinetune` run that must complete and
export (each needs `datasets`, and DeepSpeed its own package; a missing one is recorded, not
fatal), and peak GPU memory of every configuration. Writes ``OUT/gpu.json``.

Model FLOPs per update (PaLM's accounting, Chowdhery et al. 2022, appendix B): 6 x
non-embedding parameters x real tokens + 12 x layers x hidden x sum over rows of their
length squared (attention scores and values, forward and backward), counting real tokens
only, so padding never counts as useful work. Peak: 989 TFLOP/s, the H200's bf16 dense
Tensor Core figure (NVIDIA H200 datasheet: 1,979 TFLOP/s "with sparsity", half of it dense).

``--smoke`` runs every configuration on the CPU with a tiny model in fp32, in seconds (the
test suite does); timings from it mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the lent machine runs from a copy of the tree, muppet not installed

PEAK_BF16_DENSE = {"NVIDIA H200": 989e12, "NVIDIA H100 80GB HBM3": 989e12}
MODES = ("fp32", "bf16", "bf16_fast", "plain")


def model_config(name: str, max_length: int, smoke: bool) -> Any:
    from transformers import BertConfig, RobertaConfig

    if smoke:
        return BertConfig(vocab_size=512, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, max_position_embeddings=max_length + 2)
    if name == "roberta-base":  # roberta-base's own config.json values
        return RobertaConfig(vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                             intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1,
                             pad_token_id=1, bos_token_id=0, eos_token_id=2)
    return BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,  # all-MiniLM-L6-v2
                      intermediate_size=1536, max_position_embeddings=512)


# --- a synthetic mixed-family mixture -----------------------------------------------------------
@dataclass
class Features:
    """What the Stepper reads of a task's training features (muppet's FeatureStore, in memory)."""

    features: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.features)

    def get(self, indices: Any) -> list[dict[str, Any]]:
        return [self.features[i] for i in indices]

    def row_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lengths = [[len(r) for r in f["rows"]] for f in self.features]
        return (np.array([max(x) for x in lengths]), np.array([len(x) for x in lengths]), np.array([sum(x) for x in lengths]))


@dataclass
class SyntheticTask:
    spec: Any
    head: str
    train: Features
    n_train_records: int


def mixture(max_length: int, vocab: int, n: int, seed: int = 0) -> list[SyntheticTask]:
    """Four tasks of four shapes; lengths lognormal like GLUE pairs, options, QA windows."""
    from muppet.families import get_family
    from muppet.tasks.spec import LocalSource, TaskSpec

    rng = np.random.default_rng(seed)
    src = LocalSource("jsonl", {"train": ("train.jsonl",)})

    def row(mean: float) -> np.ndarray:
        length = int(np.clip(rng.lognormal(np.log(mean), 0.5), 8, max_length))
        return rng.integers(5, vocab, length).astype(np.int32)

    shapes = {
        "pairs": (TaskSpec("syn_pairs", "classification", src, labels=("a", "b")), lambda: {"rows": [row(max_length * 0.3)], "label": int(rng.integers(2))}),
        "nli": (TaskSpec("syn_nli", "classification", src, labels=("e", "n", "c")), lambda: {"rows": [row(max_length * 0.2)], "label": int(rng.integers(3))}),
        "mc": (TaskSpec("syn_mc", "multiple_choice", src), lambda: {"rows": [row(max_length * 0.25) for _ in range(4)], "label": int(rng.integers(4))}),
        "qa": (TaskSpec("syn_qa", "extractive_qa", src), lambda: qa_feature(rng, max_length, vocab)),
    }
    tasks = []
    for spec, make in shapes.values():
        feats = [{"types": None, "example": i, **make()} for i in range(n)]
        tasks.append(SyntheticTask(spec, get_family(spec.family).head_key(spec), Features(feats), n))
    return tasks


def qa_feature(rng: np.random.Generator, max_length: int, vocab: int) -> dict[str, Any]:
    length = max_length if rng.random() < 0.7 else int(rng.integers(max_length // 2, max_length))
    c0 = int(rng.integers(4, max(5, length // 4)))  # the question's tokens come first
    start = int(rng.integers(c0, length - 3))
    return {"rows": [rng.integers(5, vocab, length).astype(np.int32)], "span": (c0, length - 2), "start": start,
            "end": start + int(rng.integers(0, 3))}


def model_flops(config: Any, params: int, real_tokens: int, squares: int) -> float:
    embedding = config.vocab_size * config.hidden_size + config.max_position_embeddings * config.hidden_size
    return 6.0 * (params - embedding) * real_tokens + 12.0 * config.num_hidden_layers * config.hidden_size * squares


# --- muppet's update on the GPU -------------------------------------------------------------------
def run_muppet(name: str, max_length: int, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    from muppet.backbone import Backbone
    from muppet.data.sampler import MixtureSampler, sampling_rates
    from muppet.model import MultiTaskModel
    from muppet.train.skeleton import param_groups
    from muppet.train.step import Stepper, make_accelerator

    fast = mode == "bf16_fast"
    config = model_config(name, max_length, args.smoke)
    config._attn_implementation = "sdpa" if fast else config._attn_implementation
    tasks = mixture(max_length, config.vocab_size, args.examples)
    torch.manual_seed(0)
    # --smoke keeps fp32 throughout: bf16 on a CPU is slow and tells nothing about the GPU
    precision = "fp32" if mode == "fp32" or args.smoke else "bf16"
    accelerator, _ = make_accelerator(args.cpu, precision, 1, args.batch_size)
    model = MultiTaskModel(Backbone.from_config(config), [t.spec for t in tasks], dropout=0.1)
    params = sum(p.numel() for p in model.backbone.parameters())
    if fast and not args.no_compile:
        model.backbone.model = torch.compile(model.backbone.model, dynamic=True)
    fused = {"fused": True} if fast and accelerator.device.type == "cuda" else {}
    optimizer = torch.optim.AdamW(param_groups(model, 0.01), lr=1e-5, **fused)
    model, optimizer = accelerator.prepare(model, optimizer)
    rates = sampling_rates([t.n_train_records for t in tasks])
    sampler = MixtureSampler([t.spec.name for t in tasks], [len(t.train) for t in tasks], rates, seed=1,
                             batch_size=args.batch_size, batching="heterogeneous", max_steps=args.updates)
    stepper = Stepper(accelerator, model, optimizer, tasks, 1, 1, "log", 1.0, pad_to_multiple_of=8 if fast else 1,
                      max_tokens=args.max_tokens if fast else None)
    model.train()
    totals = {"real_tokens": 0, "padded_tokens": 0, "squares": 0, "micro_batches": 0, "seconds": 0.0}
    rows: list[np.ndarray] = []
    for step in range(args.warmup + args.updates):
        plan = sampler.next_update()
        sync(accelerator.device)
        start = time.perf_counter()
        result = stepper.update(step, plan)
        sync(accelerator.device)
        if step < args.warmup:
            continue
        totals["seconds"] += time.perf_counter() - start
        totals["real_tokens"] += result.tokens
        totals["padded_tokens"] += result.padded
        totals["micro_batches"] += result.micro_batches
        for t, i in plan.examples:
            for r in tasks[t].train.features[i]["rows"]:
                rows.append(r)
                totals["squares"] += len(r) ** 2
    return finish(totals, config, params, accelerator.device, args) | {"rows": rows}


def sync(device: Any) -> None:
    if getattr(device, "type", "") == "cuda":
        torch.cuda.synchronize()


def finish(totals: dict[str, Any], config: Any, params: int, device: Any, args: argparse.Namespace) -> dict[str, Any]:
    flops = model_flops(config, params, totals["real_tokens"], totals["squares"])
    peak = PEAK_BF16_DENSE.get(torch.cuda.get_device_name() if device.type == "cuda" else "", float("nan"))
    out = {
        "tokens_per_s": totals["real_tokens"] / totals["seconds"],
        "non_pad_fraction": totals["real_tokens"] / max(totals["padded_tokens"], 1),
        "model_tflops_per_s": flops / totals["seconds"] / 1e12,
        "mfu": flops / totals["seconds"] / peak,
        "micro_batches_per_update": totals["micro_batches"] / args.updates,
        "seconds": totals["seconds"],
        "parameters": params,
    }
    if device.type == "cuda":
        out["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
        torch.cuda.reset_peak_memory_stats()
    return out


# --- the plain loop: the same rows, sorted and pre-padded on the device ----------------------------
def run_plain(name: str, max_length: int, rows: list[np.ndarray], rows_per_batch: int, args: argparse.Namespace) -> dict[str, Any]:
    from transformers import AutoModel

    config = model_config(name, max_length, args.smoke)
    config._attn_implementation = "sdpa"
    device = torch.device("cpu" if args.cpu or not torch.cuda.is_available() else "cuda")
    torch.manual_seed(0)
    backbone = AutoModel.from_config(config).to(device)
    params = sum(p.numel() for p in backbone.parameters())
    head = torch.nn.Linear(config.hidden_size, 2).to(device)
    forward = backbone if args.no_compile else torch.compile(backbone, dynamic=True)
    fused = {"fused": True} if device.type == "cuda" else {}
    optimizer = torch.optim.AdamW(list(backbone.parameters()) + list(head.parameters()), lr=1e-5, **fused)
    ordered = sorted(rows, key=len)
    batches = []
    for start in range(0, len(ordered), rows_per_batch):
        chunk = ordered[start : start + rows_per_batch]
        width = -(-max(len(r) for r in chunk) // 8) * 8
        ids = torch.full((len(chunk), width), config.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for j, r in enumerate(chunk):
            ids[j, : len(r)] = torch.from_numpy(r.astype(np.int64))
            mask[j, : len(r)] = 1
        batches.append((ids.to(device), mask.to(device), torch.zeros(len(chunk), dtype=torch.long, device=device)))

    def step(ids: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=not args.smoke):
            loss = torch.nn.functional.cross_entropy(head(forward(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]).float(), target)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    backbone.train()
    for batch in batches[: max(args.warmup, 1)]:  # the same shapes, untimed (compilation)
        step(*batch)
    sync(device)
    start = time.perf_counter()
    for batch in batches:
        step(*batch)
    sync(device)
    totals = {"real_tokens": sum(len(r) for r in rows), "padded_tokens": sum(b[0].numel() for b in batches),
              "squares": sum(len(r) ** 2 for r in rows), "micro_batches": len(batches), "seconds": time.perf_counter() - start}
    return finish(totals, config, params, device, args)


# --- FSDP and DeepSpeed, one GPU, end to end through `muppet prefinetune` -------------------------
def write_run_inputs(folder: Path, args: argparse.Namespace) -> tuple[Path, list[str]]:
    """A random-init MiniLM-sized model with a word-level tokenizer, and three task files."""
    import yaml
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import AutoModel, PreTrainedTokenizerFast

    words = [f"w{i}" for i in range(400)]
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    config = model_config("minilm", 128, True)
    config.vocab_size = len(vocab)
    model_dir = folder / "model"
    AutoModel.from_config(config).save_pretrained(model_dir)
    fast.save_pretrained(model_dir)
    rng = np.random.default_rng(0)

    def text(n: int) -> str:
        return " ".join(rng.choice(words, n))

    rows = {
        "pairs": [{"a": text(int(rng.integers(5, 30))), "b": text(int(rng.integers(5, 30))), "label": str(rng.choice(["yes", "no"]))} for _ in range(200)],
        "mc": [{"context": text(20), "question": text(6), "choices": [text(5) for _ in range(4)], "label": int(rng.integers(4))} for _ in range(200)],
    }
    qa = []
    for i in range(200):
        context = text(int(rng.integers(30, 150)))
        answer = " ".join(context.split()[10:12])
        qa.append({"id": str(i), "context": context, "question": text(6), "answers": {"text": [answer], "answer_start": [context.index(answer)]}})
    rows["qa"] = qa
    specs = {
        "pairs": {"family": "classification", "labels": ["yes", "no"], "columns": {"text_a": "a", "text_b": "b", "label": "label"}},
        "mc": {"family": "multiple_choice"},
        "qa": {"family": "extractive_qa"},
    }
    files = []
    for name, spec in specs.items():
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[name]))
        columns = spec.pop("columns", None)
        local = {"format": "jsonl", "splits": {"train": f"{name}.jsonl"}, **({"columns": columns} if columns else {})}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({"name": f"gpu_{name}", **spec, "local": local}))
        files.append(str(folder / f"{name}.yaml"))
    return model_dir, files


def run_prefinetune(kind: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``plain`` (one process, what --smoke runs), ``fsdp`` or ``deepspeed`` (accelerate launch, one GPU)."""
    needs = ["datasets"] + (["deepspeed"] if kind == "deepspeed" else [])
    for module in needs:
        try:
            __import__(module)
        except ImportError as exc:
            return {"completed": False, "error": f"cannot import {module} here ({exc})"}
    model_dir, files = write_run_inputs(folder, args)
    out = folder / f"run-{kind}"
    overrides = [f"model={model_dir}", f"tasks=[{','.join(files)}]", f"output_dir={out}", "max_steps=4", "batch_size=16",
                 "max_length=128", "log_every=1", "progress=false", "max_eval_examples=16", f"cache_dir={folder / 'cache'}",
                 "heldout_max=16", "max_tokens=1024", "leakage=allow"]
    if kind == "plain":
        cmd = [sys.executable, "-m", "muppet", "prefinetune", *overrides, *(["cpu=true"] if args.cpu else [])]
    else:
        name = {"fsdp": "fsdp.yaml", "deepspeed": "deepspeed_zero2.yaml"}[kind]
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ROOT / "configs" / "accelerate" / name),
               "--num_processes", "1", "-m", "muppet", "prefinetune", *overrides, "precision=bf16"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.run_timeout)
    exported = (out / "export" / "model.safetensors").is_file() and (out / "export" / "heads.safetensors").is_file()
    result: dict[str, Any] = {"completed": done.returncode == 0 and exported, "returncode": done.returncode,
                              "exported": exported, "seconds": time.perf_counter() - start}
    if not result["completed"]:
        result["stderr_tail"] = done.stderr[-2500:]
    return result


# --- driver -------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--smoke", action="store_true", help="tiny model on the CPU: every code path, seconds")
    parser.add_argument("--models", nargs="*", default=["roberta-base", "minilm"])
    parser.add_argument("--lengths", type=int, nargs="*", default=[128, 256])
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("--batch-size", type=int, default=256, help="examples per update")
    parser.add_argument("--max-tokens", type=int, default=16384, help="padded tokens per micro-batch (bf16_fast)")
    parser.add_argument("--examples", type=int, default=4000, help="synthetic examples per task")
    parser.add_argument("--updates", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=420, help="configurations left after this are skipped")
    parser.add_argument("--run-timeout", type=float, default=240)
    parser.add_argument("--runs", nargs="*", default=None, choices=["plain", "fsdp", "deepspeed"],
                        help="end-to-end runs (default: fsdp deepspeed; with --smoke: plain)")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--cpu", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.models, args.lengths, args.batch_size, args.max_tokens = ["tiny"], [32], 8, 128
        args.examples, args.updates, args.warmup, args.cpu = 16, 1, 1, True
        args.runs = ["plain"] if args.runs is None else args.runs
        args.no_compile = True  # compilation alone takes longer than the whole smoke run
    args.runs = ["fsdp", "deepspeed"] if args.runs is None else args.runs
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() and not args.cpu else "cpu"
    results: dict[str, Any] = {
        "device": device, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "torch": torch.__version__,
        "peak_bf16_dense_flops": PEAK_BF16_DENSE.get(device), "settings": {k: v for k, v in vars(args).items()},
        "configs": {}, "runs": {},
    }
    started = time.perf_counter()
    for name in args.models:
        for max_length in args.lengths:
            key = f"{name}@{max_length}"
            cell: dict[str, Any] = {}
            rows: list[np.ndarray] = []
            rows_per_batch = 1
            for mode in args.modes:
                if time.perf_counter() - started > args.budget_s:
                    cell[mode] = {"skipped": "time budget spent"}
                    continue
                try:
                    if mode == "plain":
                        if not rows:
                            cell[mode] = {"skipped": "needs bf16_fast's rows"}
                            continue
                        cell[mode] = run_plain(name, max_length, rows, rows_per_batch, args)
                    else:
                        done = run_muppet(name, max_length, mode, args)
                        if mode == "bf16_fast":
                            rows = done["rows"]
                            rows_per_batch = max(1, round(len(rows) / max(done["micro_batches_per_update"] * args.updates, 1)))
                        cell[mode] = {k: v for k, v in done.items() if k != "rows"}
                except Exception as exc:  # noqa: BLE001 - one failing option must not lose the others' figures
                    cell[mode] = {"error": f"{type(exc).__name__}: {exc}"[:800], "trace": traceback.format_exc()[-1500:]}
                print(f"[gpu {time.perf_counter() - started:6.0f}s] {key} {mode}: {json.dumps(cell[mode], default=float)[:300]}",
                      file=sys.stderr, flush=True)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            if "tokens_per_s" in cell.get("bf16_fast", {}) and "tokens_per_s" in cell.get("plain", {}):
                cell["ratio_vs_plain"] = cell["bf16_fast"]["tokens_per_s"] / cell["plain"]["tokens_per_s"]
            results["configs"][key] = cell
            (out / "gpu.json").write_text(json.dumps(results, indent=2, default=float))
    for kind in args.runs:
        # outside OUT: only gpu.json is meant to come back from the lent machine
        results["runs"][kind] = run_prefinetune(kind, Path(tempfile.mkdtemp(prefix=f"muppet-gpu-{kind}-")), args)
        print(f"[gpu {time.perf_counter() - started:6.0f}s] {kind} run: {json.dumps(results['runs'][kind])[:300]}",
              file=sys.stderr, flush=True)
    results["seconds"] = time.perf_counter() - started
    (out / "gpu.json").write_text(json.dumps(results, indent=2, default=float))
    print(json.dumps({k: {m: {x: v.get(x) for x in ("tokens_per_s", "mfu", "error")} if isinstance(v, dict) else v
                          for m, v in c.items()} for k, c in results["configs"].items()}, default=float, indent=1))


if __name__ == "__main__":
    main()
