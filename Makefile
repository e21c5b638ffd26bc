# Two entry points: `make all` runs the whole project workflow, `make test` the test suite.
# Both create (or reuse) .venv and install the project with all its dependencies in one
# pip resolve. GPU users: see README ("GPU").
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
SPACY_ARGS ?=

.PHONY: all test install clean

$(VENV)/.installed: setup.cfg pyproject.toml requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)" -r requirements.txt -e ".[train,test,ray]"
	touch $@

install: $(VENV)/.installed

all: install
	$(PY) -m spacy project run all . $(SPACY_ARGS)

test: install
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WANDB_MODE=offline WANDB_X_DISABLE_META=true RAY_USAGE_STATS_ENABLED=0 \
		$(PY) -m pytest tests -q

clean:
	rm -rf corpus training metrics packages wandb project.lock
