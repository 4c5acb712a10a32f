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

.PHONY: demo test venv clean

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

clean:
	rm -rf $(VENV) runs
