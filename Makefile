# nocsoc: two set-up commands for a newcomer, `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-quick clean venv snmpsim-venv

$(STAMP): pyproject.toml setup.py $(wildcard nocsoc/*.c nocsoc/*/*/*.c)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nocsoc demo

# snmpsim (the SNMP agent simulator the SNMP tests start) runs as `nobody`, so it needs a Python
# that user can read: a venv from Debian's own python3 (python3-venv python3-gdbm), world-readable.
SNMPSIM_VENV ?= .venv-snmpsim
SNMPSIM_STAMP := $(SNMPSIM_VENV)/.installed
export NOCSOC_SNMPSIM_VENV := $(abspath $(SNMPSIM_VENV))

$(SNMPSIM_STAMP):
	/usr/bin/python3 -m venv $(SNMPSIM_VENV)
	$(SNMPSIM_VENV)/bin/pip install --quiet "snmpsim==1.2.2" "pysmi>=1.4"
	chmod -R a+rX $(SNMPSIM_VENV)
	touch $(SNMPSIM_STAMP)

snmpsim-venv: $(SNMPSIM_STAMP)

# the pure-CPU tests (tests/cpu_only.txt) on both cores at once, then the server tests in two
# lanes: those that mostly wait on their servers (tests/wait_lane.txt) beside the rest; last,
# alone, the ones that need the whole machine (tests/alone.txt)
test: $(STAMP) $(SNMPSIM_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m cpu_only -n 2
	$(PY) -m pytest -q -p no:cacheprovider -m "not cpu_only and not alone" -n 2 --dist loadgroup
	$(PY) -m pytest -q -p no:cacheprovider -m alone

lint: $(STAMP)
	$(VENV)/bin/ruff check nocsoc tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench

# every bench at small sizes (stores no figures): proves the benches still run; CI runs it
bench-quick: $(STAMP) $(SNMPSIM_STAMP)
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
