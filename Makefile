# Every target is what CI (.ci/run) and the README run; nothing more.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PKR_VAR_FILE ?= packer/ubuntu-24.04.pkrvars.hcl

.PHONY: install tools test lint demo bench mutation image-check image image-pins lock clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

tools:
	scripts/debian-tools.sh

test: install tools
	$(BIN)/pytest -q -n 2

lint: install tools
	$(BIN)/ruff check manager tests bench
	$(BIN)/ruff format --check manager tests bench
	$(BIN)/mypy
	shellcheck -x $$(git ls-files '*.sh')

demo: install
	$(BIN)/agentctl --sandbox deploy-pool -f examples/pool.yaml --yes

bench: install
	$(BIN)/python bench/run.py

# Mutation score of the planning core (slow; not in CI): bench/mutation.json. MUTATE lists the files
# that plan (move a resource kind's planning to another file: add it here); MUTATION_TESTS the fast
# tests that cover them. Survivors that cannot change behaviour go to bench/mutation-equivalent.txt.
MUTATE ?= manager/agentctl/kinds/common.py manager/agentctl/kinds/pool/desired.py manager/agentctl/kinds/pool/plan.py manager/agentctl/kinds/pool/roles.py
MUTATION_TESTS ?= tests/plan tests/cli tests/registries/test_registries_plan.py \
	tests/deploy_path/test_plan_deploy_path.py

mutation: install
	nice -n 19 $(BIN)/python bench/mutation.py --paths $(MUTATE) --tests $(MUTATION_TESTS)

image-check: install tools
	$(BIN)/pytest -q tests/image

image:
	images/build.sh $(PKR_VAR_FILE)

# Maintainers, where the internet is reachable: refresh the toolset's pins from upstream checksums.
image-pins:
	images/refresh-pins.sh

# The hash-pinned lock the pipelines install agentctl from (pipelines/templates/install-agentctl.yml);
# run after changing dependencies in pyproject.toml (a test fails while the lock is stale).
lock: install
	$(VENV)/bin/pip install --quiet pip-tools
	PIP_CONSTRAINT= $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --all-build-deps \
	  --strip-extras --no-emit-index-url --no-emit-find-links -o pipelines/requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .agentctl .pytest_cache .mypy_cache .ruff_cache
