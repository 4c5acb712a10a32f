"""bench/gpu.py, the script prepared for the lent GPU, in its tiny CPU mode: every
configuration runs and the JSON it writes holds the figures the GPU run will report."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu.py"


def test_smoke_mode_measures_every_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_gpu", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["gpu.py", "--smoke", "--runs", "--out", str(tmp_path)])
    module.main()
    result = json.loads((tmp_path / "gpu.json").read_text())
    cell = result["configs"]["tiny@32"]
    for mode in ("fp32", "bf16", "bf16_fast", "plain"):
        assert cell[mode]["tokens_per_s"] > 0 and cell[mode]["model_tflops_per_s"] > 0, cell[mode]
    # the fast mode cuts each update under max_tokens: several micro-batches, less padding
    assert cell["bf16_fast"]["micro_batches_per_update"] > 1
    assert cell["bf16_fast"]["non_pad_fraction"] > cell["bf16"]["non_pad_fraction"]
    assert cell["ratio_vs_plain"] > 0
    assert result["device"] == "cpu" and result["runs"] == {}
