"""What one `muppet affinity` measurement costs, side by side in one process: `make bench-affinity`.

1. one measurement (every candidate's and target's backbone gradient, every pair's lookahead
   and cosine) with ``lookahead_method: exact`` against ``linear``, on real local tasks, the
   two alternating for --rounds rounds with the best round of each counting (so a burst of
   other load cannot decide the ratio), and how closely the two lookaheads agree (Pearson and
   Spearman over every (candidate, target) pair of one measurement);
2. the cosine of two backbone-size gradients: muppet's (a dot product and two norms) against
   ``torch.nn.functional.cosine_similarity``, which it replaced.

Writes bench/out/affinity.json and prints a table. Timings are for this machine only; the
ratios are the point. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch

HERE = Path(__file__).resolve().parent
CANDIDATES = ["mnli", "qnli", "sst2", "cola", "mrpc", "ag_news", "copa", "piqa", "commonsense_qa", "boolq",
              "newsqa", "squad_v2"]
TARGETS = ["rte", "stsb", "arc_challenge", "squad_v1"]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed_measurement(run: Any, method: str) -> tuple[float, dict[tuple[str, str], float]]:
    from muppet.transfer.affinity import measure

    run.cfg = run.cfg.model_copy(update={"lookahead_method": method})
    run.rows.clear()
    started = time.perf_counter()
    measure(run, 0)
    seconds = time.perf_counter() - started
    return seconds, {(r["candidate"], r["target"]): r["value"] for r in run.rows if r["measure"] == "lookahead"}


def measurements(args: argparse.Namespace) -> dict[str, Any]:
    from muppet.config.transfer import AffinityConfig
    from muppet.transfer.affinity import setup

    tasks = [{"name": n, "max_examples": 2000} for n in args.candidates]
    cfg = AffinityConfig.from_dict({"tasks": tasks, "targets": args.targets, "max_length": 128, "doc_stride": 64,
                                    "examples": args.examples, "progress": False, "output_dir": str(HERE / "out")})
    run = setup(cfg)
    best = {"exact": float("inf"), "linear": float("inf")}
    values: dict[str, dict[tuple[str, str], float]] = {}
    for round_ in range(args.rounds):
        for method in ("exact", "linear"):
            seconds, values[method] = timed_measurement(run, method)
            best[method] = min(best[method], seconds)
            log(f"round {round_ + 1}: {method} {seconds:.1f} s")
    pairs = pd.DataFrame({m: pd.Series(v) for m, v in values.items()})
    return {"candidates": len(args.candidates), "targets": len(args.targets), "examples": args.examples,
            "backbone_parameters": sum(p.numel() for p in run.model.backbone.parameters()),
            "exact_s": round(best["exact"], 1), "linear_s": round(best["linear"], 1),
            "linear_speedup": round(best["exact"] / best["linear"], 2),
            "pearson": round(float(pairs.exact.corr(pairs.linear)), 5),
            "spearman": round(float(pairs.exact.corr(pairs.linear, method="spearman")), 5)}


def cosines(size: int, repeats: int = 5) -> dict[str, Any]:
    from muppet.transfer.gradients import cosine

    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(size, generator=generator), torch.randn(size, generator=generator)

    def best(fn: Any) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return min(times)

    ours = best(lambda: cosine(a, b))
    torchs = best(lambda: float(torch.nn.functional.cosine_similarity(a, b, dim=0)))
    return {"coordinates": size, "muppet_s": round(ours, 4), "torch_s": round(torchs, 4),
            "speedup": round(torchs / ours, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", nargs="+", default=CANDIDATES)
    parser.add_argument("--targets", nargs="+", default=TARGETS)
    parser.add_argument("--examples", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    measured = measurements(args)
    # the cosines affinity takes are of whole backbone gradients: time them at that size
    result = {"measurement": measured, "cosine": cosines(measured["backbone_parameters"]),
              "threads": torch.get_num_threads()}
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "affinity.json").write_text(json.dumps(result, indent=2))
    m, c = result["measurement"], result["cosine"]
    print(f"| measure | value |\n|---|---|\n"
          f"| one measurement, exact lookahead ({m['candidates']} candidates x {m['targets']} targets) | "
          f"{m['exact_s']} s |\n| the same, linear lookahead | {m['linear_s']} s |\n"
          f"| exact / linear time | {m['linear_speedup']} |\n"
          f"| lookahead agreement, linear vs exact | Pearson {m['pearson']}, Spearman {m['spearman']} |\n"
          f"| cosine of two {c['coordinates']:,}-coordinate gradients, torch / muppet time | {c['speedup']} |")


if __name__ == "__main__":
    main()
