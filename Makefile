# Every target sets itself up from a fresh clone: it creates .venv/ and installs the project.
# torch is pinned to the CPU wheel (torch==2.13.0) through constraints.txt so that no step can
# let pip choose a newer torch with gigabytes of CUDA packages.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := PIP_CONSTRAINT=$(CURDIR)/constraints.txt PIP_DISABLE_PIP_VERSION_CHECK=1 $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
export SDL_VIDEODRIVER ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,dummy)
export MPLBACKEND ?= Agg

.PHONY: install demo test test-slow lint typecheck bench bench-quick clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py constraints.txt envs/go/_core.c envs/driving/_sim.c
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version.split()[0]} at {sys.executable}"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev,bench,box2d]' --config-settings editable_mode=compat
	touch $(STAMP)

# The gridworld tour, the shipped 5x5 AlphaZero network against GNU Go (or plain MCTS), then
# two of the Sutton & Barto figures (bandits, Dyna) from short runs.
demo: install
	$(PY) scripts/demo.py
	$(PY) scripts/figures.py 2.2 8.2 --quick --out runs/demo/figures

test: install
	$(VENV)/bin/pytest -q

test-slow: install
	$(VENV)/bin/pytest -q -m slow

# ruff, then the layering contracts of pyproject.toml's [tool.importlinter] (DESIGN.md's layout).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

BENCHES := scripts/bench_envs.py scripts/bench_go.py scripts/bench_buffers.py scripts/bench_dqn.py \
	scripts/bench_pg.py scripts/bench_offpolicy.py scripts/bench_mcts.py scripts/bench_dialogue.py \
	scripts/bench_driving.py \
	scripts/bench_scale.py

bench: install
	@for b in $(BENCHES); do echo "== $$b"; $(PY) $$b || exit 1; done

bench-quick: install
	@for b in $(BENCHES); do echo "== $$b --quick"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
