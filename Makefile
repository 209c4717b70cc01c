# Two commands for a fresh machine:  `make run` (a local end-to-end lifecycle run) and `make test`.
# Each creates what it needs from this repository's own files (.venv from pyproject.toml,
# .venv-sam from requirements-sam.txt, .venv-checkov from requirements-checkov.txt,
# .venv-parliament from requirements-parliament.txt); nothing has to be installed by hand.

PYTHON      ?= python3
VENV        := .venv
SAM_VENV    := .venv-sam
CHECKOV_VENV := .venv-checkov
PARLIAMENT_VENV := .venv-parliament
RESOLVED    := .aws-sam/resolved
BIN         := $(VENV)/bin
SCENARIO    ?= mixed-fleet
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

# `sam build` needs an interpreter matching the functions' Runtime (python3.13) on PATH: the real
# executable, not a pyenv shim (a shim for a version pyenv does not select fails, and sam hangs).
PY313 := $(shell python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null || ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | head -n 1)

.PHONY: run test lint typecheck template unit bench clean scenarios

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(SAM_VENV)/bin/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $@

$(CHECKOV_VENV)/bin/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

$(PARLIAMENT_VENV)/bin/.installed: requirements-parliament.txt
	$(PYTHON) -m venv $(PARLIAMENT_VENV)
	$(PARLIAMENT_VENV)/bin/pip install --quiet -r requirements-parliament.txt
	touch $@

## run: a local end-to-end lifecycle run on the embedded AWS emulation (SCENARIO=name|file.json)
run: $(BIN)/.installed
	$(BIN)/asg-lifecycle-local run $(SCENARIO)

scenarios: $(BIN)/.installed
	$(BIN)/asg-lifecycle-local list

## test: lint, types, template checks (cfn-lint, checkov, the IAM of both serving modes resolved and
## linted by checkov and parliament, sam validate --lint, sam build), every test
test: lint typecheck template unit

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

template: $(BIN)/.installed $(SAM_VENV)/bin/.installed $(CHECKOV_VENV)/bin/.installed $(PARLIAMENT_VENV)/bin/.installed
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml   # settings and stack-wide skips: .checkov.yaml
	@# checkov skips policies built with Fn::If: lint the template as each serving mode deploys it
	@# (named groups, tagged groups, every feature on; the defaults), transformed and resolved
	@# (accepted findings of both linters, each with its reason: tools/lint_exceptions.yaml)
	$(BIN)/python -m tools.resolve_template --out $(RESOLVED)
	$(CHECKOV_VENV)/bin/checkov $(foreach mode,named tag defaults,-f $(RESOLVED)/$(mode)/template.json)
	$(PARLIAMENT_VENV)/bin/python tools/lint_policies.py $(RESOLVED)
	$(SAM_VENV)/bin/sam validate --lint
	@test -n "$(PY313)" || { echo "sam build needs python3.13 on PATH (the functions' Runtime)"; exit 1; }
	PATH="$(dir $(PY313)):$$PATH" timeout 1200 $(SAM_VENV)/bin/sam build --build-dir .aws-sam/build --cached --parallel

unit: $(BIN)/.installed
	$(BIN)/pytest

## bench: benchmarks (not tests): cold starts, per-action cost and latency, INSTANCES (1000) out
## and in; writes bench/results/ and docs/PERFORMANCE.md (cold starts need `sam build` / make test first)
INSTANCES ?= 1000
bench: $(BIN)/.installed
	$(BIN)/python -m bench.imports
	$(BIN)/python -m bench.actions
	$(BIN)/python -m bench.scale --instances $(INSTANCES)
	$(BIN)/python -m bench.report --instances $(INSTANCES)

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(PARLIAMENT_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
