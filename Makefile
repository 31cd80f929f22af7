# Every target sets up .venv on its own when it is missing, so each works alone on a fresh machine.
# The venv holds exactly the versions in requirements-dev.txt (hashes checked); `make lock` refreshes it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements-dev.txt
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check
SCRATCH := build/latest-sdk

.PHONY: test test-thorough check demo bench schema lock check-latest-sdk clean interop FORCE

$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Test workers: two per core, since most tests wait on a process or a socket rather than compute
# (on two cores: 2 min 21 s with 4 workers, 3 min 9 s with 2).
WORKERS ?= $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))')

# The default suite: under three minutes on two cores.
test: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS)

# The property tests' full example counts and the soak tests' full numbers (CI runs it too).
test-thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest -n $(WORKERS)

# Linters and the type checker, as CI runs them.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

demo: $(STAMP)
	@PATH="$(abspath $(BIN)):$$PATH" bash samples/demo.sh

bench: $(STAMP)
	$(BIN)/python bench/run.py

schema: $(STAMP)
	$(BIN)/python -m respctl.lint.generate

# Refresh the lock on purpose: the newest versions that pyproject.toml's ranges allow.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --group dev --universal --python-version 3.10 --generate-hashes \
		--upgrade --quiet -o $(LOCK)
	@echo "wrote $(LOCK); run 'make test' to install and try it"

# Install the newest openai into a scratch venv and print how its item shapes differ from the table.
check-latest-sdk:
	rm -rf $(SCRATCH)
	$(PYTHON) -m venv $(SCRATCH)
	$(SCRATCH)/bin/python -m pip --quiet --disable-pip-version-check install --upgrade openai orjson typing_extensions
	PYTHONPATH=$(CURDIR) $(SCRATCH)/bin/python -m respctl.lint.generate --diff

# A live conversation with OpenAI's reference Responses server (gpt-oss 0.0.9, Python 3.12+) driven
# by a scripted token function; its tokenizer's o200k_base ranks come from the npm package js-tiktoken.
INTEROP_PYTHON ?= $(shell for p in python3.13 python3.12 $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
INTEROP_VENV   ?= .venv-interop
JS_TIKTOKEN    ?= js-tiktoken@1.0.21

# The interpreter the venv was made with, as a file that changes when INTEROP_PYTHON does: another
# Python rebuilds the venv.
$(INTEROP_VENV)/.python: FORCE
	@mkdir -p $(INTEROP_VENV)
	@echo '$(INTEROP_PYTHON)' | cmp -s - $@ || echo '$(INTEROP_PYTHON)' > $@

$(INTEROP_VENV)/.installed: $(INTEROP_VENV)/.python
	@test -n "$(INTEROP_PYTHON)" || { echo "interop: gpt-oss needs Python 3.12+; set INTEROP_PYTHON" >&2; exit 2; }
	rm -rf $(INTEROP_VENV)/bin $(INTEROP_VENV)/lib $(INTEROP_VENV)/lib64 $(INTEROP_VENV)/include $(INTEROP_VENV)/pyvenv.cfg
	$(INTEROP_PYTHON) -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/python -m pip install --quiet 'gpt-oss==0.0.9'
	touch $@

$(INTEROP_VENV)/tiktoken/o200k_base.tiktoken: interop/ranks.py | $(STAMP) $(INTEROP_VENV)/.installed
	rm -rf $(INTEROP_VENV)/npm && mkdir -p $(INTEROP_VENV)/npm
	cd $(INTEROP_VENV)/npm && npm pack --silent $(JS_TIKTOKEN) >/dev/null && tar xzf js-tiktoken-*.tgz
	$(BIN)/python interop/ranks.py $(INTEROP_VENV)/npm/package/dist/ranks/o200k_base.js $(INTEROP_VENV)/tiktoken

interop: $(STAMP) $(INTEROP_VENV)/.installed $(INTEROP_VENV)/tiktoken/o200k_base.tiktoken
	$(BIN)/python interop/run.py --server-python $(INTEROP_VENV)/bin/python --encodings $(INTEROP_VENV)/tiktoken

clean:
	rm -rf $(VENV) $(INTEROP_VENV) build *.egg-info .pytest_cache .hypothesis

FORCE:
