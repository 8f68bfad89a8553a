# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create the virtual environment first (idempotent).
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU wheel by default; on a GPU machine: make setup TORCH_SPEC="torch==2.13.0" (CUDA build from the index)
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup demo test ui audit benchmark clean-home

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: setup
	$(VENV)/bin/foresight demo

test: setup
	$(PY) -m pytest -q

ui: setup
	$(VENV)/bin/foresight ui

audit: setup
	$(VENV)/bin/foresight audit checkpoint latest

# Speed figures against a named reference measured in the same run (benchmarks/README.md).
benchmark: setup
	$(PY) benchmarks/retrieval_throughput.py
	$(PY) benchmarks/sandbox_latency.py
	$(PY) benchmarks/sft_step_time.py
	$(PY) benchmarks/fc_rl_throughput.py --repeats 2  # needs a checkpoint: run `make demo` first

clean-home:
	rm -rf .foresight_home
