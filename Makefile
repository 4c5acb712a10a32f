# Set-up and the main entry points. Everything installs into .venv; torch comes first from
# the pinned CPU wheel so that no dependency can pull a CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
# The real datasets live beside the checkout on the development machines.
ifneq ($(wildcard ../shared/data/MANIFEST.md),)
export MUPPET_DATA_DIR ?= $(abspath ../shared/data)
endif
export HF_HUB_OFFLINE ?= 1

.PHONY: demo test docs bench bench-gpu bench-data bench-affinity reproduce reproduce-quick transfer venv clean

$(BIN)/muppet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

venv: $(BIN)/muppet

demo: venv
	$(BIN)/muppet prefinetune configs/demo.yaml resume=true $(ARGS)

test: venv
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The README's key tables, generated from the config fields (a test fails when they drift).
docs: venv
	$(BIN)/python -m muppet.config.docs README.md

# Throughput against a plain loop and tasknet, padding, evaluation, scale in tasks:
# bench/out/results.json (several minutes; the first run also builds tasknet's venv).
bench: venv
	$(BIN)/python bench/throughput.py $(ARGS)

# The GPU measurements (bench/gpu.py: bf16, MFU, token budgets, FSDP, DeepSpeed): one run
# of under 10 minutes on one GPU; ARGS=--smoke runs every configuration tiny, on the CPU.
bench-gpu: venv
	PYTHON=$(BIN)/python bench/gpu.sh $(ARGS)

# Memory and time to the first update at 2M examples (about 10 minutes cold).
bench-data: venv
	$(BIN)/python bench/data_pipeline.py $(ARGS)

# One muppet affinity measurement with exact against linear lookahead, and the gradient
# cosine against torch's (bench/out/affinity.json; a few minutes).
bench-affinity: venv
	$(BIN)/python bench/affinity.py $(ARGS)

# The paper's findings at small scale (docs/results.md): pre-finetuning runs, fine-tuning sweeps,
# reports. Resumable: rerun to continue. reproduce-quick is the reduced version (under 30 min).
reproduce: venv
	$(BIN)/muppet study configs/reproduce.yaml $(ARGS)

reproduce-quick: venv
	$(BIN)/muppet study configs/reproduce-quick.yaml $(ARGS)

# Transfer-aware selection (docs/results.md): stage 1 measures which of the 40 local tasks help
# the four downstream tasks and writes the mixtures; stage 2 pre-finetunes on them (and on all 40,
# and on a random 10) with probes on, then fine-tunes every export. Resumable: rerun to continue.
# Stage 1 reruns only when its config changes; stage 2 then refuses its runs trained on the old
# mixtures (use a new output_dir).
transfer: venv runs/transfer-affinity/mixture.yaml
	$(BIN)/muppet study configs/transfer.yaml $(ARGS)

runs/transfer-affinity/mixture.yaml: configs/transfer-affinity.yaml | $(BIN)/muppet
	$(BIN)/muppet affinity configs/transfer-affinity.yaml

clean:
	rm -rf $(VENV) runs
