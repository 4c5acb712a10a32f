"""Two processes (DDP on CPU, gloo) = one process with the same global batch through gradient
accumulation: same examples, same token-budget micro-batches, same losses, same weights up to
float reduction order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiny
import torch
import yaml
from safetensors.torch import load_file

from muppet.train.metrics_log import read_metrics


def test_two_processes_match_one_with_accumulation(tiny_root: Path, tmp_path: Path) -> None:
    files = tiny.write_task_files(tmp_path / "tasks", tiny_root / "data")
    # max_tokens 64 cuts every shard into several micro-batches (a 3-option row block alone
    # is about 60 tokens), in equal numbers on both processes
    base = dict(model=str(tiny_root / "tiny-bert"), tasks=files, max_steps=4, batch_size=8, lr=1e-3, max_length=48,
                max_tokens=64,
                log_every=1, progress=False, seed=5, max_eval_examples=4, cache_dir=str(tmp_path / "cache"),
                # probes and the gradient monitor on: every process computes them alike, with no collective
                probe={"tasks": [files[1]], "every": 2, "examples": 8, "steps": 3, "batch_size": 4},
                monitor_gradients=2)
    (tmp_path / "two.yaml").write_text(yaml.safe_dump({**base, "output_dir": str(tmp_path / "two")}))
    (tmp_path / "one.yaml").write_text(yaml.safe_dump({**base, "output_dir": str(tmp_path / "one"), "grad_accum_steps": 2}))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    accelerate = Path(sys.executable).parent / "accelerate"
    # accelerate's --cpu launcher runs one process; --multi_gpu starts torchrun-style workers,
    # which muppet runs on the CPU (gloo) when the machine has no GPU.
    two = subprocess.run([str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                          "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "muppet", "prefinetune",
                          str(tmp_path / "two.yaml")], capture_output=True, text=True, env=env, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    one = subprocess.run([sys.executable, "-m", "muppet", "prefinetune", str(tmp_path / "one.yaml")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]

    # two processes really ran: each saved its own RNG state in the checkpoint
    final = sorted((tmp_path / "two" / "checkpoints").glob("step_*"))[-1]
    assert (final / "random_states_1.pkl").is_file()
    rows = {d: [r for r in read_metrics(tmp_path / d / "metrics.jsonl") if "loss" in r] for d in ("one", "two")}
    for r1, r2 in zip(rows["one"], rows["two"], strict=True):
        assert {t: v["n"] for t, v in r1["tasks"].items()} == {t: v["n"] for t, v in r2["tasks"].items()}
        assert abs(r1["loss"] - r2["loss"]) < 1e-5
    # dev metrics gathered across processes: every evaluation example once
    dev = {d: [r for r in read_metrics(tmp_path / d / "metrics.jsonl") if "dev" in r][-1]["dev"] for d in ("one", "two")}
    assert dev["one"].keys() == dev["two"].keys()
    for task, scores in dev["one"].items():  # an example dropped or counted twice would move these
        assert scores == pytest.approx(dev["two"][task], abs=1e-2), task

    for kind in ("probe", "gradients"):
        logged = {d: [r for r in read_metrics(tmp_path / d / "metrics.jsonl") if kind in r] for d in ("one", "two")}
        assert [r["step"] for r in logged["one"]] == [r["step"] for r in logged["two"]] != []
        for r1, r2 in zip(logged["one"], logged["two"]):
            assert json_floats(r1[kind]) == pytest.approx(json_floats(r2[kind]), abs=1e-3, rel=1e-3)

    init = load_file(str(tiny_root / "tiny-bert" / "model.safetensors"))
    a = load_file(str(tmp_path / "one" / "export" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "export" / "model.safetensors"))
    update = sum(((a[k] - init[k]).double() ** 2).sum() for k in init) ** 0.5
    gap = sum(((a[k] - b[k]).double() ** 2).sum() for k in init) ** 0.5
    assert gap / update < 1e-3, f"relative weight gap {gap / update:.2e}"
    ha = load_file(str(tmp_path / "one" / "export" / "heads.safetensors"))
    hb = load_file(str(tmp_path / "two" / "export" / "heads.safetensors"))
    assert all(torch.allclose(ha[k], hb[k], atol=1e-3) for k in ha)


# One process of a simulated node: builds the tiny tasks' caches under cache_builders_first,
# first in its node's own cache folder ($MUPPET_CACHE_DIR differs per node), then in one
# folder both nodes share, and records whether it tokenized (features not read from a cache).
NODE_WORKER = """
import json, os, sys
from pathlib import Path
from muppet.data.pipeline import prepare_tasks
from muppet.families import FeatureSettings, get_family
from muppet.tasks.mixtures import expand
from muppet.train.loop import load_tokenizer
from muppet.train.skeleton import cache_builders_first, sees_main_cache
from muppet.train.step import make_accelerator

model, shared, out, files = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:]
accelerator, _ = make_accelerator(False, "fp32", 1, 4)
specs, _ = expand(files, None)
tokenizer = load_tokenizer(model, specs)
heads = {s.name: get_family(s.family).head_key(s) for s in specs}
for name, cache in (("node", None), ("shared", shared)):
    seen = sees_main_cache(accelerator, cache)
    with cache_builders_first(accelerator, cache, None):
        tasks = prepare_tasks(specs, heads, tokenizer, FeatureSettings(max_length=32), progress=False, data_dir=None,
                              cache_dir=cache)
    record = {"node": os.environ["NODE"], "sees_main_cache": seen, "tokenized": not all(t.cached for t in tasks)}
    (out / f"{name}-{accelerator.process_index}.json").write_text(json.dumps(record))
"""


def test_caches_are_built_once_per_node_without_a_shared_filesystem(tiny_root: Path, tmp_path: Path) -> None:
    import socket

    files = tiny.write_task_files(tmp_path / "tasks", tiny_root / "data")
    (tmp_path / "worker.py").write_text(NODE_WORKER)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torchrun = Path(sys.executable).parent / "torchrun"
    nodes = []
    for node in (0, 1):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "NODE": str(node), "MUPPET_CACHE_DIR": str(tmp_path / f"cache-node{node}")}
        nodes.append(subprocess.Popen(
            [str(torchrun), "--nnodes", "2", "--nproc-per-node", "2", "--node-rank", str(node), "--master-addr", "127.0.0.1",
             "--master-port", str(port), str(tmp_path / "worker.py"), str(tiny_root / "tiny-bert"),
             str(tmp_path / "cache-shared"), str(tmp_path), *files],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env))
    for proc in nodes:
        output, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, output[-3000:]

    def records(name: str) -> list[dict]:
        return [json.loads((tmp_path / f"{name}-{rank}.json").read_text()) for rank in range(4)]

    # a cache folder per node: each node's first process tokenized, the other three read
    node = records("node")
    assert [r["sees_main_cache"] for r in node] == [True, True, False, False]
    assert [r["tokenized"] for r in node] == [True, False, True, False]
    # one folder for both nodes: the main process alone tokenized
    shared = records("shared")
    assert all(r["sees_main_cache"] for r in shared)
    assert [r["tokenized"] for r in shared] == [True, False, False, False]


def json_floats(value: object) -> list[float]:
    """The numbers of a nested row, in key order."""
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in json_floats(value[k])]
    return [float(value)]  # type: ignore[arg-type]
