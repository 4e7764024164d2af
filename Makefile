# The system interpreter, as on a Debian qmail host (see README).
PYTHON ?= /usr/bin/python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SOURCES := pyproject.toml setup.py $(wildcard bin/* src/simscan/*.py src/simscan/*/*.py)

.PHONY: all deps test lint demo bench deb clean

all: test

deps:
	scripts/install-deps

# simscan is installed into the venv as a package (not editable), so the
# tests and the benchmark run exactly what `pip install` gives a site.
$(STAMP): $(SOURCES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# setuptools copies into build/ and never forgets: a moved module would
	@# still be installed from there.
	rm -rf build
	$(BIN)/pip install -q --disable-pip-version-check '.[test]'
	@# As the README advises a site: setuptools' .pth costs ~0.8 ms per start.
	-$(BIN)/pip uninstall -q -y setuptools 2>/dev/null
	@touch $@

test: deps $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check src tests bench demo packaging
	$(BIN)/mypy
	PYTHONPATH=src $(BIN)/lint-imports

lint: $(STAMP)
	$(BIN)/ruff check src tests bench demo packaging
	$(BIN)/ruff format --check src tests bench demo packaging
	$(BIN)/mypy
	PYTHONPATH=src $(BIN)/lint-imports

demo: deps $(STAMP)
	$(BIN)/python demo/run.py

bench: deps $(STAMP)
	$(BIN)/python bench/bench.py

# The Debian package (packaging/build_deb.py): $(DEB_OUT)/simscan_VERSION_ARCH.deb.
# DEB_VERSION empty: from git (UPSTREAM, or a snapshot UPSTREAM~gitN.SHA).
DEB_VERSION ?=
DEB_OUT ?= dist
deb: deps
	$(PYTHON) packaging/build_deb.py --out $(DEB_OUT) $(if $(DEB_VERSION),--version $(DEB_VERSION))

clean:
	rm -rf $(VENV) build src/*.egg-info dist
