# Everything a newcomer needs: `make demo` and `make test` each install what they use first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test test-fast lint bench install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The project with TensorFlow, to read the shards back.
$(VENV)/.installed: setup.py constraints.txt | $(PY)
	$(PIP) install --quiet -e ".[tf]" -c constraints.txt
	touch $@

# The project with everything the tests use (pytest, TensorFlow, the GCS emulator).
$(VENV)/.installed-test: setup.py constraints.txt | $(PY)
	$(PIP) install --quiet -e ".[test]" -c constraints.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/image2tfrecord convert launch/demo.yaml --overwrite
	$(PY) examples/read_back.py out/demo

# Lint (ruff), a type check of the pure packages (mypy), then every test.
lint: install-test
	$(VENV)/bin/ruff check beam_jobs transforms tests bench examples
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q tests

# The pure layers only (image, inputs, records, dataset): seconds, no Beam pipeline, no TensorFlow.
test-fast: install-test
	$(VENV)/bin/ruff check beam_jobs transforms tests bench examples
	$(PY) -m pytest -q -m pure tests

bench: install-test
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out build *.egg-info
