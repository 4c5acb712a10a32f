#!/usr/bin/env bash
# The GPU measurements in one run (bench/gpu.py), made to fit one 10-minute command on the
# lent machine (one H200: torch, transformers and accelerate installed, no `datasets`).
# Wheels under bench/out/wheels (datasets, dill, multiprocess: see bench/README.md) are
# installed first, for the end-to-end FSDP run. Results: $OUT/gpu.json (or bench/out/).
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G "bench/out/wheels/*.whl" > /dev/null; then
  # a wheel for another Python is skipped: the run then records that datasets is missing
  if python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
      bench/out/wheels/*.whl; then
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  fi
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
out=${OUT:-bench/out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv > "$out/nvidia-smi.csv" 2>&1 || true
exec "${PYTHON:-python3}" bench/gpu.py --out "$out" "$@"
