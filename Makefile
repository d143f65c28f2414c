# Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -q --disable-pip-version-check -c constraints/test.txt
SECONDS_RUN ?= 3

PEER   := .venv-peer

.PHONY: run test bench soak peer lint docs clean

$(VENV)/.base: pyproject.toml constraints/test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) -e ".[test]"
	touch $@

$(VENV)/.bench: $(VENV)/.test
	touch $@

## run: install and run the default example system for a few seconds, then exit.
run: $(VENV)/.base
	$(PY) -m examples.default --seconds $(SECONDS_RUN)

## test: the whole suite on every core (graph tests included: each binds its own free port and
## share-memory names, so they run side by side); fails if anything fails or no test ran.
test: $(VENV)/.test
	$(PY) -m pytest -q -p no:cacheprovider -n auto

## bench: tables of per-call cost and import cost (numbers, not assertions); also writes the
## report in benchmarks/results/ (results.md, results.json, PNG plots).
bench: $(VENV)/.bench
	$(PY) -m benchmarks.run

## soak: load and soak run: 1,000,000 messages in one process, 200,000 with the sink in a
## second one; exits non-zero on a lost/reordered message, RSS growth, leaked shm (minutes).
soak: $(VENV)/.base
	$(PY) -m benchmarks.soak

## peer: a separate environment holding the peers, ezmsg-sigproc and ezmsg-learn (pinned in
## constraints/test.txt);
## once it exists, `make bench` times the peer on the same workloads and prints it alongside.
## It also regenerates tests/data/peer_api.json and peer_api_learn.json, the peers' public
## APIs that tests/test_peer_api.py and tests/learn/test_peer_api_learn.py compare ours with
## (tools/peer_api.py).
peer: $(PEER)/.done

$(PEER)/.done: constraints/test.txt
	test -x $(PEER)/bin/python || $(PYTHON) -m venv $(PEER)
	$(PEER)/bin/python -m pip install -q --disable-pip-version-check -c constraints/test.txt \
		ezmsg-sigproc "ezmsg-learn[sklearn]" torch
	$(PEER)/bin/python -m tools.peer_api --write tests/data/peer_api.json
	$(PEER)/bin/python -W ignore -m tools.peer_api --learn --write tests/data/peer_api_learn.json
	touch $@

lint: $(VENV)/.test
	$(PY) -m pip install -q "ruff>=0.5"
	$(VENV)/bin/ruff check ezmsg_sigproc_units examples tests benchmarks tools docs

## docs: the documentation site (warnings are errors; figures drawn at build time) into
## docs/_build/html. The test suite builds it too (tests/test_docs.py), so it cannot rot.
docs: $(VENV)/.test
	$(PY) -m ezmsg_sigproc_units.testing.catalog --write docs/backends.md --write README.md
	$(VENV)/bin/sphinx-build -q -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(PEER) build dist *.egg-info docs/_build docs/_generated .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
