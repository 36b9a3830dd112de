# `make demo` and `make test` each set everything up on a fresh machine:
# Debian packages when missing, a .venv, the CPU build of torch, the project.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEB_PACKAGES := libfluidsynth3 fluidsynth fluid-soundfont-gm fluid-soundfont-gs \
	musescore-general-soundfont timgm6mb-soundfont avldrums.lv2-soundfont csound-soundfont \
	hydrogen-drumkits hydrogen-data sonic-pi-samples
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=

.PHONY: setup system-deps demo test faults clean

setup: system-deps $(VENV)/.installed

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# torch==2.13.0 first, so that pip takes the CPU build on disk rather than a CUDA one.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/python -m adtos.demo --out $(DEMO_OUT)

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The fault suite (pytest -m faults; pyproject's addopts leave it out of a plain
# pytest run): kill loops for build and render, two processes on one folder
# (docs/reliability.md). About 2-5 minutes on a 2-core machine.
faults: setup
	$(BIN)/python -m pytest -q -s -m faults $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
