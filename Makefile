# The two commands a newcomer needs: `make up` and `make test`.
SHELL := /bin/bash
UV ?= uv

.PHONY: up test fuzz bootstrap protos lint bench clean-state compose-up compose-test compose-down

bootstrap:  ## install system packages (when missing) and the Python workspace
	@bash tools/bootstrap.sh

up: bootstrap  ## run the whole suite on embedded defaults (Ctrl-C stops it)
	$(UV) run --frozen python -m galaxy_devstack up

test: bootstrap  ## run every test
	$(UV) run --frozen pytest

FUZZ_SEED ?=
FUZZ_EXAMPLES ?= 100
fuzz: bootstrap  ## the contract fuzz tests with new cases, longer; prints the seed (FUZZ_SEED=, FUZZ_EXAMPLES=)
	GALAXY_FUZZ=1 GALAXY_FUZZ_SEED=$(FUZZ_SEED) GALAXY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(UV) run --frozen pytest tests/contract -p no:cacheprovider -o timeout=0 -rf

protos:  ## regenerate libs/galaxy-contracts from protos/
	$(UV) run --frozen python tools/gen_protos.py

bench: bootstrap  ## run the benchmarks under bench/; ends with the hot-path table (figure, this run, previous, goal)
	@for b in bench/account_deletion_cascade.py bench/sign_in.py bench/notify_push.py bench/geo_observe.py bench/lobby_reads.py bench/runtime_ticks.py bench/grpc_call_cost.py bench/hotpaths.py; do \
	  echo "== $$b (load average: $$(cut -d' ' -f1-3 /proc/loadavg))"; \
	  $(UV) run --frozen python $$b || exit 1; done

clean-state:  ## forget everything `make up` stored
	rm -rf $${GALAXY_STATE_DIR:-.galaxy}

compose-up: bootstrap  ## the suite in containers (Docker or podman; builds every image, waits for /readyz; docs/deploy.md)
	bash tools/compose.sh up

compose-test:  ## the suite tests against the stack of `make compose-up` (pytest args: ARGS=)
	bash tools/compose.sh test $(ARGS)

compose-down:  ## stop and remove the stack of `make compose-up` and its game engines
	bash tools/compose.sh down
