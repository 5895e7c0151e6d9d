# Blixo <-> Sage Intacct sync. `make demo` and `make test` are all a fresh clone needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
MSVENV := .ministack-venv
CHECKOV_VENV := .checkov-venv
PY := $(VENV)/bin/python
export SAM_CLI_TELEMETRY := 0
# pytest-xdist workers for the fast suites (the machine has 2 cores).
WORKERS ?= 2

.PHONY: help setup lint unit integration infrastructure security e2e test up down status demo chaos bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

# The environments are rebuilt only when their pinned requirement files change.
$(VENV)/.installed: requirements/dev.txt layers/shared/requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/dev.txt
	@# The project's own code (the shared layer, sandboxes, ops) importable from the venv.
	printf '%s\n%s\n' "$(CURDIR)/layers/shared" "$(CURDIR)" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/blixo_intacct_sync.pth
	@# The operators' command `blixo-intacct` (only its entry point: the code is the checkout's).
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation .
	rm -rf build *.egg-info
	touch $@

$(MSVENV)/.installed: requirements/ministack.txt
	test -x $(MSVENV)/bin/python || $(PYTHON) -m venv $(MSVENV)
	$(MSVENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements/ministack.txt
	touch $@

# checkov pins libraries .venv pins differently: it gets a venv of its own.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements/checkov.txt
	touch $@

setup: $(VENV)/.installed $(MSVENV)/.installed $(CHECKOV_VENV)/.installed ## create .venv (tools, SAM CLI), ministack's and checkov's venvs

lint: setup ## ruff, mypy, sam validate, sam validate --lint, cfn-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam validate --template-file template.yaml --region us-east-1
	$(VENV)/bin/sam validate --lint --template-file template.yaml
	$(VENV)/bin/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --skip-download --compact --quiet

unit: setup ## unit tests (pure, moto)
	$(VENV)/bin/pytest tests/unit -q -n $(WORKERS)

integration: setup ## integration tests (sandboxes in-process over HTTP, moto)
	$(VENV)/bin/pytest tests/integration -q -n $(WORKERS)

infrastructure: setup ## template checks
	$(VENV)/bin/pytest tests/infrastructure -q

security: setup ## the standing security and bad-input suite (webhooks, XML, properties, fuzz)
	$(VENV)/bin/pytest tests/security -q -n $(WORKERS)

# The chaos run injects faults into the shared sandboxes, so it runs alone, after the others;
# the log scan runs last, over every log line the e2e and chaos runs wrote.
e2e: up ## end-to-end tests against the deployed local stack, then the small chaos run
	$(VENV)/bin/pytest tests/e2e -q -n 3 -m "not chaos and not logscan"
	$(VENV)/bin/pytest tests/e2e -q -m chaos
	$(VENV)/bin/pytest tests/e2e -q -m logscan

test: lint unit integration infrastructure security e2e ## everything CI runs

up: setup ## start ministack + sandboxes, sam build, sam deploy, write .local/stack.json
	$(PY) -m scripts.stack up

down: ## stop exactly what `make up` started
	@if [ -x $(PY) ]; then $(PY) -m scripts.stack down; else echo "nothing to stop"; fi

status: ## what the local stack runs
	@$(PY) -m scripts.stack status

demo: up ## the main job on the local stack: webhook -> push -> Intacct, schedule -> pull -> Blixo
	$(PY) -m ops.demo

chaos: up ## the full fault-injection run -> bench/results/chaos.json, then the log scan over its lines
	$(PY) -m ops.chaos --scale $(or $(SCALE),full)
	$(VENV)/bin/pytest tests/e2e -q -m logscan

bench: up ## pull, push and cold-start benchmarks on the local stack -> bench/results/ (SCALE=small: a tenth)
	$(PY) -m bench --scale $(or $(SCALE),full)

clean: down ## remove build output and local state
	rm -rf .aws-sam .local
