# One target per job; the same commands locally and in CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run test lint typecheck format bench migrate venv train-ocr finetune-ocr clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

# Embedded default: SQLite, tasks in-process, fake SMS, demo data.
run: migrate
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py simulate_city --events 40 --seed 1 --no-review --if-new --verbosity 0
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The ANPR bench reads the same plates with Tesseract 5 (Debian tesseract-ocr) where apt is
# at hand; without it that baseline is skipped and the bench says so.
bench: $(STAMP)
	-command -v tesseract >/dev/null || apt-get install -y -qq tesseract-ocr >/dev/null
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python tests/bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Plate OCR model: synthetic data + fast-plate-ocr training in its own venv (TensorFlow
# stays out of the runtime venv). Runs to a time budget (80 minutes of training by default,
# --budget-minutes) so that it ends within 90 minutes on any 2-core kind: the last phase
# reads as many plates as the pace a short probe of it measured allows. Installs the result
# in anpr/models/ with its model card. TRAIN_ARGS="--scale 0.1" for a quick run.
TRAIN_VENV := .venv-train
# Plate-like fonts from Debian (Liberation, FreeSans, Roboto Condensed, B612, Nimbus Sans
# Narrow, Noto Sans Display, and Dosis, Clear Sans, M+ 1, Play, Jura for the straight-tailed
# 9 and 6 of the Punjab plate font) where apt is at hand;
# without them the synthetic plates use DejaVu only and the data differ.
TRAIN_FONTS := fonts-liberation fonts-freefont-ttf fonts-roboto-unhinted fonts-b612 \
	fonts-urw-base35 fonts-noto-core fonts-dosis fonts-clear-sans fonts-mplus fonts-play fonts-jura
train-ocr:
	-dpkg -s $(TRAIN_FONTS) >/dev/null 2>&1 || apt-get install -y -qq $(TRAIN_FONTS) >/dev/null
	test -x $(TRAIN_VENV)/bin/python || $(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TRAIN_VENV)/bin/python -m pip install --quiet -r anpr/training/requirements.txt
	$(TRAIN_VENV)/bin/python -m anpr.training.train $(TRAIN_ARGS)

# One more round of training for the shipped model, on 2 cores: its weights come out of
# anpr/models/pk_plate_ocr_fp32.onnx, fresh plates are drawn with SEED (a new one each
# round), and the result is exported, quantized and installed with its card like train-ocr.
# SEED has no default: a second round with the same seed would read the same plates again.
finetune-ocr:
	$(if $(SEED),,$(error finetune-ocr needs SEED=N, a data seed no earlier round used: see anpr/models/training.json))
	$(MAKE) train-ocr TRAIN_ARGS="--recipe finetune --weights anpr/models/pk_plate_ocr_fp32.onnx \
		--data-seed $(SEED) --out var/anpr-finetune-$(SEED) $(TRAIN_ARGS)"
