"""Data pipeline at scale: 50 synthetic tasks, >= 2M examples, peak memory and time to the
first training step, with a cold and a warm feature cache.

    python bench/data_pipeline.py [--examples 2000000] [--out bench/out]
    python bench/data_pipeline.py --examples 300000 --cold-only --profile bench/out/cold.prof

Each run is a separate `muppet prefinetune` process (max_steps=1) so that its peak RSS is its
own; the time to the first step is the `elapsed_s` of the run's first metrics row (set-up,
reading, tokenizing, model loading and one update). Prints a table and writes
`<out>/data_pipeline.json`. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

WORDS = (
    "time person year way day thing man world life hand part child eye woman place work week case point "
    "government company number group problem fact be have do say get make go know take see come think look "
    "want give use find tell ask seem feel try leave call good new first last long great little own other old "
    "right big high different small large next early young important few public bad same able"
).split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def family_plan(total: int) -> list[tuple[str, str, int]]:
    """(name, family, examples) for 50 tasks: 32 classification, 12 multiple choice, 6 QA,
    sizes spread over two orders of magnitude as in real mixtures."""
    shares = [("classification", 32, 0.75), ("multiple_choice", 12, 0.17), ("extractive_qa", 6, 0.08)]
    plan = []
    for family, count, share in shares:
        weights = [1.0 / (i + 1) for i in range(count)]
        scale = share * total / sum(weights)
        plan += [(f"syn_{family[:3]}_{i:02d}", family, max(200, int(w * scale))) for i, w in enumerate(weights)]
    return plan


def write_task(root: Path, name: str, family: str, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "train.jsonl").open("w") as f:
        for i in range(n):
            if family == "classification":
                row = {"a": f"{i} {sentence(rng, 18)}", "b": sentence(rng, 10), "y": rng.randrange(3)}
            elif family == "multiple_choice":
                row = {"q": f"{i} {sentence(rng, 14)}", "options": [sentence(rng, 6) for _ in range(4)], "y": rng.randrange(4)}
            else:
                answer = sentence(rng, 3)
                context = f"{i} {sentence(rng, 60)} {answer} {sentence(rng, 60)}"
                row = {"c": context, "q": sentence(rng, 8), "answers": {"text": [answer], "answer_start": [context.index(answer)]}}
            f.write(json.dumps(row) + "\n")
    columns = {
        "classification": {"text_a": "a", "text_b": "b", "label": "y"},
        "multiple_choice": {"question": "q", "choices": "options", "label": "y"},
        "extractive_qa": {"context": "c", "question": "q", "answers": "answers"},
    }[family]
    spec = {"name": name, "family": family, "local": {"format": "jsonl", "splits": {"train": f"{name}/train.jsonl"}, "columns": columns}}
    if family == "classification":
        spec["labels"] = ["a", "b", "c"]
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def run(task_files: list[Path], out: Path, cache: Path, tag: str, profile: str | None = None) -> dict[str, float]:
    run_dir = out / f"run-{tag}"
    shutil.rmtree(run_dir, ignore_errors=True)
    config = {
        "tasks": [str(p) for p in task_files], "output_dir": str(run_dir), "cache_dir": str(cache),
        "max_steps": 1, "batch_size": 32, "max_length": 128, "doc_stride": 64, "max_eval_examples": 20,
        "export": False, "progress": False, "log_every": 1, "heldout_max": 200,
    }
    cfg_path = out / f"config-{tag}.yaml"
    cfg_path.write_text(yaml.safe_dump(config))
    # A fresh parent per run, so that its RUSAGE_CHILDREN peak is this run's alone.
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr[-3000:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(done.returncode)\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []),
         "-m", "muppet", "prefinetune", str(cfg_path)],
        capture_output=True, text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"run {tag} failed:\n{done.stderr[-3000:]}")
    peak_kib = int(done.stdout.split()[-1])
    first = next(json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if '"loss"' in line)
    return {
        "seconds_to_first_step": first["elapsed_s"],
        "wall_seconds": wall,
        "peak_rss_gib": peak_kib / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2_000_000)
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--keep-data", action="store_true", help="reuse generated data from an earlier run")
    parser.add_argument("--cold-only", action="store_true", help="skip the warm run")
    parser.add_argument("--profile", help="write the cold run's cProfile statistics here (pstats)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    data = out / "synthetic"
    cache = out / "cache"
    out.mkdir(parents=True, exist_ok=True)
    plan = family_plan(args.examples)
    t0 = time.perf_counter()
    if not (args.keep_data and data.is_dir()):
        shutil.rmtree(data, ignore_errors=True)
        files = [write_task(data, name, family, n, seed) for seed, (name, family, n) in enumerate(plan)]
    else:
        files = [data / f"{name}.yaml" for name, _, _ in plan]
    generated = time.perf_counter() - t0
    shutil.rmtree(cache, ignore_errors=True)
    cold = run(files, out, cache, "cold", args.profile)
    if args.cold_only:
        print(json.dumps(cold))
        return
    warm = run(files, out, cache, "warm")
    result = {
        "tasks": len(plan),
        "examples": sum(n for _, _, n in plan),
        "by_family": {f: sum(n for _, fam, n in plan if fam == f) for f in ("classification", "multiple_choice", "extractive_qa")},
        "generate_seconds": generated,
        "cold": cold,
        "warm": warm,
        "warm_over_cold_first_step": warm["seconds_to_first_step"] / cold["seconds_to_first_step"],
        "targets": {"peak_rss_gib": 4.0, "warm_seconds_to_first_step": 60.0},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
    }
    (out / "data_pipeline.json").write_text(json.dumps(result, indent=2))
    print(f"{result['tasks']} tasks, {result['examples']:,} examples ({result['by_family']})")
    print("| cache | time to first step (s) | wall (s) | peak RSS (GiB) |")
    print("|---|---|---|---|")
    for tag in ("cold", "warm"):
        r = result[tag]
        print(f"| {tag} | {r['seconds_to_first_step']:.1f} | {r['wall_seconds']:.1f} | {r['peak_rss_gib']:.2f} |")
    print(f"warm / cold time to first step: {result['warm_over_cold_first_step']:.3f}")


if __name__ == "__main__":
    main()
