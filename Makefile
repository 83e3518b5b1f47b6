# Pledge: local development. GNU make.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv run test lint bench

venv: $(STAMP)

# Re-install only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --upgrade pip
	$(VPY) -m pip install -r requirements-dev.txt
	touch $(STAMP)

run: venv
	exec $(VPY) -m devstack run

test: venv browser-deps lint
	$(MAKE) --no-print-directory package STAGE=prod
	$(VPY) -m pytest tests -q

# Static checks (configured in pyproject.toml); part of `make test`.
lint: venv
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) -m mypy

bench: venv
	$(VPY) -m bench

# Debian's chromium (apt, when missing) and axe-core (npm, cached in .local/) for tests/browser.
.PHONY: browser-deps readme-screens
browser-deps:
	sh devstack/browser_deps.sh

# Re-take the README's screenshots (docs/) with the browser tests that take them.
readme-screens: venv browser-deps
	$(VPY) -m pytest tests/browser/test_pages.py -q -k "lands_on_the_dashboard or home_page_notice"
	cp build/screens/readme/*.png docs/

# --- AWS packaging, template checks, deploy (README: "Deploying to AWS") ---
STAGE ?= dev
AWS_DEFAULT_REGION ?= eu-west-1
export AWS_DEFAULT_REGION
BUILD := build/$(STAGE)
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
# chalice package builds the zip for the Python it runs on: the Lambda runtime's, 3.12.
LAMBDA_PYTHON ?= $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && command -v "$$p" && break; done)
STACK ?= pledge-$(STAGE)
DEPLOY_BUCKET ?=
ALARM_EMAIL ?=
TEST_EVENT_REGISTRY ?=
OPS_TRAIL ?=
MARKETING_WORKERS ?=

.PHONY: tools package check-template deploy

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): requirements.txt requirements-tools.txt
	@test -n "$(LAMBDA_PYTHON)" || { echo "Python 3.12 not found: pass LAMBDA_PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(TOOLS)/bin/python || $(LAMBDA_PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q -r requirements-tools.txt
	touch $(TOOLS_STAMP)

# build/$(STAGE)/sam.json + deployment.zip
package: tools
	$(TOOLS)/bin/python -m infra.build_template $(STAGE)
	rm -rf $(BUILD)
	$(TOOLS)/bin/chalice package --stage $(STAGE) --merge-template build/merge-template-$(STAGE).json $(BUILD)
	$(TOOLS)/bin/python -m infra.slim_package $(BUILD)/deployment.zip

# cfn-lint, checkov and the template assertions for one stage (make test does prod).
check-template: package venv
	PLEDGE_TEMPLATE_STAGE=$(STAGE) $(VPY) -m pytest tests/infra -q

# The real deploy (needs the aws CLI and credentials; never run by tests).
deploy: package venv
	@test -n "$(DEPLOY_BUCKET)" || { echo "set DEPLOY_BUCKET=<S3 bucket for the code zip>"; exit 1; }
	aws cloudformation package --template-file $(BUILD)/sam.json --s3-bucket $(DEPLOY_BUCKET) \
		--s3-prefix $(STACK) --output-template-file $(BUILD)/packaged.json
	aws cloudformation deploy --template-file $(BUILD)/packaged.json --stack-name $(STACK) \
		--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) $(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL)) \
		$(if $(TEST_EVENT_REGISTRY),TestEventRegistry=$(TEST_EVENT_REGISTRY)) $(if $(OPS_TRAIL),OpsTrail=$(OPS_TRAIL)) \
		$(if $(MARKETING_WORKERS),MarketingWorkers=$(MARKETING_WORKERS))
	$(VPY) -m infra.record_deployment $(STAGE)  # lets `chalice invoke -n NAME --stage $(STAGE)` find the functions
